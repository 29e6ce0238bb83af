/* Losses, each reducing to a [1] tensor and marked as a loss so that forward
 * reports a NaN or Inf value instead of training on it. */
#include "ops/ops_common.h"

sy_var sy_softmax_ce(sy_graph *g, sy_var logits, sy_var labels)
{
    int in[2] = {logits, labels};
    return SY_BUILD(g, SY_OP_SOFTMAX_CE, in, NULL, NULL);
}

sy_status sy_shape_softmax_ce(sy_graph *g, sy_node *n)
{
    sy_shape x = GIN(0)->shape, y = GIN(1)->shape;
    char s1[64], s2[64];
    if (x.ndim != 2 || sy_shape_numel(y) != (size_t)x.dim[0])
        return sy_fail(SY_ERR_SHAPE, "logits must be [N,K] and labels hold N values; got %s and %s",
                       sy_shape_str(x, s1), sy_shape_str(y, s2));
    n->shape = sy_shape_of(1, 1);
    n->scratch_n = sy_shape_numel(x); /* softmax probabilities, reused by backward */
    n->is_loss = 1;
    return SY_OK;
}

void sy_ref_fwd_softmax_ce(sy_exec *ex, sy_node *n)
{
    int N = IN(0)->shape.dim[0], K = IN(0)->shape.dim[1];
    const float *x = IN(0)->val, *lab = IN(1)->val;
    double loss = 0;
    for (int i = 0; i < N; i++) {
        const float *row = x + (size_t)i * K;
        float *p = n->scratch + (size_t)i * K;
        float m = row[0];
        for (int k = 1; k < K; k++) m = row[k] > m ? row[k] : m;
        double z = 0;
        for (int k = 0; k < K; k++) z += (p[k] = expf(row[k] - m));
        for (int k = 0; k < K; k++) p[k] = (float)(p[k] / z);
        int c = (int)lab[i];
        if (!(lab[i] >= 0 && lab[i] < K) || (float)c != lab[i]) {
            sy_exec_fail(ex, SY_ERR_ARG, "label %ex of sample %d is not a class index in [0, %d)",
                                   lab[i], i, K);
            return;
        }
        loss += -(row[c] - m - log(z));
    }
    n->val[0] = (float)(loss / N);
}

void sy_ref_bwd_softmax_ce(sy_exec *ex, sy_node *n)
{
    int N = IN(0)->shape.dim[0], K = IN(0)->shape.dim[1];
    float *dx = IN(0)->grad, s = n->grad[0] / N;
    if (!dx) return;
    const float *lab = IN(1)->val;
    for (int i = 0; i < N; i++)
        for (int k = 0; k < K; k++)
            dx[(size_t)i * K + k] += s * (n->scratch[(size_t)i * K + k] - (k == (int)lab[i] ? 1.0f : 0.0f));
}

/* Pairwise losses: pred and target of the same shape, reduction in iattr[0]. */
static sy_var pair_loss(sy_graph *g, sy_op op, sy_var a, sy_var b, sy_reduce r, float f)
{
    int in[2] = {a, b}, ia[SY_MAX_IATTR] = {(int)r};
    float fa[SY_MAX_FATTR] = {f};
    return SY_BUILD(g, op, in, ia, fa);
}

static sy_status shape_pair(sy_graph *g, sy_node *n)
{
    char s1[64], s2[64];
    if (!sy_shape_equal(GIN(0)->shape, GIN(1)->shape))
        return sy_fail(SY_ERR_SHAPE, "both operands must have the same shape, got %s and %s",
                       sy_shape_str(GIN(0)->shape, s1), sy_shape_str(GIN(1)->shape, s2));
    if (n->iattr[0] < SY_REDUCE_MEAN || n->iattr[0] > SY_REDUCE_BATCH)
        return sy_fail(SY_ERR_ARG, "unknown reduction %d", n->iattr[0]);
    n->shape = sy_shape_of(1, 1);
    n->is_loss = 1;
    return SY_OK;
}

sy_var sy_mse(sy_graph *g, sy_var pred, sy_var target, sy_reduce r)
{
    return pair_loss(g, SY_OP_MSE, pred, target, r, 0);
}
sy_status sy_shape_mse(sy_graph *g, sy_node *n) { return shape_pair(g, n); }

void sy_ref_fwd_mse(sy_exec *ex, sy_node *n)
{
    const float *p = IN(0)->val, *t = IN(1)->val;
    double s = 0;
    for (size_t i = 0; i < IN(0)->numel; i++) s += (double)(p[i] - t[i]) * (p[i] - t[i]);
    n->val[0] = (float)(s * sy_reduce_scale(n->iattr[0], IN(0)->shape));
}

void sy_ref_bwd_mse(sy_exec *ex, sy_node *n)
{
    const float *p = IN(0)->val, *t = IN(1)->val;
    float *dp = IN(0)->grad, *dt = IN(1)->grad;
    float s = 2.0f * n->grad[0] * sy_reduce_scale(n->iattr[0], IN(0)->shape);
    for (size_t i = 0; i < IN(0)->numel; i++) {
        float d = s * (p[i] - t[i]);
        if (dp) dp[i] += d;
        if (dt) dt[i] -= d;
    }
}

sy_var sy_bce_logits(sy_graph *g, sy_var logits, sy_var target, sy_reduce r)
{
    return pair_loss(g, SY_OP_BCE_LOGITS, logits, target, r, 0);
}
sy_status sy_shape_bce_logits(sy_graph *g, sy_node *n) { return shape_pair(g, n); }

void sy_ref_fwd_bce_logits(sy_exec *ex, sy_node *n)
{
    const float *x = IN(0)->val, *t = IN(1)->val;
    double s = 0;
    for (size_t i = 0; i < IN(0)->numel; i++)
        s += (x[i] > 0 ? x[i] : 0) - x[i] * t[i] + log1pf(expf(-fabsf(x[i])));
    n->val[0] = (float)(s * sy_reduce_scale(n->iattr[0], IN(0)->shape));
}

void sy_ref_bwd_bce_logits(sy_exec *ex, sy_node *n)
{
    const float *x = IN(0)->val, *t = IN(1)->val;
    float *dx = IN(0)->grad, *dt = IN(1)->grad;
    float s = n->grad[0] * sy_reduce_scale(n->iattr[0], IN(0)->shape);
    for (size_t i = 0; i < IN(0)->numel; i++) {
        if (dx) dx[i] += s * (1.0f / (1.0f + expf(-x[i])) - t[i]);
        if (dt) dt[i] -= s * x[i];
    }
}

sy_var sy_kl_gauss(sy_graph *g, sy_var mu, sy_var logvar, float s2, sy_reduce r)
{
    if (!(s2 > 0)) {
        if (!g) return -1;
        return sy_graph_error(g, SY_ERR_ARG, "kl_gauss: prior variance must be > 0, got %g", s2);
    }
    return pair_loss(g, SY_OP_KL_GAUSS, mu, logvar, r, s2);
}
sy_status sy_shape_kl_gauss(sy_graph *g, sy_node *n) { return shape_pair(g, n); }

void sy_ref_fwd_kl_gauss(sy_exec *ex, sy_node *n)
{
    const float *mu = IN(0)->val, *lv = IN(1)->val;
    double s2 = n->fattr[0], ls2 = log(s2), s = 0;
    for (size_t i = 0; i < IN(0)->numel; i++)
        s += 0.5 * ((exp(lv[i]) + (double)mu[i] * mu[i]) / s2 - 1.0 - lv[i] + ls2);
    n->val[0] = (float)(s * sy_reduce_scale(n->iattr[0], IN(0)->shape));
}

void sy_ref_bwd_kl_gauss(sy_exec *ex, sy_node *n)
{
    const float *mu = IN(0)->val, *lv = IN(1)->val;
    float *dmu = IN(0)->grad, *dlv = IN(1)->grad, s2 = n->fattr[0];
    float s = n->grad[0] * sy_reduce_scale(n->iattr[0], IN(0)->shape);
    for (size_t i = 0; i < IN(0)->numel; i++) {
        if (dmu) dmu[i] += s * mu[i] / s2;
        if (dlv) dlv[i] += s * 0.5f * (expf(lv[i]) / s2 - 1.0f);
    }
}
