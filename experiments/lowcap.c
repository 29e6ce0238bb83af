/* Low-capacity initialisation (paper Section 3, Fig. 1): a two-layer ReLU
 * network on MNIST started in a permutation-symmetric state, where a fraction
 * f of the hidden neurons are identical. Identical neurons receive identical
 * gradients, so plain training (SGD or Adam, with weight decay toward zero)
 * keeps them identical forever: the network stays a narrower one and its
 * final loss depends on f. syre trains l(theta + theta0) with a random
 * theta0 and decays toward it, which breaks the symmetry; the final loss
 * should then not depend on f.
 *
 * The paper gives the architecture kind, MNIST, SGD and Adam, and no numbers;
 * ours (docs/results/lowcap.md) is identical for every method and fraction:
 * 784 -> 200 (ReLU) -> 10 from one base init (seed), of which m = round(f *
 * 200) hidden units become copies of unit 0 (sy_units_make_copies); syre
 * starts from phi = theta_init + theta0. Distinct units (sy_distinct_units
 * over l1 row, l1 bias and l2 column) use tolerance 1e-2, large enough that
 * syre's anchor shift alone (std 3.6e-4 per l1 weight) does not count as
 * distinct: only neurons that training has moved apart do (near-zero units
 * also merge at this tolerance). copy_spread is exactly 0 while the copies
 * are identical. One checkpoint per (method, optimizer, fraction), saved at
 * each epoch end with its loss curve (curve-<tag>.txt). The curves (Fig. 1)
 * are the mean minibatch loss over every --log-every iterations; the final
 * train_loss is evaluated on the whole training set. */
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
    {"fraction", "one fraction f of identical hidden units (empty: sweep --fractions)", "", SY_FLAG_DOUBLE, 0, 1},
    {"fractions", "fractions f swept, in [0,1] (quick: 0,0.9,0.99,1)", "0,0.5,0.9,0.95,0.99,1", SY_FLAG_STRING, 0, 0},
    {"split", "1: the m copies share unit 0's outgoing column (1/m each: a (200-m+1)-unit network); "
              "0: each copy gets the whole column (outputs m times larger)", "1", SY_FLAG_BOOL, 0, 0},
    {"optim", "optimizer: sgd, adam or both (reproduce: both)", "sgd", SY_FLAG_STRING, 0, 0},
    {"samples", "training images: the first N of MNIST train (quick: 10000)", "60000", SY_FLAG_INT, 100, 60000},
    {"epochs", "training epochs (quick: 2)", "10", SY_FLAG_INT, 1, 100000},
    {"lr", "SGD learning rate (no momentum)", "0.1", SY_FLAG_DOUBLE, 1e-9, 100},
    {"adam-lr", "Adam learning rate (betas 0.9, 0.999, eps 1e-8)", "1e-3", SY_FLAG_DOUBLE, 1e-9, 100},
    {"batch", "minibatch size", "64", SY_FLAG_INT, 1, 60000},
    {"gamma", "weight decay as PyTorch's weight_decay (coupled L2 for SGD and Adam; gamma_eq2 = gamma/2), "
              "toward 0 (vanilla) or theta0 (syre)", "1e-3", SY_FLAG_DOUBLE, 0, 1000},
    {"distinct-tol", "units are identical when all their parameters differ by <= tol", "1e-2", SY_FLAG_DOUBLE, 0, 100},
    {"log-every", "loss curve: mean minibatch loss over N iterations (quick: 10)", "50", SY_FLAG_INT, 1, 1000000},
    {"method", "methods: vanilla (decay to 0), syre, syre-ar, l2init, none", "vanilla,syre", SY_FLAG_METHODS, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

typedef struct {
    int hidden, n, batch, epochs, log_every, nfrac, nopt, resume, split;
    double lr, adam_lr, gamma, sigma0, eps, tol;
    double frac[LC_MAX_FRAC];
    sy_optim_kind opt[2];
    uint64_t seed;
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
static const char *lc_optlabel(sy_optim_kind k) { return k == SY_OPTIM_SGD ? "SGD" : "Adam"; }

/* One training run (optimizer, fraction, method): its loss curve and final metrics. */
typedef struct {
    int npts;
    double *it, *loss;
    double train_loss, train_acc, test_acc, spread, spread_init;
    int distinct, distinct_init, ncopy;
} lc_result;

/* The sweep: data and model shared by every run, and the run in progress. */
typedef struct {
    sy_run *run;
    lc_cfg c;
    sy_dataset *train, *test;
    sy_params *ps;
    sy_graph *g, *ge; /* training graph (batch), evaluation graph (logits) */
    sy_var x, y, loss, ex, elogits;
    lc_result *R;     /* the run in progress, and its names */
    char label[64], curve[4200];
    double frac;
    int cap;
    long nbatches;
} lc_state;

static void lc_free(lc_state *S)
{
    sy_graph_free(S->g), sy_graph_free(S->ge), sy_params_free(S->ps);
    sy_dataset_free(S->train), sy_dataset_free(S->test);
}

/* MNIST: the first --samples training images and the test set, both
 * normalised by the training subset's mean and std; the two graphs. */
static sy_status lc_setup(lc_state *S)
{
    /* The model reads LC_IN = 28*28 values per image and 10 classes. */
    const sy_data_contract want = {"lowcap", 1, 28, 28, LC_OUT, 1};
    const lc_cfg *c = &S->c;
    sy_status s = sy_dataset_load_n(sy_run_data_dir(S->run), "mnist", "train", c->n, 0, &want, &S->train);
    if (s == SY_OK && S->train->n < (size_t)c->n)
        s = sy_fail(SY_ERR_ARG, "lowcap: --samples %d exceeds the %zu MNIST training images", c->n, S->train->n);
    if (s == SY_OK) s = sy_dataset_load_n(sy_run_data_dir(S->run), "mnist", "test", 0, 0, &want, &S->test);
    if (s != SY_OK) return s;
    float mean, std;
    sy_dataset_channel_stats(S->train, &mean, &std);
    sy_data_normalize(S->train->x, S->train->n, S->train->sample, &mean, &std);
    sy_data_normalize(S->test->x, S->test->n, S->test->sample, &mean, &std);

    S->ps = sy_params_new(), S->g = sy_graph_new(S->ps), S->ge = sy_graph_new(S->ps);
    if (!S->ps || !S->g || !S->ge) return sy_fail(SY_ERR_NOMEM, "lowcap: out of memory");
    /* The training graph holds this rank's shard: --batch over the ranks. */
    S->x = sy_input(S->g, "x", sy_shape_of(2, c->batch / sy_dist_size(), LC_IN));
    S->y = sy_input(S->g, "y", sy_shape_of(1, c->batch / sy_dist_size()));
    sy_var o = sy_linear(S->g, sy_relu(S->g, sy_linear(S->g, S->x, "l1", c->hidden)), "l2", LC_OUT);
    S->loss = sy_softmax_ce(S->g, o, S->y);
    S->ex = sy_input(S->ge, "x", sy_shape_of(2, LC_EVAL_BATCH, LC_IN));
    S->elogits = sy_linear(S->ge, sy_relu(S->ge, sy_linear(S->ge, S->ex, "l1", c->hidden)), "l2", LC_OUT);
    if ((s = sy_graph_compile(S->g)) == SY_OK && (s = sy_graph_compile(S->ge)) == SY_OK)
        sy_graph_set_training(S->ge, 0);
    return s;
}

/* The hidden layer as l1 rows, l1 bias and l2 columns, fetched afresh: on a
 * device (--device cuda) a pointer kept across training steps would be stale. */
static void lc_layer(const lc_state *S, float **W1, float **b1, float **W2)
{
    *W1 = sy_params_tensor(S->ps, sy_params_find(S->ps, "l1.weight"));
    *b1 = sy_params_tensor(S->ps, sy_params_find(S->ps, "l1.bias"));
    *W2 = sy_params_tensor(S->ps, sy_params_find(S->ps, "l2.weight"));
}

/* Distinct hidden units and the spread of the run's copies. */
static sy_status lc_units(const lc_state *S, int *distinct, double *spread)
{
    float *W1, *b1, *W2;
    lc_layer(S, &W1, &b1, &W2);
    sy_status s = sy_distinct_units(W1, S->c.hidden, LC_IN, b1, W2, LC_OUT, (float)S->c.tol, distinct);
    return s == SY_OK ? sy_units_copy_spread(W1, S->c.hidden, LC_IN, b1, W2, LC_OUT, S->R->ncopy, spread) : s;
}

/* ---- the training callbacks -------------------------------------------------------- */

static sy_status lc_on_resume(void *ctx, const sy_train_pos *pos)
{
    lc_state *S = ctx;
    /* the curve file is written just before each checkpoint, which commits
     * it: a kill between the two leaves points past the checkpoint */
    double upto = (double)(pos->epoch * S->nbatches + pos->batch);
    return sy_curve_read(S->curve, upto, S->cap, S->R->it, S->R->loss, &S->R->npts);
}

/* The loss curve: the mean of every log-every steps (and of the first),
 * over ranks; loss_sum and aux_sum (its count) hold the window. */
static sy_status lc_on_step(void *ctx, sy_fit_state *st)
{
    lc_state *S = ctx;
    st->aux_sum++;
    if (st->aux_sum != S->c.log_every && st->step != 0) return SY_OK;
    double bl = sy_dist_mean(st->loss_sum / st->aux_sum); /* the global batches' loss under mpirun */
    lc_result *R = S->R;
    if (R->npts < S->cap) R->it[R->npts] = (double)st->step, R->loss[R->npts++] = bl;
    const char *names[2] = {"fraction", "batch_loss"};
    double vals[2] = {S->frac, bl};
    st->loss_sum = st->aux_sum = 0;
    return sy_run_log_to(S->run, "curve.csv", S->label, st->step, 2, names, vals);
}

static sy_status lc_on_save(void *ctx)
{
    lc_state *S = ctx;
    return sy_curve_write(S->curve, S->R->it, S->R->loss, S->R->npts);
}

static sy_status lc_on_epoch(void *ctx, long epoch, double loss)
{
    lc_state *S = ctx;
    double tl, ta, spread;
    int dist;
    (void)loss;
    sy_status s = sy_eval_classifier(S->ge, S->ex, S->elogits, S->train, NULL, NULL, &tl, &ta);
    if (s == SY_OK) s = lc_units(S, &dist, &spread);
    if (s != SY_OK) return s;
    const char *names[5] = {"fraction", "train_loss", "train_acc", "distinct_units", "copy_spread"};
    double vals[5] = {S->frac, tl, ta, dist, spread};
    return sy_run_log(S->run, S->label, epoch, 5, names, vals);
}

/* One run from the shared base init, its copies made first. */
static sy_status lc_train(lc_state *S, sy_optim_kind ok, double frac, const char *method, lc_result *R)
{
    const lc_cfg *c = &S->c;
    memset(R, 0, sizeof *R);
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = (size_t)c->batch, bo.drop_last = 1, bo.seed = c->seed; /* drop_last: the graph's batch is fixed */
    sy_batcher *bt = NULL;
    sy_optimizer *opt = NULL;
    sy_status s = sy_batcher_new(S->train, bo, &bt);
    if (s != SY_OK) return s;
    S->nbatches = (long)sy_batcher_num_batches(bt);
    S->cap = (int)((S->nbatches * c->epochs) / c->log_every) + 2;
    R->it = malloc(sizeof(double) * S->cap), R->loss = malloc(sizeof(double) * S->cap); /* lc_sweep frees them */
    if (!R->it || !R->loss) {
        s = sy_fail(SY_ERR_NOMEM, "lowcap: out of memory");
        goto done;
    }
    R->ncopy = (int)lround(frac * c->hidden);
    S->R = R, S->frac = frac;
    float *W1, *b1, *W2;
    if ((s = sy_params_init(S->ps, c->seed)) != SY_OK) goto done;
    lc_layer(S, &W1, &b1, &W2);
    if ((s = sy_units_make_copies(W1, c->hidden, LC_IN, b1, W2, LC_OUT, R->ncopy, c->split)) != SY_OK) goto done;
    sy_optim_opts o = sy_optim_defaults(ok);
    o.lr = (float)(ok == SY_OPTIM_SGD ? c->lr : c->adam_lr);
    o.seed = c->seed;
    s = sy_optimizer_for_method(S->ps, o, method, (float)c->gamma, (float)c->sigma0, (float)c->eps, &opt);
    if (s == SY_OK) s = lc_units(S, &R->distinct_init, &R->spread_init);
    if (s != SY_OK) goto done;

    char tag[96], file[128], ckpt[4200], plabel[128];
    snprintf(tag, sizeof tag, "%s-%s-f%.3f", method, lc_optname(ok), frac);
    snprintf(file, sizeof file, "curve-%s.txt", tag);
    sy_run_path(S->run, file, S->curve, sizeof S->curve);
    snprintf(S->label, sizeof S->label, "%s/%s", method, lc_optname(ok));
    snprintf(plabel, sizeof plabel, "lowcap %s f=%.2f", S->label, frac);
    sy_fit_opts fo = sy_fit_defaults();
    fo.graph = S->g, fo.loss = S->loss, fo.params = S->ps, fo.opt = opt;
    fo.batcher = bt, fo.x = S->x, fo.y = S->y, fo.epochs = c->epochs;
    fo.control = sy_run_control(S->run), fo.ckpt = sy_run_ckpt_path(S->run, NULL, tag, ckpt, sizeof ckpt);
    fo.resume = c->resume;
    fo.label = plabel, fo.progress_every = 20;
    fo.ctx = S, fo.on_step = lc_on_step, fo.on_save = lc_on_save, fo.on_epoch = lc_on_epoch;
    fo.on_resume = lc_on_resume;
    if ((s = sy_fit(&fo, NULL)) == SY_OK)
        s = sy_eval_classifier(S->ge, S->ex, S->elogits, S->train, NULL, NULL, &R->train_loss, &R->train_acc);
    if (s == SY_OK) s = sy_eval_classifier(S->ge, S->ex, S->elogits, S->test, NULL, NULL, NULL, &R->test_acc);
    if (s == SY_OK) s = lc_units(S, &R->distinct, &R->spread);
done:
    sy_optimizer_free(opt);
    sy_batcher_free(bt);
    return s;
}

/* ---- the sweep, records and plots ------------------------------------------------ */

static sy_status lc_plots(const lc_state *S, const char *const *methods, int nm, const lc_result *R)
{
    const lc_cfg *c = &S->c;
    sy_status s = SY_OK;
    char title[256], name[128], lab[64];
    for (int oi = 0; oi < c->nopt && s == SY_OK; oi++) {
        /* one y-range for every method of this optimizer, so panels compare */
        double lo = INFINITY, hi = -INFINITY;
        for (int k = 0; k < nm * c->nfrac; k++) {
            const lc_result *r = &R[oi * nm * c->nfrac + k];
            for (int i = 0; i < r->npts; i++)
                if (r->loss[i] > 0 && isfinite(r->loss[i])) lo = fmin(lo, r->loss[i]), hi = fmax(hi, r->loss[i]);
        }
        for (int m = 0; m < nm && s == SY_OK; m++) {
            snprintf(title, sizeof title, "Fig. 1: %s, %s, identical fraction f of %d hidden units", methods[m],
                     lc_optlabel(c->opt[oi]), c->hidden);
            sy_plot *p = sy_plot_new(title, "iteration", "training loss (minibatch mean)");
            if (!p) return sy_fail(SY_ERR_NOMEM, "lowcap: out of memory");
            for (int f = 0; f < c->nfrac && s == SY_OK; f++) {
                const lc_result *r = &R[(oi * nm + m) * c->nfrac + f];
                snprintf(lab, sizeof lab, "f=%.2f (%d distinct at init)", c->frac[f], r->distinct_init);
                s = sy_plot_series(p, lab, r->it, r->loss, r->npts, SY_PLOT_LINE);
            }
            sy_plot_log_axes(p, 0, 1);
            if (lo < hi) sy_plot_yrange(p, lo * 0.8, hi * 1.25);
            snprintf(name, sizeof name, "lowcap-%s-%s", lc_optname(c->opt[oi]), methods[m]);
            if (s == SY_OK) s = sy_plot_save_run(p, S->run, name);
            else sy_plot_free(p);
        }
    }
    /* summary: final training loss and distinct units against the capacity of the start (log axis) */
    const char *ylab[2] = {"final training loss (whole training set)", "distinct hidden units at the end"};
    const char *fn[2] = {"lowcap-final-loss", "lowcap-distinct"};
    double xs[LC_MAX_FRAC], ys[LC_MAX_FRAC];
    for (int k = 0; k < 2 && s == SY_OK; k++) {
        snprintf(title, sizeof title, "%s against the capacity of the start (%d hidden units)",
                 k == 0 ? "Final training loss" : "Distinct units", c->hidden);
        sy_plot *p = sy_plot_new(title, "distinct hidden units at init (f = 0 gives all, f = 1 one)", ylab[k]);
        if (!p) return sy_fail(SY_ERR_NOMEM, "lowcap: out of memory");
        for (int oi = 0; oi < c->nopt && s == SY_OK; oi++)
            for (int m = 0; m < nm && s == SY_OK; m++) {
                for (int f = 0; f < c->nfrac; f++) {
                    const lc_result *r = &R[(oi * nm + m) * c->nfrac + f];
                    xs[f] = r->distinct_init, ys[f] = k == 0 ? r->train_loss : r->distinct;
                }
                snprintf(lab, sizeof lab, "%s, %s", methods[m], lc_optlabel(c->opt[oi]));
                s = sy_plot_series(p, lab, xs, ys, c->nfrac, SY_PLOT_LINE_POINTS);
            }
        if (k == 0) sy_plot_log_axes(p, 1, 1);
        else sy_plot_log_axes(p, 1, 0), sy_plot_yrange(p, 0, c->hidden * 1.05);
        if (s == SY_OK) s = sy_plot_save_run(p, S->run, fn[k]);
        else sy_plot_free(p);
    }
    return s;
}

/* The summary (columns: method, or method/optimizer when both run) and a note on it. */
static void lc_report(const lc_state *S, const char *const *methods, int nm, const lc_result *R)
{
    const lc_cfg *c = &S->c;
    char col[64], key[96];
    for (int oi = 0; oi < c->nopt; oi++)
        for (int m = 0; m < nm; m++) {
            if (c->nopt > 1) snprintf(col, sizeof col, "%s/%s", methods[m], lc_optname(c->opt[oi]));
            else snprintf(col, sizeof col, "%s", methods[m]);
            sy_run_summary_settingf(S->run, col, "optimizer", "%s lr %g, gamma %g", lc_optlabel(c->opt[oi]),
                                    c->opt[oi] == SY_OPTIM_SGD ? c->lr : c->adam_lr, c->gamma);
            double lmin = INFINITY, lmax = -INFINITY;
            for (int f = 0; f < c->nfrac; f++) {
                const lc_result *r = &R[(oi * nm + m) * c->nfrac + f];
                const char *what[4] = {"train_loss", "test_acc", "distinct_units", "copy_spread"};
                double v[4] = {r->train_loss, r->test_acc, r->distinct, r->spread};
                for (int k = 0; k < 4; k++) {
                    snprintf(key, sizeof key, "%s f=%.2f", what[k], c->frac[f]);
                    sy_run_summary(S->run, col, key, v[k]);
                }
                lmin = fmin(lmin, r->train_loss), lmax = fmax(lmax, r->train_loss);
            }
            sy_run_summary(S->run, col, "train_loss max/min over f", lmax / lmin);
        }
    /* the numbers are in the final table; what it does not show: */
    printf("\nlowcap: %d hidden units, %d training images, %d epochs, batch %d, gamma %g, distinct tol %g\n"
           "distinct units at init:", c->hidden, c->n, c->epochs, c->batch, c->gamma, c->tol);
    for (int f = 0; f < c->nfrac; f++) printf(" %d (f = %.2f)", R[f].distinct_init, c->frac[f]);
    printf("\n(copy_spread: the largest parameter difference between unit 0 and its copies)\n\n");
}

static sy_status lc_sweep(sy_run *run, int reproduce)
{
    lc_state S = {.run = run};
    int nm;
    const char *const *methods = sy_run_methods(run, &nm);
    sy_status s = lc_config(run, &S.c, reproduce);
    if (s == SY_OK) s = lc_setup(&S);
    const lc_cfg *c = &S.c;
    int nres = c->nopt * nm * c->nfrac;
    lc_result *R = s == SY_OK ? calloc((size_t)nres, sizeof *R) : NULL;
    if (s == SY_OK && !R) s = sy_fail(SY_ERR_NOMEM, "lowcap: out of memory");
    for (int oi = 0; oi < c->nopt && s == SY_OK; oi++)
        for (int f = 0; f < c->nfrac && s == SY_OK; f++)
            for (int m = 0; m < nm && s == SY_OK; m++)
                s = lc_train(&S, c->opt[oi], c->frac[f], methods[m], &R[(oi * nm + m) * c->nfrac + f]);
    if (s == SY_OK) {
        lc_report(&S, methods, nm, R);
        s = lc_plots(&S, methods, nm, R);
    }
    for (int i = 0; R && i < nres; i++) free(R[i].it), free(R[i].loss);
    free(R);
    lc_free(&S);
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
