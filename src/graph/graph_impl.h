/* Private graph internals shared by the graph and the ops' builders and
 * shape rules: the graph (its nodes, sy_node, and the backend table are in
 * backend/exec.h; kernels see only that). */
#ifndef SYRE_GRAPH_IMPL_H
#define SYRE_GRAPH_IMPL_H

#include "syre/graph.h"
#include "syre/runtime.h"
#include "backend/exec.h"
#include "ops/op_table.h"

typedef struct sy_graph sy_graph;
const char *sy_op_name(sy_op op);
int sy_op_arity(sy_op op);

struct sy_graph {
    sy_params *ps;
    const sy_backend *be;
    sy_node *nodes;
    int n_nodes, cap;
    sy_status status;       /* first build error */
    char error[512];
    int compiled;
    sy_exec ex;             /* what kernels see; the home of the graph's step, seed and mode (training) */
    sy_exec_fault fault;    /* error raised by a kernel during a pass (ex.fault points here) */
    uint64_t id;            /* unique in the process, never reused: what device caches key on (ex.graph_id) */
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

/* What a non-finite loss does in this graph: its own policy, else the process's. */
static inline int sy_graph_nan_policy(const sy_graph *g)
{
    return g->opts.nan_policy != SY_NAN_PROCESS ? g->opts.nan_policy : (int)sy_get_nan_policy();
}

/* Shape rules, declared for every op of the table. */
#define SY_OP_DECL(E, n, a) sy_status sy_shape_##n(sy_graph *g, sy_node *node);
SY_OP_LIST(SY_OP_DECL)
#undef SY_OP_DECL

/* Append an op node after checking its inputs and running its shape rule;
 * `in` has the op's arity, iattr/fattr may be NULL (zeros). */
sy_var sy_graph_add_op(sy_graph *g, sy_op op, const int *in, const int *iattr, const float *fattr);

/* Record a build error on the graph (first one wins) and return -1. */
int sy_graph_error(sy_graph *g, sy_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
