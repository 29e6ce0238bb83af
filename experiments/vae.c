/* beta-VAE on Fashion-MNIST (paper Appendix C.4, Figs. 6-7): posterior
 * collapse as a low-rank encoder output, and syre on the encoder against it.
 *
 * Model. Encoder 784 -> 200 -> SiLU -> mean head 200 (+ log-variance head 200
 * with --enc-var learned); decoder 200 -> 200 -> SiLU -> 784. Parameters are
 * "enc.*" and "dec.*"; weight decay (vanilla, syre, ...) applies to "enc.*"
 * only (sy_optim_add_rule), the decoder has none, as in the paper.
 *
 * Loss (per image summed over pixels and latents, then MEAN over the batch,
 * SY_REDUCE_BATCH): rec + beta * KL, with
 *   rec = BCE(logits, x) summed over the 784 pixels (--decoder bernoulli,
 *         default) or ||x - out||^2 / (2 eta_dec) (--decoder gaussian);
 *   KL  = KL(q(z|x) || p(z)) summed over the 200 latents.
 * The paper's "prior variance eta_enc = 0.01" has two readings (--enc-var):
 *   fixed (default, Wang & Ziyin 2022): q = N(mu(x), eta_enc I) with eta_enc
 *     held fixed (no log-variance head), p = N(0, I);
 *   learned: q = N(mu(x), diag exp(logvar(x))) with a learned head,
 *     p = N(0, eta_enc I).
 * z = mu + std * eps; eps ~ N(0, I) is a graph input filled every step from
 * stream SY_STREAM_NOISE (sub-stream = epoch), so every method sees the same
 * noise; evaluation uses its own fixed noise sub-streams.
 *
 * gamma is PyTorch's weight_decay with Adam's COUPLED decay: the encoder's
 * gradient gets gamma * (phi - anchor) added before Adam's normalisation
 * (gamma_eq2 = gamma / 2 in Eq. (2) of the paper). Because the loss is a batch
 * mean, gamma is relative to the loss of ONE image (hundreds of nats).
 *
 * Metrics (test set): rank of the covariance of mu over the first 1000 test
 * images (eigenvalues <= 1e-6 count as zero, SY_COV_RANK_THR_VAE), the
 * reconstruction loss rec, the KL, and the active units (Burda et al.:
 * latents with Var_x(mu_j) > 0.01 times the prior variance). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"
#include "syre/vae.h"

#define VAE_IN 784
#define VAE_H 200
#define VAE_Z 200
#define VAE_EVAL 1000    /* rank batch ("batch size 1000") and eval chunk */
#define VAE_NSAMPLE 64   /* prior samples drawn for the sample grid */
#define VAE_SHOW 16      /* test images shown in the reconstruction grid */
#define VAE_MAXSWEEP 16

static const sy_flag_spec vae_flags[] = {
    {"method", "methods: vanilla (encoder decays to 0), syre (to theta0), syre-ar, l2init, wfix, none; "
               "decay acts on enc.* only", "vanilla,syre", SY_FLAG_METHODS, 0, 0},
    {"beta", "weight of the KL term (beta-VAE)", "10", SY_FLAG_DOUBLE, 0, 1e6},
    {"gamma", "encoder weight decay: PyTorch weight_decay with Adam's coupled decay, loss = mean over the "
              "batch of per-image sums (gamma_eq2 = gamma/2); Fig. 7 uses 1000", "1000", SY_FLAG_DOUBLE, 0, 1e6},
    {"enc-var", "reading of eta_enc: fixed (q = N(mu, eta_enc I), prior N(0, I); Wang & Ziyin 2022) or "
                "learned (log-variance head, prior N(0, eta_enc I))", "fixed", SY_FLAG_STRING, 0, 0},
    {"eta-enc", "eta_enc: encoder variance (fixed) or prior variance (learned)", "0.01", SY_FLAG_DOUBLE, 1e-8, 100},
    {"decoder", "bernoulli (BCE with logits, summed over pixels) or gaussian (squared error / (2 eta_dec))",
     "bernoulli", SY_FLAG_STRING, 0, 0},
    {"eta-dec", "decoder variance of the gaussian decoder", "1", SY_FLAG_DOUBLE, 1e-6, 1e6},
    {"lr", "Adam learning rate (betas 0.9, 0.999)", "0.001", SY_FLAG_DOUBLE, 1e-8, 10},
    {"epochs", "training epochs (quick: 4)", "20", SY_FLAG_INT, 1, 100000},
    {"batch", "batch size (last short batch dropped)", "128", SY_FLAG_INT, 1, 60000},
    {"train-size", "training images, the first N of the train split (0 = all 60000; quick: 10000)", "0",
     SY_FLAG_INT, 0, 60000},
    {"test-size", "test images for the test losses, rounded down to a multiple of 1000 (quick: 2000); the rank uses the "
                  "first 1000", "10000", SY_FLAG_INT, 1000, 10000},
    {"betas", "reproduce: comma-separated beta values", "1,5,10", SY_FLAG_STRING, 0, 0},
    {"gammas", "reproduce: comma-separated gamma values", "0,1,10,100,1000", SY_FLAG_STRING, 0, 0},
    {"sigma0", "syre anchor scale, relative: std of theta0 = sigma0/sqrt(fan_in). The paper gives none for "
               "the VAE; 1 (init scale) is where syre differs from vanilla here, the paper's general 0.01 "
               "leaves it indistinguishable (docs/results/vae.md)", "1", SY_FLAG_DOUBLE, 0, 100},
    {"sigma0s", "reproduce: comma-separated sigma0 values, one syre curve each (replaces --sigma0 there)", "0.01,1",
     SY_FLAG_STRING, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

/* ---- settings -------------------------------------------------------------- */

typedef struct {
    sy_vae_opts vo; /* the model; beta is set per configuration */
    double lr;
    long epochs, batch;
    size_t train_n, test_n;
    uint64_t seed;
    double sigma0, eps;
    int resume;
} vae_cfg;

static sy_status vae_config(sy_run *run, vae_cfg *c)
{
    const char *ev = sy_run_get_str(run, "enc-var"), *dec = sy_run_get_str(run, "decoder");
    c->vo = (sy_vae_opts){.in = VAE_IN, .hidden = VAE_H, .latent = VAE_Z};
    if (strcmp(ev, "fixed") && strcmp(ev, "learned"))
        return sy_fail(SY_ERR_ARG, "vae: --enc-var must be 'fixed' or 'learned', not '%s'", ev);
    if (strcmp(dec, "bernoulli") && strcmp(dec, "gaussian"))
        return sy_fail(SY_ERR_ARG, "vae: --decoder must be 'bernoulli' or 'gaussian', not '%s'", dec);
    c->vo.learned_var = strcmp(ev, "learned") == 0;
    c->vo.gaussian = strcmp(dec, "gaussian") == 0;
    c->vo.eta_enc = sy_run_get_double(run, "eta-enc");
    c->vo.eta_dec = sy_run_get_double(run, "eta-dec");
    c->lr = sy_run_get_double(run, "lr");
    c->epochs = sy_run_get_int(run, "epochs");
    c->batch = sy_run_get_int(run, "batch");
    long tr = sy_run_get_int(run, "train-size");
    c->train_n = tr == 0 ? 60000 : (size_t)tr;
    long te = sy_run_get_int(run, "test-size");
    c->test_n = (size_t)(te / VAE_EVAL) * VAE_EVAL;
    if (c->batch > (long)c->train_n)
        return sy_fail(SY_ERR_ARG, "vae: --batch %ld exceeds the %zu training images", c->batch, c->train_n);
    c->seed = sy_run_seed(run);
    c->sigma0 = sy_run_get_double(run, "sigma0");
    c->eps = sy_run_get_double(run, "eps");
    c->resume = sy_run_get_bool(run, "resume");
    return SY_OK;
}

/* ---- one training run ------------------------------------------------------- */

typedef struct {
    sy_vae_eval ev;
    double train_loss;
    float recon[VAE_SHOW * VAE_IN];
    float samples[VAE_NSAMPLE * VAE_IN];
    double *curve_rec, *curve_rank;  /* per epoch (epochs entries), owned by caller */
    int has_anchor, anchor_rank;     /* syre: rank of mu under the anchor encoder alone */
} vae_result;

static sy_status vae_evaluate(sy_vae *e, const sy_dataset *test, const vae_cfg *c, sy_vae_eval *r, float *recon)
{
    return sy_vae_evaluate(e, test->x, c->test_n, c->seed, SY_COV_RANK_THR_VAE, r, recon, VAE_SHOW);
}

/* The anchor network alone: the encoder's parameters set to theta0 (the
 * decoder, which has no anchor, does not affect mu), evaluated untrained.
 * Its rank of mu is what syre's is read against: at sigma0 = 1 theta0 has
 * the scale of an initialisation. */
static sy_status anchor_rank(sy_vae *e, sy_params *ps, const sy_optimizer *opt, const sy_dataset *test,
                             const vae_cfg *c, vae_result *res)
{
    size_t n = sy_params_trainable_size(ps);
    float *p = sy_params_data(ps), *keep = malloc(n * sizeof *keep), *a = malloc(n * sizeof *a);
    sy_status s = keep && a ? sy_optimizer_anchor(opt, a) : sy_fail(SY_ERR_NOMEM, "vae: out of memory");
    if (s == SY_OK) {
        memcpy(keep, p, n * sizeof *p);
        for (int t = 0; t < sy_params_count(ps); t++) {
            const sy_param_info *pi = sy_params_info(ps, t);
            if (pi->trainable && !strncmp(pi->name, "enc.", 4))
                memcpy(p + pi->offset, a + pi->offset, pi->numel * sizeof *p);
        }
        sy_vae_eval ev;
        s = vae_evaluate(e, test, c, &ev, NULL);
        /* again: a device store then takes the restored values as newer */
        p = sy_params_data(ps);
        memcpy(p, keep, n * sizeof *p);
        res->has_anchor = s == SY_OK;
        res->anchor_rank = ev.rank;
    }
    free(keep);
    free(a);
    return s;
}

/* What the epoch callback of one configuration needs. */
typedef struct {
    sy_run *run;
    const vae_cfg *c;
    sy_vae *e;
    const sy_dataset *test;
    const char *label, *log_file;
    vae_result *res;
} vae_fit;

static sy_status vae_on_epoch(void *ctx, long epoch, double loss)
{
    vae_fit *f = ctx;
    vae_result *res = f->res;
    res->train_loss = loss;
    sy_vae_eval ev;
    sy_status s = vae_evaluate(f->e, f->test, f->c, &ev, NULL);
    if (s != SY_OK) return s;
    const char *names[7] = {"train_loss", "test_loss", "rec_loss", "kl", "rank", "active_units", "mu_var_max"};
    double vals[7] = {res->train_loss, ev.loss, ev.rec, ev.kl, ev.rank, ev.active, ev.mu_var_max};
    if ((s = sy_run_log_to(f->run, f->log_file, f->label, epoch, 7, names, vals)) != SY_OK) return s;
    if (res->curve_rec) res->curve_rec[epoch - 1] = ev.rec;
    if (res->curve_rank) res->curve_rank[epoch - 1] = ev.rank;
    return SY_OK;
}

/* Train one configuration (label names its checkpoint and log rows) and
 * evaluate it, with reconstructions and prior samples. log_file: NULL =
 * metrics.csv. */
static sy_status vae_train(sy_run *run, const vae_cfg *c, const char *method, double beta, double gamma,
                           double sigma0, const char *label, const char *log_file, const sy_dataset *train,
                           const sy_dataset *test, vae_result *res)
{
    sy_decay decay;
    sy_status s = sy_decay_parse(method, (float)gamma, (float)sigma0, (float)c->eps, &decay);
    if (s != SY_OK) return s;
    sy_vae_opts vo = c->vo;
    vo.beta = beta;
    sy_vae_model m;
    /* Under mpirun the training graph holds this rank's shard of each batch. */
    if ((s = sy_vae_model_new(&m, &vo, (int)(c->batch / sy_dist_size()), VAE_EVAL, VAE_NSAMPLE, c->seed)) != SY_OK)
        return s;
    sy_optimizer *opt = NULL;
    sy_batcher *b = NULL;
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAM);
    o.lr = (float)c->lr;
    o.seed = c->seed;
    o.decay = sy_decay_none(); /* the decoder: no decay */
    if ((s = sy_optim_add_rule(&o, "enc.*", decay)) == SY_OK && !(opt = sy_optimizer_new(m.ps, &o))) s = SY_ERR_ARG;
    if (s == SY_OK && !strncmp(method, "syre", 4)) s = anchor_rank(&m.eval, m.ps, opt, test, c, res);
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = (size_t)c->batch;
    bo.drop_last = 1;
    bo.seed = c->seed;
    if (s == SY_OK) s = sy_batcher_new(train, bo, &b);
    char ckpt[4200], fname[160], plabel[160];
    snprintf(fname, sizeof fname, "ckpt-%s.safetensors", label);
    snprintf(plabel, sizeof plabel, "vae %s", label);
    vae_fit f = {.run = run, .c = c, .e = &m.eval, .test = test, .label = label, .log_file = log_file, .res = res};
    sy_fit_opts fo = sy_fit_defaults();
    fo.params = m.ps, fo.opt = opt, fo.batcher = b, fo.epochs = c->epochs;
    fo.run = run, fo.ckpt = sy_run_path(run, fname, ckpt, sizeof ckpt), fo.resume = c->resume;
    fo.label = plabel, fo.progress_every = 20, fo.ctx = &f, fo.on_epoch = vae_on_epoch;
    res->train_loss = NAN;
    if (s == SY_OK) s = sy_vae_fit(&m.train, (size_t)c->batch, c->seed, &fo, NULL);
    /* Final evaluation, reconstructions and prior samples. */
    if (s == SY_OK) s = vae_evaluate(&m.eval, test, c, &res->ev, res->recon);
    sy_rng sr = sy_rng_make(c->seed, SY_STREAM_NOISE, (1ULL << 41));
    if (s == SY_OK) s = sy_vae_sample(&m.dec, &sr, res->samples);
    sy_batcher_free(b);
    sy_optimizer_free(opt);
    sy_vae_model_free(&m);
    return s;
}

/* ---- data ------------------------------------------------------------------- */

static sy_status vae_data(sy_run *run, const vae_cfg *c, sy_dataset **train, sy_dataset **test)
{
    const char *dir = sy_data_dir(sy_run_get_str(run, "data-dir")[0] ? sy_run_get_str(run, "data-dir") : NULL);
    sy_dataset *full = NULL;
    *train = *test = NULL;
    /* Encoder and decoder both work on VAE_IN = 28*28 pixels; labels are unused. */
    const sy_data_contract want = {"vae", 1, 28, 28, 0, 1};
    sy_status s = sy_dataset_load(dir, "fashion-mnist", "train", &full);
    if (s == SY_OK && (s = sy_dataset_check(full, &want)) != SY_OK) sy_dataset_free(full);
    if (s != SY_OK) return s;
    if (c->train_n < full->n) {
        s = sy_dataset_subset(full, c->train_n, 0, train);
        sy_dataset_free(full);
        if (s != SY_OK) return s;
    } else {
        *train = full;
    }
    if ((s = sy_dataset_load(dir, "fashion-mnist", "test", test)) != SY_OK ||
        (s = sy_dataset_check(*test, &want)) != SY_OK) {
        sy_dataset_free(*train);
        sy_dataset_free(*test);
        *train = *test = NULL;
        return s;
    }
    if ((*test)->n < c->test_n) {
        size_t have = (*test)->n;
        sy_dataset_free(*train);
        sy_dataset_free(*test);
        *train = *test = NULL;
        return sy_fail(SY_ERR_ARG, "vae: --test-size %zu exceeds the %zu test images", c->test_n, have);
    }
    return SY_OK;
}

/* One configuration: train it, record its summary (label) and save its
 * reconstructions and prior samples as recon-<label> and samples-<label>. */
static sy_status vae_config_run(sy_run *run, const vae_cfg *c, const char *method, double beta, double gamma,
                                double sigma0, const char *label, const char *log_file, const sy_dataset *train,
                                const sy_dataset *test, vae_result *r, const char *recon_title,
                                const char *samples_title)
{
    sy_status s = vae_train(run, c, method, beta, gamma, sigma0, label, log_file, train, test, r);
    if (s != SY_OK) return s;
    sy_run_summary(run, label, "rank", r->ev.rank);
    if (r->has_anchor) sy_run_summary(run, label, "anchor_rank", r->anchor_rank);
    sy_run_summary(run, label, "rec_loss", r->ev.rec);
    sy_run_summary(run, label, "kl", r->ev.kl);
    sy_run_summary(run, label, "test_loss", r->ev.loss);
    sy_run_summary(run, label, "train_loss", r->train_loss);
    sy_run_summary(run, label, "active_units", r->ev.active);
    char buf[64];
    snprintf(buf, sizeof buf, "%g", beta);
    sy_run_summary_setting(run, label, "beta", buf);
    snprintf(buf, sizeof buf, "%g", gamma);
    sy_run_summary_setting(run, label, "gamma (encoder only)", buf);
    sy_run_summary_setting(run, label, "enc-var", c->vo.learned_var ? "learned" : "fixed");
    sy_run_summary_setting(run, label, "decoder", c->vo.gaussian ? "gaussian" : "bernoulli");
    if (strncmp(method, "syre", 4) == 0) {
        snprintf(buf, sizeof buf, "%g", sigma0);
        sy_run_summary_setting(run, label, "sigma0", buf);
    }
    char base[4200], f[200];
    snprintf(f, sizeof f, "recon-%s", label);
    s = sy_plot_image_pairs(sy_run_path(run, f, base, sizeof base), recon_title, test->x, r->recon, VAE_SHOW, 28, 28,
                            8, "input", "recon", 0.0f, 1.0f);
    snprintf(f, sizeof f, "samples-%s", label);
    if (s == SY_OK)
        s = sy_plot_image_grid(sy_run_path(run, f, base, sizeof base), samples_title, r->samples, VAE_NSAMPLE, 28,
                               28, 8, 8, NULL, 0.0f, 1.0f);
    return s;
}

/* ---- syre run vae ------------------------------------------------------------- */

static sy_status vae_run(sy_run *run)
{
    vae_cfg c;
    sy_status s = vae_config(run, &c);
    if (s != SY_OK) return s;
    int nm;
    const char *const *methods = sy_run_methods(run, &nm);
    for (int m = 0; m < nm; m++)
        if (strcmp(methods[m], "dropout") == 0)
            return sy_fail(SY_ERR_ARG, "vae: --method dropout is not supported here");
    double beta = sy_run_get_double(run, "beta"), gamma = sy_run_get_double(run, "gamma");
    sy_dataset *train, *test;
    if ((s = vae_data(run, &c, &train, &test)) != SY_OK) return s;
    vae_result *res = calloc((size_t)nm, sizeof *res);
    double *curves = calloc((size_t)nm * 2 * (size_t)c.epochs, sizeof(double));
    double *xs = malloc(sizeof(double) * (size_t)c.epochs);
    if (!res || !curves || !xs) {
        s = sy_fail(SY_ERR_NOMEM, "vae: out of memory");
        goto out;
    }
    for (long i = 0; i < c.epochs; i++) xs[i] = (double)(i + 1);
    for (int m = 0; m < nm && s == SY_OK; m++) {
        res[m].curve_rec = curves + (size_t)m * 2 * c.epochs;
        res[m].curve_rank = res[m].curve_rec + c.epochs;
        for (long i = 0; i < c.epochs; i++) res[m].curve_rec[i] = res[m].curve_rank[i] = NAN;
        char t1[160], t2[160];
        snprintf(t1, sizeof t1, "%s, beta = %g, gamma = %g", methods[m], beta, gamma);
        snprintf(t2, sizeof t2, "%s, beta %g, gamma %g: prior samples", methods[m], beta, gamma);
        s = vae_config_run(run, &c, methods[m], beta, gamma, c.sigma0, methods[m], NULL, train, test, &res[m], t1,
                           t2);
    }
    if (s == SY_OK) {
        char title[160], base[4200];
        snprintf(title, sizeof title, "beta-VAE (beta = %g, gamma = %g, %s eta_enc): rank of mu", beta, gamma,
                 c.vo.learned_var ? "learned" : "fixed");
        sy_plot *p1 = sy_plot_new(title, "epoch", "rank of Cov(mu), 1000 test images, eig > 1e-6");
        snprintf(title, sizeof title, "beta-VAE (beta = %g, gamma = %g, %s eta_enc): reconstruction", beta, gamma,
                 c.vo.learned_var ? "learned" : "fixed");
        sy_plot *p2 = sy_plot_new(title, "epoch", "test reconstruction loss per image");
        if (!p1 || !p2) s = sy_fail(SY_ERR_NOMEM, "vae: out of memory");
        for (int m = 0; m < nm && s == SY_OK; m++) {
            s = sy_plot_series(p1, methods[m], xs, res[m].curve_rank, (int)c.epochs, SY_PLOT_LINE_POINTS);
            if (s == SY_OK)
                s = sy_plot_series(p2, methods[m], xs, res[m].curve_rec, (int)c.epochs, SY_PLOT_LINE_POINTS);
        }
        if (s == SY_OK) s = sy_plot_save(p1, sy_run_path(run, "rank", base, sizeof base));
        if (s == SY_OK) s = sy_plot_save(p2, sy_run_path(run, "rec_loss", base, sizeof base));
        sy_plot_free(p1);
        sy_plot_free(p2);
    }
out:
    free(xs);
    free(curves);
    free(res);
    sy_dataset_free(train);
    sy_dataset_free(test);
    return s;
}

/* ---- syre reproduce fig6 ---------------------------------------------------- */

/* One curve of Fig. 6: a method, and for syre/syre-ar one of the --sigma0s. */
typedef struct {
    const char *method;
    double sigma0;
    char name[64];
} vae_curve;

static int uses_anchor(const char *method) { return strncmp(method, "syre", 4) == 0; }

static sy_status vae_reproduce(sy_run *run)
{
    vae_cfg c;
    sy_status s = vae_config(run, &c);
    if (s != SY_OK) return s;
    double betas[VAE_MAXSWEEP], gammas[VAE_MAXSWEEP], sig[VAE_MAXSWEEP];
    int nbeta, ngamma, nsig, nm;
    if ((s = sy_run_get_numbers(run, "betas", 0, 0, HUGE_VAL, betas, VAE_MAXSWEEP, &nbeta)) != SY_OK) return s;
    if ((s = sy_run_get_numbers(run, "gammas", 0, 0, HUGE_VAL, gammas, VAE_MAXSWEEP, &ngamma)) != SY_OK) return s;
    if ((s = sy_run_get_numbers(run, "sigma0s", 0, 0, HUGE_VAL, sig, VAE_MAXSWEEP, &nsig)) != SY_OK) return s;
    const char *const *methods = sy_run_methods(run, &nm);
    vae_curve curves[4 * VAE_MAXSWEEP];
    int nc = 0;
    for (int m = 0; m < nm; m++) {
        if (strcmp(methods[m], "dropout") == 0)
            return sy_fail(SY_ERR_ARG, "vae: --method dropout is not supported here");
        int k = uses_anchor(methods[m]) ? nsig : 1;
        for (int j = 0; j < k && nc < 4 * VAE_MAXSWEEP; j++, nc++) {
            curves[nc].method = methods[m];
            curves[nc].sigma0 = uses_anchor(methods[m]) ? sig[j] : c.sigma0;
            if (uses_anchor(methods[m]))
                snprintf(curves[nc].name, sizeof curves[nc].name, "%s-s%g", methods[m], sig[j]);
            else
                snprintf(curves[nc].name, sizeof curves[nc].name, "%s", methods[m]);
        }
    }
    sy_dataset *train, *test;
    if ((s = vae_data(run, &c, &train, &test)) != SY_OK) return s;
    size_t ncfg = (size_t)nc * nbeta * ngamma;
    double *rank = malloc(sizeof(double) * ncfg), *rec = malloc(sizeof(double) * ncfg);
    vae_result *r = calloc(1, sizeof *r);
    if (!rank || !rec || !r) {
        s = sy_fail(SY_ERR_NOMEM, "vae: out of memory");
        goto out;
    }
    for (int bi = 0; bi < nbeta && s == SY_OK; bi++)
        for (int gi = 0; gi < ngamma && s == SY_OK; gi++)
            for (int m = 0; m < nc && s == SY_OK; m++) {
                char label[160], title[200];
                snprintf(label, sizeof label, "%s-b%g-g%g", curves[m].name, betas[bi], gammas[gi]);
                snprintf(title, sizeof title, "%s, beta = %g, gamma = %g (%s eta_enc)", curves[m].name, betas[bi],
                         gammas[gi], c.vo.learned_var ? "learned" : "fixed");
                memset(r, 0, sizeof *r);
                s = vae_config_run(run, &c, curves[m].method, betas[bi], gammas[gi], curves[m].sigma0, label,
                                   "sweep.csv", train, test, r, title, title);
                size_t k = ((size_t)m * nbeta + bi) * ngamma + gi;
                rank[k] = r->ev.rank;
                rec[k] = r->ev.rec;
            }
    if (s == SY_OK) {
        /* Fig. 6: rank and reconstruction loss against gamma; gamma = 0 drawn at log10 = -1. */
        double xs[VAE_MAXSWEEP];
        for (int gi = 0; gi < ngamma; gi++) xs[gi] = gammas[gi] > 0 ? log10(gammas[gi]) : -1.0;
        const char *xl = "log10 gamma (gamma = 0 drawn at -1)";
        for (int bi = 0; bi < nbeta && s == SY_OK; bi++) {
            char title[200], base[4200], f[64];
            snprintf(title, sizeof title, "Fig. 6 left: rank of mu, beta = %g (%s, eta_enc = %g)", betas[bi],
                     c.vo.learned_var ? "learned var" : "fixed var", c.vo.eta_enc);
            sy_plot *p1 = sy_plot_new(title, xl, "rank of Cov(mu), 1000 test images, eig > 1e-6");
            snprintf(title, sizeof title, "Fig. 6 right: reconstruction, beta = %g (%s, eta_enc = %g)", betas[bi],
                     c.vo.learned_var ? "learned var" : "fixed var", c.vo.eta_enc);
            sy_plot *p2 = sy_plot_new(title, xl, c.vo.gaussian ? "test reconstruction loss (sq. err / 2 eta_dec)"
                                                             : "test reconstruction loss (BCE, nats per image)");
            if (!p1 || !p2) s = sy_fail(SY_ERR_NOMEM, "vae: out of memory");
            for (int m = 0; m < nc && s == SY_OK; m++) {
                size_t k = ((size_t)m * nbeta + bi) * ngamma;
                char lab[96];
                if (uses_anchor(curves[m].method))
                    snprintf(lab, sizeof lab, "%s sigma0=%g", curves[m].method, curves[m].sigma0);
                else
                    snprintf(lab, sizeof lab, "%s", curves[m].method);
                s = sy_plot_series(p1, lab, xs, rank + k, ngamma, SY_PLOT_LINE_POINTS);
                if (s == SY_OK) s = sy_plot_series(p2, lab, xs, rec + k, ngamma, SY_PLOT_LINE_POINTS);
            }
            sy_plot_yrange(p1, 0, VAE_Z + 5);
            snprintf(f, sizeof f, "fig6-rank-b%g", betas[bi]);
            if (s == SY_OK) s = sy_plot_save(p1, sy_run_path(run, f, base, sizeof base));
            snprintf(f, sizeof f, "fig6-rec-b%g", betas[bi]);
            if (s == SY_OK) s = sy_plot_save(p2, sy_run_path(run, f, base, sizeof base));
            sy_plot_free(p1);
            sy_plot_free(p2);
        }
    }
out:
    free(r);
    free(rank);
    free(rec);
    sy_dataset_free(train);
    sy_dataset_free(test);
    return s;
}

const sy_experiment sy_exp_vae = {
    .name = "vae",
    .figure = "Figs. 6-7",
    .summary = "beta-VAE on Fashion-MNIST, decay on the encoder only: posterior collapse (low-rank mu) vs syre",
    .flags = vae_flags,
    .run = vae_run,
    .reproduce_id = "fig6",
    .reproduce = vae_reproduce,
    .data_parallel = 1,
    .quick = "epochs=4;train-size=10000;test-size=2000",
    .stops = 1,
};
