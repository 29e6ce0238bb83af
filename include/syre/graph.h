/* The static computation graph: build once (inputs, parameters, ops), compile
 * (shape checks already done at build, buffer planning, one arena), then run
 * forward and backward many times without allocating.
 *
 * Building never fails loudly: an op given an invalid input or mismatched
 * shapes returns a negative sy_var and records the first error in the graph;
 * sy_graph_compile then returns it. So a model can be built without checking
 * every line, and the message says which op failed and why. */
#ifndef SYRE_GRAPH_H
#define SYRE_GRAPH_H

#include "syre/core.h"
#include "syre/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A computation graph (opaque): sy_graph_new, build with the ops below,
 * sy_graph_compile, then feed/forward/backward; sy_graph_free. */
typedef struct sy_graph sy_graph;
/* A node of a graph; negative means "invalid" (an earlier build error). */
typedef int sy_var;

/* How loss ops reduce their per-element terms to a scalar. */
typedef enum {
    SY_REDUCE_MEAN = 0,  /* mean over all elements */
    SY_REDUCE_SUM,       /* sum over all elements */
    SY_REDUCE_BATCH      /* sum over each sample's elements, mean over the batch (axis 0) */
} sy_reduce;

/* ---- Lifetime and execution ---------------------------------------------- */

/* How one graph runs; graphs of one program may differ. */
typedef struct {
    const char *device; /* "cpu", "cuda" or "sim" (syre/runtime.h); NULL: cpu */
    int cuda_graphs;    /* on cuda, record the training step (sy_train_step) */
    int prefetch;       /* on a device, fill the next batch during the step (sy_prefetch_new) */
    int nan_policy;     /* on a non-finite loss (syre/runtime.h's sy_nan_policy): SY_NAN_STOP fails the
                           step, SY_NAN_SKIP_BATCH leaves it to the optimizer's guard; default
                           SY_NAN_PROCESS: the process's policy when the step runs */
} sy_graph_opts;
/* The process defaults (sy_runtime: sy_set_default_device, sy_set_cuda_graphs,
 * sy_set_prefetch, sy_runtime_configure). */
sy_graph_opts sy_graph_opts_default(void);
/* A graph whose parameters live in `ps` (shared with other graphs), made
 * with sy_graph_opts_default(). */
sy_graph *sy_graph_new(sy_params *ps);
/* A graph for evaluation: as sy_graph_new, but in evaluation mode from the
 * start (dropout off, batch norm on its running statistics), so a model
 * built twice, for training and for evaluation, is evaluated right without
 * a sy_graph_set_training call to remember. */
sy_graph *sy_graph_eval_new(sy_params *ps);
/* ... made with `opts` (NULL: the defaults); the device is checked here. */
sy_graph *sy_graph_new_opts(sy_params *ps, const sy_graph_opts *opts);
/* Frees the graph, its buffers and its device memory, not the parameter
 * store; NULL is a no-op. */
void sy_graph_free(sy_graph *g);
/* Select kernels: "cpu" (fast, default) or "cpu-ref" (plain reference kernels). */
sy_status sy_graph_set_backend(sy_graph *g, const char *name);
/* First error recorded while building, SY_OK if none. */
sy_status sy_graph_status(const sy_graph *g);
/* Plan and allocate every buffer (values, gradients, op scratch) once. */
sy_status sy_graph_compile(sy_graph *g);
/* Bytes planned by compile for activations, gradients and scratch. */
size_t sy_graph_bytes(const sy_graph *g);
/* Copy n floats into an input node (n must equal its element count). */
sy_status sy_graph_feed(sy_graph *g, sy_var input, const float *data, size_t n);
/* Compute every node. Fails with SY_ERR_NUMERIC if a loss is NaN or Inf. */
sy_status sy_graph_forward(sy_graph *g);
/* Reverse pass from scalar `loss`: zeroes the store's gradients and every
 * node gradient, seeds d loss = 1, accumulates into parameter gradients. */
sy_status sy_graph_backward(sy_graph *g, sy_var loss);
/* Training mode (dropout active, batch norm uses batch statistics and updates
 * running ones) or evaluation mode. Default: training (evaluation for a
 * graph made by sy_graph_eval_new). */
void sy_graph_set_training(sy_graph *g, int training);
/* Synchronised batch norm (docs/distributed.md): on, every batch norm of
 * this graph in training mode normalises with the mean and variance of the
 * global batch, its per-channel sums added up over the ranks of a
 * data-parallel run (and its backward with the global sums of dy and
 * dy * xhat), as PyTorch's SyncBatchNorm; running statistics are then the
 * same on every rank. Off (the default): each rank's own statistics. One
 * rank: the same numbers either way. Every rank must set it alike. CPU graphs
 * only: SY_ERR_UNSUPPORTED for a graph on a device when there are several
 * ranks. */
sy_status sy_graph_set_sync_bn(sy_graph *g, int on);
/* Seed of the graph's dropout stream, and its step counter (advanced by each
 * training forward; restore it to resume bit-identically). */
void sy_graph_set_seed(sy_graph *g, uint64_t seed);
void sy_graph_set_step(sy_graph *g, uint64_t step);
uint64_t sy_graph_step(const sy_graph *g);
/* Ask for the gradient of an input node (inputs get none by default). */
sy_status sy_graph_requires_grad(sy_graph *g, sy_var v);

/* ---- Inspecting nodes ---------------------------------------------------- */

/* Value and gradient buffers of a node (valid after compile; gradient NULL if
 * the node needs none). Inputs can be filled in place through sy_graph_data.
 * On a device graph they are host copies, NULL when the copy back failed; a
 * parameter node's are the store's read views (sy_params_read): change
 * parameters through sy_params_write. */
float *sy_graph_data(sy_graph *g, sy_var v);
float *sy_graph_grad(sy_graph *g, sy_var v);
sy_shape sy_graph_shape(const sy_graph *g, sy_var v);
/* Scalar value of a [1]-shaped node (e.g. a loss) after forward. */
float sy_graph_scalar(sy_graph *g, sy_var v);
int sy_graph_num_nodes(const sy_graph *g);
/* Name of the op that made node v ("matmul", ...). */
const char *sy_graph_op_name(const sy_graph *g, sy_var v);
sy_params *sy_graph_params(sy_graph *g);

/* ---- Leaves ---------------------------------------------------------------- */

/* A batch input, filled before each forward. Labels are inputs holding class
 * indices as floats. */
sy_var sy_input(sy_graph *g, const char *name, sy_shape shape);
/* A parameter of the store, by name (it must exist). */
sy_var sy_param(sy_graph *g, const char *name);
/* Create-or-reuse a parameter and return its node (layers use this). */
sy_var sy_param_new(sy_graph *g, const char *name, sy_shape shape, int fan_in,
                    sy_init init, int trainable);

/* ---- Ops: one line of math each. Shapes in brackets. ---------------------- */

/* y = op(a) @ op(b), op = transpose when the flag is set. a [M,K], b [K,N] -> [M,N]. */
sy_var sy_matmul(sy_graph *g, sy_var a, sy_var b, int trans_a, int trans_b);
/* y[n,c,...] = x[n,c,...] + b[c]   (linear and conv bias). */
sy_var sy_bias_add(sy_graph *g, sy_var x, sy_var b);
/* y = a + b, a - b, a * b; b broadcasts to a's shape (each dim equal or 1). */
sy_var sy_add(sy_graph *g, sy_var a, sy_var b);
sy_var sy_sub(sy_graph *g, sy_var a, sy_var b);
sy_var sy_mul(sy_graph *g, sy_var a, sy_var b);
/* y = c * x. */
sy_var sy_scale(sy_graph *g, sy_var x, float c);
/* Elementwise activations and functions. silu(x) = x * sigmoid(x). */
sy_var sy_relu(sy_graph *g, sy_var x);
sy_var sy_tanh(sy_graph *g, sy_var x);
sy_var sy_sigmoid(sy_graph *g, sy_var x);
sy_var sy_silu(sy_graph *g, sy_var x);
sy_var sy_exp(sy_graph *g, sy_var x);
sy_var sy_log(sy_graph *g, sy_var x);
sy_var sy_square(sy_graph *g, sy_var x);
/* Sum / mean of all elements -> [1]. */
sy_var sy_sum(sy_graph *g, sy_var x);
sy_var sy_mean(sy_graph *g, sy_var x);
/* Sum / mean along one axis, which is removed (a [1] shape stays [1]). */
sy_var sy_sum_axis(sy_graph *g, sy_var x, int axis);
sy_var sy_mean_axis(sy_graph *g, sy_var x, int axis);
/* Same data, new shape (element counts must agree); flatten: [N, ...] -> [N, rest]. */
sy_var sy_reshape(sy_graph *g, sy_var x, sy_shape shape);
sy_var sy_flatten(sy_graph *g, sy_var x);
/* Concatenate along axis 1 (features / channels); slice [start, start+len) of axis 1. */
sy_var sy_concat(sy_graph *g, sy_var a, sy_var b);
sy_var sy_slice(sy_graph *g, sy_var x, int start, int len);
/* 2-D convolution, no bias: x [N,C,H,W], w [O,C,KH,KW] -> [N,O,H',W']. */
sy_var sy_conv2d(sy_graph *g, sy_var x, sy_var w, int stride, int pad);
/* Max pooling with a k x k window and stride s: [N,C,H,W] -> [N,C,H',W']. */
sy_var sy_maxpool2d(sy_graph *g, sy_var x, int k, int stride);
/* Mean over H and W: [N,C,H,W] -> [N,C]. */
sy_var sy_global_avgpool(sy_graph *g, sy_var x);
/* Batch norm over axis 1 of [N,C] or [N,C,H,W]: gamma, beta trainable [C];
 * running mean/var [C] buffers updated in training mode with `momentum`
 * (PyTorch convention: r = (1-m) r + m batch; unbiased variance for r). */
sy_var sy_batchnorm(sy_graph *g, sy_var x, sy_var gamma, sy_var beta, sy_var running_mean,
                    sy_var running_var, float momentum, float eps);
/* Inverted dropout with drop rate p in [0, 1): identity in evaluation mode. */
sy_var sy_dropout(sy_graph *g, sy_var x, float p);
/* Row L2 normalisation: y[i,:] = x[i,:] / max(||x[i,:]||, eps). */
sy_var sy_l2normalize(sy_graph *g, sy_var x, float eps);

/* Rows of every rank of a data-parallel run (syre/dist.h), stacked in rank
 * order: x [n, ...] on each of N ranks -> [N n, ...], rank r's rows at
 * [r n, (r+1) n). The backward hands each rank the sum over the ranks of the
 * gradient of its rows (the adjoint of the gather), so a loss over the
 * gathered rows trains every rank's part, as SimCLR's cross-replica
 * negatives do. Built for the ranks running when it is called; one rank: a
 * copy. Every rank must run it alike (a collective). CPU graphs only. */
sy_var sy_rank_gather(sy_graph *g, sy_var x);

/* Clipped objectives (PPO): y = min(max(x, lo), hi), gradient 1 inside [lo, hi]
 * and 0 outside; y = min(a, b) for a, b of one shape, gradient to a where
 * a <= b, else to b. */
sy_var sy_clamp(sy_graph *g, sy_var x, float lo, float hi);
sy_var sy_minimum(sy_graph *g, sy_var a, sy_var b);

/* ---- Losses -> [1] --------------------------------------------------------- */

/* Softmax cross-entropy of logits [N,K] against integer labels [N], mean over N. */
sy_var sy_softmax_ce(sy_graph *g, sy_var logits, sy_var labels);
/* (pred - target)^2, reduced. */
sy_var sy_mse(sy_graph *g, sy_var pred, sy_var target, sy_reduce r);
/* Binary cross-entropy with logits: max(x,0) - x t + log(1 + exp(-|x|)), reduced. */
sy_var sy_bce_logits(sy_graph *g, sy_var logits, sy_var target, sy_reduce r);
/* KL( N(mu, exp(logvar)) || N(0, s2 I) ) per element:
 * 0.5 (exp(logvar)/s2 + mu^2/s2 - 1 - logvar + log s2), reduced. */
sy_var sy_kl_gauss(sy_graph *g, sy_var mu, sy_var logvar, float s2, sy_reduce r);

#ifdef __cplusplus
}
#endif
#endif
