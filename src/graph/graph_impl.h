/* Private graph internals shared by the graph, the ops and the backends:
 * nodes, the graph, and the backend function table. */
#ifndef SYRE_GRAPH_IMPL_H
#define SYRE_GRAPH_IMPL_H

#include "syre/graph.h"
#include "syre/runtime.h"
#include "ops/op_table.h"

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

typedef struct sy_graph sy_graph;
typedef void (*sy_kernel)(sy_graph *g, sy_node *n);

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
    size_t (*node_scratch)(sy_graph *g, const sy_node *n);
} sy_backend;

const sy_backend *sy_backend_cpu_ref(void);
const sy_backend *sy_backend_cpu(void);
const char *sy_op_name(sy_op op);
int sy_op_arity(sy_op op);

struct sy_graph {
    sy_params *ps;
    const sy_backend *be;
    sy_node *nodes;
    int n_nodes, cap;
    sy_status status;       /* first build error */
    sy_status run_status;   /* error raised by a kernel during forward */
    char error[512];
    int compiled;
    int training;
    int sync_bn;            /* batch norm in training takes the statistics of all ranks (sy_graph_set_sync_bn) */
    uint64_t seed, step;    /* dropout stream */
    uint64_t id;            /* unique in the process, never reused: what device caches key on */
    float *arena;           /* values, gradients and scratch of every node */
    size_t arena_floats;
    float *grad_region;     /* node gradients inside the arena, zeroed by backward */
    size_t grad_floats;
    struct sy_graph_dev *gdev; /* non-NULL on a device (graph_device.c); node pointers are then device pointers */
    /* Overwrite plan of the last backward: valid for this backend and loss node. */
    const sy_backend *plan_be;
    int plan_loss;
    int *param_node;        /* parameter index -> its node, -1 if none (size n_param_nodes) */
    int n_param_nodes;
    sy_graph_opts opts;     /* as made (sy_graph_new_opts); opts.device is NULL, the device is `be` */
};

static inline sy_node *sy_in(sy_graph *g, const sy_node *n, int k) { return &g->nodes[n->in[k]]; }
/* What a non-finite loss does in this graph: its own policy, else the process's. */
static inline int sy_graph_nan_policy(const sy_graph *g)
{
    return g->opts.nan_policy != SY_NAN_PROCESS ? g->opts.nan_policy : (int)sy_get_nan_policy();
}

/* Shape rules and reference kernels, declared for every op of the table. */
#define SY_OP_DECL(E, n, a)                               \
    sy_status sy_shape_##n(sy_graph *g, sy_node *node);   \
    void sy_ref_fwd_##n(sy_graph *g, sy_node *node);      \
    void sy_ref_bwd_##n(sy_graph *g, sy_node *node);
SY_OP_LIST(SY_OP_DECL)
#undef SY_OP_DECL
/* Dropout's forward at step `step` (the reference kernel passes g->step; the
 * sim device its device counter), leaving the graph unchanged. */
void sy_dropout_fwd_at(sy_graph *g, sy_node *n, uint64_t step);

/* Append an op node after checking its inputs and running its shape rule;
 * `in` has the op's arity, iattr/fattr may be NULL (zeros). */
sy_var sy_graph_add_op(sy_graph *g, sy_op op, const int *in, const int *iattr, const float *fattr);

/* Record a build error on the graph (first one wins) and return -1. */
int sy_graph_error(sy_graph *g, sy_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
