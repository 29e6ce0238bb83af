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
 * Both restart at 0 each epoch and are checkpointed mid-epoch as their means
 * over ranks, to which each rank adds its own rest. */
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
     * unused); epoch e uses sy_batcher_epoch(batcher, e). With next set
     * (below), the batches come from it and the batcher only counts them. */
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
    /* A data source of the caller's in place of the batcher (NULL: the
     * batcher's): it puts the next batch into the graph inputs and sets *n
     * to its samples, 0 at the epoch's end. sy_fit then neither starts the
     * batcher's epochs (on_epoch_start does, with the source's) nor touches
     * the inputs: for inputs a sy_prefetch fills. */
    sy_status (*next)(void *ctx, size_t *n);
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

/* ---- Tasks one after another (continual learning) ------------------------
 *
 * sy_fit_tasks trains a classifier on `tasks` tasks in turn, `epochs` epochs
 * each, through sy_fit: epoch E of the loop (the batcher's epoch E, the
 * checkpoint's epoch) is epoch E % epochs of task E / epochs. Every epoch
 * logs the row (task, train_loss, train_acc) of `method` (the accuracy of
 * the steps' own logits, summed over ranks; no row without fit.run); at
 * each task's end on_task_end
 * fills the task's row of hist, and the rows of the tasks done are written
 * to `history` (sy_table_save), so that a resumed run reads them back. */
typedef struct {
    /* The model, data and records as for sy_fit (labelled batches); its
     * epochs, ctx and callbacks are sy_fit_tasks' own. */
    sy_fit_opts fit;
    sy_var logits; /* the training graph's logits [batch, classes] */
    int classes;
    int tasks;
    long epochs;        /* per task */
    const char *method; /* the rows' method */
    double *hist;       /* [tasks][row], NaN until a task is done */
    int row;
    const char *history; /* NULL: no rows kept (a resume then leaves them NaN) */
    void *ctx;           /* handed to the callbacks */
    /* At the start of each task but the first, unless a resume enters it
     * midway: a reset (shrink-and-perturb). */
    sy_status (*on_task_start)(void *ctx, int task);
    /* After a batch of task `task` is in the input x (n samples), before the
     * step; also for the batches a resumed epoch skips. */
    sy_status (*on_batch)(void *ctx, int task, float *x, size_t n);
    /* At the end of task `task` (0-based), before its checkpoint: fill its
     * row; train_loss and train_acc are its last epoch's. */
    sy_status (*on_task_end)(void *ctx, int task, double train_loss, double train_acc, double *row);
} sy_tasks_opts;

sy_status sy_fit_tasks(const sy_tasks_opts *o, sy_fit_result *out);

/* A classifier's mean cross-entropy (log-sum-exp in double from the row's
 * maximum, summed in sample order) and argmax accuracy over all of d,
 * through graph g with input x [B, ...] and logits [B, classes], in chunks
 * of its batch B (the last one zero-padded). prepare (may be NULL) changes
 * each chunk's n real inputs after they are copied in (a scale, a pixel
 * permutation). loss or acc may be NULL. A non-finite loss fails with
 * SY_ERR_NUMERIC. */
sy_status sy_eval_classifier(sy_graph *g, sy_var x, sy_var logits, const sy_dataset *d,
                             void (*prepare)(void *ctx, float *x, size_t n), void *ctx, double *loss, double *acc);
/* Correct predictions of a batch: #{i < n : argmax_j logits[i * k + j] ==
 * labels[i]}, the first maximum on ties (as sy_eval_classifier), labels as
 * the graph's float input holds them. A training step's accuracy. */
size_t sy_count_correct(const float *logits, size_t n, int k, const float *labels);

/* ---- A loop of hand-computed steps -------------------------------------------
 * sy_fit for a model without a graph or a batcher (the quartic toy): `steps`
 * steps that a callback computes (the gradient into the store, then the
 * optimizer's step), under the same rules for records. With resume, ckpt is
 * loaded first; a method without one starts afresh and forgets the rows an
 * earlier start logged for `label` in `records`. on_log is called before
 * step t at every multiple of log_every and after the last step; replay = 1
 * when a finished checkpoint is measured again (log nothing: its rows are
 * there). A checkpoint is written every ckpt_every steps and on a stop
 * request (then the loop returns sy_run_stopped's status), never at the last
 * step; a finished loop writes one with done = 1. */
typedef struct {
    sy_params *params;   /* what a checkpoint holds, with opt */
    sy_optimizer *opt;
    long steps;
    long log_every;      /* >= 1 */
    long ckpt_every;     /* >= 1 */
    sy_run *run;         /* stop requests, and the rows forgotten on a fresh resume */
    const char *ckpt;    /* checkpoint path */
    int resume;
    const char *records; /* the CSV on_log writes to (NULL: metrics.csv) */
    const char *label;   /* the rows' method; names the progress line */
    void *ctx;           /* handed to both callbacks */
    /* Step t (0-based). SY_ERR_NUMERIC ends the loop as diverged. */
    sy_status (*step)(void *ctx, long t);
    /* Measure (and log) at step t; *stop = 1 ends the loop as diverged;
     * note (note_size chars, may stay empty) is shown in the progress line. */
    sy_status (*on_log)(void *ctx, long t, int replay, int *stop, char *note, size_t note_size);
} sy_fit_steps_opts;

/* Run the loop. SY_OK also when it diverged (*diverged = 1, no final
 * checkpoint; sy_last_error says why when a step failed); other failures of
 * a callback, a checkpoint or the records return as they are. */
sy_status sy_fit_steps(const sy_fit_steps_opts *o, int *diverged);

/* ---- A run's class-balanced datasets (src/io/run_splits.c) -------------------
 * Both splits ("train", "test") of dataset `name` from the run's data
 * directory, each the first n / want->n_classes samples of every class
 * (sy_dataset_load_balanced, checked against want), n the value of the
 * run's integer flag train_flag or test_flag (0: the whole split; NULL:
 * 0). Both counts must be multiples of the classes, and with batch > 0 the
 * training set must hold at least batch samples. Failures name the
 * experiment and the flags ("resnet: --train-n (25) and --test-n (200) must
 * be multiples of 10 (n/10 per class)", "resnet: --batch (128) exceeds the
 * 100 training images") and leave both NULL. */
sy_status sy_run_load_balanced_splits(const sy_run *run, const char *name, const char *train_flag,
                                      const char *test_flag, const sy_data_contract *want, long batch,
                                      sy_dataset **train, sy_dataset **test);

#ifdef __cplusplus
}
#endif
#endif
