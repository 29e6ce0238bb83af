/* Ops for clipped objectives (PPO): clamp to an interval and the elementwise
 * minimum of two tensors. Both are piecewise identities: the gradient goes to
 * the input that produced the value (clamp: only inside the interval;
 * minimum: to a where a <= b, else to b). */
#include "ops/ops_common.h"

sy_var sy_clamp(sy_graph *g, sy_var x, float lo, float hi)
{
    if (!(lo <= hi)) return sy_graph_error(g, SY_ERR_ARG, "clamp: lo (%g) must not exceed hi (%g)", lo, hi);
    int in[1] = {x};
    float fa[SY_MAX_FATTR] = {lo, hi};
    return SY_BUILD(g, SY_OP_CLAMP, in, NULL, fa);
}

sy_status sy_shape_clamp(sy_graph *g, sy_node *n)
{
    n->shape = GIN(0)->shape;
    return SY_OK;
}

void sy_ref_fwd_clamp(sy_exec *ex, sy_node *n)
{
    const float *x = IN(0)->val, lo = n->fattr[0], hi = n->fattr[1];
    for (size_t i = 0; i < n->numel; i++) n->val[i] = x[i] < lo ? lo : (x[i] > hi ? hi : x[i]);
}

void sy_ref_bwd_clamp(sy_exec *ex, sy_node *n)
{
    const float *x = IN(0)->val, lo = n->fattr[0], hi = n->fattr[1];
    float *dx = IN(0)->grad;
    if (!dx) return;
    for (size_t i = 0; i < n->numel; i++)
        if (x[i] >= lo && x[i] <= hi) dx[i] += n->grad[i];
}

sy_var sy_minimum(sy_graph *g, sy_var a, sy_var b)
{
    int in[2] = {a, b};
    return SY_BUILD(g, SY_OP_MINIMUM, in, NULL, NULL);
}

sy_status sy_shape_minimum(sy_graph *g, sy_node *n)
{
    sy_shape a = GIN(0)->shape, b = GIN(1)->shape;
    char s1[64], s2[64];
    if (!sy_shape_equal(a, b))
        return sy_fail(SY_ERR_SHAPE, "minimum: a %s and b %s must have the same shape", sy_shape_str(a, s1),
                       sy_shape_str(b, s2));
    n->shape = a;
    return SY_OK;
}

void sy_ref_fwd_minimum(sy_exec *ex, sy_node *n)
{
    const float *a = IN(0)->val, *b = IN(1)->val;
    for (size_t i = 0; i < n->numel; i++) n->val[i] = a[i] <= b[i] ? a[i] : b[i];
}

void sy_ref_bwd_minimum(sy_exec *ex, sy_node *n)
{
    const float *a = IN(0)->val, *b = IN(1)->val;
    float *da = IN(0)->grad, *db = IN(1)->grad;
    for (size_t i = 0; i < n->numel; i++) {
        if (a[i] <= b[i]) {
            if (da) da[i] += n->grad[i];
        } else if (db) {
            db[i] += n->grad[i];
        }
    }
}
