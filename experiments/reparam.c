/* Reparametrised linear regression (paper Appendix C.2, Fig. 3 right):
 * l(u, w) = ((u * w)^T x - y)^2 with u, w, x in R^200. Every pair (u_i, w_i)
 * has a rescaling symmetry, and u_i = w_i = 0 is a low-capacity state (a
 * "dead" neuron) from which gradient descent cannot leave. Weight decay
 * toward zero drives the pairs that the teacher does not need into that
 * state; W-fix (a fraction of entries frozen at random values) only spares
 * the pairs it freezes; syre, whose decay pulls toward a random anchor, keeps
 * every pair away from it.
 *
 * The paper gives only d = 200, SGD and W-fix's phi = 0.3, kappa = 0.01; the
 * rest (docs/results/reparam.md) is ours and identical for every method: a
 * sparse teacher (sy_regression), u, w ~ N(0, 0.5^2) with fan_in 1 (so
 * syre's anchor std is sigma0 itself), plain SGD. A neuron i is dead when
 * |u_i|, |w_i| <= 1e-6, well between vanilla's dead pairs (1e-40 and below)
 * and syre's closest pair (~5e-5). Each run takes seconds: no checkpoints. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

#include "reparam.h"

static const sy_flag_spec reparam_flags[] = {
    {"dim", "dimension d of u, w and x (paper: 200)", "200", SY_FLAG_INT, 1, 100000},
    {"support", "teacher support size k: nonzero N(0,1) entries of beta* (<= dim)", "20", SY_FLAG_INT, 0, 100000},
    {"noise", "label noise std: y = beta*^T x + noise * N(0,1)", "0.1", SY_FLAG_DOUBLE, 0, 1000},
    {"samples", "training-set size N (x ~ N(0, I)); the test set has as many", "1000", SY_FLAG_INT, 1, 10000000},
    {"steps", "SGD steps per method (quick: 5000)", "20000", SY_FLAG_INT, 1, 1000000000},
    {"init-std", "init u_i, w_i ~ N(0, init-std^2), same draw for every method", "0.5", SY_FLAG_DOUBLE, 1e-6, 100},
    {"dead-thr", "neuron i is dead when |u_i| <= thr and |w_i| <= thr", "1e-6", SY_FLAG_DOUBLE, 0, 1},
    {"log-every", "evaluate loss and dead neurons every N steps (quick: 25)", "100", SY_FLAG_INT, 1, 1000000000},
    {"wfix-frac", "W-fix: fraction phi of the entries of u and of w held fixed", "0.3", SY_FLAG_DOUBLE, 0, 1},
    {"wfix-kappa", "W-fix: variance kappa of the fixed values", "0.01", SY_FLAG_DOUBLE, 0, 100},
    {"method", "methods: vanilla (weight decay to 0), wfix (W-fix + weight decay), syre, syre-ar, l2init, none",
     "vanilla,wfix,syre", SY_FLAG_METHODS, 0, 0},
    {"lr", "SGD learning rate (no momentum)", "0.05", SY_FLAG_DOUBLE, 1e-9, 10},
    {"batch", "SGD batch size", "32", SY_FLAG_INT, 1, 10000000},
    {"gamma", "weight decay as PyTorch's weight_decay (gamma_eq2 = gamma/2), the same for every method", "0.1",
     SY_FLAG_DOUBLE, 0, 1000},
    {"sigma0", "syre anchor std (absolute: u and w have fan_in 1)", "0.01", SY_FLAG_DOUBLE, 0, 100},
    {NULL, NULL, NULL, 0, 0, 0},
};

void rp_config(sy_run *run, rp_cfg *c)
{
    c->d = (int)sy_run_get_int(run, "dim");
    c->k = (int)sy_run_get_int(run, "support");
    c->n = (int)sy_run_get_int(run, "samples");
    c->batch = (int)sy_run_get_int(run, "batch");
    c->steps = sy_run_get_int(run, "steps");
    c->log_every = (int)sy_run_get_int(run, "log-every");
    c->noise = sy_run_get_double(run, "noise");
    c->init_std = sy_run_get_double(run, "init-std");
    c->dead_thr = sy_run_get_double(run, "dead-thr");
    c->lr = sy_run_get_double(run, "lr");
    c->gamma = sy_run_get_double(run, "gamma");
    c->sigma0 = sy_run_get_double(run, "sigma0");
    c->eps = sy_run_get_double(run, "eps");
    c->wfix_frac = sy_run_get_double(run, "wfix-frac");
    c->wfix_kappa = sy_run_get_double(run, "wfix-kappa");
    c->seed = sy_run_seed(run);
}

sy_status rp_data(const rp_cfg *c, sy_regression **D)
{
    if (c->k > c->d) return sy_fail(SY_ERR_ARG, "reparam: --support %d exceeds --dim %d", c->k, c->d);
    if (c->batch > c->n) return sy_fail(SY_ERR_ARG, "reparam: --batch %d exceeds --samples %d", c->batch, c->n);
    return sy_regression_new((size_t)c->d, (size_t)c->k, (size_t)c->n, (size_t)c->n, (float)c->noise, c->seed, D);
}

/* pred = sum_i u_i w_i x_i for a [b, d] batch; loss = mean (pred - y)^2. */
static sy_status rp_net_build(sy_params *ps, int b, int d, double init_std, rp_net *m)
{
    m->g = sy_graph_new(ps);
    if (!m->g) return sy_fail(SY_ERR_NOMEM, "reparam: out of memory");
    sy_init init = {SY_INIT_NORMAL_FANIN, (float)init_std};
    m->x = sy_input(m->g, "x", sy_shape_of(2, b, d));
    m->y = sy_input(m->g, "y", sy_shape_of(1, b));
    sy_var u = sy_param_new(m->g, "u", sy_shape_of(2, 1, d), 1, init, 1);
    sy_var w = sy_param_new(m->g, "w", sy_shape_of(2, 1, d), 1, init, 1);
    sy_var pred = sy_sum_axis(m->g, sy_mul(m->g, m->x, sy_mul(m->g, u, w)), 1);
    m->loss = sy_mse(m->g, pred, m->y, SY_REDUCE_MEAN);
    return sy_graph_compile(m->g);
}

/* ---- one method ------------------------------------------------------------ */

static sy_status rp_decay(const rp_cfg *c, const char *method, sy_decay *out)
{
    if (strcmp(method, "dropout") == 0)
        return sy_fail(SY_ERR_ARG, "reparam: method 'dropout' does not apply (the model has no layer to drop); "
                                   "use vanilla, wfix, syre, syre-ar, l2init or none");
    sy_status s = sy_decay_parse(method, (float)c->gamma, (float)c->sigma0, (float)c->eps, out);
    if (s != SY_OK) return s;
    if (strcmp(method, "wfix") == 0) out->wfix_frac = (float)c->wfix_frac, out->wfix_kappa = (float)c->wfix_kappa;
    return SY_OK;
}

void rp_method_free(rp_method *M)
{
    sy_optimizer_free(M->opt), sy_batcher_free(M->bt), sy_graph_free(M->tr.g), sy_graph_free(M->ev.g);
    sy_params_free(M->ps);
    free(M->deadmask);
}

/* Training loss on the whole training set, dead neurons and the smallest
 * pair after t steps: one row of the curves when logging. The last call
 * leaves the final state. */
static sy_status rp_observe(rp_method *M, long t)
{
    const rp_cfg *c = M->c;
    const rp_net *e = &M->ev;
    sy_status s = sy_eval_loss(e->g, e->x, M->D->train->x, e->y, M->D->y, e->loss, &M->train_loss);
    /* Views of u and w, fetched again before each read: on a device
     * (--device cuda) a pointer kept across training steps goes stale. */
    const float *U = sy_params_tensor(M->ps, sy_params_find(M->ps, "u"));
    const float *W = sy_params_tensor(M->ps, sy_params_find(M->ps, "w"));
    if (s == SY_OK)
        s = sy_dead_units_param(U, c->d, 1, NULL, W, 1, (float)c->dead_thr, &M->dead_units, M->deadmask);
    if (s == SY_OK) s = sy_dead_units_margin(U, c->d, 1, NULL, W, 1, &M->min_pair);
    if (s != SY_OK) return s;
    if (M->dead_units > 0 && M->first_dead_step < 0) M->first_dead_step = (int)t;
    if (M->dead_units > M->max_dead) M->max_dead = M->dead_units;
    M->min_pair_ever = fmin(M->min_pair_ever, M->min_pair);
    if (!M->run) return SY_OK;
    const char *names[3] = {"train_loss", "dead_units", "min_pair_norm"};
    double vals[3] = {M->train_loss, M->dead_units, M->min_pair};
    return sy_run_log(M->run, M->label, t, 3, names, vals);
}

/* The batcher filled the inputs; the targets follow the same indices. */
static sy_status rp_on_batch(void *ctx, size_t n)
{
    rp_method *M = ctx;
    sy_regression_targets(M->D, M->bt, n, sy_graph_data(M->tr.g, M->tr.y));
    return SY_OK;
}

/* sy_fit trains whole epochs and the step budget ends inside one: the step
 * callback ends the loop there with SY_ERR_STOPPED, which nothing else in
 * this loop returns (it has no run, hence no stop request, and no
 * checkpoint). */
static sy_status rp_on_step(void *ctx, sy_fit_state *st)
{
    rp_method *M = ctx;
    long t = st->step + 1;
    sy_status s = SY_OK;
    if (t % M->c->log_every == 0 || t == M->c->steps) s = rp_observe(M, t);
    return s == SY_OK && t == M->c->steps ? SY_ERR_STOPPED : s;
}

sy_status rp_train(rp_method *M, const char *method)
{
    const rp_cfg *c = M->c;
    sy_decay decay;
    sy_status s = rp_decay(c, method, &decay);
    if (s != SY_OK) return s;
    int d = c->d;
    M->ps = sy_params_new();
    M->deadmask = malloc((size_t)d);
    if (!M->ps || !M->deadmask) return sy_fail(SY_ERR_NOMEM, "reparam: out of memory");
    /* Batches without replacement from a per-epoch shuffle (the short last
     * one dropped); under mpirun each rank trains on its contiguous shard of
     * every global batch (the graph holds that many rows), the optimizer
     * averages. */
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = (size_t)c->batch, bo.drop_last = 1, bo.seed = c->seed;
    if ((s = sy_batcher_new(M->D->train, bo, &M->bt)) != SY_OK) return s;
    if ((s = rp_net_build(M->ps, (int)sy_batcher_local_batch(M->bt), d, c->init_std, &M->tr)) != SY_OK) return s;
    if ((s = rp_net_build(M->ps, c->n, d, c->init_std, &M->ev)) != SY_OK) return s;
    if ((s = sy_params_init(M->ps, c->seed)) != SY_OK) return s;
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = (float)c->lr, o.decay = decay, o.seed = c->seed;
    if (!(M->opt = sy_optimizer_new(M->ps, &o))) return SY_ERR_ARG;
    M->first_dead_step = -1;
    M->min_pair_ever = INFINITY;
    if ((s = rp_observe(M, 0)) != SY_OK) return s;
    char plabel[112];
    snprintf(plabel, sizeof plabel, "reparam %s", M->label);
    long nb = (long)sy_batcher_num_batches(M->bt);
    sy_fit_opts fo = sy_fit_defaults();
    fo.graph = M->tr.g, fo.loss = M->tr.loss, fo.params = M->ps, fo.opt = M->opt;
    fo.batcher = M->bt, fo.x = M->tr.x, fo.epochs = (c->steps + nb - 1) / nb, fo.label = plabel;
    fo.ctx = M, fo.on_batch = rp_on_batch, fo.on_step = rp_on_step;
    if ((s = sy_fit(&fo, NULL)) != SY_ERR_STOPPED) return s; /* failed: the budget always ends in rp_on_step */

    /* the final state, observed at the last step: dead neurons on the teacher's support, and off it */
    for (int i = 0; i < d; i++) M->dead_on += M->deadmask[i] && M->D->w[i] != 0.0f;
    M->dead_off = M->dead_units - M->dead_on;
    return sy_eval_loss(M->ev.g, M->ev.x, M->D->x_test, M->ev.y, M->D->y_test, M->ev.loss, &M->test_loss);
}

/* ---- run: every method on one seed, and its plots ------------------------------ */

#define RP_FLOOR 1e-12    /* log-plot floor of the pairs scatter */
#define RP_MAX_METHODS 8 /* the parser drops repeated methods: at most 7 */

static sy_status rp_plots(sy_run *run, const rp_cfg *c, const char *const *methods, int nm, const rp_method *R)
{
    char title[256], lab[64];
    sy_plot_style st[RP_MAX_METHODS];
    for (int m = 0; m < nm; m++) /* syre's curve is dashed: vanilla's nearly equal loss stays visible under it */
        st[m] = strncmp(methods[m], "syre", 4) == 0 ? SY_PLOT_DASHED : SY_PLOT_LINE;
    /* the curves, as logged */
    sy_plot_opts o = {.title = "Reparametrised regression (u*w)^T x: training loss", .xlabel = "SGD step",
                      .ylabel = "training loss (MSE, whole training set)"};
    sy_plot *p = sy_plot_run_curves_new(run, &o, NULL, "step", "train_loss", nm, methods, NULL, st);
    if (p) sy_plot_log_axes(p, 0, 1);
    sy_status s = sy_plot_save_run(p, run, "reparam-loss");
    snprintf(title, sizeof title, "Dead neurons (|u_i|, |w_i| <= %g) of %d", c->dead_thr, c->d);
    o = (sy_plot_opts){.title = title, .xlabel = "SGD step", .ylabel = "dead neurons", .ymin = 0, .ymax = c->d};
    p = sy_plot_run_curves_new(run, &o, NULL, "step", "dead_units", nm, methods, NULL, NULL);
    if (s == SY_OK) s = sy_plot_save_run(p, run, "reparam-dead");
    else sy_plot_free(p);
    /* the final pairs */
    snprintf(title, sizeof title, "Final pairs (|u_i|, |w_i|); values below %g drawn at %g", RP_FLOOR, RP_FLOOR);
    p = sy_plot_new(title, "|u_i|", "|w_i|");
    double *au = malloc(sizeof(double) * c->d), *aw = malloc(sizeof(double) * c->d);
    if (s == SY_OK && !(p && au && aw)) s = sy_fail(SY_ERR_NOMEM, "reparam: out of memory");
    for (int m = 0; m < nm && s == SY_OK; m++) {
        /* the trained u and w, read from the store now; dead pairs reach 1e-40
         * and below (or exact zeros, which a log plot drops): draw everything
         * below the floor at the floor */
        const float *u = sy_params_tensor(R[m].ps, sy_params_find(R[m].ps, "u"));
        const float *w = sy_params_tensor(R[m].ps, sy_params_find(R[m].ps, "w"));
        for (int i = 0; i < c->d; i++) au[i] = fmax(fabs(u[i]), RP_FLOOR), aw[i] = fmax(fabs(w[i]), RP_FLOOR);
        s = sy_plot_series(p, methods[m], au, aw, c->d, SY_PLOT_POINTS);
    }
    free(au), free(aw);
    /* the dead region |u_i|, |w_i| <= thr */
    double bx[3] = {RP_FLOOR, c->dead_thr, c->dead_thr}, by[3] = {c->dead_thr, c->dead_thr, RP_FLOOR};
    snprintf(lab, sizeof lab, "dead: both <= %g", c->dead_thr);
    if (s == SY_OK && c->dead_thr > RP_FLOOR) s = sy_plot_series(p, lab, bx, by, 3, SY_PLOT_DASHED);
    if (s != SY_OK) {
        sy_plot_free(p);
        return s;
    }
    sy_plot_log_axes(p, 1, 1);
    return sy_plot_save_run(p, run, "reparam-pairs");
}

static sy_status rp_record(sy_run *run, const char *meth, const rp_cfg *c, const rp_method *R)
{
    sy_run_summary_settingf(run, meth, "gamma (weight_decay)", "%g", c->gamma);
    if (strncmp(meth, "syre", 4) == 0) sy_run_summary_settingf(run, meth, "sigma0", "%g", c->sigma0);
    if (strcmp(meth, "wfix") == 0)
        sy_run_summary_settingf(run, meth, "wfix", "phi %g, kappa %g", c->wfix_frac, c->wfix_kappa);
    const char *keys[9] = {"train_loss", "test_loss", "dead_units", "dead_off_support", "dead_on_support",
                           "first_dead_step", "max_dead_over_time", "min_pair_norm", "min_pair_norm_over_time"};
    double v[9] = {R->train_loss, R->test_loss, R->dead_units, R->dead_off, R->dead_on, R->first_dead_step,
                   R->max_dead, R->min_pair, R->min_pair_ever};
    return sy_run_summaries(run, meth, 9, keys, v);
}

sy_status reparam_run(sy_run *run)
{
    rp_cfg c;
    rp_config(run, &c);
    int nm;
    const char *const *methods = sy_run_methods(run, &nm);
    for (int m = 0; m < nm; m++) { /* refuse unsupported methods before any work */
        sy_decay dd;
        if (rp_decay(&c, methods[m], &dd) != SY_OK) return SY_ERR_ARG;
    }
    sy_regression *D = NULL;
    sy_status s = rp_data(&c, &D);
    rp_method M[RP_MAX_METHODS] = {{0}};
    for (int m = 0; m < nm && s == SY_OK; m++) {
        M[m] = (rp_method){.run = run, .label = methods[m], .c = &c, .D = D};
        if ((s = rp_train(&M[m], methods[m])) == SY_OK) s = rp_record(run, methods[m], &c, &M[m]);
    }
    if (s == SY_OK) s = rp_plots(run, &c, methods, nm, M);
    if (s == SY_OK) /* the numbers are in the final table */
        printf("\nreparam: d = %d, k = %d (%d neurons off the teacher's support), N = %d, %ld SGD steps, lr %g, "
               "batch %d, gamma %g, dead: |u_i|,|w_i| <= %g\n(first_dead_step: first logged step with a dead neuron, "
               "-1 never; max_dead_over_time: most dead at any logged step;\n min_pair_norm_over_time: smallest "
               "max(|u_i|, |w_i|) over neurons and logged steps)\n\n",
               c.d, c.k, c.d - c.k, c.n, c.steps, c.lr, c.batch, c.gamma, c.dead_thr);
    for (int m = 0; m < nm; m++) rp_method_free(&M[m]);
    sy_regression_free(D);
    return s;
}

const sy_experiment sy_exp_reparam = {
    .name = "reparam",
    .figure = "Fig. 3 right",
    .summary = "reparametrised regression (u*w)^T x, d = 200: vanilla and W-fix kill neurons (u_i = w_i = 0), syre none",
    .flags = reparam_flags,
    .run = reparam_run,
    .reproduce_id = "fig3-right",
    .reproduce = reparam_reproduce, /* reparam_sweep.c */
    .no_checkpoint = 1,
    .ignores = "data-dir,epochs",
    .data_parallel = 1,
    .quick = "steps=5000;log-every=25",
};
