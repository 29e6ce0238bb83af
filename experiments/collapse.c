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
 * 1). Results and choices: docs/results/collapse.md.
 *
 * The first layer's activations come from a second, evaluation graph of batch
 * 1000 built with the same layer names, so it shares the parameters of the
 * training graph (batch 64) and exposes its pre- and post-activation nodes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

#define COL_IN 784
#define COL_H 300
#define COL_OUT 10
#define COL_MAX_SWEEP 32
#define COL_MAX_METHODS 8

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
    {"sweep-alpha", "reproduce: alpha of the gamma sweep and of Fig. 5 (paper: 1)", "1", SY_FLAG_DOUBLE, 1e-6, 1e6},
    {"sweep-gamma", "reproduce: gamma of the alpha sweep and of Fig. 5 (paper: 0.01)", "0.01", SY_FLAG_DOUBLE, 0,
     100},
    {"threads", "CPU threads (0 = all cores), same results at any count; 1: a batch-64 step gains from a 2nd only "
     "on a real core (docs/bench.md)", "1", SY_FLAG_INT, 0, 4096},
    {NULL, NULL, NULL, 0, 0, 0},
};

/* ---- Settings and results ------------------------------------------------- */

typedef struct {
    double lr, sigma0, eps, thr;
    long epochs, batch;
    int rank_n;
    int scale_mode; /* index in col_scales: 0 1/alpha^2, 1 alpha^2, 2 1 */
    uint64_t seed;
    int nm;
    const char *const *methods;
    sy_dataset *train, *test; /* the slices actually used */
    double gammas[COL_MAX_SWEEP], alphas[COL_MAX_SWEEP], sigma0s[COL_MAX_SWEEP]; /* reproduce's sweeps */
    int ng, na, ns;                                                             /* ns = 0: --sigma0s none */
} col_cfg;

/* The curves drawn per epoch and per sweep point, as metrics.csv names them. */
enum { H_TRAIN_ACC, H_TEST_ACC, H_RANK_PRE, H_RANK_POST, COL_NH };
static const char *const col_curves[COL_NH] = {"train_acc", "test_acc", "rank_pre", "rank_post"};

typedef struct {
    double train_loss, train_acc, test_loss, test_acc;
    int rank_pre, rank_post, dead;
    int has_anchor, anchor_rank_pre, anchor_rank_post; /* syre: the anchor network's own ranks */
    double eig_pre[COL_H], eig_post[COL_H];             /* final spectra, descending */
    double *h[COL_NH];                                  /* per-epoch curves [epochs] (NaN if not run here) */
} col_result;

typedef struct {
    sy_classifier k; /* evaluation graph: batch --rank-n */
    sy_var taps[2];  /* evaluation graph: the first layer's output before and after its ReLU */
} col_model;

/* --cov-scale's choices, and the eigenvalues each counts */
static const char *const col_scales[3] = {"inv-alpha2", "alpha2", "none"};
static const char *const col_scale_eig[3] = {"eig(C/alpha^2)", "eig(C*alpha^2)", "eig(C)"};

static double cov_scale(const col_cfg *c, double alpha)
{
    return c->scale_mode == 0 ? 1.0 / (alpha * alpha) : c->scale_mode == 1 ? alpha * alpha : 1.0;
}

/* Resolves flags (quick defaults, checks the flags sy_run_parse cannot) and
 * loads the data slices. */
static sy_status cfg_load(sy_run *run, col_cfg *c)
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
    c->methods = sy_run_methods(run, &c->nm);
    const char *sm = sy_run_get_str(run, "cov-scale");
    while (c->scale_mode < 3 && strcmp(sm, col_scales[c->scale_mode]) != 0) c->scale_mode++;
    if (c->scale_mode == 3)
        return sy_fail(SY_ERR_ARG, "collapse: --cov-scale: '%s' is not one of inv-alpha2, alpha2, none", sm);
    if (c->nm > COL_MAX_METHODS) return sy_fail(SY_ERR_ARG, "collapse: --method: at most %d methods", COL_MAX_METHODS);
    for (int m = 0; m < c->nm; m++) {
        sy_decay d;
        if (!strcmp(c->methods[m], "dropout"))
            return sy_fail(SY_ERR_ARG,
                           "collapse: --method dropout is not supported here (the paper compares vanilla and syre)");
        if (sy_decay_parse(c->methods[m], 1.0f, (float)c->sigma0, (float)c->eps, &d) != SY_OK)
            return sy_fail(SY_ERR_ARG, "collapse: --method: '%s' is not supported here", c->methods[m]);
    }
    sy_status s;
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

static void cfg_free(col_cfg *c)
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
static sy_status model_new(col_model *m, const col_cfg *c)
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
    const char *method;
    double gamma, alpha, sigma0; /* sigma0 as logged: 0 for methods without a random anchor */
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
    double alpha = f->alpha;
    float *x = sy_graph_data(m->k.eval, m->k.ex);
    memcpy(x, c->train->x, (size_t)c->rank_n * COL_IN * sizeof *x);
    scale_inputs(&alpha, x, (size_t)c->rank_n);
    sy_status s = sy_graph_forward(m->k.eval);
    if (s != SY_OK) return s;
    const float *pre = sy_graph_data(m->k.eval, m->taps[0]), *post = sy_graph_data(m->k.eval, m->taps[1]);
    double sc = cov_scale(c, alpha);
    if ((s = sy_cov_spectrum(pre, c->rank_n, COL_H, sc, r->eig_pre)) != SY_OK) return s;
    if ((s = sy_cov_spectrum(post, c->rank_n, COL_H, sc, r->eig_post)) != SY_OK) return s;
    r->rank_pre = sy_spectrum_count_above(r->eig_pre, COL_H, c->thr);
    r->rank_post = sy_spectrum_count_above(r->eig_post, COL_H, c->thr);
    return sy_dead_units_act(post, c->rank_n, COL_H, 0.0f, &r->dead, NULL);
}

/* Train and test loss and accuracy, then the first-layer probe. */
static sy_status eval_all(col_fit *f)
{
    const sy_classifier *k = &f->m->k;
    col_result *r = f->r;
    sy_status s = sy_eval_classifier(k->eval, k->ex, k->elogits, f->c->train, scale_inputs, &f->alpha,
                                     &r->train_loss, &r->train_acc);
    if (s == SY_OK)
        s = sy_eval_classifier(k->eval, k->ex, k->elogits, f->c->test, scale_inputs, &f->alpha, &r->test_loss,
                               &r->test_acc);
    return s == SY_OK ? eval_first_layer(f) : s;
}

static void result_free(col_result *r)
{
    free(r->h[0]); /* one block for every curve */
    memset(r->h, 0, sizeof r->h);
}

/* ---- Training one (gamma, alpha, method) point ----------------------------- */

static sy_status col_on_batch(void *ctx, size_t n)
{
    col_fit *f = ctx;
    scale_inputs(&f->alpha, sy_graph_data(f->m->k.train, f->m->k.x), n);
    return SY_OK;
}

/* On resume: the curves of the epochs trained before, from the rows
 * metrics.csv already holds (rows still buffered when a run was killed are
 * lost; those epochs stay NaN and their points are not drawn). */
static sy_status col_on_resume(void *ctx, const sy_train_pos *pos)
{
    col_fit *f = ctx;
    (void)pos;
    const char *const match[3] = {"gamma", "alpha", "sigma0"};
    const double val[3] = {f->gamma, f->alpha, f->sigma0};
    return sy_run_read_rows(f->run, NULL, f->method, 3, match, val, "epoch", COL_NH, col_curves, f->r->h,
                            f->c->epochs);
}

static sy_status col_on_epoch(void *ctx, long epoch, double loss)
{
    col_fit *f = ctx;
    col_result *r = f->r;
    sy_status s = eval_all(f);
    if (s != SY_OK) return s;
    const double now[COL_NH] = {r->train_acc, r->test_acc, r->rank_pre, r->rank_post};
    for (int k = 0; k < COL_NH; k++) r->h[k][epoch - 1] = now[k];
    const char *names[12] = {"gamma",     "alpha",    "sigma0",   "epoch",     "loss",      "train_loss",
                             "train_acc", "test_loss", "test_acc", "rank_pre", "rank_post", "dead_units"};
    double vals[12] = {f->gamma,      f->alpha,     f->sigma0,    (double)epoch, loss,         r->train_loss,
                       r->train_acc,  r->test_loss, r->test_acc,  r->rank_pre,   r->rank_post, r->dead};
    return sy_run_log(f->run, f->method, epoch, 12, names, vals);
}

static sy_status train_point(sy_run *run, const col_cfg *c, col_model *m, double gamma, double alpha,
                             double sigma0, const char *method, const char *tag, col_result *r)
{
    memset(r, 0, sizeof *r);
    if (!(r->h[0] = malloc((size_t)(COL_NH * c->epochs) * sizeof(double))))
        return sy_fail(SY_ERR_NOMEM, "collapse: out of memory");
    for (long e = 0; e < COL_NH * c->epochs; e++) r->h[0][e] = NAN;
    for (int k = 1; k < COL_NH; k++) r->h[k] = r->h[0] + k * c->epochs;
    sy_status s = sy_params_init(m->k.ps, c->seed);
    if (s != SY_OK) return s;
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = (float)c->lr;
    o.seed = c->seed;
    sy_optimizer *opt = NULL;
    if ((s = sy_optimizer_for_method(m->k.ps, o, method, (float)gamma, (float)sigma0, (float)c->eps, &opt)) != SY_OK)
        return s;
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = (size_t)c->batch;
    bo.drop_last = 1;
    bo.seed = c->seed;
    sy_batcher *b = NULL;
    col_fit f = {run, c, m, r, method, gamma, alpha, strncmp(method, "syre", 4) == 0 ? sigma0 : 0.0};
    if (!strncmp(method, "syre", 4)) { /* the anchor network alone: syre's ranks are read against its own */
        col_result ar;
        col_fit af = f;
        af.r = &ar;
        s = sy_optimizer_eval_at_anchor(opt, m->k.ps, NULL, eval_first_layer, &af);
        r->has_anchor = s == SY_OK;
        r->anchor_rank_pre = ar.rank_pre, r->anchor_rank_post = ar.rank_post;
    }
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

/* ---- Records and plots ---------------------------------------------------------- */

/* Final metrics as summary rows; with a prefix (sweep points) only the ones
 * Fig. 4 draws, to keep the table readable. */
static void summarise(sy_run *run, const char *method, const char *prefix, const col_result *r)
{
    char key[128];
    const char *names[7] = {"train_acc", "test_acc", "rank_pre", "rank_post", "train_loss", "test_loss", "dead_units"};
    double vals[7] = {r->train_acc, r->test_acc, r->rank_pre, r->rank_post, r->train_loss, r->test_loss, r->dead};
    for (int i = 0; i < (prefix ? 4 : 7); i++) {
        snprintf(key, sizeof key, "%s%s", prefix ? prefix : "", names[i]);
        sy_run_summary(run, method, key, vals[i]);
    }
    if (!prefix && r->has_anchor) {
        sy_run_summary(run, method, "anchor_rank_pre", r->anchor_rank_pre);
        sy_run_summary(run, method, "anchor_rank_post", r->anchor_rank_post);
    }
}

static void settings(sy_run *run, const col_cfg *c, const char *method, double gamma, double alpha)
{
    sy_run_summary_settingf(run, method, "gamma", "%g", gamma);
    sy_run_summary_settingf(run, method, "alpha", "%g", alpha);
    if (!strncmp(method, "syre", 4)) sy_run_summary_settingf(run, method, "sigma0", "%g", c->sigma0);
    sy_run_summary_settingf(run, method, "training", "SGD lr %g, batch %ld, %ld epochs, %zu train / %zu test images",
                            c->lr, c->batch, c->epochs, c->train->n, c->test->n);
    sy_run_summary_settingf(run, method, "rank", "%s, batch %d, thr %g", col_scale_eig[c->scale_mode], c->rank_n,
                            c->thr);
}

/* A method's final first-layer spectra, one row per eigenvalue. */
static sy_status log_spectra(sy_run *run, const char *method, const col_result *r)
{
    sy_status s = SY_OK;
    const char *nm[2] = {"eig_pre", "eig_post"};
    for (int i = 0; i < COL_H && s == SY_OK; i++) {
        double v[2] = {r->eig_pre[i], r->eig_post[i]};
        s = sy_run_log_to(run, "spectrum.csv", method, i + 1, 2, nm, v);
    }
    return s;
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
 * post dashed) of every method against x[0..n): y[k][m] is method m's curve
 * k (col_curves). file NULL: the per-epoch figures of `run` at point `what`;
 * else Fig. 4's sweep over x (log axis, chance level) at fixed `what`. */
static sy_status plot_acc_rank(sy_run *run, const col_cfg *c, const char *xlabel, const double *x, int n,
                               const double *const y[COL_NH][COL_MAX_METHODS], const char *what, const char *file)
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
                               .suffix = "pre", .suffix2 = "post", .logx = file != NULL, .ymin = 0,
                               .ymax = COL_H + 5};
    sy_status s = sy_plot_sweep(run, name[0], &acc, x, n, c->nm, c->methods, y[H_TRAIN_ACC], y[H_TEST_ACC]);
    return s == SY_OK ? sy_plot_sweep(run, name[1], &rank, x, n, c->nm, c->methods, y[H_RANK_PRE], y[H_RANK_POST])
                      : s;
}

/* ---- run: one (gamma, alpha) point ------------------------------------------- */

static sy_status col_run(sy_run *run)
{
    col_cfg c;
    col_model m = {0};
    col_result res[COL_MAX_METHODS] = {0};
    double gamma = sy_run_get_double(run, "gamma"), alpha = sy_run_get_double(run, "alpha");
    sy_status s = cfg_load(run, &c);
    if (s == SY_OK) s = model_new(&m, &c);
    for (int k = 0; k < c.nm && s == SY_OK; k++) {
        s = train_point(run, &c, &m, gamma, alpha, c.sigma0, c.methods[k], NULL, &res[k]);
        if (s != SY_OK) break;
        settings(run, &c, c.methods[k], gamma, alpha);
        summarise(run, c.methods[k], NULL, &res[k]);
        s = log_spectra(run, c.methods[k], &res[k]);
    }
    char what[96];
    snprintf(what, sizeof what, "gamma=%g alpha=%g", gamma, alpha);
    const double *y[COL_NH][COL_MAX_METHODS];
    for (int k = 0; k < COL_NH; k++)
        for (int i = 0; i < c.nm; i++) y[k][i] = res[i].h[k];
    double *ep = s == SY_OK ? malloc((size_t)c.epochs * sizeof *ep) : NULL;
    if (s == SY_OK && !ep) s = sy_fail(SY_ERR_NOMEM, "collapse: out of memory");
    for (long e = 0; s == SY_OK && e < c.epochs; e++) ep[e] = (double)(e + 1);
    if (s == SY_OK) s = plot_acc_rank(run, &c, "epoch", ep, (int)c.epochs, y, what, NULL);
    if (s == SY_OK) s = plot_spectra(run, &c, res, gamma, alpha, "spectrum");
    if (s == SY_OK)
        fprintf(stderr, "collapse: gamma %g, alpha %g, sigma0 %g, SGD lr %g, %ld epochs on %zu images; plots in %s\n",
                gamma, alpha, c.sigma0, c.lr, c.epochs, c.train->n, sy_run_dir(run));
    free(ep);
    for (int k = 0; k < COL_MAX_METHODS; k++) result_free(&res[k]);
    sy_classifier_free(&m.k);
    cfg_free(&c);
    return s;
}

/* ---- reproduce: the sweeps of Fig. 4 and the spectrum of Fig. 5 ------------- */

/* A trained (gamma, alpha) point: the results of every method. */
typedef struct {
    double gamma, alpha;
    col_result *res; /* [nm] */
} col_point;

typedef struct {
    col_point pts[2 * COL_MAX_SWEEP + 4];
    int np;
} col_points;

/* Trains point (gamma, alpha) for every method, or finds it trained before. */
static sy_status run_point(sy_run *run, const col_cfg *c, col_model *m, col_points *ps, double gamma, double alpha,
                           col_result **out)
{
    for (int i = 0; i < ps->np; i++)
        if (ps->pts[i].gamma == gamma && ps->pts[i].alpha == alpha) {
            *out = ps->pts[i].res;
            return SY_OK;
        }
    col_point *p = &ps->pts[ps->np++];
    p->gamma = gamma, p->alpha = alpha;
    p->res = calloc((size_t)c->nm, sizeof *p->res);
    if (!p->res) return sy_fail(SY_ERR_NOMEM, "collapse: out of memory");
    char tag[96], prefix[96];
    snprintf(tag, sizeof tag, "g%g-a%g", gamma, alpha);
    snprintf(prefix, sizeof prefix, "g=%g a=%g ", gamma, alpha);
    for (int k = 0; k < c->nm; k++) {
        col_result *r = &p->res[k];
        sy_status s = train_point(run, c, m, gamma, alpha, c->sigma0, c->methods[k], tag, r);
        if (s != SY_OK) return s;
        const char *names[9] = {"gamma",      "alpha",     "train_acc", "test_acc",  "train_loss",
                                "test_loss",  "rank_pre",  "rank_post", "dead_units"};
        double vals[9] = {gamma,          alpha,       r->train_acc, r->test_acc, r->train_loss,
                          r->test_loss,   r->rank_pre, r->rank_post, r->dead};
        if ((s = sy_run_log_to(run, "sweep.csv", c->methods[k], ps->np - 1, 9, names, vals)) != SY_OK) return s;
        summarise(run, c->methods[k], prefix, r);
        fprintf(stderr, "collapse: gamma %-6g alpha %-5g %-8s train %.4f test %.4f rank pre %3d post %3d dead %3d\n",
                gamma, alpha, c->methods[k], r->train_acc, r->test_acc, r->rank_pre, r->rank_post, r->dead);
    }
    *out = p->res;
    return SY_OK;
}

/* Fig. 4: the sweep over --gammas at alpha = fixed, or over --alphas at gamma = fixed. */
static sy_status sweep(sy_run *run, const col_cfg *c, col_model *m, col_points *ps, int over_alpha, double fixed)
{
    const double *x = over_alpha ? c->alphas : c->gammas;
    int n = over_alpha ? c->na : c->ng;
    double *v = malloc((size_t)(COL_NH * c->nm * n) * sizeof *v);
    if (!v) return sy_fail(SY_ERR_NOMEM, "collapse: out of memory");
    sy_status s = SY_OK;
    for (int i = 0; i < n && s == SY_OK; i++) {
        col_result *res;
        s = run_point(run, c, m, ps, over_alpha ? fixed : x[i], over_alpha ? x[i] : fixed, &res);
        for (int k = 0; k < c->nm && s == SY_OK; k++) {
            const double now[COL_NH] = {res[k].train_acc, res[k].test_acc, res[k].rank_pre, res[k].rank_post};
            for (int h = 0; h < COL_NH; h++) v[(h * c->nm + k) * n + i] = now[h];
        }
    }
    const double *y[COL_NH][COL_MAX_METHODS];
    for (int h = 0; h < COL_NH; h++)
        for (int k = 0; k < c->nm; k++) y[h][k] = v + (h * c->nm + k) * n;
    const char *var = over_alpha ? "alpha" : "gamma";
    char what[64], file[64];
    snprintf(what, sizeof what, "%s = %g", over_alpha ? "gamma" : "alpha", fixed);
    snprintf(file, sizeof file, "fig4-%s", var);
    if (s == SY_OK) s = plot_acc_rank(run, c, var, x, n, y, what, file);
    free(v);
    return s;
}

/* syre's sigma0 at npt fixed points (pg[p], pa[p]): test accuracy and
 * first-layer rank against sigma0, with vanilla (= syre at sigma0 0) as a
 * dashed level per point. */
static sy_status sigma0_sweep(sy_run *run, const col_cfg *c, col_model *m, col_points *ps, const double *pg,
                              const double *pa, int npt)
{
    int iv = -1, is = -1, ns = c->ns, step = 0;
    for (int k = 0; k < c->nm; k++) {
        if (!strcmp(c->methods[k], "vanilla")) iv = k;
        if (!strcmp(c->methods[k], "syre")) is = k;
    }
    /* [which][p][j]: which 0 syre's test accuracy, 1 its rank, 2 and 3 vanilla's levels of them */
    double *v = calloc((size_t)(4 * npt * ns), sizeof *v);
    if (!v) return sy_fail(SY_ERR_NOMEM, "collapse: out of memory");
    sy_status s = SY_OK;
    char lab[2][3][128];
    const char *labels[2][3];
    const double *y[4][3];
    for (int p = 0; p < npt && s == SY_OK; p++) {
        col_result *base;
        if ((s = run_point(run, c, m, ps, pg[p], pa[p], &base)) != SY_OK) break;
        for (int j = 0; j < ns && s == SY_OK; j++) {
            col_result r = {0};
            const double s0 = c->sigma0s[j];
            if (is >= 0 && s0 == c->sigma0) {
                r = base[is];
            } else {
                char tag[128];
                snprintf(tag, sizeof tag, "g%g-a%g-s%g", pg[p], pa[p], s0);
                s = train_point(run, c, m, pg[p], pa[p], s0, "syre", tag, &r);
                result_free(&r);
                if (s != SY_OK) break;
            }
            const double lv[4] = {r.test_acc, r.rank_pre, iv >= 0 ? base[iv].test_acc : 0,
                                  iv >= 0 ? base[iv].rank_pre : 0};
            for (int w = 0; w < 4; w++) v[(w * npt + p) * ns + j] = lv[w];
            const char *names[9] = {"gamma",     "alpha",     "sigma0",     "train_acc", "test_acc",
                                    "rank_pre",  "rank_post", "dead_units", "train_loss"};
            double vals[9] = {pg[p],      pa[p],       s0,     r.train_acc,  r.test_acc,
                              r.rank_pre, r.rank_post, r.dead, r.train_loss};
            if ((s = sy_run_log_to(run, "sigma0.csv", "syre", step++, 9, names, vals)) != SY_OK) break;
            char key[128];
            snprintf(key, sizeof key, "g=%g a=%g sigma0=%g test_acc", pg[p], pa[p], s0);
            sy_run_summary(run, "syre", key, r.test_acc);
            snprintf(key, sizeof key, "g=%g a=%g sigma0=%g rank_pre", pg[p], pa[p], s0);
            sy_run_summary(run, "syre", key, r.rank_pre);
            fprintf(stderr, "collapse: gamma %-6g alpha %-5g syre sigma0 %-5g train %.4f test %.4f rank pre %3d "
                    "post %3d\n", pg[p], pa[p], s0, r.train_acc, r.test_acc, r.rank_pre, r.rank_post);
        }
        snprintf(lab[0][p], sizeof lab[0][p], "syre, gamma=%g alpha=%g", pg[p], pa[p]);
        snprintf(lab[1][p], sizeof lab[1][p], "vanilla, gamma=%g alpha=%g", pg[p], pa[p]);
        labels[0][p] = lab[0][p], labels[1][p] = lab[1][p];
        for (int w = 0; w < 4; w++) y[w][p] = v + (w * npt + p) * ns;
    }
    sy_plot_opts acc = {.title = "Test accuracy vs syre's sigma0; vanilla (same gamma) dashed",
                              .xlabel = "sigma0 (anchor std x sqrt(fan_in))", .ylabel = "test accuracy",
                              .labels2 = labels[1], .logx = 1, .ymin = 0, .ymax = 1.02};
    sy_plot_opts rank = acc;
    rank.title = "First-layer rank (pre-ReLU) vs syre's sigma0; vanilla dashed";
    rank.ylabel = "rank (eigenvalues > threshold)";
    rank.ymax = COL_H + 5;
    if (s == SY_OK)
        s = sy_plot_sweep(run, "fig4-sigma0-acc", &acc, c->sigma0s, ns, npt, labels[0], y[0], iv >= 0 ? y[2] : NULL);
    if (s == SY_OK)
        s = sy_plot_sweep(run, "fig4-sigma0-rank", &rank, c->sigma0s, ns, npt, labels[0], y[1], iv >= 0 ? y[3] : NULL);
    free(v);
    return s;
}

static sy_status col_reproduce(sy_run *run)
{
    col_cfg c;
    col_model m = {0};
    col_points *ps = calloc(1, sizeof *ps);
    double sweep_alpha = sy_run_get_double(run, "sweep-alpha"), sweep_gamma = sy_run_get_double(run, "sweep-gamma");
    sy_status s = cfg_load(run, &c);
    if (s == SY_OK && !ps) s = sy_fail(SY_ERR_NOMEM, "collapse: out of memory");
    if (s == SY_OK) s = model_new(&m, &c);
    if (s == SY_OK) s = sweep(run, &c, &m, ps, 0, sweep_alpha);
    if (s == SY_OK) s = sweep(run, &c, &m, ps, 1, sweep_gamma);
    col_result *f5 = NULL;
    if (s == SY_OK) s = run_point(run, &c, &m, ps, sweep_gamma, sweep_alpha, &f5);
    if (s == SY_OK) s = plot_spectra(run, &c, f5, sweep_gamma, sweep_alpha, "fig5-spectrum");
    /* sigma0 at the two collapsed points (largest gamma; smallest alpha) and at the Fig. 5 point */
    double gmax = c.gammas[0], amin = c.alphas[0];
    for (int i = 1; i < c.ng; i++) gmax = fmax(gmax, c.gammas[i]);
    for (int i = 1; i < c.na; i++) amin = fmin(amin, c.alphas[i]);
    const double pg[3] = {gmax, sweep_gamma, sweep_gamma}, pa[3] = {sweep_alpha, amin, sweep_alpha};
    if (s == SY_OK && c.ns > 0) s = sigma0_sweep(run, &c, &m, ps, pg, pa, 3);
    for (int k = 0; k < c.nm && s == SY_OK; k++) s = log_spectra(run, c.methods[k], &f5[k]);
    if (s == SY_OK)
        fprintf(stderr, "collapse: sigma0 %g, SGD lr %g, %ld epochs on %zu images; figures fig4-*.png, fig5-*.png in "
                "%s\n", c.sigma0, c.lr, c.epochs, c.train->n, sy_run_dir(run));
    for (int i = 0; ps && i < ps->np; i++) {
        for (int k = 0; k < c.nm; k++) result_free(&ps->pts[i].res[k]);
        free(ps->pts[i].res);
    }
    free(ps);
    sy_classifier_free(&m.k);
    cfg_free(&c);
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
