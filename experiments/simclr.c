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
 * epochs. Methods: vanilla (decay toward 0); syre with each --sigma0s on
 * each --syre-on scope ("head": syre on head.* only; "all"); l2init, its
 * control, decay toward the initialisation on the same scopes; none (no
 * decay). The untrained encoder ("init") is probed too: the baseline.
 *
 * Evaluation (sy_probe_outputs, syre/probe.h): linear probes (softmax
 * regression, Adam --probe-lr, --probe-epochs) on the frozen model's
 * features (evaluation mode, no augmentation) h and z, centred and divided
 * by one scalar (no per-feature standardising, which would blow a collapsed
 * direction back up). Low-rankness (Table 1) = share of the eigenvalues of
 * the covariance of z over --rank-n test images below 1e-5, and below 1e-5
 * x the largest ("relative"), every --rank-every epochs into rank.csv.
 *
 * The paper trains on CIFAR-100 (--dataset cifar100, with the official
 * binaries in the data directory); by default this experiment uses CIFAR-10,
 * what the project ships. Checkpoints after each epoch. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

#include "simclr.h"

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
    {"method", "vanilla (decay to 0), syre (each --syre-on scope x --sigma0s), l2init (decay toward the "
               "initialisation, each --syre-on scope), none (no decay)", "vanilla,syre",
     SY_FLAG_METHODS, 0, 0},
    {"syre-on", "where syre (and l2init) apply: head, all (comma-separated)", "head,all", SY_FLAG_STRING, 0, 0},
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
    {"sync-bn", "under mpirun: batch norm over all ranks' rows (SyncBatchNorm; CPU)", "0", SY_FLAG_BOOL, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

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
    if (c->proj == 0) c->proj = 2 * c->width;
    c->hid = 8 * c->width;
    const char *set = sy_run_get_str(run, "dataset");
    int c100 = !strcmp(set, "cifar100"), K = c100 ? 100 : 10;
    if (!c100 && strcmp(set, "cifar10"))
        return sy_fail(SY_ERR_ARG, "simclr: --dataset must be cifar10 or cifar100, got '%s'", set);
    if (c->rank_n > sy_run_get_int(run, "test-n"))
        return sy_fail(SY_ERR_ARG, "simclr: --rank-n (%d) must not exceed --test-n (%ld)", c->rank_n,
                       sy_run_get_int(run, "test-n"));
    /* The encoder takes [3, 32, 32] images; the linear probe has K classes; n per class: the first n/K of each. */
    const sy_data_contract want = {"simclr", 3, 32, 32, K, 1};
    sy_status s = sy_run_load_balanced_splits(run, set, "train-n", "test-n", &want, c->batch, &c->train, &c->test);
    if (s != SY_OK) return s;
    sy_dataset_channel_stats(c->train, c->mean, c->std);
    c->xb = malloc((size_t)c->batch * (SC_IMG + 1) * sizeof(float)); /* then yb */
    if (!c->xb) return sy_fail(SY_ERR_NOMEM, "simclr: out of memory");
    c->yb = c->xb + (size_t)c->batch * SC_IMG;
    int share = c->batch / sy_dist_size(); /* under mpirun this rank's; the loss gathers all ranks' rows */
    if ((s = sy_simclr_new(&c->net, c->width, c->proj, share, c->eval_b, c->tau)) != SY_OK) return s;
    if (sy_run_get_bool(run, "sync-bn") && (s = sy_graph_set_sync_bn(c->net.train, 1)) != SY_OK) return s;
    fprintf(stderr,
            "simclr: ResNet18 width %d + head %d-%d-%d (%zu parameters), %s (the paper: CIFAR-100), %zu train / "
            "%zu test images, %d epochs, batch %d (x2 views), tau %g, SGD lr %g momentum %g cosine, weight decay %g; "
            "graphs %.0f MB\n",
            c->width, c->hid, c->hid, c->proj, sy_params_num_trainable(c->net.ps), c100 ? "CIFAR-100" : "CIFAR-10",
            c->train->n, c->test->n, c->epochs, c->batch, c->tau, c->lr, c->momentum, c->gamma,
            (double)(sy_graph_bytes(c->net.train) + sy_graph_bytes(c->net.feat)) / 1e6);
    return SY_OK;
}

static void sc_free(sc_ctx *c)
{
    free(c->xb); /* and yb */
    sy_simclr_free(&c->net);
    sy_dataset_free(c->train);
    sy_dataset_free(c->test);
}

sy_status sc_normalize(void *ctx, float *x, size_t k)
{
    const sc_ctx *c = ctx;
    return sy_data_normalize(x, k, c->train->sample, c->mean, c->std);
}

/* Both linear probes (penultimate h, last z) and the rank measures of the
 * unscaled test features. */
static sy_status evaluate(sc_ctx *c, sc_result *r)
{
    float *Hr = malloc((size_t)c->rank_n * (c->hid + c->proj) * sizeof(float)); /* then Zr */
    sy_status s = Hr ? SY_OK : sy_fail(SY_ERR_NOMEM, "simclr: out of memory");
    float *Zr = Hr ? Hr + (size_t)c->rank_n * c->hid : NULL;
    sy_var outs[2] = {c->net.h, c->net.z};
    float *raw[2] = {Hr, Zr};
    double te[2], tr[2];
    sy_probe_opts po = {sc_normalize, c, c->probe_epochs, c->probe_lr, c->seed};
    if (s == SY_OK)
        s = sy_probe_outputs(c->net.feat, c->net.fx, 2, outs, c->train, c->test, &po, (size_t)c->rank_n, raw, te, tr);
    if (s == SY_OK) s = sy_low_rankness_measures(Zr, c->rank_n, c->proj, SY_LOW_RANKNESS_THR, &r->lr, r->eig);
    if (s == SY_OK) s = sy_low_rankness_measures(Hr, c->rank_n, c->hid, SY_LOW_RANKNESS_THR, &r->lr_penult, NULL);
    r->acc_penult = te[0], r->acc_last = te[1], r->acc_penult_train = tr[0], r->acc_last_train = tr[1];
    free(Hr);
    return s;
}

static sy_status sc_on_epoch_start(void *ctx, long epoch)
{
    sc_ctx *c = ctx;
    c->vw.aug = sy_rng_make(c->seed, SY_STREAM_AUGMENT, (uint64_t)epoch);
    c->lr0 = sy_schedule_lr(&c->o.schedule, c->o.lr, epoch * c->nbatch);
    return sc_rank_epoch_start(c, epoch);
}

static sy_status sc_on_epoch(void *ctx, long epoch, double loss)
{
    sc_ctx *c = ctx;
    c->res->loss = loss;
    if (epoch == 1) c->res->loss_first = loss;
    const char *nm[2] = {"lr", "nt_xent"};
    double v[2] = {c->lr0, loss};
    sy_status s = sy_run_log(c->run, c->m->rec, epoch, 2, nm, v);
    return s == SY_OK ? sc_rank_epoch_end(c, epoch) : s;
}

/* Train method m (none for the untrained record) from the seed's initialisation. */
static sy_status train(sc_ctx *c, const sc_method *m, sc_result *res)
{
    sy_status s = sy_params_init(c->net.ps, c->seed);
    if (s != SY_OK || !m->trained) return s;
    sy_batcher *b = NULL;
    if ((s = sy_batcher_new_full(c->train, (size_t)c->batch, c->seed, &b)) != SY_OK) return s;
    c->m = m, c->res = res, c->resumed_batch = 0;
    c->nbatch = (long)sy_batcher_num_batches(b);
    c->o = sy_optim_sgd_cosine(c->lr, c->momentum, (long)c->epochs * c->nbatch, c->seed);
    c->o.decay = m->base;
    if (m->head_only) s = sy_optim_add_rule(&c->o, "head.*", m->head);
    sy_optimizer *opt = s == SY_OK ? sy_optimizer_new(c->net.ps, &c->o) : NULL;
    if (s == SY_OK && !opt) s = SY_ERR_ARG; /* sy_optimizer_new said why */
    char ckpt[4200], label[96];
    snprintf(label, sizeof label, "simclr %.48s", m->rec);
    c->vw = (sy_simclr_views){b, sy_batcher_local_batch(b), c->train->sample, c->mean, c->std, {0}, c->xb, c->yb};
    sy_fit_opts fo = sy_fit_defaults();
    fo.graph = c->net.train, fo.loss = c->net.loss, fo.params = c->net.ps, fo.opt = opt, fo.batcher = b;
    fo.x = c->net.x, fo.epochs = c->epochs, fo.control = sy_run_control(c->run);
    fo.resume = sy_run_get_bool(c->run, "resume");
    fo.ckpt = sy_run_ckpt_path(c->run, NULL, m->rec, ckpt, sizeof ckpt), fo.label = label, fo.progress_every = 5;
    fo.ctx = c, fo.on_resume = sc_rank_resume, fo.on_epoch_start = sc_on_epoch_start, fo.on_epoch = sc_on_epoch;
    if (s == SY_OK) s = sy_fit_prefetch(&fo, sy_simclr_views_fill, &c->vw, NULL);
    /* No epoch to start: the untrained network's row all the same. */
    if (s == SY_OK && c->epochs == 0 && c->rank_every > 0) s = sc_log_rank(c, 0);
    sy_optimizer_free(opt);
    sy_batcher_free(b);
    return s;
}

/* The records to run: init, then --method expanded over scopes and sigma0s. */
static sy_status method_list(sy_run *run, double gamma, sc_method *ms, int *n)
{
    double sig[8];
    int ns = 0, nm = 0;
    unsigned scope = 0; /* bit 0: head, bit 1: all */
    const char *const *meths = NULL;
    sy_status s = sy_run_get_numbers(run, "sigma0s", 0, 0, 100, sig, 8, &ns);
    if (s == SY_OK) s = sy_run_get_choice_list(run, "syre-on", "head,all", &scope);
    if (s == SY_OK) s = sy_run_methods_among(run, "vanilla, syre, l2init, none", &meths, &nm);
    if (s != SY_OK) return s;
    *n = 0;
    sy_decay l2 = sy_decay_l2((float)gamma);
    if (sy_run_get_bool(run, "probe-init")) ms[(*n)++] = (sc_method){.rec = "init", .trained = 0, .base = l2};
    for (int i = 0; i < nm; i++) {
        int is_syre = !strcmp(meths[i], "syre"), is_l2init = !strcmp(meths[i], "l2init");
        if (!is_syre && !is_l2init) { /* vanilla (decay toward 0) or none */
            if (*n == SC_MAX_REC) break;
            ms[*n] = (sc_method){.trained = 1, .base = strcmp(meths[i], "none") ? l2 : sy_decay_none()};
            snprintf(ms[(*n)++].rec, sizeof ms[0].rec, "%.40s", meths[i]);
            continue;
        }
        if (!scope) return sy_fail(SY_ERR_ARG, "simclr: --syre-on is empty");
        /* L2-init (decay toward the initialisation) is syre's control: the same scopes, no anchor scale. */
        for (int k = 0; k < 2; k++) { /* head, then all */
            if (!((scope >> k) & 1)) continue;
            for (int j = 0; j < (is_syre ? ns : 1) && *n < SC_MAX_REC; j++) {
                sy_decay sd = is_syre ? sy_decay_syre((float)gamma, (float)sig[j]) : sy_decay_l2_init((float)gamma);
                ms[*n] = (sc_method){.trained = 1, .base = k ? sd : l2, .head_only = !k, .head = sd};
                if (is_syre) snprintf(ms[(*n)++].rec, sizeof ms[0].rec, "syre-%s-%g", k ? "all" : "head", sig[j]);
                else snprintf(ms[(*n)++].rec, sizeof ms[0].rec, "l2init-%s", k ? "all" : "head");
            }
        }
    }
    if (*n == 0) return sy_fail(SY_ERR_ARG, "simclr: nothing to run (--method, --probe-init)");
    return SY_OK;
}

/* Table 1's figure: the spectrum of z of every record, with the threshold. */
static sy_status plot_spectra(sy_run *run, const sc_ctx *c, const sc_method *ms, const sc_result *rs, int n)
{
    const char *labels[SC_MAX_REC];
    const double *eig[SC_MAX_REC];
    for (int m = 0; m < n; m++) labels[m] = ms[m].rec, eig[m] = rs[m].eig;
    char title[200];
    snprintf(title, sizeof title, "Spectrum of the head output covariance (%d test images, width %d, %d epochs)",
             c->rank_n, c->width, c->epochs);
    const sy_plot_opts o = {.title = title, .xlabel = "index", .ylabel = "eigenvalue",
                            .ref_label = "1e-5 (Table 1 threshold)", .ref = SY_LOW_RANKNESS_THR};
    return sy_plot_spectra(run, "simclr-spectrum", &o, c->proj, n, labels, eig);
}

static sy_status sc_run(sy_run *run)
{
    sc_ctx c = {.run = run};
    sc_method ms[SC_MAX_REC];
    sc_result rs[SC_MAX_REC] = {{0}};
    int n = 0;
    /* Methods first: a bad --syre-on or --sigma0s fails before any loading. */
    sy_status s = method_list(run, sy_run_get_double(run, "gamma"), ms, &n);
    if (s == SY_OK) s = sc_setup(run, &c);
    for (int m = 0; m < n && s == SY_OK; m++) {
        sc_result *r = &rs[m];
        r->loss = r->loss_first = NAN;
        r->eig = malloc(sizeof(double) * ((size_t)c.proj + 3 * ((size_t)c.epochs + 1))); /* then hist */
        if (!r->eig) s = sy_fail(SY_ERR_NOMEM, "simclr: out of memory");
        r->hist = r->eig ? r->eig + c.proj : NULL;
        for (int i = 0; s == SY_OK && i < 3 * (c.epochs + 1); i++) r->hist[i] = NAN;
        if (s == SY_OK) s = train(&c, &ms[m], r);
        if (s == SY_OK) s = evaluate(&c, r);
        if (s != SY_OK) break;
        fprintf(stderr,
                "simclr %s: low-rankness %.1f%% (relative %.1f%%, eigenvalues %.3g..%.3g), linear accuracy penultimate "
                "%.4f, last %.4f\n",
                ms[m].rec, 100 * r->lr.share, 100 * r->lr.share_rel, r->lr.eig_min, r->lr.eig_max, r->acc_penult,
                r->acc_last);
        const char *keys[12] = {"low_rankness", "penult_acc", "last_acc", "low_rankness_rel", "eig_min", "eig_max",
                                "effective_rank", "low_rankness_penult", "penult_train_acc", "last_train_acc",
                                "nt_xent", "nt_xent_epoch1"};
        double vals[12] = {r->lr.share, r->acc_penult, r->acc_last, r->lr.share_rel, r->lr.eig_min, r->lr.eig_max,
                           r->lr.erank, r->lr_penult.share, r->acc_penult_train, r->acc_last_train, r->loss,
                           r->loss_first};
        s = sy_run_summaries_measured(run, ms[m].rec, 12, keys, vals); /* NT-Xent only where trained */
    }
    if (s == SY_OK && n > 0) s = plot_spectra(run, &c, ms, rs, n);
    if (s == SY_OK && n > 0) s = sc_plot_epochs(run, &c, ms, rs, n);
    for (int m = 0; m < n; m++) free(rs[m].eig); /* and hist */
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
    .data_parallel = 1,
};
