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
        const col_point p = {gamma, alpha, c.sigma0, c.methods[k], c.seed, NULL, NULL};
        s = col_train_point(run, &c, &m, &p, &res[k], &cv, k);
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

/* The (gamma, alpha) settings reproduce trains, each once, in the order first asked for. */
typedef struct {
    double g[2 * COL_MAX_SWEEP + 1], a[2 * COL_MAX_SWEEP + 1];
    int n;
} col_points;

/* The index of setting (gamma, alpha), added if new. */
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

/* What a point of reproduce's sweep keeps: col_result's v, then its spectra (eig_pre, eig_post). */
enum { COL_PV = COL_NV + 2 * COL_H };

/* reproduce's sweep (sy_sweep, on as many ranks as it is launched on): first the grid, point
 * i < ngrid the setting i / (nseeds * nm) at seed (i / nm) % nseeds with method i % nm (a setting's
 * seeds and methods together); then syre's sigma0s at the settings pt[3], (pt[sp[k]], sigma0s[sj[k]])
 * at each seed, for the sigma0s the grid did not train (syre at --sigma0). */
typedef struct {
    sy_run *run;
    col_cfg *c;
    col_model m;
    col_points ps;
    int ngrid, pt[3], is, iv; /* is, iv: syre's and vanilla's index in the methods, -1 if not there */
    int sp[3 * COL_MAX_SWEEP], sj[3 * COL_MAX_SWEEP], nsig;
    const char *cols[COL_PV];
    char eig_cols[2 * COL_H][16];
} col_sweep;

/* A sweep point's names: its record and progress, its checkpoint, its rows' method column. */
typedef struct {
    char name[256], tag[128], label[96];
} col_names_of;

/* Point i: its training (naming it by n), grid setting (-1 for a sigma0 point) and seed index. One seed
 * keeps the names the sweep had before seeds (no seed in them). */
static int sweep_point(const col_sweep *w, int i, col_point *p, int *seed, col_names_of *n)
{
    const col_cfg *c = w->c;
    int nm = c->nm, ns = c->nseeds, grid = i < w->ngrid, k = i - w->ngrid;
    int g = grid ? i / (ns * nm) : w->pt[w->sp[k / ns]];
    *seed = grid ? i / nm % ns : k % ns;
    p->gamma = w->ps.g[g], p->alpha = w->ps.a[g];
    p->method = grid ? c->methods[i % nm] : "syre";
    p->sigma0 = grid ? c->sigma0 : c->sigma0s[w->sj[k / ns]];
    p->seed = c->seed + (uint64_t)*seed;
    char s0[40] = "", sd[24] = "";
    if (!grid) snprintf(s0, sizeof s0, "-s%g", p->sigma0);
    if (ns > 1) snprintf(sd, sizeof sd, "%d", (int)p->seed);
    snprintf(n->tag, sizeof n->tag, "g%g-a%g%s%s%s", p->gamma, p->alpha, s0, ns > 1 ? "-seed" : "", sd);
    snprintf(n->label, sizeof n->label, "%.40s%s%s", p->method, ns > 1 ? "/seed" : "", sd);
    if (grid) snprintf(n->name, sizeof n->name, "g=%g a=%g %s", p->gamma, p->alpha, n->label);
    else snprintf(n->name, sizeof n->name, "g=%g a=%g sigma0=%g %s", p->gamma, p->alpha, p->sigma0, n->label);
    p->tag = n->tag, p->label = n->label;
    return grid ? g : -1;
}

static void sweep_name(void *ctx, int i, char *buf, size_t size)
{
    col_point p;
    col_names_of n;
    int seed;
    sweep_point(ctx, i, &p, &seed, &n);
    snprintf(buf, size, "%s", n.name);
}

static sy_status sweep_prepare(void *ctx)
{
    col_sweep *w = ctx;
    return col_model_new(&w->m, w->c);
}

/* Trains point i (its rows of metrics.csv; a grid point's row of sweep.csv at step = its setting) into v. */
static sy_status sweep_train(void *ctx, int i, const char *name, double *v)
{
    col_sweep *w = ctx;
    col_point p;
    col_result r;
    col_names_of n;
    int seed;
    (void)name;
    int g = sweep_point(w, i, &p, &seed, &n);
    sy_status s = col_train_point(w->run, w->c, &w->m, &p, &r, NULL, 0);
    if (s == SY_OK && g >= 0)
        s = sy_run_log_pick(w->run, "sweep.csv", n.label, g,
                            "gamma,alpha,train_acc,test_acc,train_loss,test_loss,rank_pre,rank_post,dead_units",
                            COL_NV, col_names, r.v);
    memcpy(v, r.v, sizeof r.v);
    memcpy(v + COL_NV, r.eig_pre, sizeof r.eig_pre);
    memcpy(v + COL_NV + COL_H, r.eig_post, sizeof r.eig_post);
    return s;
}

/* The summary entries "<prefix><col>" of cols from the values v[k] of nk seeds: the value itself for one
 * seed, else "<prefix><col>_mean" and "_std" over the seeds. */
static sy_status summary_seeds(sy_run *run, const char *method, const char *prefix, const char *cols, int nk,
                               const double *const *v)
{
    if (nk == 1) return sy_run_summary_pick(run, method, prefix, cols, COL_NV, col_names, v[0]);
    sy_status s = SY_OK;
    char col[64], key[192];
    for (const char *p = cols; *p && s == SY_OK; p += strcspn(p, ","), p += *p == ',') {
        snprintf(col, sizeof col, "%.*s", (int)strcspn(p, ","), p);
        int j = 0;
        while (j < COL_NV && strcmp(col_names[j], col) != 0) j++;
        if (j == COL_NV) return sy_fail(SY_ERR_ARG, "collapse: no value '%s'", col);
        double x[COL_MAX_SEEDS], mean, sd;
        for (int k = 0; k < nk; k++) x[k] = v[k][j];
        s = sy_mean_std(x, nk, &mean, &sd);
        snprintf(key, sizeof key, "%s%s_mean", prefix, col);
        if (s == SY_OK) s = sy_run_summary(run, method, key, mean);
        snprintf(key, sizeof key, "%s%s_std", prefix, col);
        if (s == SY_OK) s = sy_run_summary(run, method, key, sd);
    }
    return s;
}

/* The mean over n rows v[k][0..COL_NV) into out->v (one row: itself); the spectra are the first seed's. */
static void mean_seeds(const double *const *v, int n, col_result *out)
{
    for (int j = 0; j < COL_NV; j++) {
        double sum = 0;
        for (int k = 0; k < n; k++) sum += v[k][j];
        out->v[j] = sum / n;
    }
    memcpy(out->eig_pre, v[0] + COL_NV, sizeof out->eig_pre);
    memcpy(out->eig_post, v[0] + COL_NV + COL_H, sizeof out->eig_post);
}

/* The values of grid setting g, method m at each seed into v[nseeds]. */
static void grid_values(const col_sweep *w, const double *all, int g, int m, const double **v)
{
    for (int k = 0; k < w->c->nseeds; k++) v[k] = all + (size_t)((g * w->c->nseeds + k) * w->c->nm + m) * COL_PV;
}

/* After the last seed of a grid setting's method: its summary entries and a line. */
static sy_status sweep_record(void *ctx, int i, const char *name, const double *all)
{
    col_sweep *w = ctx;
    const col_cfg *c = w->c;
    (void)name;
    if (i >= w->ngrid || i / c->nm % c->nseeds != c->nseeds - 1) return SY_OK;
    int g = i / (c->nseeds * c->nm), m = i % c->nm;
    const double *v[COL_MAX_SEEDS];
    grid_values(w, all, g, m, v);
    char prefix[96];
    snprintf(prefix, sizeof prefix, "g=%g a=%g ", w->ps.g[g], w->ps.a[g]);
    sy_status s = summary_seeds(w->run, c->methods[m], prefix, "train_acc,test_acc,rank_pre,rank_post", c->nseeds, v);
    col_result r;
    mean_seeds(v, c->nseeds, &r);
    if (s == SY_OK)
        fprintf(stderr, "collapse: gamma %-6g alpha %-5g %-8s train %.4f test %.4f rank pre %3.0f post %3.0f "
                "dead %3.0f%s\n", w->ps.g[g], w->ps.a[g], c->methods[m], r.v[V_TRAIN_ACC], r.v[V_TEST_ACC],
                r.v[V_RANK_PRE], r.v[V_RANK_POST], r.v[V_DEAD], c->nseeds > 1 ? " (mean over seeds)" : "");
    return s;
}

/* Fig. 4: the sweep over --gammas at alpha = fixed, or over --alphas at gamma = fixed, from res (the mean
 * over seeds); with several seeds also each method's test accuracy and rank with their spread. */
static sy_status sweep(sy_run *run, const col_sweep *w, const double *all, const col_result *res, int over_alpha,
                       double fixed)
{
    const col_cfg *c = w->c;
    col_points *ps = (col_points *)&w->ps;
    const double *x = over_alpha ? c->alphas : c->gammas;
    int n = over_alpha ? c->na : c->ng, nk = c->nseeds;
    int pts[COL_MAX_SWEEP];
    sy_results cv = {0}; /* col_curves of method k against x: series k */
    sy_status s = sy_results_new(&cv, c->nm, n, COL_NH, col_curves);
    for (int i = 0; i < n && s == SY_OK; i++) {
        int p = pts[i] = point_at(ps, over_alpha ? fixed : x[i], over_alpha ? x[i] : fixed);
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
    static const int shown[2] = {V_TEST_ACC, V_RANK_PRE};
    static const char *const shown_name[2] = {"test accuracy", "first-layer rank (pre-ReLU)"};
    double *v = nk > 1 ? malloc(sizeof *v * (size_t)(n * nk)) : NULL;
    if (nk > 1 && !v && s == SY_OK) s = sy_fail(SY_ERR_NOMEM, "collapse: out of memory");
    for (int m = 0; m < c->nm && nk > 1 && s == SY_OK; m++)
        for (int q = 0; q < 2 && s == SY_OK; q++) {
            const double *sv[COL_MAX_SEEDS];
            for (int i = 0; i < n; i++) {
                grid_values(w, all, pts[i], m, sv);
                for (int k = 0; k < nk; k++) v[i * nk + k] = sv[k][shown[q]];
            }
            char title[256], name[128];
            snprintf(title, sizeof title, "Fig. 4: %s %s vs %s (%s), %d seeds", c->methods[m], shown_name[q], var, what,
                     nk);
            snprintf(name, sizeof name, "fig4-%s-seeds-%s-%s", var, col_names[shown[q]], c->methods[m]);
            const sy_plot_opts o = {.title = title, .xlabel = var, .ylabel = shown_name[q], .logx = 1};
            s = sy_plot_seeds(run, name, &o, x, n, nk, v);
        }
    free(v);
    return s;
}

/* syre's sigma0 at the 3 settings w->pt: test accuracy and first-layer rank against sigma0 (mean over seeds),
 * with vanilla (= syre at sigma0 0) as a dashed level per setting; a row of sigma0.csv per seed. */
static sy_status sigma0_sweep(sy_run *run, const col_sweep *w, const double *all, const col_result *res)
{
    static const char *const shown[2] = {"test_acc", "rank_pre"};
    const col_cfg *c = w->c;
    const int npt = 3, nk = c->nseeds;
    int step = 0, next = 0; /* next: the sigma0 setting of the sweep's next point */
    sy_results t = {0}; /* shown against sigma0: series p syre's at setting p, npt + p vanilla's level there */
    char lab[2][3][128];
    const char *labels[2][3];
    sy_status s = sy_results_new(&t, 2 * npt, c->ns, 2, shown);
    for (int p = 0; p < npt && s == SY_OK; p++) {
        const double g = w->ps.g[w->pt[p]], a = w->ps.a[w->pt[p]];
        const col_result *base = res + w->pt[p] * c->nm;
        for (int j = 0; j < c->ns && s == SY_OK; j++) {
            const double s0 = c->sigma0s[j];
            const double *v[COL_MAX_SEEDS];
            if (w->is >= 0 && s0 == c->sigma0) {
                grid_values(w, all, w->pt[p], w->is, v);
            } else {
                for (int k = 0; k < nk; k++) v[k] = all + (size_t)(w->ngrid + next * nk + k) * COL_PV;
                next++;
            }
            col_result r;
            mean_seeds(v, nk, &r);
            s = sy_results_set_pick(&t, p, j, COL_NV, col_names, r.v);
            if (s == SY_OK && w->iv >= 0) s = sy_results_set_pick(&t, npt + p, j, COL_NV, col_names, base[w->iv].v);
            for (int k = 0; k < nk && s == SY_OK; k++) {
                char label[64];
                snprintf(label, sizeof label, nk > 1 ? "syre/seed%d" : "syre", (int)(c->seed + (uint64_t)k));
                s = sy_run_log_pick(run, "sigma0.csv", label, step++,
                                    "gamma,alpha,sigma0,train_acc,test_acc,rank_pre,rank_post,dead_units,train_loss",
                                    COL_NV, col_names, v[k]);
            }
            char prefix[128];
            snprintf(prefix, sizeof prefix, "g=%g a=%g sigma0=%g ", g, a, s0);
            if (s == SY_OK) s = summary_seeds(run, "syre", prefix, "test_acc,rank_pre", nk, v);
            if (s == SY_OK)
                fprintf(stderr, "collapse: gamma %-6g alpha %-5g syre sigma0 %-5g train %.4f test %.4f rank pre %3.0f "
                        "post %3.0f%s\n", g, a, s0, r.v[V_TRAIN_ACC], r.v[V_TEST_ACC], r.v[V_RANK_PRE],
                        r.v[V_RANK_POST], nk > 1 ? " (mean over seeds)" : "");
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
                          w->iv >= 0 ? y[0] + npt : NULL);
    if (s == SY_OK)
        s = sy_plot_sweep(run, "fig4-sigma0-rank", &rank, c->sigma0s, c->ns, npt, labels[0], y[1],
                          w->iv >= 0 ? y[1] + npt : NULL);
    sy_results_free(&t);
    return s;
}

sy_status col_reproduce(sy_run *run)
{
    col_cfg c;
    col_sweep w = {.run = run, .c = &c, .is = -1, .iv = -1};
    col_result *res = NULL; /* per grid setting and method: the mean over seeds */
    double *all = NULL;
    double sweep_alpha = sy_run_get_double(run, "sweep-alpha"), sweep_gamma = sy_run_get_double(run, "sweep-gamma");
    sy_status s = col_cfg_load(run, &c);
    if (s != SY_OK) {
        col_cfg_free(&c);
        return s;
    }
    /* the settings in the order they are trained: Fig. 4's sweeps over gamma and alpha, then Fig. 5's */
    for (int i = 0; i < c.ng; i++) point_at(&w.ps, c.gammas[i], sweep_alpha);
    for (int i = 0; i < c.na; i++) point_at(&w.ps, sweep_gamma, c.alphas[i]);
    int f5 = point_at(&w.ps, sweep_gamma, sweep_alpha);
    /* sigma0 at the two collapsed settings (largest gamma; smallest alpha) and at the Fig. 5 one */
    double gmax = c.gammas[0], amin = c.alphas[0];
    for (int i = 1; i < c.ng; i++) gmax = fmax(gmax, c.gammas[i]);
    for (int i = 1; i < c.na; i++) amin = fmin(amin, c.alphas[i]);
    w.pt[0] = point_at(&w.ps, gmax, sweep_alpha), w.pt[1] = point_at(&w.ps, sweep_gamma, amin), w.pt[2] = f5;
    for (int k = 0; k < c.nm; k++) {
        if (!strcmp(c.methods[k], "vanilla")) w.iv = k;
        if (!strcmp(c.methods[k], "syre")) w.is = k;
    }
    for (int p = 0; p < 3; p++)
        for (int j = 0; j < c.ns; j++)
            if (!(w.is >= 0 && c.sigma0s[j] == c.sigma0)) w.sp[w.nsig] = p, w.sj[w.nsig++] = j;
    w.ngrid = w.ps.n * c.nseeds * c.nm;
    for (int j = 0; j < COL_NV; j++) w.cols[j] = col_names[j];
    for (int j = 0; j < 2 * COL_H; j++) {
        snprintf(w.eig_cols[j], sizeof w.eig_cols[j], "eig_%s%d", j < COL_H ? "pre" : "post", j % COL_H + 1);
        w.cols[COL_NV + j] = w.eig_cols[j];
    }
    sy_sweep sw = sy_sweep_defaults(); /* under mpirun: the points shared by the ranks, each one process's */
    sw.n = w.ngrid + w.nsig * c.nseeds, sw.ncols = COL_PV, sw.cols = w.cols, sw.ctx = &w, sw.keep = 1;
    sw.name = sweep_name, sw.train = sweep_train, sw.record = sweep_record, sw.prepare = sweep_prepare;
    all = malloc(sizeof *all * (size_t)sw.n * COL_PV);
    res = calloc((size_t)(w.ps.n * c.nm), sizeof *res);
    if (!all || !res) s = sy_fail(SY_ERR_NOMEM, "collapse: out of memory");
    if (s == SY_OK) s = sy_sweep_run(run, &sw, all);
    for (int g = 0; g < w.ps.n && s == SY_OK; g++)
        for (int m = 0; m < c.nm; m++) {
            const double *v[COL_MAX_SEEDS];
            grid_values(&w, all, g, m, v);
            mean_seeds(v, c.nseeds, &res[g * c.nm + m]);
        }
    /* written whole from the points (again on --resume) */
    if (s == SY_OK) s = sy_run_log_afresh(run, "sigma0.csv");
    if (s == SY_OK) s = sy_run_log_afresh(run, "spectrum.csv");
    if (s == SY_OK) s = sweep(run, &w, all, res, 0, sweep_alpha);
    if (s == SY_OK) s = sweep(run, &w, all, res, 1, sweep_gamma);
    if (s == SY_OK) s = plot_spectra(run, &c, res + f5 * c.nm, sweep_gamma, sweep_alpha, "fig5-spectrum");
    if (s == SY_OK && c.ns > 0) s = sigma0_sweep(run, &w, all, res);
    for (int k = 0; k < c.nm && s == SY_OK; k++) s = log_spectra(run, c.methods[k], &res[f5 * c.nm + k]);
    if (s == SY_OK)
        fprintf(stderr, "collapse: sigma0 %g, SGD lr %g, %ld epochs on %zu images; figures fig4-*.png, fig5-*.png in "
                "%s\n", c.sigma0, c.lr, c.epochs, c.train->n, sy_run_dir(run));
    free(res);
    free(all);
    sy_classifier_free(&w.m.k);
    col_cfg_free(&c);
    return s;
}
