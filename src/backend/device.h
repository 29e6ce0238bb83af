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
#include "backend/exec.h"
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
    size_t (*node_scratch)(sy_exec *ex, const sy_node *n);
    size_t (*shared_workspace)(sy_exec *ex, const sy_node *n);
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
    void (*forget_graph)(sy_device *d, uint64_t graph_id);
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

/* ---- The parameter store on a device ------------------------------------------ */

/* The device's memory as the parameter store sees it (core/devmem.h). */
const sy_devmem *sy_device_mem(sy_device *d);
/* The device the store lives on, NULL on the host. */
sy_device *sy_params_device(const sy_params *ps);

#endif
