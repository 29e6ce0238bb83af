/* Devices with their own memory (the CUDA GPU, and "sim", a test device that
 * keeps separate host memory and runs the CPU kernels). One device object per
 * kind per process, with one in-order stream: every copy and kernel of every
 * graph, store and optimizer on it runs in submission order, so no events are
 * needed between them. Host code synchronises only where it reads results.
 *
 * Coherence (graph_device.c, params.c, optim/step.c): the host copy of a
 * buffer and its device copy are each either current or stale; host
 * accessors bring the host copy up to date, device work the device copy.
 * Not a public interface. */
#ifndef SYRE_DEVICE_H
#define SYRE_DEVICE_H

#include "backend/optim_update.h"
#include "core/devmem.h"
#include "graph/graph_impl.h"
#include "syre/optim.h"

typedef struct sy_device sy_device;

/* A copy of the last error message (sy_fail must not format its own buffer). */
#define SY_LAST_ERROR_COPY(buf) \
    char buf[512];              \
    snprintf(buf, sizeof buf, "%s", sy_last_error())


struct sy_device {
    const char *name;          /* "cuda", "sim" */
    char info[256];            /* what runs: GPU name, memory, library versions */
    /* Device memory, zero-filled; NULL with a message on failure. */
    void *(*alloc)(sy_device *d, size_t bytes);
    void (*free)(sy_device *d, void *p);
    /* Host memory fit for fast copies (pinned for CUDA), zero-filled. */
    void *(*host_alloc)(sy_device *d, size_t bytes);
    void (*host_free)(sy_device *d, void *p);
    /* Stream-ordered copies and fills; they may return before they finish. */
    void (*upload)(sy_device *d, void *dst, const void *src, size_t bytes);
    void (*download)(sy_device *d, void *dst, const void *src, size_t bytes);
    void (*zero)(sy_device *d, void *dst, size_t bytes);
    /* Wait for everything submitted; SY_OK, or the first error a kernel or
     * copy raised since the last sync (the message says which). */
    sy_status (*sync)(sy_device *d);
    /* Op kernels: the same sy_backend table as the CPU, on device pointers. */
    const sy_backend *kernels;
    /* Scratch floats this device's kernels need for node n (replaces
     * n->scratch_n in the arena plan), and one workspace shared by all nodes
     * of a graph (e.g. the convolution's im2col columns). */
    size_t (*node_scratch)(sy_graph *g, const sy_node *n);
    size_t (*shared_workspace)(sy_graph *g, const sy_node *n);
    /* Optimizer: one update over a range of the flat buffer, and the sum of
     * squares of g in blocks of SY_OPTIM_NORM_BLOCK (written to host `out`,
     * synchronously). */
    void (*optim_range)(sy_device *d, const sy_step_scalars *s, const sy_step_ptrs *p,
                        const sy_segment *seg);
    sy_status (*grad_sq_blocks)(sy_device *d, const float *g, size_t n, double *out, size_t n_blocks);
    /* Gradient clipping on the device, no host wait: blocks (device, n_blocks
     * doubles) <- the sums of squares of g per SY_OPTIM_NORM_BLOCK, then
     * *norm (device) <- sqrt(their sum minus g[fix_idx[k]]^2) and
     * sc->clip, sc->clipping (device scalars, read by optim_range through
     * dev_scalars) <- min(max_norm / (norm + 1e-6), 1) and clip < 1, as the
     * CPU step computes them (sim: in the CPU's order, bit for bit). */
    void (*clip_norm)(sy_device *d, const float *g, size_t n, double *blocks, size_t n_blocks, const size_t *fix_idx,
                      size_t n_fix, float max_norm, sy_step_scalars *sc, double *norm);
    /* W-fix: p[idx[k]] = val[k] and zero moments there (idx, val on device). */
    void (*wfix)(sy_device *d, const sy_step_ptrs *p, const size_t *idx, const float *val, size_t n_fix);
    /* NaN guard: *slot (device memory) <- the index of the first x[i] that
     * is NaN or Inf, (size_t)-1 if none; ordered on the stream. */
    void (*scan_nonfinite)(sy_device *d, const float *x, size_t n, size_t *slot);
    /* The recorded step's stop (graph_device.c): *slot (the NaN guard's
     * gradient flag, device memory) <- SY_STEP_VETOED if a kernel raised an
     * error since the last sync (a label out of range) or any x[0..n) is not
     * finite (x may be NULL); otherwise *slot is left as it is. Ordered on
     * the stream, after the gradient scan and before the update, which then
     * changes nothing: the host, which stops on either, sees them only
     * after the step. */
    void (*veto)(sy_device *d, const float *x, size_t n, size_t *slot);
    /* Set one float on the device (e.g. the loss seed d loss = 1). */
    void (*set_float)(sy_device *d, float *dst, float v);
    /* Data parallelism: buf <- its mean over ranks, n floats of device memory,
     * in place, ordered on the stream (cuda: NCCL). NULL: staged through the
     * host by sy_device_allreduce_mean. */
    sy_status (*allreduce_mean)(sy_device *d, float *buf, size_t n);
    /* Stream capture (CUDA Graphs), NULL where the device has none (sim):
     * capture_begin records the stream's work instead of running it;
     * capture_end stops and returns an executable graph, or NULL with a
     * message (the recorded work did not run); launch enqueues it. */
    sy_status (*capture_begin)(sy_device *d);
    void *(*capture_end)(sy_device *d);
    sy_status (*launch)(sy_device *d, void *exec);
    void (*exec_free)(sy_device *d, void *exec);
    /* A device graph is being freed: drop what the device keeps for it
     * (cuda: cuDNN plans, keyed by the graph's id); NULL: nothing kept. */
    void (*forget_graph)(sy_device *d, const sy_graph *g);
    /* Staged inputs (prefetch.c, graph_device.c). copy: device to device on
     * the stream. event_new/event_free: a marker of the copy stream (cuda:
     * an event; sim: a token), one per staging block of each graph, so that
     * two graphs' blocks never share one. stage_upload: host (pinned) to
     * device on a copy stream of its own, then records `ev`; it may be
     * called from another thread while the stream runs. stage_wait: the
     * stream waits for the last stage_upload that recorded `ev` (sim: the
     * copy was done at once). */
    void (*copy)(sy_device *d, void *dst, const void *src, size_t bytes);
    void *(*event_new)(sy_device *d);
    void (*event_free)(sy_device *d, void *ev);
    void (*stage_upload)(sy_device *d, void *dst, const void *src, size_t bytes, void *ev);
    void (*stage_wait)(sy_device *d, void *ev);
    /* Test hook: while set, every capture makes a call that a capture
     * forbids (a wait on the captured stream) right after it starts, so the
     * capture fails in the device's own way. */
    int break_capture;
    /* Test hook: while set, stage_upload fails as a bad copy would (cuda: a
     * NULL destination); the next sync must report it. */
    int break_stage_upload;
    /* The last error sync reported, and the graph node that raised it (-1:
     * none known). */
    char error[512];
    int error_node;
    void *impl;
    sy_devmem mem; /* the memory calls above as the parameter store takes them (sy_device_mem) */
};

/* The device called `name` ("cuda", "sim"), initialised on first use; NULL
 * with a message naming why (no GPU, built without CUDA, ...). */
sy_device *sy_device_get(const char *name);
/* The CUDA device, or NULL with the reason (defined in backend/cuda/ when
 * built with CUDA, else in backend/device.c). */
sy_device *sy_device_cuda(void);

/* Whether the optimizer step must average device gradients over ranks:
 * more than one rank, or SYRE_NCCL=1 (the device path with one rank). */
int sy_device_allreduce_wanted(void);
/* buf <- mean over ranks (n device floats): d->allreduce_mean, else copy to
 * host, sy_dist_allreduce_mean, copy back. SYRE_NCCL=1 on a cuda device
 * without NCCL fails (it would not test what it names). */
sy_status sy_device_allreduce_mean(sy_device *d, float *buf, size_t n);

/* A device graph compiled (+1) or freed (-1): the precision may not change
 * while one is alive. */
void sy_precision_hold(int delta);

/* ---- Graph hooks (graph_device.c) ----------------------------------------- */

typedef struct sy_graph_dev sy_graph_dev;
sy_status sy_gdev_select(sy_graph *g, sy_device *d);
void sy_gdev_free(sy_graph *g);
/* Scratch floats of node n in the arena on this graph's device. */
size_t sy_gdev_scratch(sy_graph *g, const sy_node *n);
/* Allocate the device arena of `floats` floats and its host mirror. */
sy_status sy_gdev_alloc(sy_graph *g, size_t floats);
/* Device pointers of parameter `idx` (value, gradient or NULL). */
float *sy_gdev_param_val(sy_graph *g, int idx);
float *sy_gdev_param_grad(sy_graph *g, int idx);
/* Host mirror of node v's value for feeding. */
float *sy_gdev_host_val(sy_graph *g, sy_node *n);
sy_status sy_gdev_before_forward(sy_graph *g);
/* A kernel's error was reported through the graph (sim's CPU kernels stop
 * the forward): wait for the device and drop what it holds of that error,
 * so that it cannot veto a later recorded step. */
void sy_gdev_drain(sy_graph *g);
sy_status sy_gdev_after_forward(sy_graph *g);
/* The loss check of after_forward on host copies already current. */
sy_status sy_gdev_check_losses(sy_graph *g);
void sy_gdev_begin_backward(sy_graph *g, sy_node *loss);
sy_status sy_gdev_after_backward(sy_graph *g);
/* Host view of node v's value (grad = 1: gradient), current, and kept
 * current after every later forward (backward). */
float *sy_gdev_data(sy_graph *g, sy_var v, int grad);
/* Staged inputs (double-buffered, prefetch.c): the inputs vars[0..n-1]
 * get two pinned host blocks and two device blocks. stage_host: the host
 * buffer of input k in block `slot`; stage_upload: block `slot` host to
 * device on the copy stream (any thread); stage_use: block `slot` holds the
 * graph's current batch: the host views of those inputs point into it and
 * the next forward (or recorded step) copies the device block into the
 * inputs after waiting for its upload. A write through sy_graph_data or
 * sy_graph_feed to a staged input after stage_use makes that input come
 * from its host copy instead, until the next stage_use. */
sy_status sy_gdev_stage_init(sy_graph *g, const sy_var *vars, int n);
float *sy_gdev_stage_host(sy_graph *g, int slot, int k);
void sy_gdev_stage_upload(sy_graph *g, int slot);
void sy_gdev_stage_use(sy_graph *g, int slot);
/* Device context of a graph (for kernels): NULL on CPU graphs. */
sy_device *sy_gdev_device(const sy_graph *g);
float *sy_gdev_workspace(sy_graph *g);
/* The graph's step (dropout masks) in device memory, or NULL (no dropout
 * node): written from pinned memory on the stream by every forward and by
 * the recorded step, so kernels that read it see this step's value also
 * when replayed. */
const uint64_t *sy_gdev_step(sy_graph *g);

/* The recorded training step, the graph's part (train/step.c adds the
 * optimizer's): forward and backward captured once with the work the caller
 * appends after them, and replayed (CUDA Graphs on cuda, the same
 * sequencing run eagerly on sim).
 * plan: whether this step is recorded (*recorded 1) or runs eagerly (the
 * caller runs it, then reports with eager_done); key names the appended work
 * (a new key records anew), ineligible (NULL: none) why it cannot be recorded.
 * run: the recorded step; tail(ctx, veto, veto_ctx) enqueues the appended
 * device work and calls veto(veto_ctx, slot) where what must stop an update
 * (a kernel error, a non-finite loss under --on-nan stop) is decided;
 * variant changes with the tail's launch arguments (records anew). */
typedef void (*sy_gdev_tail)(void *ctx, void (*veto)(void *veto_ctx, size_t *slot), void *veto_ctx);
sy_status sy_gdev_rec_plan(sy_graph *g, sy_var loss, uint64_t key, int record, const char *ineligible, int *recorded);
void sy_gdev_rec_eager_done(sy_graph *g, sy_status st);
sy_status sy_gdev_rec_run(sy_graph *g, sy_var loss, int variant, sy_gdev_tail tail, void *ctx);

/* ---- The parameter store on a device ------------------------------------------ */

/* The device's memory as the parameter store sees it (core/devmem.h). */
const sy_devmem *sy_device_mem(sy_device *d);
/* The device the store lives on, NULL on the host. */
sy_device *sy_params_device(const sy_params *ps);

#endif
