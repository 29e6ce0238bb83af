/* A graph on a device (graph_device.c): its arena, inputs and recorded step
 * in the device's memory. The kernels it runs see only their execution
 * context (backend/exec.h): the device workspace and the step in device
 * memory are fields of it, set here. Not a public interface. */
#ifndef SYRE_GRAPH_DEVICE_H
#define SYRE_GRAPH_DEVICE_H

#include "backend/device.h"
#include "graph/graph_impl.h"

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
/* The device of a graph: NULL on CPU graphs. */
sy_device *sy_gdev_device(const sy_graph *g);

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

#endif
