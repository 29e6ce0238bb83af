/* The training driver: the epoch loop every experiment shares. sy_fit runs
 * one model (graph + loss node) with its optimizer over a batcher's epochs
 * and owns what is the same everywhere: resuming from a checkpoint (with the
 * batches of a stopped epoch skipped), the per-step checkpoint cadence
 * (--ckpt-every) and graceful stop of a run, the epoch-end checkpoint,
 * progress, one divergence message, and the distributed mean of the logged
 * training loss. What is particular to a paper stays with the caller, in
 * callbacks: preparing a batch, per-step logging, evaluation and records at
 * each epoch end, history read back on resume.
 *
 * The records it leaves (checkpoints, rows written by callbacks) are those
 * of the loop it replaces, bit for bit; docs/adding-an-experiment.md shows
 * an experiment built on it. */
#ifndef SYRE_TRAINER_H
#define SYRE_TRAINER_H

#include "syre/data.h"
#include "syre/experiment.h"
#include "syre/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a callback sees: where the loop stands and its running sums. The
 * loop adds each step's loss to loss_sum; a callback may reset loss_sum and
 * aux_sum (a curve logged every N steps) and use aux_sum for its own count.
 * Both restart at 0 each epoch and are checkpointed mid-epoch (loss_sum as
 * its mean over ranks, to which each rank adds its own rest). */
typedef struct {
    long epoch;      /* 0-based epoch in progress */
    long batch;      /* batches of it trained, this step's included */
    long step;       /* this step's index over all epochs: epoch * batches + batch - 1 */
    double loss;     /* this step's training loss (this rank's) */
    double loss_sum; /* sum of the epoch's step losses */
    double aux_sum;  /* a second sum the callbacks keep */
} sy_fit_state;

typedef struct {
    /* Model: one training step is sy_train_step(graph, loss, opt). */
    sy_graph *graph;
    sy_var loss;
    sy_params *params;
    sy_optimizer *opt;
    /* Data: the batcher fills the graph inputs x and y (y < 0: labels
     * unused); epoch e uses sy_batcher_epoch(batcher, e). */
    sy_batcher *batcher;
    sy_var x, y;
    long epochs;
    /* Records. run may be NULL (no --ckpt-every, no stop requests); ckpt
     * NULL keeps no checkpoint. With resume, ckpt is loaded first (a
     * finished method only calls on_resume); a method without one starts
     * afresh and checkpoints its position 0 before anything is logged, so
     * that a kill before its first epoch ends resumes there and no row is
     * logged twice (sy_train_load cuts the records back). */
    sy_run *run;
    const char *ckpt;
    int resume;
    /* "collapse syre": names the loop in progress lines and messages. */
    const char *label;
    int progress_every; /* steps between progress lines' notes (0: 50) */

    void *ctx; /* handed to every callback */
    /* At the start of each epoch (0-based), before its batches. */
    sy_status (*on_epoch_start)(void *ctx, long epoch);
    /* After the batch is in the inputs (n samples), before the step; also
     * for the batches a resumed epoch skips, so that a per-batch stream
     * (noise) stays in step with them. */
    sy_status (*on_batch)(void *ctx, size_t n);
    /* After each step (st->loss set, already added to st->loss_sum). */
    sy_status (*on_step)(void *ctx, sy_fit_state *st);
    /* Before each checkpoint is written (files that must not run ahead of it). */
    sy_status (*on_save)(void *ctx);
    /* At each epoch end, before its checkpoint: epoch is 1-based, loss the
     * mean training loss of its batches over all ranks. */
    sy_status (*on_epoch)(void *ctx, long epoch, double loss);
    /* After a checkpoint was loaded (resume). */
    sy_status (*on_resume)(void *ctx, const sy_train_pos *pos);
} sy_fit_opts;

/* Zeros but y = -1 (no labels); progress notes every 50 steps. */
sy_fit_opts sy_fit_defaults(void);

/* What sy_fit did: the epoch it started from (after a resume) and the
 * epochs it trained (0: the checkpoint had finished; evaluate afresh). */
typedef struct {
    long start_epoch, epochs_trained;
} sy_fit_result;

/* Run the loop. A stop request returns sy_run_stopped's SY_ERR_STOPPED
 * after the checkpoint; a failed step returns SY_ERR_NUMERIC (or the step's
 * status) with "<label> diverged in epoch E, step S (<why>); lower the
 * learning rate"; callback errors return as they are. out may be NULL. */
sy_status sy_fit(const sy_fit_opts *o, sy_fit_result *out);

/* A classifier's mean cross-entropy (log-sum-exp in double from the row's
 * maximum, summed in sample order) and argmax accuracy over all of d,
 * through graph g with input x [B, ...] and logits [B, classes], in chunks
 * of its batch B (the last one zero-padded). prepare (may be NULL) changes
 * each chunk's n real inputs after they are copied in (a scale, a pixel
 * permutation). loss or acc may be NULL. A non-finite loss fails with
 * SY_ERR_NUMERIC. */
sy_status sy_eval_classifier(sy_graph *g, sy_var x, sy_var logits, const sy_dataset *d,
                             void (*prepare)(void *ctx, float *x, size_t n), void *ctx, double *loss, double *acc);

#ifdef __cplusplus
}
#endif
#endif
