/* Convolution and pooling on [N,C,H,W]. Reference kernels are direct loops;
 * the CPU backend's conv is im2col + sgemm (backend/cpu). */
#include "ops/ops_common.h"

sy_var sy_conv2d(sy_graph *g, sy_var x, sy_var w, int stride, int pad)
{
    int in[2] = {x, w}, ia[SY_MAX_IATTR] = {stride, pad};
    return SY_BUILD(g, SY_OP_CONV2D, in, ia, NULL);
}

sy_status sy_shape_conv2d(sy_graph *g, sy_node *n)
{
    sy_shape x = GIN(0)->shape, w = GIN(1)->shape;
    int s = n->iattr[0], p = n->iattr[1];
    char s1[64], s2[64];
    if (x.ndim != 4 || w.ndim != 4 || x.dim[1] != w.dim[1])
        return sy_fail(SY_ERR_SHAPE, "need x [N,C,H,W] and w [O,C,KH,KW] with the same C; got %s and %s",
                       sy_shape_str(x, s1), sy_shape_str(w, s2));
    if (s < 1 || p < 0) return sy_fail(SY_ERR_ARG, "stride %d must be >= 1 and padding %d >= 0", s, p);
    int ho = (x.dim[2] + 2 * p - w.dim[2]) / s + 1, wo = (x.dim[3] + 2 * p - w.dim[3]) / s + 1;
    if (x.dim[2] + 2 * p < w.dim[2] || x.dim[3] + 2 * p < w.dim[3])
        return sy_fail(SY_ERR_SHAPE, "kernel %dx%d larger than padded input %dx%d", w.dim[2], w.dim[3],
                       x.dim[2] + 2 * p, x.dim[3] + 2 * p);
    n->shape = sy_shape_of(4, x.dim[0], w.dim[0], ho, wo);
    n->scratch_n = 0; /* the reference kernel needs none; a backend asks for its own (node_scratch) */
    return SY_OK;
}

/* Visit every (n, o, oh, ow, c, kh, kw) with an in-bounds input pixel. */
#define CONV_LOOP(BODY)                                                                      \
    for (int b = 0; b < N; b++)                                                              \
        for (int o = 0; o < O; o++)                                                          \
            for (int oh = 0; oh < HO; oh++)                                                  \
                for (int ow = 0; ow < WO; ow++)                                              \
                    for (int c = 0; c < C; c++)                                              \
                        for (int kh = 0; kh < KH; kh++)                                      \
                            for (int kw = 0; kw < KW; kw++) {                                \
                                int ih = oh * S - P + kh, iw = ow * S - P + kw;              \
                                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;        \
                                size_t xi = (((size_t)b * C + c) * H + ih) * W + iw;         \
                                size_t wi = (((size_t)o * C + c) * KH + kh) * KW + kw;       \
                                size_t yi = (((size_t)b * O + o) * HO + oh) * WO + ow;       \
                                BODY;                                                        \
                            }

#define CONV_DIMS                                                                   \
    sy_shape xs = IN(0)->shape, ws = IN(1)->shape;                                  \
    int N = xs.dim[0], C = xs.dim[1], H = xs.dim[2], W = xs.dim[3];                 \
    int O = ws.dim[0], KH = ws.dim[2], KW = ws.dim[3];                              \
    int HO = n->shape.dim[2], WO = n->shape.dim[3], S = n->iattr[0], P = n->iattr[1]; \
    (void)N; (void)C; (void)H; (void)W; (void)O; (void)KH; (void)KW; (void)HO; (void)WO; (void)S; (void)P;

void sy_ref_fwd_conv2d(sy_exec *ex, sy_node *n)
{
    CONV_DIMS
    const float *x = IN(0)->val, *w = IN(1)->val;
    memset(n->val, 0, n->numel * sizeof(float));
    CONV_LOOP(n->val[yi] += x[xi] * w[wi])
}

void sy_ref_bwd_conv2d(sy_exec *ex, sy_node *n)
{
    CONV_DIMS
    const float *x = IN(0)->val, *w = IN(1)->val, *dy = n->grad;
    float *dx = IN(0)->grad, *dw = IN(1)->grad;
    if (dx) CONV_LOOP(dx[xi] += dy[yi] * w[wi])
    if (dw) CONV_LOOP(dw[wi] += dy[yi] * x[xi])
}

sy_var sy_maxpool2d(sy_graph *g, sy_var x, int k, int stride)
{
    int in[1] = {x}, ia[SY_MAX_IATTR] = {k, stride};
    return SY_BUILD(g, SY_OP_MAXPOOL2D, in, ia, NULL);
}

sy_status sy_shape_maxpool2d(sy_graph *g, sy_node *n)
{
    sy_shape x = GIN(0)->shape;
    int k = n->iattr[0], s = n->iattr[1];
    char b[64];
    if (x.ndim != 4) return sy_fail(SY_ERR_SHAPE, "input must be [N,C,H,W], got %s", sy_shape_str(x, b));
    if (k < 1 || s < 1 || k > x.dim[2] || k > x.dim[3])
        return sy_fail(SY_ERR_ARG, "window %d / stride %d invalid for input %s", k, s, sy_shape_str(x, b));
    n->shape = sy_shape_of(4, x.dim[0], x.dim[1], (x.dim[2] - k) / s + 1, (x.dim[3] - k) / s + 1);
    n->scratch_n = sy_shape_numel(n->shape); /* argmax index of each output (as int32) */
    return SY_OK;
}

void sy_ref_fwd_maxpool2d(sy_exec *ex, sy_node *n)
{
    sy_shape x = IN(0)->shape;
    int NC = x.dim[0] * x.dim[1], H = x.dim[2], W = x.dim[3], k = n->iattr[0], s = n->iattr[1];
    int HO = n->shape.dim[2], WO = n->shape.dim[3];
    int32_t *arg = (int32_t *)n->scratch;
    for (int p = 0; p < NC; p++)
        for (int oh = 0; oh < HO; oh++)
            for (int ow = 0; ow < WO; ow++) {
                const float *src = IN(0)->val + (size_t)p * H * W;
                int best = (oh * s) * W + ow * s;
                for (int i = 0; i < k; i++)
                    for (int j = 0; j < k; j++) {
                        int idx = (oh * s + i) * W + ow * s + j;
                        if (src[idx] > src[best]) best = idx;
                    }
                size_t yi = ((size_t)p * HO + oh) * WO + ow;
                n->val[yi] = src[best];
                arg[yi] = best;
            }
}

void sy_ref_bwd_maxpool2d(sy_exec *ex, sy_node *n)
{
    sy_shape x = IN(0)->shape;
    size_t plane = (size_t)x.dim[2] * x.dim[3], oplane = (size_t)n->shape.dim[2] * n->shape.dim[3];
    const int32_t *arg = (const int32_t *)n->scratch;
    for (size_t i = 0; i < n->numel; i++) IN(0)->grad[(i / oplane) * plane + arg[i]] += n->grad[i];
}

sy_var sy_global_avgpool(sy_graph *g, sy_var x)
{
    int in[1] = {x};
    return SY_BUILD(g, SY_OP_GLOBAL_AVGPOOL, in, NULL, NULL);
}

sy_status sy_shape_global_avgpool(sy_graph *g, sy_node *n)
{
    sy_shape x = GIN(0)->shape;
    char b[64];
    if (x.ndim != 4) return sy_fail(SY_ERR_SHAPE, "input must be [N,C,H,W], got %s", sy_shape_str(x, b));
    n->shape = sy_shape_of(2, x.dim[0], x.dim[1]);
    return SY_OK;
}

void sy_ref_fwd_global_avgpool(sy_exec *ex, sy_node *n)
{
    size_t plane = sy_inner_size(IN(0)->shape, 1);
    for (size_t p = 0; p < n->numel; p++) {
        double s = 0;
        for (size_t i = 0; i < plane; i++) s += IN(0)->val[p * plane + i];
        n->val[p] = (float)(s / plane);
    }
}

void sy_ref_bwd_global_avgpool(sy_exec *ex, sy_node *n)
{
    size_t plane = sy_inner_size(IN(0)->shape, 1);
    for (size_t p = 0; p < n->numel; p++)
        for (size_t i = 0; i < plane; i++) IN(0)->grad[p * plane + i] += n->grad[p] / plane;
}
