/* Feature and neuron collapse in a deep ReLU network (paper Appendix C.3,
 * Figs. 4-5). A 4-layer fully connected network 784-300-300-300-10 with ReLU
 * is trained on MNIST (inputs in [0, 1] multiplied by alpha) with plain SGD,
 * batch 64, once with weight decay gamma toward 0 (vanilla) and once toward a
 * fixed random anchor theta0 at the same gamma (syre). After every epoch the
 * first layer's output is read on a fixed batch of 1000 training images, before
 * the ReLU ("pre") and after it ("post"), and the rank of its covariance is
 * counted (eigenvalues of C / alpha^2 below 1e-4 are zero).
 *
 * `syre run collapse` trains one (gamma, alpha) point for every method
 * (default gamma = 0.1, where vanilla collapses); `syre reproduce fig4`
 * sweeps gamma at alpha = 1 and alpha at gamma = 0.01 (Fig. 4), draws the
 * first-layer spectrum at gamma = 0.01, alpha = 1 (Fig. 5) and sweeps syre's
 * sigma0, which the paper does not state for this figure (at its general
 * default 0.01 the anchor is too small to matter here; this experiment uses
 * 1). Results and choices: docs/results/collapse.md. This file has the flags,
 * settings, model, probe and the training of one point; what `run` and
 * `reproduce` train, record and draw: experiments/collapse_figures.c.
 *
 * The first layer's activations come from a second, evaluation graph of batch
 * 1000 built with the same layer names, so it shares the parameters of the
 * training graph (batch 64) and exposes its pre- and post-activation nodes. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "collapse.h"

static const sy_flag_spec col_flags[] = {
    {"method", "methods to compare: vanilla (decay toward 0), syre (toward theta0), syre-ar, l2init, wfix, none",
     "vanilla,syre", SY_FLAG_METHODS, 0, 0},
    {"gamma",
     "weight decay gamma of `run` (PyTorch's weight_decay, = 2 x the paper's Eq. (2) gamma), on every "
     "parameter incl. biases; default: the collapsed regime",
     "0.1", SY_FLAG_DOUBLE, 0, 100},
    {"alpha", "input scale of `run`: MNIST pixels in [0, 1] are multiplied by alpha", "1", SY_FLAG_DOUBLE, 1e-6, 1e6},
    {"sigma0",
     "syre anchor std x sqrt(fan_in); the paper states none for Figs. 4-5, and at its default 0.01 syre = vanilla "
     "here, so 1 (the initialisation's scale; docs/results/collapse.md); reproduce sweeps it (--sigma0s)",
     "1", SY_FLAG_DOUBLE, 0, 100},
    {"lr", "SGD learning rate, constant, no momentum (the paper gives none)", "0.1", SY_FLAG_DOUBLE, 1e-8, 10},
    {"epochs", "training epochs per method and point (the paper gives none; quick: 3)", "10", SY_FLAG_INT, 1, 100000},
    {"batch", "mini-batch size (paper: 64); the last short batch of an epoch is dropped", "64", SY_FLAG_INT, 1,
     60000},
    {"train-size", "training images used, the first N of MNIST's 60000 (0 = all; quick: 20000)", "0", SY_FLAG_INT, 0,
     60000},
    {"test-size", "test images used, the first N of 10000 (0 = all)", "0", SY_FLAG_INT, 0, 10000},
    {"rank-n", "size of the fixed batch (the first N training images) for the covariance rank (paper: 1000)", "1000",
     SY_FLAG_INT, 10, 10000},
    {"rank-thr", "eigenvalues of the scaled covariance at or below this count as zero (paper: 1e-4)", "1e-4",
     SY_FLAG_DOUBLE, 1e-300, 1},
    {"cov-scale",
     "how the caption's 'scaled by alpha^2' is read: inv-alpha2 (eigenvalues of C / alpha^2, undoing the input "
     "scale), alpha2 (C * alpha^2) or none (C)",
     "inv-alpha2", SY_FLAG_STRING, 0, 0},
    {"gammas", "reproduce: gamma values of the sweep at alpha = --sweep-alpha (Fig. 4 left)",
     "1e-4,1e-3,1e-2,3e-2,1e-1", SY_FLAG_STRING, 0, 0},
    {"alphas", "reproduce: alpha values of the sweep at gamma = --sweep-gamma (Fig. 4 right)", "0.1,0.3,1,3",
     SY_FLAG_STRING, 0, 0},
    {"sigma0s",
     "reproduce: syre's sigma0 values swept at the two collapsed points (largest gamma; smallest alpha) and at "
     "the Fig. 5 point (\"none\": skip)",
     "0.01,0.1,0.3,1", SY_FLAG_STRING, 0, 0},
    {"seeds",
     "reproduce: seeds per setting (--seed, --seed + 1, ...): the table gives mean and std over them, and Fig. 4 "
     "their spread per method (fig4-*-seeds-*)",
     "1", SY_FLAG_INT, 1, COL_MAX_SEEDS},
    {"sweep-alpha", "reproduce: alpha of the gamma sweep and of Fig. 5 (paper: 1)", "1", SY_FLAG_DOUBLE, 1e-6, 1e6},
    {"sweep-gamma", "reproduce: gamma of the alpha sweep and of Fig. 5 (paper: 0.01)", "0.01", SY_FLAG_DOUBLE, 0,
     100},
    {"threads", "CPU threads (0 = all cores), same results at any count; 1: a batch-64 step gains from a 2nd only "
     "on a real core (docs/bench.md)", "1", SY_FLAG_INT, 0, 4096},
    {NULL, NULL, NULL, 0, 0, 0},
};

const char *const col_names[COL_NV] = {"gamma",     "alpha",     "sigma0",    "epoch",      "loss",
                                       "train_loss", "train_acc", "test_loss", "test_acc",   "rank_pre",
                                       "rank_post",  "dead_units", "anchor_rank_pre", "anchor_rank_post"};
const char *const col_curves[COL_NH] = {"train_acc", "test_acc", "rank_pre", "rank_post"};

static double cov_scale(const col_cfg *c, double alpha)
{
    return c->scale_mode == 0 ? 1.0 / (alpha * alpha) : c->scale_mode == 1 ? alpha * alpha : 1.0;
}

/* ---- Settings ------------------------------------------------------------- */

sy_status col_cfg_load(sy_run *run, col_cfg *c)
{
    memset(c, 0, sizeof *c);
    c->lr = sy_run_get_double(run, "lr");
    c->sigma0 = sy_run_get_double(run, "sigma0");
    c->eps = sy_run_get_double(run, "eps");
    c->thr = sy_run_get_double(run, "rank-thr");
    c->epochs = sy_run_get_int(run, "epochs");
    c->batch = sy_run_get_int(run, "batch");
    c->rank_n = (int)sy_run_get_int(run, "rank-n");
    c->seed = sy_run_seed(run);
    c->nseeds = (int)sy_run_get_int(run, "seeds");
    c->methods = sy_run_methods(run, &c->nm);
    const char *const scales[3] = {"inv-alpha2", "alpha2", "none"}; /* the order of scale_mode */
    sy_status s = sy_run_get_choice(run, "cov-scale", 3, scales, &c->scale_mode);
    if (s != SY_OK) return s;
    if (c->nm > COL_MAX_METHODS) return sy_fail(SY_ERR_ARG, "collapse: --method: at most %d methods", COL_MAX_METHODS);
    for (int m = 0; m < c->nm; m++) {
        sy_decay d;
        if (!strcmp(c->methods[m], "dropout"))
            return sy_fail(SY_ERR_ARG,
                           "collapse: --method dropout is not supported here (the paper compares vanilla and syre)");
        if (sy_decay_parse(c->methods[m], 1.0f, (float)c->sigma0, (float)c->eps, &d) != SY_OK)
            return sy_fail(SY_ERR_ARG, "collapse: --method: '%s' is not supported here", c->methods[m]);
    }
    if ((s = sy_run_get_numbers(run, "gammas", 0, 0, HUGE_VAL, c->gammas, COL_MAX_SWEEP, &c->ng)) != SY_OK) return s;
    if ((s = sy_run_get_numbers(run, "alphas", 0, 1, HUGE_VAL, c->alphas, COL_MAX_SWEEP, &c->na)) != SY_OK) return s;
    if (strcmp(sy_run_get_str(run, "sigma0s"), "none") != 0 &&
        (s = sy_run_get_numbers(run, "sigma0s", 0, 1, HUGE_VAL, c->sigma0s, COL_MAX_SWEEP, &c->ns)) != SY_OK)
        return s;
    /* The network reads COL_IN = 28*28 values per image; the output has 10 classes. */
    const sy_data_contract want = {"collapse", 1, 28, 28, COL_OUT, 1};
    const char *dir = sy_run_data_dir(run);
    long ntrain = sy_run_get_int(run, "train-size"), ntest = sy_run_get_int(run, "test-size");
    if ((s = sy_dataset_load_n(dir, "mnist", "train", ntrain, 0, &want, &c->train)) != SY_OK ||
        (s = sy_dataset_load_n(dir, "mnist", "test", ntest, 0, &want, &c->test)) != SY_OK)
        return s;
    if ((size_t)c->rank_n > c->train->n)
        return sy_fail(SY_ERR_ARG, "collapse: --rank-n %d exceeds the %zu training images used (--train-size)",
                       c->rank_n, c->train->n);
    if ((size_t)c->batch > c->train->n)
        return sy_fail(SY_ERR_ARG, "collapse: --batch %ld exceeds the %zu training images used", c->batch,
                       c->train->n);
    return SY_OK;
}

void col_cfg_free(col_cfg *c)
{
    sy_dataset_free(c->train);
    sy_dataset_free(c->test);
}

/* ---- Model and its first-layer probe ------------------------------------------ */

/* x [N,784] -> fc1 -> (pre) relu (post) -> fc2 -> relu -> fc3 -> relu -> fc4;
 * the evaluation graph keeps pre and post in taps[2]. */
static sy_var build_net(void *taps, sy_graph *g, sy_var x, int eval)
{
    sy_var h = sy_linear(g, x, "fc1", COL_H), *t = taps;
    if (eval) t[0] = h;
    h = sy_relu(g, h);
    if (eval) t[1] = h;
    h = sy_relu(g, sy_linear(g, h, "fc2", COL_H));
    h = sy_relu(g, sy_linear(g, h, "fc3", COL_H));
    return sy_linear(g, h, "fc4", COL_OUT);
}

/* Under mpirun the training graph holds this rank's share of each batch. */
sy_status col_model_new(col_model *m, const col_cfg *c)
{
    return sy_classifier_new(&m->k, sy_shape_of(1, COL_IN), (int)c->batch / sy_dist_size(), c->rank_n, build_net,
                             m->taps);
}

/* One (gamma, alpha, sigma0, method) point in training: what its evaluations and callbacks need. */
typedef struct {
    sy_run *run;
    const col_cfg *c;
    col_model *m;
    col_result *r;
    const char *label; /* its rows' method column */
    double alpha;
    sy_results *h; /* NULL: no curves kept */
    int hs;
} col_fit;

/* Inputs are MNIST pixels times alpha. */
static void scale_inputs(void *alpha, float *x, size_t n) { sy_data_scale(x, n * COL_IN, (float)*(double *)alpha); }

/* First-layer spectra (pre and post ReLU) on the fixed batch, their ranks and
 * the dead units of layer 1, into f->r. */
static sy_status eval_first_layer(void *ctx)
{
    const col_fit *f = ctx;
    const col_cfg *c = f->c;
    col_model *m = f->m;
    col_result *r = f->r;
    double alpha = f->alpha, sc = cov_scale(c, alpha);
    float *x = sy_graph_data(m->k.eval, m->k.ex);
    memcpy(x, c->train->x, (size_t)c->rank_n * COL_IN * sizeof *x);
    scale_inputs(&alpha, x, (size_t)c->rank_n);
    const float *pre = sy_graph_data(m->k.eval, m->taps[0]), *post = sy_graph_data(m->k.eval, m->taps[1]);
    sy_status s = sy_graph_forward(m->k.eval);
    if (s == SY_OK) s = sy_cov_spectrum_scaled(pre, c->rank_n, COL_H, sc, r->eig_pre);
    if (s == SY_OK) s = sy_cov_spectrum_scaled(post, c->rank_n, COL_H, sc, r->eig_post);
    if (s != SY_OK) return s;
    r->v[V_RANK_PRE] = sy_spectrum_count_above(r->eig_pre, COL_H, c->thr);
    r->v[V_RANK_POST] = sy_spectrum_count_above(r->eig_post, COL_H, c->thr);
    int dead = 0;
    s = sy_dead_units_act(post, c->rank_n, COL_H, 0.0f, &dead, NULL);
    r->v[V_DEAD] = dead;
    return s;
}

/* Train and test loss and accuracy, then the first-layer probe. */
static sy_status eval_all(col_fit *f)
{
    const sy_classifier *k = &f->m->k;
    double *v = f->r->v;
    sy_status s = sy_eval_classifier(k->eval, k->ex, k->elogits, f->c->train, scale_inputs, &f->alpha,
                                     &v[V_TRAIN_LOSS], &v[V_TRAIN_ACC]);
    if (s == SY_OK)
        s = sy_eval_classifier(k->eval, k->ex, k->elogits, f->c->test, scale_inputs, &f->alpha, &v[V_TEST_LOSS],
                               &v[V_TEST_ACC]);
    return s == SY_OK ? eval_first_layer(f) : s;
}

/* ---- Training one (gamma, alpha, method) point ----------------------------- */

static sy_status col_on_batch(void *ctx, size_t n)
{
    col_fit *f = ctx;
    scale_inputs(&f->alpha, sy_graph_data(f->m->k.train, f->m->k.x), n);
    return SY_OK;
}

/* On resume: the curves of the epochs trained before, from the rows of this
 * (gamma, alpha, sigma0) that metrics.csv already holds (rows still buffered
 * when a run was killed are lost; those epochs stay NaN and are not drawn). */
static sy_status col_on_resume(void *ctx, const sy_train_pos *pos)
{
    col_fit *f = ctx;
    (void)pos;
    return f->h ? sy_results_read_rows(f->h, f->run, NULL, f->label, 3, col_names, f->r->v, f->hs, "epoch") : SY_OK;
}

/* At an epoch's end: evaluate, keep the curves, log the row. */
static sy_status col_on_epoch(void *ctx, long epoch, double loss)
{
    col_fit *f = ctx;
    double *v = f->r->v;
    sy_status s = eval_all(f);
    v[V_EPOCH] = (double)epoch;
    v[V_LOSS] = loss;
    if (s == SY_OK && f->h) s = sy_results_set_pick(f->h, f->hs, (int)epoch - 1, COL_NV, col_names, v);
    return s == SY_OK ? sy_run_log(f->run, f->label, epoch, V_DEAD + 1, col_names, v) : s;
}

sy_status col_train_point(sy_run *run, const col_cfg *c, col_model *m, const col_point *p, col_result *r,
                          sy_results *h, int hs)
{
    const char *method = p->method, *tag = p->tag;
    int anchored = strncmp(method, "syre", 4) == 0;
    memset(r, 0, sizeof *r);
    r->v[V_GAMMA] = p->gamma;
    r->v[V_ALPHA] = p->alpha;
    r->v[V_SIGMA0] = anchored ? p->sigma0 : 0.0; /* as logged: 0 for methods without a random anchor */
    r->v[V_ANCHOR_PRE] = r->v[V_ANCHOR_POST] = NAN;
    sy_status s = sy_params_init(m->k.ps, p->seed);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = (float)c->lr;
    o.seed = p->seed;
    sy_optimizer *opt = NULL;
    if (s == SY_OK)
        s = sy_optimizer_for_method(m->k.ps, o, method, (float)p->gamma, (float)p->sigma0, (float)c->eps, &opt);
    col_fit f = {run, c, m, r, p->label ? p->label : method, p->alpha, h, hs};
    if (s == SY_OK && anchored) { /* the anchor network alone: syre's ranks are read against its own */
        col_result ar;
        col_fit af = f;
        af.r = &ar;
        s = sy_optimizer_eval_at_anchor(opt, m->k.ps, NULL, eval_first_layer, &af);
        r->v[V_ANCHOR_PRE] = ar.v[V_RANK_PRE];
        r->v[V_ANCHOR_POST] = ar.v[V_RANK_POST];
    }
    sy_batcher_opts bo = {.batch = (size_t)c->batch, .shuffle = 1, .drop_last = 1, .seed = p->seed};
    sy_batcher *b = NULL;
    if (s == SY_OK) s = sy_batcher_new(c->train, bo, &b);
    char ck[4200], label[192];
    snprintf(label, sizeof label, "collapse %s%s%s", tag ? tag : "", tag ? " " : "", method);
    sy_fit_opts fo = sy_fit_defaults();
    fo.graph = m->k.train, fo.loss = m->k.loss, fo.params = m->k.ps, fo.opt = opt;
    fo.batcher = b, fo.x = m->k.x, fo.y = m->k.y, fo.epochs = c->epochs;
    fo.control = sy_run_control(run), fo.ckpt = sy_run_ckpt_path(run, tag, method, ck, sizeof ck);
    fo.resume = sy_run_get_bool(run, "resume");
    fo.label = label;
    fo.ctx = &f, fo.on_batch = col_on_batch, fo.on_epoch = col_on_epoch, fo.on_resume = col_on_resume;
    sy_fit_result fr;
    if (s == SY_OK) s = sy_fit(&fo, &fr);
    if (s == SY_OK && fr.epochs_trained == 0) s = eval_all(&f); /* finished earlier: re-evaluate */
    sy_batcher_free(b);
    sy_optimizer_free(opt);
    return s;
}

const sy_experiment sy_exp_collapse = {
    .name = "collapse",
    .figure = "Figs. 4-5",
    .summary = "4-layer ReLU FCN on MNIST: vanilla weight decay collapses the first layer's covariance rank and "
               "accuracy at large gamma / small alpha; syre keeps them",
    .flags = col_flags,
    .run = col_run,
    .reproduce_id = "fig4,fig5",
    .reproduce = col_reproduce,
    .data_parallel = 1,
    .quick = "epochs=3;train-size=20000",
    .stops = 1,
};
