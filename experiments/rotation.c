/* Rotation symmetry and syre-ar (paper Sec. 4, Eq. 3, Theorem 5). A matrix
 * factorisation A ~ W2 W1 (W1 [h, d], W2 [k, h]) with the loss
 *     l = 1/2 |W2 W1 - A|_F^2
 * is invariant under every rotation of the hidden space, W1 -> R W1,
 * W2 -> W2 R^T: uncountably many reflections, whose symmetric states are
 * hidden directions v with v^T W1 = 0 and W2 v = 0.
 *
 * What each method keeps of that symmetry, by Theorem 5 and Eq. 2-3:
 * - vanilla (decay toward 0) keeps all of it: decay shrinks the factors to
 *   the rank of A, and the minimum is flat along the rotations.
 * - syre (decay toward theta0) keeps the rotations that fix theta0: those of
 *   the hidden directions outside the span of the anchor's columns (W1's)
 *   and rows (W2's), h - d - k of them when h > d + k. Its minimum then has
 *   no component there, and its Hessian repeats an eigenvalue once per
 *   direction that subgroup mixes.
 * - syre-ar (decay gamma (theta - theta0)^T D (theta - theta0), D_ii ~
 *   U(1 - eps, 1 + eps)) keeps none: no rotation commutes with D.
 * Measured at the end of gradient descent, per method and seed: the loss,
 * the hidden rank of [W1, W2^T] (h - rank hidden directions are symmetric),
 * the share of the factors outside the anchor's span, and the Hessian of the
 * regularised loss: flat directions and its largest multiplet
 * (sy_spectrum_degeneracy). The gradient and the Hessian are written by hand
 * (both small); the decay is the library optimizer's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

#define ROT_MAX_SEEDS 16
#define ROT_TOL 1e-5 /* relative tolerance of flat and repeated Hessian eigenvalues */
#define ROT_RANK_THR 1e-3 /* singular values of [W1, W2^T] above this share of the largest count */

static const sy_flag_spec rot_flags[] = {
    {"d", "input dimension (columns of A)", "3", SY_FLAG_INT, 1, 64},
    {"k", "output dimension (rows of A)", "3", SY_FLAG_INT, 1, 64},
    {"hidden", "hidden width h; plain syre keeps h - d - k rotations when h > d + k", "10", SY_FLAG_INT, 1, 128},
    {"steps", "full-batch gradient-descent steps (quick: 20000)", "50000", SY_FLAG_INT, 1, 100000000},
    {"lr", "learning rate of plain SGD", "0.02", SY_FLAG_DOUBLE, 1e-9, 1},
    {"gamma", "weight decay (gradient += gamma D (theta - anchor), as PyTorch's weight_decay)", "0.05",
     SY_FLAG_DOUBLE, 0, 100},
    {"sigma0", "syre anchor std in units of 1/sqrt(fan_in), as the init's", "1", SY_FLAG_DOUBLE, 0, 100},
    {"seeds", "seeds per method (seed, seed+1, ...): means and standard deviations", "3", SY_FLAG_INT, 1,
     ROT_MAX_SEEDS},
    {"log-every", "steps between logged rows", "500", SY_FLAG_INT, 1, 100000000},
    {"method", "methods: vanilla (decay to 0), syre, syre-ar (--eps), l2init, none", "vanilla,syre,syre-ar",
     SY_FLAG_METHODS, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

enum { R_LOSS, R_RANK, R_OUTSIDE, R_FLAT, R_MULT, R_EIGMIN, R_NCOL };
static const char *const rot_cols[R_NCOL] = {"loss", "hidden_rank", "outside_anchor", "flat_directions",
                                             "largest_multiplet", "eig_min"};

typedef struct {
    int d, k, h, n; /* n = h d + k h parameters */
    double *A;      /* [k, d] target */
    double *R;      /* [k, d] residual W2 W1 - A */
} rot_problem;

/* The residual, and (g not NULL) the loss gradient into g in the store's layout (W1 then W2). */
static double rot_residual(rot_problem *p, const float *W1, const float *W2, float *g1, float *g2)
{
    int d = p->d, k = p->k, h = p->h;
    double loss = 0;
    for (int q = 0; q < k; q++)
        for (int i = 0; i < d; i++) {
            double v = -p->A[q * d + i];
            for (int a = 0; a < h; a++) v += (double)W2[q * h + a] * W1[a * d + i];
            p->R[q * d + i] = v;
            loss += 0.5 * v * v;
        }
    if (!g1) return loss;
    for (int a = 0; a < h; a++) {
        for (int i = 0; i < d; i++) { /* W2^T R */
            double v = 0;
            for (int q = 0; q < k; q++) v += (double)W2[q * h + a] * p->R[q * d + i];
            g1[a * d + i] = (float)v;
        }
        for (int q = 0; q < k; q++) { /* R W1^T */
            double v = 0;
            for (int i = 0; i < d; i++) v += p->R[q * d + i] * W1[a * d + i];
            g2[q * h + a] = (float)v;
        }
    }
    return loss;
}

/* The Hessian of the loss plus the decay's diagonal (c1 of W1, c2 of W2), [n, n] float; p->R must be current. */
static void rot_hessian(const rot_problem *p, const float *W1, const float *W2, const float *c1, const float *c2,
                        float *H)
{
    int d = p->d, k = p->k, h = p->h, n = p->n, o2 = h * d;
    memset(H, 0, sizeof(float) * (size_t)n * n);
    for (int a = 0; a < h; a++)
        for (int b = 0; b < h; b++) {
            double g2 = 0, g1 = 0; /* (W2^T W2)[a, b], (W1 W1^T)[a, b] */
            for (int q = 0; q < k; q++) g2 += (double)W2[q * h + a] * W2[q * h + b];
            for (int i = 0; i < d; i++) g1 += (double)W1[a * d + i] * W1[b * d + i];
            for (int i = 0; i < d; i++) H[(size_t)(a * d + i) * n + b * d + i] = (float)g2;
            for (int q = 0; q < k; q++) H[(size_t)(o2 + q * h + a) * n + o2 + q * h + b] = (float)g1;
            for (int i = 0; i < d; i++) /* d/dW1[a,i] d/dW2[q,b] = W2[q,a] W1[b,i] + [a = b] R[q,i] */
                for (int q = 0; q < k; q++) {
                    float v = (float)((double)W2[q * h + a] * W1[b * d + i] + (a == b ? p->R[q * d + i] : 0));
                    H[(size_t)(a * d + i) * n + o2 + q * h + b] = v;
                    H[(size_t)(o2 + q * h + b) * n + a * d + i] = v;
                }
        }
    for (int j = 0; j < n; j++) H[(size_t)j * n + j] += j < o2 ? c1[j] : c2[j - o2];
}

/* [W1, W2^T] into M [h, d + k]: each hidden direction's weights, in and out. */
static void rot_stack(const rot_problem *p, const float *W1, const float *W2, float *M)
{
    int d = p->d, m = p->d + p->k, h = p->h;
    for (int a = 0; a < h; a++)
        for (int c = 0; c < m; c++) M[a * m + c] = c < d ? W1[a * d + c] : W2[(c - d) * h + a];
}

/* The share of [W1, W2^T] outside the span of the anchor's [a1, a2^T] (M, M0 scratch [h, d + k]). */
static double rot_outside(const rot_problem *p, const float *W1, const float *W2, const float *a1, const float *a2,
                          float *M, float *M0)
{
    double share = NAN;
    rot_stack(p, W1, W2, M);
    rot_stack(p, a1, a2, M0);
    return sy_outside_span_share(M0, p->d + p->k, M, p->d + p->k, p->h, &share) == SY_OK ? share : NAN;
}

/* One method at one seed: train, log, measure (r[R_NCOL]); eig (not NULL) gets the Hessian's spectrum. */
static sy_status rot_train(sy_run *run, rot_problem *p, const char *method, uint64_t seed, const char *rec,
                           double *r, double *eig)
{
    int d = p->d, k = p->k, h = p->h, n = p->n;
    long steps = sy_run_get_int(run, "steps"), every = sy_run_get_int(run, "log-every");
    sy_optim_opts oo = sy_optim_defaults(SY_OPTIM_SGD);
    oo.lr = (float)sy_run_get_double(run, "lr");
    oo.seed = seed;
    sy_status s = sy_decay_parse(method, (float)sy_run_get_double(run, "gamma"),
                                 (float)sy_run_get_double(run, "sigma0"), (float)sy_run_get_double(run, "eps"),
                                 &oo.decay);
    if (s != SY_OK) return s;
    sy_params *ps = sy_params_new();
    if (!ps) return sy_fail(SY_ERR_NOMEM, "rotation: out of memory");
    sy_init init = {SY_INIT_NORMAL_FANIN, 1};
    if (sy_params_add(ps, "W1", sy_shape_of(2, h, d), d, init, 1) < 0 ||
        sy_params_add(ps, "W2", sy_shape_of(2, k, h), h, init, 1) < 0)
        s = SY_ERR_ARG;
    if (s == SY_OK) s = sy_params_init(ps, seed);
    sy_optimizer *opt = s == SY_OK ? sy_optimizer_new(ps, &oo) : NULL;
    if (s == SY_OK && !opt) s = SY_ERR_ARG;
    size_t nt = sy_params_trainable_size(ps);
    /* the Hessian, its eigenvectors, and [W1, W2^T] and the anchor's ([h, d + k] each: n floats) */
    float *anchor = malloc(sizeof(float) * nt * 2), *H = malloc(sizeof(float) * ((size_t)n * n * 2 + 2 * (size_t)n));
    double *ev = malloc(sizeof(double) * (size_t)n);
    if (s == SY_OK && (!anchor || !H || !ev)) s = sy_fail(SY_ERR_NOMEM, "rotation: out of memory");
    float *W1 = sy_params_tensor(ps, 0), *W2 = sy_params_tensor(ps, 1);
    float *g1 = sy_params_tensor_grad(ps, 0), *g2 = sy_params_tensor_grad(ps, 1);
    float *coef = anchor + nt;
    if (s == SY_OK) s = sy_optimizer_anchor(opt, anchor);
    if (s == SY_OK) s = sy_optimizer_decay_coef(opt, coef);
    int anchored = strcmp(method, "syre") == 0 || strcmp(method, "syre-ar") == 0;
    size_t o2 = (size_t)(W2 - W1);
    float *V = H ? H + (size_t)n * n : NULL, *M = V ? V + (size_t)n * n : NULL, *M0 = M ? M + n : NULL;
    char label[96];
    snprintf(label, sizeof label, "rotation %s", rec);
    sy_progress *pr = s == SY_OK ? sy_progress_start(label, steps) : NULL;
    double loss = 0;
    for (long t = 0; s == SY_OK && t <= steps; t++) {
        loss = rot_residual(p, W1, W2, g1, g2);
        if (!isfinite(loss)) {
            s = sy_fail(SY_ERR_NUMERIC, "rotation: %s diverged at step %ld (lower --lr)", rec, t);
        } else if (t % every == 0 || t == steps) {
            double v[2] = {loss, anchored ? rot_outside(p, W1, W2, anchor, anchor + o2, M, M0) : NAN};
            s = sy_run_log(run, rec, t, 2, (const char *[]){"loss", "outside_anchor"}, v);
        }
        if (s == SY_OK && t < steps) s = sy_optimizer_step(opt);
        if (s == SY_OK && t % 1000 == 0) sy_progress_update(pr, t, NULL);
    }
    sy_progress_finish(pr);
    if (s == SY_OK) {
        double sv[128];
        rot_stack(p, W1, W2, M);
        s = sy_singular_values(M, h, d + k, sv);
        r[R_LOSS] = loss;
        r[R_RANK] = sy_spectrum_count_above(sv, d + k < h ? d + k : h, ROT_RANK_THR * sv[0]);
        r[R_OUTSIDE] = anchored ? rot_outside(p, W1, W2, anchor, anchor + o2, M, M0) : NAN;
    }
    if (s == SY_OK) {
        rot_residual(p, W1, W2, NULL, NULL);
        rot_hessian(p, W1, W2, coef, coef + o2, H);
        s = sy_sym_eigvecs(H, n, V, ev);
        int flat = 0, mult = 0;
        if (s == SY_OK) s = sy_spectrum_degeneracy(ev, n, ROT_TOL, &flat, &mult);
        r[R_FLAT] = flat, r[R_MULT] = mult, r[R_EIGMIN] = ev[n - 1];
        if (s == SY_OK && eig)
            for (int j = 0; j < n; j++) eig[j] = fabs(ev[j]);
    }
    if (s == SY_OK)
        fprintf(stderr, "rotation %s: loss %.5f, hidden rank %g, outside the anchor %.3g, Hessian: %g flat, "
                "largest multiplet %g\n", rec, r[R_LOSS], r[R_RANK], r[R_OUTSIDE], r[R_FLAT], r[R_MULT]);
    free(anchor);
    free(H);
    free(ev);
    sy_optimizer_free(opt);
    sy_params_free(ps);
    return s;
}

/* The share outside the anchor's span along training, seed seed0 of each anchored method: plain syre's falls
 * toward 0 (the symmetric state of the rotations it keeps), syre-ar's settles above it. */
static sy_status rot_outside_figure(sy_run *run, const char *const *methods, int nm, uint64_t seed0)
{
    char recs[8][64];
    const char *rp[8], *lab[8];
    int na = 0;
    for (int m = 0; m < nm && na < 8; m++)
        if (!strcmp(methods[m], "syre") || !strcmp(methods[m], "syre-ar")) {
            snprintf(recs[na], sizeof recs[na], "%s/seed%llu", methods[m], (unsigned long long)seed0);
            rp[na] = recs[na], lab[na] = methods[m], na++;
        }
    if (na == 0) return SY_OK;
    const sy_plot_opts o = {.title = "Share of [W1, W2^T] outside the anchor's span (plain syre keeps its rotations)",
                            .xlabel = "step", .ylabel = "|P_S [W1, W2^T]| / |[W1, W2^T]|"};
    sy_plot *pl = sy_plot_run_curves_new(run, &o, NULL, "step", "outside_anchor", na, rp, lab, NULL);
    if (pl) sy_plot_log_axes(pl, 0, 1);
    return sy_plot_save_run(pl, run, "rotation-outside");
}

static sy_status rot_run(sy_run *run)
{
    int nm = 0;
    const char *const *methods = NULL;
    sy_status s = sy_run_methods_among(run, "vanilla,syre,syre-ar,l2init,none", &methods, &nm);
    if (s != SY_OK) return s;
    rot_problem p = {.d = (int)sy_run_get_int(run, "d"), .k = (int)sy_run_get_int(run, "k"),
                     .h = (int)sy_run_get_int(run, "hidden")};
    p.n = p.h * (p.d + p.k);
    int nseeds = (int)sy_run_get_int(run, "seeds");
    uint64_t seed0 = sy_run_seed(run);
    p.A = malloc(sizeof(double) * (size_t)p.k * p.d * 2);
    double *res = malloc(sizeof(double) * (size_t)nm * nseeds * R_NCOL), *eig = malloc(sizeof(double) * p.n * nm);
    if (!p.A || !res || !eig) s = sy_fail(SY_ERR_NOMEM, "rotation: out of memory");
    if (s == SY_OK) {
        p.R = p.A + p.k * p.d;
        sy_rng dr = sy_rng_make(seed0, SY_STREAM_DATAGEN, 0); /* one target for every method and seed */
        for (int j = 0; j < p.k * p.d; j++) p.A[j] = sy_rng_normal(&dr);
    }
    for (int m = 0; m < nm && s == SY_OK; m++)
        for (int i = 0; i < nseeds && s == SY_OK; i++) {
            char rec[64];
            snprintf(rec, sizeof rec, "%s/seed%d", methods[m], (int)(seed0 + (uint64_t)i));
            double *r = res + ((size_t)m * nseeds + i) * R_NCOL;
            s = rot_train(run, &p, methods[m], seed0 + (uint64_t)i, rec, r, i == 0 ? eig + (size_t)m * p.n : NULL);
        }
    /* per method: the mean and standard deviation over seeds of each measure */
    for (int m = 0; m < nm && s == SY_OK; m++)
        for (int c = 0; c < R_NCOL && s == SY_OK; c++) {
            double v[ROT_MAX_SEEDS], mean, sd;
            for (int i = 0; i < nseeds; i++) v[i] = res[((size_t)m * nseeds + i) * R_NCOL + c];
            if (isnan(v[0])) continue; /* no anchor */
            char key[64];
            if ((s = sy_mean_std(v, nseeds, &mean, &sd)) != SY_OK) break;
            s = sy_run_summary(run, methods[m], rot_cols[c], mean);
            snprintf(key, sizeof key, "%s_std", rot_cols[c]);
            if (s == SY_OK && nseeds > 1) s = sy_run_summary(run, methods[m], key, sd);
        }
    if (s == SY_OK) {
        char title[160];
        snprintf(title, sizeof title, "Hessian spectrum at the end, seed %llu (d %d, k %d, h %d)",
                 (unsigned long long)seed0, p.d, p.k, p.h);
        const sy_plot_opts o = {.title = title, .xlabel = "index", .ylabel = "|eigenvalue| of the regularised loss"};
        const double *eigs[8];
        for (int m = 0; m < nm && m < 8; m++) eigs[m] = eig + (size_t)m * p.n;
        s = sy_plot_spectra(run, "rotation-hessian", &o, p.n, nm < 8 ? nm : 8, methods, eigs);
    }
    if (s == SY_OK) s = rot_outside_figure(run, methods, nm, seed0);
    free(p.A);
    free(res);
    free(eig);
    return s;
}

const sy_experiment sy_exp_rotation = {
    .name = "rotation",
    .figure = "Sec. 4, Theorem 5",
    .summary = "matrix factorisation with a rotation symmetry: what vanilla, syre and syre-ar keep of it",
    .flags = rot_flags,
    .run = rot_run,
    .reproduce_id = "thm5",
    .reproduce = rot_run,
    .no_checkpoint = 1,
    .ignores = "data-dir,epochs,batch",
    .quick = "steps=20000",
};
