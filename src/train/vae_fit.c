/* sy_vae_fit (include/syre/vae.h): sy_fit with the VAE's noise input fed
 * from a stream, in step with the batches (also those a resumed epoch skips). */
#include <stdlib.h>
#include <string.h>

#include "syre/dist.h"
#include "syre/vae.h"

typedef struct {
    sy_vae *t;
    size_t global_batch;
    uint64_t seed;
    sy_rng noise;  /* this epoch's */
    float *gnoise; /* the whole global batch's noise */
    const sy_fit_opts *user;
} vae_fit;

static sy_status vf_epoch_start(void *ctx, long epoch)
{
    vae_fit *f = ctx;
    f->noise = sy_rng_make(f->seed, SY_STREAM_NOISE, (uint64_t)epoch);
    return f->user->on_epoch_start ? f->user->on_epoch_start(f->user->ctx, epoch) : SY_OK;
}

static sy_status vf_batch(void *ctx, size_t n)
{
    vae_fit *f = ctx;
    size_t r0, rn, z = (size_t)f->t->o.latent;
    sy_dist_shard(f->global_batch, &r0, &rn);
    sy_rng_normal_fill(&f->noise, f->gnoise, f->global_batch * z);
    memcpy(sy_graph_data(f->t->g, f->t->eps), f->gnoise + r0 * z, sizeof(float) * rn * z);
    return f->user->on_batch ? f->user->on_batch(f->user->ctx, n) : SY_OK;
}

static sy_status vf_step(void *ctx, sy_fit_state *st)
{
    const sy_fit_opts *u = ((vae_fit *)ctx)->user;
    return u->on_step ? u->on_step(u->ctx, st) : SY_OK;
}

static sy_status vf_save(void *ctx)
{
    const sy_fit_opts *u = ((vae_fit *)ctx)->user;
    return u->on_save ? u->on_save(u->ctx) : SY_OK;
}

static sy_status vf_epoch(void *ctx, long epoch, double loss)
{
    const sy_fit_opts *u = ((vae_fit *)ctx)->user;
    return u->on_epoch ? u->on_epoch(u->ctx, epoch, loss) : SY_OK;
}

static sy_status vf_resume(void *ctx, const sy_train_pos *pos)
{
    const sy_fit_opts *u = ((vae_fit *)ctx)->user;
    return u->on_resume ? u->on_resume(u->ctx, pos) : SY_OK;
}

sy_status sy_vae_fit(sy_vae *t, size_t global_batch, uint64_t seed, const sy_fit_opts *o, sy_fit_result *out)
{
    if (!t || !t->g || !o || global_batch < 1)
        return sy_fail(SY_ERR_ARG, "sy_vae_fit: need a built model, options and a batch");
    vae_fit f = {.t = t, .global_batch = global_batch, .seed = seed, .user = o};
    f.gnoise = malloc(sizeof(float) * global_batch * (size_t)t->o.latent);
    if (!f.gnoise) return sy_fail(SY_ERR_NOMEM, "vae: out of memory");
    sy_fit_opts fo = *o;
    fo.graph = t->g, fo.loss = t->loss, fo.x = t->x;
    fo.ctx = &f, fo.on_epoch_start = vf_epoch_start, fo.on_batch = vf_batch, fo.on_step = vf_step;
    fo.on_save = vf_save, fo.on_epoch = vf_epoch, fo.on_resume = vf_resume;
    sy_status s = sy_fit(&fo, out);
    free(f.gnoise);
    return s;
}
