/* Paper Appendix C.2, Fig. 3 left: ridge linear regression. Least squares on
 * N samples of a d-dimensional Gaussian linear model has a test-loss peak
 * (double descent) at N = d; weight decay removes it. syre decays toward a
 * random anchor theta0 instead of 0, which for a problem without reflection
 * symmetries should behave like plain ridge (Eq. 52):
 *     w = (A + g I)^{-1} (E[x y] + g theta0),   A = E[x x^T],  g = Eq. (2)'s gamma.
 *
 * Setup. Teacher w*_i ~ N(0, 1/d) (dense Gaussian, sy_synth_sparse_teacher with
 * k = d rescaled by 1/sqrt(d), so |w*| ~ 1); x ~ N(0, I_d), y = w*^T x +
 * noise * N(0, 1) (sy_synth_linear). Loss: the mean squared error plus the
 * optimizer's decay at wd = --gamma (PyTorch convention; Eq. 2's gamma =
 * wd / 2) toward 0 (vanilla) or theta0 (syre). Solved by the library's
 * sy_ridge_fit (syre/metrics.h): GD through SGD and the decay rule, checked
 * against the closed form (--solver gd), or the closed form (--solver
 * closed); least squares (none) is always the minimum-norm closed form.
 * Test loss: the exact population risk |w - w*|^2 + noise^2, averaged over
 * --trials training sets per d/N (sy_ridge_risk_at). No network is trained,
 * so sy_fit has no part here: what stays is the sweep over d/N, its records
 * and its figures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

static const sy_flag_spec ridge_flags[] = {
    {"d", "input dimension (quick: 100)", "200", SY_FLAG_INT, 2, 4096},
    {"dn-min", "smallest d/N of the sweep", "0.2", SY_FLAG_DOUBLE, 0.01, 100},
    {"dn-max", "largest d/N of the sweep", "5", SY_FLAG_DOUBLE, 0.01, 100},
    {"points", "number of d/N values, log-spaced (odd, with dn-min * dn-max = 1: one at d/N = 1) (quick: 13)",
     "25", SY_FLAG_INT, 2, 1000},
    {"trials", "independent training sets per d/N, test losses averaged (quick: 3; reproduce: 20)", "10",
     SY_FLAG_INT, 1, 10000},
    {"noise", "label noise std", "0.5", SY_FLAG_DOUBLE, 0, 100},
    {"method", "none (min-norm least squares), vanilla (ridge), syre, syre-ar, l2init", "none,vanilla,syre",
     SY_FLAG_METHODS, 0, 0},
    {"gamma", "weight decay wd (gradient += wd (w - anchor); Eq. 2's gamma = wd/2); reproduce adds 0.01 and 1",
     "0.1", SY_FLAG_DOUBLE, 0, 1e6},
    {"sigma0", "syre anchor std in units of 1/sqrt(d) (w is a layer with fan_in d)", "0.01", SY_FLAG_DOUBLE, 0, 100},
    {"lr", "GD learning rate (stable below 2 / (2 lambda_max(A) + wd); lambda_max(A) ~ 10.5 at d/N = 5)", "0.05",
     SY_FLAG_DOUBLE, 1e-12, 10},
    {"max-steps", "GD step limit per fit", "200000", SY_FLAG_INT, 1, 100000000},
    {"tol", "GD stops when |grad| <= tol * |2 b| (b = X^T y / N)", "1e-6", SY_FLAG_DOUBLE, 0, 1},
    {"solver", "gd (library SGD + decay rule, checked against the closed form) or closed (Eq. 52 directly)", "gd",
     SY_FLAG_STRING, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

typedef struct {
    int d, points, trials;
    double dn_min, dn_max, noise, sigma0, eps;
    uint64_t seed;
    sy_ridge_opts fit; /* the solver's settings; each series sets its decay */
    float *wstar;
    int r;              /* the sweep's point in progress, and its progress report */
    sy_progress *pr;
} rctx;

static sy_status ctx_init(rctx *c, sy_run *run)
{
    memset(c, 0, sizeof *c);
    c->d = (int)sy_run_get_int(run, "d");
    c->points = (int)sy_run_get_int(run, "points");
    c->trials = (int)sy_run_get_int(run, "trials");
    c->dn_min = sy_run_get_double(run, "dn-min");
    c->dn_max = sy_run_get_double(run, "dn-max");
    if (!(c->dn_min < c->dn_max))
        return sy_fail(SY_ERR_ARG, "ridge: --dn-min (%g) must be below --dn-max (%g)", c->dn_min, c->dn_max);
    c->noise = sy_run_get_double(run, "noise");
    c->sigma0 = sy_run_get_double(run, "sigma0");
    c->eps = sy_run_get_double(run, "eps");
    c->seed = sy_run_seed(run);
    c->fit = (sy_ridge_opts){.lr = sy_run_get_double(run, "lr"), .tol = sy_run_get_double(run, "tol"),
                             .max_steps = sy_run_get_int(run, "max-steps"), .seed = c->seed};
    sy_status s = sy_run_get_choice(run, "solver", 2, (const char *const[]){"closed", "gd"}, &c->fit.gd);
    if (s != SY_OK) return s;
    if (!(c->wstar = malloc((size_t)c->d * sizeof *c->wstar))) return sy_fail(SY_ERR_NOMEM, "ridge: out of memory");
    s = sy_synth_sparse_teacher((size_t)c->d, (size_t)c->d, c->seed, c->wstar);
    for (int i = 0; s == SY_OK && i < c->d; i++) c->wstar[i] *= 1.0f / sqrtf((float)c->d);
    return s;
}

static double dn_at(const rctx *c, int r)
{
    return c->dn_min * pow(c->dn_max / c->dn_min, c->points > 1 ? (double)r / (c->points - 1) : 0);
}

static int n_at(const rctx *c, int r)
{
    return (int)fmax(1, round(c->d / dn_at(c, r)));
}

#define RIDGE_MAX_SERIES 16 /* series of a run (run: at most 7 methods, reproduce: 9) */

/* One series = (method, wd, sigma0). */
typedef struct {
    const char *method;
    double wd, sigma0;
    char name[64];
} rseries;

/* Training set t at sweep point c->r: sub-stream 4 + 100000 r + t. */
static sy_status draw(void *ctx, int t, int n, float *X, float *y)
{
    const rctx *c = ctx;
    sy_progress_update(c->pr, (int64_t)c->r * c->trials + t, NULL);
    return sy_synth_linear(c->wstar, (size_t)c->d, (size_t)n, (float)c->noise, c->seed,
                           4 + (uint64_t)c->r * 100000 + (uint64_t)t, X, y);
}

/* Sweep d/N for every series on the same training sets: cur[m * points + r]. */
static sy_status sweep(sy_run *run, rctx *c, const rseries *ser, int ns, sy_ridge_risk *cur)
{
    sy_ridge_opts fo[RIDGE_MAX_SERIES];
    sy_ridge_risk risk[RIDGE_MAX_SERIES];
    sy_status s = SY_OK;
    for (int m = 0; s == SY_OK && m < ns; m++) {
        fo[m] = c->fit;
        s = sy_decay_parse(ser[m].method, (float)ser[m].wd, (float)ser[m].sigma0, (float)c->eps, &fo[m].decay);
    }
    c->pr = sy_progress_start("ridge fits", (int64_t)c->points * c->trials);
    for (int r = 0; s == SY_OK && r < c->points; r++) {
        c->r = r;
        s = sy_ridge_risk_at(c->d, n_at(c, r), c->trials, draw, c, c->wstar, c->noise, ns, fo, risk);
        for (int m = 0; s == SY_OK && m < ns; m++) {
            sy_ridge_risk *k = &cur[(size_t)m * c->points + r];
            *k = risk[m];
            const char *names[7] = {"d_over_n", "n", "test_loss", "test_loss_std", "train_loss", "gd_vs_closed",
                                    "gd_steps"};
            double vals[7] = {dn_at(c, r), n_at(c, r), k->test, k->test_sd, k->train, k->gd_err, k->steps};
            s = sy_run_log(run, ser[m].name, r, 7, names, vals);
        }
    }
    sy_progress_finish(c->pr);
    return s;
}

/* Summary of one series over d/N = x[0..points); ref (may be NULL) is the ridge curve at the same wd. */
static void summarise(sy_run *run, const rctx *c, const rseries *sr, const double *x, const sy_ridge_risk *cu,
                      const sy_ridge_risk *ref)
{
    int one = 0; /* the point nearest d/N = 1 */
    double peak = 0, mean = 0, maxrel = 0, gdmax = 0, steps = 0;
    for (int r = 0; r < c->points; r++) {
        if (fabs(log(x[r])) < fabs(log(x[one]))) one = r;
        peak = fmax(peak, cu[r].test);
        mean += cu[r].test / c->points;
        if (ref) maxrel = fmax(maxrel, fabs(cu[r].test - ref[r].test) / ref[r].test);
        gdmax = fmax(gdmax, cu[r].gd_err); /* NaN without GD: skipped */
        steps = fmax(steps, cu[r].steps);
    }
    sy_run_summary_settingf(run, sr->name, "gamma (wd)", "%g", sr->wd);
    sy_run_summary_settingf(run, sr->name, "sigma0", "%g", sr->sigma0);
    const char *keys[4] = {"test_loss", "train_loss", "peak test_loss", "mean test_loss"};
    double v[4] = {cu[one].test, cu[one].train, peak, mean};
    sy_run_summaries(run, sr->name, 4, keys, v);
    if (ref) sy_run_summary(run, sr->name, "max rel. diff to ridge", maxrel);
    if (c->fit.gd && strcmp(sr->method, "none")) {
        sy_run_summary(run, sr->name, "GD vs closed form (max rel.)", gdmax);
        sy_run_summary(run, sr->name, "GD steps (max mean)", steps);
    }
}

static void print_table(const rctx *c, const rseries *ser, int ns, const double *x, const double *test)
{
    printf("\nridge: test loss |w - w*|^2 + noise^2 (mean of %d trials), d = %d, noise %g\n", c->trials, c->d,
           c->noise);
    printf("%7s %6s", "d/N", "N");
    for (int m = 0; m < ns; m++) printf(" %16s", ser[m].name);
    printf("\n");
    for (int r = 0; r < c->points; r++) {
        printf("%7.3f %6d", x[r], n_at(c, r));
        for (int m = 0; m < ns; m++) printf(" %16.4f", test[(size_t)m * c->points + r]);
        printf("\n");
    }
}

/* The test losses of the series which[0..nw) (which NULL: the first nw) against d/N, log-log. */
static sy_status plot_curves(sy_run *run, const rctx *c, const rseries *ser, const int *which, int nw,
                             const double *x, const double *test, const char *title, const char *base)
{
    char lab[RIDGE_MAX_SERIES][96];
    const char *labels[RIDGE_MAX_SERIES];
    const double *y[RIDGE_MAX_SERIES];
    sy_plot_style st[RIDGE_MAX_SERIES];
    for (int k = 0; k < nw; k++) {
        int m = which ? which[k] : k;
        const rseries *sr = &ser[m];
        int none = !strcmp(sr->method, "none"), ridge = !strcmp(sr->method, "vanilla");
        if (none) snprintf(lab[k], sizeof lab[k], "least squares (no decay)");
        else if (ridge) snprintf(lab[k], sizeof lab[k], "ridge (weight decay %g)", sr->wd);
        else snprintf(lab[k], sizeof lab[k], "%s (wd %g, sigma0 %g)", sr->method, sr->wd, sr->sigma0);
        /* syre as markers only, so that the ridge line it lies on stays visible */
        st[k] = none ? SY_PLOT_DASHED : ridge ? SY_PLOT_LINE : SY_PLOT_POINTS;
        labels[k] = lab[k], y[k] = test + (size_t)m * c->points;
    }
    sy_plot *p = sy_plot_methods_styled_new(title, "d / N  (degree of overparameterisation 1/alpha)",
                                            "test loss E(w^T x - y)^2", x, c->points, nw, labels, y, st);
    if (p) sy_plot_log_axes(p, 1, 1);
    return sy_plot_save_run(p, run, base);
}

static sy_status run_series(sy_run *run, rctx *c, rseries *ser, int ns, int reproduce)
{
    sy_ridge_risk *cur = calloc((size_t)ns * c->points, sizeof *cur);
    /* the curves drawn: d/N, then series m's test losses at test[m * points + r] */
    double *x = malloc(sizeof(double) * (size_t)(ns + 1) * c->points), *test = x ? x + c->points : NULL;
    sy_status s = cur && x ? SY_OK : sy_fail(SY_ERR_NOMEM, "ridge: out of memory");
    if (s == SY_OK) {
        fprintf(stderr, "ridge: d = %d, d/N in [%g, %g] (%d points, N = %d..%d), %d trials, noise %g, solver %s\n",
                c->d, c->dn_min, c->dn_max, c->points, n_at(c, c->points - 1), n_at(c, 0), c->trials, c->noise,
                c->fit.gd ? "gd" : "closed");
        s = sweep(run, c, ser, ns, cur);
    }
    for (int r = 0; s == SY_OK && r < c->points; r++) x[r] = dn_at(c, r);
    for (size_t i = 0; s == SY_OK && i < (size_t)ns * c->points; i++) test[i] = cur[i].test;
    if (s == SY_OK) {
        for (int m = 0; m < ns; m++) {
            const sy_ridge_risk *ref = NULL; /* ridge at the same wd */
            if (strcmp(ser[m].method, "vanilla") && strcmp(ser[m].method, "none"))
                for (int k = 0; k < ns; k++)
                    if (!strcmp(ser[k].method, "vanilla") && ser[k].wd == ser[m].wd)
                        ref = cur + (size_t)k * c->points;
            summarise(run, c, &ser[m], x, cur + (size_t)m * c->points, ref);
        }
        print_table(c, ser, ns, x, test);
        char title[200];
        double wd0 = ser[ns > 1 ? 1 : 0].wd;
        int which[RIDGE_MAX_SERIES] = {0}, nw = 0;
        /* main panel: none, ridge and syre at the flag's wd (reproduce: and sigma0) */
        for (int m = 0; m < ns && nw < RIDGE_MAX_SERIES; m++)
            if (!strcmp(ser[m].method, "none") || (ser[m].wd == wd0 && (!reproduce || ser[m].sigma0 == c->sigma0)))
                which[nw++] = m;
        snprintf(title, sizeof title, "Fig. 3 left: linear regression, d = %d, %d trials, noise %g", c->d, c->trials,
                 c->noise);
        s = plot_curves(run, c, ser, which, nw, x, test, title, "ridge-fig3-left");
        if (s == SY_OK && reproduce) {
            snprintf(title, sizeof title, "Ridge vs syre over weight decay and sigma0, d = %d", c->d);
            s = plot_curves(run, c, ser, NULL, ns, x, test, title, "ridge-sweep");
        }
    }
    free(cur);
    free(x);
    return s;
}

/* The series compared. run: one per --method, at --gamma. reproduce (Fig. 3 left): none, then ridge and syre
 * at wd in {--gamma, 0.01, 1}, plus syre with sigma0 = 1 at --gamma (where the anchor is as large as the
 * teacher's entries) to show where Eq. 52's difference starts to show. */
static sy_status ridge_series(sy_run *run, int reproduce)
{
    rctx c;
    sy_status s = ctx_init(&c, run);
    double g0 = sy_run_get_double(run, "gamma"), wds[3] = {g0, 0.01, 1};
    rseries ser[RIDGE_MAX_SERIES]; /* the parser drops repeated methods */
    int ns = 0;
    const char *const *methods = sy_run_methods(run, &ns);
    for (int m = 0; !reproduce && s == SY_OK && m < ns; m++) {
        if (!strcmp(methods[m], "wfix") || !strcmp(methods[m], "dropout"))
            s = sy_fail(SY_ERR_ARG, "ridge: --method %s is not defined for linear regression (none, vanilla, syre, "
                        "syre-ar, l2init)", methods[m]);
        ser[m] = (rseries){methods[m], strcmp(methods[m], "none") ? g0 : 0, c.sigma0, ""};
        snprintf(ser[m].name, sizeof ser[m].name, "%s", methods[m]);
    }
    if (reproduce) {
        if (s == SY_OK && !sy_run_is_set(run, "trials") && !sy_run_get_bool(run, "quick")) c.trials = 20;
        ns = 0;
        ser[ns++] = (rseries){"none", 0, c.sigma0, "none"};
        for (int k = 0; k < 3; k++)
            for (int j = 0; j < 2 && (k == 0 || wds[k] != g0); j++, ns++) { /* ridge, then syre */
                ser[ns] = (rseries){j ? "syre" : "vanilla", wds[k], c.sigma0, ""};
                snprintf(ser[ns].name, sizeof ser[ns].name, "%s wd=%g", ser[ns].method, wds[k]);
            }
        if (c.sigma0 != 1) {
            ser[ns] = (rseries){"syre", g0, 1.0, ""};
            snprintf(ser[ns].name, sizeof ser[ns].name, "syre wd=%g s0=1", g0);
            ns++;
        }
    }
    if (s == SY_OK) s = run_series(run, &c, ser, ns, reproduce);
    free(c.wstar);
    return s;
}

static sy_status ridge_run(sy_run *run) { return ridge_series(run, 0); }
static sy_status ridge_reproduce(sy_run *run) { return ridge_series(run, 1); }

const sy_experiment sy_exp_ridge = {
    .name = "ridge",
    .figure = "Fig. 3 left",
    .summary = "linear regression over d/N: ridge (weight decay) vs syre vs least squares (double-descent peak)",
    .flags = ridge_flags,
    .run = ridge_run,
    .reproduce_id = "fig3-left",
    .reproduce = ridge_reproduce,
    .no_checkpoint = 1,
    .ignores = "data-dir,epochs,batch",
    .quick = "d=100;points=13;trials=3",
};
