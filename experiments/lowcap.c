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

/* The final metrics of a training run (optimizer, fraction, method): the columns of a table whose series are
 * (optimizer, method), oi * nm + m, and whose points are the fractions. The summary records the first four. */
enum { LC_TRAIN_LOSS, LC_TEST_ACC, LC_DISTINCT, LC_SPREAD, LC_DISTINCT_INIT, LC_NCOL };
static const char *const lc_cols[] = {"train_loss", "test_acc", "distinct_units", "copy_spread", "distinct_init"};

/* The sweep: its settings (the flags), the data and model shared by every run, each run's loss curve and its
 * final metrics. */
typedef struct {
    sy_run *run;
    int hidden, n, batch, epochs, nfrac, nopt, nm, resume; /* nm: the methods */
    double lr, adam_lr, gamma, tol;
    double frac[LC_MAX_FRAC];
    sy_optim_kind opt[2];
    const char *const *methods;
    uint64_t seed;
    sy_dataset *train, *test;
    sy_classifier m;       /* the training graph (batch) and the evaluation graph (logits) */
    sy_step_curve *curves; /* [k * nfrac + f]: the loss curve of each run */
    sy_results res;         /* the final metrics */
    char label[64];        /* the run in progress: its rows' method, fraction and copies */
    double fraction;
    int ncopy;
} lc_state;

static sy_status lc_config(sy_run *run, lc_state *S, int reproduce)
{
    S->hidden = (int)sy_run_get_int(run, "hidden");
    S->n = (int)sy_run_get_int(run, "samples");
    S->epochs = (int)sy_run_get_int(run, "epochs");
    S->batch = (int)sy_run_get_int(run, "batch");
    if (S->batch > S->n) return sy_fail(SY_ERR_ARG, "lowcap: --batch %d exceeds --samples %d", S->batch, S->n);
    S->lr = sy_run_get_double(run, "lr");
    S->adam_lr = sy_run_get_double(run, "adam-lr");
    S->gamma = sy_run_get_double(run, "gamma");
    S->tol = sy_run_get_double(run, "distinct-tol");
    S->seed = sy_run_seed(run);
    S->resume = sy_run_get_bool(run, "resume");
    int o;
    sy_status s = sy_run_get_numbers_or(run, "fraction", "fractions", 0, 0, 1, S->frac, LC_MAX_FRAC, &S->nfrac);
    if (s == SY_OK) s = sy_run_get_choice(run, "optim", 3, (const char *const[]){"sgd", "adam", "both"}, &o);
    if (s != SY_OK) return s;
    if (reproduce && !sy_run_is_set(run, "optim")) o = 2;
    S->nopt = o == 2 ? 2 : 1;
    S->opt[0] = o == 1 ? SY_OPTIM_ADAM : SY_OPTIM_SGD, S->opt[1] = SY_OPTIM_ADAM;
    /* wfix and dropout are not part of this figure */
    return sy_run_methods_among(run, "vanilla,syre,syre-ar,l2init,none", &S->methods, &S->nm);
}

static const char *lc_optname(sy_optim_kind k) { return k == SY_OPTIM_SGD ? "sgd" : "adam"; }
static const char *lc_optlabel(sy_optim_kind k) { return k == SY_OPTIM_SGD ? "SGD" : "Adam"; }

/* The two-layer ReLU network of ctx's width, the same in both graphs. */
static sy_var lc_net(void *ctx, sy_graph *g, sy_var x, int eval)
{
    (void)eval;
    return sy_linear(g, sy_relu(g, sy_linear(g, x, "l1", *(const int *)ctx)), "l2", LC_OUT);
}

/* The training-set loss and accuracy, distinct hidden units (over l1 row, l1 bias and l2 column) and the spread
 * of the run's copies: logged each epoch, measured at the end. */
static sy_status lc_measure(lc_state *S, double *tl, double *ta, int *distinct, double *spread)
{
    sy_status s = sy_eval_classifier(S->m.eval, S->m.ex, S->m.elogits, S->train, NULL, NULL, tl, ta);
    return s == SY_OK ? sy_layer_units(S->m.ps, "l1", "l2", (float)S->tol, S->ncopy, distinct, spread) : s;
}

/* ---- the training callbacks -------------------------------------------------------- */

/* A point of the loss curve (the mean of every log-every steps, and of the first, over ranks) as a row. */
static sy_status lc_on_point(void *ctx, long step, double loss)
{
    lc_state *S = ctx;
    const char *names[2] = {"fraction", "batch_loss"};
    double vals[2] = {S->fraction, loss};
    return sy_run_log_to(S->run, "curve.csv", S->label, step, 2, names, vals);
}

static sy_status lc_on_epoch(void *ctx, long epoch, double loss)
{
    lc_state *S = ctx;
    double tl, ta, spread;
    int dist;
    (void)loss;
    sy_status s = lc_measure(S, &tl, &ta, &dist, &spread);
    if (s != SY_OK) return s;
    const char *names[5] = {"fraction", "train_loss", "train_acc", "distinct_units", "copy_spread"};
    double vals[5] = {S->fraction, tl, ta, dist, spread};
    return sy_run_log(S->run, S->label, epoch, 5, names, vals);
}

/* The run of series k (optimizer, method) at fraction f from the shared base init, its copies made first; its
 * final metrics go to point f of series k. */
static sy_status lc_train(lc_state *S, int k, int f, const char *method)
{
    sy_optim_kind ok = S->opt[k / S->nm];
    sy_step_curve *curve = &S->curves[k * S->nfrac + f];
    S->fraction = S->frac[f], S->ncopy = (int)lround(S->fraction * S->hidden);
    char tag[96], path[4200], ckpt[4200], plabel[128];
    snprintf(tag, sizeof tag, "%s-%s-f%.3f", method, lc_optname(ok), S->fraction);
    snprintf(S->label, sizeof S->label, "%s/%s", method, lc_optname(ok));
    snprintf(plabel, sizeof plabel, "lowcap %s f=%.2f", S->label, S->fraction);
    sy_batcher *bt = NULL;
    sy_optimizer *opt = NULL;
    sy_status s = sy_batcher_new_full(S->train, (size_t)S->batch, S->seed, &bt); /* the graph's batch is fixed */
    if (s == SY_OK)
        s = sy_step_curve_init(curve, sy_run_pathf(S->run, path, sizeof path, "curve-%s.txt", tag),
                               sy_run_get_int(S->run, "log-every"), (long)sy_batcher_num_batches(bt), S->epochs);
    if (s == SY_OK && (s = sy_params_init(S->m.ps, S->seed)) == SY_OK)
        s = sy_layer_make_copies(S->m.ps, "l1", "l2", S->ncopy, sy_run_get_bool(S->run, "split"));
    sy_optim_opts o = sy_optim_defaults(ok);
    o.lr = (float)(ok == SY_OPTIM_SGD ? S->lr : S->adam_lr);
    o.seed = S->seed;
    float sigma0 = (float)sy_run_get_double(S->run, "sigma0"), eps = (float)sy_run_get_double(S->run, "eps");
    if (s == SY_OK) s = sy_optimizer_for_method(S->m.ps, o, method, (float)S->gamma, sigma0, eps, &opt);
    double v[LC_NCOL], ta;
    int dist_init = 0, dist = 0;
    if (s == SY_OK) s = sy_layer_units(S->m.ps, "l1", "l2", (float)S->tol, S->ncopy, &dist_init, NULL);
    sy_fit_opts fo = sy_fit_classifier(&S->m, opt, bt, S->epochs);
    fo.control = sy_run_control(S->run), fo.ckpt = sy_run_ckpt_path(S->run, NULL, tag, ckpt, sizeof ckpt);
    fo.resume = S->resume;
    fo.label = plabel, fo.progress_every = 20, fo.ctx = S, fo.on_epoch = lc_on_epoch;
    if (s == SY_OK && (s = sy_fit_curve(&fo, curve, lc_on_point, NULL)) == SY_OK)
        s = lc_measure(S, &v[LC_TRAIN_LOSS], &ta, &dist, &v[LC_SPREAD]);
    if (s == SY_OK)
        s = sy_eval_classifier(S->m.eval, S->m.ex, S->m.elogits, S->test, NULL, NULL, NULL, &v[LC_TEST_ACC]);
    v[LC_DISTINCT] = dist, v[LC_DISTINCT_INIT] = dist_init;
    if (s == SY_OK) sy_results_set(&S->res, k, f, v);
    sy_optimizer_free(opt);
    sy_batcher_free(bt);
    return s;
}

/* ---- the records and the sweep ------------------------------------------------------ */

#define LC_MAX_SERIES 10 /* the two optimizers times the five methods of this figure */

/* The summary (columns: method, or method/optimizer when both run), a note on what it does not show, and the
 * figures: the final training loss and distinct units against the capacity of the start, and Fig. 1's loss
 * curves, one panel per (optimizer, method). */
static sy_status lc_records(const lc_state *S)
{
    char col[64], title[256], name[128], lab[LC_MAX_SERIES][64];
    const char *labels[LC_MAX_SERIES];
    const double *xs[LC_MAX_FRAC], *ys[LC_MAX_FRAC];
    int ns[LC_MAX_SERIES];
    for (int k = 0; k < S->nopt * S->nm; k++) {
        sy_optim_kind ok = S->opt[k / S->nm];
        if (S->nopt > 1) snprintf(col, sizeof col, "%s/%s", S->methods[k % S->nm], lc_optname(ok));
        else snprintf(col, sizeof col, "%s", S->methods[k % S->nm]);
        sy_run_summary_settingf(S->run, col, "optimizer", "%s lr %g, gamma %g", lc_optlabel(ok),
                                ok == SY_OPTIM_SGD ? S->lr : S->adam_lr, S->gamma);
        sy_results_summary(&S->res, S->run, k, col, LC_DISTINCT_INIT, "f=%.2f"); /* all but distinct_init */
        const double *tl = sy_results_at(&S->res, LC_TRAIN_LOSS, k);
        double lmin = INFINITY, lmax = -INFINITY;
        for (int f = 0; f < S->nfrac; f++) lmin = fmin(lmin, tl[f]), lmax = fmax(lmax, tl[f]);
        sy_run_summary(S->run, col, "train_loss max/min over f", lmax / lmin);
        snprintf(lab[k], sizeof lab[k], "%s, %s", S->methods[k % S->nm], lc_optlabel(ok)); /* the figures' legend */
        labels[k] = lab[k], ns[k] = S->nfrac;
    }
    /* the numbers are in the final table; what it does not show: */
    printf("\nlowcap: %d hidden units, %d training images, %d epochs, batch %d, gamma %g, distinct tol %g\n"
           "distinct units at init:", S->hidden, S->n, S->epochs, S->batch, S->gamma, S->tol);
    for (int f = 0; f < S->nfrac; f++)
        printf(" %d (f = %.2f)", (int)sy_results_at(&S->res, LC_DISTINCT_INIT, 0)[f], S->frac[f]);
    printf("\n(copy_spread: the largest parameter difference between unit 0 and its copies)\n\n");
    const char *ylab[2] = {"final training loss (whole training set)", "distinct hidden units at the end"};
    const char *fn[2] = {"lowcap-final-loss", "lowcap-distinct"};
    int col_y[2] = {LC_TRAIN_LOSS, LC_DISTINCT};
    sy_status s = SY_OK;
    for (int j = 0; j < 2 && s == SY_OK; j++) { /* the capacity of the start on a log axis */
        snprintf(title, sizeof title, "%s against the capacity of the start (%d hidden units)",
                 j == 0 ? "Final training loss" : "Distinct units", S->hidden);
        sy_plot_opts so = {.title = title, .xlabel = "distinct hidden units at init (f = 0 gives all, f = 1 one)",
                           .ylabel = ylab[j], .logx = 1, .logy = j == 0, .ymax = j == 0 ? 0 : S->hidden * 1.05};
        s = sy_plot_xy(S->run, fn[j], &so, S->nopt * S->nm, labels, sy_results_col(&S->res, LC_DISTINCT_INIT),
                       sy_results_col(&S->res, col_y[j]), ns, SY_PLOT_LINE_POINTS);
    }
    sy_plot_opts po = {.title = title, .xlabel = "iteration", .ylabel = "training loss (minibatch mean)", .logy = 1};
    for (int k = 0; k < S->nopt * S->nm && s == SY_OK; k++) {
        sy_optim_kind ok = S->opt[k / S->nm];
        if (k % S->nm == 0) { /* one y-range for every method of this optimizer, so panels compare */
            double lo = INFINITY, hi = -INFINITY;
            for (const sy_step_curve *r = &S->curves[k * S->nfrac]; r < &S->curves[(k + S->nm) * S->nfrac]; r++)
                sy_plot_range(r->loss, r->n, &lo, &hi);
            po.ymin = lo < hi ? lo * 0.8 : 0, po.ymax = lo < hi ? hi * 1.25 : 0;
        }
        for (int f = 0; f < S->nfrac; f++) {
            const sy_step_curve *r = &S->curves[k * S->nfrac + f];
            snprintf(lab[f], sizeof lab[f], "f=%.2f (%d distinct at init)", S->frac[f],
                     (int)sy_results_at(&S->res, LC_DISTINCT_INIT, k)[f]);
            labels[f] = lab[f], xs[f] = r->step, ys[f] = r->loss, ns[f] = r->n;
        }
        snprintf(title, sizeof title, "Fig. 1: %s, %s, identical fraction f of %d hidden units", S->methods[k % S->nm],
                 lc_optlabel(ok), S->hidden);
        snprintf(name, sizeof name, "lowcap-%s-%s", lc_optname(ok), S->methods[k % S->nm]);
        s = sy_plot_xy(S->run, name, &po, S->nfrac, labels, xs, ys, ns, SY_PLOT_LINE);
    }
    return s;
}

static sy_status lc_sweep(sy_run *run, int reproduce)
{
    lc_state S = {.run = run};
    sy_status s = lc_config(run, &S, reproduce);
    /* MNIST: the first --samples training images and the test set, both normalised by the training subset's mean
     * and std. The model reads LC_IN = 28*28 values per image and 10 classes. */
    const sy_data_contract want = {"lowcap", 1, 28, 28, LC_OUT, 1};
    if (s == SY_OK) s = sy_dataset_load_splits(sy_run_data_dir(run), "mnist", S.n, 0, &want, &S.train, &S.test);
    if (s == SY_OK) s = sy_dataset_standardize(S.train, S.test);
    /* The two graphs; the training graph holds this rank's shard: --batch over the ranks. */
    if (s == SY_OK)
        s = sy_classifier_new(&S.m, sy_shape_of(1, LC_IN), S.batch / sy_dist_size(), LC_EVAL_BATCH, lc_net, &S.hidden);
    int nres = S.nopt * S.nm * S.nfrac;
    if (s == SY_OK && (s = sy_results_new(&S.res, S.nopt * S.nm, S.nfrac, LC_NCOL, lc_cols)) == SY_OK)
        memcpy(S.res.x, S.frac, sizeof(double) * (size_t)S.nfrac); /* the points: the fractions */
    if (s == SY_OK && !(S.curves = calloc((size_t)nres, sizeof *S.curves)))
        s = sy_fail(SY_ERR_NOMEM, "lowcap: out of memory");
    /* series k = oi * nm + m: the optimizers, each over the fractions, each with every method */
    for (int oi = 0; oi < S.nopt && s == SY_OK; oi++)
        for (int f = 0; f < S.nfrac && s == SY_OK; f++)
            for (int m = 0; m < S.nm && s == SY_OK; m++) s = lc_train(&S, oi * S.nm + m, f, S.methods[m]);
    if (s == SY_OK) s = lc_records(&S);
    for (int i = 0; S.curves && i < nres; i++) sy_step_curve_free(&S.curves[i]);
    free(S.curves);
    sy_results_free(&S.res);
    sy_classifier_free(&S.m);
    sy_dataset_free(S.train), sy_dataset_free(S.test);
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
