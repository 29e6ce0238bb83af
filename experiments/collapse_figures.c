/* Experiment `collapse` (Figs. 4-5; experiments/collapse.c has its flags,
 * model and training): what `run` and `reproduce` train, record and draw.
 * `run` trains one (gamma, alpha) point for every method and draws its
 * per-epoch accuracy and first-layer rank and its spectra; `reproduce`
 * trains Fig. 4's sweeps over gamma and alpha, each point once, draws them
 * and Fig. 5's spectra, and sweeps syre's sigma0 at three of those points. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "collapse.h"

/* The eigenvalues each --cov-scale counts */
static const char *const col_scale_eig[3] = {"eig(C/alpha^2)", "eig(C*alpha^2)", "eig(C)"};

/* ---- Records and plots ---------------------------------------------------------- */

/* A method's settings and final metrics in summary.json, for `run`. */
static sy_status summarise(sy_run *run, const col_cfg *c, const char *method, const col_result *r)
{
    sy_run_summary_settingf(run, method, "gamma", "%g", r->v[V_GAMMA]);
    sy_run_summary_settingf(run, method, "alpha", "%g", r->v[V_ALPHA]);
    if (!strncmp(method, "syre", 4)) sy_run_summary_settingf(run, method, "sigma0", "%g", c->sigma0);
    sy_run_summary_settingf(run, method, "training", "SGD lr %g, batch %ld, %ld epochs, %zu train / %zu test images",
                            c->lr, c->batch, c->epochs, c->train->n, c->test->n);
    sy_run_summary_settingf(run, method, "rank", "%s, batch %d, thr %g", col_scale_eig[c->scale_mode], c->rank_n,
                            c->thr);
    sy_status s = sy_run_summary_pick(run, method, NULL,
                                      "train_acc,test_acc,rank_pre,rank_post,train_loss,test_loss,dead_units", COL_NV,
                                      col_names, r->v);
    if (s == SY_OK && !isnan(r->v[V_ANCHOR_PRE]))
        s = sy_run_summary_pick(run, method, NULL, "anchor_rank_pre,anchor_rank_post", COL_NV, col_names, r->v);
    return s;
}

static sy_status log_spectra(sy_run *run, const char *method, const col_result *r)
{
    const char *nm[2] = {"eig_pre", "eig_post"};
    return sy_run_log_columns(run, "spectrum.csv", method, 1, COL_H, 2, nm,
                              (const double *const[2]){r->eig_pre, r->eig_post});
}

/* Fig. 5: first-layer spectra of every method at one point, with the threshold. */
static sy_status plot_spectra(sy_run *run, const col_cfg *c, const col_result *res, double gamma, double alpha,
                              const char *name)
{
    sy_status s = SY_OK;
    for (int which = 0; which < 2 && s == SY_OK; which++) {
        char title[256], file[256];
        snprintf(title, sizeof title, "First-layer covariance spectrum %s ReLU (gamma=%g, alpha=%g)",
                 which ? "after" : "before", gamma, alpha);
        snprintf(file, sizeof file, "%s-%s", name, which ? "post" : "pre");
        const double *eig[COL_MAX_METHODS];
        for (int m = 0; m < c->nm; m++) eig[m] = which ? res[m].eig_post : res[m].eig_pre;
        sy_plot_opts o = {.title = title, .xlabel = "eigenvalue index", .ylabel = "eigenvalue of scaled covariance",
                          .ref_label = "rank threshold", .ref = c->thr};
        s = sy_plot_spectra(run, file, &o, COL_H, c->nm, c->methods, eig);
    }
    return s;
}

/* Accuracy (train solid, test dashed) and first-layer rank (pre-ReLU solid,
 * post dashed) of every method, series k of cv (col_curves against cv->x):
 * file NULL, the per-epoch figures of `run` at point `what`; else Fig. 4's
 * sweep over x (log axis, chance level) at fixed `what`. */
static sy_status plot_acc_rank(sy_run *run, const col_cfg *c, const char *xlabel, const sy_results *cv,
                               const char *what, const char *file)
{
    char title[2][256], name[2][256];
    if (file) {
        snprintf(title[0], sizeof title[0], "Fig. 4: accuracy vs %s (%s); train solid, test dashed", xlabel, what);
        snprintf(title[1], sizeof title[1], "Fig. 4: first-layer rank vs %s (%s); pre solid, post dashed", xlabel,
                 what);
        snprintf(name[0], sizeof name[0], "%s-acc", file);
        snprintf(name[1], sizeof name[1], "%s-rank", file);
    } else {
        snprintf(title[0], sizeof title[0], "Accuracy, %s (train solid, test dashed)", what);
        snprintf(title[1], sizeof title[1], "First-layer rank, %s (pre-ReLU solid, post dashed)", what);
        snprintf(name[0], sizeof name[0], "accuracy");
        snprintf(name[1], sizeof name[1], "rank");
    }
    sy_plot_opts acc = {.title = title[0], .xlabel = xlabel, .ylabel = "accuracy", .suffix = "train",
                        .suffix2 = "test", .logx = file != NULL, .ymin = 0, .ymax = 1.02,
                        .ref_label = file ? "random guess" : NULL, .ref = 0.1};
    sy_plot_opts rank = {.title = title[1], .xlabel = xlabel, .ylabel = "rank (eigenvalues > threshold)",
                         .suffix = "pre", .suffix2 = "post", .logx = file != NULL, .ymin = 0, .ymax = COL_H + 5};
    const double *const *const y[COL_NH] = {sy_results_col(cv, 0), sy_results_col(cv, 1), sy_results_col(cv, 2),
                                            sy_results_col(cv, 3)};
    sy_status s = sy_plot_sweep(run, name[0], &acc, cv->x, cv->np, c->nm, c->methods, y[0], y[1]);
    return s == SY_OK ? sy_plot_sweep(run, name[1], &rank, cv->x, cv->np, c->nm, c->methods, y[2], y[3]) : s;
}

/* ---- run: one (gamma, alpha) point ------------------------------------------- */

sy_status col_run(sy_run *run)
{
    col_cfg c;
    col_model m = {0};
    col_result res[COL_MAX_METHODS] = {0};
    sy_results cv = {0}; /* col_curves of method k per epoch: series k */
    double gamma = sy_run_get_double(run, "gamma"), alpha = sy_run_get_double(run, "alpha");
    sy_status s = col_cfg_load(run, &c);
    if (s == SY_OK) s = col_model_new(&m, &c);
    if (s == SY_OK) s = sy_results_new(&cv, c.nm, (int)c.epochs, COL_NH, col_curves);
    for (int k = 0; k < c.nm && s == SY_OK; k++) {
        s = col_train_point(run, &c, &m, gamma, alpha, c.sigma0, c.methods[k], NULL, &res[k], &cv, k);
        if (s == SY_OK) s = summarise(run, &c, c.methods[k], &res[k]);
        if (s == SY_OK) s = log_spectra(run, c.methods[k], &res[k]);
    }
    char what[96];
    snprintf(what, sizeof what, "gamma=%g alpha=%g", gamma, alpha);
    if (s == SY_OK) s = plot_acc_rank(run, &c, "epoch", &cv, what, NULL);
    if (s == SY_OK) s = plot_spectra(run, &c, res, gamma, alpha, "spectrum");
    if (s == SY_OK)
        fprintf(stderr, "collapse: gamma %g, alpha %g, sigma0 %g, SGD lr %g, %ld epochs on %zu images; plots in %s\n",
                gamma, alpha, c.sigma0, c.lr, c.epochs, c.train->n, sy_run_dir(run));
    sy_results_free(&cv);
    sy_classifier_free(&m.k);
    col_cfg_free(&c);
    return s;
}

/* ---- reproduce: the sweeps of Fig. 4 and the spectrum of Fig. 5 ------------- */

/* The (gamma, alpha) points reproduce trains, each once, in the order first asked for. */
typedef struct {
    double g[2 * COL_MAX_SWEEP + 1], a[2 * COL_MAX_SWEEP + 1];
    int n;
} col_points;

/* The index of point (gamma, alpha), added if new. */
static int point_at(col_points *p, double gamma, double alpha)
{
    int i = 0;
    while (i < p->n && !(p->g[i] == gamma && p->a[i] == alpha)) i++;
    if (i == p->n) {
        p->g[i] = gamma;
        p->a[p->n++] = alpha;
    }
    return i;
}

/* Trains point i of ps for every method into res[nm]: its rows of sweep.csv
 * (step i) and the summary entries Fig. 4 draws. */
static sy_status train_all(sy_run *run, const col_cfg *c, col_model *m, const col_points *ps, int i, col_result *res)
{
    char tag[96], prefix[96];
    snprintf(tag, sizeof tag, "g%g-a%g", ps->g[i], ps->a[i]);
    snprintf(prefix, sizeof prefix, "g=%g a=%g ", ps->g[i], ps->a[i]);
    sy_status s = SY_OK;
    for (int k = 0; k < c->nm && s == SY_OK; k++) {
        const double *v = res[k].v;
        s = col_train_point(run, c, m, ps->g[i], ps->a[i], c->sigma0, c->methods[k], tag, &res[k], NULL, 0);
        if (s == SY_OK)
            s = sy_run_log_pick(run, "sweep.csv", c->methods[k], i,
                                "gamma,alpha,train_acc,test_acc,train_loss,test_loss,rank_pre,rank_post,dead_units",
                                COL_NV, col_names, v);
        if (s == SY_OK)
            s = sy_run_summary_pick(run, c->methods[k], prefix, "train_acc,test_acc,rank_pre,rank_post", COL_NV,
                                    col_names, v);
        if (s == SY_OK)
            fprintf(stderr, "collapse: gamma %-6g alpha %-5g %-8s train %.4f test %.4f rank pre %3.0f post %3.0f "
                    "dead %3.0f\n", ps->g[i], ps->a[i], c->methods[k], v[V_TRAIN_ACC], v[V_TEST_ACC], v[V_RANK_PRE],
                    v[V_RANK_POST], v[V_DEAD]);
    }
    return s;
}

/* Fig. 4: the sweep over --gammas at alpha = fixed, or over --alphas at gamma = fixed. */
static sy_status sweep(sy_run *run, const col_cfg *c, col_points *ps, const col_result *res, int over_alpha,
                       double fixed)
{
    const double *x = over_alpha ? c->alphas : c->gammas;
    int n = over_alpha ? c->na : c->ng;
    sy_results cv = {0}; /* col_curves of method k against x: series k */
    sy_status s = sy_results_new(&cv, c->nm, n, COL_NH, col_curves);
    for (int i = 0; i < n && s == SY_OK; i++) {
        int p = point_at(ps, over_alpha ? fixed : x[i], over_alpha ? x[i] : fixed);
        cv.x[i] = x[i];
        for (int k = 0; k < c->nm && s == SY_OK; k++)
            s = sy_results_set_pick(&cv, k, i, COL_NV, col_names, res[p * c->nm + k].v);
    }
    const char *var = over_alpha ? "alpha" : "gamma";
    char what[64], file[64];
    snprintf(what, sizeof what, "%s = %g", over_alpha ? "gamma" : "alpha", fixed);
    snprintf(file, sizeof file, "fig4-%s", var);
    if (s == SY_OK) s = plot_acc_rank(run, c, var, &cv, what, file);
    sy_results_free(&cv);
    return s;
}

/* syre's sigma0 at the npt points pt[p] of ps: test accuracy and first-layer
 * rank against sigma0, with vanilla (= syre at sigma0 0) as a dashed level
 * per point. */
static sy_status sigma0_sweep(sy_run *run, const col_cfg *c, col_model *m, const col_points *ps,
                              const col_result *res, const int *pt, int npt)
{
    static const char *const shown[2] = {"test_acc", "rank_pre"};
    int iv = -1, is = -1, step = 0;
    for (int k = 0; k < c->nm; k++) {
        if (!strcmp(c->methods[k], "vanilla")) iv = k;
        if (!strcmp(c->methods[k], "syre")) is = k;
    }
    sy_results t = {0}; /* shown against sigma0: series p syre's at point p, npt + p vanilla's level there */
    char lab[2][3][128];
    const char *labels[2][3];
    sy_status s = sy_results_new(&t, 2 * npt, c->ns, 2, shown);
    for (int p = 0; p < npt && s == SY_OK; p++) {
        const double g = ps->g[pt[p]], a = ps->a[pt[p]];
        const col_result *base = res + pt[p] * c->nm;
        for (int j = 0; j < c->ns && s == SY_OK; j++) {
            col_result r = {0};
            const double s0 = c->sigma0s[j];
            if (is >= 0 && s0 == c->sigma0) {
                r = base[is];
            } else {
                char tag[128];
                snprintf(tag, sizeof tag, "g%g-a%g-s%g", g, a, s0);
                if ((s = col_train_point(run, c, m, g, a, s0, "syre", tag, &r, NULL, 0)) != SY_OK) break;
            }
            s = sy_results_set_pick(&t, p, j, COL_NV, col_names, r.v);
            if (s == SY_OK && iv >= 0) s = sy_results_set_pick(&t, npt + p, j, COL_NV, col_names, base[iv].v);
            if (s == SY_OK)
                s = sy_run_log_pick(run, "sigma0.csv", "syre", step++,
                                    "gamma,alpha,sigma0,train_acc,test_acc,rank_pre,rank_post,dead_units,train_loss",
                                    COL_NV, col_names, r.v);
            char prefix[128];
            snprintf(prefix, sizeof prefix, "g=%g a=%g sigma0=%g ", g, a, s0);
            if (s == SY_OK) s = sy_run_summary_pick(run, "syre", prefix, "test_acc,rank_pre", COL_NV, col_names, r.v);
            if (s == SY_OK)
                fprintf(stderr, "collapse: gamma %-6g alpha %-5g syre sigma0 %-5g train %.4f test %.4f rank pre %3.0f "
                        "post %3.0f\n", g, a, s0, r.v[V_TRAIN_ACC], r.v[V_TEST_ACC], r.v[V_RANK_PRE],
                        r.v[V_RANK_POST]);
        }
        snprintf(lab[0][p], sizeof lab[0][p], "syre, gamma=%g alpha=%g", g, a);
        snprintf(lab[1][p], sizeof lab[1][p], "vanilla, gamma=%g alpha=%g", g, a);
        labels[0][p] = lab[0][p], labels[1][p] = lab[1][p];
    }
    sy_plot_opts acc = {.title = "Test accuracy vs syre's sigma0; vanilla (same gamma) dashed",
                        .xlabel = "sigma0 (anchor std x sqrt(fan_in))", .ylabel = "test accuracy",
                        .labels2 = labels[1], .logx = 1, .ymin = 0, .ymax = 1.02};
    sy_plot_opts rank = acc;
    rank.title = "First-layer rank (pre-ReLU) vs syre's sigma0; vanilla dashed";
    rank.ylabel = "rank (eigenvalues > threshold)";
    rank.ymax = COL_H + 5;
    const double *const *y[2] = {NULL, NULL}; /* test_acc, rank_pre */
    if (s == SY_OK) y[0] = sy_results_col(&t, 0), y[1] = sy_results_col(&t, 1);
    if (s == SY_OK)
        s = sy_plot_sweep(run, "fig4-sigma0-acc", &acc, c->sigma0s, c->ns, npt, labels[0], y[0],
                          iv >= 0 ? y[0] + npt : NULL);
    if (s == SY_OK)
        s = sy_plot_sweep(run, "fig4-sigma0-rank", &rank, c->sigma0s, c->ns, npt, labels[0], y[1],
                          iv >= 0 ? y[1] + npt : NULL);
    sy_results_free(&t);
    return s;
}

sy_status col_reproduce(sy_run *run)
{
    col_cfg c;
    col_model m = {0};
    col_points ps = {.n = 0};
    col_result *res = NULL;
    double sweep_alpha = sy_run_get_double(run, "sweep-alpha"), sweep_gamma = sy_run_get_double(run, "sweep-gamma");
    sy_status s = col_cfg_load(run, &c);
    if (s == SY_OK) s = col_model_new(&m, &c);
    /* the points in the order they are trained: Fig. 4's sweeps over gamma and alpha, then Fig. 5's */
    for (int i = 0; i < c.ng; i++) point_at(&ps, c.gammas[i], sweep_alpha);
    for (int i = 0; i < c.na; i++) point_at(&ps, sweep_gamma, c.alphas[i]);
    int f5 = point_at(&ps, sweep_gamma, sweep_alpha);
    if (s == SY_OK && !(res = calloc((size_t)(ps.n * c.nm), sizeof *res)))
        s = sy_fail(SY_ERR_NOMEM, "collapse: out of memory");
    for (int i = 0; i < ps.n && s == SY_OK; i++) s = train_all(run, &c, &m, &ps, i, res + i * c.nm);
    if (s == SY_OK) s = sweep(run, &c, &ps, res, 0, sweep_alpha);
    if (s == SY_OK) s = sweep(run, &c, &ps, res, 1, sweep_gamma);
    if (s == SY_OK) s = plot_spectra(run, &c, res + f5 * c.nm, sweep_gamma, sweep_alpha, "fig5-spectrum");
    /* sigma0 at the two collapsed points (largest gamma; smallest alpha) and at the Fig. 5 point */
    double gmax = c.gammas[0], amin = c.alphas[0];
    for (int i = 1; i < c.ng; i++) gmax = fmax(gmax, c.gammas[i]);
    for (int i = 1; i < c.na; i++) amin = fmin(amin, c.alphas[i]);
    const int pt[3] = {point_at(&ps, gmax, sweep_alpha), point_at(&ps, sweep_gamma, amin), f5};
    if (s == SY_OK && c.ns > 0) s = sigma0_sweep(run, &c, &m, &ps, res, pt, 3);
    for (int k = 0; k < c.nm && s == SY_OK; k++) s = log_spectra(run, c.methods[k], &res[f5 * c.nm + k]);
    if (s == SY_OK)
        fprintf(stderr, "collapse: sigma0 %g, SGD lr %g, %ld epochs on %zu images; figures fig4-*.png, fig5-*.png in "
                "%s\n", c.sigma0, c.lr, c.epochs, c.train->n, sy_run_dir(run));
    free(res);
    sy_classifier_free(&m.k);
    col_cfg_free(&c);
    return s;
}
