/* Training-state checkpoints: everything needed to continue a run bit for bit
 * (parameters, optimizer state and step, the graph's dropout step, and where
 * the data stream stands), in one safetensors file written atomically. */
#ifndef SYRE_TRAIN_H
#define SYRE_TRAIN_H

#include <stdint.h>

#include "syre/graph.h"
#include "syre/optim.h"
#include "syre/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a run stands. Data order is a pure function of (seed, epoch), so
 * (epoch, batch) is enough to put the batcher back where it was. */
typedef struct {
    int64_t epoch;        /* epoch in progress (or the number done, with batch = 0) */
    int64_t batch;        /* batches of that epoch already trained */
    int64_t graph_step;   /* sy_graph_step of the training graph (dropout masks) */
    int done;             /* 1 once the method finished training */
    double loss_sum;      /* sum of the training losses of those batches, so that an
                             epoch stopped midway logs the same mean loss when resumed */
    double aux_sum;       /* a second such sum (e.g. correct predictions) */
} sy_train_pos;

/* The identity of the run that saves and loads checkpoints (sy_run_start
 * sets "<experiment> <config hash>"; NULL or "" clears it). sy_train_save
 * records it with the file's own name; sy_train_load refuses a file saved
 * under another name or by another run. */
void sy_train_set_owner(const char *owner);
/* Where the run's record files stand, handed down by whoever keeps them
 * (sy_run_start; NULLs at its end: none). sy_train_save stores mark's
 * "file=bytes;..." (mark returns 0 when there are no records to mark); a
 * load of a method in progress hands what it stored to rewind, which cuts
 * the files back there, so that no row is logged twice after a resume. */
void sy_train_set_records(int (*mark)(char *buf, size_t size), sy_status (*rewind)(const char *marks));
/* Save ps, every optimizer state array ("optim.<name>"), its step count and
 * pos to path atomically (temporary file, fsync, rename), with a crc32 of
 * every tensor and of the run state in the metadata. The file it replaces is
 * kept as the previous checkpoint (sy_train_prev_path), rotated so that a
 * kill at any moment leaves both whole. opt may be NULL. */
sy_status sy_train_save(const char *path, sy_params *ps, sy_optimizer *opt, const sy_train_pos *pos);
/* Restore what sy_train_save wrote into an existing store and optimizer of the
 * same model and settings, checksums verified. A missing file fails with
 * SY_ERR_IO (callers treat it as "start from scratch"); a mismatching one
 * fails naming what differs and changes nothing. A damaged (or missing)
 * file whose previous checkpoint is whole loads that one instead, saying so
 * on stderr with the steps it costs; if both are damaged, both are named. */
sy_status sy_train_load(const char *path, sy_params *ps, sy_optimizer *opt, sy_train_pos *pos);
/* A unit-reset hook (opaque; syre/trainer.h makes and steps one). */
typedef struct sy_unit_reset sy_unit_reset;
/* sy_train_save with a unit-reset hook's state (NULL: none, as
 * sy_train_save): CBP's utilities, ages, units owed and replaced, ReDo's
 * replacements, and where the fresh weights' stream stands, as metadata
 * ("units", "units.<layer>"), in the same atomic write. */
sy_status sy_train_save_units(const char *path, sy_params *ps, sy_optimizer *opt, const sy_unit_reset *units,
                              const sy_train_pos *pos);
/* sy_train_load into a unit-reset hook as well (NULL: none, as
 * sy_train_load). A run with resets refuses a checkpoint without their
 * state (one saved without resets, or by an older syre) and one of another
 * kind or other layers; a run without them refuses one with them: all
 * SY_ERR_ARG, naming what is missing or differs, with nothing changed. */
sy_status sy_train_load_units(const char *path, sy_params *ps, sy_optimizer *opt, sy_unit_reset *units,
                              sy_train_pos *pos);
/* "<dir>/ckpt-x.prev.safetensors" for "<dir>/ckpt-x.safetensors" (else
 * path + ".prev"): where sy_train_save keeps the previous checkpoint. */
void sy_train_prev_path(const char *path, char *out, size_t size);

/* One training step: sy_graph_forward, sy_graph_backward(loss) and
 * sy_optimizer_step, with their results, NaN guard and messages. On a
 * device with CUDA Graphs on (sy_set_cuda_graphs(1);
 * off by default: unverified on a GPU) the device work of the step is
 * captured once, at the second step, and replayed afterwards: one launch and
 * one wait per step. The host work stays outside: inputs are read from
 * their pinned host copies by the replay, the loss and the guard's flags
 * come back through pinned memory. Not recorded (eager, with a one-line
 * notice): data parallelism, the cuda_sync setting, or a capture that fails.
 * The optimizer's per-step scalars (learning-rate schedule, Adam's bias
 * corrections) and the graph's step (dropout masks) reach the replayed
 * kernels through pinned copies; gradient clipping computes the norm and
 * the factor on the device (the norm is read after the step's wait:
 * sy_optimizer_last_grad_norm). On sim the same
 * sequencing runs with the device work executed eagerly (what the tests
 * check); on the CPU it is the three calls. */
sy_status sy_train_step(sy_graph *g, sy_var loss, sy_optimizer *opt);
/* Steps run eagerly, recordings made, recorded steps run (replays), and why
 * recording was turned off for the graph (empty if it was not). */
typedef struct {
    long eager, captures, replays; /* sy_train_step calls run eagerly, recorded, replayed */
    char note[640];                /* why recording was turned off; "" if it was not */
} sy_train_step_stats;
/* The counts of sy_train_step on g so far into *s: all 0 (and an empty note)
 * for a graph not on a device. */
void sy_train_step_stats_get(const sy_graph *g, sy_train_step_stats *s);

/* ---- Batches prepared while the device computes (prefetch) ----------------
 *
 * fill writes the next batch into in[0..n-1], the host buffers of the graph
 * inputs given to sy_prefetch_new (in that order), sets *count to its number
 * of samples (0: no more batches; then it must change nothing) and returns
 * SY_OK or an error. On a device graph (cuda, sim) with prefetching on (the
 * default; sy_set_prefetch(0) turns it off) the inputs are
 * double-buffered: while the caller trains on batch k, a helper thread runs
 * fill for batch k+1 into the other pinned block and uploads it on a copy
 * stream; the next step copies it into the inputs after waiting for that
 * upload (outside a recorded step, so CUDA Graphs see their fixed input
 * addresses). fill is called in the same order with the same state as
 * without prefetching, so the batches (and records) are the same; it must
 * touch nothing the training step uses. On the CPU, and with prefetching
 * off, fill runs in sy_prefetch_next and writes into sy_graph_data. */

/* fill: the next batch into in[], its sample count into *count, as above. */
typedef sy_status (*sy_fill_fn)(void *ctx, float *const *in, size_t *count);
/* A prefetcher of one graph's inputs (opaque): sy_prefetch_new, sy_prefetch_free. */
typedef struct sy_prefetch sy_prefetch;
/* A prefetcher that fills the n inputs of compiled graph g with fill(ctx)
 * (ctx borrowed). SY_ERR_ARG for a NULL or empty argument or a node that is
 * not an input of g, SY_ERR_STATE before sy_graph_compile or when its thread
 * cannot start, SY_ERR_NOMEM. */
sy_status sy_prefetch_new(sy_graph *g, const sy_var *inputs, int n, sy_fill_fn fill, void *ctx, sy_prefetch **out);
/* Put the next batch into the graph's inputs (*count samples, 0 at the end:
 * then nothing runs ahead) and start preparing the one after. Call it after
 * the previous step finished (sy_train_step returns when it has). */
sy_status sy_prefetch_next(sy_prefetch *p, size_t *count);
/* Host copy of the current batch's input k (the order of sy_prefetch_new):
 * read it here rather than through sy_graph_data, which marks the input as
 * written by the host (it is then uploaded from the host copy). */
const float *sy_prefetch_data(const sy_prefetch *p, int k);
/* Wait for the helper and drop a batch prepared ahead (before changing
 * what fill reads, e.g. a new epoch after leaving one early). */
void sy_prefetch_reset(sy_prefetch *p);
/* Seconds spent in fill, and seconds sy_prefetch_next waited for it (with
 * overlap, fill time minus wait time was hidden behind the steps). */
void sy_prefetch_times(const sy_prefetch *p, double *fill_s, double *wait_s);
/* Whether this prefetcher overlaps (a device graph with prefetching on). */
int sy_prefetch_overlaps(const sy_prefetch *p);
/* Waits for a fill in progress, stops the helper and frees the prefetcher,
 * not the graph; NULL is a no-op. */
void sy_prefetch_free(sy_prefetch *p);

#ifdef __cplusplus
}
#endif
#endif
