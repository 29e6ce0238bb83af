/* Loss of plasticity in continual learning (paper Appendix C.6, Fig. 9).
 *
 * A small CNN, conv(1->10, k5) - maxpool2 - relu - conv(10->20, k5) -
 * maxpool2 - relu - flatten(320) - fc(320->50) - relu - fc(50->10), is
 * trained on permuted MNIST: task 1 is MNIST itself, task k > 1 the same
 * images under a fixed random pixel permutation (sy_pixel_permutation), the
 * tasks one after another with SGD and weight decay gamma = 0.01. After each
 * task we measure
 *   - the test accuracy on that task (plasticity) and on every earlier task
 *     (forgetting, kept apart in acc_matrix.csv);
 *   - the covariance rank of the conv output over a fixed batch of 1000
 *     test images of the task (conv2 after maxpool+relu = the 320 features fed
 *     to fc1), eigenvalues below 1e-4 counted as zero (SY_COV_RANK_THR, as in
 *     Fig. 9); and the rank of the channel covariance of conv1 (10 channels)
 *     and conv2 (20), every (image, position) a sample: conv1's 1440 outputs
 *     are more than a 1000-image batch can give rank to;
 *   - the effective rank of the 320 features and the dead ones (never
 *     positive on the batch), plus the dead fc1 units.
 * Methods (same init, data order, permutations): vanilla (decay toward 0),
 * syre (decay toward a random theta0, same gamma), l2init (decay toward the
 * initial parameters) and shrink-and-perturb (plain decay, and at each task
 * boundary theta <- lambda theta + p theta_fresh with theta_fresh a new
 * PyTorch-default initialisation from its own seed).
 *
 * The paper gives neither the learning rate nor the epochs per task; the
 * defaults below (plain SGD, lr 0.1, batch 64, 1 epoch per task over all
 * 60000 images) are our choice, the same for every method (see
 * docs/results/continual.md). The collapse depends strongly on the rate, so
 * `syre reproduce fig9` also runs vanilla and syre at --sweep-lr. Quick:
 * 4 tasks on the first 6000 / 2000 images. Checkpoints at task boundaries
 * (epoch = tasks done) with the per-task history beside them, for --resume. */
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
/* The quick scale (what the test suite runs). */
#define QUICK_TASKS 4
#define QUICK_TRAIN_N 6000
#define QUICK_TEST_N 2000

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
    {"shrink-perturb", "also run shrink-and-perturb (plain decay; at each task boundary theta <- lambda theta + p fresh init)",
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
    int **perm; /* [tasks][NPIX] */
    /* model */
    sy_params *ps;
    sy_graph *gt, *ge; /* training graph (batch), evaluation graph (rank_n) */
    sy_var tx, ty, tlogits, tloss;
    sy_var ex, elogits, ef1, ef2, eh1;
    float *tmp;
} cont_ctx;

static sy_var cnn(sy_graph *g, sy_var x, sy_var *f1, sy_var *f2, sy_var *h1)
{
    sy_mnist_cnn_taps t;
    sy_var y = sy_mnist_cnn(g, x, &t);
    if (f1) *f1 = t.conv1;
    if (f2) *f2 = t.conv2;
    if (h1) *h1 = t.fc1;
    return y;
}

static sy_status build(cont_ctx *c)
{
    c->ps = sy_params_new();
    c->gt = sy_graph_new(c->ps);
    c->ge = sy_graph_new(c->ps);
    if (!c->ps || !c->gt || !c->ge) return sy_fail(SY_ERR_NOMEM, "continual: out of memory");
    /* Under mpirun the training graph holds this rank's shard of each batch. */
    int lb = c->batch / sy_dist_size();
    c->tx = sy_input(c->gt, "x", sy_shape_of(4, lb, 1, 28, 28));
    c->ty = sy_input(c->gt, "y", sy_shape_of(1, lb));
    c->tlogits = cnn(c->gt, c->tx, NULL, NULL, NULL);
    c->tloss = sy_softmax_ce(c->gt, c->tlogits, c->ty);
    sy_status s = sy_graph_compile(c->gt);
    if (s != SY_OK) return s;
    c->ex = sy_input(c->ge, "x", sy_shape_of(4, c->rank_n, 1, 28, 28));
    c->elogits = cnn(c->ge, c->ex, &c->ef1, &c->ef2, &c->eh1);
    if ((s = sy_graph_compile(c->ge)) != SY_OK) return s;
    sy_graph_set_training(c->ge, 0);
    c->tmp = malloc(NPIX * sizeof(float));
    return c->tmp ? SY_OK : sy_fail(SY_ERR_NOMEM, "continual: out of memory");
}

static int argmax10(const float *z)
{
    int k = 0;
    for (int j = 1; j < NCLS; j++)
        if (z[j] > z[k]) k = j;
    return k;
}

/* Test accuracy on task `task` (first d->n test images under its permutation). */
static sy_status eval_acc(cont_ctx *c, int task, double *acc)
{
    const sy_dataset *d = c->test;
    float *x = sy_graph_data(c->ge, c->ex);
    size_t correct = 0;
    for (size_t i0 = 0; i0 < d->n; i0 += (size_t)c->rank_n) {
        size_t nb = d->n - i0 < (size_t)c->rank_n ? d->n - i0 : (size_t)c->rank_n;
        memcpy(x, d->x + i0 * NPIX, nb * NPIX * sizeof(float));
        if (nb < (size_t)c->rank_n) memset(x + nb * NPIX, 0, ((size_t)c->rank_n - nb) * NPIX * sizeof(float));
        sy_permute_pixels(x, nb, NPIX, c->perm[task], c->tmp);
        sy_status s = sy_graph_forward(c->ge);
        if (s != SY_OK) return s;
        const float *z = sy_graph_data(c->ge, c->elogits);
        for (size_t i = 0; i < nb; i++) correct += argmax10(z + i * NCLS) == d->y[i0 + i];
    }
    *acc = (double)correct / (double)d->n;
    return SY_OK;
}

/* Rank of the channel covariance of a conv output X [n, C*HW] (NCHW order):
 * every (image, position) is a sample of the C channels. The full conv1
 * output has 1440 features, more than a 1000-image batch can give rank to
 * (a centred covariance of n samples has rank <= n - 1), so for conv1 this
 * is the meaningful rank; it is at most C. */
static sy_status channel_rank(const float *X, int n, int C, int HW, int *rank)
{
    size_t rows = (size_t)n * HW;
    float *T = malloc(rows * C * sizeof(float));
    if (!T) return sy_fail(SY_ERR_NOMEM, "continual: out of memory");
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < C; ch++)
            for (int p = 0; p < HW; p++) T[((size_t)i * HW + p) * C + ch] = X[((size_t)i * C + ch) * HW + p];
    sy_status s = sy_cov_rank(T, (int)rows, C, 1.0, SY_COV_RANK_THR, rank);
    free(T);
    return s;
}

/* Ranks, effective rank and dead units on the first rank_n test images of the task. */
static sy_status eval_features(cont_ctx *c, int task, double *rec)
{
    const sy_dataset *d = c->test;
    float *x = sy_graph_data(c->ge, c->ex);
    size_t nb = (size_t)c->rank_n; /* rank_n <= test-n, checked at start */
    memcpy(x, d->x, nb * NPIX * sizeof(float));
    sy_permute_pixels(x, nb, NPIX, c->perm[task], c->tmp);
    sy_status s = sy_graph_forward(c->ge);
    if (s != SY_OK) return s;
    const float *f2 = sy_graph_data(c->ge, c->ef2), *f1 = sy_graph_data(c->ge, c->ef1);
    const float *h1 = sy_graph_data(c->ge, c->eh1);
    int r2 = 0, r1c = 0, r2c = 0, dead2 = 0, deadfc = 0;
    double er = 0;
    if ((s = sy_cov_rank(f2, c->rank_n, F2, 1.0, SY_COV_RANK_THR, &r2)) != SY_OK) return s;
    if ((s = channel_rank(f1, c->rank_n, 10, 144, &r1c)) != SY_OK) return s;
    if ((s = channel_rank(f2, c->rank_n, 20, 16, &r2c)) != SY_OK) return s;
    if ((s = sy_effective_rank(f2, c->rank_n, F2, &er)) != SY_OK) return s;
    if ((s = sy_dead_units_act(f2, c->rank_n, F2, 0.0f, &dead2, NULL)) != SY_OK) return s;
    if ((s = sy_dead_units_act(h1, c->rank_n, H1, 0.0f, &deadfc, NULL)) != SY_OK) return s;
    double wn = 0;
    if ((s = sy_frobenius_norm(sy_params_data(c->ps), sy_params_trainable_size(c->ps), &wn)) != SY_OK) return s;
    rec[R_RANK2] = r2;
    rec[R_RANK1CH] = r1c;
    rec[R_RANK2CH] = r2c;
    rec[R_ERANK2] = er;
    rec[R_DEAD2] = dead2;
    rec[R_DEADFC] = deadfc;
    rec[R_WNORM] = wn;
    return SY_OK;
}

/* theta <- lambda theta + p theta_fresh on every trainable tensor, theta_fresh
 * a fresh default initialisation of the same model from its own seed (a
 * second store with the same tensors, initialised by sy_params_init). */
static sy_status shrink_perturb(cont_ctx *c, int task)
{
    sy_params *fresh = sy_params_new();
    if (!fresh) return sy_fail(SY_ERR_NOMEM, "continual: out of memory");
    sy_status s = SY_OK;
    int n = sy_params_count(c->ps);
    for (int i = 0; i < n && s == SY_OK; i++) {
        const sy_param_info *pi = sy_params_info(c->ps, i);
        if (sy_params_add(fresh, pi->name, pi->shape, pi->fan_in, pi->init, pi->trainable) < 0)
            s = sy_fail(SY_ERR_STATE, "continual: cannot copy tensor %s for shrink-and-perturb", pi->name);
    }
    /* A seed of its own per boundary, never the run's seed. */
    sy_rng r = sy_rng_make(c->seed, SY_STREAM_USER + 1, (uint64_t)task);
    uint64_t fseed = ((uint64_t)sy_rng_u32(&r) << 21) ^ sy_rng_u32(&r);
    if (fseed == c->seed) fseed++;
    if (s == SY_OK) s = sy_params_init(fresh, fseed);
    float lam = (float)c->sp_lambda, p = (float)c->sp_noise;
    for (int i = 0; i < n && s == SY_OK; i++) {
        const sy_param_info *pi = sy_params_info(c->ps, i);
        if (!pi->trainable) continue;
        float *w = sy_params_tensor(c->ps, i);
        const float *f = sy_params_tensor(fresh, sy_params_find(fresh, pi->name));
        for (size_t j = 0; j < pi->numel; j++) w[j] = lam * w[j] + p * f[j];
    }
    sy_params_free(fresh);
    return s;
}

/* The per-task history of a method: `tasks` lines of NREC + tasks numbers
 * (the accuracy-matrix row, NaN for tasks not seen yet), written atomically
 * next to the checkpoint so that --resume can rebuild the curves. */
static sy_status save_history(sy_run *run, const char *meth, const cont_ctx *c, const double *hist,
                              const double *accm, int done)
{
    size_t cap = (size_t)done * (size_t)(NREC + c->tasks) * 26 + 64, len = 0;
    char *buf = malloc(cap), path[4200], file[128];
    if (!buf) return sy_fail(SY_ERR_NOMEM, "continual: out of memory");
    for (int t = 0; t < done; t++) {
        for (int k = 0; k < NREC; k++)
            len += (size_t)snprintf(buf + len, cap - len, "%.17g ", hist[t * NREC + k]);
        for (int k = 0; k < c->tasks; k++)
            len += (size_t)snprintf(buf + len, cap - len, "%.17g ", accm[t * c->tasks + k]);
        len += (size_t)snprintf(buf + len, cap - len, "\n");
    }
    snprintf(file, sizeof file, "history-%s.txt", meth);
    sy_status s = sy_write_file_atomic(sy_run_path(run, file, path, sizeof path), buf, len);
    free(buf);
    return s;
}

static sy_status load_history(sy_run *run, const char *meth, const cont_ctx *c, double *hist, double *accm,
                              int done)
{
    /* A checkpoint inside the first task (--ckpt-every, a stop) comes before
     * the first history is written: nothing to read. */
    if (done == 0) return SY_OK;
    char path[4200], file[128];
    snprintf(file, sizeof file, "history-%s.txt", meth);
    FILE *f = fopen(sy_run_path(run, file, path, sizeof path), "r");
    if (!f) return sy_fail(SY_ERR_IO, "continual: --resume: checkpoint of %s has %d tasks but no %s", meth, done, path);
    sy_status s = SY_OK;
    for (int t = 0; t < done && s == SY_OK; t++) {
        for (int k = 0; k < NREC + c->tasks; k++) {
            char w[64];
            if (fscanf(f, "%63s", w) != 1) {
                s = sy_fail(SY_ERR_FORMAT, "continual: %s ends before task %d", path, t + 1);
                break;
            }
            double v = strtod(w, NULL);
            if (k < NREC)
                hist[t * NREC + k] = v;
            else
                accm[t * c->tasks + k - NREC] = v;
        }
    }
    fclose(f);
    return s;
}

/* Train one method over all tasks; hist [tasks*NREC], accm [tasks*tasks]. */
static sy_status run_method(sy_run *run, cont_ctx *c, const char *meth, const char *rec_name, double *hist,
                            double *accm)
{
    int is_sp = strcmp(meth, SP_NAME) == 0;
    sy_decay decay;
    sy_status s = sy_decay_parse(is_sp ? "vanilla" : meth, (float)c->gamma, (float)c->sigma0, (float)c->eps, &decay);
    if (s != SY_OK) return s;
    if (decay.wfix_frac > 0 || strcmp(meth, "dropout") == 0 || strcmp(meth, "wfix") == 0)
        return sy_fail(SY_ERR_ARG, "continual: method '%s' is not supported here (vanilla, syre, syre-ar, l2init, none)",
                       meth);
    if ((s = sy_params_init(c->ps, c->seed)) != SY_OK) return s;
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = (float)c->lr;
    o.momentum = (float)c->momentum;
    o.decay = decay;
    o.seed = c->seed;
    sy_optimizer *opt = sy_optimizer_new(c->ps, &o);
    if (!opt) return SY_ERR_ARG;

    char ckpt[4200], file[128];
    snprintf(file, sizeof file, "ckpt-%s.safetensors", rec_name);
    sy_run_path(run, file, ckpt, sizeof ckpt);
    sy_train_pos pos = {0};
    int start = 0, loaded = 0;
    for (int i = 0; i < c->tasks * NREC; i++) hist[i] = NAN;
    for (int i = 0; i < c->tasks * c->tasks; i++) accm[i] = NAN;
    if (sy_run_get_bool(run, "resume")) {
        s = sy_train_load(ckpt, c->ps, opt, &pos);
        loaded = s == SY_OK;
        if (s == SY_OK) {
            start = (int)pos.epoch;
            if (start > c->tasks) {
                sy_optimizer_free(opt);
                return sy_fail(SY_ERR_ARG, "continual: --resume: %s checkpoint has %d tasks, --tasks is %d", rec_name, start,
                               c->tasks);
            }
            if ((s = load_history(run, rec_name, c, hist, accm, start)) != SY_OK) {
                sy_optimizer_free(opt);
                return s;
            }
            sy_graph_set_step(c->gt, (uint64_t)pos.graph_step);
            fprintf(stderr, "continual: %s resumes after task %d of %d (batch %ld of the next)\n", rec_name, start,
                    c->tasks, (long)pos.batch);
        } else if (s == SY_ERR_IO) {
            sy_clear_error();
            s = SY_OK; /* no checkpoint: start from scratch */
        } else {
            sy_optimizer_free(opt);
            return s;
        }
    }
    /* Starting afresh: position 0 is checkpointed before any row, so that a
     * kill before the first task ends resumes there without a row twice. */
    if (!loaded) {
        pos.graph_step = (int64_t)sy_graph_step(c->gt);
        if ((s = sy_train_save(ckpt, c->ps, opt, &pos)) != SY_OK) {
            sy_optimizer_free(opt);
            return s;
        }
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
    long nbatch = (long)sy_batcher_num_batches(b);
    char label[96];
    snprintf(label, sizeof label, "continual %s", rec_name);
    sy_progress *pr = sy_progress_start(label, (int64_t)(c->tasks - start) * c->epochs * nbatch);
    int64_t done_batches = 0;
    float *x = sy_graph_data(c->gt, c->tx), *y = sy_graph_data(c->gt, c->ty);
    const float *z = sy_graph_data(c->gt, c->tlogits);

    /* A task stopped midway: pos.batch batches of it trained, the last in its
     * epoch e0 at k0 (1..nbatch: a stop after an epoch's last batch still logs
     * that epoch when resumed). */
    long into = start < c->tasks ? (long)pos.batch : 0;
    int e0 = into > 0 ? (int)((into - 1) / nbatch) : 0;
    long k0 = into > 0 ? into - (long)e0 * nbatch : 0;
    for (int t = start; t < c->tasks && s == SY_OK; t++) {
        if (is_sp && t > 0 && !(t == start && into > 0) && (s = shrink_perturb(c, t)) != SY_OK) break;
        double loss_sum = 0, corr = 0;
        size_t seen = 0;
        for (int e = t == start ? e0 : 0; e < c->epochs && s == SY_OK; e++) {
            sy_batcher_epoch(b, (uint64_t)t * (uint64_t)c->epochs + (uint64_t)e);
            loss_sum = 0, corr = 0, seen = 0;
            size_t nb;
            long k = 0;
            if (t == start && e == e0 && k0 > 0) { /* skip what was trained, untrained */
                while (k < k0 && (nb = sy_batcher_next(b, x, y)) > 0) k++, seen += nb;
                /* the sums over every rank, kept by rank 0 (the epoch end adds the ranks up) */
                if (sy_dist_is_root()) loss_sum = pos.loss_sum, corr = pos.aux_sum;
            }
            while ((nb = sy_batcher_next(b, x, y)) > 0) {
                sy_permute_pixels(x, nb, NPIX, c->perm[t], c->tmp);
                if ((s = sy_train_step(c->gt, c->tloss, opt)) != SY_OK) break; /* recorded with --cuda-graphs */
                loss_sum += sy_graph_scalar(c->gt, c->tloss) * (double)nb;
                for (size_t i = 0; i < nb; i++) corr += argmax10(z + i * NCLS) == (int)y[i];
                seen += nb;
                k++;
                int due = sy_run_ckpt_due(run, sy_optimizer_steps(opt));
                if (due != SY_CKPT_NO) {
                    double tot[2] = {loss_sum, corr};
                    if ((s = sy_dist_sum(tot, 2)) != SY_OK) break;
                    sy_train_pos mid = {.epoch = t, .batch = (long)e * nbatch + k,
                                        .graph_step = (int64_t)sy_graph_step(c->gt), .loss_sum = tot[0],
                                        .aux_sum = tot[1]};
                    if ((s = sy_train_save(ckpt, c->ps, opt, &mid)) != SY_OK) break;
                    if (due == SY_CKPT_STOP) {
                        s = sy_run_stopped(run, ((long)t * c->epochs + e) * nbatch + k,
                                           (long)c->tasks * c->epochs * nbatch);
                        break;
                    }
                }
                if (++done_batches % 50 == 0) {
                    char note[64];
                    snprintf(note, sizeof note, "task %d/%d loss %.3f", t + 1, c->tasks, loss_sum / (double)seen);
                    sy_progress_update(pr, done_batches, note);
                }
            }
            if (s == SY_ERR_STOPPED || s == SY_ERR_IO) break;
            if (s != SY_OK) {
                s = sy_fail(s, "continual: %s, task %d, epoch %d: %s", rec_name, t + 1, e + 1, sy_last_error());
                break;
            }
            { /* mpirun: the epoch's loss and accuracy over every rank's shards */
                double tot[3] = {loss_sum, corr, (double)seen};
                if ((s = sy_dist_sum(tot, 3)) != SY_OK) break;
                loss_sum = tot[0], corr = tot[1], seen = (size_t)tot[2];
            }
            const char *en[3] = {"task", "train_loss", "train_acc"};
            double ev[3] = {t + 1, loss_sum / (double)seen, corr / (double)seen};
            s = sy_run_log(run, rec_name, (int64_t)t * c->epochs + e + 1, 3, en, ev);
        }
        if (s != SY_OK) break;
        /* Evaluation after task t: its own test set and every earlier one. */
        double *rec = hist + t * NREC, *row = accm + t * c->tasks;
        rec[R_TRAIN_LOSS] = loss_sum / (double)seen;
        rec[R_TRAIN_ACC] = corr / (double)seen;
        double mean = 0;
        for (int k = 0; k <= t && s == SY_OK; k++) {
            s = eval_acc(c, k, &row[k]);
            mean += row[k];
        }
        if (s != SY_OK) break;
        rec[R_ACC] = row[t];
        rec[R_ACC_SEEN] = mean / (t + 1);
        rec[R_ACC_FIRST] = row[0];
        if ((s = eval_features(c, t, rec)) != SY_OK) break;
        if ((s = sy_run_log_to(run, "tasks.csv", rec_name, t + 1, NREC, rec_names, rec)) != SY_OK) break;
        for (int k = 0; k <= t && s == SY_OK; k++) {
            const char *an[2] = {"eval_task", "test_acc"};
            double av[2] = {k + 1, row[k]};
            s = sy_run_log_to(run, "acc_matrix.csv", rec_name, t + 1, 2, an, av);
        }
        if (s != SY_OK) break;
        fprintf(stderr, "continual %s: task %d/%d  test acc %.4f (avg seen %.4f, task 1 %.4f)  rank conv2 %d/320",
                rec_name, t + 1, c->tasks, rec[R_ACC], rec[R_ACC_SEEN], rec[R_ACC_FIRST], (int)rec[R_RANK2]);
        fprintf(stderr, " (channels: conv1 %d/10, conv2 %d/20)", (int)rec[R_RANK1CH], (int)rec[R_RANK2CH]);
        fprintf(stderr, "  erank %.1f  dead %d/320 fc1 %d/50\n", rec[R_ERANK2], (int)rec[R_DEAD2], (int)rec[R_DEADFC]);
        /* Checkpoint at the task boundary: epoch = tasks done. */
        if ((s = save_history(run, rec_name, c, hist, accm, t + 1)) != SY_OK) break;
        pos.epoch = t + 1;
        pos.batch = 0;
        pos.loss_sum = pos.aux_sum = 0;
        pos.graph_step = (int64_t)sy_graph_step(c->gt);
        pos.done = t + 1 == c->tasks;
        s = sy_train_save(ckpt, c->ps, opt, &pos);
    }
    sy_progress_update(pr, done_batches, NULL);
    sy_progress_finish(pr);
    sy_batcher_free(b);
    sy_optimizer_free(opt);
    return s;
}

static sy_status summarise(sy_run *run, const cont_ctx *c, const char *meth, const char *rec, const double *hist)
{
    int T = c->tasks;
    const double *last = hist + (T - 1) * NREC;
    double mean_acc = 0, min_acc = INFINITY, min_rank = INFINITY;
    for (int t = 0; t < T; t++) {
        mean_acc += hist[t * NREC + R_ACC] / T;
        if (hist[t * NREC + R_ACC] < min_acc) min_acc = hist[t * NREC + R_ACC];
        if (hist[t * NREC + R_RANK2] < min_rank) min_rank = hist[t * NREC + R_RANK2];
    }
    char buf[64];
    snprintf(buf, sizeof buf, "%g", c->gamma);
    sy_run_summary_setting(run, rec, "gamma (PyTorch weight_decay)", buf);
    snprintf(buf, sizeof buf, "%g", c->lr);
    sy_run_summary_setting(run, rec, "lr", buf);
    if (strcmp(meth, SP_NAME) == 0) {
        snprintf(buf, sizeof buf, "lambda %g, p %g", c->sp_lambda, c->sp_noise);
        sy_run_summary_setting(run, rec, "shrink-perturb", buf);
    }
    sy_status s = SY_OK;
#define SUM(k, v) \
    if (s == SY_OK) s = sy_run_summary(run, rec, k, v)
    SUM("test_acc", last[R_ACC]);
    SUM("test_acc_task1", hist[R_ACC]);
    SUM("test_acc_mean", mean_acc);
    SUM("test_acc_min", min_acc);
    SUM("avg_acc_all_tasks", last[R_ACC_SEEN]);
    SUM("train_acc", last[R_TRAIN_ACC]);
    SUM("train_loss", last[R_TRAIN_LOSS]);
    SUM("rank_conv2", last[R_RANK2]);
    SUM("rank_conv2_task1", hist[R_RANK2]);
    SUM("rank_conv2_min", min_rank);
    SUM("rank_conv1_channels", last[R_RANK1CH]);
    SUM("rank_conv2_channels", last[R_RANK2CH]);
    SUM("effective_rank", last[R_ERANK2]);
    SUM("dead_units", last[R_DEAD2]);
    SUM("dead_fc1", last[R_DEADFC]);
    SUM("weight_norm", last[R_WNORM]);
    for (int t = 0; t < T; t++) {
        char key[48];
        snprintf(key, sizeof key, "test_acc task %d", t + 1);
        SUM(key, hist[t * NREC + R_ACC]);
    }
    for (int t = 0; t < T; t++) {
        char key[48];
        snprintf(key, sizeof key, "rank_conv2 task %d", t + 1);
        SUM(key, hist[t * NREC + R_RANK2]);
    }
#undef SUM
    return s;
}

/* One figure: metric `k` of every method against the task number. */
static sy_status plot_metric(sy_run *run, const cont_ctx *c, const char *const *names, int nm, double **hists,
                             int k, const char *file, const char *title, const char *ylabel, double ymin, double ymax)
{
    sy_plot *p = sy_plot_new(title, "task (1 = MNIST, then pixel permutations)", ylabel);
    if (!p) return sy_fail(SY_ERR_NOMEM, "continual: out of memory");
    double *xs = malloc(sizeof(double) * (size_t)c->tasks), *ys = malloc(sizeof(double) * (size_t)c->tasks);
    sy_status s = xs && ys ? SY_OK : sy_fail(SY_ERR_NOMEM, "continual: out of memory");
    for (int m = 0; m < nm && s == SY_OK; m++) {
        for (int t = 0; t < c->tasks; t++) xs[t] = t + 1, ys[t] = hists[m][t * NREC + k];
        s = sy_plot_series(p, names[m], xs, ys, c->tasks, SY_PLOT_LINE_POINTS);
    }
    if (s == SY_OK) {
        char base[4200];
        sy_plot_xrange(p, 0.5, c->tasks + 0.5);
        if (ymin < ymax) sy_plot_yrange(p, ymin, ymax);
        s = sy_plot_save(p, sy_run_path(run, file, base, sizeof base));
    }
    free(xs);
    free(ys);
    sy_plot_free(p);
    return s;
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

    const char *dir = sy_data_dir(sy_run_get_str(run, "data-dir"));
    sy_dataset *full = NULL;
    /* The graphs take [1, 28, 28] images (NPIX pixels, permuted per task) and 10 classes. */
    const sy_data_contract want = {"continual", 1, 28, 28, 10, 1};
    sy_status s = sy_dataset_load(dir, "mnist", "train", &full);
    if (s == SY_OK && (s = sy_dataset_check(full, &want)) != SY_OK) sy_dataset_free(full);
    if (s != SY_OK) return s;
    if (train_n > 0 && (size_t)train_n < full->n) {
        s = sy_dataset_subset(full, (size_t)train_n, 0, &c->train);
        sy_dataset_free(full);
    } else {
        c->train = full;
    }
    if (s == SY_OK) s = sy_dataset_load(dir, "mnist", "test", &full);
    if (s == SY_OK && (s = sy_dataset_check(full, &want)) != SY_OK) sy_dataset_free(full);
    if (s == SY_OK) {
        if ((size_t)test_n < full->n) {
            s = sy_dataset_subset(full, (size_t)test_n, 0, &c->test);
            sy_dataset_free(full);
        } else {
            c->test = full;
        }
    }
    if (s != SY_OK) return s;
    if (c->train->n < (size_t)c->batch)
        return sy_fail(SY_ERR_ARG, "continual: --batch (%d) exceeds the %zu training images", c->batch, c->train->n);
    /* Normalise by the training set's mean and std (MNIST: 0.1307, 0.3081). */
    float mean, std;
    sy_dataset_channel_stats(c->train, &mean, &std);
    s = sy_data_normalize(c->train->x, c->train->n, c->train->sample, &mean, &std);
    if (s == SY_OK) s = sy_data_normalize(c->test->x, c->test->n, c->test->sample, &mean, &std);
    if (s != SY_OK) return s;
    fprintf(stderr,
            "continual: %d tasks x %d epoch(s), %zu train / %zu test images per task, SGD lr %g momentum %g batch %d, "
            "gamma %g, sigma0 %g\n",
            c->tasks, c->epochs, c->train->n, c->test->n, c->lr, c->momentum, c->batch, c->gamma, c->sigma0);
    c->perm = calloc((size_t)c->tasks, sizeof *c->perm);
    if (!c->perm) return sy_fail(SY_ERR_NOMEM, "continual: out of memory");
    for (int t = 0; t < c->tasks; t++) {
        c->perm[t] = malloc(NPIX * sizeof(int));
        if (!c->perm[t]) return sy_fail(SY_ERR_NOMEM, "continual: out of memory");
        sy_pixel_permutation(NPIX, c->seed, t, c->perm[t]);
    }
    return build(c);
}

static void cont_free(cont_ctx *c)
{
    if (c->perm)
        for (int t = 0; t < c->tasks; t++) free(c->perm[t]);
    free(c->perm);
    free(c->tmp);
    sy_graph_free(c->gt);
    sy_graph_free(c->ge);
    sy_params_free(c->ps);
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
            return sy_fail(SY_ERR_ARG, "continual: --method %s is not supported here (vanilla, syre, syre-ar, l2init, none)",
                           m0[i]);
        names[(*nm)++] = m0[i];
    }
    if (sy_run_get_bool(run, "shrink-perturb")) names[(*nm)++] = SP_NAME;
    if (*nm == 0) return sy_fail(SY_ERR_ARG, "continual: no method to run (--method, --shrink-perturb)");
    return SY_OK;
}

/* Run `nm` methods at the context's settings; records are named rec[m].
 * hists[m] gets tasks*NREC numbers (allocated here; the caller frees). */
static sy_status run_setting(sy_run *run, cont_ctx *c, const char *const *meths, const char *const *recs, int nm,
                             double **hists)
{
    sy_status s = SY_OK;
    double *accm = malloc(sizeof(double) * (size_t)c->tasks * c->tasks);
    if (!accm) return sy_fail(SY_ERR_NOMEM, "continual: out of memory");
    for (int m = 0; m < nm && s == SY_OK; m++) {
        hists[m] = malloc(sizeof(double) * (size_t)c->tasks * NREC);
        if (!hists[m]) {
            s = sy_fail(SY_ERR_NOMEM, "continual: out of memory");
            break;
        }
        s = run_method(run, c, meths[m], recs[m], hists[m], accm);
        if (s == SY_OK) s = summarise(run, c, meths[m], recs[m], hists[m]);
    }
    free(accm);
    return s;
}

static sy_status main_plots(sy_run *run, const cont_ctx *c, const char *const *names, int nm, double **hists)
{
    char title[256];
    snprintf(title, sizeof title, "Permuted MNIST: accuracy on each new task (lr %g, %d ep/task)", c->lr, c->epochs);
    sy_status s = plot_metric(run, c, names, nm, hists, R_ACC, "continual-acc", title, "test accuracy", 0, 1);
    if (s == SY_OK)
        s = plot_metric(run, c, names, nm, hists, R_RANK2, "continual-rank",
                        "Rank of conv2 output (320 features, eigenvalues < 1e-4 -> 0)",
                        "covariance rank", 0, 330);
    if (s == SY_OK)
        s = plot_metric(run, c, names, nm, hists, R_ERANK2, "continual-erank",
                        "Effective rank of conv2 output (320 features)", "effective rank", 0, 0);
    if (s == SY_OK)
        s = plot_metric(run, c, names, nm, hists, R_DEAD2, "continual-dead",
                        "Dead conv2 features (never positive on the batch), of 320", "dead features", 0, 330);
    if (s == SY_OK)
        s = plot_metric(run, c, names, nm, hists, R_ACC_SEEN, "continual-forgetting",
                        "Forgetting: mean test accuracy over all tasks seen so far", "test accuracy", 0, 1);
    if (s == SY_OK)
        s = plot_metric(run, c, names, nm, hists, R_ACC_FIRST, "continual-task1",
                        "Forgetting: test accuracy on task 1 (MNIST) after each task", "test accuracy", 0, 1);
    return s;
}

static sy_status cont_run(sy_run *run)
{
    cont_ctx c = {0};
    const char *names[MAX_METHODS];
    double *hists[MAX_METHODS] = {0};
    int nm = 0;
    sy_status s = method_list(run, names, &nm);
    if (s == SY_OK) s = cont_setup(run, &c);
    if (s == SY_OK) s = run_setting(run, &c, names, names, nm, hists);
    if (s == SY_OK) s = main_plots(run, &c, names, nm, hists);
    for (int m = 0; m < nm; m++) free(hists[m]);
    cont_free(&c);
    return s;
}

/* Fig. 9 and, because the paper gives no learning rate and the collapse
 * depends on it, the same vanilla/syre comparison at the --sweep-lr rates. */
static sy_status cont_reproduce(sy_run *run)
{
    double lrs[8];
    int nlr = 0;
    if (sy_run_get_str(run, "sweep-lr")[0]) { /* empty: no sweep */
        sy_status s = sy_run_get_numbers(run, "sweep-lr", 0, 1, 10, lrs, 8, &nlr);
        if (s != SY_OK) return s;
    }
    cont_ctx c = {0};
    const char *names[MAX_METHODS];
    double *hists[MAX_METHODS] = {0};
    int nm = 0;
    sy_status s = method_list(run, names, &nm);
    if (s == SY_OK) s = cont_setup(run, &c);
    if (s == SY_OK) s = run_setting(run, &c, names, names, nm, hists);
    if (s == SY_OK) s = main_plots(run, &c, names, nm, hists);

    /* The sweep: vanilla and syre at each extra rate, plus the main run's. */
    const char *pair[2] = {"vanilla", "syre"};
    char recbuf[2 * 8][48];
    const char *snames[2 * 9];
    double *shist[2 * 9] = {0};
    int ns = 0;
    double lr0 = c.lr;
    for (int k = 0; k < 2 && s == SY_OK; k++)
        for (int m = 0; m < nm; m++)
            if (strcmp(names[m], pair[k]) == 0) {
                snames[ns] = names[m];
                shist[ns++] = hists[m];
            }
    int nmain = ns;
    for (int i = 0; i < nlr && s == SY_OK; i++) {
        if (lrs[i] == lr0) continue;
        c.lr = lrs[i];
        const char *recs[2];
        for (int k = 0; k < 2; k++) {
            snprintf(recbuf[2 * i + k], sizeof recbuf[0], "%s@lr%g", pair[k], lrs[i]);
            recs[k] = recbuf[2 * i + k];
        }
        double *h[2] = {0};
        s = run_setting(run, &c, pair, recs, 2, h);
        for (int k = 0; k < 2; k++) {
            snames[ns] = recs[k];
            shist[ns++] = h[k];
        }
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
