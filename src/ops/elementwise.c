/* Elementwise ops: add/sub/mul with b broadcast to a's shape, scale, and the
 * unary functions. Backward kernels use whichever of x or y is cheaper. */
#include "ops/ops_common.h"

/* ---- Binary with broadcasting -------------------------------------------- */

static sy_var binary(sy_graph *g, sy_op op, sy_var a, sy_var b)
{
    int in[2] = {a, b};
    return SY_BUILD(g, op, in, NULL, NULL);
}
sy_var sy_add(sy_graph *g, sy_var a, sy_var b) { return binary(g, SY_OP_ADD, a, b); }
sy_var sy_sub(sy_graph *g, sy_var a, sy_var b) { return binary(g, SY_OP_SUB, a, b); }
sy_var sy_mul(sy_graph *g, sy_var a, sy_var b) { return binary(g, SY_OP_MUL, a, b); }

static sy_status shape_broadcast(sy_graph *g, sy_node *n)
{
    sy_shape a = GIN(0)->shape, b = GIN(1)->shape;
    char s1[64], s2[64];
    int ok = b.ndim <= a.ndim;
    for (int i = 0; ok && i < b.ndim; i++) {
        int da = a.dim[a.ndim - b.ndim + i], db = b.dim[i];
        ok = (db == da || db == 1);
    }
    if (!ok)
        return sy_fail(SY_ERR_SHAPE, "b %s does not broadcast to a %s (each dim of b must equal a's or be 1)",
                       sy_shape_str(b, s2), sy_shape_str(a, s1));
    n->shape = a;
    return SY_OK;
}
sy_status sy_shape_add(sy_graph *g, sy_node *n) { return shape_broadcast(g, n); }
sy_status sy_shape_sub(sy_graph *g, sy_node *n) { return shape_broadcast(g, n); }
sy_status sy_shape_mul(sy_graph *g, sy_node *n) { return shape_broadcast(g, n); }

/* a's shape padded to 4-D, and b's strides on it (0 where b broadcasts). */
typedef struct {
    int d[4];
    size_t bs[4];
    int same;
} bcast;

static bcast bcast_of(sy_shape a, sy_shape b)
{
    bcast r;
    int pad = 4 - a.ndim;
    for (int i = 0; i < 4; i++) r.d[i] = i < pad ? 1 : a.dim[i - pad];
    int bd[4];
    int bpad = 4 - b.ndim;
    for (int i = 0; i < 4; i++) bd[i] = i < bpad ? 1 : b.dim[i - bpad];
    size_t stride = 1;
    for (int i = 3; i >= 0; i--) {
        r.bs[i] = bd[i] == 1 ? 0 : stride;
        stride *= (size_t)bd[i];
    }
    r.same = sy_shape_numel(a) == sy_shape_numel(b);
    return r;
}

/* Visit every element: i = index in a and y, j = index in b. */
#define FOR_BCAST(bc, BODY)                                                                \
    do {                                                                                   \
        size_t i = 0;                                                                      \
        for (int i0 = 0; i0 < (bc).d[0]; i0++)                                             \
            for (int i1 = 0; i1 < (bc).d[1]; i1++)                                         \
                for (int i2 = 0; i2 < (bc).d[2]; i2++)                                     \
                    for (int i3 = 0; i3 < (bc).d[3]; i3++, i++) {                          \
                        size_t j = i0 * (bc).bs[0] + i1 * (bc).bs[1] + i2 * (bc).bs[2] +   \
                                   i3 * (bc).bs[3];                                        \
                        BODY;                                                              \
                    }                                                                      \
    } while (0)

void sy_ref_fwd_add(sy_exec *ex, sy_node *n)
{
    bcast bc = bcast_of(n->shape, IN(1)->shape);
    const float *a = IN(0)->val, *b = IN(1)->val;
    FOR_BCAST(bc, n->val[i] = a[i] + b[j]);
}
void sy_ref_fwd_sub(sy_exec *ex, sy_node *n)
{
    bcast bc = bcast_of(n->shape, IN(1)->shape);
    const float *a = IN(0)->val, *b = IN(1)->val;
    FOR_BCAST(bc, n->val[i] = a[i] - b[j]);
}
void sy_ref_fwd_mul(sy_exec *ex, sy_node *n)
{
    bcast bc = bcast_of(n->shape, IN(1)->shape);
    const float *a = IN(0)->val, *b = IN(1)->val;
    FOR_BCAST(bc, n->val[i] = a[i] * b[j]);
}

static void bwd_addsub(sy_exec *ex, sy_node *n, float sign)
{
    bcast bc = bcast_of(n->shape, IN(1)->shape);
    float *da = IN(0)->grad, *db = IN(1)->grad;
    const float *dy = n->grad;
    if (da)
        for (size_t i = 0; i < n->numel; i++) da[i] += dy[i];
    if (db) FOR_BCAST(bc, db[j] += sign * dy[i]);
}
void sy_ref_bwd_add(sy_exec *ex, sy_node *n) { bwd_addsub(ex, n, 1.0f); }
void sy_ref_bwd_sub(sy_exec *ex, sy_node *n) { bwd_addsub(ex, n, -1.0f); }

void sy_ref_bwd_mul(sy_exec *ex, sy_node *n)
{
    bcast bc = bcast_of(n->shape, IN(1)->shape);
    const float *a = IN(0)->val, *b = IN(1)->val, *dy = n->grad;
    float *da = IN(0)->grad, *db = IN(1)->grad;
    if (da) FOR_BCAST(bc, da[i] += dy[i] * b[j]);
    if (db) FOR_BCAST(bc, db[j] += dy[i] * a[i]);
}

/* ---- Unary ------------------------------------------------------------------ */

static sy_var unary(sy_graph *g, sy_op op, sy_var x, float c)
{
    int in[1] = {x};
    float fa[SY_MAX_FATTR] = {c};
    return SY_BUILD(g, op, in, NULL, fa);
}

static sy_status shape_same(sy_graph *g, sy_node *n)
{
    n->shape = GIN(0)->shape;
    return SY_OK;
}

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }

/* One unary op: builder, shape rule, and reference kernels from two
 * expressions: FWD in x, BWD (dy/dx times dy) in x, y, dy. */
#define SY_UNARY(name, OP, FWD, BWD)                                      \
    sy_status sy_shape_##name(sy_graph *g, sy_node *n) { return shape_same(g, n); } \
    void sy_ref_fwd_##name(sy_exec *ex, sy_node *n)                        \
    {                                                                     \
        const float *xs = IN(0)->val;                                     \
        const float c = n->fattr[0];                                      \
        (void)c;                                                          \
        for (size_t i = 0; i < n->numel; i++) {                           \
            float x = xs[i];                                              \
            n->val[i] = (FWD);                                            \
        }                                                                 \
    }                                                                     \
    void sy_ref_bwd_##name(sy_exec *ex, sy_node *n)                        \
    {                                                                     \
        const float *xs = IN(0)->val, *ys = n->val, *dys = n->grad;       \
        float *dx = IN(0)->grad;                                          \
        const float c = n->fattr[0];                                      \
        (void)c;                                                          \
        for (size_t i = 0; i < n->numel; i++) {                           \
            float x = xs[i], y = ys[i], dy = dys[i];                      \
            (void)x; (void)y;                                             \
            dx[i] += (BWD);                                               \
        }                                                                 \
    }

SY_UNARY(scale, SY_OP_SCALE, c * x, c * dy)
SY_UNARY(relu, SY_OP_RELU, x > 0.0f ? x : 0.0f, x > 0.0f ? dy : 0.0f)
SY_UNARY(tanh, SY_OP_TANH, tanhf(x), dy * (1.0f - y * y))
SY_UNARY(sigmoid, SY_OP_SIGMOID, sigmoidf(x), dy * y * (1.0f - y))
SY_UNARY(silu, SY_OP_SILU, x * sigmoidf(x),
         dy * (sigmoidf(x) * (1.0f + x * (1.0f - sigmoidf(x)))))
SY_UNARY(exp, SY_OP_EXP, expf(x), dy * y)
SY_UNARY(log, SY_OP_LOG, logf(x), dy / x)
SY_UNARY(square, SY_OP_SQUARE, x * x, 2.0f * x * dy)

sy_var sy_scale(sy_graph *g, sy_var x, float c) { return unary(g, SY_OP_SCALE, x, c); }
sy_var sy_relu(sy_graph *g, sy_var x) { return unary(g, SY_OP_RELU, x, 0); }
sy_var sy_tanh(sy_graph *g, sy_var x) { return unary(g, SY_OP_TANH, x, 0); }
sy_var sy_sigmoid(sy_graph *g, sy_var x) { return unary(g, SY_OP_SIGMOID, x, 0); }
sy_var sy_silu(sy_graph *g, sy_var x) { return unary(g, SY_OP_SILU, x, 0); }
sy_var sy_exp(sy_graph *g, sy_var x) { return unary(g, SY_OP_EXP, x, 0); }
sy_var sy_log(sy_graph *g, sy_var x) { return unary(g, SY_OP_LOG, x, 0); }
sy_var sy_square(sy_graph *g, sy_var x) { return unary(g, SY_OP_SQUARE, x, 0); }
