/* Reductions: sum and mean of the whole tensor or along one axis. */
#include "ops/ops_common.h"

static sy_var reduce_all(sy_graph *g, sy_op op, sy_var x)
{
    int in[1] = {x};
    return SY_BUILD(g, op, in, NULL, NULL);
}
sy_var sy_sum(sy_graph *g, sy_var x) { return reduce_all(g, SY_OP_SUM, x); }
sy_var sy_mean(sy_graph *g, sy_var x) { return reduce_all(g, SY_OP_MEAN, x); }

static sy_status shape_scalar(sy_graph *g, sy_node *n)
{
    n->shape = sy_shape_of(1, 1);
    return SY_OK;
}
sy_status sy_shape_sum(sy_graph *g, sy_node *n) { return shape_scalar(g, n); }
sy_status sy_shape_mean(sy_graph *g, sy_node *n) { return shape_scalar(g, n); }

static void fwd_all(sy_exec *ex, sy_node *n, double scale)
{
    const float *x = IN(0)->val;
    double s = 0;
    for (size_t i = 0; i < IN(0)->numel; i++) s += x[i];
    n->val[0] = (float)(s * scale);
}
static void bwd_all(sy_exec *ex, sy_node *n, float scale)
{
    float d = n->grad[0] * scale, *dx = IN(0)->grad;
    for (size_t i = 0; i < IN(0)->numel; i++) dx[i] += d;
}
void sy_ref_fwd_sum(sy_exec *ex, sy_node *n) { fwd_all(ex, n, 1.0); }
void sy_ref_bwd_sum(sy_exec *ex, sy_node *n) { bwd_all(ex, n, 1.0f); }
void sy_ref_fwd_mean(sy_exec *ex, sy_node *n) { fwd_all(ex, n, 1.0 / IN(0)->numel); }
void sy_ref_bwd_mean(sy_exec *ex, sy_node *n) { bwd_all(ex, n, 1.0f / IN(0)->numel); }

static sy_var reduce_axis(sy_graph *g, sy_op op, sy_var x, int axis)
{
    int in[1] = {x}, ia[SY_MAX_IATTR] = {axis};
    return SY_BUILD(g, op, in, ia, NULL);
}
sy_var sy_sum_axis(sy_graph *g, sy_var x, int axis) { return reduce_axis(g, SY_OP_SUM_AXIS, x, axis); }
sy_var sy_mean_axis(sy_graph *g, sy_var x, int axis) { return reduce_axis(g, SY_OP_MEAN_AXIS, x, axis); }

static sy_status shape_axis(sy_graph *g, sy_node *n)
{
    sy_shape x = GIN(0)->shape;
    int axis = n->iattr[0];
    char b[64];
    if (axis < 0 || axis >= x.ndim)
        return sy_fail(SY_ERR_ARG, "axis %d out of range for shape %s", axis, sy_shape_str(x, b));
    sy_shape s = {0, {1, 1, 1, 1}};
    for (int i = 0; i < x.ndim; i++)
        if (i != axis) s.dim[s.ndim++] = x.dim[i];
    if (s.ndim == 0) s.ndim = 1;
    n->shape = s;
    return SY_OK;
}
sy_status sy_shape_sum_axis(sy_graph *g, sy_node *n) { return shape_axis(g, n); }
sy_status sy_shape_mean_axis(sy_graph *g, sy_node *n) { return shape_axis(g, n); }

/* x viewed as [outer, len, inner] with len the reduced axis. */
static void axis_dims(sy_exec *ex, sy_node *n, size_t *outer, size_t *len, size_t *inner)
{
    sy_shape x = IN(0)->shape;
    int axis = n->iattr[0];
    *outer = 1;
    for (int i = 0; i < axis; i++) *outer *= (size_t)x.dim[i];
    *len = (size_t)x.dim[axis];
    *inner = sy_inner_size(x, axis);
}

static void fwd_axis(sy_exec *ex, sy_node *n, int mean)
{
    size_t outer, len, inner;
    axis_dims(ex, n, &outer, &len, &inner);
    const float *x = IN(0)->val;
    for (size_t o = 0; o < outer; o++)
        for (size_t k = 0; k < inner; k++) {
            double s = 0;
            for (size_t l = 0; l < len; l++) s += x[(o * len + l) * inner + k];
            n->val[o * inner + k] = (float)(mean ? s / len : s);
        }
}
static void bwd_axis(sy_exec *ex, sy_node *n, int mean)
{
    size_t outer, len, inner;
    axis_dims(ex, n, &outer, &len, &inner);
    float *dx = IN(0)->grad, sc = mean ? 1.0f / len : 1.0f;
    for (size_t o = 0; o < outer; o++)
        for (size_t l = 0; l < len; l++)
            for (size_t k = 0; k < inner; k++) dx[(o * len + l) * inner + k] += sc * n->grad[o * inner + k];
}
void sy_ref_fwd_sum_axis(sy_exec *ex, sy_node *n) { fwd_axis(ex, n, 0); }
void sy_ref_bwd_sum_axis(sy_exec *ex, sy_node *n) { bwd_axis(ex, n, 0); }
void sy_ref_fwd_mean_axis(sy_exec *ex, sy_node *n) { fwd_axis(ex, n, 1); }
void sy_ref_bwd_mean_axis(sy_exec *ex, sy_node *n) { bwd_axis(ex, n, 1); }
