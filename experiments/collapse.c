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
#define _POSIX_C_SOURCE 200809L /* strtok_r */
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

/* Quick scale: a slice of MNIST, a few epochs, at a point where vanilla
 * collapses (only defaults the user left alone change). */
#define COL_QUICK_TRAIN 20000
#define COL_QUICK_EPOCHS 3

static const sy_flag_spec col_flags[] = {
    {"method", "methods to compare: vanilla (decay toward 0), syre (toward theta0), syre-ar, l2init, wfix, none",
     "vanilla,syre", SY_FLAG_METHODS, 0, 0},
    {"gamma",
     "weight decay gamma of `run` (PyTorch's weight_decay, = 2 x the paper's Eq. (2) gamma), on every "
     "parameter incl. biases; default: the collapsed regime",
     "0.1", SY_FLAG_DOUBLE, 0, 100},
    {"alpha", "input scale of `run`: MNIST pixels in [0, 1] are multiplied by alpha", "1", SY_FLAG_DOUBLE, 1e-6, 1e6},
    {"sigma0",
     "syre anchor std in units of 1/sqrt(fan_in); the paper states none for Figs. 4-5, and at its general default "
     "0.01 the anchor's share of the first-layer covariance stays below the 1e-4 rank threshold (syre = vanilla "
     "here), so this experiment uses 1 (the scale of the initialisation); the reproduce sweeps it (--sigma0s)",
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
    {"threads",
     "CPU threads (0 = all cores); results are identical at any count. Default 1: a batch-64 step gains from a 2nd "
     "thread only when the machine really gives it a core (docs/bench.md)",
     "1", SY_FLAG_INT, 0, 4096},
    {NULL, NULL, NULL, 0, 0, 0},
};

/* ---- Settings ------------------------------------------------------------ */

typedef struct {
    double lr, sigma0, eps, thr;
    long epochs, batch;
    int rank_n;
    int scale_mode; /* 0: 1/alpha^2, 1: alpha^2, 2: 1 */
    uint64_t seed;
    int nm;
    const char *const *methods;
    sy_dataset *train, *test; /* the slices actually used */
} col_cfg;

typedef struct {
    double train_loss, train_acc, test_loss, test_acc;
    int rank_pre, rank_post, dead;
    int has_anchor, anchor_rank_pre, anchor_rank_post; /* syre: the anchor network's own ranks */
    double eig_pre[COL_H], eig_post[COL_H]; /* final spectra, descending */
    double *h_acc_train, *h_acc_test, *h_rank_pre, *h_rank_post; /* [epochs] (NaN if not run here) */
} col_result;

typedef struct {
    sy_params *ps;
    sy_graph *tg, *eg;
    sy_var tx, ty, tloss;
    sy_var ex, epre, epost, elogits;
    int eval_n;
} col_model;

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
    long ntrain = sy_run_get_int(run, "train-size"), ntest = sy_run_get_int(run, "test-size");
    const char *sm = sy_run_get_str(run, "cov-scale");
    if (!strcmp(sm, "inv-alpha2"))
        c->scale_mode = 0;
    else if (!strcmp(sm, "alpha2"))
        c->scale_mode = 1;
    else if (!strcmp(sm, "none"))
        c->scale_mode = 2;
    else
        return sy_fail(SY_ERR_ARG, "collapse: --cov-scale: '%s' is not one of inv-alpha2, alpha2, none", sm);
    if (c->nm > COL_MAX_METHODS) return sy_fail(SY_ERR_ARG, "collapse: --method: at most %d methods", COL_MAX_METHODS);
    for (int m = 0; m < c->nm; m++) {
        sy_decay d;
        if (!strcmp(c->methods[m], "dropout"))
            return sy_fail(SY_ERR_ARG, "collapse: --method dropout is not supported here (the paper compares vanilla and syre)");
        if (sy_decay_parse(c->methods[m], 1.0f, (float)c->sigma0, (float)c->eps, &d) != SY_OK)
            return sy_fail(SY_ERR_ARG, "collapse: --method: '%s' is not supported here", c->methods[m]);
    }
    double tmp[COL_MAX_SWEEP];
    int n;
    sy_status s;
    if ((s = sy_run_get_numbers(run, "gammas", 0, 0, HUGE_VAL, tmp, COL_MAX_SWEEP, &n)) != SY_OK) return s;
    if ((s = sy_run_get_numbers(run, "alphas", 0, 1, HUGE_VAL, tmp, COL_MAX_SWEEP, &n)) != SY_OK) return s;
    if (strcmp(sy_run_get_str(run, "sigma0s"), "none") != 0 &&
        (s = sy_run_get_numbers(run, "sigma0s", 0, 1, HUGE_VAL, tmp, COL_MAX_SWEEP, &n)) != SY_OK)
        return s;

    sy_dataset *tr = NULL, *te = NULL;
    const char *dir = sy_data_dir(sy_run_get_str(run, "data-dir")[0] ? sy_run_get_str(run, "data-dir") : NULL);
    if ((s = sy_dataset_load(dir, "mnist", "train", &tr)) != SY_OK) return s;
    if ((s = sy_dataset_load(dir, "mnist", "test", &te)) != SY_OK) {
        sy_dataset_free(tr);
        return s;
    }
    /* The encoder reads COL_IN = 28*28 values per image; the probe has 10 classes. */
    const sy_data_contract want = {"collapse", 1, 28, 28, COL_OUT, 1};
    if ((s = sy_dataset_check(tr, &want)) != SY_OK || (s = sy_dataset_check(te, &want)) != SY_OK) {
        sy_dataset_free(tr), sy_dataset_free(te);
        return s;
    }
    if (ntrain > 0 && (size_t)ntrain < tr->n) {
        sy_dataset *sub;
        s = sy_dataset_subset(tr, (size_t)ntrain, 0, &sub);
        sy_dataset_free(tr);
        if (s != SY_OK) {
            sy_dataset_free(te);
            return s;
        }
        tr = sub;
    }
    if (ntest > 0 && (size_t)ntest < te->n) {
        sy_dataset *sub;
        s = sy_dataset_subset(te, (size_t)ntest, 0, &sub);
        sy_dataset_free(te);
        if (s != SY_OK) {
            sy_dataset_free(tr);
            return s;
        }
        te = sub;
    }
    c->train = tr, c->test = te;
    if ((size_t)c->rank_n > tr->n)
        return sy_fail(SY_ERR_ARG, "collapse: --rank-n %d exceeds the %zu training images used (--train-size)",
                       c->rank_n, tr->n);
    if ((size_t)c->batch > tr->n)
        return sy_fail(SY_ERR_ARG, "collapse: --batch %ld exceeds the %zu training images used", c->batch, tr->n);
    return SY_OK;
}

static void cfg_free(col_cfg *c)
{
    sy_dataset_free(c->train);
    sy_dataset_free(c->test);
}

/* ---- Model ----------------------------------------------------------------- */

/* x [N,784] -> fc1 -> (pre) relu (post) -> fc2 -> relu -> fc3 -> relu -> fc4. */
static sy_var build_net(sy_graph *g, sy_var x, sy_var *pre, sy_var *post)
{
    sy_var h = sy_linear(g, x, "fc1", COL_H);
    if (pre) *pre = h;
    h = sy_relu(g, h);
    if (post) *post = h;
    h = sy_relu(g, sy_linear(g, h, "fc2", COL_H));
    h = sy_relu(g, sy_linear(g, h, "fc3", COL_H));
    return sy_linear(g, h, "fc4", COL_OUT);
}

static void model_free(col_model *m)
{
    sy_graph_free(m->tg);
    sy_graph_free(m->eg);
    sy_params_free(m->ps);
    memset(m, 0, sizeof *m);
}

static sy_status model_new(col_model *m, int batch, int eval_n)
{
    memset(m, 0, sizeof *m);
    m->eval_n = eval_n;
    m->ps = sy_params_new();
    if (!m->ps) return sy_fail(SY_ERR_NOMEM, "collapse: out of memory");
    m->tg = sy_graph_new(m->ps);
    m->eg = sy_graph_new(m->ps);
    if (!m->tg || !m->eg) {
        model_free(m);
        return sy_fail(SY_ERR_NOMEM, "collapse: out of memory");
    }
    m->tx = sy_input(m->tg, "x", sy_shape_of(2, batch, COL_IN));
    m->ty = sy_input(m->tg, "y", sy_shape_of(1, batch));
    m->tloss = sy_softmax_ce(m->tg, build_net(m->tg, m->tx, NULL, NULL), m->ty);
    m->ex = sy_input(m->eg, "x", sy_shape_of(2, eval_n, COL_IN));
    m->elogits = build_net(m->eg, m->ex, &m->epre, &m->epost);
    sy_status s = sy_graph_compile(m->tg);
    if (s == SY_OK) s = sy_graph_compile(m->eg);
    if (s != SY_OK) model_free(m);
    return s;
}

/* Mean cross-entropy and accuracy of the network on all of d (inputs * alpha),
 * in chunks of the evaluation batch (the last one zero-padded). */
static sy_status eval_set(col_model *m, const sy_dataset *d, double alpha, double *loss, double *acc)
{
    float *x = sy_graph_data(m->eg, m->ex);
    double ls = 0;
    size_t correct = 0;
    for (size_t off = 0; off < d->n; off += (size_t)m->eval_n) {
        size_t k = d->n - off < (size_t)m->eval_n ? d->n - off : (size_t)m->eval_n;
        memcpy(x, d->x + off * COL_IN, k * COL_IN * sizeof *x);
        if (k < (size_t)m->eval_n) memset(x + k * COL_IN, 0, ((size_t)m->eval_n - k) * COL_IN * sizeof *x);
        sy_data_scale(x, k * COL_IN, (float)alpha);
        sy_status s = sy_graph_forward(m->eg);
        if (s != SY_OK) return s;
        const float *z = sy_graph_data(m->eg, m->elogits);
        for (size_t i = 0; i < k; i++) {
            const float *zi = z + i * COL_OUT;
            int best = 0;
            double mx = zi[0];
            for (int j = 1; j < COL_OUT; j++)
                if (zi[j] > mx) mx = zi[j], best = j;
            double se = 0;
            for (int j = 0; j < COL_OUT; j++) se += exp((double)zi[j] - mx);
            ls += mx + log(se) - zi[d->y[off + i]];
            correct += best == d->y[off + i];
        }
    }
    *loss = ls / (double)d->n;
    *acc = (double)correct / (double)d->n;
    if (!isfinite(*loss)) return sy_fail(SY_ERR_NUMERIC, "collapse: evaluation loss is not finite (lower --lr)");
    return SY_OK;
}

/* First-layer spectra (pre and post ReLU) on the fixed batch, their ranks and
 * the dead units of layer 1. */
static sy_status eval_first_layer(col_model *m, const col_cfg *c, double alpha, col_result *r)
{
    float *x = sy_graph_data(m->eg, m->ex);
    memcpy(x, c->train->x, (size_t)m->eval_n * COL_IN * sizeof *x);
    sy_data_scale(x, (size_t)m->eval_n * COL_IN, (float)alpha);
    sy_status s = sy_graph_forward(m->eg);
    if (s != SY_OK) return s;
    const float *pre = sy_graph_data(m->eg, m->epre), *post = sy_graph_data(m->eg, m->epost);
    double sc = cov_scale(c, alpha);
    if ((s = sy_cov_spectrum(pre, m->eval_n, COL_H, sc, r->eig_pre)) != SY_OK) return s;
    if ((s = sy_cov_spectrum(post, m->eval_n, COL_H, sc, r->eig_post)) != SY_OK) return s;
    r->rank_pre = sy_spectrum_count_above(r->eig_pre, COL_H, c->thr);
    r->rank_post = sy_spectrum_count_above(r->eig_post, COL_H, c->thr);
    return sy_dead_units_act(post, m->eval_n, COL_H, 0.0f, &r->dead, NULL);
}

/* The anchor network alone (parameters theta0, no training): its first-layer
 * ranks, against which syre's are read. At sigma0 = 1 theta0 has the scale
 * of an initialisation, so it can clear the rank threshold by itself. */
static sy_status anchor_ranks(col_model *m, const col_cfg *c, double alpha, const sy_optimizer *opt,
                              col_result *r)
{
    size_t n = sy_params_trainable_size(m->ps);
    float *p = sy_params_data(m->ps), *keep = malloc(n * sizeof *keep), *a = malloc(n * sizeof *a);
    sy_status s = keep && a ? sy_optimizer_anchor(opt, a) : sy_fail(SY_ERR_NOMEM, "collapse: out of memory");
    if (s == SY_OK) {
        col_result ar;
        memcpy(keep, p, n * sizeof *p);
        memcpy(p, a, n * sizeof *p);
        s = eval_first_layer(m, c, alpha, &ar);
        /* again: a device store then takes the restored values as newer */
        p = sy_params_data(m->ps);
        memcpy(p, keep, n * sizeof *p);
        r->has_anchor = s == SY_OK;
        r->anchor_rank_pre = ar.rank_pre;
        r->anchor_rank_post = ar.rank_post;
    }
    free(keep);
    free(a);
    return s;
}

static sy_status eval_all(col_model *m, const col_cfg *c, double alpha, col_result *r)
{
    sy_status s = eval_set(m, c->train, alpha, &r->train_loss, &r->train_acc);
    if (s == SY_OK) s = eval_set(m, c->test, alpha, &r->test_loss, &r->test_acc);
    if (s == SY_OK) s = eval_first_layer(m, c, alpha, r);
    return s;
}

static void result_free(col_result *r)
{
    free(r->h_acc_train);
    free(r->h_acc_test);
    free(r->h_rank_pre);
    free(r->h_rank_post);
    r->h_acc_train = r->h_acc_test = r->h_rank_pre = r->h_rank_post = NULL;
}

/* ---- Training one (gamma, alpha, method) point ----------------------------- */

static int same(double a, double b) { return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)); }

/* On resume: the per-epoch curves of the epochs trained before, from the
 * rows metrics.csv already holds (rows still buffered when a run was killed
 * are lost; those epochs stay NaN and their points are not drawn). */
static void read_history(sy_run *run, const char *method, double gamma, double alpha, double sigma0, col_result *r,
                         long epochs)
{
    char path[4200], line[4096];
    FILE *f = fopen(sy_run_path(run, "metrics.csv", path, sizeof path), "r");
    if (!f) return;
    enum { C_METHOD, C_GAMMA, C_ALPHA, C_SIGMA0, C_EPOCH, C_TRAIN, C_TEST, C_PRE, C_POST, NC };
    static const char *const want[NC] = {"method", "gamma", "alpha", "sigma0", "epoch",
                                         "train_acc", "test_acc", "rank_pre", "rank_post"};
    int col[NC];
    for (int k = 0; k < NC; k++) col[k] = -1;
    if (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *save = NULL;
        int i = 0;
        for (char *t = strtok_r(line, ",", &save); t; t = strtok_r(NULL, ",", &save), i++)
            for (int k = 0; k < NC; k++)
                if (!strcmp(t, want[k])) col[k] = i;
    }
    for (int k = 0; k < NC; k++)
        if (col[k] < 0) {
            fclose(f);
            return;
        }
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *field[64] = {0};
        int nf = 0;
        for (char *p = line; nf < 64;) {
            field[nf++] = p;
            char *q = strchr(p, ',');
            if (!q) break;
            *q = '\0';
            p = q + 1;
        }
        int ok = 1;
        for (int k = 0; k < NC; k++) ok &= col[k] < nf && field[col[k]][0];
        if (!ok || strcmp(field[col[C_METHOD]], method) != 0) continue;
        if (!same(atof(field[col[C_GAMMA]]), gamma) || !same(atof(field[col[C_ALPHA]]), alpha) ||
            !same(atof(field[col[C_SIGMA0]]), sigma0))
            continue;
        long e = atol(field[col[C_EPOCH]]) - 1;
        if (e < 0 || e >= epochs) continue;
        r->h_acc_train[e] = atof(field[col[C_TRAIN]]);
        r->h_acc_test[e] = atof(field[col[C_TEST]]);
        r->h_rank_pre[e] = atof(field[col[C_PRE]]);
        r->h_rank_post[e] = atof(field[col[C_POST]]);
    }
    fclose(f);
}

/* What the epoch callbacks of one point need. */
typedef struct {
    sy_run *run;
    const col_cfg *c;
    col_model *m;
    col_result *r;
    const char *method;
    double gamma, alpha, sigma0; /* sigma0 as logged: 0 for methods without a random anchor */
} col_fit;

static sy_status col_on_batch(void *ctx, size_t n)
{
    col_fit *f = ctx;
    sy_data_scale(sy_graph_data(f->m->tg, f->m->tx), n * COL_IN, (float)f->alpha);
    return SY_OK;
}

static sy_status col_on_resume(void *ctx, const sy_train_pos *pos)
{
    col_fit *f = ctx;
    (void)pos;
    read_history(f->run, f->method, f->gamma, f->alpha, f->sigma0, f->r, f->c->epochs);
    return SY_OK;
}

static sy_status col_on_epoch(void *ctx, long epoch, double loss)
{
    col_fit *f = ctx;
    col_result *r = f->r;
    sy_status s = eval_all(f->m, f->c, f->alpha, r);
    if (s != SY_OK) return s;
    r->h_acc_train[epoch - 1] = r->train_acc;
    r->h_acc_test[epoch - 1] = r->test_acc;
    r->h_rank_pre[epoch - 1] = r->rank_pre;
    r->h_rank_post[epoch - 1] = r->rank_post;
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
    size_t E = (size_t)c->epochs;
    r->h_acc_train = malloc(E * sizeof(double));
    r->h_acc_test = malloc(E * sizeof(double));
    r->h_rank_pre = malloc(E * sizeof(double));
    r->h_rank_post = malloc(E * sizeof(double));
    if (!r->h_acc_train || !r->h_acc_test || !r->h_rank_pre || !r->h_rank_post) {
        result_free(r);
        return sy_fail(SY_ERR_NOMEM, "collapse: out of memory");
    }
    for (size_t e = 0; e < E; e++) r->h_acc_train[e] = r->h_acc_test[e] = r->h_rank_pre[e] = r->h_rank_post[e] = NAN;

    sy_status s = sy_params_init(m->ps, c->seed);
    if (s != SY_OK) return s;
    sy_decay d;
    if ((s = sy_decay_parse(method, (float)gamma, (float)sigma0, (float)c->eps, &d)) != SY_OK) return s;
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = (float)c->lr;
    o.decay = d;
    o.seed = c->seed;
    sy_optimizer *opt = sy_optimizer_new(m->ps, &o);
    if (!opt) return SY_ERR_ARG;
    if (!strncmp(method, "syre", 4) && (s = anchor_ranks(m, c, alpha, opt, r)) != SY_OK) {
        sy_optimizer_free(opt);
        return s;
    }
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = (size_t)c->batch;
    bo.drop_last = 1;
    bo.seed = c->seed;
    sy_batcher *b = NULL;
    if ((s = sy_batcher_new(c->train, bo, &b)) != SY_OK) {
        sy_optimizer_free(opt);
        return s;
    }

    char ck[4200], file[256], label[192];
    snprintf(label, sizeof label, "collapse %s%s%s", tag ? tag : "", tag ? " " : "", method);
    snprintf(file, sizeof file, "ckpt-%s%s%s.safetensors", tag ? tag : "", tag ? "-" : "", method);
    col_fit f = {run, c, m, r, method, gamma, alpha, strncmp(method, "syre", 4) == 0 ? sigma0 : 0.0};
    sy_fit_opts fo = sy_fit_defaults();
    fo.graph = m->tg, fo.loss = m->tloss, fo.params = m->ps, fo.opt = opt;
    fo.batcher = b, fo.x = m->tx, fo.y = m->ty, fo.epochs = c->epochs;
    fo.run = run, fo.ckpt = sy_run_path(run, file, ck, sizeof ck), fo.resume = sy_run_get_bool(run, "resume");
    fo.label = label;
    fo.ctx = &f, fo.on_batch = col_on_batch, fo.on_epoch = col_on_epoch, fo.on_resume = col_on_resume;
    sy_fit_result fr;
    s = sy_fit(&fo, &fr);
    if (s == SY_OK && fr.epochs_trained == 0) s = eval_all(m, c, alpha, r); /* finished earlier: re-evaluate */
    sy_batcher_free(b);
    sy_optimizer_free(opt);
    return s;
}

/* ---- Plots ------------------------------------------------------------------ */

static sy_status save_plot(sy_run *run, sy_plot *p, const char *name)
{
    char base[4200];
    sy_status s = p ? sy_plot_save(p, sy_run_path(run, name, base, sizeof base)) : sy_fail(SY_ERR_NOMEM, "out of memory");
    sy_plot_free(p);
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
        sy_plot *p = sy_plot_new(title, "eigenvalue index", "eigenvalue of scaled covariance");
        float eig[COL_H], idx[COL_H], thr[COL_H];
        for (int m = 0; m < c->nm && p && s == SY_OK; m++) {
            for (int i = 0; i < COL_H; i++) eig[i] = (float)(which ? res[m].eig_post[i] : res[m].eig_pre[i]);
            s = sy_plot_spectrum(p, c->methods[m], eig, COL_H, 1e-12);
        }
        for (int i = 0; i < COL_H; i++) idx[i] = (float)(i + 1), thr[i] = (float)c->thr;
        if (p && s == SY_OK) s = sy_plot_series_f(p, "rank threshold", idx, thr, COL_H, SY_PLOT_DASHED);
        if (s == SY_OK)
            s = save_plot(run, p, file);
        else
            sy_plot_free(p);
    }
    return s;
}

/* Per-epoch curves of one `run` point: accuracy and first-layer rank. */
static sy_status plot_epochs(sy_run *run, const col_cfg *c, const col_result *res, double gamma, double alpha)
{
    double *ep = malloc((size_t)c->epochs * sizeof *ep);
    if (!ep) return sy_fail(SY_ERR_NOMEM, "out of memory");
    for (long e = 0; e < c->epochs; e++) ep[e] = (double)(e + 1);
    char title[256], lab[128];
    snprintf(title, sizeof title, "Accuracy, gamma=%g alpha=%g (train solid, test dashed)", gamma, alpha);
    sy_plot *p = sy_plot_new(title, "epoch", "accuracy");
    sy_status s = p ? SY_OK : SY_ERR_NOMEM;
    int n = (int)c->epochs;
    for (int m = 0; m < c->nm && s == SY_OK; m++) {
        snprintf(lab, sizeof lab, "%s train", c->methods[m]);
        s = sy_plot_series(p, lab, ep, res[m].h_acc_train, n, n > 1 ? SY_PLOT_LINE_POINTS : SY_PLOT_POINTS);
        snprintf(lab, sizeof lab, "%s test", c->methods[m]);
        if (s == SY_OK) s = sy_plot_series(p, lab, ep, res[m].h_acc_test, n, n > 1 ? SY_PLOT_DASHED : SY_PLOT_POINTS);
    }
    if (s == SY_OK) {
        sy_plot_yrange(p, 0, 1.02);
        s = save_plot(run, p, "accuracy");
        p = NULL;
    }
    sy_plot_free(p);
    if (s == SY_OK) {
        snprintf(title, sizeof title, "First-layer rank, gamma=%g alpha=%g (pre-ReLU solid, post dashed)", gamma, alpha);
        p = sy_plot_new(title, "epoch", "rank (eigenvalues > threshold)");
        s = p ? SY_OK : SY_ERR_NOMEM;
        for (int m = 0; m < c->nm && s == SY_OK; m++) {
            snprintf(lab, sizeof lab, "%s pre", c->methods[m]);
            s = sy_plot_series(p, lab, ep, res[m].h_rank_pre, n, n > 1 ? SY_PLOT_LINE_POINTS : SY_PLOT_POINTS);
            snprintf(lab, sizeof lab, "%s post", c->methods[m]);
            if (s == SY_OK) s = sy_plot_series(p, lab, ep, res[m].h_rank_post, n, n > 1 ? SY_PLOT_DASHED : SY_PLOT_POINTS);
        }
        if (s == SY_OK) {
            sy_plot_yrange(p, 0, COL_H + 5);
            s = save_plot(run, p, "rank");
            p = NULL;
        }
        sy_plot_free(p);
    }
    free(ep);
    return s;
}

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
    char buf[256];
    snprintf(buf, sizeof buf, "%g", gamma);
    sy_run_summary_setting(run, method, "gamma", buf);
    snprintf(buf, sizeof buf, "%g", alpha);
    sy_run_summary_setting(run, method, "alpha", buf);
    if (!strncmp(method, "syre", 4)) {
        snprintf(buf, sizeof buf, "%g", c->sigma0);
        sy_run_summary_setting(run, method, "sigma0", buf);
    }
    snprintf(buf, sizeof buf, "SGD lr %g, batch %ld, %ld epochs, %zu train / %zu test images", c->lr, c->batch,
             c->epochs, c->train->n, c->test->n);
    sy_run_summary_setting(run, method, "training", buf);
    snprintf(buf, sizeof buf, "%s, batch %d, thr %g",
             c->scale_mode == 0 ? "eig(C/alpha^2)" : c->scale_mode == 1 ? "eig(C*alpha^2)" : "eig(C)", c->rank_n,
             c->thr);
    sy_run_summary_setting(run, method, "rank", buf);
}

/* ---- run: one (gamma, alpha) point ------------------------------------------- */

static sy_status col_run(sy_run *run)
{
    col_cfg c;
    sy_status s = cfg_load(run, &c);
    if (s != SY_OK) {
        cfg_free(&c);
        return s;
    }
    double gamma = sy_run_get_double(run, "gamma"), alpha = sy_run_get_double(run, "alpha");
    col_model m;
    if ((s = model_new(&m, (int)c.batch / sy_dist_size(), c.rank_n)) != SY_OK) {
        cfg_free(&c);
        return s;
    }
    col_result res[COL_MAX_METHODS];
    memset(res, 0, sizeof res);
    for (int k = 0; k < c.nm && s == SY_OK; k++) {
        s = train_point(run, &c, &m, gamma, alpha, c.sigma0, c.methods[k], NULL, &res[k]);
        if (s != SY_OK) break;
        settings(run, &c, c.methods[k], gamma, alpha);
        summarise(run, c.methods[k], NULL, &res[k]);
        for (int i = 0; i < COL_H; i++) {
            const char *nm[2] = {"eig_pre", "eig_post"};
            double v[2] = {res[k].eig_pre[i], res[k].eig_post[i]};
            if ((s = sy_run_log_to(run, "spectrum.csv", c.methods[k], i + 1, 2, nm, v)) != SY_OK) break;
        }
    }
    if (s == SY_OK) s = plot_epochs(run, &c, res, gamma, alpha);
    if (s == SY_OK) s = plot_spectra(run, &c, res, gamma, alpha, "spectrum");
    if (s == SY_OK)
        fprintf(stderr, "collapse: gamma %g, alpha %g, sigma0 %g, SGD lr %g, %ld epochs on %zu images; plots in %s\n",
                gamma, alpha, c.sigma0, c.lr, c.epochs, c.train->n, sy_run_dir(run));
    for (int k = 0; k < COL_MAX_METHODS; k++) result_free(&res[k]);
    model_free(&m);
    cfg_free(&c);
    return s;
}

/* ---- reproduce: the sweeps of Fig. 4 and the spectrum of Fig. 5 ------------- */

/* Accuracy (train solid, test dashed, random guess) and rank (pre solid, post
 * dashed) against the swept variable x for every method. */
static sy_status plot_sweep(sy_run *run, const col_cfg *c, const double *x, int n, const col_result *res,
                            const char *xname, const char *fixed, const char *file)
{
    char title[256], lab[128], name[256];
    sy_status s = SY_OK;
    double *ya = malloc((size_t)n * 4 * sizeof *ya);
    if (!ya) return sy_fail(SY_ERR_NOMEM, "out of memory");
    double *yb = ya + n, *yc = ya + 2 * n, *yd = ya + 3 * n;
    snprintf(title, sizeof title, "Fig. 4: accuracy vs %s (%s); train solid, test dashed", xname, fixed);
    sy_plot *p = sy_plot_new(title, xname, "accuracy");
    if (!p) s = sy_fail(SY_ERR_NOMEM, "out of memory");
    for (int m = 0; m < c->nm && s == SY_OK; m++) {
        for (int i = 0; i < n; i++) {
            ya[i] = res[i * c->nm + m].train_acc;
            yb[i] = res[i * c->nm + m].test_acc;
        }
        snprintf(lab, sizeof lab, "%s train", c->methods[m]);
        s = sy_plot_series(p, lab, x, ya, n, SY_PLOT_LINE_POINTS);
        snprintf(lab, sizeof lab, "%s test", c->methods[m]);
        if (s == SY_OK) s = sy_plot_series(p, lab, x, yb, n, SY_PLOT_DASHED);
    }
    if (s == SY_OK) {
        double guess[2] = {0.1, 0.1}, xs[2] = {x[0], x[n - 1]};
        s = sy_plot_series(p, "random guess", xs, guess, 2, SY_PLOT_DASHED);
    }
    if (s == SY_OK) {
        sy_plot_log_axes(p, 1, 0);
        sy_plot_yrange(p, 0, 1.02);
        snprintf(name, sizeof name, "%s-acc", file);
        s = save_plot(run, p, name);
        p = NULL;
    }
    sy_plot_free(p);
    p = NULL;
    if (s == SY_OK) {
        snprintf(title, sizeof title, "Fig. 4: first-layer rank vs %s (%s); pre solid, post dashed", xname, fixed);
        p = sy_plot_new(title, xname, "rank (eigenvalues > threshold)");
        if (!p) s = sy_fail(SY_ERR_NOMEM, "out of memory");
    }
    for (int m = 0; m < c->nm && s == SY_OK; m++) {
        for (int i = 0; i < n; i++) {
            yc[i] = res[i * c->nm + m].rank_pre;
            yd[i] = res[i * c->nm + m].rank_post;
        }
        snprintf(lab, sizeof lab, "%s pre", c->methods[m]);
        s = sy_plot_series(p, lab, x, yc, n, SY_PLOT_LINE_POINTS);
        snprintf(lab, sizeof lab, "%s post", c->methods[m]);
        if (s == SY_OK) s = sy_plot_series(p, lab, x, yd, n, SY_PLOT_DASHED);
    }
    if (s == SY_OK) {
        sy_plot_log_axes(p, 1, 0);
        sy_plot_yrange(p, 0, COL_H + 5);
        snprintf(name, sizeof name, "%s-rank", file);
        s = save_plot(run, p, name);
        p = NULL;
    }
    sy_plot_free(p);
    free(ya);
    return s;
}

/* Trains (or resumes, or reuses) point (gamma, alpha) for every method into out[nm]. */
typedef struct {
    double gamma, alpha;
    col_result *res; /* [nm] */
} col_point;

static sy_status run_point(sy_run *run, const col_cfg *c, col_model *m, col_point *pts, int *np, double gamma,
                           double alpha, col_result **out)
{
    for (int i = 0; i < *np; i++)
        if (pts[i].gamma == gamma && pts[i].alpha == alpha) {
            *out = pts[i].res;
            return SY_OK;
        }
    col_point *p = &pts[(*np)++];
    p->gamma = gamma, p->alpha = alpha;
    p->res = calloc((size_t)c->nm, sizeof *p->res);
    if (!p->res) return sy_fail(SY_ERR_NOMEM, "out of memory");
    char tag[96], prefix[96];
    snprintf(tag, sizeof tag, "g%g-a%g", gamma, alpha);
    snprintf(prefix, sizeof prefix, "g=%g a=%g ", gamma, alpha);
    for (int k = 0; k < c->nm; k++) {
        sy_status s = train_point(run, c, m, gamma, alpha, c->sigma0, c->methods[k], tag, &p->res[k]);
        if (s != SY_OK) return s;
        col_result *r = &p->res[k];
        const char *names[9] = {"gamma", "alpha", "train_acc", "test_acc", "train_loss", "test_loss", "rank_pre",
                                "rank_post", "dead_units"};
        double vals[9] = {gamma, alpha, r->train_acc, r->test_acc, r->train_loss, r->test_loss, r->rank_pre,
                          r->rank_post, r->dead};
        if ((s = sy_run_log_to(run, "sweep.csv", c->methods[k], *np - 1, 9, names, vals)) != SY_OK) return s;
        summarise(run, c->methods[k], prefix, r);
        fprintf(stderr, "collapse: gamma %-6g alpha %-5g %-8s train %.4f test %.4f rank pre %3d post %3d dead %3d\n",
                gamma, alpha, c->methods[k], r->train_acc, r->test_acc, r->rank_pre, r->rank_post, r->dead);
    }
    *out = p->res;
    return SY_OK;
}

static int method_index(const col_cfg *c, const char *name)
{
    for (int k = 0; k < c->nm; k++)
        if (!strcmp(c->methods[k], name)) return k;
    return -1;
}

/* syre's sigma0 at fixed points: test accuracy and first-layer rank against
 * sigma0, with vanilla (= syre at sigma0 0) as a dashed level per point. */
static sy_status sigma0_sweep(sy_run *run, const col_cfg *c, col_model *m, col_point *pts, int *np,
                              const double *pg, const double *pa, int npt, const double *s0, int ns)
{
    sy_status s = SY_OK;
    int iv = method_index(c, "vanilla"), is = method_index(c, "syre");
    double *acc = calloc((size_t)(npt * ns * 2), sizeof *acc), *rank = acc + npt * ns;
    if (!acc) return sy_fail(SY_ERR_NOMEM, "out of memory");
    int step = 0;
    for (int p = 0; p < npt && s == SY_OK; p++) {
        col_result *base;
        if ((s = run_point(run, c, m, pts, np, pg[p], pa[p], &base)) != SY_OK) break;
        for (int j = 0; j < ns && s == SY_OK; j++) {
            col_result r;
            memset(&r, 0, sizeof r);
            if (is >= 0 && s0[j] == c->sigma0) {
                r = base[is];
                r.h_acc_train = r.h_acc_test = r.h_rank_pre = r.h_rank_post = NULL;
            } else {
                char tag[128];
                snprintf(tag, sizeof tag, "g%g-a%g-s%g", pg[p], pa[p], s0[j]);
                s = train_point(run, c, m, pg[p], pa[p], s0[j], "syre", tag, &r);
                result_free(&r);
                if (s != SY_OK) break;
            }
            acc[p * ns + j] = r.test_acc;
            rank[p * ns + j] = r.rank_pre;
            const char *names[9] = {"gamma", "alpha", "sigma0", "train_acc", "test_acc", "rank_pre", "rank_post",
                                    "dead_units", "train_loss"};
            double vals[9] = {pg[p], pa[p], s0[j], r.train_acc, r.test_acc, r.rank_pre, r.rank_post, r.dead,
                              r.train_loss};
            if ((s = sy_run_log_to(run, "sigma0.csv", "syre", step++, 9, names, vals)) != SY_OK) break;
            char key[128];
            snprintf(key, sizeof key, "g=%g a=%g sigma0=%g test_acc", pg[p], pa[p], s0[j]);
            sy_run_summary(run, "syre", key, r.test_acc);
            snprintf(key, sizeof key, "g=%g a=%g sigma0=%g rank_pre", pg[p], pa[p], s0[j]);
            sy_run_summary(run, "syre", key, r.rank_pre);
            fprintf(stderr, "collapse: gamma %-6g alpha %-5g syre sigma0 %-5g train %.4f test %.4f rank pre %3d post %3d\n",
                    pg[p], pa[p], s0[j], r.train_acc, r.test_acc, r.rank_pre, r.rank_post);
        }
    }
    for (int which = 0; which < 2 && s == SY_OK; which++) {
        sy_plot *pl = sy_plot_new(which ? "First-layer rank (pre-ReLU) vs syre's sigma0; vanilla dashed"
                                        : "Test accuracy vs syre's sigma0; vanilla (same gamma) dashed",
                                  "sigma0 (anchor std x sqrt(fan_in))", which ? "rank (eigenvalues > threshold)" : "test accuracy");
        if (!pl) {
            s = sy_fail(SY_ERR_NOMEM, "out of memory");
            break;
        }
        for (int p = 0; p < npt && s == SY_OK; p++) {
            char lab[128];
            snprintf(lab, sizeof lab, "syre, gamma=%g alpha=%g", pg[p], pa[p]);
            s = sy_plot_series(pl, lab, s0, (which ? rank : acc) + p * ns, ns, SY_PLOT_LINE_POINTS);
            if (s == SY_OK && iv >= 0) {
                col_result *base;
                run_point(run, c, m, pts, np, pg[p], pa[p], &base); /* already trained: a lookup */
                double lv[2] = {which ? base[iv].rank_pre : base[iv].test_acc, 0}, xs[2] = {s0[0], s0[ns - 1]};
                lv[1] = lv[0];
                snprintf(lab, sizeof lab, "vanilla, gamma=%g alpha=%g", pg[p], pa[p]);
                s = sy_plot_series(pl, lab, xs, lv, 2, SY_PLOT_DASHED);
            }
        }
        if (s == SY_OK) {
            sy_plot_log_axes(pl, 1, 0);
            if (which)
                sy_plot_yrange(pl, 0, COL_H + 5);
            else
                sy_plot_yrange(pl, 0, 1.02);
            s = save_plot(run, pl, which ? "fig4-sigma0-rank" : "fig4-sigma0-acc");
        } else {
            sy_plot_free(pl);
        }
    }
    free(acc);
    return s;
}

static sy_status col_reproduce(sy_run *run)
{
    col_cfg c;
    sy_status s = cfg_load(run, &c);
    if (s != SY_OK) {
        cfg_free(&c);
        return s;
    }
    double gammas[COL_MAX_SWEEP], alphas[COL_MAX_SWEEP];
    int ng, na;
    sy_run_get_numbers(run, "gammas", 0, 0, HUGE_VAL, gammas, COL_MAX_SWEEP, &ng); /* checked by cfg_load */
    sy_run_get_numbers(run, "alphas", 0, 1, HUGE_VAL, alphas, COL_MAX_SWEEP, &na);
    double sweep_alpha = sy_run_get_double(run, "sweep-alpha"), sweep_gamma = sy_run_get_double(run, "sweep-gamma");
    col_model m;
    if ((s = model_new(&m, (int)c.batch / sy_dist_size(), c.rank_n)) != SY_OK) {
        cfg_free(&c);
        return s;
    }
    col_point pts[2 * COL_MAX_SWEEP + 4];
    int np = 0;
    col_result *gres = calloc((size_t)(ng + na) * (size_t)c.nm, sizeof *gres), *ares = gres + (size_t)ng * c.nm;
    if (!gres) s = sy_fail(SY_ERR_NOMEM, "out of memory");
    for (int i = 0; i < ng && s == SY_OK; i++) {
        col_result *r;
        if ((s = run_point(run, &c, &m, pts, &np, gammas[i], sweep_alpha, &r)) == SY_OK)
            memcpy(&gres[(size_t)i * c.nm], r, (size_t)c.nm * sizeof *r);
    }
    for (int i = 0; i < na && s == SY_OK; i++) {
        col_result *r;
        if ((s = run_point(run, &c, &m, pts, &np, sweep_gamma, alphas[i], &r)) == SY_OK)
            memcpy(&ares[(size_t)i * c.nm], r, (size_t)c.nm * sizeof *r);
    }
    col_result *f5 = NULL;
    if (s == SY_OK) s = run_point(run, &c, &m, pts, &np, sweep_gamma, sweep_alpha, &f5);
    char fixed[64];
    if (s == SY_OK) {
        snprintf(fixed, sizeof fixed, "alpha = %g", sweep_alpha);
        s = plot_sweep(run, &c, gammas, ng, gres, "gamma", fixed, "fig4-gamma");
    }
    if (s == SY_OK) {
        snprintf(fixed, sizeof fixed, "gamma = %g", sweep_gamma);
        s = plot_sweep(run, &c, alphas, na, ares, "alpha", fixed, "fig4-alpha");
    }
    if (s == SY_OK) s = plot_spectra(run, &c, f5, sweep_gamma, sweep_alpha, "fig5-spectrum");
    const char *s0text = sy_run_get_str(run, "sigma0s");
    if (s == SY_OK && strcmp(s0text, "none") != 0) {
        double s0[COL_MAX_SWEEP], gmax = gammas[0], amin = alphas[0];
        int ns;
        sy_run_get_numbers(run, "sigma0s", 0, 1, HUGE_VAL, s0, COL_MAX_SWEEP, &ns);
        for (int i = 1; i < ng; i++) gmax = fmax(gmax, gammas[i]);
        for (int i = 1; i < na; i++) amin = fmin(amin, alphas[i]);
        double pg[3] = {gmax, sweep_gamma, sweep_gamma}, pa[3] = {sweep_alpha, amin, sweep_alpha};
        s = sigma0_sweep(run, &c, &m, pts, &np, pg, pa, 3, s0, ns);
    }
    for (int k = 0; k < c.nm && s == SY_OK; k++)
        for (int i = 0; i < COL_H && s == SY_OK; i++) {
            const char *nm[2] = {"eig_pre", "eig_post"};
            double v[2] = {f5[k].eig_pre[i], f5[k].eig_post[i]};
            s = sy_run_log_to(run, "spectrum.csv", c.methods[k], i + 1, 2, nm, v);
        }
    if (s == SY_OK)
        fprintf(stderr, "collapse: sigma0 %g, SGD lr %g, %ld epochs on %zu images; figures fig4-*.png, fig5-*.png in %s\n",
                c.sigma0, c.lr, c.epochs, c.train->n, sy_run_dir(run));
    for (int i = 0; i < np; i++) {
        for (int k = 0; k < c.nm; k++) result_free(&pts[i].res[k]);
        free(pts[i].res);
    }
    free(gres);
    model_free(&m);
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
