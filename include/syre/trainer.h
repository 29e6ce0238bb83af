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
#include "syre/nn.h"
#include "syre/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- What drives a loop from outside --------------------------------------- */

/* What sy_fit_control.ckpt_due answers after a step: go on, write a
 * checkpoint, or write one and stop. */
enum { SY_CKPT_NO = 0, SY_CKPT_NOW = 1, SY_CKPT_STOP = 2 };

/* What a loop asks of whoever keeps the run's records (the command's run:
 * sy_run_control in experiment.h; a program of its own: its own functions):
 * when to checkpoint, whether to stop, and where rows go. Every member may
 * be NULL, and a zeroed sy_fit_control means none of it: no checkpoint
 * cadence, no stop requests, no rows logged by the loop itself. */
typedef struct {
    void *ctx; /* handed to every member */
    /* After optimizer step `step` (the run's count): SY_CKPT_NOW to write a
     * checkpoint, SY_CKPT_STOP to write one and stop, SY_CKPT_NO. */
    int (*ckpt_due)(void *ctx, long step);
    /* The status a loop stopped after `step` of `total` returns
     * (SY_ERR_STOPPED with how to continue). */
    sy_status (*stopped)(void *ctx, long step, long total);
    /* One row of `file` (NULL: metrics.csv): columns method, step, names. */
    sy_status (*log)(void *ctx, const char *file, const char *method, int64_t step, int n,
                     const char *const *names, const double *values);
    /* Drop every row of `method` in `file` (NULL: metrics.csv): a method
     * that starts afresh forgets what an earlier start logged. */
    sy_status (*forget_rows)(void *ctx, const char *file, const char *method);
} sy_fit_control;

/* ---- Progress ------------------------------------------------------------- */

/* A progress report (opaque): sy_progress_start, sy_progress_finish. */
typedef struct sy_progress sy_progress;

/* A progress report on stderr for `total` units: a bar with rate and time
 * left when stderr is a terminal, otherwise a plain line every ~10% or 30 s.
 * Under mpirun only rank 0 reports. NULL when out of memory (every call
 * below accepts NULL). */
sy_progress *sy_progress_start(const char *label, int64_t total);
/* Units done so far; note (may be NULL) is shown after the bar, e.g. "loss 0.12". */
void sy_progress_update(sy_progress *p, int64_t done, const char *note);
/* Final line with the elapsed time; frees p (NULL is fine). */
void sy_progress_finish(sy_progress *p);

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

/* What sy_fit runs: start from sy_fit_defaults. */
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
    /* Records. control: checkpoint cadence and stop requests (zeroed:
     * none); ckpt NULL keeps no checkpoint. With resume, ckpt is loaded first (a
     * finished method only calls on_resume); a method without one starts
     * afresh and checkpoints its position 0 before anything is logged, so
     * that a kill before its first epoch ends resumes there and no row is
     * logged twice (sy_train_load cuts the records back). */
    sy_fit_control control;
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
    /* A unit-reset hook (NULL: none; sy_unit_reset_new, below):
     * sy_unit_reset_step after each optimizer step, before on_step; its
     * state is checkpointed with the rest (sy_train_save_units). */
    sy_unit_reset *units;
} sy_fit_opts;

/* Zeros but y = -1 (no labels); progress notes every 50 steps. */
sy_fit_opts sy_fit_defaults(void);

/* What sy_fit did: the epoch it started from (after a resume) and the
 * epochs it trained (0: the checkpoint had finished; evaluate afresh). */
typedef struct {
    long start_epoch, epochs_trained; /* 0-based epoch it started in (0 if fresh); epochs it completed */
} sy_fit_result;

/* Run the loop. A stop request returns control.stopped's SY_ERR_STOPPED
 * after the checkpoint; a failed step returns SY_ERR_NUMERIC (or the step's
 * status) with "<label> diverged in epoch E, step S (<why>); lower the
 * learning rate"; callback errors return as they are. out may be NULL. */
sy_status sy_fit(const sy_fit_opts *o, sy_fit_result *out);

/* ---- Unit resets while training (src/train/unit_reset.c) -------------------
 * A per-step hook that replaces hidden units of a network: continual
 * backpropagation (CBP, Dohare et al., Nature 2024) and ReDo (Sokar et al.
 * 2023). Both are unit-level resets, orthogonal to the optimizer's decay
 * rule (so "syre+cbp" is a method). After each optimizer step the hook reads
 * each watched layer's activations of the forward pass just done (the
 * training graph's node, after the nonlinearity) and the weights, picks the
 * units to replace and, for each unit replaced:
 * - its incoming weights (a row of "<in>.weight") are drawn afresh from that
 *   tensor's own initialisation (sy_param_info.init), from stream
 *   SY_STREAM_UNIT_RESET of the options' seed (sub-stream: the hook's count
 *   of resets so far); its bias ("<in>.bias", if any) becomes 0. Under a
 *   syre rule, whose network starts at theta_init + theta0, both get the
 *   tensor's anchor theta0 added, as sy_optimizer_new does at the start;
 * - its outgoing weights (its columns of "<out>.weight") become 0, so the
 *   network's output is unchanged at the moment of the reset;
 * - the optimizer's moments of those entries (momentum_buffer, exp_avg,
 *   exp_avg_sq) become 0; anchors, D and W-fix entries are left alone.
 * Nothing else changes. The hook's own state (CBP's utilities and ages) is
 * not checkpointed: a resumed run restarts it at zero. Host memory only: the
 * hook reads the graph's activations and writes the store's host copy. */

/* Which units a sy_unit_reset replaces. */
typedef enum {
    SY_UNIT_RESET_NONE = 0, /* none: the hook only counts steps */
    SY_UNIT_RESET_CBP,      /* continual backpropagation: the least useful mature units, a fraction per step */
    SY_UNIT_RESET_REDO      /* ReDo: every tau-dormant unit, every `redo_every` steps */
} sy_unit_reset_kind;

/* What a sy_unit_reset does: start from sy_unit_reset_defaults. */
typedef struct {
    sy_unit_reset_kind kind; /* CBP, ReDo or none */
    /* CBP: each step a unit's utility u <- decay u + (1 - decay) |h| m_out
     * (|h| its mean |activation| over the batch and positions, m_out the mean
     * |outgoing weight|), ranked after Adam-style bias correction
     * u / (1 - decay^age); units older than `maturity` steps are eligible;
     * rate x (eligible units) is added to a per-layer count each step and
     * its whole part replaced, the least useful first. */
    double cbp_rate;    /* replacement rate rho (units per eligible unit per step) */
    double cbp_decay;   /* utility decay rate eta, in [0, 1) */
    long cbp_maturity;  /* maturity threshold m: steps before a unit may be replaced */
    /* ReDo: at every `redo_every`-th step, units whose score s_i = |h_i| /
     * mean_j |h_j| (the layer's mean) is <= tau are replaced. */
    double redo_tau;    /* dormancy threshold tau >= 0 */
    long redo_every;    /* steps between resets, >= 1 */
    uint64_t seed;      /* the fresh weights' stream (SY_STREAM_UNIT_RESET) */
} sy_unit_reset_opts;

/* The defaults of `kind`, from the original papers' closest settings: CBP
 * rate 1e-4, decay 0.99, maturity 100 (Dohare et al. 2024, permuted MNIST);
 * ReDo tau 0.1, every 1000 steps (Sokar et al. 2023, Table 1); seed 0. */
sy_unit_reset_opts sy_unit_reset_defaults(sy_unit_reset_kind kind);

/* One hidden layer the hook watches: f units. "<in>.weight" has f rows (a
 * linear layer's [f, fan_in], a convolution's [f, C, k, k]: row i = unit
 * i's incoming weights); "<in>.bias" [f] is optional. "<out>.weight" is the
 * next layer's, each of its rows f x g columns with unit i owning columns
 * [i g, (i + 1) g) (g = 1 for a linear layer, k x k for a convolution, the
 * positions a flatten gives a channel for a linear layer after a
 * convolution). act is the training graph's node of the units' outputs
 * after the nonlinearity, [batch, f x hw] in unit-major order (a channel's
 * hw positions together, as NCHW). */
typedef struct {
    const char *in;  /* the layer whose units these are */
    const char *out; /* the next layer (outgoing weights) */
    sy_var act;      /* activations [batch, f x hw] in the training graph */
} sy_unit_layer;

/* The hook for n layers of the network that graph g (compiled) computes
 * over store ps, trained by opt. Tensors missing or shaped otherwise than
 * sy_unit_layer says, a node that is not [batch, f x hw], or options out of
 * range fail with SY_ERR_ARG or SY_ERR_SHAPE naming the layer. */
sy_status sy_unit_reset_new(const sy_unit_reset_opts *o, sy_graph *g, sy_params *ps, sy_optimizer *opt,
                            const sy_unit_layer *layers, int n, sy_unit_reset **out);
/* Frees the hook (not the graph, store or optimizer); NULL is a no-op. */
void sy_unit_reset_free(sy_unit_reset *r);
/* After optimizer step `step` (0-based, the loop's count): update the
 * utilities (CBP), pick the units and replace them. */
sy_status sy_unit_reset_step(sy_unit_reset *r, long step);
/* Replace units[0..n) of layer `layer` now, as described above. */
sy_status sy_unit_reset_units(sy_unit_reset *r, int layer, const int *units, int n);
/* Units of layer `layer` (-1: all layers) replaced since the hook was made. */
long sy_unit_reset_count(const sy_unit_reset *r, int layer);
/* Layer `layer`'s units replaced by the last sy_unit_reset_step: [f] of
 * 1/0 (NULL for a layer out of range). */
const unsigned char *sy_unit_reset_last(const sy_unit_reset *r, int layer);
/* CBP's running utility [f] (not bias-corrected) and age [f] in steps of
 * layer `layer` (NULL for a layer out of range). */
const double *sy_unit_reset_utility(const sy_unit_reset *r, int layer);
/* Steps since each unit of layer `layer` was made or last replaced [f]. */
const long *sy_unit_reset_age(const sy_unit_reset *r, int layer);
/* Split a compared method into its decay rule and its unit reset:
 * "syre+cbp" -> "syre" and SY_UNIT_RESET_CBP, "cbp" (or "redo") alone ->
 * "vanilla" (weight decay toward 0) and the reset, any other name -> itself
 * and SY_UNIT_RESET_NONE. decay gets at most size chars; a name too long or
 * an empty decay part ("+cbp") fails with SY_ERR_ARG. */
sy_status sy_unit_reset_method(const char *method, char *decay, size_t size, sy_unit_reset_kind *kind);

/* ---- Tasks one after another (continual learning) ------------------------
 *
 * sy_fit_tasks trains a classifier on `tasks` tasks in turn, `epochs` epochs
 * each, through sy_fit: epoch E of the loop (the batcher's epoch E, the
 * checkpoint's epoch) is epoch E % epochs of task E / epochs. Every epoch
 * logs the row (task, train_loss, train_acc) of `method` (the accuracy of
 * the steps' own logits, summed over ranks; no row without fit.control.log); at
 * each task's end on_task_end
 * fills the task's row of hist, and the rows of the tasks done are written
 * to `history` (sy_table_save), so that a resumed run reads them back. */

/* Options of sy_fit_tasks. */
typedef struct {
    /* The model, data and records as for sy_fit (labelled batches); its
     * epochs, ctx and callbacks are sy_fit_tasks' own. */
    sy_fit_opts fit;
    sy_var logits; /* the training graph's logits [batch, classes] */
    int classes;        /* columns of logits: the accuracy's argmax */
    int tasks;          /* tasks in turn */
    long epochs;        /* per task */
    const char *method; /* the rows' method */
    double *hist;       /* [tasks][row], NaN until a task is done */
    int row;            /* doubles per task in hist */
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
    /* ---- Optional (zero: off) ----
     * classifier: the model as one sy_classifier; fit.graph, fit.loss,
     * fit.params, fit.x, fit.y and logits are then its training graph's (what
     * those fields hold is ignored), and its evaluation graph measures the
     * accuracy matrix. The accuracy matrix (with classifier and test): at the
     * end of task t, before on_task_end, the accuracy on test under every task
     * k <= t (each chunk of test inputs made task k's by on_batch(ctx, k, x,
     * n), as the training batches are) goes to row[acc_col + k]; with
     * acc_file (and fit.control.log), each is also logged there as a row of method,
     * step t + 1, with the columns eval_task (k + 1) and test_acc. */
    const sy_classifier *classifier; /* the model, in place of fit's graph, loss, params, x, y and logits */
    const sy_dataset *test;          /* the accuracy matrix's test set (NULL, or no classifier: no matrix) */
    int acc_col;                     /* task k's accuracy goes to row[acc_col + k] (0 <= acc_col <= row - tasks) */
    const char *acc_file;            /* the file each accuracy is also logged to (NULL: none) */
} sy_tasks_opts;

/* Run the tasks through sy_fit (out and failures as sy_fit's, with
 * tasks x epochs epochs); hist is set to NaN first. */
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
 * request (then the loop returns control.stopped's status), never at the last
 * step; a finished loop writes one with done = 1. */
/* Options of sy_fit_steps. */
typedef struct {
    sy_params *params;   /* what a checkpoint holds, with opt */
    sy_optimizer *opt;   /* the optimizer the step callback steps; checkpointed with params */
    long steps;          /* steps in all, a resumed run's included */
    long log_every;      /* >= 1 */
    long ckpt_every;     /* >= 1 */
    sy_fit_control control; /* stop requests, and the rows forgotten on a fresh resume */
    const char *ckpt;    /* checkpoint path */
    int resume;          /* 1: continue from ckpt, as above */
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

/* ---- A loss over a whole set (src/train/eval_loss.c) ------------------------------ */

/* The value of node loss after copying xv into input x and yv into input y (yv NULL: y keeps its data), each as
 * many floats as its node holds, and running g forward: a model's loss over a set its evaluation graph holds
 * whole, e.g. a regression's mean squared error on its training or test set. A failed feed or forward returns
 * its status with *out unset. */
sy_status sy_eval_loss(sy_graph *g, sy_var x, const float *xv, sy_var y, const float *yv, sy_var loss, double *out);

/* ---- A loss curve over steps, kept across a resume (src/train/step_curve.c) ----
 * The points (step, mean training loss) of a figure of how a loss falls: the
 * mean over the ranks of every `every` steps' losses, and of the first
 * step's alone, in memory. sy_fit_curve keeps one as sy_fit runs: each step
 * counted (sy_step_curve_step), the points written to `path` just before
 * each checkpoint, which commits them (sy_step_curve_save), and those before
 * the checkpoint's position read back on resume (sy_step_curve_resume), so
 * that a resumed loop still draws the whole curve. A loop of its own calls
 * the three from its callbacks. */
/* A curve's points and their file, as above: from sy_step_curve_init, freed
 * by sy_step_curve_free. */
typedef struct {
    char *path;           /* the points' file (sy_curve_write), a copy */
    long every;           /* steps per point (>= 1) */
    long steps_per_epoch; /* batches an epoch: turns a checkpoint's position into a step */
    int n, cap;           /* points kept, room for */
    double *step, *loss;  /* [cap]: the points (the step index, the mean loss) */
} sy_step_curve;

/* Room for the points of `epochs` epochs of steps_per_epoch steps (the
 * points beyond it are dropped). On failure c is left empty. */
sy_status sy_step_curve_init(sy_step_curve *c, const char *path, long every, long steps_per_epoch, long epochs);
/* Free the points and the path; c is left empty (safe to call twice). */
void sy_step_curve_free(sy_step_curve *c);
/* In on_step: counts the step in st->aux_sum (its loss is already in
 * st->loss_sum); at the first step (st->step 0) and when `every` steps are
 * counted, adds the point (st->step, their mean loss over the ranks:
 * collective under mpirun), resets both sums and returns 1 with *mean set;
 * otherwise returns 0. */
int sy_step_curve_step(sy_step_curve *c, sy_fit_state *st, double *mean);
/* In on_save: write the points to the path. */
sy_status sy_step_curve_save(const sy_step_curve *c);
/* In on_resume: the points of the steps before pos read back from the path
 * (none when there is no file yet). */
sy_status sy_step_curve_resume(sy_step_curve *c, const sy_train_pos *pos);
/* sy_fit (o as for it) keeping the curve c (sy_step_curve_init'ed): each new
 * point is handed to on_point (may be NULL; e.g. to log it as a row) with
 * o->ctx, the step and the mean loss, before o's own on_step, which then sees
 * the sums reset; the points are saved before o's on_save and read back
 * before o's on_resume. o's other callbacks run as they would in sy_fit. */
sy_status sy_fit_curve(const sy_fit_opts *o, sy_step_curve *c, sy_status (*on_point)(void *ctx, long step, double loss),
                       sy_fit_result *out);

/* ---- A classifier's loop (src/train/fit_classifier.c) ----------------------------- */

/* sy_fit_defaults with the training graph of m (sy_classifier_new): its
 * graph, loss, store and inputs x and y, and the optimizer, batcher and
 * epochs given; records and callbacks are the caller's to set. */
sy_fit_opts sy_fit_classifier(const sy_classifier *m, sy_optimizer *opt, sy_batcher *b, long epochs);

#ifdef __cplusplus
}
#endif
#endif
