/* Helpers shared by the op families: input access, reduction scales, and the
 * run-time error hook for kernels (kernels cannot return a status). */
#ifndef SYRE_OPS_COMMON_H
#define SYRE_OPS_COMMON_H

#include "graph/graph_impl.h"

#include <math.h>
#include <string.h>

#define IN(k) sy_in(g, n, (k))

/* Build an op node from up to 5 inputs and up to 6 int / 4 float attributes. */
#define SY_BUILD(g, op, ins, ia, fa) sy_graph_add_op((g), (op), (ins), (ia), (fa))

/* Scale that turns a sum over a tensor of shape s into the requested reduction. */
static inline float sy_reduce_scale(sy_reduce r, sy_shape s)
{
    switch (r) {
    case SY_REDUCE_SUM: return 1.0f;
    case SY_REDUCE_BATCH: return 1.0f / (float)s.dim[0];
    default: return 1.0f / (float)sy_shape_numel(s);
    }
}

/* Shapes are row-major; size of all dims after `axis`. */
static inline size_t sy_inner_size(sy_shape s, int axis)
{
    size_t k = 1;
    for (int i = axis + 1; i < s.ndim; i++) k *= (size_t)s.dim[i];
    return k;
}

/* Report an error found while running a kernel (e.g. a label out of range);
 * the forward pass returns it after the kernel. */
void sy_graph_runtime_error(sy_graph *g, sy_status st, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
