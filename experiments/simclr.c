/* The low-capacity trap in self-supervised learning (paper Appendix C.5,
 * Table 1): SimCLR with a ResNet18 encoder and a two-layer projection head;
 * the head's output (last layer) is low-rank under vanilla training, and
 * syre on the head (or on every layer) removes that low-rankness and raises
 * the last layer's linear-probe accuracy without hurting the penultimate one.
 *
 * Model (sy_simclr, syre/nn.h): a ResNet18 encoder (CIFAR form, width
 * --width; h [N, 8w] is the penultimate representation) and SimCLR v1's
 * two-layer projection head 8w -> 8w -> p (z, the last layer; p =
 * --proj-dim, default 2w, the paper model's 512 -> 512 -> 128 ratio);
 * optimizer rules select the head by "head.*". Loss: NT-Xent over B images
 * seen as two augmented views (sy_augment_simclr), 2B rows.
 *
 * Training (our choice where the paper gives none): SGD momentum 0.9, lr
 * 0.06 cosine, weight decay 5e-4 on every tensor, batch 512, tau 0.5, 500
 * epochs. Methods: vanilla (decay toward 0 everywhere); syre with each
 * sigma0 of --sigma0s on each scope of --syre-on ("head": syre on head.*,
 * vanilla on the encoder; "all": syre everywhere); none (no decay). The
 * untrained encoder ("init") is probed too, as the baseline any learning
 * must beat.
 *
 * Evaluation (sy_probe_outputs, syre/probe.h): linear probes (softmax
 * regression, Adam --probe-lr, --probe-epochs) on the frozen model's
 * features (evaluation mode, no augmentation) h and z, centred and divided
 * by one scalar (no per-feature standardising, which would blow a collapsed
 * direction back up). Low-rankness (Table 1) = share of the eigenvalues of
 * the covariance of z over --rank-n test images below 1e-5; also below 1e-5
 * x the largest ("relative"), every --rank-every epochs into rank.csv, to
 * locate when collapse begins.
 *
 * The paper trains on CIFAR-100 (--dataset cifar100, with the official
 * binaries in the data directory); by default this experiment uses CIFAR-10,
 * what the project ships. Quick: width 4, 1000 training / 1000 test images, 2
 * epochs, batch 128, sigma0 0.01 only. Checkpoints after each epoch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/fit_prefetch.h"
#include "syre/probe.h"
#include "syre/syre.h"

#define IMG 3072
#define MAX_REC 16
#define QUICK_WIDTH 4
#define QUICK_TRAIN_N 1000
#define QUICK_TEST_N 1000
#define QUICK_EPOCHS 2
#define QUICK_BATCH 128

static const sy_flag_spec sc_flags[] = {
    {"width", "encoder width w (stages w..8w; 64 = ResNet18; quick: 4)", "64", SY_FLAG_INT, 1, 1024},
    {"proj-dim", "projection head output size (0 = 2w: 128 for ResNet18, as the paper's model)", "0", SY_FLAG_INT, 0,
     4096},
    {"temperature", "NT-Xent temperature tau", "0.5", SY_FLAG_DOUBLE, 1e-3, 100},
    {"epochs", "SimCLR training epochs (our choice: the paper says 'the setting of SimCLR'; quick: 2)", "500",
     SY_FLAG_INT, 0, 100000},
    {"batch", "images per batch, each in two views (2 x batch rows; quick: 128)", "512", SY_FLAG_INT, 2, 8192},
    {"lr", "SGD learning rate at the start of the cosine schedule", "0.06", SY_FLAG_DOUBLE, 1e-6, 10},
    {"momentum", "SGD momentum", "0.9", SY_FLAG_DOUBLE, 0, 0.999},
    {"gamma", "weight decay as PyTorch's weight_decay, on every tensor", "5e-4", SY_FLAG_DOUBLE, 0, 1},
    {"method", "vanilla (decay to 0), syre (each --syre-on scope x --sigma0s), none (no decay)", "vanilla,syre",
     SY_FLAG_METHODS, 0, 0},
    {"syre-on", "where syre applies: head, all (comma-separated)", "head,all", SY_FLAG_STRING, 0, 0},
    {"sigma0s", "syre anchor scales (relative; paper: 0.1, 0.01; quick: 0.01)", "0.1,0.01", SY_FLAG_STRING, 0, 0},
    {"probe-init", "also probe the untrained encoder (record 'init')", "1", SY_FLAG_BOOL, 0, 0},
    {"probe-epochs", "epochs of the linear classifier on frozen features", "100", SY_FLAG_INT, 1, 100000},
    {"probe-lr", "Adam learning rate of the linear classifier", "1e-2", SY_FLAG_DOUBLE, 1e-6, 10},
    {"dataset", "cifar10 (shipped) or cifar100 (the paper's; needs cifar-100-binary/, see docs/data.md)", "cifar10",
     SY_FLAG_STRING, 0, 0},
    {"train-n", "training images, first n/K of each of the K classes (0 = all 50000; quick: 1000)", "0", SY_FLAG_INT, 0,
     50000},
    {"test-n", "test images, first n/K of each of the K classes (quick: 1000)", "10000", SY_FLAG_INT, 10, 10000},
    {"rank-n", "test images in the covariance of the rank measures", "1000", SY_FLAG_INT, 2, 10000},
    {"rank-every", "measure the low-rankness every k epochs (0 = only at the end)", "1", SY_FLAG_INT, 0, 100000},
    {"eval-batch", "batch of the feature-extraction graph", "250", SY_FLAG_INT, 1, 10000},
    {NULL, NULL, NULL, 0, 0, 0},
};

typedef struct {
    int width, hid, proj, epochs, batch, eval_b, rank_n, rank_every, probe_epochs;
    double tau, lr, momentum, gamma, probe_lr;
    uint64_t seed;
    sy_dataset *train, *test; /* pixels in [0,1]: normalised after augmentation */
    float mean[3], std[3];
    sy_simclr net;
    float *xb, *yb; /* one batch of images [B, 3, 32, 32] and its labels */
} sc_ctx;

/* One method: its name in the records and its decay rules. */
typedef struct {
    char rec[48];
    int trained;          /* 0: the untrained encoder */
    sy_decay base;        /* rule of every tensor */
    int head_only;        /* 1: syre only on head.*, base (vanilla) elsewhere */
    sy_decay head;
} sc_method;

/* What a method ends with. */
typedef struct {
    double loss, loss_first, acc_penult, acc_last, acc_penult_train, acc_last_train;
    sy_low_rankness lr; /* of z, the last layer */
    double lowrank_penult;
    double *eig; /* [proj] spectrum of z, descending */
    double *hist; /* [3][epochs + 1]: per epoch relative low-rankness, eig_min, eig_max (NaN: not measured) */
} sc_result;

static sy_status sc_setup(sy_run *run, sc_ctx *c)
{
    c->width = (int)sy_run_get_int(run, "width");
    c->proj = (int)sy_run_get_int(run, "proj-dim");
    c->tau = sy_run_get_double(run, "temperature");
    c->epochs = (int)sy_run_get_int(run, "epochs");
    c->batch = (int)sy_run_get_int(run, "batch");
    c->lr = sy_run_get_double(run, "lr");
    c->momentum = sy_run_get_double(run, "momentum");
    c->gamma = sy_run_get_double(run, "gamma");
    c->probe_epochs = (int)sy_run_get_int(run, "probe-epochs");
    c->probe_lr = sy_run_get_double(run, "probe-lr");
    c->rank_n = (int)sy_run_get_int(run, "rank-n");
    c->rank_every = (int)sy_run_get_int(run, "rank-every");
    c->eval_b = (int)sy_run_get_int(run, "eval-batch");
    c->seed = sy_run_seed(run);
    long train_n = sy_run_get_int(run, "train-n"), test_n = sy_run_get_int(run, "test-n");
    if (c->proj == 0) c->proj = 2 * c->width;
    c->hid = 8 * c->width;
    const char *dsname = sy_run_get_str(run, "dataset");
    int c100 = !strcmp(dsname, "cifar100"), K = c100 ? 100 : 10;
    if (!c100 && strcmp(dsname, "cifar10"))
        return sy_fail(SY_ERR_ARG, "simclr: --dataset must be cifar10 or cifar100, got '%s'", dsname);
    if (train_n % K || test_n % K)
        return sy_fail(SY_ERR_ARG,
                       "simclr: --train-n (%ld) and --test-n (%ld) must be multiples of %d (n/%d per class)", train_n,
                       test_n, K, K);
    if (c->rank_n > test_n)
        return sy_fail(SY_ERR_ARG, "simclr: --rank-n (%d) must not exceed --test-n (%ld)", c->rank_n, test_n);
    const char *dir = sy_data_dir(sy_run_get_str(run, "data-dir"));
    const char *set = c100 ? "cifar100" : "cifar10"; /* n per class: the first n/10 (n/100) of each */
    sy_status s = sy_dataset_load_balanced(dir, set, "train", train_n, NULL, &c->train);
    if (s == SY_OK) s = sy_dataset_load_balanced(dir, set, "test", test_n, NULL, &c->test);
    /* The encoder takes [3, 32, 32] images; the linear probe has K classes. */
    const sy_data_contract want = {"simclr", 3, 32, 32, K, 1};
    if (s == SY_OK) s = sy_dataset_check(c->train, &want);
    if (s == SY_OK) s = sy_dataset_check(c->test, &want);
    if (s != SY_OK) return s;
    if (c->train->n < (size_t)c->batch)
        return sy_fail(SY_ERR_ARG, "simclr: --batch (%d) exceeds the %zu training images", c->batch, c->train->n);
    sy_dataset_channel_stats(c->train, c->mean, c->std);

    c->xb = malloc((size_t)c->batch * IMG * sizeof(float));
    c->yb = malloc((size_t)c->batch * sizeof(float));
    if (!c->xb || !c->yb) return sy_fail(SY_ERR_NOMEM, "simclr: out of memory");
    if ((s = sy_simclr_new(&c->net, c->width, c->proj, c->batch, c->eval_b, c->tau)) != SY_OK) return s;
    fprintf(stderr,
            "simclr: ResNet18 width %d + head %d-%d-%d (%zu parameters), %s (the paper: CIFAR-100), %zu train / "
            "%zu test images, %d epochs, batch %d (x2 views), tau %g, SGD lr %g momentum %g cosine, weight decay %g; "
            "graphs %.0f MB\n",
            c->width, c->hid, c->hid, c->proj, sy_params_num_trainable(c->net.ps), c100 ? "CIFAR-100" : "CIFAR-10",
            c->train->n, c->test->n, c->epochs,
            c->batch, c->tau, c->lr, c->momentum, c->gamma,
            (double)(sy_graph_bytes(c->net.train) + sy_graph_bytes(c->net.feat)) / 1e6);
    return SY_OK;
}

static void sc_free(sc_ctx *c)
{
    free(c->xb);
    free(c->yb);
    sy_simclr_free(&c->net);
    sy_dataset_free(c->train);
    sy_dataset_free(c->test);
}

static sy_status sc_normalize(void *ctx, float *x, size_t n)
{
    const sc_ctx *c = ctx;
    return sy_data_normalize(x, n, c->train->sample, c->mean, c->std);
}

/* Both linear probes (penultimate h, last z) and the rank measures of the
 * unscaled test features. */
static sy_status evaluate(sc_ctx *c, sc_result *r)
{
    float *Hr = malloc((size_t)c->rank_n * c->hid * sizeof(float));
    float *Zr = malloc((size_t)c->rank_n * c->proj * sizeof(float));
    sy_status s = Hr && Zr ? SY_OK : sy_fail(SY_ERR_NOMEM, "simclr: out of memory");
    sy_var outs[2] = {c->net.h, c->net.z};
    float *raw[2] = {Hr, Zr};
    double te[2], tr[2];
    sy_probe_opts po = {sc_normalize, c, c->probe_epochs, c->probe_lr, c->seed};
    if (s == SY_OK)
        s = sy_probe_outputs(c->net.feat, c->net.fx, 2, outs, c->train, c->test, &po, (size_t)c->rank_n, raw, te, tr);
    if (s == SY_OK) s = sy_low_rankness_measures(Zr, c->rank_n, c->proj, SY_LOW_RANKNESS_THR, &r->lr, r->eig);
    sy_low_rankness rp = {0};
    if (s == SY_OK) s = sy_low_rankness_measures(Hr, c->rank_n, c->hid, SY_LOW_RANKNESS_THR, &rp, NULL);
    r->lowrank_penult = rp.share;
    r->acc_penult = te[0], r->acc_last = te[1], r->acc_penult_train = tr[0], r->acc_last_train = tr[1];
    free(Hr);
    free(Zr);
    return s;
}

/* Rank measures of z on the first rank_n test images, logged to rank.csv. */
static sy_status log_rank(sy_run *run, sc_ctx *c, const char *rec, int epoch, double *hist)
{
    float *Z = malloc((size_t)c->rank_n * c->proj * sizeof(float));
    if (!Z) return sy_fail(SY_ERR_NOMEM, "simclr: out of memory");
    sy_low_rankness r;
    float *dst[1] = {Z};
    sy_status s = sy_graph_features(c->net.feat, c->net.fx, c->test->x, (size_t)c->rank_n, IMG, sc_normalize, c, 1,
                                    &c->net.z, dst);
    if (s == SY_OK) s = sy_low_rankness_measures(Z, c->rank_n, c->proj, SY_LOW_RANKNESS_THR, &r, NULL);
    free(Z);
    if (s != SY_OK) return s;
    const char *n[5] = {"low_rankness", "low_rankness_rel", "eig_max", "eig_min", "effective_rank"};
    double v[5] = {r.share, r.share_rel, r.eig_max, r.eig_min, r.erank};
    if (hist && epoch <= c->epochs) {
        hist[epoch] = r.share_rel;
        hist[c->epochs + 1 + epoch] = r.eig_min;
        hist[2 * (c->epochs + 1) + epoch] = r.eig_max;
    }
    return sy_run_log_to(run, "rank.csv", rec, epoch, 5, n, v);
}

/* The training callbacks of one method. */
typedef struct {
    sy_run *run;
    sc_ctx *c;
    const sc_method *m;
    sc_result *res;
    sy_simclr_views *views; /* the training batches (on a device prepared during the previous step) */
    const sy_optim_opts *o;
    long nbatch, resumed_batch;
    double lr0; /* the lr the epoch began with */
} sc_fit;

static sy_status sc_on_resume(void *ctx, const sy_train_pos *pos)
{
    sc_fit *f = ctx;
    f->resumed_batch = (long)pos->batch;
    if (pos->epoch > f->c->epochs)
        return sy_fail(SY_ERR_ARG, "simclr: --resume: %s checkpoint has %d epochs, --epochs is %d", f->m->rec,
                       (int)pos->epoch, f->c->epochs);
    return SY_OK;
}

static sy_status sc_on_epoch_start(void *ctx, long epoch)
{
    sc_fit *f = ctx;
    f->views->aug = sy_rng_make(f->c->seed, SY_STREAM_AUGMENT, (uint64_t)epoch);
    f->lr0 = sy_schedule_lr(&f->o->schedule, f->o->lr, epoch * f->nbatch);
    /* The untrained network's row, after position 0's checkpoint: a run
     * resumed later in epoch 0 has it already, one resumed at 0 logs it. */
    if (epoch == 0 && f->resumed_batch == 0 && f->c->rank_every > 0)
        return log_rank(f->run, f->c, f->m->rec, 0, f->res->hist);
    return SY_OK;
}

static sy_status sc_on_epoch(void *ctx, long epoch, double loss)
{
    sc_fit *f = ctx;
    f->res->loss = loss;
    if (epoch == 1) f->res->loss_first = loss;
    const char *nm[2] = {"lr", "nt_xent"};
    double v[2] = {f->lr0, loss};
    sy_status s = sy_run_log(f->run, f->m->rec, epoch, 2, nm, v);
    if (s == SY_OK && f->c->rank_every > 0 && (epoch % f->c->rank_every == 0 || epoch == f->c->epochs))
        s = log_rank(f->run, f->c, f->m->rec, (int)epoch, f->res->hist);
    return s;
}

static sy_status train(sy_run *run, sc_ctx *c, const sc_method *m, sc_result *res)
{
    sy_status s = sy_params_init(c->net.ps, c->seed);
    if (s != SY_OK || !m->trained) return s;
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = (size_t)c->batch;
    bo.drop_last = 1;
    bo.seed = c->seed;
    sy_batcher *b = NULL;
    if ((s = sy_batcher_new(c->train, bo, &b)) != SY_OK) return s;
    long nbatch = (long)sy_batcher_num_batches(b);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = (float)c->lr;
    o.momentum = (float)c->momentum;
    o.schedule.kind = SY_SCHED_COSINE;
    o.schedule.total_steps = (long)c->epochs * nbatch > 0 ? (long)c->epochs * nbatch : 1;
    o.decay = m->base;
    if (m->head_only) s = sy_optim_add_rule(&o, "head.*", m->head);
    o.seed = c->seed;
    sy_optimizer *opt = s == SY_OK ? sy_optimizer_new(c->net.ps, &o) : NULL;
    if (!opt) {
        sy_batcher_free(b);
        return s != SY_OK ? s : SY_ERR_ARG;
    }
    char ckpt[4200], label[96];
    snprintf(label, sizeof label, "simclr %.48s", m->rec);
    sy_simclr_views vw = {b, (size_t)c->batch, c->train->sample, c->mean, c->std, {0}, c->xb, c->yb};
    sc_fit f = {.run = run, .c = c, .m = m, .res = res, .views = &vw, .o = &o, .nbatch = nbatch};
    sy_fit_opts fo = sy_fit_defaults();
    fo.graph = c->net.train, fo.loss = c->net.loss, fo.params = c->net.ps, fo.opt = opt, fo.batcher = b;
    fo.x = c->net.x;
    fo.epochs = c->epochs, fo.control = sy_run_control(run);
    fo.ckpt = sy_run_ckpt_path(run, NULL, m->rec, ckpt, sizeof ckpt);
    fo.resume = sy_run_get_bool(run, "resume"), fo.label = label, fo.progress_every = 5;
    fo.ctx = &f, fo.on_resume = sc_on_resume, fo.on_epoch_start = sc_on_epoch_start, fo.on_epoch = sc_on_epoch;
    s = sy_fit_prefetch(&fo, sy_simclr_views_fill, &vw, NULL);
    /* No epoch to start: the untrained network's row all the same. */
    if (s == SY_OK && c->epochs == 0 && c->rank_every > 0) s = log_rank(run, c, m->rec, 0, res->hist);
    sy_optimizer_free(opt);
    sy_batcher_free(b);
    return s;
}

/* The records to run: init, then --method expanded over scopes and sigma0s. */
static sy_status method_list(sy_run *run, double gamma, sc_method *ms, int *n)
{
    double sig[8];
    int ns = 0;
    sy_status s = sy_run_get_numbers(run, "sigma0s", 0, 0, 100, sig, 8, &ns);
    if (s != SY_OK) return s;
    const char *scope = sy_run_get_str(run, "syre-on");
    int on_head = 0, on_all = 0;
    for (const char *p = scope; *p;) {
        size_t len = strcspn(p, ",");
        if (len == 4 && !strncmp(p, "head", 4))
            on_head = 1;
        else if (len == 3 && !strncmp(p, "all", 3))
            on_all = 1;
        else
            return sy_fail(SY_ERR_ARG, "simclr: --syre-on takes head and/or all (comma-separated), got '%s'", scope);
        p += len + (p[len] == ',');
    }
    *n = 0;
    sy_decay l2 = sy_decay_l2((float)gamma);
    if (sy_run_get_bool(run, "probe-init")) {
        ms[*n] = (sc_method){.trained = 0, .base = l2};
        snprintf(ms[(*n)++].rec, sizeof ms[0].rec, "init");
    }
    int nm;
    const char *const *meths = sy_run_methods(run, &nm);
    for (int i = 0; i < nm; i++) {
        if (!strcmp(meths[i], "vanilla") || !strcmp(meths[i], "none")) {
            if (*n == MAX_REC) break;
            ms[*n] = (sc_method){.trained = 1, .base = strcmp(meths[i], "none") ? l2 : sy_decay_none()};
            snprintf(ms[(*n)++].rec, sizeof ms[0].rec, "%.40s", meths[i]);
        } else if (!strcmp(meths[i], "syre")) {
            if (!on_head && !on_all) return sy_fail(SY_ERR_ARG, "simclr: --syre-on is empty");
            for (int k = 0; k < 2; k++) {
                if (!(k ? on_all : on_head)) continue;
                for (int j = 0; j < ns && *n < MAX_REC; j++) {
                    sy_decay sd = sy_decay_syre((float)gamma, (float)sig[j]);
                    ms[*n] = (sc_method){.trained = 1, .base = k ? sd : l2, .head_only = !k, .head = sd};
                    snprintf(ms[(*n)++].rec, sizeof ms[0].rec, "syre-%s-%g", k ? "all" : "head", sig[j]);
                }
            }
        } else {
            return sy_fail(SY_ERR_ARG, "simclr: --method %s is not supported here (vanilla, syre, none)", meths[i]);
        }
    }
    if (*n == 0) return sy_fail(SY_ERR_ARG, "simclr: nothing to run (--method, --probe-init)");
    return SY_OK;
}

static sy_status plots(sy_run *run, const sc_ctx *c, const sc_method *ms, const sc_result *rs, int n)
{
    char title[200];
    snprintf(title, sizeof title, "Spectrum of the head output covariance (%d test images, width %d, %d epochs)",
             c->rank_n, c->width, c->epochs);
    sy_plot *p = sy_plot_new(title, "index", "eigenvalue");
    float *ix = malloc(sizeof(float) * (size_t)c->proj), *th = malloc(sizeof(float) * (size_t)c->proj);
    sy_status s = p && ix && th ? SY_OK : sy_fail(SY_ERR_NOMEM, "simclr: out of memory");
    for (int m = 0; m < n && s == SY_OK; m++) {
        for (int i = 0; i < c->proj; i++) th[i] = (float)rs[m].eig[i];
        s = sy_plot_spectrum(p, ms[m].rec, th, c->proj, 1e-12);
    }
    for (int i = 0; s == SY_OK && i < c->proj; i++) ix[i] = (float)(i + 1), th[i] = (float)SY_LOW_RANKNESS_THR;
    if (s == SY_OK) s = sy_plot_series_f(p, "1e-5 (Table 1 threshold)", ix, th, c->proj, SY_PLOT_DASHED);
    free(ix);
    free(th);
    if (s == SY_OK)
        s = sy_plot_save_run(p, run, "simclr-spectrum");
    else
        sy_plot_free(p);
    if (s != SY_OK || c->rank_every == 0 || c->epochs == 0) return s;

    /* Per epoch: the range of the spectrum, and the relative low-rankness. */
    int E = c->epochs + 1, nt = 0;
    double *ep = malloc(sizeof(double) * (size_t)E), *y = malloc(sizeof(double) * (size_t)E);
    const double *rel[MAX_REC];
    const char *labels[MAX_REC];
    sy_plot *pe = sy_plot_new("Head output covariance: largest and smallest eigenvalue per epoch", "epoch",
                              "eigenvalue");
    if (!ep || !y || !pe) s = sy_fail(SY_ERR_NOMEM, "simclr: out of memory");
    for (int i = 0; i < E && s == SY_OK; i++) ep[i] = i, y[i] = SY_LOW_RANKNESS_THR;
    for (int m = 0; m < n && s == SY_OK; m++) {
        if (!ms[m].trained) continue;
        rel[nt] = rs[m].hist, labels[nt++] = ms[m].rec;
        char lab[96];
        snprintf(lab, sizeof lab, "%.48s min", ms[m].rec);
        s = sy_plot_series(pe, lab, ep, rs[m].hist + E, E, SY_PLOT_DASHED);
        snprintf(lab, sizeof lab, "%.48s max", ms[m].rec);
        if (s == SY_OK) s = sy_plot_series(pe, lab, ep, rs[m].hist + 2 * E, E, SY_PLOT_LINE_POINTS);
    }
    if (s == SY_OK) s = sy_plot_series(pe, "1e-5 (Table 1 threshold)", ep, y, E, SY_PLOT_DASHED);
    if (s == SY_OK) {
        sy_plot_log_axes(pe, 0, 1);
        s = sy_plot_save_run(pe, run, "simclr-eig-epochs");
    } else {
        sy_plot_free(pe);
    }
    sy_plot *pr = s == SY_OK ? sy_plot_methods_new("Share of eigenvalues below 1e-5 x the largest (relative "
                                                   "low-rankness)", "epoch", "share of eigenvalues", ep, E, nt,
                                                   labels, rel, SY_PLOT_LINE_POINTS)
                             : NULL;
    if (pr) sy_plot_yrange(pr, 0, 1);
    if (s == SY_OK) s = sy_plot_save_run(pr, run, "simclr-lowrank-epochs");
    free(ep);
    free(y);
    return s;
}

static sy_status sc_run(sy_run *run)
{
    sc_ctx c = {0};
    sc_method ms[MAX_REC];
    sc_result rs[MAX_REC];
    memset(rs, 0, sizeof rs);
    int n = 0;
    /* Methods first: a bad --syre-on or --sigma0s fails before any loading. */
    sy_status s = method_list(run, sy_run_get_double(run, "gamma"), ms, &n);
    if (s == SY_OK) s = sc_setup(run, &c);
    for (int m = 0; m < n && s == SY_OK; m++) {
        rs[m].loss = rs[m].loss_first = NAN;
        rs[m].eig = malloc(sizeof(double) * (size_t)c.proj);
        rs[m].hist = malloc(sizeof(double) * 3 * ((size_t)c.epochs + 1));
        if (!rs[m].eig || !rs[m].hist) s = sy_fail(SY_ERR_NOMEM, "simclr: out of memory");
        for (int i = 0; s == SY_OK && i < 3 * (c.epochs + 1); i++) rs[m].hist[i] = NAN;
        if (s == SY_OK) s = train(run, &c, &ms[m], &rs[m]);
        if (s == SY_OK) s = evaluate(&c, &rs[m]);
        if (s != SY_OK) break;
        const sc_result *r = &rs[m];
        fprintf(stderr,
                "simclr %s: low-rankness %.1f%% (relative %.1f%%, eigenvalues %.3g..%.3g), linear accuracy penultimate "
                "%.4f, last %.4f\n",
                ms[m].rec, 100 * r->lr.share, 100 * r->lr.share_rel, r->lr.eig_min, r->lr.eig_max, r->acc_penult,
                r->acc_last);
        const char *keys[12] = {"low_rankness", "penult_acc", "last_acc", "low_rankness_rel", "eig_min", "eig_max",
                                "effective_rank", "low_rankness_penult", "penult_train_acc", "last_train_acc",
                                "nt_xent", "nt_xent_epoch1"};
        double vals[12] = {r->lr.share, r->acc_penult, r->acc_last, r->lr.share_rel, r->lr.eig_min, r->lr.eig_max,
                           r->lr.erank, r->lowrank_penult, r->acc_penult_train, r->acc_last_train, r->loss,
                           r->loss_first};
        for (int k = 0; k < 12 && s == SY_OK; k++) /* the NT-Xent losses only where trained */
            if (k < 10 || !isnan(vals[k])) s = sy_run_summary(run, ms[m].rec, keys[k], vals[k]);
    }
    if (s == SY_OK && n > 0) s = plots(run, &c, ms, rs, n);
    for (int m = 0; m < n; m++) free(rs[m].eig), free(rs[m].hist);
    sc_free(&c);
    return s;
}

const sy_experiment sy_exp_simclr = {
    .name = "simclr",
    .figure = "Table 1",
    .summary = "SimCLR ResNet18 + projection head on CIFAR-10: low-rankness and linear accuracy of the last layer",
    .flags = sc_flags,
    .run = sc_run,
    .reproduce_id = "table1",
    .reproduce = sc_run,
    .ignores = "sigma0,eps",
    .quick = "width=4;epochs=2;batch=128;sigma0s=0.01;train-n=1000;test-n=1000",
    .stops = 1,
};
