/* A variational autoencoder with one hidden layer each way (the beta-VAE of
 * the paper's C.4): encoder in -> hidden -> SiLU -> mean head (and, with a
 * learned variance, a log-variance head); decoder latent -> hidden -> SiLU ->
 * in. Parameters are "enc.0", "enc.mu", "enc.logvar", "dec.0", "dec.1", so
 * that optimizer rules select the encoder by "enc.*". The builders are of the
 * nn layer (src/nn/vae.c), the training loop of the train layer
 * (src/train/vae_fit.c), the test-set evaluation of the metrics layer
 * (src/metrics/vae.c).
 *
 * Loss, per image summed over pixels and latents, then the MEAN over the
 * batch: rec + beta * KL with
 *   rec = BCE(logits, x) (bernoulli decoder) or ||x - out||^2 / (2 eta_dec)
 *         (gaussian decoder);
 *   KL  = KL(q(z|x) || p(z)), where q = N(mu, eta_enc I) and p = N(0, I) with
 *         a fixed variance, q = N(mu, diag exp(logvar)) and p = N(0, eta_enc I)
 *         with a learned one.
 * z = mu + std * eps, eps ~ N(0, I) an input the caller fills. */
#ifndef SYRE_VAE_H
#define SYRE_VAE_H

#include "syre/core.h"
#include "syre/graph.h"
#include "syre/optim.h"
#include "syre/trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The model and its loss, as above. */
typedef struct {
    int in, hidden, latent; /* widths: input (pixels), hidden layers, latent (784, 200, 200 in the paper) */
    int learned_var;        /* 1: a log-variance head; 0: q's variance is eta_enc */
    int gaussian;           /* decoder: 1 gaussian (squared error), 0 bernoulli (BCE with logits) */
    double eta_enc;         /* q's variance (fixed) or the prior's (learned) */
    double eta_dec;         /* the gaussian decoder's variance */
    double beta;            /* weight of the KL term */
} sy_vae_opts;

/* A VAE's graph and its nodes (sy_vae_build, or sy_vae_build_decoder). */
typedef struct {
    sy_graph *g;   /* its own graph (sy_vae_free), on the caller's store */
    int n; /* images per batch */
    sy_vae_opts o; /* a copy of the options it was built with */
    /* Inputs: x [n, in] and eps [n, latent] (the decoder alone: z). lv_const
     * is the fixed log-variance, filled with log(eta_enc) by the builder. */
    sy_var x, eps, lv_const;
    sy_var mu, logvar, z, logits; /* logits: decoder output (BCE logits or the gaussian mean) */
    sy_var rec, kl, loss;         /* batch means */
} sy_vae;

/* The whole model for batches of n images in a new graph on ps (its
 * parameters created in the order enc.0, enc.mu, [enc.logvar], dec.0, dec.1
 * or found by name), compiled. On failure v->g may be set: sy_vae_free it. */
sy_status sy_vae_build(sy_vae *v, sy_params *ps, int n, const sy_vae_opts *o);
/* The decoder alone on z [n, latent] (input v->z, output v->logits), compiled. */
sy_status sy_vae_build_decoder(sy_vae *v, sy_params *ps, int n, const sy_vae_opts *o);
/* Frees the graph; the store is the caller's. */
void sy_vae_free(sy_vae *v);

/* The graphs a VAE is trained and evaluated with, on one store: the model
 * for training batches of `batch` images, the model for evaluation chunks of
 * eval_n and the decoder for n_sample prior samples, built in that order and
 * initialised from seed (sy_params_init). On failure everything is freed. */
typedef struct {
    sy_params *ps;           /* the store all three share */
    sy_vae train, eval, dec; /* the training model, the evaluation model, the decoder */
} sy_vae_model;
/* Builds the three into *m and initialises the store. Fails with
 * SY_ERR_NOMEM or as sy_vae_build and sy_params_init. */
sy_status sy_vae_model_new(sy_vae_model *m, const sy_vae_opts *o, int batch, int eval_n, int n_sample, uint64_t seed);
/* Frees the three graphs and the store (safe to call twice). */
void sy_vae_model_free(sy_vae_model *m);

/* A decoder output as a pixel in [0, 1]: the sigmoid of a bernoulli logit,
 * the gaussian mean as it is, clamped. */
float sy_vae_pixel(const sy_vae_opts *o, float out);

/* n prior samples through the decoder graph d (sy_vae_build_decoder, n of
 * its batch): z ~ N(0, I) from r (sy_rng_normal_fill), times sqrt(eta_enc)
 * with a learned variance (the prior N(0, eta_enc I)); pixels [n, in] get
 * sy_vae_pixel of the outputs. Evaluation mode. */
sy_status sy_vae_sample(sy_vae *d, sy_rng *r, float *pixels);

/* Test-set measures, per image. */
typedef struct {
    double rec, kl, loss; /* loss = rec + beta * kl */
    int rank;             /* rank of Cov(mu) over the first chunk (eigenvalues > rank_thr) */
    int active;           /* active units (Burda et al. 2016): Var(mu_j) > 0.01 x the prior variance */
    double mu_var_max;    /* largest Var(mu_j) */
} sy_vae_eval;

/* Evaluate v (sy_vae_build, evaluation mode during the call) on the first n
 * images of x [n, in], n a multiple of v->n, in chunks of v->n: rec and kl
 * are the mean over chunks of each chunk's batch mean; eps of chunk k comes
 * from stream SY_STREAM_NOISE of seed, sub-stream 2^40 + k, so that every
 * call sees the same noise. The rank and the active units are over the
 * first chunk's mu; with recon, the first n_recon reconstructions (of x's
 * first images, n_recon <= v->n) are written there as sy_vae_pixel values. */
sy_status sy_vae_evaluate(sy_vae *v, const float *x, size_t n, uint64_t seed, double rank_thr, sy_vae_eval *r,
                          float *recon, int n_recon);

/* The rank of mu (as sy_vae_evaluate's) with the encoder's tensors ("enc.*")
 * set to opt's anchor theta0 and the decoder as it is (mu does not depend on
 * it): syre's untrained reference. The store's values are restored after. */
sy_status sy_vae_anchor_rank(sy_vae *v, sy_params *ps, const sy_optimizer *opt, const float *x, size_t n,
                             uint64_t seed, double rank_thr, int *rank);

/* Train t with sy_fit (train layer, src/train/vae_fit.c): o as for sy_fit
 * (params, opt, batcher, epochs, records, callbacks), its graph, loss and x
 * taken from t. Each batch's eps is drawn from stream SY_STREAM_NOISE of
 * seed, sub-stream = epoch, for the whole global batch of global_batch rows
 * of which this rank's shard (sy_dist_shard) is used: N ranks draw exactly
 * what one process does. o's on_epoch_start and on_batch run after that. */
sy_status sy_vae_fit(sy_vae *t, size_t global_batch, uint64_t seed, const sy_fit_opts *o, sy_fit_result *out);

#ifdef __cplusplus
}
#endif
#endif
