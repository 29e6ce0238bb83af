/* Linear regression with decay toward an anchor (paper Appendix C.2, Eq. 52):
 * the closed form, full-batch gradient descent through the library's SGD and
 * decay rule, and the risk of both averaged over training sets. */
#include "syre/metrics.h"

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

sy_status sy_ridge_moments(const float *X, const float *y, int n, int d, double *A, double *b)
{
    if (!X || !y || !A || !b || n < 1 || d < 1)
        return sy_fail(SY_ERR_ARG, "sy_ridge_moments: NULL argument or n = %d, d = %d below 1", n, d);
    for (int i = 0; i < d; i++) {
        double bi = 0;
        for (int k = 0; k < n; k++) bi += (double)X[(size_t)k * d + i] * y[k];
        b[i] = bi / n;
        for (int j = 0; j <= i; j++) {
            double a = 0;
            for (int k = 0; k < n; k++) a += (double)X[(size_t)k * d + i] * X[(size_t)k * d + j];
            A[(size_t)i * d + j] = A[(size_t)j * d + i] = a / n;
        }
    }
    return SY_OK;
}

/* Cholesky solve of the SPD system M x = rhs (M [n, n], overwritten), double. */
static sy_status chol_solve(double *M, int n, double *rhs)
{
    for (int j = 0; j < n; j++) {
        double s = M[(size_t)j * n + j];
        for (int k = 0; k < j; k++) s -= M[(size_t)j * n + k] * M[(size_t)j * n + k];
        if (!(s > 0))
            return sy_fail(SY_ERR_NUMERIC, "sy_ridge_fit: system not positive definite (pivot %d: %g)", j, s);
        double l = sqrt(s);
        M[(size_t)j * n + j] = l;
        for (int i = j + 1; i < n; i++) {
            double t = M[(size_t)i * n + j];
            for (int k = 0; k < j; k++) t -= M[(size_t)i * n + k] * M[(size_t)j * n + k];
            M[(size_t)i * n + j] = t / l;
        }
    }
    for (int i = 0; i < n; i++) { /* L z = rhs */
        double t = rhs[i];
        for (int k = 0; k < i; k++) t -= M[(size_t)i * n + k] * rhs[k];
        rhs[i] = t / M[(size_t)i * n + i];
    }
    for (int i = n - 1; i >= 0; i--) { /* L^T x = z */
        double t = rhs[i];
        for (int k = i + 1; k < n; k++) t -= M[(size_t)k * n + i] * rhs[k];
        rhs[i] = t / M[(size_t)i * n + i];
    }
    return SY_OK;
}

/* Closed form. With decay (coef c_i = wd D_ii, anchor a): the stationary point
 * of the GD below, (2A + diag(c)) w = 2b + c * a (Eq. 52). Without decay: the
 * minimum-norm least-squares solution (X^T X)^{-1} X^T y for N >= d, else
 * X^T (X X^T)^{-1} y. */
static sy_status closed_form(const float *X, const float *y, int n, int d, const double *A, const double *b,
                             const float *coef, const float *anchor, int decays, double *w)
{
    if (decays || n >= d) {
        double *M = malloc(sizeof(double) * (size_t)d * d);
        if (!M) return sy_fail(SY_ERR_NOMEM, "sy_ridge_fit: out of memory");
        for (size_t i = 0; i < (size_t)d * d; i++) M[i] = 2 * A[i];
        for (int i = 0; i < d; i++) {
            double ci = decays ? coef[i] : 0;
            M[(size_t)i * d + i] += ci;
            w[i] = 2 * b[i] + ci * (decays ? anchor[i] : 0);
        }
        sy_status s = chol_solve(M, d, w);
        free(M);
        return s;
    }
    double *K = malloc(sizeof(double) * (size_t)n * n), *al = malloc(sizeof(double) * (size_t)n);
    if (!K || !al) {
        free(K);
        free(al);
        return sy_fail(SY_ERR_NOMEM, "sy_ridge_fit: out of memory");
    }
    for (int i = 0; i < n; i++) {
        al[i] = y[i];
        for (int j = 0; j <= i; j++) {
            double t = 0;
            for (int k = 0; k < d; k++) t += (double)X[(size_t)i * d + k] * X[(size_t)j * d + k];
            K[(size_t)i * n + j] = K[(size_t)j * n + i] = t;
        }
    }
    sy_status s = chol_solve(K, n, al);
    for (int k = 0; s == SY_OK && k < d; k++) {
        double t = 0;
        for (int i = 0; i < n; i++) t += (double)X[(size_t)i * d + k] * al[i];
        w[k] = t;
    }
    free(K);
    free(al);
    return s;
}

/* Full-batch GD from w = 0 on 2 (A w - b), the optimizer adding the decay,
 * until |grad| <= tol |2 b| (checked every 50 steps) or max_steps. */
static sy_status gd(sy_optimizer *opt, float *w, float *g, int n, int d, const double *A, const double *b,
                    const float *coef, const float *anchor, const sy_ridge_opts *o, long *steps)
{
    float *Af = malloc(sizeof(float) * (size_t)d * d), *bf = malloc(sizeof(float) * (size_t)d);
    sy_status s = Af && bf ? SY_OK : sy_fail(SY_ERR_NOMEM, "sy_ridge_fit: out of memory");
    for (size_t i = 0; s == SY_OK && i < (size_t)d * d; i++) Af[i] = (float)A[i];
    double bn = 0;
    for (int i = 0; s == SY_OK && i < d; i++) {
        bf[i] = (float)b[i];
        bn += 4 * b[i] * b[i];
    }
    double stop = o->tol * sqrt(bn);
    long t = 0;
    for (; s == SY_OK && t < o->max_steps; t++) {
        memcpy(g, bf, sizeof(float) * (size_t)d);
        cblas_sgemv(CblasRowMajor, CblasNoTrans, d, d, 2.0f, Af, d, w, 1, -2.0f, g, 1);
        if (t % 50 == 0) {
            double gn = 0;
            for (int i = 0; i < d; i++) {
                double gi = (double)g[i] + coef[i] * ((double)w[i] - anchor[i]);
                gn += gi * gi;
            }
            if (!isfinite(gn)) {
                s = sy_fail(SY_ERR_NUMERIC, "sy_ridge_fit: GD diverged at d/N = %g; lower the learning rate",
                            (double)d / n);
                break;
            }
            if (sqrt(gn) <= stop) break;
        }
        s = sy_optimizer_step(opt);
    }
    *steps = t;
    free(Af);
    free(bf);
    return s;
}

sy_status sy_ridge_fit(const float *X, const float *y, int n, int d, const double *A, const double *b,
                       const sy_ridge_opts *o, float *w_out, double *gd_err, long *steps)
{
    if (!X || !y || !A || !b || !o || !w_out || !gd_err || !steps || n < 1 || d < 1)
        return sy_fail(SY_ERR_ARG, "sy_ridge_fit: NULL argument or n = %d, d = %d below 1", n, d);
    sy_status s = SY_OK;
    sy_params *ps = sy_params_new();
    sy_optimizer *opt = NULL;
    double *wc = malloc(sizeof(double) * (size_t)d);
    float *coef = NULL, *anchor = NULL;
    if (!ps || !wc) {
        s = sy_fail(SY_ERR_NOMEM, "sy_ridge_fit: out of memory");
        goto done;
    }
    /* w is one linear layer of fan_in d: syre's anchor std is sigma0 / sqrt(d) */
    if (sy_params_add(ps, "w", sy_shape_of(1, d), d, (sy_init){SY_INIT_ZERO, 0}, 1) < 0) {
        s = SY_ERR_ARG;
        goto done;
    }
    if ((s = sy_params_init(ps, o->seed)) != SY_OK) goto done;
    /* the optimizer's per-element arrays span the padded trainable buffer */
    size_t nt = sy_params_trainable_size(ps);
    coef = malloc(sizeof(float) * nt);
    anchor = malloc(sizeof(float) * nt);
    if (!coef || !anchor) {
        s = sy_fail(SY_ERR_NOMEM, "sy_ridge_fit: out of memory");
        goto done;
    }
    sy_optim_opts oo = sy_optim_defaults(SY_OPTIM_SGD);
    oo.lr = (float)o->lr;
    oo.seed = o->seed;
    oo.decay = o->decay;
    if (!(opt = sy_optimizer_new(ps, &oo))) {
        s = SY_ERR_ARG;
        goto done;
    }
    if ((s = sy_optimizer_decay_coef(opt, coef)) != SY_OK || (s = sy_optimizer_anchor(opt, anchor)) != SY_OK)
        goto done;
    int decays = 0;
    for (int i = 0; i < d; i++) decays |= coef[i] != 0;
    if ((s = closed_form(X, y, n, d, A, b, coef, anchor, decays, wc)) != SY_OK) goto done;
    float *w, *g;
    if ((s = sy_params_write(ps, &w)) || (s = sy_params_write_grad(ps, &g))) goto done;
    *gd_err = NAN;
    *steps = 0;
    if (o->gd && decays) {
        if ((s = gd(opt, w, g, n, d, A, b, coef, anchor, o, steps)) != SY_OK) goto done;
        double num = 0, den = 0;
        for (int i = 0; i < d; i++) {
            num += (w[i] - wc[i]) * (w[i] - wc[i]);
            den += wc[i] * wc[i];
        }
        *gd_err = sqrt(num / (den > 0 ? den : 1));
    } else {
        for (int i = 0; i < d; i++) w[i] = (float)wc[i];
    }
    memcpy(w_out, w, sizeof(float) * (size_t)d);
done:
    free(wc);
    free(coef);
    free(anchor);
    sy_optimizer_free(opt);
    sy_params_free(ps);
    return s;
}

void sy_ridge_losses(const float *X, const float *y, int n, int d, const float *w, const float *wstar, double noise,
                     double *test, double *train)
{
    double te = 0, tr = 0;
    for (int i = 0; i < d; i++) te += ((double)w[i] - wstar[i]) * ((double)w[i] - wstar[i]);
    for (int k = 0; k < n; k++) {
        double p = 0;
        for (int i = 0; i < d; i++) p += (double)X[(size_t)k * d + i] * w[i];
        tr += (p - y[k]) * (p - y[k]);
    }
    *test = te + noise * noise;
    *train = tr / n;
}

sy_status sy_ridge_risk_at(int d, int n, int trials, sy_ridge_draw_fn draw, void *ctx, const float *wstar,
                           double noise, int ns, const sy_ridge_opts *o, sy_ridge_risk *out)
{
    if (!draw || !wstar || !o || !out || d < 1 || n < 1 || trials < 1 || ns < 1)
        return sy_fail(SY_ERR_ARG, "sy_ridge_risk_at: NULL argument or a size below 1");
    float *X = malloc(sizeof(float) * (size_t)n * d), *y = malloc(sizeof(float) * (size_t)n);
    float *w = malloc(sizeof(float) * (size_t)d);
    double *A = malloc(sizeof(double) * (size_t)d * d), *b = malloc(sizeof(double) * (size_t)d);
    double *acc = calloc((size_t)ns * 5, sizeof(double));
    sy_status s = X && y && w && A && b && acc ? SY_OK : sy_fail(SY_ERR_NOMEM, "sy_ridge_risk_at: out of memory");
    for (int t = 0; s == SY_OK && t < trials; t++) {
        if ((s = draw(ctx, t, n, X, y)) != SY_OK || (s = sy_ridge_moments(X, y, n, d, A, b)) != SY_OK) break;
        for (int m = 0; s == SY_OK && m < ns; m++) {
            double te, tr, ge;
            long st;
            if ((s = sy_ridge_fit(X, y, n, d, A, b, &o[m], w, &ge, &st)) != SY_OK) break;
            sy_ridge_losses(X, y, n, d, w, wstar, noise, &te, &tr);
            acc[m * 5 + 0] += te;
            acc[m * 5 + 1] += te * te;
            acc[m * 5 + 2] += tr;
            if (isfinite(ge) && ge > acc[m * 5 + 3]) acc[m * 5 + 3] = ge;
            if (!isfinite(ge)) acc[m * 5 + 3] = NAN;
            acc[m * 5 + 4] += (double)st;
        }
    }
    for (int m = 0; s == SY_OK && m < ns; m++) {
        double mean = acc[m * 5] / trials, var = acc[m * 5 + 1] / trials - mean * mean;
        out[m] = (sy_ridge_risk){.test = mean, .test_sd = sqrt(var > 0 ? var : 0), .train = acc[m * 5 + 2] / trials,
                                 .gd_err = acc[m * 5 + 3], .steps = acc[m * 5 + 4] / trials};
    }
    free(X);
    free(y);
    free(w);
    free(A);
    free(b);
    free(acc);
    return s;
}
