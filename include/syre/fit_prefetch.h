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
 * progress, the divergence message and the callbacks are as in sy_fit,
 * except that a checkpoint of more epochs than o->epochs is refused
 * ("<label>: --resume: the checkpoint has 5 epochs, --epochs is 2") rather
 * than taken as finished. */
sy_status sy_fit_prefetch(const sy_fit_opts *o, sy_fill_fn fill, void *fill_ctx, sy_fit_result *out);

/* sy_fit_prefetch for a classifier trained on labelled batches (o->y >= 0):
 * after each step, before o->on_step, the step's correct predictions
 * (sy_count_correct of the training graph's logits node [B, classes]
 * against the batch's labels, read from the prefetcher's host copy, which a
 * device graph's inputs need) are added to the state's aux_sum. As every
 * aux_sum it restarts each epoch and is checkpointed mid-epoch, so a
 * resumed epoch continues it. correct (may be NULL) gets the epoch's count
 * so far after each step and after a resume, for on_epoch: the epoch's
 * training accuracy is *correct / its samples. */
sy_status sy_fit_prefetch_classifier(const sy_fit_opts *o, sy_var logits, int classes, double *correct,
                                     sy_fill_fn fill, void *fill_ctx, sy_fit_result *out);

#ifdef __cplusplus
}
#endif
#endif
