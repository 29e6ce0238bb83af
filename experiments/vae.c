/* beta-VAE on Fashion-MNIST (paper Appendix C.4, Figs. 6-7): posterior
 * collapse as a low-rank encoder output, and syre on the encoder against it.
 *
 * Model and loss: syre/vae.h (784 -> 200 -> SiLU -> 200 latents and back;
 * per image sums over pixels and latents, the mean over the batch). Weight
 * decay (vanilla, syre, ...) applies to "enc.*" only, the decoder has none,
 * as in the paper. The paper's "prior variance eta_enc = 0.01" has two
 * readings (--enc-var): fixed (default, Wang & Ziyin 2022): q = N(mu(x),
 * eta_enc I), p = N(0, I); learned: a log-variance head, p = N(0, eta_enc I).
 * The training noise comes from stream SY_STREAM_NOISE (sub-stream = epoch),
 * so every method sees the same; evaluation uses its own fixed sub-streams.
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

#include "vae_exp.h"

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

sy_status vae_config(sy_run *run, vae_cfg *c)
{
    int learned, gaussian;
    sy_status s = sy_run_get_choice(run, "enc-var", 2, (const char *const[]){"fixed", "learned"}, &learned);
    if (s == SY_OK) s = sy_run_get_choice(run, "decoder", 2, (const char *const[]){"bernoulli", "gaussian"},
                                              &gaussian);
    if (s != SY_OK) return s;
    c->vo = (sy_vae_opts){.in = VAE_IN, .hidden = VAE_H, .latent = VAE_Z, .learned_var = learned,
                          .gaussian = gaussian, .eta_enc = sy_run_get_double(run, "eta-enc"),
                          .eta_dec = sy_run_get_double(run, "eta-dec")};
    c->lr = sy_run_get_double(run, "lr");
    c->epochs = sy_run_get_int(run, "epochs");
    c->batch = sy_run_get_int(run, "batch");
    long tr = sy_run_get_int(run, "train-size");
    c->train_n = tr == 0 ? 60000 : (size_t)tr;
    c->test_n = (size_t)(sy_run_get_int(run, "test-size") / VAE_EVAL) * VAE_EVAL;
    if (c->batch > (long)c->train_n)
        return sy_fail(SY_ERR_ARG, "vae: --batch %ld exceeds the %zu training images", c->batch, c->train_n);
    c->seed = sy_run_seed(run);
    c->sigma0 = sy_run_get_double(run, "sigma0");
    c->eps = sy_run_get_double(run, "eps");
    c->resume = sy_run_get_bool(run, "resume");
    return SY_OK;
}

static int uses_anchor(const char *method) { return strncmp(method, "syre", 4) == 0; }

/* ---- one configuration ------------------------------------------------------ */

/* A configuration: a method at (beta, gamma), syre's anchors at sigma0. Its label names its records, checkpoint
 * and images; with ep, its per-epoch rank and rec_loss are series m of ep. */
typedef struct {
    const char *method, *name; /* name: its series' (sy_series) */
    double beta, gamma, sigma0;
    char label[160];
    const char *log_file; /* NULL: metrics.csv */
    sy_results *ep;
    int m;
} vae_point;

typedef struct {
    sy_vae_eval ev;
    double train_loss;
    float recon[VAE_SHOW * VAE_IN];
    float samples[VAE_NSAMPLE * VAE_IN];
    int has_anchor, anchor_rank; /* syre: rank of mu under the anchor encoder alone */
} vae_result;

/* What the epoch callbacks of one configuration need. */
typedef struct {
    sy_run *run;
    const vae_cfg *c;
    sy_vae *e;
    const sy_dataset *test;
    const vae_point *p;
    vae_result *res;
} vae_fit;

const char *const vae_cols[2] = {"rank", "rec_loss"};

static sy_status vae_on_epoch(void *ctx, long epoch, double loss)
{
    vae_fit *f = ctx;
    f->res->train_loss = loss;
    sy_vae_eval ev;
    sy_status s = sy_vae_evaluate(f->e, f->test->x, f->c->test_n, f->c->seed, SY_COV_RANK_THR_VAE, &ev, NULL, 0);
    if (s != SY_OK) return s;
    const char *names[7] = {"train_loss", "test_loss", "rec_loss", "kl", "rank", "active_units", "mu_var_max"};
    double vals[7] = {loss, ev.loss, ev.rec, ev.kl, ev.rank, ev.active, ev.mu_var_max};
    if ((s = sy_run_log_to(f->run, f->p->log_file, f->p->label, epoch, 7, names, vals)) != SY_OK) return s;
    if (f->p->ep) sy_results_set(f->p->ep, f->p->m, (int)epoch - 1, (double[2]){ev.rank, ev.rec});
    return SY_OK;
}

/* A resumed configuration's curves: the epochs logged before. */
static sy_status vae_on_resume(void *ctx, const sy_train_pos *pos)
{
    const vae_fit *f = ctx;
    (void)pos;
    if (!f->p->ep) return SY_OK;
    return sy_results_read_rows(f->p->ep, f->run, f->p->log_file, f->p->label, 0, NULL, NULL, f->p->m, "step");
}

/* Train one configuration and evaluate it, with reconstructions and prior samples. */
static sy_status vae_train(sy_run *run, const vae_cfg *c, const vae_point *p, const sy_dataset *train,
                           const sy_dataset *test, vae_result *res)
{
    sy_decay decay;
    sy_status s = sy_decay_parse(p->method, (float)p->gamma, (float)p->sigma0, (float)c->eps, &decay);
    if (s != SY_OK) return s;
    sy_vae_opts vo = c->vo;
    vo.beta = p->beta;
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
    if (s == SY_OK && uses_anchor(p->method)) {
        s = sy_vae_anchor_rank(&m.eval, m.ps, opt, test->x, c->test_n, c->seed, SY_COV_RANK_THR_VAE,
                               &res->anchor_rank);
        res->has_anchor = s == SY_OK;
    }
    if (s == SY_OK) s = sy_batcher_new_full(train, (size_t)c->batch, c->seed, &b);
    char ckpt[4200], plabel[192];
    snprintf(plabel, sizeof plabel, "vae %s", p->label);
    vae_fit f = {.run = run, .c = c, .e = &m.eval, .test = test, .p = p, .res = res};
    sy_fit_opts fo = sy_fit_defaults();
    fo.params = m.ps, fo.opt = opt, fo.batcher = b, fo.epochs = c->epochs;
    fo.control = sy_run_control(run), fo.ckpt = sy_run_ckpt_path(run, NULL, p->label, ckpt, sizeof ckpt);
    fo.resume = c->resume;
    fo.label = plabel, fo.progress_every = 20, fo.ctx = &f, fo.on_epoch = vae_on_epoch, fo.on_resume = vae_on_resume;
    res->train_loss = NAN;
    if (s == SY_OK) s = sy_vae_fit(&m.train, (size_t)c->batch, c->seed, &fo, NULL);
    /* Final evaluation, reconstructions and prior samples. */
    if (s == SY_OK)
        s = sy_vae_evaluate(&m.eval, test->x, c->test_n, c->seed, SY_COV_RANK_THR_VAE, &res->ev, res->recon, VAE_SHOW);
    sy_rng sr = sy_rng_make(c->seed, SY_STREAM_NOISE, (1ULL << 41));
    if (s == SY_OK) s = sy_vae_sample(&m.dec, &sr, res->samples);
    sy_batcher_free(b);
    sy_optimizer_free(opt);
    sy_vae_model_free(&m);
    return s;
}

/* Train one configuration, record its summary (label) and save its
 * reconstructions and prior samples as recon-<label> and samples-<label>. */
static sy_status vae_config_run(sy_run *run, const vae_cfg *c, const vae_point *p, const sy_dataset *train,
                                const sy_dataset *test, vae_result *r)
{
    memset(r, 0, sizeof *r);
    sy_status s = vae_train(run, c, p, train, test, r);
    if (s != SY_OK) return s;
    const char *keys[7] = {"rank", "anchor_rank", "rec_loss", "kl", "test_loss", "train_loss", "active_units"};
    double vals[7] = {r->ev.rank, r->anchor_rank, r->ev.rec, r->ev.kl, r->ev.loss, r->train_loss, r->ev.active};
    for (int k = 0; k < 7; k++)
        if (k != 1 || r->has_anchor) sy_run_summary(run, p->label, keys[k], vals[k]);
    sy_run_summary_settingf(run, p->label, "beta", "%g", p->beta);
    sy_run_summary_settingf(run, p->label, "gamma (encoder only)", "%g", p->gamma);
    sy_run_summary_setting(run, p->label, "enc-var", c->vo.learned_var ? "learned" : "fixed");
    sy_run_summary_setting(run, p->label, "decoder", c->vo.gaussian ? "gaussian" : "bernoulli");
    if (uses_anchor(p->method)) sy_run_summary_settingf(run, p->label, "sigma0", "%g", p->sigma0);
    char base[4200], title[200];
    snprintf(title, sizeof title, "%s, beta = %g, gamma = %g (%s eta_enc)", p->name, p->beta, p->gamma,
             c->vo.learned_var ? "learned" : "fixed");
    s = sy_plot_image_pairs(sy_run_pathf(run, base, sizeof base, "recon-%s", p->label), title, test->x, r->recon,
                            VAE_SHOW, 28, 28, 8, "input", "recon", 0.0f, 1.0f);
    if (s == SY_OK)
        s = sy_plot_image_grid(sy_run_pathf(run, base, sizeof base, "samples-%s", p->label), title, r->samples,
                               VAE_NSAMPLE, 28, 28, 8, 8, NULL, 0.0f, 1.0f);
    return s;
}

/* ---- the configurations of a run (and of reproduce's sweep), syre run vae (Fig. 7) ---------------- */

sy_status vae_configs(sy_run *run, const vae_cfg *c, const sy_series *cv, int nc, const double *betas, int nbeta,
                      const double *gammas, int ngamma, sy_results *fin, sy_results *ep)
{
    /* Encoder and decoder both work on VAE_IN = 28*28 pixels; labels are unused. */
    const sy_data_contract want = {"vae", 1, 28, 28, 0, 1};
    sy_dataset *train, *test;
    sy_status s = sy_dataset_load_splits(sy_run_data_dir(run), "fashion-mnist", (long)c->train_n, (long)c->test_n,
                                         &want, &train, &test);
    vae_result *r = s == SY_OK ? malloc(sizeof *r) : NULL;
    if (s == SY_OK && !r) s = sy_fail(SY_ERR_NOMEM, "vae: out of memory");
    for (int bi = 0; bi < nbeta && s == SY_OK; bi++)
        for (int gi = 0; gi < ngamma && s == SY_OK; gi++)
            for (int m = 0; m < nc && s == SY_OK; m++) {
                vae_point p = {cv[m].method, cv[m].name, betas[bi], gammas[gi], cv[m].value, "",
                               fin ? "sweep.csv" : NULL, ep, m};
                if (fin)
                    snprintf(p.label, sizeof p.label, "%s-b%g-g%g", cv[m].name, betas[bi], gammas[gi]);
                else
                    snprintf(p.label, sizeof p.label, "%s", cv[m].name);
                s = vae_config_run(run, c, &p, train, test, r);
                if (fin) sy_results_set(fin, bi * nc + m, gi, (double[2]){r->ev.rank, r->ev.rec});
            }
    free(r);
    sy_dataset_free(train);
    sy_dataset_free(test);
    return s;
}

sy_status vae_curves(sy_run *run, const vae_cfg *c, const double *sig, int nsig, sy_series *cv, int *nc)
{
    sy_status s = sy_run_methods_among(run, "vanilla,syre,syre-ar,l2init,wfix,none", NULL, NULL);
    return s == SY_OK ? sy_run_series(run, "syre", "s", "sigma0", sig, nsig, c->sigma0, cv, VAE_MAXCURVES, nc) : s;
}

static sy_status vae_run(sy_run *run)
{
    vae_cfg c;
    sy_series cv[VAE_MAXCURVES];
    const char *labels[VAE_MAXCURVES];
    int nc = 0;
    sy_results ep = {0};
    sy_status s = vae_config(run, &c);
    if (s == SY_OK) s = vae_curves(run, &c, NULL, 0, cv, &nc);
    if (s == SY_OK) s = sy_results_new(&ep, nc, (int)c.epochs, 2, vae_cols);
    double beta = sy_run_get_double(run, "beta"), gamma = sy_run_get_double(run, "gamma");
    if (s == SY_OK) s = vae_configs(run, &c, cv, nc, &beta, 1, &gamma, 1, NULL, &ep);
    for (int m = 0; m < nc; m++) labels[m] = cv[m].label;
    char title[160];
    const char *var = c.vo.learned_var ? "learned" : "fixed";
    snprintf(title, sizeof title, "beta-VAE (beta = %g, gamma = %g, %s eta_enc): rank of mu", beta, gamma, var);
    if (s == SY_OK)
        s = sy_plot_methods(run, "rank", title, "epoch", "rank of Cov(mu), 1000 test images, eig > 1e-6", ep.x,
                            ep.np, nc, labels, sy_results_col(&ep, 0), SY_PLOT_LINE_POINTS);
    snprintf(title, sizeof title, "beta-VAE (beta = %g, gamma = %g, %s eta_enc): reconstruction", beta, gamma, var);
    if (s == SY_OK)
        s = sy_plot_methods(run, "rec_loss", title, "epoch", "test reconstruction loss per image", ep.x, ep.np, nc,
                            labels, sy_results_col(&ep, 1), SY_PLOT_LINE_POINTS);
    sy_results_free(&ep);
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
