/* What a kernel sees: its node and the execution context of the graph it
 * runs in (the nodes for input lookup, the device workspace, the dropout
 * stream's seed and step, training or evaluation, an error slot). The graph
 * fills the context when it compiles and keeps it as the one home of its
 * step, seed and mode; kernels never see the graph. Also the node and the
 * backend table, which every layer from the backends up shares. Not a public
 * interface. */
#ifndef SYRE_BACKEND_EXEC_H
#define SYRE_BACKEND_EXEC_H

#include "ops/op_table.h"
#include "syre/core.h"

#include <stdint.h>

#define SY_MAX_INPUTS 5
#define SY_MAX_IATTR 6
#define SY_MAX_FATTR 4

typedef struct {
    sy_op op;
    int n_in;
    int in[SY_MAX_INPUTS];
    sy_shape shape;
    int iattr[SY_MAX_IATTR];   /* op-specific integers (trans flags, stride, axis, ...) */
    float fattr[SY_MAX_FATTR]; /* op-specific floats (scale, eps, momentum, ...) */
    int param;                 /* parameter index for PARAM nodes, else -1 */
    int needs_grad;            /* on a path from a trainable parameter or a requested input */
    int is_loss;               /* forward checks the value is finite */
    size_t numel;
    size_t scratch_n;          /* floats of op scratch (im2col, argmax, saved stats) */
    float *val, *grad, *scratch;
    /* Gradient bookkeeping (graph.c): the one (node, input slot) that reads
     * this node, if exactly one does; and per backward pass, whether that
     * reader overwrites this node's gradient (so it needs no zeroing) and,
     * on the reader, which of its input slots it must overwrite. */
    int n_readers, reader, reader_slot;
    unsigned char fresh, overwrite;
    char name[96];
} sy_node;

/* The first error a kernel raised while running (a label out of range):
 * kernels cannot return a status, so they leave it here and the pass that
 * ran them returns it. */
typedef struct {
    sy_status status;
    char msg[512];
} sy_exec_fault;

/* A graph's execution context, handed to every kernel. */
typedef struct {
    sy_node *nodes;           /* the graph's nodes: a node's inputs by index (sy_in) */
    uint64_t graph_id;        /* unique in the process, never reused: what device caches key on */
    uint64_t seed, step;      /* dropout stream: the seed, and the step of the next training forward */
    int training;             /* 1: batch statistics, dropout on; 0: evaluation */
    int sync_bn;              /* batch norm in training takes the statistics of all ranks (sy_graph_set_sync_bn) */
    float *workspace;         /* a device's workspace shared by all nodes (im2col columns); NULL on the CPU */
    const uint64_t *dev_step; /* the step in device memory, written before each forward (graphs with dropout
                               * on a device, so that a replayed step reads this step's value); else NULL */
    sy_exec_fault *fault;     /* where kernels report an error (sy_exec_fail) */
} sy_exec;

/* A kernel: computes node n (forward) or its inputs' gradients (backward). */
typedef void (*sy_kernel)(sy_exec *ex, sy_node *n);

/* A backend: one forward and one backward kernel per op; NULL = not
 * supported. Every op has a reference kernel in the "cpu-ref" backend. */
typedef struct {
    const char *name;
    sy_kernel forward[SY_OP_COUNT];
    sy_kernel backward[SY_OP_COUNT];
    /* Bit k set: this op's backward writes (instead of adding to) the whole
     * gradient of input k when the node's `overwrite` bit k is set, so the
     * graph need not zero it first. 0 for every reference kernel. */
    unsigned char can_overwrite[SY_OP_COUNT];
    /* Floats of scratch this backend's kernel for n needs; NULL: the shape
     * rule's n->scratch_n (what the reference kernel needs). */
    size_t (*node_scratch)(sy_exec *ex, const sy_node *n);
} sy_backend;

/* The two CPU backends (backend/cpu/backend_cpu.c). */
const sy_backend *sy_backend_cpu_ref(void);
const sy_backend *sy_backend_cpu(void);

/* Input k of node n. */
static inline sy_node *sy_in(const sy_exec *ex, const sy_node *n, int k) { return &ex->nodes[n->in[k]]; }

/* Report an error found while running a kernel; the first one wins, and the
 * pass that ran the kernel returns it. */
void sy_exec_fail(sy_exec *ex, sy_status st, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
