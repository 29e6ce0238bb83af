/* The VAE's test-set evaluation (include/syre/vae.h): losses over chunks
 * with fixed noise, the rank of the encoder output and its active units. */
#include "syre/vae.h"

#include <stdlib.h>
#include <string.h>

#include "syre/metrics.h"

sy_status sy_vae_evaluate(sy_vae *v, const float *x, size_t n, uint64_t seed, double rank_thr, sy_vae_eval *r,
                          float *recon, int n_recon)
{
    if (!v || !v->g || !x || !r || v->n < 2 || n % (size_t)v->n || (recon && (n_recon < 0 || n_recon > v->n)))
        return sy_fail(SY_ERR_ARG, "sy_vae_evaluate: need a built model, n a multiple of its batch, n_recon <= it");
    sy_graph_set_training(v->g, 0);
    memset(r, 0, sizeof *r);
    size_t chunks = n / (size_t)v->n, in = (size_t)v->o.in, nz = (size_t)v->n * v->o.latent;
    sy_status s = SY_OK;
    for (size_t k = 0; k < chunks && s == SY_OK; k++) {
        float *xg = sy_graph_data(v->g, v->x), *eps = sy_graph_data(v->g, v->eps);
        memcpy(xg, x + k * v->n * in, sizeof(float) * v->n * in);
        sy_rng nr = sy_rng_make(seed, SY_STREAM_NOISE, (1ULL << 40) + k);
        sy_rng_normal_fill(&nr, eps, nz);
        if ((s = sy_graph_forward(v->g)) != SY_OK) break;
        r->rec += sy_graph_scalar(v->g, v->rec) / (double)chunks;
        r->kl += sy_graph_scalar(v->g, v->kl) / (double)chunks;
        if (k > 0) continue;
        const float *mu = sy_graph_data(v->g, v->mu);
        double prior = v->o.learned_var ? v->o.eta_enc : 1.0;
        s = sy_cov_rank(mu, v->n, v->o.latent, rank_thr, &r->rank);
        if (s == SY_OK) s = sy_active_units(mu, v->n, v->o.latent, 0.01 * prior, &r->active, &r->mu_var_max);
        if (s == SY_OK && recon) {
            const float *o = sy_graph_data(v->g, v->logits);
            for (size_t i = 0; i < (size_t)n_recon * in; i++) recon[i] = sy_vae_pixel(&v->o, o[i]);
        }
    }
    r->loss = r->rec + v->o.beta * r->kl;
    sy_graph_set_training(v->g, 1);
    return s;
}

typedef struct {
    sy_vae *v;
    const float *x;
    size_t n;
    uint64_t seed;
    double rank_thr;
    int *rank;
} anchor_eval;

static sy_status eval_rank(void *ctx)
{
    anchor_eval *e = ctx;
    sy_vae_eval ev;
    sy_status s = sy_vae_evaluate(e->v, e->x, e->n, e->seed, e->rank_thr, &ev, NULL, 0);
    if (s == SY_OK) *e->rank = ev.rank;
    return s;
}

sy_status sy_vae_anchor_rank(sy_vae *v, sy_params *ps, const sy_optimizer *opt, const float *x, size_t n,
                             uint64_t seed, double rank_thr, int *rank)
{
    anchor_eval e = {v, x, n, seed, rank_thr, rank};
    return sy_optimizer_eval_at_anchor(opt, ps, "enc.", eval_rank, &e);
}
