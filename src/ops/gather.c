/* Rows from every rank of a data-parallel run (include/syre/graph.h,
 * sy_rank_gather): the forward is an all-gather, the backward its adjoint,
 * a reduce-scatter (each rank gets the sum over ranks of the gradient of its
 * own rows). Both go through sy_dist_sum_float (syre/dist.h): the output is
 * zeroed but for this rank's block and added up over the ranks, which is
 * exact (x + 0 = x). One rank: a copy. */
#include "ops/ops_common.h"
#include "graph/graph_device.h"
#include "syre/dist.h"

sy_var sy_rank_gather(sy_graph *g, sy_var x)
{
    int in[1] = {x}, ia[SY_MAX_IATTR] = {sy_dist_size(), sy_dist_rank()};
    return SY_BUILD(g, SY_OP_RANK_GATHER, in, ia, NULL);
}

sy_status sy_shape_rank_gather(sy_graph *g, sy_node *n)
{
    sy_shape x = GIN(0)->shape;
    char b[64];
    /* sim runs the CPU kernels on host memory; cuda has no kernel for it */
    if (g->gdev && strcmp(sy_gdev_device(g)->name, "sim"))
        return sy_fail(SY_ERR_UNSUPPORTED, "gathering rows over ranks runs on the CPU (and sim), not on device '%s'",
                       sy_gdev_device(g)->name);
    if (x.ndim < 1) return sy_fail(SY_ERR_SHAPE, "input must have a row axis, got %s", sy_shape_str(x, b));
    if (n->iattr[0] < 1 || n->iattr[1] < 0 || n->iattr[1] >= n->iattr[0])
        return sy_fail(SY_ERR_ARG, "rank %d of %d ranks", n->iattr[1], n->iattr[0]);
    n->shape = x;
    n->shape.dim[0] = x.dim[0] * n->iattr[0];
    n->scratch_n = sy_shape_numel(n->shape); /* the gradient added up over the ranks */
    return SY_OK;
}

/* The ranks the graph was built for must be the ranks running it. */
static int same_world(sy_exec *ex, sy_node *n)
{
    if (sy_dist_size() == n->iattr[0] && sy_dist_rank() == n->iattr[1]) return 1;
    sy_exec_fail(ex, SY_ERR_STATE, "rank gather built for rank %d of %d runs as rank %d of %d",
                           n->iattr[1], n->iattr[0], sy_dist_rank(), sy_dist_size());
    return 0;
}

void sy_ref_fwd_rank_gather(sy_exec *ex, sy_node *n)
{
    size_t blk = IN(0)->numel, r = (size_t)n->iattr[1];
    if (!same_world(ex, n)) return;
    memset(n->val, 0, n->numel * sizeof(float));
    memcpy(n->val + r * blk, IN(0)->val, blk * sizeof(float));
    sy_status st = sy_dist_sum_float(n->val, n->numel);
    if (st != SY_OK) sy_exec_fail(ex, st, "rank gather: %s", sy_last_error());
}

void sy_ref_bwd_rank_gather(sy_exec *ex, sy_node *n)
{
    size_t blk = IN(0)->numel, r = (size_t)n->iattr[1];
    float *dx = IN(0)->grad;
    if (!same_world(ex, n)) return;
    memcpy(n->scratch, n->grad, n->numel * sizeof(float));
    sy_status st = sy_dist_sum_float(n->scratch, n->numel);
    if (st != SY_OK) sy_exec_fail(ex, st, "rank gather: %s", sy_last_error());
    if (dx)
        for (size_t i = 0; i < blk; i++) dx[i] += n->scratch[r * blk + i];
}
