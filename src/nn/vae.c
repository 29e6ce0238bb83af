/* The VAE builders (include/syre/vae.h): the model, the decoder alone, and
 * prior samples through it. */
#include "syre/vae.h"

#include <math.h>
#include <string.h>

#include "syre/nn.h"

sy_status sy_vae_build(sy_vae *v, sy_params *ps, int n, const sy_vae_opts *o)
{
    memset(v, 0, sizeof *v);
    v->n = n;
    v->o = *o;
    v->g = sy_graph_new(ps);
    if (!v->g) return sy_fail(SY_ERR_NOMEM, "vae: out of memory");
    sy_graph *g = v->g;
    v->x = sy_input(g, "x", sy_shape_of(2, n, o->in));
    v->eps = sy_input(g, "eps", sy_shape_of(2, n, o->latent));
    sy_var h = sy_silu(g, sy_linear(g, v->x, "enc.0", o->hidden));
    v->mu = sy_linear(g, h, "enc.mu", o->latent);
    if (o->learned_var) {
        v->logvar = sy_linear(g, h, "enc.logvar", o->latent);
        v->z = sy_add(g, v->mu, sy_mul(g, sy_exp(g, sy_scale(g, v->logvar, 0.5f)), v->eps));
        v->kl = sy_kl_gauss(g, v->mu, v->logvar, (float)o->eta_enc, SY_REDUCE_BATCH);
    } else {
        v->lv_const = sy_input(g, "logvar", sy_shape_of(2, n, o->latent));
        v->logvar = v->lv_const;
        v->z = sy_add(g, v->mu, sy_scale(g, v->eps, (float)sqrt(o->eta_enc)));
        v->kl = sy_kl_gauss(g, v->mu, v->lv_const, 1.0f, SY_REDUCE_BATCH);
    }
    sy_var d = sy_silu(g, sy_linear(g, v->z, "dec.0", o->hidden));
    v->logits = sy_linear(g, d, "dec.1", o->in);
    if (o->gaussian)
        v->rec = sy_scale(g, sy_mse(g, v->logits, v->x, SY_REDUCE_BATCH), (float)(0.5 / o->eta_dec));
    else
        v->rec = sy_bce_logits(g, v->logits, v->x, SY_REDUCE_BATCH);
    v->loss = sy_add(g, v->rec, sy_scale(g, v->kl, (float)o->beta));
    sy_status s = sy_graph_compile(g);
    if (s != SY_OK) return s;
    if (!o->learned_var) {
        float *lv = sy_graph_data(g, v->lv_const);
        float l = (float)log(o->eta_enc);
        for (size_t i = 0; i < (size_t)n * o->latent; i++) lv[i] = l;
    }
    return SY_OK;
}

sy_status sy_vae_build_decoder(sy_vae *v, sy_params *ps, int n, const sy_vae_opts *o)
{
    memset(v, 0, sizeof *v);
    v->n = n;
    v->o = *o;
    v->x = v->eps = v->lv_const = v->mu = v->logvar = v->rec = v->kl = v->loss = -1;
    v->g = sy_graph_new(ps);
    if (!v->g) return sy_fail(SY_ERR_NOMEM, "vae: out of memory");
    v->z = sy_input(v->g, "z", sy_shape_of(2, n, o->latent));
    v->logits = sy_linear(v->g, sy_silu(v->g, sy_linear(v->g, v->z, "dec.0", o->hidden)), "dec.1", o->in);
    return sy_graph_compile(v->g);
}

void sy_vae_free(sy_vae *v)
{
    sy_graph_free(v->g);
    v->g = NULL;
}

float sy_vae_pixel(const sy_vae_opts *o, float out)
{
    float p = o->gaussian ? out : 1.0f / (1.0f + expf(-out));
    return p < 0 ? 0 : p > 1 ? 1 : p;
}

sy_status sy_vae_sample(sy_vae *d, sy_rng *r, float *pixels)
{
    float *z = sy_graph_data(d->g, d->z);
    size_t nz = (size_t)d->n * d->o.latent, nx = (size_t)d->n * d->o.in;
    sy_rng_normal_fill(r, z, nz);
    float sd = d->o.learned_var ? (float)sqrt(d->o.eta_enc) : 1.0f;
    for (size_t i = 0; i < nz; i++) z[i] *= sd;
    sy_graph_set_training(d->g, 0);
    sy_status s = sy_graph_forward(d->g);
    if (s != SY_OK) return s;
    const float *out = sy_graph_data(d->g, d->logits);
    for (size_t i = 0; i < nx; i++) pixels[i] = sy_vae_pixel(&d->o, out[i]);
    return SY_OK;
}

sy_status sy_vae_model_new(sy_vae_model *m, const sy_vae_opts *o, int batch, int eval_n, int n_sample, uint64_t seed)
{
    memset(m, 0, sizeof *m);
    m->ps = sy_params_new();
    if (!m->ps) return sy_fail(SY_ERR_NOMEM, "vae: out of memory");
    sy_status s = sy_vae_build(&m->train, m->ps, batch, o);
    if (s == SY_OK) s = sy_vae_build(&m->eval, m->ps, eval_n, o);
    if (s == SY_OK) s = sy_vae_build_decoder(&m->dec, m->ps, n_sample, o);
    if (s == SY_OK) s = sy_params_init(m->ps, seed);
    if (s != SY_OK) sy_vae_model_free(m);
    return s;
}

void sy_vae_model_free(sy_vae_model *m)
{
    sy_vae_free(&m->train);
    sy_vae_free(&m->eval);
    sy_vae_free(&m->dec);
    sy_params_free(m->ps);
    m->ps = NULL;
}
