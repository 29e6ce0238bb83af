/* Helpers shared by the op families: what their kernels share
 * (ops/op_kernels.h), and for the builders and shape rules, which work on
 * the graph, input access and node construction. */
#ifndef SYRE_OPS_COMMON_H
#define SYRE_OPS_COMMON_H

#include "graph/graph_impl.h"
#include "ops/op_kernels.h"

/* Input k of node n in a shape rule (the graph g's nodes). */
#define GIN(k) (&g->nodes[n->in[(k)]])

/* Build an op node from up to 5 inputs and up to 6 int / 4 float attributes. */
#define SY_BUILD(g, op, ins, ia, fa) sy_graph_add_op((g), (op), (ins), (ia), (fa))

#endif
