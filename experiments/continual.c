/* Loss of plasticity in continual learning (paper Appendix C.6, Fig. 9).
 *
 * The paper's MNIST CNN (sy_mnist_cnn: conv 1->10 and 10->20, k5, each with
 * maxpool2 and relu, fc 320->50->10) is trained on permuted MNIST: task 1 is
 * MNIST, task k > 1 the same images under a fixed random pixel permutation,
 * the tasks one after another with SGD and weight decay gamma = 0.01. After
 * each task: the test accuracy on it (plasticity) and on every earlier task
 * (forgetting, acc_matrix.csv); on a fixed batch of 1000 test images of the
 * task, the covariance rank of conv2's 320 features (eigenvalues < 1e-4 are
 * zero, as in Fig. 9), the channel-covariance ranks of conv1 (10 channels)
 * and conv2 (20), their effective rank and dead features, and the dead fc1
 * units. Methods (same init, data order, permutations): vanilla (decay to
 * 0), syre (decay to a random theta0), l2init (decay to the initial
 * parameters) and shrink-and-perturb (plain decay; at each task boundary
 * theta <- lambda theta + p theta_fresh, a fresh default initialisation).
 *
 * The paper gives neither the learning rate nor the epochs per task: plain
 * SGD, lr 0.1, batch 64, 1 epoch per task are our choice, the same for every
 * method (docs/results/continual.md). The collapse depends strongly on the
 * rate, so `syre reproduce fig9` also runs vanilla and syre at --sweep-lr.
 * Quick: 4 tasks on the first 6000 / 2000 images. Checkpoints at every epoch
 * end (epoch = epochs of all tasks trained), the per-task history beside
 * them, for --resume. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

#define NPIX 784
#define F2 320  /* conv2 output after pool + relu: 20 x 4 x 4 */
#define H1 50   /* fc1 units */
#define NCLS 10
#define SP_NAME "shrink-perturb"
#define MAX_METHODS 16

static const sy_flag_spec cont_flags[] = {
    {"tasks", "tasks trained one after another: task 1 = MNIST, then fixed pixel permutations (quick: 4)", "10",
     SY_FLAG_INT, 1, 1000},
    {"epochs", "epochs per task (our choice: the paper gives none)", "1", SY_FLAG_INT, 1, 10000},
    {"lr", "SGD learning rate, constant, same for every method and task (our choice: the paper gives none)", "0.1",
     SY_FLAG_DOUBLE, 1e-6, 10},
    {"momentum", "SGD momentum (PyTorch semantics); the paper says plain SGD", "0", SY_FLAG_DOUBLE, 0, 0.999},
    {"batch", "SGD batch size (last short batch of an epoch dropped)", "64", SY_FLAG_INT, 1, 60000},
    {"gamma", "weight decay as PyTorch's weight_decay (= 2 gamma of Eq. 2); paper: 0.01", "0.01", SY_FLAG_DOUBLE, 0,
     100},
    {"method", "methods: vanilla (decay to 0), syre (decay to theta0), l2init (decay to the init), syre-ar, none",
     "vanilla,syre,l2init", SY_FLAG_METHODS, 0, 0},
    {"shrink-perturb", "also run shrink-and-perturb (plain decay; at task boundaries theta <- lambda theta + p fresh)",
     "1", SY_FLAG_BOOL, 0, 0},
    {"sp-lambda", "shrink-and-perturb: shrink factor lambda", "0.6", SY_FLAG_DOUBLE, 0, 1},
    {"sp-noise", "shrink-and-perturb: weight p of the fresh initialisation", "0.1", SY_FLAG_DOUBLE, 0, 10},
    {"train-n", "training images per task, first n of MNIST train (0 = all 60000; quick: 6000)", "0", SY_FLAG_INT, 0,
     60000},
    {"test-n", "test images per task, first n of MNIST test (quick: 2000)", "10000", SY_FLAG_INT, 1, 10000},
    {"rank-n", "test images of the task in the rank batch (paper: 1000); also the evaluation batch", "1000",
     SY_FLAG_INT, 2, 10000},
    {"sweep-lr", "reproduce only: also run vanilla and syre at these learning rates (comma-separated)", "0.05,0.2",
     SY_FLAG_STRING, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

/* Metrics of one task, in this order in the history file. */
enum {
    R_TRAIN_LOSS, R_TRAIN_ACC, R_ACC, R_ACC_SEEN, R_ACC_FIRST, R_RANK2, R_RANK1CH, R_RANK2CH, R_ERANK2, R_DEAD2,
    R_DEADFC, R_WNORM, NREC
};
static const char *const rec_names[NREC] = {
    "train_loss", "train_acc", "test_acc", "avg_acc_seen", "acc_task1", "rank_conv2", "rank_conv1_channels",
    "rank_conv2_channels", "effective_rank", "dead_units", "dead_fc1", "weight_norm",
};

typedef struct {
    int tasks, epochs, batch, rank_n;
    double lr, momentum, gamma, sigma0, eps, sp_lambda, sp_noise;
    uint64_t seed;
    sy_dataset *train, *test;
    int *perm; /* [tasks][NPIX] */
    sy_classifier m;      /* training graph (batch), evaluation graph (rank_n) */
    sy_mnist_cnn_taps et; /* the evaluation graph's features */
    float *tmp;
} cont_ctx;

static sy_var cnn(void *ctx, sy_graph *g, sy_var x, int eval)
{
    sy_mnist_cnn_taps unused;
    return sy_mnist_cnn(g, x, eval ? &((cont_ctx *)ctx)->et : &unused);
}

static sy_status build(cont_ctx *c)
{
    /* Under mpirun the training graph holds this rank's shard of each batch. */
    sy_status s = sy_classifier_new(&c->m, sy_shape_of(3, 1, 28, 28), c->batch / sy_dist_size(), c->rank_n, cnn, c);
    if (s != SY_OK) return s;
    c->tmp = malloc(NPIX * sizeof(float));
    return c->tmp ? SY_OK : sy_fail(SY_ERR_NOMEM, "continual: out of memory");
}

/* Test accuracy on task `task`: the test images under its permutation. */
typedef struct {
    cont_ctx *c;
    int task;
} cont_perm;

static void permute(void *ctx, float *x, size_t n)
{
    cont_perm *p = ctx;
    sy_permute_pixels(x, n, NPIX, p->c->perm + (size_t)p->task * NPIX, p->c->tmp);
}

static sy_status eval_acc(cont_ctx *c, int task, double *acc)
{
    cont_perm p = {c, task};
    return sy_eval_classifier(c->m.eval, c->m.ex, c->m.elogits, c->test, permute, &p, NULL, acc);
}

/* Ranks, effective rank and dead units on the first rank_n test images of the
 * task: conv1 (10 channels x 144 positions) and conv2 (20 x 16) also by their
 * channel covariance, conv1's 1440 outputs being more than the batch can give
 * rank to. */
static sy_status eval_features(cont_ctx *c, int task, double *rec)
{
    float *x = sy_graph_data(c->m.eval, c->m.ex);
    memcpy(x, c->test->x, (size_t)c->rank_n * NPIX * sizeof(float)); /* rank_n <= test-n, checked at start */
    sy_permute_pixels(x, (size_t)c->rank_n, NPIX, c->perm + (size_t)task * NPIX, c->tmp);
    sy_status s = sy_graph_forward(c->m.eval);
    if (s != SY_OK) return s;
    const float *f2 = sy_graph_data(c->m.eval, c->et.conv2), *f1 = sy_graph_data(c->m.eval, c->et.conv1);
    const float *h1 = sy_graph_data(c->m.eval, c->et.fc1);
    int r2 = 0, r1c = 0, r2c = 0, dead2 = 0, deadfc = 0;
    double er = 0, wn = 0;
    if ((s = sy_cov_rank(f2, c->rank_n, F2, 1.0, SY_COV_RANK_THR, &r2)) != SY_OK) return s;
    if ((s = sy_channel_cov_rank(f1, c->rank_n, 10, 144, SY_COV_RANK_THR, &r1c)) != SY_OK) return s;
    if ((s = sy_channel_cov_rank(f2, c->rank_n, 20, 16, SY_COV_RANK_THR, &r2c)) != SY_OK) return s;
    if ((s = sy_effective_rank(f2, c->rank_n, F2, &er)) != SY_OK) return s;
    if ((s = sy_dead_units_act(f2, c->rank_n, F2, 0.0f, &dead2, NULL)) != SY_OK) return s;
    if ((s = sy_dead_units_act(h1, c->rank_n, H1, 0.0f, &deadfc, NULL)) != SY_OK) return s;
    if ((s = sy_frobenius_norm(sy_params_data(c->m.ps), sy_params_trainable_size(c->m.ps), &wn)) != SY_OK) return s;
    rec[R_RANK2] = r2;
    rec[R_RANK1CH] = r1c;
    rec[R_RANK2CH] = r2c;
    rec[R_ERANK2] = er;
    rec[R_DEAD2] = dead2;
    rec[R_DEADFC] = deadfc;
    rec[R_WNORM] = wn;
    return SY_OK;
}

/* hist holds a row of W = NREC + tasks numbers per task: its metrics, then
 * its row of the accuracy matrix (NaN for tasks not seen yet). */
typedef struct {
    sy_run *run;
    cont_ctx *c;
    const char *rec;
} cont_fit;

/* Shrink-and-perturb at a task boundary, with a seed of its own per
 * boundary, never the run's seed. */
static sy_status cf_task_start(void *ctx, int task)
{
    cont_ctx *c = ((cont_fit *)ctx)->c;
    sy_rng r = sy_rng_make(c->seed, SY_STREAM_USER + 1, (uint64_t)task);
    uint64_t fseed = ((uint64_t)sy_rng_u32(&r) << 21) ^ sy_rng_u32(&r);
    if (fseed == c->seed) fseed++;
    return sy_shrink_perturb(c->m.ps, (float)c->sp_lambda, (float)c->sp_noise, fseed);
}

static sy_status cf_batch(void *ctx, int task, float *x, size_t n)
{
    cont_ctx *c = ((cont_fit *)ctx)->c;
    sy_permute_pixels(x, n, NPIX, c->perm + (size_t)task * NPIX, c->tmp);
    return SY_OK;
}

/* After task t: its own test set and every earlier one, the features. */
static sy_status cf_task_end(void *ctx, int t, double train_loss, double train_acc, double *rec)
{
    cont_fit *f = ctx;
    cont_ctx *c = f->c;
    double *row = rec + NREC, mean = 0;
    sy_status s = SY_OK;
    rec[R_TRAIN_LOSS] = train_loss;
    rec[R_TRAIN_ACC] = train_acc;
    for (int k = 0; k <= t && s == SY_OK; k++) {
        s = eval_acc(c, k, &row[k]);
        mean += row[k];
    }
    if (s != SY_OK) return s;
    rec[R_ACC] = row[t];
    rec[R_ACC_SEEN] = mean / (t + 1);
    rec[R_ACC_FIRST] = row[0];
    if ((s = eval_features(c, t, rec)) != SY_OK) return s;
    if ((s = sy_run_log_to(f->run, "tasks.csv", f->rec, t + 1, NREC, rec_names, rec)) != SY_OK) return s;
    for (int k = 0; k <= t && s == SY_OK; k++) {
        const char *an[2] = {"eval_task", "test_acc"};
        double av[2] = {k + 1, row[k]};
        s = sy_run_log_to(f->run, "acc_matrix.csv", f->rec, t + 1, 2, an, av);
    }
    if (s != SY_OK) return s;
    fprintf(stderr, "continual %s: task %d/%d  test acc %.4f (avg seen %.4f, task 1 %.4f)  rank conv2 %d/320",
            f->rec, t + 1, c->tasks, rec[R_ACC], rec[R_ACC_SEEN], rec[R_ACC_FIRST], (int)rec[R_RANK2]);
    fprintf(stderr, " (channels: conv1 %d/10, conv2 %d/20)", (int)rec[R_RANK1CH], (int)rec[R_RANK2CH]);
    fprintf(stderr, "  erank %.1f  dead %d/320 fc1 %d/50\n", rec[R_ERANK2], (int)rec[R_DEAD2], (int)rec[R_DEADFC]);
    return SY_OK;
}

/* Train one method over all tasks into hist [tasks][NREC + tasks]. */
static sy_status run_method(sy_run *run, cont_ctx *c, const char *meth, const char *rec, double *hist)
{
    int is_sp = strcmp(meth, SP_NAME) == 0;
    sy_status s = sy_params_init(c->m.ps, c->seed);
    if (s != SY_OK) return s;
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = (float)c->lr;
    o.momentum = (float)c->momentum;
    o.seed = c->seed;
    sy_optimizer *opt = NULL;
    s = sy_optimizer_for_method(c->m.ps, o, is_sp ? "vanilla" : meth, (float)c->gamma, (float)c->sigma0, (float)c->eps,
                                &opt);
    if (s != SY_OK) return s;
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = (size_t)c->batch;
    bo.drop_last = 1;
    bo.seed = c->seed;
    sy_batcher *b = NULL;
    if ((s = sy_batcher_new(c->train, bo, &b)) == SY_OK) {
        cont_fit f = {run, c, rec};
        char ckpt[4200], history[4200], file[128], label[96];
        snprintf(file, sizeof file, "history-%s.txt", rec);
        snprintf(label, sizeof label, "continual %s", rec);
        sy_tasks_opts to = {.fit = sy_fit_defaults(), .logits = c->m.logits, .classes = NCLS, .tasks = c->tasks,
                            .epochs = c->epochs, .method = rec, .hist = hist, .row = NREC + c->tasks,
                            .history = sy_run_path(run, file, history, sizeof history), .ctx = &f,
                            .on_task_start = is_sp ? cf_task_start : NULL, .on_batch = cf_batch,
                            .on_task_end = cf_task_end};
        to.fit.graph = c->m.train, to.fit.loss = c->m.loss, to.fit.params = c->m.ps, to.fit.opt = opt;
        to.fit.batcher = b, to.fit.x = c->m.x, to.fit.y = c->m.y, to.fit.label = label;
        to.fit.control = sy_run_control(run), to.fit.ckpt = sy_run_ckpt_path(run, NULL, rec, ckpt, sizeof ckpt);
        to.fit.resume = sy_run_get_bool(run, "resume");
        s = sy_fit_tasks(&to, NULL);
    }
    sy_batcher_free(b);
    sy_optimizer_free(opt);
    return s;
}

/* Summary of a method: its last task, first task, mean or minimum over tasks. */
enum { LAST, FIRST, MEAN, MIN };
static const struct {
    const char *key;
    int k, of;
} sums[] = {
    {"test_acc", R_ACC, LAST},           {"test_acc_task1", R_ACC, FIRST},
    {"test_acc_mean", R_ACC, MEAN},      {"test_acc_min", R_ACC, MIN},
    {"avg_acc_all_tasks", R_ACC_SEEN, LAST}, {"train_acc", R_TRAIN_ACC, LAST},
    {"train_loss", R_TRAIN_LOSS, LAST},  {"rank_conv2", R_RANK2, LAST},
    {"rank_conv2_task1", R_RANK2, FIRST}, {"rank_conv2_min", R_RANK2, MIN},
    {"rank_conv1_channels", R_RANK1CH, LAST}, {"rank_conv2_channels", R_RANK2CH, LAST},
    {"effective_rank", R_ERANK2, LAST},  {"dead_units", R_DEAD2, LAST},
    {"dead_fc1", R_DEADFC, LAST},        {"weight_norm", R_WNORM, LAST},
};

static sy_status summarise(sy_run *run, const cont_ctx *c, const char *meth, const char *rec, const double *hist)
{
    int T = c->tasks, W = NREC + T;
    sy_run_summary_settingf(run, rec, "gamma (PyTorch weight_decay)", "%g", c->gamma);
    sy_run_summary_settingf(run, rec, "lr", "%g", c->lr);
    if (strcmp(meth, SP_NAME) == 0)
        sy_run_summary_settingf(run, rec, "shrink-perturb", "lambda %g, p %g", c->sp_lambda, c->sp_noise);
    sy_status s = SY_OK;
    for (size_t i = 0; i < sizeof sums / sizeof sums[0] && s == SY_OK; i++) {
        int k = sums[i].k;
        double v = sums[i].of == LAST ? hist[(T - 1) * W + k] : sums[i].of == FIRST ? hist[k] : 0;
        if (sums[i].of == MIN) v = INFINITY;
        for (int t = 0; t < T && sums[i].of >= MEAN; t++) {
            if (sums[i].of == MEAN) v += hist[t * W + k] / T;
            if (sums[i].of == MIN && hist[t * W + k] < v) v = hist[t * W + k];
        }
        s = sy_run_summary(run, rec, sums[i].key, v);
    }
    for (int k = 0; k < 2; k++)
        for (int t = 0; t < T && s == SY_OK; t++) {
            char key[48];
            snprintf(key, sizeof key, "%s task %d", k ? "rank_conv2" : "test_acc", t + 1);
            s = sy_run_summary(run, rec, key, hist[t * W + (k ? R_RANK2 : R_ACC)]);
        }
    return s;
}

/* One figure: metric k of every method against the task number. */
static sy_status plot_metric(sy_run *run, const cont_ctx *c, const char *const *names, int nm, double **hists, int k,
                             const char *file, const char *title, const char *ylabel, double ymin, double ymax)
{
    sy_plot *p = sy_plot_new(title, "task (1 = MNIST, then pixel permutations)", ylabel);
    double xs[1000], ys[1000]; /* --tasks <= 1000 */
    sy_status s = SY_OK;
    for (int m = 0; m < nm && p && s == SY_OK; m++) {
        for (int t = 0; t < c->tasks; t++) xs[t] = t + 1, ys[t] = hists[m][t * (NREC + c->tasks) + k];
        s = sy_plot_series(p, names[m], xs, ys, c->tasks, SY_PLOT_LINE_POINTS);
    }
    if (s != SY_OK) {
        sy_plot_free(p);
        return s;
    }
    if (p) sy_plot_xrange(p, 0.5, c->tasks + 0.5);
    if (p && ymin < ymax) sy_plot_yrange(p, ymin, ymax);
    return sy_plot_save_run(p, run, file);
}

/* Load and normalise the data, draw the permutations, build the model. */
static sy_status cont_setup(sy_run *run, cont_ctx *c)
{
    c->tasks = (int)sy_run_get_int(run, "tasks");
    c->epochs = (int)sy_run_get_int(run, "epochs");
    c->lr = sy_run_get_double(run, "lr");
    c->momentum = sy_run_get_double(run, "momentum");
    c->batch = (int)sy_run_get_int(run, "batch");
    c->gamma = sy_run_get_double(run, "gamma");
    c->sigma0 = sy_run_get_double(run, "sigma0");
    c->eps = sy_run_get_double(run, "eps");
    c->sp_lambda = sy_run_get_double(run, "sp-lambda");
    c->sp_noise = sy_run_get_double(run, "sp-noise");
    c->rank_n = (int)sy_run_get_int(run, "rank-n");
    c->seed = sy_run_seed(run);
    long train_n = sy_run_get_int(run, "train-n"), test_n = sy_run_get_int(run, "test-n");
    if (c->rank_n > test_n)
        return sy_fail(SY_ERR_ARG, "continual: --rank-n (%d) must not exceed --test-n (%ld)", c->rank_n, test_n);
    /* The graphs take [1, 28, 28] images (NPIX pixels, permuted per task) and 10 classes. */
    const sy_data_contract want = {"continual", 1, 28, 28, 10, 1};
    sy_status s = sy_dataset_load_n(sy_run_data_dir(run), "mnist", "train", train_n, 0, &want, &c->train);
    if (s == SY_OK) s = sy_dataset_load_n(sy_run_data_dir(run), "mnist", "test", test_n, 0, &want, &c->test);
    if (s != SY_OK) return s;
    if (c->train->n < (size_t)c->batch)
        return sy_fail(SY_ERR_ARG, "continual: --batch (%d) exceeds the %zu training images", c->batch, c->train->n);
    if ((s = sy_dataset_standardize(c->train, c->test)) != SY_OK) return s; /* MNIST: 0.1307, 0.3081 */
    fprintf(stderr,
            "continual: %d tasks x %d epoch(s), %zu train / %zu test images per task, SGD lr %g momentum %g batch %d, "
            "gamma %g, sigma0 %g\n",
            c->tasks, c->epochs, c->train->n, c->test->n, c->lr, c->momentum, c->batch, c->gamma, c->sigma0);
    c->perm = malloc((size_t)c->tasks * NPIX * sizeof(int));
    if (!c->perm) return sy_fail(SY_ERR_NOMEM, "continual: out of memory");
    for (int t = 0; t < c->tasks; t++) sy_pixel_permutation(NPIX, c->seed, t, c->perm + (size_t)t * NPIX);
    return build(c);
}

static void cont_free(cont_ctx *c)
{
    free(c->perm);
    free(c->tmp);
    sy_classifier_free(&c->m);
    sy_dataset_free(c->train);
    sy_dataset_free(c->test);
}

/* Methods to run: --method, then shrink-and-perturb unless turned off. */
static sy_status method_list(sy_run *run, const char **names, int *nm)
{
    int nm0;
    const char *const *m0 = sy_run_methods(run, &nm0);
    *nm = 0;
    for (int i = 0; i < nm0 && *nm < MAX_METHODS - 1; i++) {
        if (strcmp(m0[i], "wfix") == 0 || strcmp(m0[i], "dropout") == 0)
            return sy_fail(SY_ERR_ARG, "continual: --method %s is not supported (vanilla, syre, syre-ar, l2init, none)",
                           m0[i]);
        names[(*nm)++] = m0[i];
    }
    if (sy_run_get_bool(run, "shrink-perturb")) names[(*nm)++] = SP_NAME;
    if (*nm == 0) return sy_fail(SY_ERR_ARG, "continual: no method to run (--method, --shrink-perturb)");
    return SY_OK;
}

/* Run `nm` methods at the context's settings; records are named recs[m].
 * hists[m] gets tasks * (NREC + tasks) numbers (allocated here; the caller frees). */
static sy_status run_setting(sy_run *run, cont_ctx *c, const char *const *meths, const char *const *recs, int nm,
                             double **hists)
{
    sy_status s = SY_OK;
    for (int m = 0; m < nm && s == SY_OK; m++) {
        hists[m] = malloc(sizeof(double) * (size_t)c->tasks * (NREC + c->tasks));
        if (!hists[m]) return sy_fail(SY_ERR_NOMEM, "continual: out of memory");
        s = run_method(run, c, meths[m], recs[m], hists[m]);
        if (s == SY_OK) s = summarise(run, c, meths[m], recs[m], hists[m]);
    }
    return s;
}

static sy_status main_plots(sy_run *run, const cont_ctx *c, const char *const *names, int nm, double **hists)
{
    static const struct {
        int k;
        const char *file, *title, *ylabel;
        double ymin, ymax;
    } figs[] = {
        {R_ACC, "continual-acc", NULL, "test accuracy", 0, 1},
        {R_RANK2, "continual-rank", "Rank of conv2 output (320 features, eigenvalues < 1e-4 -> 0)", "covariance rank",
         0, 330},
        {R_ERANK2, "continual-erank", "Effective rank of conv2 output (320 features)", "effective rank", 0, 0},
        {R_DEAD2, "continual-dead", "Dead conv2 features (never positive on the batch), of 320", "dead features", 0,
         330},
        {R_ACC_SEEN, "continual-forgetting", "Forgetting: mean test accuracy over all tasks seen so far",
         "test accuracy", 0, 1},
        {R_ACC_FIRST, "continual-task1", "Forgetting: test accuracy on task 1 (MNIST) after each task",
         "test accuracy", 0, 1},
    };
    char title[256];
    snprintf(title, sizeof title, "Permuted MNIST: accuracy on each new task (lr %g, %d ep/task)", c->lr, c->epochs);
    sy_status s = SY_OK;
    for (size_t i = 0; i < sizeof figs / sizeof figs[0] && s == SY_OK; i++)
        s = plot_metric(run, c, names, nm, hists, figs[i].k, figs[i].file, figs[i].title ? figs[i].title : title,
                        figs[i].ylabel, figs[i].ymin, figs[i].ymax);
    return s;
}

/* `syre run continual`; for `reproduce` (fig9) with the --sweep-lr rates:
 * the vanilla/syre comparison again at each, because the paper gives no
 * learning rate and the collapse depends on it. */
static sy_status cont_main(sy_run *run, int sweep)
{
    double lrs[8];
    int nlr = 0, nm = 0, ns = 0;
    sy_status s = SY_OK;
    if (sweep && sy_run_get_str(run, "sweep-lr")[0]) /* empty: no sweep */
        s = sy_run_get_numbers(run, "sweep-lr", 0, 1, 10, lrs, 8, &nlr);
    cont_ctx c = {0};
    const char *names[MAX_METHODS], *snames[2 * 9], *pair[2] = {"vanilla", "syre"};
    double *hists[MAX_METHODS] = {0}, *shist[2 * 9] = {0};
    char recbuf[2 * 8][48];
    if (s == SY_OK) s = method_list(run, names, &nm);
    if (s == SY_OK) s = cont_setup(run, &c);
    if (s == SY_OK) s = run_setting(run, &c, names, names, nm, hists);
    if (s == SY_OK) s = main_plots(run, &c, names, nm, hists);
    /* The sweep: vanilla and syre at each extra rate, plus the main run's. */
    for (int k = 0; k < 2 && s == SY_OK && nlr > 0; k++)
        for (int m = 0; m < nm; m++)
            if (strcmp(names[m], pair[k]) == 0) snames[ns] = names[m], shist[ns++] = hists[m];
    int nmain = ns;
    double lr0 = c.lr;
    for (int i = 0; i < nlr && s == SY_OK; i++) {
        if (lrs[i] == lr0) continue;
        c.lr = lrs[i];
        const char *recs[2];
        for (int k = 0; k < 2; k++) {
            snprintf(recbuf[2 * i + k], sizeof recbuf[0], "%s@lr%g", pair[k], lrs[i]);
            snames[ns + k] = recs[k] = recbuf[2 * i + k];
        }
        s = run_setting(run, &c, pair, recs, 2, shist + ns);
        ns += 2;
    }
    c.lr = lr0;
    if (s == SY_OK && ns > nmain) {
        char title[200];
        snprintf(title, sizeof title, "lr sweep: accuracy on each new task (plain names: lr %g)", lr0);
        s = plot_metric(run, &c, snames, ns, shist, R_ACC, "continual-sweep-acc", title, "test accuracy", 0, 1);
        if (s == SY_OK)
            s = plot_metric(run, &c, snames, ns, shist, R_RANK2, "continual-sweep-rank",
                            "lr sweep: rank of conv2 output (of 320)", "covariance rank", 0, 330);
    }
    for (int i = nmain; i < ns; i++) free(shist[i]);
    for (int m = 0; m < nm; m++) free(hists[m]);
    cont_free(&c);
    return s;
}

static sy_status cont_run(sy_run *run) { return cont_main(run, 0); }
static sy_status cont_reproduce(sy_run *run) { return cont_main(run, 1); }

const sy_experiment sy_exp_continual = {
    .name = "continual",
    .figure = "Fig. 9",
    .summary = "CNN on permuted MNIST, tasks one after another: vanilla's conv rank and accuracy collapse, syre's not",
    .flags = cont_flags,
    .run = cont_run,
    .reproduce_id = "fig9",
    .reproduce = cont_reproduce,
    .data_parallel = 1,
    .quick = "tasks=4;train-n=6000;test-n=2000",
    .stops = 1,
};
