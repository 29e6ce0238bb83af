/* Matrix product (either operand transposed) and bias add: the linear layer's
 * ops. Reference kernels are plain loops; the CPU backend uses cblas_sgemm. */
#include "ops/ops_common.h"

sy_var sy_matmul(sy_graph *g, sy_var a, sy_var b, int trans_a, int trans_b)
{
    int in[2] = {a, b}, ia[SY_MAX_IATTR] = {trans_a != 0, trans_b != 0};
    return SY_BUILD(g, SY_OP_MATMUL, in, ia, NULL);
}

/* Dimensions of op(a) [M,K] and op(b) [K,N]. */
static void mm_dims(sy_shape a, sy_shape b, const sy_node *n, int *M, int *K, int *N)
{
    *M = n->iattr[0] ? a.dim[1] : a.dim[0];
    *K = n->iattr[0] ? a.dim[0] : a.dim[1];
    *N = n->iattr[1] ? b.dim[0] : b.dim[1];
}

sy_status sy_shape_matmul(sy_graph *g, sy_node *n)
{
    sy_shape a = GIN(0)->shape, b = GIN(1)->shape;
    char s1[64], s2[64];
    if (a.ndim != 2 || b.ndim != 2)
        return sy_fail(SY_ERR_SHAPE, "operands must be 2-D, got %s and %s", sy_shape_str(a, s1),
                       sy_shape_str(b, s2));
    int M, K, N, Kb = n->iattr[1] ? b.dim[1] : b.dim[0];
    mm_dims(a, b, n, &M, &K, &N);
    if (K != Kb)
        return sy_fail(SY_ERR_SHAPE, "inner dimensions differ: op(a) is %dx%d, op(b) is %dx%d "
                       "(a %s%s, b %s%s)", M, K, Kb, N, sy_shape_str(a, s1), n->iattr[0] ? "^T" : "",
                       sy_shape_str(b, s2), n->iattr[1] ? "^T" : "");
    n->shape = sy_shape_of(2, M, N);
    return SY_OK;
}

void sy_ref_fwd_matmul(sy_exec *ex, sy_node *n)
{
    int M, K, N, ta = n->iattr[0], tb = n->iattr[1];
    mm_dims(IN(0)->shape, IN(1)->shape, n, &M, &K, &N);
    const float *a = IN(0)->val, *b = IN(1)->val;
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(ta ? a[(size_t)k * M + i] : a[(size_t)i * K + k]) *
                     (tb ? b[(size_t)j * K + k] : b[(size_t)k * N + j]);
            n->val[(size_t)i * N + j] = (float)s;
        }
}

void sy_ref_bwd_matmul(sy_exec *ex, sy_node *n)
{
    int M, K, N, ta = n->iattr[0], tb = n->iattr[1];
    mm_dims(IN(0)->shape, IN(1)->shape, n, &M, &K, &N);
    const float *a = IN(0)->val, *b = IN(1)->val, *dc = n->grad;
    float *da = IN(0)->grad, *db = IN(1)->grad;
    if (da)
        for (int i = 0; i < M; i++)
            for (int k = 0; k < K; k++) {
                double s = 0;
                for (int j = 0; j < N; j++)
                    s += (double)dc[(size_t)i * N + j] * (tb ? b[(size_t)j * K + k] : b[(size_t)k * N + j]);
                da[ta ? (size_t)k * M + i : (size_t)i * K + k] += (float)s;
            }
    if (db)
        for (int k = 0; k < K; k++)
            for (int j = 0; j < N; j++) {
                double s = 0;
                for (int i = 0; i < M; i++)
                    s += (double)(ta ? a[(size_t)k * M + i] : a[(size_t)i * K + k]) * dc[(size_t)i * N + j];
                db[tb ? (size_t)j * K + k : (size_t)k * N + j] += (float)s;
            }
}

sy_var sy_bias_add(sy_graph *g, sy_var x, sy_var b)
{
    int in[2] = {x, b};
    return SY_BUILD(g, SY_OP_BIAS_ADD, in, NULL, NULL);
}

sy_status sy_shape_bias_add(sy_graph *g, sy_node *n)
{
    sy_shape x = GIN(0)->shape, b = GIN(1)->shape;
    char s1[64], s2[64];
    if (x.ndim < 2 || sy_shape_numel(b) != (size_t)x.dim[1] || b.ndim != 1)
        return sy_fail(SY_ERR_SHAPE, "bias %s must be 1-D with one value per channel of x %s (axis 1)",
                       sy_shape_str(b, s2), sy_shape_str(x, s1));
    n->shape = x;
    return SY_OK;
}

void sy_ref_fwd_bias_add(sy_exec *ex, sy_node *n)
{
    sy_shape s = n->shape;
    size_t C = s.dim[1], inner = sy_inner_size(s, 1), outer = s.dim[0];
    const float *x = IN(0)->val, *b = IN(1)->val;
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < C; c++)
            for (size_t k = 0; k < inner; k++) {
                size_t i = (o * C + c) * inner + k;
                n->val[i] = x[i] + b[c];
            }
}

void sy_ref_bwd_bias_add(sy_exec *ex, sy_node *n)
{
    sy_shape s = n->shape;
    size_t C = s.dim[1], inner = sy_inner_size(s, 1), outer = s.dim[0];
    float *dx = IN(0)->grad, *db = IN(1)->grad;
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < C; c++)
            for (size_t k = 0; k < inner; k++) {
                size_t i = (o * C + c) * inner + k;
                if (dx) dx[i] += n->grad[i];
                if (db) db[c] += n->grad[i];
            }
}
