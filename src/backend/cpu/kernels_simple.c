/* Fast CPU versions of cheap ops that still showed in profiles of the CNN:
 * bias add (forward and its reduction backward) and 2x2 max pooling. Written
 * so that inner loops are contiguous and branch-free for the vectoriser. */
#include "backend/cpu/cpu_kernels.h"

static void fwd_bias_add(sy_graph *g, sy_node *n)
{
    size_t C = n->shape.dim[1], inner = sy_inner_size(n->shape, 1), outer = n->shape.dim[0];
    const float *x = IN(0)->val, *b = IN(1)->val;
    if (inner == 1) { /* [N, C]: add the bias row to every row */
        for (size_t o = 0; o < outer; o++) {
            const float *xr = x + o * C;
            float *yr = n->val + o * C;
            for (size_t c = 0; c < C; c++) yr[c] = xr[c] + b[c];
        }
        return;
    }
    for (size_t o = 0; o < outer; o++)
        for (size_t c = 0; c < C; c++) {
            const float *xr = x + (o * C + c) * inner;
            float *yr = n->val + (o * C + c) * inner, bc = b[c];
            for (size_t k = 0; k < inner; k++) yr[k] = xr[k] + bc;
        }
}

/* a + b for b of a's size (the VAE's reparameterisation mu + s eps): one
 * flat loop instead of the reference's broadcast indexing; the same sums. */
static void fwd_add(sy_graph *g, sy_node *n)
{
    if (IN(1)->numel != n->numel) {
        sy_ref_fwd_add(g, n);
        return;
    }
    const float *a = IN(0)->val, *b = IN(1)->val;
    float *y = n->val;
    for (size_t i = 0; i < n->numel; i++) y[i] = a[i] + b[i];
}

/* dx = dy (copied, or added), db = sums of dy over everything but the channel axis. */
static void bwd_bias_add(sy_graph *g, sy_node *n)
{
    size_t C = n->shape.dim[1], inner = sy_inner_size(n->shape, 1), outer = n->shape.dim[0];
    const float *dy = n->grad;
    float *dx = IN(0)->grad, *db = IN(1)->grad;
    if (dx && db && inner == 1) { /* [N, C], both wanted: one pass over dy (same sums) */
        int set = n->overwrite & 1;
        if (n->overwrite & 2) memset(db, 0, C * sizeof(float));
        for (size_t o = 0; o < outer; o++) {
            const float *dr = dy + o * C;
            float *xr = dx + o * C;
            if (set)
                for (size_t c = 0; c < C; c++) xr[c] = dr[c], db[c] += dr[c];
            else
                for (size_t c = 0; c < C; c++) xr[c] += dr[c], db[c] += dr[c];
        }
        return;
    }
    if (dx) {
        if (n->overwrite & 1)
            memcpy(dx, dy, n->numel * sizeof(float));
        else
            for (size_t i = 0; i < n->numel; i++) dx[i] += dy[i];
    }
    if (!db) return;
    if (n->overwrite & 2) memset(db, 0, C * sizeof(float));
    if (inner == 1) { /* [N, C]: column sums, row by row */
        for (size_t o = 0; o < outer; o++)
            for (size_t c = 0; c < C; c++) db[c] += dy[o * C + c];
        return;
    }
    /* Per-channel sums over N*H*W in 16 independent partial sums, which the
     * vectoriser may keep in one register (a single running float may not be
     * reordered without -ffast-math). */
    for (size_t c = 0; c < C; c++) {
        float part[16] = {0};
        for (size_t o = 0; o < outer; o++) {
            const float *r = dy + (o * C + c) * inner;
            size_t k = 0;
            for (; k + 16 <= inner; k += 16)
                for (int l = 0; l < 16; l++) part[l] += r[k + l];
            for (; k < inner; k++) part[k % 16] += r[k];
        }
        float s = 0.0f;
        for (int l = 0; l < 16; l++) s += part[l];
        db[c] += s;
    }
}

static void fwd_relu(sy_graph *g, sy_node *n)
{
    const float *x = IN(0)->val;
    float *y = n->val;
    for (size_t i = 0; i < n->numel; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

/* From the output: y > 0 exactly where x > 0. */
static void bwd_relu(sy_graph *g, sy_node *n)
{
    const float *y = n->val, *dy = n->grad;
    float *dx = IN(0)->grad;
    if (n->overwrite & 1)
        for (size_t i = 0; i < n->numel; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    else
        for (size_t i = 0; i < n->numel; i++) dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
}

/* 2x2 windows with stride 2 (the paper's CNN); other sizes use the reference.
 * Selects instead of if-chains: on real activations the winner of a window
 * is unpredictable, and mispredicted branches made this loop cost 10% of a
 * CNN step. Ties keep the first maximum in row-major order, as the
 * reference. (Recomputing the winner in backward instead of storing it only
 * moves the branches there: measured, no gain.) */
typedef float v8f __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));

static inline v8f ld8(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}

/* m = max(m, v) with the winner's index, keeping the first maximum on ties. */
#define TAKE_IF_GREATER(m, best, v, idx)                 \
    do {                                                 \
        v8i gt = (v) > (m);                              \
        best = (best & ~gt) | ((idx) & gt);              \
        m = (v8f)(((v8i)(m) & ~gt) | ((v8i)(v) & gt));   \
    } while (0)

static void fwd_maxpool2d(sy_graph *g, sy_node *n)
{
    if (n->iattr[0] != 2 || n->iattr[1] != 2) {
        sy_ref_fwd_maxpool2d(g, n);
        return;
    }
    sy_shape x = IN(0)->shape;
    int NC = x.dim[0] * x.dim[1], H = x.dim[2], W = x.dim[3], HO = n->shape.dim[2], WO = n->shape.dim[3];
    int32_t *arg = (int32_t *)n->scratch;
    const v8i lane2 = {0, 2, 4, 6, 8, 10, 12, 14};
    for (int p = 0; p < NC; p++) {
        const float *src = IN(0)->val + (size_t)p * H * W;
        float *y = n->val + (size_t)p * HO * WO;
        int32_t *a = arg + (size_t)p * HO * WO;
        for (int oh = 0; oh < HO; oh++) {
            const float *r0 = src + (2 * oh) * W, *r1 = r0 + W;
            int base = (2 * oh) * W, ow = 0;
            /* 8 windows at a time (the last block overlaps the previous one
             * when WO is not a multiple of 8: same values written twice) */
            for (int blk = 0; WO >= 8 && blk < WO; blk += 8) {
                ow = blk + 8 <= WO ? blk : WO - 8;
                v8f a0 = ld8(r0 + 2 * ow), a1 = ld8(r0 + 2 * ow + 8);
                v8f b0 = ld8(r1 + 2 * ow), b1 = ld8(r1 + 2 * ow + 8);
                v8f e0 = __builtin_shufflevector(a0, a1, 0, 2, 4, 6, 8, 10, 12, 14);
                v8f o0 = __builtin_shufflevector(a0, a1, 1, 3, 5, 7, 9, 11, 13, 15);
                v8f e1 = __builtin_shufflevector(b0, b1, 0, 2, 4, 6, 8, 10, 12, 14);
                v8f o1 = __builtin_shufflevector(b0, b1, 1, 3, 5, 7, 9, 11, 13, 15);
                v8i i0 = lane2 + (base + 2 * ow);
                v8f m = e0;
                v8i best = i0;
                TAKE_IF_GREATER(m, best, o0, i0 + 1);
                TAKE_IF_GREATER(m, best, e1, i0 + W);
                TAKE_IF_GREATER(m, best, o1, i0 + W + 1);
                memcpy(y + oh * WO + ow, &m, sizeof m);
                memcpy(a + oh * WO + ow, &best, sizeof best);
            }
            for (ow = WO >= 8 ? WO : 0; ow < WO; ow++) {
                float v1 = r0[2 * ow + 1], v2 = r1[2 * ow], v3 = r1[2 * ow + 1], m = r0[2 * ow];
                int i0 = base + 2 * ow, best = i0;
                best = v1 > m ? i0 + 1 : best;
                m = v1 > m ? v1 : m;
                best = v2 > m ? i0 + W : best;
                m = v2 > m ? v2 : m;
                best = v3 > m ? i0 + W + 1 : best;
                m = v3 > m ? v3 : m;
                y[oh * WO + ow] = m;
                a[oh * WO + ow] = best;
            }
        }
    }
}

/* Scatter each output gradient to its window's winner, plane by plane. */
static void bwd_maxpool2d(sy_graph *g, sy_node *n)
{
    if (n->iattr[0] != 2 || n->iattr[1] != 2) {
        sy_ref_bwd_maxpool2d(g, n);
        return;
    }
    sy_shape x = IN(0)->shape;
    size_t planes = (size_t)x.dim[0] * x.dim[1], plane = (size_t)x.dim[2] * x.dim[3];
    size_t oplane = (size_t)n->shape.dim[2] * n->shape.dim[3];
    const int32_t *arg = (const int32_t *)n->scratch;
    for (size_t p = 0; p < planes; p++) {
        float *d = IN(0)->grad + p * plane;
        const float *dy = n->grad + p * oplane;
        const int32_t *a = arg + p * oplane;
        for (size_t i = 0; i < oplane; i++) d[a[i]] += dy[i];
    }
}

void sy_cpu_register_simple(sy_backend *be)
{
    be->can_overwrite[SY_OP_BIAS_ADD] = 3;
    be->can_overwrite[SY_OP_RELU] = 1;
    be->forward[SY_OP_RELU] = fwd_relu;
    be->backward[SY_OP_RELU] = bwd_relu;
    be->forward[SY_OP_BIAS_ADD] = fwd_bias_add;
    be->forward[SY_OP_ADD] = fwd_add;
    be->backward[SY_OP_BIAS_ADD] = bwd_bias_add;
    be->forward[SY_OP_MAXPOOL2D] = fwd_maxpool2d;
    be->backward[SY_OP_MAXPOOL2D] = bwd_maxpool2d;
}
