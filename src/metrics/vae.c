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
        s = sy_cov_rank(mu, v->n, v->o.latent, 1.0, rank_thr, &r->rank);
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

sy_status sy_vae_anchor_rank(sy_vae *v, sy_params *ps, const sy_optimizer *opt, const float *x, size_t n,
                             uint64_t seed, double rank_thr, int *rank)
{
    size_t nt = sy_params_trainable_size(ps);
    float *p = sy_params_data(ps), *keep = malloc(nt * sizeof *keep), *a = malloc(nt * sizeof *a);
    sy_status s = keep && a ? sy_optimizer_anchor(opt, a) : sy_fail(SY_ERR_NOMEM, "vae: out of memory");
    if (s == SY_OK) {
        memcpy(keep, p, nt * sizeof *p);
        for (int t = 0; t < sy_params_count(ps); t++) {
            const sy_param_info *pi = sy_params_info(ps, t);
            if (pi->trainable && !strncmp(pi->name, "enc.", 4))
                memcpy(p + pi->offset, a + pi->offset, pi->numel * sizeof *p);
        }
        sy_vae_eval ev;
        s = sy_vae_evaluate(v, x, n, seed, rank_thr, &ev, NULL, 0);
        /* again: a device store then takes the restored values as newer */
        p = sy_params_data(ps);
        memcpy(p, keep, nt * sizeof *p);
        if (s == SY_OK) *rank = ev.rank;
    }
    free(keep);
    free(a);
    return s;
}
