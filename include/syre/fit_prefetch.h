/* sy_fit with batches a fill function prepares (sy_prefetch, syre/train.h):
 * on a device the next batch, augmented or otherwise built on the host, is
 * made on a helper thread while the current step runs. Everything else is
 * sy_fit's (src/train/fit_prefetch.c). */
#ifndef SYRE_FIT_PREFETCH_H
#define SYRE_FIT_PREFETCH_H

#include "syre/trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* sy_fit(o, out) with each batch from fill(fill_ctx, in, count) into the
 * graph inputs o->x (and o->y when >= 0), in that order; o->batcher gives
 * the batches per epoch and is set to each epoch (sy_batcher_epoch) before
 * o->on_epoch_start, which fill typically draws from. on_batch is not
 * called: fill does that work, also for the batches a resumed epoch skips
 * (so that its streams stay in step). Resume, checkpoints, stop requests,
 * progress, the divergence message and the callbacks are as in sy_fit. */
sy_status sy_fit_prefetch(const sy_fit_opts *o, sy_fill_fn fill, void *fill_ctx, sy_fit_result *out);

#ifdef __cplusplus
}
#endif
#endif
