/* The permuted-MNIST task sequence of the continual experiment
 * (continual.c, Fig. 9): the data and the pixel permutation of each task,
 * the paper's MNIST CNN, what is measured after each task, and one method
 * trained through the tasks (sy_fit_tasks), a row per task in its history. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "continual.h"
#include "unit_resets.h"

#define NPIX 784
#define F2 320  /* conv2 output after pool + relu: 20 x 4 x 4 */
#define H1 50   /* fc1 units */
#define NCLS 10

/* The columns of tasks.csv: a row's metrics. */
static const char *const rec_names[NREC] = {
    "train_loss", "train_acc", "test_acc", "avg_acc_seen", "acc_task1", "rank_conv2", "rank_conv1_channels",
    "rank_conv2_channels", "effective_rank", "dead_units", "dead_fc1", "weight_norm",
};

static sy_var cnn(void *ctx, sy_graph *g, sy_var x, int eval)
{
    cont_ctx *c = ctx;
    return sy_mnist_cnn(g, x, eval ? &c->et : &c->tt);
}

/* The dormant-unit ratios (tau 0 and 0.1) of conv1's 10 and conv2's 20
 * channels and fc1's 50 units on the rank batch, and the units a reset
 * replaced so far, as a row of dormant.csv (kept for the summary). */
static sy_status log_dormant(cont_ctx *c, int task, const float *f1, const float *f2, const float *h1)
{
    static const char *const names[CONT_NDORM] = {"dormant0_conv1", "dormant0_conv2", "dormant0_fc1", "dormant_conv1",
                                                  "dormant_conv2",  "dormant_fc1",    "units_reset"};
    const float *x[3] = {f1, f2, h1};
    const int f[3] = {10, 20, H1}, hw[3] = {144, 16, 1};
    sy_status s = SY_OK;
    for (int k = 0; k < 3 && s == SY_OK; k++) {
        s = sy_dormant_ratio(x[k], c->rank_n, f[k], hw[k], 0.0, &c->dorm[k], NULL);
        if (s == SY_OK) s = sy_dormant_ratio(x[k], c->rank_n, f[k], hw[k], 0.1, &c->dorm[3 + k], NULL);
    }
    c->dorm[6] = (double)sy_unit_reset_count(c->units, -1);
    return s == SY_OK ? sy_run_log_to(c->run, "dormant.csv", c->rec, task + 1, CONT_NDORM, names, c->dorm) : s;
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
    if ((s = sy_cov_rank(f2, c->rank_n, F2, SY_COV_RANK_THR, &r2)) != SY_OK) return s;
    if ((s = sy_channel_cov_rank(f1, c->rank_n, 10, 144, SY_COV_RANK_THR, &r1c)) != SY_OK) return s;
    if ((s = sy_channel_cov_rank(f2, c->rank_n, 20, 16, SY_COV_RANK_THR, &r2c)) != SY_OK) return s;
    if ((s = sy_effective_rank(f2, c->rank_n, F2, &rec[R_ERANK2])) != SY_OK) return s;
    if ((s = sy_dead_units_act(f2, c->rank_n, F2, 0.0f, &dead2, NULL)) != SY_OK) return s;
    if ((s = sy_dead_units_act(h1, c->rank_n, H1, 0.0f, &deadfc, NULL)) != SY_OK) return s;
    const float *w;
    if ((s = sy_params_read(c->m.ps, &w)) != SY_OK) return s;
    s = sy_frobenius_norm(w, sy_params_trainable_size(c->m.ps), &rec[R_WNORM]);
    if (s == SY_OK && c->dormant) s = log_dormant(c, task, f1, f2, h1);
    rec[R_RANK2] = r2;
    rec[R_RANK1CH] = r1c;
    rec[R_RANK2CH] = r2c;
    rec[R_DEAD2] = dead2;
    rec[R_DEADFC] = deadfc;
    return s;
}

/* Shrink-and-perturb at a task boundary, with a seed of its own per
 * boundary, never the run's seed. */
static sy_status cf_task_start(void *ctx, int task)
{
    cont_ctx *c = ctx;
    sy_rng r = sy_rng_make(c->seed, SY_STREAM_USER + 1, (uint64_t)task);
    uint64_t fseed = ((uint64_t)sy_rng_u32(&r) << 21) ^ sy_rng_u32(&r);
    if (fseed == c->seed) fseed++;
    return sy_shrink_perturb(c->m.ps, (float)c->sp_lambda, (float)c->sp_noise, fseed);
}

/* The inputs of task `task`, training batches and test images alike: its pixel permutation. */
static sy_status cf_batch(void *ctx, int task, float *x, size_t n)
{
    cont_ctx *c = ctx;
    sy_permute_pixels(x, n, NPIX, c->perm + (size_t)task * NPIX, c->tmp);
    return SY_OK;
}

/* After task t, whose row of the accuracy matrix (its own test set and every
 * earlier one's) sy_fit_tasks has put after the metrics: the features. */
static sy_status cf_task_end(void *ctx, int t, double train_loss, double train_acc, double *rec)
{
    cont_ctx *c = ctx;
    double *row = rec + NREC, mean = 0;
    for (int k = 0; k <= t; k++) mean += row[k];
    rec[R_TRAIN_LOSS] = train_loss;
    rec[R_TRAIN_ACC] = train_acc;
    rec[R_ACC] = row[t];
    rec[R_ACC_SEEN] = mean / (t + 1);
    rec[R_ACC_FIRST] = row[0];
    sy_status s = eval_features(c, t, rec);
    if (s == SY_OK) s = sy_run_log_to(c->run, "tasks.csv", c->rec, t + 1, NREC, rec_names, rec);
    if (s != SY_OK) return s;
    fprintf(stderr, "continual %s: task %d/%d  test acc %.4f (avg seen %.4f, task 1 %.4f)  rank conv2 %d/320",
            c->rec, t + 1, c->tasks, rec[R_ACC], rec[R_ACC_SEEN], rec[R_ACC_FIRST], (int)rec[R_RANK2]);
    fprintf(stderr, " (channels: conv1 %d/10, conv2 %d/20)", (int)rec[R_RANK1CH], (int)rec[R_RANK2CH]);
    fprintf(stderr, "  erank %.1f  dead %d/320 fc1 %d/50\n", rec[R_ERANK2], (int)rec[R_DEAD2], (int)rec[R_DEADFC]);
    return SY_OK;
}

static double wall_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The unit reset of method meth (none: *u stays NULL) on the training graph's
 * three hidden layers: conv1's channels, conv2's, fc1's units. */
static sy_status make_units(cont_ctx *c, sy_unit_reset_opts o, sy_optimizer *opt, sy_unit_reset **u)
{
    *u = NULL;
    if (o.kind == SY_UNIT_RESET_NONE) return SY_OK;
    const sy_unit_layer layers[3] = {{"conv1", "conv2", c->tt.conv1}, {"conv2", "fc1", c->tt.conv2},
                                     {"fc1", "fc2", c->tt.fc1}};
    o.seed = c->seed;
    return sy_unit_reset_new(&o, c->m.train, c->m.ps, opt, layers, 3, u);
}

sy_status cont_train(cont_ctx *c, sy_histories *hs, const char *meth, const char *tag, double **hist)
{
    int is_sp = strcmp(meth, SP_NAME) == 0;
    char decay[64];
    sy_unit_reset_opts ur;
    sy_status s = unit_reset_for(c->run, is_sp ? "vanilla" : meth, decay, sizeof decay, &ur);
    if (s == SY_OK) s = sy_histories_add(hs, hist, "%s%s", meth, tag);
    if (s == SY_OK) s = sy_params_init(c->m.ps, c->seed);
    if (s != SY_OK) return s;
    c->rec = hs->name[hs->n - 1];
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = (float)c->lr;
    o.momentum = (float)c->momentum;
    o.seed = c->seed;
    sy_optimizer *opt = NULL;
    s = sy_optimizer_for_method(c->m.ps, o, decay, (float)c->gamma, (float)c->sigma0, (float)c->eps, &opt);
    if (s != SY_OK) return s;
    sy_batcher_opts bo = {.batch = (size_t)c->batch, .shuffle = 1, .drop_last = 1, .seed = c->seed};
    sy_batcher *b = NULL;
    if ((s = make_units(c, ur, opt, &c->units)) == SY_OK && (s = sy_batcher_new(c->train, bo, &b)) == SY_OK) {
        char ckpt[4200], history[4200], file[128], label[96];
        snprintf(file, sizeof file, "history-%s.txt", c->rec);
        snprintf(label, sizeof label, "continual %s", c->rec);
        sy_tasks_opts to = {.fit = sy_fit_defaults(), .classifier = &c->m, .classes = NCLS, .tasks = c->tasks,
                            .epochs = c->epochs, .method = c->rec, .hist = *hist, .row = NREC + c->tasks,
                            .history = sy_run_path(c->run, file, history, sizeof history), .ctx = c,
                            .on_task_start = is_sp ? cf_task_start : NULL, .on_batch = cf_batch,
                            .on_task_end = cf_task_end, .test = c->test, .acc_col = NREC, .acc_file = "acc_matrix.csv"};
        to.fit.opt = opt, to.fit.batcher = b, to.fit.label = label, to.fit.control = sy_run_control(c->run);
        to.fit.ckpt = sy_run_ckpt_path(c->run, NULL, c->rec, ckpt, sizeof ckpt);
        to.fit.resume = sy_run_get_bool(c->run, "resume");
        to.fit.units = c->units;
        double t0 = wall_seconds();
        s = sy_fit_tasks(&to, NULL);
        long steps = (long)c->tasks * c->epochs * (long)sy_batcher_num_batches(b);
        if (s == SY_OK && c->dormant)
            fprintf(stderr,
                    "continual %s: %.3f ms per training step (task evaluations and unit resets included; %ld units "
                    "replaced)\n",
                    c->rec, 1e3 * (wall_seconds() - t0) / (double)steps, sy_unit_reset_count(c->units, -1));
    }
    sy_batcher_free(b);
    sy_unit_reset_free(c->units);
    c->units = NULL;
    sy_optimizer_free(opt);
    return s;
}

sy_status cont_setup(sy_run *run, cont_ctx *c)
{
    c->run = run;
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
    if (c->test->n < (size_t)c->rank_n) /* a test file shorter than --test-n asked */
        return sy_fail(SY_ERR_ARG, "continual: --rank-n (%d) exceeds the %zu test images", c->rank_n, c->test->n);
    if ((s = sy_dataset_standardize(c->train, c->test)) != SY_OK) return s; /* MNIST: 0.1307, 0.3081 */
    fprintf(stderr,
            "continual: %d tasks x %d epoch(s), %zu train / %zu test images per task, SGD lr %g momentum %g batch %d, "
            "gamma %g, sigma0 %g\n",
            c->tasks, c->epochs, c->train->n, c->test->n, c->lr, c->momentum, c->batch, c->gamma, c->sigma0);
    c->perm = malloc((size_t)c->tasks * NPIX * sizeof(int));
    if (!c->perm) return sy_fail(SY_ERR_NOMEM, "continual: out of memory");
    for (int t = 0; t < c->tasks; t++) sy_pixel_permutation(NPIX, c->seed, t, c->perm + (size_t)t * NPIX);
    /* Under mpirun the training graph holds this rank's shard of each batch. */
    s = sy_classifier_new(&c->m, sy_shape_of(3, 1, 28, 28), c->batch / sy_dist_size(), c->rank_n, cnn, c);
    if (s != SY_OK) return s;
    c->tmp = malloc(NPIX * sizeof(float));
    return c->tmp ? SY_OK : sy_fail(SY_ERR_NOMEM, "continual: out of memory");
}

void cont_free(cont_ctx *c)
{
    free(c->perm);
    free(c->tmp);
    sy_classifier_free(&c->m);
    sy_dataset_free(c->train);
    sy_dataset_free(c->test);
}

