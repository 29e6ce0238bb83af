/* Compatibility with standard training (paper Appendix C.2, Fig. 3 middle):
 * ResNet18 on CIFAR-10 with syre at anchor scales sigma0 in {0, 0.01, 0.05,
 * 0.1, 0.2, 0.5, 1}; the claim is that for sigma0 < 0.2 the test accuracy is
 * the vanilla one (sigma0 = 0 IS vanilla: the decay pulls toward theta0 = 0).
 *
 * Model: sy_resnet18 (CIFAR form, width --width; 64 = the standard model),
 * a linear classifier on the pooled features. Training: the standard CIFAR
 * recipe, which the paper does not spell out: SGD with momentum 0.9, lr 0.1,
 * cosine schedule to 0 over all steps, weight decay 5e-4 on every tensor,
 * batch 128, random crop (padding 4) and horizontal flip, per-channel
 * normalisation, 200 epochs (the paper gives no count).
 *
 * `syre run resnet` trains --method (default vanilla and syre at --sigma0);
 * `syre reproduce fig3-mid` sweeps --sigma0s over --seeds seeds and plots the
 * test accuracy against sigma0 with the spread over seeds (paper: 10
 * trials); under mpirun the ranks share its points, each trained by one
 * process (docs/distributed.md). --width and --train-n make a CPU-sized
 * version (--quick).
 * Checkpoints after every epoch (ckpt-<record>.safetensors) for --resume. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

#define NCLS 10
#define IMG 3072
#define MAX_SIGMAS 16
#define MAX_SEEDS 32

static const sy_flag_spec rn_flags[] = {
    {"width", "channels of the first stage (stages w, 2w, 4w, 8w); 64 = ResNet18 (quick: 8)", "64", SY_FLAG_INT, 1,
     1024},
    {"epochs", "training epochs (paper: not given; 200 is the usual for this recipe; quick: 2)", "200", SY_FLAG_INT, 1,
     100000},
    {"lr", "SGD learning rate at the start of the cosine schedule", "0.1", SY_FLAG_DOUBLE, 1e-6, 10},
    {"momentum", "SGD momentum (PyTorch semantics)", "0.9", SY_FLAG_DOUBLE, 0, 0.999},
    {"batch", "batch size (the last short batch of an epoch is dropped)", "128", SY_FLAG_INT, 2, 50000},
    {"gamma", "weight decay as PyTorch's weight_decay, on every tensor (standard: 5e-4)", "5e-4", SY_FLAG_DOUBLE, 0, 1},
    {"sigma0", "syre's anchor scale for `run` (relative: std = sigma0/sqrt(fan_in))", "0.01", SY_FLAG_DOUBLE, 0, 100},
    {"method", "methods for `run`: vanilla (decay to 0), syre (decay to theta0), syre-ar, none", "vanilla,syre",
     SY_FLAG_METHODS, 0, 0},
    {"augment", "random crop (padding 4) and horizontal flip of training images", "1", SY_FLAG_BOOL, 0, 0},
    {"train-n", "training images, the first n/10 of each class (0 = all 50000; quick: 2000)", "0", SY_FLAG_INT, 0,
     50000},
    {"test-n", "test images, the first n/10 of each class (quick: 1000)", "10000", SY_FLAG_INT, 10, 10000},
    {"eval-batch", "batch of the evaluation graph", "500", SY_FLAG_INT, 1, 10000},
    {"sigma0s", "reproduce: anchor scales to sweep (0 = vanilla)", "0,0.01,0.05,0.1,0.2,0.5,1", SY_FLAG_STRING, 0, 0},
    {"seeds", "reproduce: seeds per sigma0 (seed, seed+1, ...; paper: 10)", "3", SY_FLAG_INT, 1, MAX_SEEDS},
    {"sync-bn", "under mpirun: batch norm over all ranks' rows (SyncBatchNorm; CPU)", "0", SY_FLAG_BOOL, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

typedef struct {
    int width, epochs, batch, eval_b, augment;
    double lr, momentum, gamma, eps;
    sy_dataset *train, *test;
    sy_classifier m;
    sy_run *run; /* reproduce's sweep: its sigma0s, seeds per sigma0 and first seed */
    double sig[MAX_SIGMAS];
    int nseeds;
    uint64_t seed0;
} rn_ctx;

/* Final numbers of one training run. */
typedef struct {
    double v[4]; /* under rn_names: its summary (a resumed, finished run's training figures NaN: left out) */
    double *acc_hist; /* [epochs] test accuracy after each epoch (NaN from the caller: not run here), or NULL */
} rn_result;
enum { RN_TEST_ACC, RN_TRAIN_ACC, RN_TRAIN_LOSS, RN_SIGMA0, RN_NV };
static const char *const rn_names[RN_NV] = {"test_acc", "train_acc", "train_loss", "sigma0"};

static sy_var resnet(void *ctx, sy_graph *g, sy_var x, int eval)
{
    (void)eval;
    return sy_resnet18(g, x, NULL, ((rn_ctx *)ctx)->width, NCLS, NULL);
}

/* The settings and both data splits. */
static sy_status rn_load(sy_run *run, rn_ctx *c)
{
    c->width = (int)sy_run_get_int(run, "width");
    c->epochs = (int)sy_run_get_int(run, "epochs");
    c->batch = (int)sy_run_get_int(run, "batch");
    c->eval_b = (int)sy_run_get_int(run, "eval-batch");
    c->augment = sy_run_get_bool(run, "augment");
    c->lr = sy_run_get_double(run, "lr");
    c->momentum = sy_run_get_double(run, "momentum");
    c->gamma = sy_run_get_double(run, "gamma");
    c->eps = sy_run_get_double(run, "eps");
    /* The graphs take [3, 32, 32] images and 10 classes; n per class: the first n/10 of each. */
    const sy_data_contract want = {"resnet", 3, 32, 32, 10, 1};
    sy_status s =
        sy_run_load_balanced_splits(run, "cifar10", "train-n", "test-n", &want, c->batch, &c->train, &c->test);
    if (s != SY_OK) return s;
    /* Per-channel normalisation by the training set's statistics: the crop's zero padding is the mean colour. */
    if ((s = sy_dataset_standardize(c->train, c->test)) != SY_OK) return s;
    if ((size_t)c->eval_b > c->test->n) c->eval_b = (int)c->test->n;
    c->run = run;
    return SY_OK;
}

/* The model (ctx: the rn_ctx rn_load filled); a sweep builds it in its first point's scope. */
static sy_status rn_build(void *ctx)
{
    rn_ctx *c = ctx;
    sy_run *run = c->run;
    sy_status s;
    int share = c->batch / sy_dist_size(); /* under mpirun the training graph holds this rank's share */
    if ((s = sy_classifier_new(&c->m, sy_shape_of(3, 3, 32, 32), share, c->eval_b, resnet, c)) != SY_OK) return s;
    if (sy_run_get_bool(run, "sync-bn") && (s = sy_graph_set_sync_bn(c->m.train, 1)) != SY_OK) return s;
    fprintf(stderr,
            "resnet: ResNet18 width %d (%zu parameters), %zu train / %zu test CIFAR-10 images, %d epochs, batch %d, "
            "SGD lr %g momentum %g cosine, weight decay %g, augmentation %s; graphs %.0f MB\n",
            c->width, sy_params_num_trainable(c->m.ps), c->train->n, c->test->n, c->epochs, c->batch, c->lr,
            c->momentum, c->gamma, c->augment ? "crop+flip" : "off",
            (double)(sy_graph_bytes(c->m.train) + sy_graph_bytes(c->m.eval)) / 1e6);
    return SY_OK;
}

static void rn_free(rn_ctx *c)
{
    sy_classifier_free(&c->m);
    sy_dataset_free(c->train);
    sy_dataset_free(c->test);
}

/* One training run: the state of sy_fit_prefetch_classifier's callbacks (on a
 * device the batches are prepared on a second thread; the same either way). */
typedef struct {
    sy_run *run;
    rn_ctx *c;
    const char *rec;
    rn_result *res;
    sy_batcher *b;
    sy_rng aug;      /* the epoch's crops and flips */
    float tmp[IMG]; /* the crop's scratch: one image */
    uint64_t seed;
    const sy_optim_opts *o;
    long nbatch;
    double lr0, corr; /* the lr the epoch began with; its correct predictions so far (the loop counts them) */
} rn_fit;

static sy_status rn_fill(void *ctx, float *const *in, size_t *count)
{
    rn_fit *f = ctx;
    size_t nb = sy_batcher_next(f->b, in[0], in[1]);
    if (nb && f->c->augment) sy_augment_crop_flip_shard(in[0], nb, f->c->train->sample, 4, &f->aug, f->tmp, f->b);
    *count = nb;
    return SY_OK;
}

static sy_status rn_epoch_start(void *ctx, long e)
{
    rn_fit *f = ctx;
    f->aug = sy_rng_make(f->seed, SY_STREAM_AUGMENT, (uint64_t)e);
    f->lr0 = sy_schedule_lr(&f->o->schedule, f->o->lr, e * f->nbatch);
    return SY_OK;
}

static sy_status rn_epoch(void *ctx, long epoch, double loss)
{
    rn_fit *f = ctx;
    rn_result *r = f->res;
    sy_status s = sy_eval_classifier(f->c->m.eval, f->c->m.ex, f->c->m.elogits, f->c->test, NULL, NULL, NULL,
                                     &r->v[RN_TEST_ACC]); /* in evaluation mode: running batch-norm statistics */
    if (s != SY_OK) return s;
    r->v[RN_TRAIN_LOSS] = loss;
    double corr = f->corr; /* this rank's; under mpirun summed over the ranks */
    if ((s = sy_dist_sum(&corr, 1)) != SY_OK) return s;
    r->v[RN_TRAIN_ACC] = corr / (double)(f->nbatch * f->c->batch);
    if (r->acc_hist) r->acc_hist[epoch - 1] = r->v[RN_TEST_ACC];
    const char *names[4] = {"lr", "train_loss", "train_acc", "test_acc"};
    double vals[4] = {f->lr0, r->v[RN_TRAIN_LOSS], r->v[RN_TRAIN_ACC], r->v[RN_TEST_ACC]};
    return sy_run_log(f->run, f->rec, epoch, 4, names, vals);
}

/* Train `method` (sigma0 its anchor scale) from a fresh initialisation
 * (seed), logging every epoch under record `rec`; checkpoint after each. */
static sy_status rn_train(sy_run *run, rn_ctx *c, const char *rec, const char *method, double sigma0, uint64_t seed,
                          rn_result *res)
{
    sy_status s = sy_params_init(c->m.ps, seed);
    if (s != SY_OK) return s;
    rn_fit f = {.run = run, .c = c, .rec = rec, .res = res, .seed = seed};
    if ((s = sy_batcher_new_full(c->train, (size_t)c->batch, seed, &f.b)) != SY_OK) return s;
    f.nbatch = (long)sy_batcher_num_batches(f.b);
    sy_optim_opts o = sy_optim_sgd_cosine(c->lr, c->momentum, (long)c->epochs * f.nbatch, seed);
    f.o = &o;
    sy_optimizer *opt = NULL;
    s = sy_optimizer_for_method(c->m.ps, o, method, (float)c->gamma, (float)sigma0, (float)c->eps, &opt);
    char ckpt[4200], label[128];
    snprintf(label, sizeof label, "resnet %s", rec);
    res->v[RN_TEST_ACC] = res->v[RN_TRAIN_ACC] = res->v[RN_TRAIN_LOSS] = NAN; /* acc_hist: NaN till an epoch ends */
    res->v[RN_SIGMA0] = strncmp(method, "syre", 4) ? 0 : sigma0;
    sy_fit_opts fo = sy_fit_classifier(&c->m, opt, f.b, c->epochs);
    fo.control = sy_run_control(run), fo.ckpt = sy_run_ckpt_path(run, NULL, rec, ckpt, sizeof ckpt);
    fo.resume = sy_run_get_bool(run, "resume"), fo.label = label, fo.progress_every = 10;
    fo.ctx = &f, fo.on_epoch_start = rn_epoch_start, fo.on_epoch = rn_epoch;
    sy_fit_result fr;
    if (s == SY_OK) s = sy_fit_prefetch_classifier(&fo, c->m.logits, NCLS, &f.corr, rn_fill, &f, &fr);
    if (s == SY_OK && fr.epochs_trained == 0) /* a resumed, finished run only re-evaluates */
        s = sy_eval_classifier(c->m.eval, c->m.ex, c->m.elogits, c->test, NULL, NULL, NULL, &res->v[RN_TEST_ACC]);
    if (s == SY_OK)
        fprintf(stderr, "resnet %s: test accuracy %.4f (train %.4f, loss %.4f)\n", rec,
                res->v[RN_TEST_ACC], res->v[RN_TRAIN_ACC], res->v[RN_TRAIN_LOSS]);
    sy_optimizer_free(opt);
    sy_batcher_free(f.b);
    return s;
}

static sy_status rn_run(sy_run *run)
{
    int nm = 0;
    const char *const *meths = NULL;
    sy_status s = sy_run_methods_among(run, "vanilla, syre, syre-ar, none", &meths, &nm);
    rn_ctx c = {0};
    if (s == SY_OK) s = rn_load(run, &c);
    if (s == SY_OK) s = rn_build(&c);
    double sigma0 = sy_run_get_double(run, "sigma0");
    sy_results cv = {0}; /* test accuracy per epoch (x: 1..epochs), one series per method */
    if (s == SY_OK) s = sy_results_new(&cv, nm, c.epochs, 1, (const char *const[1]){"test_acc"});
    for (int m = 0; m < nm && s == SY_OK; m++) {
        rn_result r = {.acc_hist = sy_results_at(&cv, 0, m)};
        s = rn_train(run, &c, meths[m], meths[m], sigma0, sy_run_seed(run), &r);
        if (s == SY_OK)
            s = sy_run_summaries_measured(run, meths[m], RN_NV, rn_names, r.v);
    }
    if (s == SY_OK && nm > 0) {
        char title[160];
        snprintf(title, sizeof title, "ResNet18 (width %d) on CIFAR-10: test accuracy per epoch", c.width);
        s = sy_plot_methods(run, "resnet-acc", title, "epoch", "test accuracy", cv.x, c.epochs, nm, meths,
                            sy_results_col(&cv, 0), SY_PLOT_LINE_POINTS);
    }
    sy_results_free(&cv);
    rn_free(&c);
    return s;
}

/* Fig. 3 middle: every sigma0 over `seeds` seeds, point i = (sigma0 i / seeds, seed i % seeds); per sigma0 the
 * mean and standard deviation over seeds, plotted against sigma0. */
static void rn_point(void *ctx, int i, char *buf, size_t size)
{
    const rn_ctx *w = ctx;
    snprintf(buf, size, "sigma0=%g/seed%d", w->sig[i / w->nseeds], (int)(w->seed0 + (uint64_t)(i % w->nseeds)));
}

/* syre at sigma0 = 0 is plain decay, bit for bit; v: under rn_names */
static sy_status rn_point_train(void *ctx, int i, const char *rec, double *v)
{
    rn_ctx *w = ctx;
    rn_result r = {0};
    uint64_t seed = w->seed0 + (uint64_t)(i % w->nseeds);
    sy_status s = rn_train(w->run, w, rec, "syre", w->sig[i / w->nseeds], seed, &r);
    if (s == SY_OK) s = sy_run_log_pick(w->run, "sweep.csv", rec, (int64_t)seed, "sigma0,test_acc", RN_NV, rn_names,
                                        r.v);
    memcpy(v, r.v, sizeof r.v);
    return s;
}

static sy_status rn_point_record(void *ctx, int i, const char *point, const double *all)
{
    rn_ctx *w = ctx;
    char rec[96];
    const double *v = all + RN_NV * i, sigma0 = w->sig[i / w->nseeds];
    sy_status s = sy_run_summaries_measured(w->run, point, RN_NV, rn_names, v);
    if (s != SY_OK || i % w->nseeds != w->nseeds - 1) return s;
    double acc[MAX_SEEDS], mean, sd;
    for (int k = 0; k < w->nseeds; k++) acc[k] = all[RN_NV * (i + 1 - w->nseeds + k)]; /* in seed order */
    if ((s = sy_mean_std(acc, w->nseeds, &mean, &sd)) != SY_OK) return s;
    snprintf(rec, sizeof rec, "sigma0=%g", sigma0);
    s = sy_run_summary(w->run, rec, "test_acc_mean", mean);
    if (s == SY_OK) s = sy_run_summary(w->run, rec, "test_acc_std", sd);
    fprintf(stderr, "resnet: sigma0 %g: test accuracy %.4f +- %.4f over %d seeds\n", sigma0, mean, sd, w->nseeds);
    return s;
}

static sy_status rn_reproduce(sy_run *run)
{
    rn_ctx c = {.run = run, .nseeds = (int)sy_run_get_int(run, "seeds"), .seed0 = sy_run_seed(run)};
    double vals[RN_NV * MAX_SIGMAS * MAX_SEEDS], acc[MAX_SIGMAS * MAX_SEEDS]; /* acc[i]: point i's test accuracy */
    int ns = 0;
    sy_status s = sy_run_get_numbers(run, "sigma0s", 0, 0, 100, c.sig, MAX_SIGMAS, &ns);
    if (s == SY_OK) s = rn_load(run, &c);
    sy_sweep sw = sy_sweep_defaults(); /* under mpirun: the points shared by the ranks, each one process's */
    sw.n = ns * c.nseeds, sw.ncols = RN_NV, sw.cols = rn_names;
    sw.ctx = &c, sw.name = rn_point, sw.train = rn_point_train, sw.record = rn_point_record, sw.keep = 1;
    sw.prepare = rn_build;
    if (s == SY_OK) s = sy_sweep_run(run, &sw, vals);
    for (int i = 0; i < sw.n; i++) acc[i] = vals[RN_NV * i];
    if (s == SY_OK) {
        char title[200];
        snprintf(title, sizeof title, "ResNet18 (width %d) on CIFAR-10: test accuracy vs sigma0, %d seeds", c.width,
                 c.nseeds);
        const sy_plot_opts o = {.title = title, .xlabel = "sigma0 (relative anchor scale; 0 = vanilla)",
                                .ylabel = "test accuracy"};
        s = sy_plot_seeds(run, "resnet-fig3-mid", &o, c.sig, ns, c.nseeds, acc);
    }
    rn_free(&c);
    return s;
}

const sy_experiment sy_exp_resnet = {
    .name = "resnet",
    .figure = "Fig. 3 mid",
    .summary = "ResNet18 on CIFAR-10, sigma0 sweep: for sigma0 < 0.2 syre matches vanilla accuracy",
    .flags = rn_flags,
    .run = rn_run,
    .reproduce_id = "fig3-mid",
    .reproduce = rn_reproduce,
    .quick = "width=8;epochs=2;train-n=2000;test-n=1000",
    .stops = 1,
    .data_parallel = 1,
};
