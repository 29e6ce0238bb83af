/* The optimizer step: the guards, clipping and the schedule around one pass
 * of the backend's update kernel (backend/optim_update.h) over the flat
 * trainable buffer, walked as a few long ranges of uniform rule.
 * Elementwise only, so results do not depend on threads. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "backend/device.h"
#include "core/numeric.h"
#include "optim/optim_impl.h"
#include "syre/dist.h"

/* The per-step scalars of the update (shared with the device step). */
void sy_optim_scalars(const sy_optimizer *opt, float lr, float clip, sy_step_scalars *c)
{
    const sy_optim_opts *o = &opt->o;
    memset(c, 0, sizeof *c);
    c->kind = o->kind;
    c->key_a = opt->key_anchor;
    c->key_d = opt->key_d;
    c->lr = lr;
    c->clip = clip;
    c->clipping = clip < 1.0f;
    c->first = opt->steps == 0;
    c->momentum = o->momentum;
    c->damp1 = 1.0f - o->dampening;
    c->has_momentum = o->kind == SY_OPTIM_SGD && o->momentum != 0;
    c->nesterov = o->nesterov;
    if (o->kind != SY_OPTIM_SGD) {
        double t = (double)(opt->steps + 1);
        double bc1 = 1.0 - pow((double)o->beta1, t), bc2 = 1.0 - pow((double)o->beta2, t);
        c->b1c = 1.0f - o->beta1;
        c->b2 = o->beta2;
        c->b2c = 1.0f - o->beta2;
        c->eps = o->eps;
        c->step_size = (float)((double)lr / bc1);
        c->bc2_sqrt = (float)sqrt(bc2);
    }
}

/* The update; returns whether it wrote a non-finite parameter (the exact
 * index is then found by the full scan in sy_optimizer_step). */
int sy_optim_update(sy_optimizer *opt, float *p, float *g, float lr, float clip)
{
    sy_step_scalars sc;
    sy_optim_scalars(opt, lr, clip, &sc);
    sy_step_ptrs q = {p, g, opt->m1, opt->m2, opt->anchor, opt->dd, opt->n, NULL, NULL};
    const int n_seg = opt->n_seg;
    const sy_segment *segs = opt->seg;
    uint32_t top = 0;
#pragma omp parallel if (opt->n >= SY_OPTIM_PAR_MIN) reduction(max : top)
    for (int k = 0; k < n_seg; k++) {
        uint32_t t = sy_update_segment(&sc, &q, &segs[k]);
        top = t > top ? t : top;
    }

    /* W-fix entries never move: put their values back, and keep their
     * optimizer state at zero so nothing of them leaks into a checkpoint. */
    for (size_t k = 0; k < opt->n_fix; k++) {
        size_t i = opt->fix_idx[k];
        q.p[i] = opt->fix_val[k];
        if (opt->m1) opt->m1[i] = 0.0f;
        if (opt->m2) opt->m2[i] = 0.0f;
    }
    return top > SY_FINITE_MAX_BITS;
}

/* The parameter guard after an update that reported `wrote_bad`: the first
 * non-finite index of the whole store, exactly as a scan of [0, n) after the
 * update would find it. Only the update's ranges were checked on the way;
 * the rest (alignment gaps between segments, W-fix entries, which were just
 * reset) is scanned here, and any fault anywhere falls back to the full scan,
 * which then gives the first index. */
static size_t params_first_nonfinite(const sy_optimizer *opt, const float *p, int wrote_bad)
{
    int bad = wrote_bad;
    size_t at = 0;
    for (int k = 0; k < opt->n_seg && !bad; k++) {
        const sy_segment *s = &opt->seg[k];
        if (s->begin > at) bad = sy_first_nonfinite(p + at, s->begin - at) != (size_t)-1;
        at = s->end > at ? s->end : at;
    }
    if (!bad && opt->n > at) bad = sy_first_nonfinite(p + at, opt->n - at) != (size_t)-1;
    for (size_t k = 0; k < opt->n_fix && !bad; k++) bad = !isfinite(p[opt->fix_idx[k]]);
    return bad ? sy_first_nonfinite(p, opt->n) : (size_t)-1;
}

/* Global L2 norm of the trainable gradient (W-fix entries excluded), summed in
 * fixed blocks and then in order, so it does not depend on the thread count. */
static double grad_norm(sy_optimizer *opt, const float *g)
{
    const size_t n = opt->n, nb = opt->n_blocks;
    double *bs = opt->block_sq;
#pragma omp parallel for schedule(static) if (n >= SY_OPTIM_PAR_MIN)
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b * SY_OPTIM_NORM_BLOCK, hi = lo + SY_OPTIM_NORM_BLOCK < n ? lo + SY_OPTIM_NORM_BLOCK : n;
        double s = 0;
        for (size_t i = lo; i < hi; i++) s += (double)g[i] * g[i];
        bs[b] = s;
    }
    double s = 0;
    for (size_t b = 0; b < nb; b++) s += bs[b];
    for (size_t k = 0; k < opt->n_fix; k++) s -= (double)g[opt->fix_idx[k]] * g[opt->fix_idx[k]];
    if (!isfinite(s)) return s;
    return sqrt(s > 0 ? s : 0);
}

sy_status sy_optimizer_step(sy_optimizer *opt)
{
    if (!opt) return sy_fail(SY_ERR_ARG, "optimizer step: NULL optimizer");
    float lr = sy_schedule_lr(&opt->o.schedule, opt->base_lr, opt->steps);
    float clip = 1.0f;
    opt->last_norm = 0;
    if (sy_params_device(opt->ps)) { /* the store lives on a device: so does the step */
        sy_status st;
        /* Data parallelism: the mean gradient over ranks, on the device (NCCL on cuda). */
        if (sy_device_allreduce_wanted() &&
            (st = sy_device_allreduce_mean(sy_params_device(opt->ps), sy_params_dev_grad(opt->ps, 1), opt->n)))
            return st;
        /* The device step runs the same guard (gradients before, parameters
         * after the update) and counts the step itself. */
        return sy_optim_step_device(opt, lr, opt->o.max_grad_norm);
    }
    /* A host store: the views are its buffers, nothing is copied. */
    float *p, *g;
    sy_status st;
    if ((st = sy_params_write(opt->ps, &p)) || (st = sy_params_write_grad(opt->ps, &g))) return st;
    /* Data parallelism: the mean gradient over ranks, before anything reads it. */
    if ((st = sy_dist_allreduce_mean(g, opt->n)) != SY_OK) return st;
    int skip; /* the numerical guard (nan_guard.c): every gradient finite? */
    st = sy_optim_guard_grad(opt, g, &skip);
    if (st != SY_OK || skip) return st;
    if (opt->o.max_grad_norm > 0) {
        double norm = grad_norm(opt, g);
        opt->last_norm = (float)norm;
        if (!isfinite(norm))
            return sy_fail(SY_ERR_NUMERIC, "optimizer step %ld: gradient norm is %g", opt->steps, norm);
        /* torch.nn.utils.clip_grad_norm_: coef = max / (norm + 1e-6), clamped to 1. */
        double coef = (double)opt->o.max_grad_norm / (norm + 1e-6);
        clip = coef < 1.0 ? (float)coef : 1.0f;
    }
    opt->last_lr = lr;
    int wrote_bad = sy_optim_update(opt, p, g, lr, clip);
    opt->steps++;
    return sy_optim_guard_params_at(opt, params_first_nonfinite(opt, p, wrote_bad));
}
