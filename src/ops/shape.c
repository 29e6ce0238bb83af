/* Ops that move data without arithmetic: reshape (a view sharing its input's
 * buffers, so it costs nothing), concat and slice along axis 1. */
#include "ops/ops_common.h"

sy_var sy_reshape(sy_graph *g, sy_var x, sy_shape shape)
{
    int in[1] = {x}, ia[SY_MAX_IATTR] = {shape.ndim};
    for (int i = 0; i < SY_MAX_DIMS; i++) ia[1 + i] = i < shape.ndim ? shape.dim[i] : 1;
    return SY_BUILD(g, SY_OP_RESHAPE, in, ia, NULL);
}

sy_var sy_flatten(sy_graph *g, sy_var x)
{
    if (x < 0 || x >= sy_graph_num_nodes(g)) return sy_reshape(g, x, sy_shape_of(1, 1));
    sy_shape s = sy_graph_shape(g, x);
    return sy_reshape(g, x, sy_shape_of(2, s.dim[0], (int)(sy_shape_numel(s) / s.dim[0])));
}

sy_status sy_shape_reshape(sy_graph *g, sy_node *n)
{
    sy_shape s = {n->iattr[0], {n->iattr[1], n->iattr[2], n->iattr[3], n->iattr[4]}};
    char b1[64], b2[64];
    if (s.ndim < 1 || s.ndim > SY_MAX_DIMS)
        return sy_fail(SY_ERR_SHAPE, "target rank %d outside 1..%d", s.ndim, SY_MAX_DIMS);
    for (int i = 0; i < s.ndim; i++)
        if (s.dim[i] <= 0) return sy_fail(SY_ERR_SHAPE, "target shape %s has a non-positive dim", sy_shape_str(s, b1));
    if (sy_shape_numel(s) != GIN(0)->numel)
        return sy_fail(SY_ERR_SHAPE, "cannot reshape %s (%zu elements) to %s (%zu elements)",
                       sy_shape_str(GIN(0)->shape, b1), GIN(0)->numel, sy_shape_str(s, b2), sy_shape_numel(s));
    n->shape = s;
    return SY_OK;
}
/* Reshape shares buffers with its input (set at compile): nothing to do. */
void sy_ref_fwd_reshape(sy_exec *ex, sy_node *n) {}
void sy_ref_bwd_reshape(sy_exec *ex, sy_node *n) {}

sy_var sy_concat(sy_graph *g, sy_var a, sy_var b)
{
    int in[2] = {a, b};
    return SY_BUILD(g, SY_OP_CONCAT, in, NULL, NULL);
}

sy_status sy_shape_concat(sy_graph *g, sy_node *n)
{
    sy_shape a = GIN(0)->shape, b = GIN(1)->shape;
    char s1[64], s2[64];
    int ok = a.ndim == b.ndim && a.ndim >= 2;
    for (int i = 0; ok && i < a.ndim; i++) ok = (i == 1 || a.dim[i] == b.dim[i]);
    if (!ok)
        return sy_fail(SY_ERR_SHAPE, "%s and %s must agree on every dim except axis 1",
                       sy_shape_str(a, s1), sy_shape_str(b, s2));
    n->shape = a;
    n->shape.dim[1] = a.dim[1] + b.dim[1];
    return SY_OK;
}

/* Copy rows of width w_src (times inner) into the output at column offset. */
static void concat_part(sy_node *n, const sy_node *src, size_t off, int forward)
{
    size_t outer = n->shape.dim[0], inner = sy_inner_size(n->shape, 1);
    size_t wo = n->shape.dim[1] * inner, ws = src->shape.dim[1] * inner;
    for (size_t o = 0; o < outer; o++) {
        if (forward) memcpy(n->val + o * wo + off * inner, src->val + o * ws, ws * sizeof(float));
        else if (src->grad)
            for (size_t k = 0; k < ws; k++) src->grad[o * ws + k] += n->grad[o * wo + off * inner + k];
    }
}
void sy_ref_fwd_concat(sy_exec *ex, sy_node *n)
{
    concat_part(n, IN(0), 0, 1);
    concat_part(n, IN(1), IN(0)->shape.dim[1], 1);
}
void sy_ref_bwd_concat(sy_exec *ex, sy_node *n)
{
    concat_part(n, IN(0), 0, 0);
    concat_part(n, IN(1), IN(0)->shape.dim[1], 0);
}

sy_var sy_slice(sy_graph *g, sy_var x, int start, int len)
{
    int in[1] = {x}, ia[SY_MAX_IATTR] = {start, len};
    return SY_BUILD(g, SY_OP_SLICE, in, ia, NULL);
}

sy_status sy_shape_slice(sy_graph *g, sy_node *n)
{
    sy_shape x = GIN(0)->shape;
    int start = n->iattr[0], len = n->iattr[1];
    char b[64];
    if (x.ndim < 2 || start < 0 || len <= 0 || start + len > x.dim[1])
        return sy_fail(SY_ERR_SHAPE, "slice [%d, %d) outside axis 1 of %s", start, start + len,
                       sy_shape_str(x, b));
    n->shape = x;
    n->shape.dim[1] = len;
    return SY_OK;
}

void sy_ref_fwd_slice(sy_exec *ex, sy_node *n)
{
    sy_shape x = IN(0)->shape;
    size_t outer = x.dim[0], inner = sy_inner_size(x, 1);
    size_t wx = x.dim[1] * inner, wy = n->shape.dim[1] * inner, off = n->iattr[0] * inner;
    for (size_t o = 0; o < outer; o++) memcpy(n->val + o * wy, IN(0)->val + o * wx + off, wy * sizeof(float));
}

void sy_ref_bwd_slice(sy_exec *ex, sy_node *n)
{
    sy_shape x = IN(0)->shape;
    size_t outer = x.dim[0], inner = sy_inner_size(x, 1);
    size_t wx = x.dim[1] * inner, wy = n->shape.dim[1] * inner, off = n->iattr[0] * inner;
    for (size_t o = 0; o < outer; o++)
        for (size_t k = 0; k < wy; k++) IN(0)->grad[o * wx + off + k] += n->grad[o * wy + k];
}
