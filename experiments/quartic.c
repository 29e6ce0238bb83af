/* Paper Section 5, Fig. 2: controlling the degree of symmetry of the quartic
 * toy objective
 *     f(w) = (w^T w)^2 - w^T B w,   w in R^d,
 * whose d reflection symmetries w -> w - 2 (v_i^T w) v_i come from the
 * eigenvectors v_i of B. The degree of symmetry of a solution is
 * #{i : |v_i^T w| < c_th}. Its minimiser puts all of w on the top
 * eigenvector (degree d - 1: the most symmetric state); training methods that
 * break symmetry trade objective for a lower degree. We compare plain GD,
 * weight decay toward 0 (vanilla), syre (decay toward a random anchor), W-fix
 * (a fraction phi of entries held at random values) and dropout on w, each
 * over its hyperparameter, for an unstructured B = G + G^T (c_th = 1e-3) and a
 * structured B = diag(v) (c_th = 1e-1).
 *
 * The solver is the library's (sy_quartic_gd, syre/metrics.h: SGD with the
 * decay rule, dropout on w, the anchor std sigma0 in absolute units). No
 * network is trained, so there is no graph or batch for sy_fit: the steps run
 * through sy_fit_steps (syre/trainer.h), which keeps sy_fit's rules for
 * records, checkpoints, resume and stops; what stays here is what each log
 * point measures and the figure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

/* The paper's sweeps (Sec. 5): weight decay 0.1..10, phi 0.001..0.1, p 0.01..0.6. */
static const double SWEEP_GAMMA[] = {0.1, 0.2, 0.5, 1, 2, 5, 10};
static const double SWEEP_PHI[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1};
static const double SWEEP_P[] = {0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6};
#define SWEEP_N 7

static const sy_flag_spec quartic_flags[] = {
    {"spectrum", "B: unstructured (G + G^T, G_ij ~ N(0, 1/d)) or structured (diag(v), v_i ~ N(0, 1)); reproduce: "
                 "both unless given", "unstructured", SY_FLAG_STRING, 0, 0},
    {"d", "dimension of w (quick: 200)", "1000", SY_FLAG_INT, 2, 8192},
    {"steps", "full-batch GD steps per setting (lr * steps = 40: plain GD converges) (quick: 100000)", "400000",
     SY_FLAG_INT, 1, 100000000},
    {"lr", "learning rate of plain SGD (paper: 1e-4)", "1e-4", SY_FLAG_DOUBLE, 1e-12, 1},
    {"init-scale", "w_i ~ N(0, init-scale^2 / d), so |w0| ~ init-scale (the minimiser's |w| ~ 1.2); same for all",
     "1", SY_FLAG_DOUBLE, 0, 1000},
    {"c-th", "degree-of-symmetry threshold on |v_i^T w|; 0 = the paper's (1e-3 unstructured, 1e-1 structured)", "0",
     SY_FLAG_DOUBLE, 0, 1000},
    {"method", "none (plain GD), vanilla (decay to 0), syre (decay to theta0), syre-ar, l2init (all at --gamma), "
               "wfix (fraction --phi fixed), dropout (rate --p on w)", "none,vanilla,syre,wfix,dropout",
     SY_FLAG_METHODS, 0, 0},
    {"gamma", "weight decay wd (gradient += wd (w - anchor); paper's gamma = wd/2); reproduce sweeps 0.1..10", "1",
     SY_FLAG_DOUBLE, 0, 1e6},
    {"sigma0", "syre anchor std, ABSOLUTE here (fan_in = 1); reproduce draws 0.01, 0.1 and 1 unless given", "0.01",
     SY_FLAG_DOUBLE, 0, 100},
    {"phi", "W-fix: fraction of entries of w held fixed (reproduce sweeps 0.001..0.1)", "0.01", SY_FLAG_DOUBLE, 0, 1},
    {"kappa", "W-fix: variance of the fixed values (paper C.2: 0.01)", "0.01", SY_FLAG_DOUBLE, 0, 100},
    {"p", "dropout rate on w (reproduce sweeps 0.01..0.6)", "0.1", SY_FLAG_DOUBLE, 0, 0.99},
    {"gamma-others", "weight decay added to wfix and dropout (Fig. 2 varies only phi / the rate: 0)", "0",
     SY_FLAG_DOUBLE, 0, 1e6},
    {"log-every", "steps between logged rows (0 = 50 rows per setting)", "0", SY_FLAG_INT, 0, 100000000},
    {"ckpt-every", "steps between checkpoints (0 = max(steps/10, 1000))", "0", SY_FLAG_INT, 0, 100000000},
    {NULL, NULL, NULL, 0, 0, 0},
};

/* Everything one spectrum needs, shared by the settings trained on it. */
typedef struct {
    int d, structured;
    long steps, log_every;
    double sigma0;
    float c_th;
    float *B, *V;       /* [d, d]: the matrix and its eigenvectors (rows) */
    double lambda1;     /* top eigenvalue: optimum f* = -lambda1^2 / 4 */
} qctx;

static const char *spectrum_name(int structured) { return structured ? "structured" : "unstructured"; }

static sy_status parse_spectrum(const char *s, int *structured)
{
    if (!strcmp(s, "unstructured")) *structured = 0;
    else if (!strcmp(s, "structured")) *structured = 1;
    else
        return sy_fail(SY_ERR_ARG, "quartic: --spectrum must be 'unstructured' or 'structured', got '%s'", s);
    return SY_OK;
}

static sy_status ctx_init(qctx *c, sy_run *run, int structured)
{
    memset(c, 0, sizeof *c);
    c->d = (int)sy_run_get_int(run, "d");
    c->steps = sy_run_get_int(run, "steps");
    c->log_every = sy_run_get_int(run, "log-every");
    if (c->log_every <= 0) c->log_every = c->steps >= 50 ? c->steps / 50 : 1;
    c->sigma0 = sy_run_get_double(run, "sigma0");
    c->structured = structured;
    double cth = sy_run_get_double(run, "c-th");
    c->c_th = (float)(cth > 0 ? cth : structured ? 1e-1 : 1e-3);
    size_t dd = (size_t)c->d * (size_t)c->d;
    c->B = malloc(dd * sizeof *c->B);
    c->V = malloc(dd * sizeof *c->V);
    double *lam = malloc((size_t)c->d * sizeof *lam);
    if (!c->B || !c->V || !lam) {
        free(lam);
        return sy_fail(SY_ERR_NOMEM, "quartic: no memory for d = %d", c->d);
    }
    sy_status s = sy_synth_quartic_matrix((size_t)c->d, structured, sy_run_seed(run), c->B);
    if (s == SY_OK) s = sy_sym_eigvecs(c->B, c->d, c->V, lam);
    if (s == SY_OK) c->lambda1 = lam[0];
    free(lam);
    return s;
}

static void ctx_free(qctx *c)
{
    free(c->B);
    free(c->V);
}

/* The rule of a method at hyperparameter h (gamma, phi or p). */
static sy_status method_decay(sy_run *run, const qctx *c, const char *method, double h, sy_decay *out)
{
    double others = sy_run_get_double(run, "gamma-others");
    if (!strcmp(method, "wfix")) {
        *out = sy_decay_wfix((float)others, (float)h, (float)sy_run_get_double(run, "kappa"));
        return SY_OK;
    }
    if (!strcmp(method, "dropout")) {
        *out = others > 0 ? sy_decay_l2((float)others) : sy_decay_none();
        return SY_OK;
    }
    return sy_decay_parse(method, (float)h, (float)c->sigma0, (float)sy_run_get_double(run, "eps"), out);
}

/* One setting in training: what its log points see. */
typedef struct {
    sy_run *run;
    const qctx *c;
    sy_quartic_gd *q;
    const char *label, *logfile;
    double h, *traj_obj, *traj_deg;
    sy_quartic_point r;
} qtrain;

static sy_status q_step(void *ctx, long t) { return sy_quartic_gd_step(((qtrain *)ctx)->q, t); }

static sy_status q_log(void *ctx, long t, int replay, int *stop, char *note, size_t note_size)
{
    qtrain *k = ctx;
    const qctx *c = k->c;
    sy_quartic_measure(c->B, c->V, c->d, sy_quartic_gd_w(k->q), c->c_th, &k->r);
    if (k->traj_obj && t % c->log_every == 0) {
        k->traj_obj[t / c->log_every] = k->r.objective;
        k->traj_deg[t / c->log_every] = k->r.degree;
    }
    const char *names[4] = {"objective", "degree_of_symmetry", "w_norm", "hyper"};
    double vals[4] = {k->r.objective, k->r.degree, k->r.wnorm, k->h};
    /* A finished run resumed only measures: its last row is logged. */
    sy_status s = replay ? SY_OK : sy_run_log_to(k->run, k->logfile, k->label, t, 4, names, vals);
    *stop = k->r.diverged;
    snprintf(note, note_size, "f %.4g  sym %d", k->r.objective, k->r.degree);
    return s;
}

/* Train one setting from the common init; `label` names its records
 * (log rows, checkpoint file). traj_obj / traj_deg (may be NULL) get the
 * logged values, one per log point (steps / log_every + 1 of them); *gnorm
 * the norm of grad f at the end (the quartic alone, without the decay). */
static sy_status train_one(sy_run *run, const qctx *c, const char *method, double h, const char *label,
                           const char *logfile, sy_quartic_point *res, double *gnorm, double *traj_obj,
                           double *traj_deg)
{
    sy_quartic_gd_opts o = {.B = c->B, .d = c->d, .diagonal = c->structured, .lr = sy_run_get_double(run, "lr"),
                            .init_scale = sy_run_get_double(run, "init-scale"),
                            .dropout = !strcmp(method, "dropout") ? h : 0, .seed = sy_run_seed(run)};
    qtrain k = {.run = run, .c = c, .label = label, .logfile = logfile, .h = h, .traj_obj = traj_obj,
                .traj_deg = traj_deg};
    sy_status s = method_decay(run, c, method, h, &o.decay);
    if (s == SY_OK) s = sy_quartic_gd_new(&o, &k.q);
    if (s != SY_OK) return s;
    char ckpt[4200];
    long every = sy_run_get_int(run, "ckpt-every");
    sy_fit_steps_opts f = {.params = sy_quartic_gd_params(k.q), .opt = sy_quartic_gd_optimizer(k.q),
                           .steps = c->steps, .log_every = c->log_every,
                           .ckpt_every = every > 0 ? every : c->steps / 10 > 1000 ? c->steps / 10 : 1000,
                           .control = sy_run_control(run), .ckpt = sy_run_ckpt_path(run, NULL, label, ckpt, sizeof ckpt),
                           .resume = sy_run_get_bool(run, "resume"), .records = logfile, .label = label, .ctx = &k,
                           .step = q_step, .on_log = q_log};
    int diverged = 0;
    s = sy_fit_steps(&f, &diverged);
    *gnorm = 0;
    if (s == SY_OK && !diverged) {
        sy_quartic_gd_grad_norm(k.q, gnorm); /* left at 0 if it fails */
    } else if (s == SY_OK) {
        k.r.objective = NAN;
        k.r.degree = -1;
        k.r.diverged = 1;
        fprintf(stderr, "quartic: %s diverged (recorded as NaN): %s\n", label, sy_last_error());
    }
    *res = k.r;
    sy_quartic_gd_free(k.q);
    return s;
}

/* The hyperparameter of a method: its flag's name ("-" for none). */
static const char *hyper_name(const char *method)
{
    if (!strcmp(method, "wfix")) return "phi";
    if (!strcmp(method, "dropout")) return "p";
    if (!strcmp(method, "none")) return "-";
    return "gamma";
}

/* Its value in a single run. */
static double run_hyper(sy_run *run, const char *method)
{
    return strcmp(method, "none") ? sy_run_get_double(run, hyper_name(method)) : 0;
}

static sy_status save_plot(sy_plot *p, sy_run *run, const char *base)
{
    char path[4200];
    return sy_plot_save(p, sy_run_path(run, base, path, sizeof path));
}

static sy_status quartic_run(sy_run *run)
{
    int structured = 0;
    sy_status s = parse_spectrum(sy_run_get_str(run, "spectrum"), &structured);
    if (s != SY_OK) return s;
    qctx c;
    if ((s = ctx_init(&c, run, structured)) != SY_OK) {
        ctx_free(&c);
        return s;
    }
    const char *sp = spectrum_name(structured);
    double fstar = -c.lambda1 * c.lambda1 / 4, lr = sy_run_get_double(run, "lr");
    int nm;
    const char *const *methods = sy_run_methods(run, &nm);
    int npts = (int)(c.steps / c.log_every) + 1;
    double *tobj = malloc(sizeof(double) * (size_t)npts * nm), *tdeg = malloc(sizeof(double) * (size_t)npts * nm);
    double *xs = malloc(sizeof(double) * (size_t)npts);
    sy_quartic_point *res = calloc((size_t)nm, sizeof *res);
    if (!tobj || !tdeg || !xs || !res) s = sy_fail(SY_ERR_NOMEM, "quartic: out of memory");
    for (int i = 0; s == SY_OK && i < npts; i++) xs[i] = (double)i * c.log_every;
    for (int i = 0; s == SY_OK && i < npts * nm; i++) tobj[i] = tdeg[i] = NAN;
    fprintf(stderr, "quartic: %s spectrum, d = %d, lambda1 = %.4f (optimum f* = %.4f), c_th = %g, %ld steps\n", sp,
            c.d, c.lambda1, fstar, c.c_th, c.steps);
    for (int m = 0; s == SY_OK && m < nm; m++) {
        double h = run_hyper(run, methods[m]), gn;
        s = train_one(run, &c, methods[m], h, methods[m], NULL, &res[m], &gn, tobj + (size_t)m * npts,
                      tdeg + (size_t)m * npts);
        if (s != SY_OK) break;
        char buf[64];
        snprintf(buf, sizeof buf, "%g", h);
        sy_run_summary_setting(run, methods[m], hyper_name(methods[m]), buf);
        sy_run_summary(run, methods[m], "objective", res[m].objective);
        sy_run_summary(run, methods[m], "degree_of_symmetry", res[m].degree);
        sy_run_summary(run, methods[m], "objective - optimum", res[m].objective + c.lambda1 * c.lambda1 / 4);
        sy_run_summary(run, methods[m], "w_norm", res[m].wnorm);
        sy_run_summary(run, methods[m], "grad_norm (f only)", gn);
    }
    if (s == SY_OK) {
        char title[160];
        snprintf(title, sizeof title, "Quartic toy, %s B, d = %d: objective", sp, c.d);
        sy_plot *po = sy_plot_new(title, "GD step", "f(w) = (w^T w)^2 - w^T B w");
        snprintf(title, sizeof title, "Quartic toy, %s B, d = %d: degree of symmetry (c_th = %g)", sp, c.d, c.c_th);
        sy_plot *pd = sy_plot_new(title, "GD step", "#{i : |v_i^T w| < c_th}");
        snprintf(title, sizeof title, "Quartic toy, %s B, d = %d: final solutions", sp, c.d);
        sy_plot *psc = sy_plot_new(title, "objective f(w)", "degree of symmetry");
        if (!po || !pd || !psc) s = sy_fail(SY_ERR_NOMEM, "quartic: out of memory");
        for (int m = 0; s == SY_OK && m < nm; m++) {
            char lab[96];
            snprintf(lab, sizeof lab, "%s (%s %g)", methods[m], hyper_name(methods[m]), run_hyper(run, methods[m]));
            if (!strcmp(methods[m], "none")) snprintf(lab, sizeof lab, "plain GD");
            s = sy_plot_series(po, lab, xs, tobj + (size_t)m * npts, npts, SY_PLOT_LINE);
            if (s == SY_OK) s = sy_plot_series(pd, lab, xs, tdeg + (size_t)m * npts, npts, SY_PLOT_LINE);
            double ox = res[m].objective, oy = res[m].degree;
            if (s == SY_OK) s = sy_plot_series(psc, lab, &ox, &oy, 1, SY_PLOT_POINTS);
        }
        if (s == SY_OK) s = save_plot(po, run, "quartic-objective");
        if (s == SY_OK) s = save_plot(pd, run, "quartic-symmetry");
        if (s == SY_OK) s = save_plot(psc, run, "quartic-scatter");
        sy_plot_free(po);
        sy_plot_free(pd);
        sy_plot_free(psc);
    }
    if (s == SY_OK) {
        printf("\nquartic (%s, d = %d, %ld steps, lr %g, c_th %g): optimum f* = -lambda1^2/4 = %.4f\n", sp, c.d,
               c.steps, lr, c.c_th, fstar);
        printf("%-10s %-6s %10s %12s %10s\n", "method", "hyper", "value", "objective", "sym.degree");
        for (int m = 0; m < nm; m++)
            printf("%-10s %-6s %10g %12.5f %10d\n", methods[m], hyper_name(methods[m]), run_hyper(run, methods[m]),
                   res[m].objective, res[m].degree);
    }
    free(tobj);
    free(tdeg);
    free(xs);
    free(res);
    ctx_free(&c);
    return s;
}

/* ---- Fig. 2: the sweeps -------------------------------------------------- */

static int sweep_of(const char *method, const double **vals)
{
    if (!strcmp(method, "wfix")) *vals = SWEEP_PHI;
    else if (!strcmp(method, "dropout")) *vals = SWEEP_P;
    else if (!strcmp(method, "none")) {
        static const double zero = 0;
        *vals = &zero;
        return 1;
    } else *vals = SWEEP_GAMMA;
    return SWEEP_N;
}

/* syre's anchor scale is not given for Fig. 2; unless --sigma0 is set, the
 * reproduction draws one syre series per sigma0 in this list. */
static const double SWEEP_SIGMA0[] = {0.01, 0.1, 1};
#define SWEEP_NS 3

static sy_status quartic_reproduce(sy_run *run)
{
    int which[2] = {0, 1}, nspec = 2;
    sy_status s = SY_OK;
    if (sy_run_is_set(run, "spectrum")) {
        if ((s = parse_spectrum(sy_run_get_str(run, "spectrum"), &which[0])) != SY_OK) return s;
        nspec = 1;
    }
    int nm;
    const char *const *methods = sy_run_methods(run, &nm);
    int nsig = sy_run_is_set(run, "sigma0") ? 1 : SWEEP_NS;
    for (int si = 0; s == SY_OK && si < nspec; si++) {
        int structured = which[si];
        const char *sp = spectrum_name(structured);
        qctx c;
        if ((s = ctx_init(&c, run, structured)) != SY_OK) {
            ctx_free(&c);
            break;
        }
        double fstar = -c.lambda1 * c.lambda1 / 4, sigma0_flag = c.sigma0, lr = sy_run_get_double(run, "lr");
        fprintf(stderr, "quartic fig. 2, %s: d = %d, lambda1 = %.4f (f* = %.4f), c_th = %g, %ld steps/setting\n", sp,
                c.d, c.lambda1, fstar, c.c_th, c.steps);
        char title[200], logfile[64], base[64];
        snprintf(title, sizeof title, "Fig. 2, %s B (d = %d, c_th = %g, %ld GD steps, lr %g)", sp, c.d, c.c_th,
                 c.steps, lr);
        sy_plot *pl = sy_plot_new(title, "objective above the optimum, f(w) - f*  (f* = -lambda1^2/4)",
                                  "degree of symmetry #{i : |v_i^T w| < c_th}");
        if (!pl) s = sy_fail(SY_ERR_NOMEM, "quartic: out of memory");
        else sy_plot_log_axes(pl, 1, 0);
        snprintf(logfile, sizeof logfile, "metrics-%s.csv", sp);
        printf("\nFig. 2, %s B (d = %d, %ld steps, lr %g, c_th %g): optimum f* = %.5f\n", sp, c.d, c.steps, lr,
               c.c_th, fstar);
        printf("%-16s %-6s %8s %12s %12s %10s\n", "series", "hyper", "value", "objective", "f - f*", "sym.degree");
        for (int m = 0; s == SY_OK && m < nm; m++) {
            int is_syre = !strncmp(methods[m], "syre", 4);
            for (int sg = 0; s == SY_OK && sg < (is_syre ? nsig : 1); sg++) {
                c.sigma0 = is_syre && nsig > 1 ? SWEEP_SIGMA0[sg] : sigma0_flag;
                char series[64];
                if (is_syre) snprintf(series, sizeof series, "%s s0=%g", methods[m], c.sigma0);
                else snprintf(series, sizeof series, "%s", methods[m]);
                const double *vals;
                int nv = sweep_of(methods[m], &vals);
                double ox[SWEEP_N], oy[SWEEP_N];
                for (int k = 0; s == SY_OK && k < nv; k++) {
                    char label[128];
                    if (!strcmp(methods[m], "none")) snprintf(label, sizeof label, "%s-none", sp);
                    else if (is_syre)
                        snprintf(label, sizeof label, "%s-%s-s%g-%s%g", sp, methods[m], c.sigma0,
                                 hyper_name(methods[m]), vals[k]);
                    else snprintf(label, sizeof label, "%s-%s-%s%g", sp, methods[m], hyper_name(methods[m]), vals[k]);
                    sy_quartic_point r = {0};
                    double gn;
                    if ((s = train_one(run, &c, methods[m], vals[k], label, logfile, &r, &gn, NULL, NULL)) != SY_OK)
                        break;
                    ox[k] = r.objective - fstar;
                    oy[k] = r.diverged ? NAN : r.degree;
                    printf("%-16s %-6s %8g %12.5f %12.5g %10d\n", series, hyper_name(methods[m]), vals[k],
                           r.objective, r.objective - fstar, r.degree);
                    fflush(stdout);
                    char key[96];
                    snprintf(key, sizeof key, "%s [%d] %s", sp, k + 1,
                             !strcmp(methods[m], "none") ? "hyper" : hyper_name(methods[m]));
                    sy_run_summary(run, series, key, vals[k]);
                    snprintf(key, sizeof key, "%s [%d] objective", sp, k + 1);
                    sy_run_summary(run, series, key, r.objective);
                    snprintf(key, sizeof key, "%s [%d] degree_of_symmetry", sp, k + 1);
                    sy_run_summary(run, series, key, oy[k]);
                }
                if (s != SY_OK) break;
                char lab[96];
                if (!strcmp(methods[m], "none")) snprintf(lab, sizeof lab, "plain GD");
                else if (!strcmp(methods[m], "vanilla")) snprintf(lab, sizeof lab, "weight decay, gamma 0.1-10");
                else if (is_syre) snprintf(lab, sizeof lab, "%s sigma0 %g, gamma 0.1-10", methods[m], c.sigma0);
                else if (!strcmp(methods[m], "wfix")) snprintf(lab, sizeof lab, "W-fix, phi 0.001-0.1");
                else if (!strcmp(methods[m], "dropout")) snprintf(lab, sizeof lab, "dropout, p 0.01-0.6");
                else snprintf(lab, sizeof lab, "%s", methods[m]);
                s = sy_plot_series(pl, lab, ox, oy, nv, nv > 1 ? SY_PLOT_LINE_POINTS : SY_PLOT_POINTS);
            }
        }
        if (s == SY_OK) {
            sy_run_summary(run, "none", structured ? "structured f*" : "unstructured f*", fstar);
            snprintf(base, sizeof base, "quartic-fig2-%s", sp);
            s = save_plot(pl, run, base);
        }
        sy_plot_free(pl);
        ctx_free(&c);
    }
    return s;
}

const sy_experiment sy_exp_quartic = {
    .name = "quartic",
    .figure = "Fig. 2",
    .summary = "quartic toy (w^T w)^2 - w^T B w: degree of symmetry vs objective for GD, weight decay, syre, W-fix, "
               "dropout",
    .flags = quartic_flags,
    .run = quartic_run,
    .reproduce_id = "fig2",
    .reproduce = quartic_reproduce,
    .ignores = "data-dir,epochs,batch",
    .quick = "d=200;steps=100000",
    .stops = 1,
};
