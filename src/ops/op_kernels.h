/* What the kernels of every backend share: input access (IN), reduction
 * scales, and the reference kernels of every op (the "cpu-ref" backend,
 * which the others start from). Kernels see an execution context, never the
 * graph (backend/exec.h). */
#ifndef SYRE_OP_KERNELS_H
#define SYRE_OP_KERNELS_H

#include "backend/exec.h"
#include "syre/graph.h"

#include <math.h>
#include <string.h>

/* Input k of the kernel's node n in its context ex. */
#define IN(k) sy_in(ex, n, (k))

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

/* Reference kernels, declared for every op of the table. */
#define SY_OP_KDECL(E, n, a)                             \
    void sy_ref_fwd_##n(sy_exec *ex, sy_node *node);     \
    void sy_ref_bwd_##n(sy_exec *ex, sy_node *node);
SY_OP_LIST(SY_OP_KDECL)
#undef SY_OP_KDECL
/* Dropout's forward at step `step` (the reference kernel passes ex->step;
 * a device its device counter). */
void sy_dropout_fwd_at(sy_exec *ex, sy_node *n, uint64_t step);

#endif
