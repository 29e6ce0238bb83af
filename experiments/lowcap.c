/* Low-capacity initialisation (paper Section 3, Fig. 1): a two-layer ReLU
 * network on MNIST started in a permutation-symmetric state, where a fraction
 * f of the hidden neurons are identical. Identical neurons receive identical
 * gradients, so plain training (SGD or Adam, with weight decay toward zero)
 * keeps them identical forever: the network stays a narrower one and its
 * final loss depends on f. syre trains l(theta + theta0) with a random
 * theta0 and decays toward it, which breaks the symmetry; the final loss
 * should then not depend on f.
 *
 * Setup (the paper gives the architecture kind, MNIST, SGD and Adam, and no
 * numbers; ours, identical for every method and fraction):
 * - 784 -> 200 (ReLU) -> 10, softmax cross-entropy (batch mean), PyTorch's
 *   default init; inputs normalised by the training subset's mean and std;
 * - low-capacity state of fraction f: m = round(f * 200) hidden units
 *   (units 0 .. m-1) are made exact copies of unit 0: row 0 of l1.weight and
 *   l1.bias[0] are copied into rows / entries 1 .. m-1, and column 0 of
 *   l2.weight, first divided by m (--split, the default), into columns
 *   1 .. m-1. The copies then together compute exactly what unit 0 did, so
 *   the network is a (200 - m + 1)-unit network at the usual init scale;
 *   --split=0 copies the undivided column (outputs m times larger). The init
 *   has 200 - m + 1 distinct units (200 for f = 0, 1 for f = 1). The same
 *   base init (seed) for every f and method;
 * - fractions 0, 0.5, 0.9, 0.95, 0.99, 1 (200, 101, 21, 11, 3, 1 distinct
 *   units); quick: 0, 0.9, 0.99, 1;
 * - SGD lr 0.1 (no momentum) or Adam lr 1e-3 (PyTorch defaults otherwise),
 *   batch 64, gamma = PyTorch weight_decay = 1e-3 (coupled L2), syre sigma0 =
 *   0.01 (relative, anchor std 0.01/sqrt(fan_in)); syre starts from
 *   phi = theta_init + theta0 (that is l(theta + theta0) at the same theta);
 * - paper scale: the full 60000 training images, 10 epochs; quick: the first
 *   10000, 2 epochs;
 * - distinct units: sy_distinct_units over (l1 row, l1 bias, l2 column) with
 *   tolerance 1e-2 (max-abs difference), chosen large enough that syre's
 *   anchor shift alone (std 3.6e-4 per l1 weight) does not count as distinct:
 *   only neurons that training has moved apart do. (Near-zero units, e.g.
 *   ones that stopped firing and decayed, also merge at this tolerance.)
 *   copy_spread = the largest parameter difference between unit 0 and its
 *   former copies: exactly 0 as long as they are identical;
 * - one checkpoint per (method, optimizer, fraction), saved at each epoch
 *   end with its loss curve (curve-<tag>.txt); --resume continues from them.
 * Training loss curves (Fig. 1) are the mean minibatch loss over every
 * --log-every iterations; the final train_loss is evaluated on the whole
 * training set. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

#define LC_IN 784
#define LC_OUT 10
#define LC_EVAL_BATCH 500
#define LC_MAX_FRAC 16

static const sy_flag_spec lowcap_flags[] = {
    {"hidden", "hidden width of the two-layer ReLU network", "200", SY_FLAG_INT, 2, 100000},
    {"fraction", "run this one fraction f of identical hidden units (empty: sweep --fractions)", "",
     SY_FLAG_DOUBLE, 0, 1},
    {"fractions", "fractions f swept (comma-separated, each in [0,1]; quick: 0,0.9,0.99,1)", "0,0.5,0.9,0.95,0.99,1",
     SY_FLAG_STRING, 0, 0},
    {"split", "1: the m copies share unit 0's outgoing column (each gets 1/m of it, so the network computes "
              "exactly what a (200-m+1)-unit one does); --split=0: each copy gets the whole column (outputs m times larger)",
     "1", SY_FLAG_BOOL, 0, 0},
    {"optim", "optimizer: sgd, adam or both (reproduce: both)", "sgd", SY_FLAG_STRING, 0, 0},
    {"samples", "training images: the first N of MNIST train (quick: 10000)", "60000", SY_FLAG_INT, 100, 60000},
    {"epochs", "training epochs (quick: 2)", "10", SY_FLAG_INT, 1, 100000},
    {"lr", "SGD learning rate (no momentum)", "0.1", SY_FLAG_DOUBLE, 1e-9, 100},
    {"adam-lr", "Adam learning rate (betas 0.9, 0.999, eps 1e-8)", "1e-3", SY_FLAG_DOUBLE, 1e-9, 100},
    {"batch", "minibatch size", "64", SY_FLAG_INT, 1, 60000},
    {"gamma", "weight decay as PyTorch's weight_decay (coupled L2 for SGD and Adam; gamma_eq2 = gamma/2), "
              "toward 0 (vanilla) or theta0 (syre)",
     "1e-3", SY_FLAG_DOUBLE, 0, 1000},
    {"distinct-tol", "two hidden units count as identical when all their parameters differ by <= tol", "1e-2",
     SY_FLAG_DOUBLE, 0, 100},
    {"log-every", "training-loss curve: mean minibatch loss over this many iterations (quick: 10)", "50",
     SY_FLAG_INT, 1, 1000000},
    {"method", "methods: vanilla (decay to 0), syre, syre-ar, l2init, none", "vanilla,syre", SY_FLAG_METHODS, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

/* ---- configuration -------------------------------------------------------------- */

typedef struct {
    int hidden, n, batch, epochs, log_every, nfrac, nopt;
    double lr, adam_lr, gamma, sigma0, eps, tol;
    double frac[LC_MAX_FRAC];
    sy_optim_kind opt[2];
    uint64_t seed;
    int resume, split;
} lc_cfg;

static sy_status lc_config(sy_run *run, lc_cfg *c, int reproduce)
{
    c->hidden = (int)sy_run_get_int(run, "hidden");
    c->n = (int)sy_run_get_int(run, "samples");
    c->epochs = (int)sy_run_get_int(run, "epochs");
    c->log_every = (int)sy_run_get_int(run, "log-every");
    c->batch = (int)sy_run_get_int(run, "batch");
    if (c->batch > c->n) return sy_fail(SY_ERR_ARG, "lowcap: --batch %d exceeds --samples %d", c->batch, c->n);
    c->lr = sy_run_get_double(run, "lr");
    c->adam_lr = sy_run_get_double(run, "adam-lr");
    c->gamma = sy_run_get_double(run, "gamma");
    c->sigma0 = sy_run_get_double(run, "sigma0");
    c->eps = sy_run_get_double(run, "eps");
    c->tol = sy_run_get_double(run, "distinct-tol");
    c->seed = sy_run_seed(run);
    c->resume = sy_run_get_bool(run, "resume");
    c->split = sy_run_get_bool(run, "split");
    sy_status s;
    if (sy_run_is_set(run, "fraction")) {
        c->nfrac = 1;
        c->frac[0] = sy_run_get_double(run, "fraction");
    } else if ((s = sy_run_get_numbers(run, "fractions", 0, 0, 1, c->frac, LC_MAX_FRAC, &c->nfrac)) != SY_OK) {
        return s;
    }
    const char *o = sy_run_get_str(run, "optim");
    if (reproduce && !sy_run_is_set(run, "optim")) o = "both";
    if (strcmp(o, "sgd") == 0) c->nopt = 1, c->opt[0] = SY_OPTIM_SGD;
    else if (strcmp(o, "adam") == 0) c->nopt = 1, c->opt[0] = SY_OPTIM_ADAM;
    else if (strcmp(o, "both") == 0) c->nopt = 2, c->opt[0] = SY_OPTIM_SGD, c->opt[1] = SY_OPTIM_ADAM;
    else return sy_fail(SY_ERR_ARG, "lowcap: --optim must be sgd, adam or both, got '%s'", o);
    int nm;
    const char *const *methods = sy_run_methods(run, &nm);
    for (int m = 0; m < nm; m++)
        if (strcmp(methods[m], "wfix") == 0 || strcmp(methods[m], "dropout") == 0)
            return sy_fail(SY_ERR_ARG, "lowcap: method '%s' is not part of this figure "
                                       "(vanilla, syre, syre-ar, l2init, none)", methods[m]);
    return SY_OK;
}

static const char *lc_optname(sy_optim_kind k) { return k == SY_OPTIM_SGD ? "sgd" : "adam"; }

/* ---- data ------------------------------------------------------------------------ */

typedef struct {
    sy_dataset *train, *test;
} lc_data;

static sy_status lc_data_load(sy_run *run, const lc_cfg *c, lc_data *D)
{
    memset(D, 0, sizeof *D);
    const char *dir = sy_data_dir(sy_run_get_str(run, "data-dir")[0] ? sy_run_get_str(run, "data-dir") : NULL);
    sy_dataset *full = NULL;
    /* The model reads LC_IN = 28*28 values per image and 10 classes. */
    const sy_data_contract want = {"lowcap", 1, 28, 28, LC_OUT, 1};
    sy_status s = sy_dataset_load(dir, "mnist", "train", &full);
    if (s == SY_OK && (s = sy_dataset_check(full, &want)) != SY_OK) sy_dataset_free(full);
    if (s != SY_OK) return s;
    if ((size_t)c->n > full->n) {
        size_t have = full->n;
        sy_dataset_free(full);
        return sy_fail(SY_ERR_ARG, "lowcap: --samples %d exceeds the %zu MNIST training images", c->n, have);
    }
    s = sy_dataset_subset(full, (size_t)c->n, 0, &D->train);
    sy_dataset_free(full);
    if (s == SY_OK) s = sy_dataset_load(dir, "mnist", "test", &D->test);
    if (s == SY_OK) s = sy_dataset_check(D->test, &want);
    if (s != SY_OK) {
        sy_dataset_free(D->train), sy_dataset_free(D->test);
        memset(D, 0, sizeof *D);
        return s;
    }
    float mean, std;
    sy_dataset_channel_stats(D->train, &mean, &std);
    sy_data_normalize(D->train->x, D->train->n, D->train->sample, &mean, &std);
    sy_data_normalize(D->test->x, D->test->n, D->test->sample, &mean, &std);
    return SY_OK;
}

static void lc_data_free(lc_data *D)
{
    sy_dataset_free(D->train);
    sy_dataset_free(D->test);
    memset(D, 0, sizeof *D);
}

/* ---- model ----------------------------------------------------------------------- */

typedef struct {
    sy_params *ps;
    sy_graph *g, *ge;         /* training graph (batch), evaluation graph (logits) */
    sy_var x, y, loss, ex, elogits;
    int hidden;
} lc_net;

static void lc_net_free(lc_net *m)
{
    sy_graph_free(m->g);
    sy_graph_free(m->ge);
    sy_params_free(m->ps);
    memset(m, 0, sizeof *m);
}

static sy_status lc_net_build(lc_net *m, int hidden, int batch)
{
    memset(m, 0, sizeof *m);
    m->hidden = hidden;
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    m->ge = sy_graph_new(m->ps);
    if (!m->ps || !m->g || !m->ge) return sy_fail(SY_ERR_NOMEM, "lowcap: out of memory");
    m->x = sy_input(m->g, "x", sy_shape_of(2, batch, LC_IN));
    m->y = sy_input(m->g, "y", sy_shape_of(1, batch));
    sy_var o = sy_linear(m->g, sy_relu(m->g, sy_linear(m->g, m->x, "l1", hidden)), "l2", LC_OUT);
    m->loss = sy_softmax_ce(m->g, o, m->y);
    m->ex = sy_input(m->ge, "x", sy_shape_of(2, LC_EVAL_BATCH, LC_IN));
    m->elogits = sy_linear(m->ge, sy_relu(m->ge, sy_linear(m->ge, m->ex, "l1", hidden)), "l2", LC_OUT);
    sy_status s = sy_graph_compile(m->g);
    if (s == SY_OK) s = sy_graph_compile(m->ge);
    if (s != SY_OK) return s;
    sy_graph_set_training(m->ge, 0);
    return SY_OK;
}

/* Distinct hidden units (tolerance tol) and the spread of the first ncopy
 * units: the hidden layer as l1 rows, l1 bias and l2 columns, fetched
 * afresh: on a device (--device cuda) a pointer kept across training steps
 * would be stale. */
static sy_status lc_units(lc_net *m, double tol, int ncopy, int *distinct, double *spread)
{
    const float *W1 = sy_params_tensor(m->ps, sy_params_find(m->ps, "l1.weight"));
    const float *b1 = sy_params_tensor(m->ps, sy_params_find(m->ps, "l1.bias"));
    const float *W2 = sy_params_tensor(m->ps, sy_params_find(m->ps, "l2.weight"));
    sy_status s = sy_distinct_units(W1, m->hidden, LC_IN, b1, W2, LC_OUT, (float)tol, distinct);
    return s == SY_OK ? sy_units_copy_spread(W1, m->hidden, LC_IN, b1, W2, LC_OUT, ncopy, spread) : s;
}

/* Mean cross-entropy and accuracy of the current parameters on a dataset. */
static sy_status lc_eval(lc_net *m, const sy_dataset *d, double *loss, double *acc)
{
    double lsum = 0;
    size_t correct = 0;
    float *xb = sy_graph_data(m->ge, m->ex);
    for (size_t start = 0; start < d->n; start += LC_EVAL_BATCH) {
        size_t nb = d->n - start < LC_EVAL_BATCH ? d->n - start : LC_EVAL_BATCH;
        memcpy(xb, d->x + start * LC_IN, sizeof(float) * nb * LC_IN);
        if (nb < LC_EVAL_BATCH) memset(xb + nb * LC_IN, 0, sizeof(float) * (LC_EVAL_BATCH - nb) * LC_IN);
        sy_status s = sy_graph_forward(m->ge);
        if (s != SY_OK) return s;
        const float *z = sy_graph_data(m->ge, m->elogits);
        for (size_t i = 0; i < nb; i++) {
            const float *zi = z + i * LC_OUT;
            int arg = 0;
            double mx = zi[0];
            for (int k = 1; k < LC_OUT; k++)
                if (zi[k] > mx) mx = zi[k], arg = k;
            double se = 0;
            for (int k = 0; k < LC_OUT; k++) se += exp(zi[k] - mx);
            int y = d->y[start + i];
            lsum += mx + log(se) - zi[y];
            correct += arg == y;
        }
    }
    *loss = lsum / (double)d->n;
    *acc = (double)correct / (double)d->n;
    if (!isfinite(*loss)) return sy_fail(SY_ERR_NUMERIC, "lowcap: evaluation loss is not finite (lower the lr)");
    return SY_OK;
}

/* ---- one training run (optimizer, fraction, method) ------------------------------ */

typedef struct {
    int npts;
    double *it, *loss;           /* training-loss curve */
    double train_loss, train_acc, test_acc, spread, spread_init;
    int distinct, distinct_init, ncopy;
} lc_result;

static void lc_result_free(lc_result *r)
{
    free(r->it), free(r->loss);
    memset(r, 0, sizeof *r);
}

/* What the training callbacks of one run need. */
typedef struct {
    sy_run *run;
    const lc_cfg *c;
    const lc_data *D;
    lc_net *m;
    lc_result *R;
    const char *label, *curve;
    double frac;
    int cap;
    long nbatches;
} lc_fit;

static sy_status lc_on_resume(void *ctx, const sy_train_pos *pos)
{
    lc_fit *f = ctx;
    /* the curve file is written just before each checkpoint, which commits
     * it: a kill between the two leaves points past the checkpoint */
    double upto = (double)(pos->epoch * f->nbatches + pos->batch);
    return sy_curve_read(f->curve, upto, f->cap, f->R->it, f->R->loss, &f->R->npts);
}

/* The loss curve: the mean of every log-every steps (and of the first),
 * over ranks; loss_sum and aux_sum (its count) hold the window. */
static sy_status lc_on_step(void *ctx, sy_fit_state *st)
{
    lc_fit *f = ctx;
    st->aux_sum++;
    if (st->aux_sum != f->c->log_every && st->step != 0) return SY_OK;
    double bl = sy_dist_mean(st->loss_sum / st->aux_sum); /* the global batches' loss under mpirun */
    lc_result *R = f->R;
    if (R->npts < f->cap) R->it[R->npts] = (double)st->step, R->loss[R->npts++] = bl;
    const char *names[2] = {"fraction", "batch_loss"};
    double vals[2] = {f->frac, bl};
    st->loss_sum = st->aux_sum = 0;
    return sy_run_log_to(f->run, "curve.csv", f->label, st->step, 2, names, vals);
}

static sy_status lc_on_save(void *ctx)
{
    lc_fit *f = ctx;
    return sy_curve_write(f->curve, f->R->it, f->R->loss, f->R->npts);
}

static sy_status lc_on_epoch(void *ctx, long epoch, double loss)
{
    lc_fit *f = ctx;
    int dist;
    (void)loss;
    double tl, ta, spread;
    sy_status s = lc_eval(f->m, f->D->train, &tl, &ta);
    if (s == SY_OK) s = lc_units(f->m, f->c->tol, f->R->ncopy, &dist, &spread);
    if (s != SY_OK) return s;
    const char *names[5] = {"fraction", "train_loss", "train_acc", "distinct_units", "copy_spread"};
    double vals[5] = {f->frac, tl, ta, dist, spread};
    return sy_run_log(f->run, f->label, epoch, 5, names, vals);
}

static sy_status lc_train(sy_run *run, const lc_cfg *c, const lc_data *D, lc_net *m, sy_optim_kind ok,
                          double frac, const char *method, lc_result *R)
{
    memset(R, 0, sizeof *R);
    sy_decay decay;
    sy_status s = sy_decay_parse(method, (float)c->gamma, (float)c->sigma0, (float)c->eps, &decay);
    if (s != SY_OK) return s;
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = (size_t)c->batch;
    bo.drop_last = 1; /* the training graph has a fixed batch */
    bo.seed = c->seed;
    sy_batcher *bt = NULL;
    if ((s = sy_batcher_new(D->train, bo, &bt)) != SY_OK) return s;
    long nbatches = (long)sy_batcher_num_batches(bt);
    int cap = (int)((nbatches * c->epochs) / c->log_every) + 2;
    R->it = malloc(sizeof(double) * cap), R->loss = malloc(sizeof(double) * cap);
    sy_optimizer *opt = NULL;
    if (!R->it || !R->loss) {
        s = sy_fail(SY_ERR_NOMEM, "lowcap: out of memory");
        goto done;
    }

    /* the same base init for every method and fraction, then the copies */
    R->ncopy = (int)lround(frac * c->hidden);
    if ((s = sy_params_init(m->ps, c->seed)) != SY_OK) goto done;
    float *W1 = sy_params_tensor(m->ps, sy_params_find(m->ps, "l1.weight"));
    float *b1 = sy_params_tensor(m->ps, sy_params_find(m->ps, "l1.bias"));
    float *W2 = sy_params_tensor(m->ps, sy_params_find(m->ps, "l2.weight"));
    if ((s = sy_units_make_copies(W1, c->hidden, LC_IN, b1, W2, LC_OUT, R->ncopy, c->split)) != SY_OK) goto done;
    sy_optim_opts o = sy_optim_defaults(ok);
    o.lr = (float)(ok == SY_OPTIM_SGD ? c->lr : c->adam_lr);
    o.decay = decay;
    o.seed = c->seed;
    if (!(opt = sy_optimizer_new(m->ps, &o))) {
        s = SY_ERR_ARG;
        goto done;
    }
    if ((s = lc_units(m, c->tol, R->ncopy, &R->distinct_init, &R->spread_init)) != SY_OK) goto done;

    char tag[96], file[160], ckpt[4200], curve[4200], label[128];
    snprintf(tag, sizeof tag, "%s-%s-f%.3f", method, lc_optname(ok), frac);
    snprintf(file, sizeof file, "ckpt-%s.safetensors", tag);
    sy_run_path(run, file, ckpt, sizeof ckpt);
    snprintf(file, sizeof file, "curve-%s.txt", tag);
    sy_run_path(run, file, curve, sizeof curve);
    snprintf(label, sizeof label, "%s/%s", method, lc_optname(ok));

    char plabel[160];
    snprintf(plabel, sizeof plabel, "lowcap %s f=%.2f", label, frac);
    lc_fit f = {run, c, D, m, R, label, curve, frac, cap, nbatches};
    sy_fit_opts fo = sy_fit_defaults();
    fo.graph = m->g, fo.loss = m->loss, fo.params = m->ps, fo.opt = opt;
    fo.batcher = bt, fo.x = m->x, fo.y = m->y, fo.epochs = c->epochs;
    fo.run = run, fo.ckpt = ckpt, fo.resume = c->resume, fo.label = plabel, fo.progress_every = 20;
    fo.ctx = &f, fo.on_step = lc_on_step, fo.on_save = lc_on_save, fo.on_epoch = lc_on_epoch;
    fo.on_resume = lc_on_resume;
    if ((s = sy_fit(&fo, NULL)) != SY_OK) goto done;

    double tl;
    if ((s = lc_eval(m, D->train, &R->train_loss, &R->train_acc)) != SY_OK) goto done;
    if ((s = lc_eval(m, D->test, &tl, &R->test_acc)) != SY_OK) goto done;
    if ((s = lc_units(m, c->tol, R->ncopy, &R->distinct, &R->spread)) != SY_OK) goto done;
done:
    sy_optimizer_free(opt);
    sy_batcher_free(bt);
    if (s != SY_OK) lc_result_free(R);
    return s;
}

/* ---- the sweep, records and plots ------------------------------------------------ */

static sy_status lc_plots(sy_run *run, const lc_cfg *c, const char *const *methods, int nm, lc_result *R)
{
    sy_status s = SY_OK;
    char title[256], base[4200], file[128];
    for (int oi = 0; oi < c->nopt && s == SY_OK; oi++) {
        const char *on = lc_optname(c->opt[oi]);
        /* one y-range for every method of this optimizer, so panels compare */
        double lo = INFINITY, hi = -INFINITY;
        for (int m = 0; m < nm; m++)
            for (int f = 0; f < c->nfrac; f++) {
                const lc_result *r = &R[(oi * nm + m) * c->nfrac + f];
                for (int i = 0; i < r->npts; i++)
                    if (r->loss[i] > 0 && isfinite(r->loss[i])) lo = fmin(lo, r->loss[i]), hi = fmax(hi, r->loss[i]);
            }
        for (int m = 0; m < nm && s == SY_OK; m++) {
            snprintf(title, sizeof title, "Fig. 1: %s, %s, identical fraction f of %d hidden units", methods[m],
                     c->opt[oi] == SY_OPTIM_SGD ? "SGD" : "Adam", c->hidden);
            sy_plot *p = sy_plot_new(title, "iteration", "training loss (minibatch mean)");
            if (!p) return sy_fail(SY_ERR_NOMEM, "lowcap: out of memory");
            for (int f = 0; f < c->nfrac && s == SY_OK; f++) {
                const lc_result *r = &R[(oi * nm + m) * c->nfrac + f];
                char lab[64];
                snprintf(lab, sizeof lab, "f=%.2f (%d distinct at init)", c->frac[f], r->distinct_init);
                s = sy_plot_series(p, lab, r->it, r->loss, r->npts, SY_PLOT_LINE);
            }
            sy_plot_log_axes(p, 0, 1);
            if (lo < hi) sy_plot_yrange(p, lo * 0.8, hi * 1.25);
            snprintf(file, sizeof file, "lowcap-%s-%s", on, methods[m]);
            if (s == SY_OK) s = sy_plot_save(p, sy_run_path(run, file, base, sizeof base));
            sy_plot_free(p);
        }
    }
    if (s != SY_OK) return s;
    /* summary: final training loss and distinct units against f */
    const char *ylab[2] = {"final training loss (whole training set)", "distinct hidden units at the end"};
    const char *fn[2] = {"lowcap-final-loss", "lowcap-distinct"};
    double *xs = malloc(sizeof(double) * c->nfrac), *ys = malloc(sizeof(double) * c->nfrac);
    if (!xs || !ys) {
        free(xs), free(ys);
        return sy_fail(SY_ERR_NOMEM, "lowcap: out of memory");
    }
    for (int k = 0; k < 2 && s == SY_OK; k++) {
        snprintf(title, sizeof title, "%s against the capacity of the start (%d hidden units)",
                 k == 0 ? "Final training loss" : "Distinct units", c->hidden);
        sy_plot *p = sy_plot_new(title, "distinct hidden units at init (f = 0 gives all, f = 1 one)", ylab[k]);
        if (!p) {
            s = sy_fail(SY_ERR_NOMEM, "lowcap: out of memory");
            break;
        }
        for (int oi = 0; oi < c->nopt && s == SY_OK; oi++)
            for (int m = 0; m < nm && s == SY_OK; m++) {
                for (int f = 0; f < c->nfrac; f++) {
                    const lc_result *r = &R[(oi * nm + m) * c->nfrac + f];
                    xs[f] = r->distinct_init; /* the capacity of the start: log axis */
                    ys[f] = k == 0 ? r->train_loss : r->distinct;
                }
                char lab[64];
                snprintf(lab, sizeof lab, "%s, %s", methods[m], c->opt[oi] == SY_OPTIM_SGD ? "SGD" : "Adam");
                s = sy_plot_series(p, lab, xs, ys, c->nfrac, SY_PLOT_LINE_POINTS);
            }
        if (k == 0) sy_plot_log_axes(p, 1, 1);
        else sy_plot_log_axes(p, 1, 0), sy_plot_yrange(p, 0, c->hidden * 1.05);
        if (s == SY_OK) s = sy_plot_save(p, sy_run_path(run, fn[k], base, sizeof base));
        sy_plot_free(p);
    }
    free(xs), free(ys);
    return s;
}

static sy_status lc_sweep(sy_run *run, int reproduce)
{
    lc_cfg c;
    sy_status s = lc_config(run, &c, reproduce);
    if (s != SY_OK) return s;
    int nm;
    const char *const *methods = sy_run_methods(run, &nm);
    lc_data D;
    if ((s = lc_data_load(run, &c, &D)) != SY_OK) return s;
    lc_net net;
    /* The training graph holds this rank's shard: --batch over the ranks. */
    if ((s = lc_net_build(&net, c.hidden, c.batch / sy_dist_size())) != SY_OK) {
        lc_net_free(&net);
        lc_data_free(&D);
        return s;
    }
    int nres = c.nopt * nm * c.nfrac;
    lc_result *R = calloc((size_t)nres, sizeof *R);
    if (!R) s = sy_fail(SY_ERR_NOMEM, "lowcap: out of memory");
    for (int oi = 0; oi < c.nopt && s == SY_OK; oi++)
        for (int f = 0; f < c.nfrac && s == SY_OK; f++)
            for (int m = 0; m < nm && s == SY_OK; m++)
                s = lc_train(run, &c, &D, &net, c.opt[oi], c.frac[f], methods[m], &R[(oi * nm + m) * c.nfrac + f]);

    if (s == SY_OK) {
        /* summary: columns = method (or method/optimizer when both run) */
        for (int oi = 0; oi < c.nopt; oi++)
            for (int m = 0; m < nm; m++) {
                char col[64], key[96], buf[64];
                if (c.nopt > 1) snprintf(col, sizeof col, "%s/%s", methods[m], lc_optname(c.opt[oi]));
                else snprintf(col, sizeof col, "%s", methods[m]);
                snprintf(buf, sizeof buf, "%s lr %g, gamma %g", c.opt[oi] == SY_OPTIM_SGD ? "SGD" : "Adam",
                         c.opt[oi] == SY_OPTIM_SGD ? c.lr : c.adam_lr, c.gamma);
                sy_run_summary_setting(run, col, "optimizer", buf);
                double lmin = INFINITY, lmax = -INFINITY;
                for (int f = 0; f < c.nfrac; f++) {
                    const lc_result *r = &R[(oi * nm + m) * c.nfrac + f];
                    snprintf(key, sizeof key, "train_loss f=%.2f", c.frac[f]);
                    sy_run_summary(run, col, key, r->train_loss);
                    snprintf(key, sizeof key, "test_acc f=%.2f", c.frac[f]);
                    sy_run_summary(run, col, key, r->test_acc);
                    snprintf(key, sizeof key, "distinct_units f=%.2f", c.frac[f]);
                    sy_run_summary(run, col, key, r->distinct);
                    snprintf(key, sizeof key, "copy_spread f=%.2f", c.frac[f]);
                    sy_run_summary(run, col, key, r->spread);
                    lmin = fmin(lmin, r->train_loss), lmax = fmax(lmax, r->train_loss);
                }
                sy_run_summary(run, col, "train_loss max/min over f", lmax / lmin);
            }
        for (int oi = 0; oi < c.nopt; oi++) {
            printf("\nlowcap, %s: %d hidden units, %d training images, %d epochs, batch %d, gamma %g, "
                   "distinct tol %g\n",
                   c.opt[oi] == SY_OPTIM_SGD ? "SGD" : "Adam", c.hidden, c.n, c.epochs, c.batch, c.gamma, c.tol);
            printf("%6s %9s", "f", "dist0");
            for (int m = 0; m < nm; m++) {
                char h1[48], h2[48], h3[48];
                snprintf(h1, sizeof h1, "%s loss", methods[m]);
                snprintf(h2, sizeof h2, "%s dist", methods[m]);
                snprintf(h3, sizeof h3, "%s spread", methods[m]);
                printf(" %15s %12s %15s", h1, h2, h3);
            }
            printf("\n");
            for (int f = 0; f < c.nfrac; f++) {
                printf("%6.2f %9d", c.frac[f], R[(oi * nm) * c.nfrac + f].distinct_init);
                for (int m = 0; m < nm; m++) {
                    const lc_result *r = &R[(oi * nm + m) * c.nfrac + f];
                    printf(" %15.4g %12d %15.3g", r->train_loss, r->distinct, r->spread);
                }
                printf("\n");
            }
        }
        printf("(dist0: distinct units at init; spread: largest parameter difference between the copies)\n\n");
        s = lc_plots(run, &c, methods, nm, R);
    }
    for (int i = 0; R && i < nres; i++) lc_result_free(&R[i]);
    free(R);
    lc_net_free(&net);
    lc_data_free(&D);
    return s;
}

static sy_status lowcap_run(sy_run *run) { return lc_sweep(run, 0); }
static sy_status lowcap_reproduce(sy_run *run) { return lc_sweep(run, 1); }

const sy_experiment sy_exp_lowcap = {
    .name = "lowcap",
    .figure = "Fig. 1",
    .summary = "2-layer ReLU net on MNIST started with a fraction of identical hidden units: vanilla stays trapped, "
               "syre does not",
    .flags = lowcap_flags,
    .run = lowcap_run,
    .reproduce_id = "fig1",
    .reproduce = lowcap_reproduce,
    .stops = 1,
    .data_parallel = 1,
    .quick = "fractions=0,0.9,0.99,1;samples=10000;epochs=2;log-every=10",
};
