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
 * point measures and one setting's figures. Fig. 2's sweeps (`syre
 * reproduce fig2`) are in quartic_fig2.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

#include "quartic.h"

#define Q_MAX_METHODS 8 /* the parser drops repeated methods: at most 7 */

static const qmethod METHODS[] = {
    {"none", "-", "plain GD", 1, {0}},
    {"vanilla", "gamma", "weight decay, gamma 0.1-10", SWEEP_N, {0.1, 0.2, 0.5, 1, 2, 5, 10}},
    {"wfix", "phi", "W-fix, phi 0.001-0.1", SWEEP_N, {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1}},
    {"dropout", "p", "dropout, p 0.01-0.6", SWEEP_N, {0.01, 0.02, 0.05, 0.1, 0.2, 0.4, 0.6}},
    {NULL, "gamma", NULL, SWEEP_N, {0.1, 0.2, 0.5, 1, 2, 5, 10}}, /* syre, syre-ar, l2init */
};

const qmethod *quartic_method(const char *method)
{
    const qmethod *q = METHODS;
    while (q->method && strcmp(q->method, method)) q++;
    return q;
}

/* The value of a method's hyperparameter in a single run. */
static double run_hyper(sy_run *run, const char *method)
{
    return strcmp(method, "none") ? sy_run_get_double(run, quartic_method(method)->hyper) : 0;
}

const char *const quartic_spectra[2] = {"unstructured", "structured"};

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

sy_status quartic_ctx_init(qctx *c, sy_run *run, int structured)
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

void quartic_ctx_free(qctx *c)
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
    double h;
    sy_quartic_point r;
} qtrain;

static sy_status q_step(void *ctx, long t) { return sy_quartic_gd_step(((qtrain *)ctx)->q, t); }

static sy_status q_log(void *ctx, long t, int replay, int *stop, char *note, size_t note_size)
{
    qtrain *k = ctx;
    const qctx *c = k->c;
    sy_quartic_measure(c->B, c->V, c->d, sy_quartic_gd_w(k->q), c->c_th, &k->r);
    const char *names[4] = {"objective", "degree_of_symmetry", "w_norm", "hyper"};
    double vals[4] = {k->r.objective, k->r.degree, k->r.wnorm, k->h};
    /* A finished run resumed only measures: its last row is logged. */
    sy_status s = replay ? SY_OK : sy_run_log_to(k->run, k->logfile, k->label, t, 4, names, vals);
    *stop = k->r.diverged;
    snprintf(note, note_size, "f %.4g  sym %d", k->r.objective, k->r.degree);
    return s;
}

sy_status quartic_train_one(sy_run *run, const qctx *c, const char *method, double h, const char *label,
                            const char *logfile, sy_quartic_point *res, double *gnorm)
{
    sy_quartic_gd_opts o = {.B = c->B, .d = c->d, .diagonal = c->structured, .lr = sy_run_get_double(run, "lr"),
                            .init_scale = sy_run_get_double(run, "init-scale"),
                            .dropout = !strcmp(method, "dropout") ? h : 0, .seed = sy_run_seed(run)};
    qtrain k = {.run = run, .c = c, .label = label, .logfile = logfile, .h = h};
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

static sy_status quartic_run(sy_run *run)
{
    int structured = 0;
    sy_status s = sy_run_get_choice(run, "spectrum", 2, quartic_spectra, &structured);
    if (s != SY_OK) return s;
    qctx c;
    if ((s = quartic_ctx_init(&c, run, structured)) != SY_OK) {
        quartic_ctx_free(&c);
        return s;
    }
    const char *sp = quartic_spectra[structured];
    double fstar = -c.lambda1 * c.lambda1 / 4, lr = sy_run_get_double(run, "lr");
    int nm;
    const char *const *methods = sy_run_methods(run, &nm);
    sy_quartic_point res[Q_MAX_METHODS] = {0};
    fprintf(stderr, "quartic: %s spectrum, d = %d, lambda1 = %.4f (optimum f* = %.4f), c_th = %g, %ld steps\n", sp,
            c.d, c.lambda1, fstar, c.c_th, c.steps);
    for (int m = 0; s == SY_OK && m < nm; m++) {
        double h = run_hyper(run, methods[m]), gn;
        if ((s = quartic_train_one(run, &c, methods[m], h, methods[m], NULL, &res[m], &gn)) != SY_OK) break;
        sy_run_summary_settingf(run, methods[m], quartic_method(methods[m])->hyper, "%g", h);
        const char *keys[5] = {"objective", "degree_of_symmetry", "objective - optimum", "w_norm",
                               "grad_norm (f only)"};
        double v[5] = {res[m].objective, res[m].degree, res[m].objective + c.lambda1 * c.lambda1 / 4, res[m].wnorm,
                       gn};
        sy_run_summaries(run, methods[m], 5, keys, v);
    }
    if (s == SY_OK) { /* every method's logged curves, and where each ended */
        char title[160], lab[Q_MAX_METHODS][96];
        const char *labels[Q_MAX_METHODS];
        for (int m = 0; m < nm; m++) {
            snprintf(lab[m], sizeof lab[m], "%s (%s %g)", methods[m], quartic_method(methods[m])->hyper,
                     run_hyper(run, methods[m]));
            if (!strcmp(methods[m], "none")) snprintf(lab[m], sizeof lab[m], "plain GD");
            labels[m] = lab[m];
        }
        sy_plot_opts o = {.title = title, .xlabel = "GD step", .ylabel = "f(w) = (w^T w)^2 - w^T B w"};
        snprintf(title, sizeof title, "Quartic toy, %s B, d = %d: objective", sp, c.d);
        sy_plot *p = sy_plot_run_curves_new(run, &o, NULL, "step", "objective", nm, methods, labels, NULL);
        s = sy_plot_save_run(p, run, "quartic-objective");
        snprintf(title, sizeof title, "Quartic toy, %s B, d = %d: degree of symmetry (c_th = %g)", sp, c.d, c.c_th);
        o.ylabel = "#{i : |v_i^T w| < c_th}";
        p = sy_plot_run_curves_new(run, &o, NULL, "step", "degree_of_symmetry", nm, methods, labels, NULL);
        if (s == SY_OK) s = sy_plot_save_run(p, run, "quartic-symmetry");
        else sy_plot_free(p);
        snprintf(title, sizeof title, "Quartic toy, %s B, d = %d: final solutions", sp, c.d);
        sy_plot *psc = sy_plot_new(title, "objective f(w)", "degree of symmetry");
        for (int m = 0; psc && s == SY_OK && m < nm; m++) {
            double ox = res[m].objective, oy = res[m].degree;
            s = sy_plot_series(psc, labels[m], &ox, &oy, 1, SY_PLOT_POINTS);
        }
        if (s == SY_OK) s = sy_plot_save_run(psc, run, "quartic-scatter");
        else sy_plot_free(psc);
    }
    if (s == SY_OK) {
        printf("\nquartic (%s, d = %d, %ld steps, lr %g, c_th %g): optimum f* = -lambda1^2/4 = %.4f\n", sp, c.d,
               c.steps, lr, c.c_th, fstar);
        printf("%-10s %-6s %10s %12s %10s\n", "method", "hyper", "value", "objective", "sym.degree");
        for (int m = 0; m < nm; m++)
            printf("%-10s %-6s %10g %12.5f %10d\n", methods[m], quartic_method(methods[m])->hyper,
                   run_hyper(run, methods[m]), res[m].objective, res[m].degree);
    }
    quartic_ctx_free(&c);
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
