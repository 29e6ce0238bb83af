/* Gradient descent on the quartic toy f(w) = (w^T w)^2 - w^T B w with the
 * library's SGD and decay rule (paper Sec. 5, Fig. 2): w is the one tensor
 * of its own parameter store, the gradient of f is written into the store's
 * gradient buffer by hand and the optimizer adds the decay toward its anchor.
 * Checkpoints, logging and resume stay with the caller, which owns the
 * records (sy_quartic_gd_params / _optimizer give sy_train_save what it
 * needs). */
#include "syre/metrics.h"

#include <math.h>
#include <stdlib.h>

struct sy_quartic_gd {
    sy_quartic_gd_opts o;
    sy_params *ps;
    sy_optimizer *opt;
    float *w, *g;
    float *wt, *mask; /* dropout: w at the step's mask, and the mask times 1 / (1 - p) */
};

/* 4 (w^T w) w - 2 B w: sy_quartic_grad (sgemv, O(d^2)) for a dense B; for
 * B = diag(b) the same formula in O(d). */
static sy_status grad_of(const sy_quartic_gd *q, const float *w, float *g)
{
    int d = q->o.d;
    if (!q->o.diagonal) return sy_quartic_grad(q->o.B, d, w, g);
    double n2 = 0;
    for (int i = 0; i < d; i++) n2 += (double)w[i] * w[i];
    if (!isfinite(n2)) return sy_fail(SY_ERR_NUMERIC, "sy_quartic_gd: w is not finite");
    float a = (float)(4 * n2);
    for (int i = 0; i < d; i++) g[i] = a * w[i] - 2.0f * q->o.B[(size_t)i * d + i] * w[i];
    return SY_OK;
}

sy_status sy_quartic_gd_new(const sy_quartic_gd_opts *o, sy_quartic_gd **out)
{
    if (!o || !o->B || !out) return sy_fail(SY_ERR_ARG, "sy_quartic_gd_new: NULL argument");
    if (o->d < 1) return sy_fail(SY_ERR_ARG, "sy_quartic_gd_new: dimension d = %d must be >= 1", o->d);
    if (!(o->dropout >= 0 && o->dropout < 1))
        return sy_fail(SY_ERR_ARG, "sy_quartic_gd_new: dropout rate %g must be in [0, 1)", o->dropout);
    *out = NULL;
    int d = o->d;
    sy_quartic_gd *q = calloc(1, sizeof *q);
    if (!q || !(q->ps = sy_params_new())) {
        free(q);
        return sy_fail(SY_ERR_NOMEM, "sy_quartic_gd_new: out of memory");
    }
    q->o = *o;
    sy_status s = SY_OK;
    /* [1, d]: the optimizer applies W-fix to tensors of rank >= 2 only. fan_in
     * 1: SY_INIT_NORMAL_FANIN's std is the scale itself, and syre's anchor std
     * is sigma0 in absolute units (the toy has no layers). */
    sy_init init = {SY_INIT_NORMAL_FANIN, (float)(o->init_scale / sqrt((double)d))};
    if (sy_params_add(q->ps, "w", sy_shape_of(2, 1, d), 1, init, 1) < 0) s = SY_ERR_ARG;
    if (s == SY_OK) s = sy_params_init(q->ps, o->seed);
    sy_optim_opts oo = sy_optim_defaults(SY_OPTIM_SGD);
    oo.lr = (float)o->lr;
    oo.seed = o->seed;
    oo.decay = o->decay;
    if (s == SY_OK && !(q->opt = sy_optimizer_new(q->ps, &oo))) s = SY_ERR_ARG;
    /* The store is the toy's own and stays on the host: the views never go stale. */
    if (s == SY_OK && !(s = sy_params_write(q->ps, &q->w))) s = sy_params_write_grad(q->ps, &q->g);
    if (s == SY_OK && o->dropout > 0) {
        if (!(q->wt = malloc(2 * (size_t)d * sizeof *q->wt)))
            s = sy_fail(SY_ERR_NOMEM, "sy_quartic_gd_new: out of memory");
        else
            q->mask = q->wt + d;
    }
    if (s != SY_OK) {
        sy_quartic_gd_free(q);
        return s;
    }
    *out = q;
    return SY_OK;
}

void sy_quartic_gd_free(sy_quartic_gd *q)
{
    if (!q) return;
    free(q->wt);
    sy_optimizer_free(q->opt);
    sy_params_free(q->ps);
    free(q);
}

sy_params *sy_quartic_gd_params(sy_quartic_gd *q) { return q->ps; }
sy_optimizer *sy_quartic_gd_optimizer(sy_quartic_gd *q) { return q->opt; }
const float *sy_quartic_gd_w(const sy_quartic_gd *q) { return q->w; }

sy_status sy_quartic_gd_step(sy_quartic_gd *q, long t)
{
    int d = q->o.d;
    sy_status s;
    if (q->o.dropout > 0) {
        /* inverted dropout: the gradient at w~ = m * w / (1 - p), chained back */
        float p = (float)q->o.dropout, inv_keep = 1.0f / (1.0f - p);
        sy_rng mr = sy_rng_make(q->o.seed, SY_STREAM_DROPOUT, (uint64_t)t);
        for (int i = 0; i < d; i++) {
            q->mask[i] = sy_rng_uniform(&mr) >= p ? inv_keep : 0.0f;
            q->wt[i] = q->mask[i] * q->w[i];
        }
        if ((s = grad_of(q, q->wt, q->g)) != SY_OK) return s;
        for (int i = 0; i < d; i++) q->g[i] *= q->mask[i];
    } else if ((s = grad_of(q, q->w, q->g)) != SY_OK) {
        return s;
    }
    return sy_optimizer_step(q->opt);
}

sy_status sy_quartic_gd_grad_norm(sy_quartic_gd *q, double *norm)
{
    /* into the store's gradient buffer, which the next step overwrites */
    sy_status s = grad_of(q, q->w, q->g);
    if (s != SY_OK) return s;
    double gn = 0;
    for (int i = 0; i < q->o.d; i++) gn += (double)q->g[i] * q->g[i];
    *norm = sqrt(gn);
    return SY_OK;
}

void sy_quartic_measure(const float *B, const float *V, int d, const float *w, float c_th, sy_quartic_point *out)
{
    double v = NAN, n2 = 0;
    int deg = -1;
    for (int i = 0; i < d; i++) n2 += (double)w[i] * w[i];
    out->wnorm = sqrt(n2);
    out->diverged = !isfinite(n2);
    /* w is finite here: f and the degree fail only on a non-finite B or V,
     * which leave NaN and -1 */
    if (!out->diverged) {
        sy_quartic_value(B, d, w, &v);
        sy_symmetry_degree(V, d, w, c_th, &deg);
    }
    out->objective = v;
    out->degree = deg;
}
