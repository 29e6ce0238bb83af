/* Fast CPU versions of cheap ops that still showed in profiles of the CNN:
 * bias add (forward and its reduction backward) and 2x2 max pooling. Written
 * so that inner loops are contiguous and branch-free for the vectoriser.
 * Large tensors (the CNN's conv activations) are split over OpenMP threads by
 * element, plane or channel; each output element is still computed by one
 * thread in the same order, so results do not depend on the thread count.
 * Small ones (an MLP's [64, 300]) stay on the calling thread. */
#include "backend/cpu/cpu_kernels.h"

#include <omp.h>

/* Elements below which a memory-bound pass is not worth waking threads. */
#define PAR_MIN_ELEMS 32768

static void fwd_bias_add(sy_exec *ex, sy_node *n)
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
#pragma omp parallel for schedule(static) if (n->numel >= PAR_MIN_ELEMS)
    for (size_t oc = 0; oc < outer * C; oc++) {
        const float *xr = x + oc * inner;
        float *yr = n->val + oc * inner, bc = b[oc % C];
        for (size_t k = 0; k < inner; k++) yr[k] = xr[k] + bc;
    }
}

/* Channel c's part of the backward: dx (+)= dy over its N rows of `inner`
 * values, and db[c] += their sum in 16 independent partial sums, which the
 * vectoriser may keep in one register (a single running float may not be
 * reordered without -ffast-math). One pass over dy does both. */
static void bias_bwd_channel(const float *restrict dy, float *restrict dx, float *restrict db, size_t outer,
                             size_t C, size_t inner, size_t c, int over)
{
    float part[16] = {0};
    for (size_t o = 0; o < outer; o++) {
        const float *r = dy + (o * C + c) * inner;
        if (dx) {
            float *d = dx + (o * C + c) * inner;
            if (over)
                memcpy(d, r, inner * sizeof(float));
            else
                for (size_t k = 0; k < inner; k++) d[k] += r[k];
        }
        if (!db) continue;
        size_t k = 0;
        for (; k + 16 <= inner; k += 16)
            for (int l = 0; l < 16; l++) part[l] += r[k + l];
        for (; k < inner; k++) part[k % 16] += r[k];
    }
    if (!db) return;
    float s = 0.0f;
    for (int l = 0; l < 16; l++) s += part[l];
    db[c] += s;
}

/* a + b for b of a's size (the VAE's reparameterisation mu + s eps): one
 * flat loop instead of the reference's broadcast indexing; the same sums. */
static void fwd_add(sy_exec *ex, sy_node *n)
{
    if (IN(1)->numel != n->numel) {
        sy_ref_fwd_add(ex, n);
        return;
    }
    const float *a = IN(0)->val, *b = IN(1)->val;
    float *y = n->val;
    for (size_t i = 0; i < n->numel; i++) y[i] = a[i] + b[i];
}

/* dx = dy (copied, or added), db = sums of dy over everything but the channel axis. */
static void bwd_bias_add(sy_exec *ex, sy_node *n)
{
    size_t C = n->shape.dim[1], inner = sy_inner_size(n->shape, 1), outer = n->shape.dim[0];
    const float *dy = n->grad;
    float *dx = IN(0)->grad, *db = IN(1)->grad;
    int over = n->overwrite & 1;
    if (db && (n->overwrite & 2)) memset(db, 0, C * sizeof(float));
    if (inner == 1 && dx && db && n->numel < PAR_MIN_ELEMS) { /* small [N, C]: one pass over dy (same sums) */
        for (size_t o = 0; o < outer; o++) {
            const float *dr = dy + o * C;
            float *xr = dx + o * C;
            if (over)
                for (size_t c = 0; c < C; c++) xr[c] = dr[c], db[c] += dr[c];
            else
                for (size_t c = 0; c < C; c++) xr[c] += dr[c], db[c] += dr[c];
        }
        return;
    }
    if (inner == 1) { /* [N, C]: a copy, and column sums row by row */
        size_t nb = dx ? (n->numel + 4095) / 4096 : 0; /* 16 KiB pieces */
#pragma omp parallel for schedule(static) if (n->numel >= PAR_MIN_ELEMS)
        for (size_t b = 0; b < nb; b++) {
            size_t i0 = b * 4096, i1 = i0 + 4096 < n->numel ? i0 + 4096 : n->numel;
            if (over)
                memcpy(dx + i0, dy + i0, (i1 - i0) * sizeof(float));
            else
                for (size_t i = i0; i < i1; i++) dx[i] += dy[i];
        }
        if (db)
            for (size_t o = 0; o < outer; o++)
                for (size_t c = 0; c < C; c++) db[c] += dy[o * C + c];
        return;
    }
    /* Conv activations: one region, a channel per task, copying and summing
     * in the same pass (each db[c] summed by one thread in a fixed order). */
#pragma omp parallel for schedule(static) if (n->numel >= PAR_MIN_ELEMS && C > 1)
    for (size_t c = 0; c < C; c++) bias_bwd_channel(dy, dx, db, outer, C, inner, c, over);
}

/* [i0, i1) of this thread's share of n elements (whole 16-float pieces). */
static void share(size_t n, size_t *i0, size_t *i1)
{
    size_t pieces = (n + 15) / 16, t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
    *i0 = pieces * t / nt * 16;
    *i1 = pieces * (t + 1) / nt * 16;
    if (*i1 > n) *i1 = n;
}

static void relu_range(const float *restrict x, float *restrict y, size_t i0, size_t i1)
{
    for (size_t i = i0; i < i1; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

static void fwd_relu(sy_exec *ex, sy_node *n)
{
    const float *x = IN(0)->val;
    float *y = n->val;
    if (n->numel < PAR_MIN_ELEMS) {
        relu_range(x, y, 0, n->numel);
        return;
    }
#pragma omp parallel
    {
        size_t i0, i1;
        share(n->numel, &i0, &i1);
        relu_range(x, y, i0, i1);
    }
}

static void relu_bwd_range(const float *restrict y, const float *restrict dy, float *restrict dx, int over,
                           size_t i0, size_t i1)
{
    if (over)
        for (size_t i = i0; i < i1; i++) dx[i] = y[i] > 0.0f ? dy[i] : 0.0f;
    else
        for (size_t i = i0; i < i1; i++) dx[i] += y[i] > 0.0f ? dy[i] : 0.0f;
}

/* From the output: y > 0 exactly where x > 0. */
static void bwd_relu(sy_exec *ex, sy_node *n)
{
    const float *y = n->val, *dy = n->grad;
    float *dx = IN(0)->grad;
    int over = n->overwrite & 1;
    if (n->numel < PAR_MIN_ELEMS) {
        relu_bwd_range(y, dy, dx, over, 0, n->numel);
        return;
    }
#pragma omp parallel
    {
        size_t i0, i1;
        share(n->numel, &i0, &i1);
        relu_bwd_range(y, dy, dx, over, i0, i1);
    }
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

/* One plane's 2x2 windows: values into y, the winners' indices into a. */
static void pool_plane(const float *src, float *y, int32_t *a, int W, int HO, int WO)
{
    const v8i lane2 = {0, 2, 4, 6, 8, 10, 12, 14};
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

static void fwd_maxpool2d(sy_exec *ex, sy_node *n)
{
    if (n->iattr[0] != 2 || n->iattr[1] != 2) {
        sy_ref_fwd_maxpool2d(ex, n);
        return;
    }
    sy_shape x = IN(0)->shape;
    int NC = x.dim[0] * x.dim[1], H = x.dim[2], W = x.dim[3], HO = n->shape.dim[2], WO = n->shape.dim[3];
    int32_t *arg = (int32_t *)n->scratch;
    const float *xv = IN(0)->val;
    float *yv = n->val;
#pragma omp parallel for schedule(static) if ((size_t)NC * H * W >= PAR_MIN_ELEMS)
    for (int p = 0; p < NC; p++)
        pool_plane(xv + (size_t)p * H * W, yv + (size_t)p * HO * WO, arg + (size_t)p * HO * WO, W, HO, WO);
}

/* Scatter each output gradient to its window's winner, plane by plane. */
static void bwd_maxpool2d(sy_exec *ex, sy_node *n)
{
    if (n->iattr[0] != 2 || n->iattr[1] != 2) {
        if (n->overwrite & 1) memset(IN(0)->grad, 0, IN(0)->numel * sizeof(float)); /* the reference adds */
        sy_ref_bwd_maxpool2d(ex, n);
        return;
    }
    sy_shape x = IN(0)->shape;
    size_t planes = (size_t)x.dim[0] * x.dim[1], plane = (size_t)x.dim[2] * x.dim[3];
    size_t oplane = (size_t)n->shape.dim[2] * n->shape.dim[3];
    const int32_t *arg = (const int32_t *)n->scratch;
    int over = n->overwrite & 1;
    /* Overwriting (the input's gradient was left unzeroed): each plane is
     * zeroed by the thread that scatters into it, while it is in its cache,
     * instead of the whole tensor by the caller's serial memset beforehand. */
#pragma omp parallel for schedule(static) if (planes * plane >= PAR_MIN_ELEMS)
    for (size_t p = 0; p < planes; p++) {
        float *d = IN(0)->grad + p * plane;
        const float *dy = n->grad + p * oplane;
        const int32_t *a = arg + p * oplane;
        if (over) memset(d, 0, plane * sizeof(float));
        for (size_t i = 0; i < oplane; i++) d[a[i]] += dy[i];
    }
}

SY_ISA_DECLARE(void, sy_cpu_register_simple, (sy_backend *be))
void SY_ISA_FN(sy_cpu_register_simple)(sy_backend *be)
{
    SY_ISA_DISPATCH_VOID(sy_cpu_register_simple, (be));
    be->can_overwrite[SY_OP_BIAS_ADD] = 3;
    be->can_overwrite[SY_OP_RELU] = 1;
    be->can_overwrite[SY_OP_MAXPOOL2D] = 1;
    be->forward[SY_OP_RELU] = fwd_relu;
    be->backward[SY_OP_RELU] = bwd_relu;
    be->forward[SY_OP_BIAS_ADD] = fwd_bias_add;
    be->forward[SY_OP_ADD] = fwd_add;
    be->backward[SY_OP_BIAS_ADD] = bwd_bias_add;
    be->forward[SY_OP_MAXPOOL2D] = fwd_maxpool2d;
    be->backward[SY_OP_MAXPOOL2D] = bwd_maxpool2d;
}
