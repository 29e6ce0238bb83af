/* Direct convolution, stride 1 (the paper's CNNs), vectorised across samples.
 *
 * Why not im2col + sgemm: the paper's convolutions have thin inner dimensions
 * (C*KH*KW = 25 and 250, O = 10 and 20), so an im2col matrix is 25x larger
 * than the input, and OpenBLAS spent as long packing it as multiplying.
 * Here a batch is cut into blocks of VL = 16 samples and every tensor is
 * repacked sample-innermost, x -> xt[block][c][h][w][16] (zero-padded by P),
 * so that each multiply-add works on 16 samples at once with a broadcast
 * weight, for any image size and without edge cases. A tile keeps OB output
 * channels of one pixel in registers and reads each input vector once for all
 * of them (the weights are repacked [c][kh][kw][o] so the OB weights of a tap
 * are adjacent). The backward passes use the same layout:
 *   dx: a gather over (o, kh, kw) from a dy padded by KH-1, KW-1 (no bounds),
 *   dw: OB x KB accumulators summed over blocks and pixels, then across lanes.
 * Samples past N in the last block are zeros, so they add nothing to dw.
 * Work is split across OpenMP threads by (block, row) or by weight tile, with
 * no BLAS call inside, so OpenBLAS's threads stay idle meanwhile. */
#include "backend/cpu/cpu_kernels.h"

#include <omp.h>

#define VL 16
typedef float vf __attribute__((vector_size(VL * sizeof(float))));

static inline vf vload(const float *p)
{
    vf v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void vstore(float *p, vf v) { memcpy(p, &v, sizeof v); }
static inline float vsum(vf v)
{
    float s = 0.0f;
    for (int l = 0; l < VL; l++) s += v[l];
    return s;
}

typedef struct {
    int N, C, H, W, O, KH, KW, HO, WO, P;
    int NB, Hp, Wp;    /* sample blocks; padded input size */
    int Opad;          /* output channels rounded up to a multiple of 8 */
    int Cpad;          /* input channels rounded up to a multiple of 8 */
    size_t xt_n, dy_n, dxt_n, w_n;
} plan_t;

static int round_up(int a, int b) { return (a + b - 1) / b * b; }

static void make_plan(plan_t *p, int N, int C, int H, int W, int O, int KH, int KW, int HO, int WO, int P,
                      int need_dx)
{
    p->N = N, p->C = C, p->H = H, p->W = W, p->O = O, p->KH = KH, p->KW = KW, p->HO = HO, p->WO = WO, p->P = P;
    p->NB = (N + VL - 1) / VL;
    p->Hp = H + 2 * P, p->Wp = W + 2 * P;
    p->Opad = round_up(O, 8);
    p->Cpad = round_up(C, 8);
    p->xt_n = (size_t)p->NB * C * p->Hp * p->Wp * VL;
    /* the forward's output tile buffer shares dy's region */
    p->dy_n = (size_t)p->NB * p->Opad * HO * WO * VL;
    p->dxt_n = need_dx ? p->xt_n : 0;
    size_t wf = (size_t)C * KH * KW * p->Opad, wb = (size_t)p->Opad * KH * KW * p->Cpad;
    p->w_n = wf > wb ? wf : wb;
}

static size_t plan_floats(const plan_t *p) { return p->xt_n + p->dy_n + p->dxt_n + p->w_n + VL; }

size_t SY_ISA_FN(sy_cpu_conv2d_direct_scratch)(int N, int C, int H, int W, int O, int KH, int KW, int HO, int WO, int S, int P)
{
    if (S != 1) return 0;
    plan_t p;
    make_plan(&p, N, C, H, W, O, KH, KW, HO, WO, P, 1);
    return plan_floats(&p);
}

/* Worth a parallel region: enough multiply-adds to amortise waking threads. */
static int par_ok(double macs) { return omp_get_max_threads() > 1 && macs > 2e5; }

/* 16 x 16 transpose in registers: four rounds of swapping the off-diagonal
 * b x b blocks of every 2b x 2b block (b = 8, 4, 2, 1), each a two-vector
 * shuffle per row pair. */
#define SWAP_ROUND(r, b, LO, HI)                                          \
    for (int i = 0; i < VL; i++)                                          \
        if (!(i & (b))) {                                                 \
            vf lo = __builtin_shufflevector(r[i], r[i + (b)], LO);        \
            vf hi = __builtin_shufflevector(r[i], r[i + (b)], HI);        \
            r[i] = lo, r[i + (b)] = hi;                                   \
        }
#define LO8 0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23
#define HI8 8, 9, 10, 11, 12, 13, 14, 15, 24, 25, 26, 27, 28, 29, 30, 31
#define LO4 0, 1, 2, 3, 16, 17, 18, 19, 8, 9, 10, 11, 24, 25, 26, 27
#define HI4 4, 5, 6, 7, 20, 21, 22, 23, 12, 13, 14, 15, 28, 29, 30, 31
#define LO2 0, 1, 16, 17, 4, 5, 20, 21, 8, 9, 24, 25, 12, 13, 28, 29
#define HI2 2, 3, 18, 19, 6, 7, 22, 23, 10, 11, 26, 27, 14, 15, 30, 31
#define LO1 0, 16, 2, 18, 4, 20, 6, 22, 8, 24, 10, 26, 12, 28, 14, 30
#define HI1 1, 17, 3, 19, 5, 21, 7, 23, 9, 25, 11, 27, 13, 29, 15, 31
static inline void transpose16(vf *r)
{
    SWAP_ROUND(r, 8, LO8, HI8)
    SWAP_ROUND(r, 4, LO4, HI4)
    SWAP_ROUND(r, 2, LO2, HI2)
    SWAP_ROUND(r, 1, LO1, HI1)
}

/* Sample-major <-> sample-innermost, 16 x 16 tiles at a time so that both
 * sides are read and written in whole cache lines. src[l] is lane l's run of
 * len floats (NULL: a zero lane); dst holds len vectors of VL lanes. */
static void interleave(float *dst, const float *const *src, size_t len)
{
    int full = 1;
    for (int l = 0; l < VL; l++) full &= src[l] != NULL;
    size_t i0 = 0;
    if (full)
        for (; i0 + VL <= len; i0 += VL) {
            vf r[VL];
            for (int l = 0; l < VL; l++) r[l] = vload(src[l] + i0);
            transpose16(r);
            for (int k = 0; k < VL; k++) vstore(dst + (i0 + k) * VL, r[k]);
        }
    for (; i0 < len; i0 += VL) {
        size_t m = len - i0 < VL ? len - i0 : VL;
        float t[VL][VL];
        for (int l = 0; l < VL; l++)
            for (size_t k = 0; k < m; k++) t[k][l] = src[l] ? src[l][i0 + k] : 0.0f;
        memcpy(dst + i0 * VL, t, m * VL * sizeof(float));
    }
}

/* The inverse for the first `lanes` lanes: dst[l][i] (+)= src[i][l]. */
static void deinterleave(float *const *dst, const float *src, size_t len, int lanes, int add)
{
    size_t i0 = 0;
    for (; i0 + VL <= len; i0 += VL) {
        vf r[VL];
        for (int k = 0; k < VL; k++) r[k] = vload(src + (i0 + k) * VL);
        transpose16(r);
        for (int l = 0; l < lanes; l++) vstore(dst[l] + i0, add ? vload(dst[l] + i0) + r[l] : r[l]);
    }
    for (; i0 < len; i0 += VL) {
        size_t m = len - i0 < VL ? len - i0 : VL;
        const float *t = src + i0 * VL;
        for (int l = 0; l < lanes; l++) {
            float *d = dst[l] + i0;
            if (add)
                for (size_t k = 0; k < m; k++) d[k] += t[k * VL + l];
            else
                for (size_t k = 0; k < m; k++) d[k] = t[k * VL + l];
        }
    }
}

/* Lane pointers of block nb into a [N, per] tensor at offset off (NULL past N). */
static void lanes_of(const float *base, int N, int nb, size_t per, size_t off, const float **src)
{
    for (int l = 0; l < VL; l++) src[l] = nb * VL + l < N ? base + (size_t)(nb * VL + l) * per + off : NULL;
}

/* The samples of block nb as destinations (dst[l] = base + sample * per);
 * returns how many of the VL lanes hold a sample. */
static int out_lanes(float *base, int N, int nb, size_t per, float **dst)
{
    int lanes = N - nb * VL < VL ? N - nb * VL : VL;
    for (int l = 0; l < lanes; l++) dst[l] = base + (size_t)(nb * VL + l) * per;
    return lanes;
}

/* Block nb of x [N,C,H,W] -> xt[NB][C][Hp][Wp][VL], zero border and zero lanes past N. */
static void pack_block(const plan_t *p, const float *x, float *xt, int nb)
{
    size_t plane = (size_t)p->Hp * p->Wp * VL, chw = (size_t)p->C * p->H * p->W;
    for (int c = 0; c < p->C; c++) {
        float *t = xt + ((size_t)nb * p->C + c) * plane;
        if (p->P > 0) memset(t, 0, plane * sizeof(float));
        for (int h = 0; h < p->H; h++) {
            const float *src[VL];
            lanes_of(x, p->N, nb, chw, ((size_t)c * p->H + h) * p->W, src);
            interleave(t + ((size_t)(h + p->P) * p->Wp + p->P) * VL, src, (size_t)p->W);
        }
    }
}

/* Forward tile: OB output channels from o0 at output pixel (oh, ow) of one block. */
#define FWD_TILE(OB)                                                                                   \
    static void fwd_tile_##OB(const plan_t *p, const float *xb, const float *wt, int o0, int oh, int ow, \
                              float *yb)                                                               \
    {                                                                                                  \
        vf acc[OB];                                                                                    \
        _Pragma("GCC unroll 16") for (int j = 0; j < OB; j++) acc[j] = (vf){0};                        \
        for (int c = 0; c < p->C; c++)                                                                 \
            for (int kh = 0; kh < p->KH; kh++) {                                                       \
                const float *xr = xb + (((size_t)c * p->Hp + oh + kh) * p->Wp + ow) * VL;              \
                const float *wr = wt + (((size_t)c * p->KH + kh) * p->KW) * p->Opad + o0;              \
                for (int kw = 0; kw < p->KW; kw++) {                                                   \
                    vf xv = vload(xr + (size_t)kw * VL);                                               \
                    const float *wk = wr + (size_t)kw * p->Opad;                                       \
                    _Pragma("GCC unroll 16") for (int j = 0; j < OB; j++) acc[j] += wk[j] * xv;        \
                }                                                                                      \
            }                                                                                          \
        size_t os = (size_t)p->HO * p->WO * VL;                                                        \
        float *y = yb + ((size_t)o0 * p->HO * p->WO + (size_t)oh * p->WO + ow) * VL;                   \
        _Pragma("GCC unroll 16") for (int j = 0; j < OB; j++) if (o0 + j < p->O) vstore(y + j * os, acc[j]); \
    }
FWD_TILE(4)
FWD_TILE(5)
FWD_TILE(8)
#ifdef __AVX512F__ /* 10 accumulators need AVX-512's 32 vector registers */
FWD_TILE(10)
#endif
typedef void (*fwd_tile_fn)(const plan_t *, const float *, const float *, int, int, int, float *);

/* Output channels per tile: the largest that divides O (no wasted lanes),
 * else 8; 10 only where there are registers for it (AVX-512: 32 vectors). */
static int pick_ob(int O, fwd_tile_fn *fn)
{
#ifdef __AVX512F__
    if (O % 10 == 0) return *fn = fwd_tile_10, 10;
#endif
    if (O % 8 == 0) return *fn = fwd_tile_8, 8;
    if (O % 5 == 0) return *fn = fwd_tile_5, 5;
    if (O % 4 == 0) return *fn = fwd_tile_4, 4;
    return *fn = fwd_tile_8, 8; /* Opad is a multiple of 8: the extra channels are zero weights */
}

SY_ISA_DECLARE(void, sy_cpu_conv2d_direct_fwd, (sy_exec *ex, sy_node *n, const float *w, float *y))
void SY_ISA_FN(sy_cpu_conv2d_direct_fwd)(sy_exec *ex, sy_node *n, const float *w, float *y)
{
    SY_ISA_DISPATCH_VOID(sy_cpu_conv2d_direct_fwd, (ex, n, w, y));
    sy_shape xs = IN(0)->shape, ws = IN(1)->shape;
    plan_t p;
    make_plan(&p, xs.dim[0], xs.dim[1], xs.dim[2], xs.dim[3], ws.dim[0], ws.dim[2], ws.dim[3], n->shape.dim[2],
              n->shape.dim[3], n->iattr[1], IN(0)->grad != NULL);
    float *xt = n->scratch, *yt = xt + p.xt_n, *wt = yt + p.dy_n + p.dxt_n;
    int ckk = p.C * p.KH * p.KW;
    for (int k = 0; k < ckk; k++)
        for (int o = 0; o < p.Opad; o++) wt[(size_t)k * p.Opad + o] = o < p.O ? w[(size_t)o * ckk + k] : 0.0f;
    fwd_tile_fn tile;
    int OB = pick_ob(p.O, &tile);
    size_t xblock = (size_t)p.C * p.Hp * p.Wp * VL, yblock = (size_t)p.O * p.HO * p.WO * VL;
    size_t per = (size_t)p.O * p.HO * p.WO;
    const float *x = IN(0)->val;
    /* One parallel region: each thread packs, convolves and unpacks whole
     * sample blocks (one barrier per call; waking threads for each of the
     * three phases cost more than the phases on a busy machine). */
#pragma omp parallel for schedule(static) if (par_ok((double)p.NB * VL * p.O * p.HO * p.WO * ckk) && p.NB > 1)
    for (int nb = 0; nb < p.NB; nb++) {
        pack_block(&p, x, xt, nb);
        for (int oh = 0; oh < p.HO; oh++)
            for (int ow = 0; ow < p.WO; ow++)
                for (int o0 = 0; o0 < p.O; o0 += OB) tile(&p, xt + nb * xblock, wt, o0, oh, ow, yt + nb * yblock);
        /* yt[nb][O][HO][WO][VL] -> y[N][O][HO][WO] */
        float *dst[VL];
        deinterleave(dst, yt + nb * yblock, per, out_lanes(y, p.N, nb, per, dst), 0);
    }
}

/* dx tile: CB input channels from c0 at input pixel (ih, iw) (unpadded),
 * over the taps (kh, kw) whose output pixel (ih + P - kh, iw + P - kw) exists. */
#define DX_TILE(CB)                                                                                     \
    static void dx_tile_##CB(const plan_t *p, const float *dyb, const float *w2, int c0, int ih, int iw, \
                             float *dxb)                                                                \
    {                                                                                                   \
        vf acc[CB];                                                                                     \
        _Pragma("GCC unroll 16") for (int j = 0; j < CB; j++) acc[j] = (vf){0};                         \
        int r0 = ih + p->P, q0 = iw + p->P;                                                             \
        int kh0 = r0 - p->HO + 1 > 0 ? r0 - p->HO + 1 : 0, kh1 = r0 + 1 < p->KH ? r0 + 1 : p->KH;        \
        int kw0 = q0 - p->WO + 1 > 0 ? q0 - p->WO + 1 : 0, kw1 = q0 + 1 < p->KW ? q0 + 1 : p->KW;        \
        for (int o = 0; o < p->O; o++)                                                                  \
            for (int kh = kh0; kh < kh1; kh++) {                                                        \
                const float *dr = dyb + (((size_t)o * p->HO + r0 - kh) * p->WO + q0) * VL;              \
                const float *wr = w2 + (((size_t)o * p->KH + kh) * p->KW) * p->Cpad + c0;               \
                for (int kw = kw0; kw < kw1; kw++) {                                                    \
                    vf dv = vload(dr - (size_t)kw * VL);                                                \
                    const float *wk = wr + (size_t)kw * p->Cpad;                                        \
                    _Pragma("GCC unroll 16") for (int j = 0; j < CB; j++) acc[j] += wk[j] * dv;         \
                }                                                                                       \
            }                                                                                           \
        size_t cs = (size_t)p->H * p->W * VL;                                                           \
        float *d = dxb + ((size_t)c0 * p->H * p->W + (size_t)ih * p->W + iw) * VL;                      \
        _Pragma("GCC unroll 16") for (int j = 0; j < CB; j++) if (c0 + j < p->C) vstore(d + j * cs, acc[j]); \
    }
DX_TILE(4)
DX_TILE(5)
DX_TILE(8)
#ifdef __AVX512F__
DX_TILE(10)
#endif

/* dw tile: OB output channels from o0, input channel c, row kh, KB columns from kw0,
 * summed over every block and output pixel. Adds into dw [O, C, KH, KW]. */
#define DW_TILE(OB, KB)                                                                                  \
    static void dw_tile_##OB##_##KB(const plan_t *p, const float *xt, const float *dyt, int o0, int c,    \
                                    int kh, int kw0, float *dw, int set)                                 \
    {                                                                                                    \
        vf acc[OB][KB];                                                                                  \
        _Pragma("GCC unroll 16") for (int j = 0; j < OB; j++)                                            \
            _Pragma("GCC unroll 8") for (int k = 0; k < KB; k++) acc[j][k] = (vf){0};                    \
        size_t xblock = (size_t)p->C * p->Hp * p->Wp * VL, dplane = (size_t)p->HO * p->WO * VL;           \
        size_t dblock = (size_t)p->Opad * dplane;                                                        \
        for (int nb = 0; nb < p->NB; nb++)                                                               \
            for (int oh = 0; oh < p->HO; oh++) {                                                         \
                const float *xr = xt + nb * xblock + (((size_t)c * p->Hp + oh + kh) * p->Wp + kw0) * VL;  \
                const float *dr = dyt + nb * dblock + ((size_t)o0 * p->HO + oh) * p->WO * VL;                 \
                for (int ow = 0; ow < p->WO; ow++) {                                                     \
                    vf xv[KB], dv[OB];                                                                   \
                    _Pragma("GCC unroll 8") for (int k = 0; k < KB; k++) xv[k] = vload(xr + (size_t)(ow + k) * VL); \
                    _Pragma("GCC unroll 16") for (int j = 0; j < OB; j++) dv[j] = vload(dr + j * dplane + (size_t)ow * VL); \
                    _Pragma("GCC unroll 16") for (int j = 0; j < OB; j++)                                \
                        _Pragma("GCC unroll 8") for (int k = 0; k < KB; k++) acc[j][k] += dv[j] * xv[k]; \
                }                                                                                        \
            }                                                                                            \
        for (int j = 0; j < OB && o0 + j < p->O; j++)                                                    \
            for (int k = 0; k < KB; k++) {                                                               \
                float *d = &dw[(((size_t)(o0 + j) * p->C + c) * p->KH + kh) * p->KW + kw0 + k];         \
                *d = set ? vsum(acc[j][k]) : *d + vsum(acc[j][k]);                                       \
            }                                                                                            \
    }
DW_TILE(4, 5)
#ifdef __AVX512F__
DW_TILE(5, 5)
#endif
DW_TILE(8, 3)
DW_TILE(8, 1)
typedef void (*dw_tile_fn)(const plan_t *, const float *, const float *, int, int, int, int, float *, int);

SY_ISA_DECLARE(void, sy_cpu_conv2d_direct_bwd, (sy_exec *ex, sy_node *n, const float *w, float *dx, float *dw))
void SY_ISA_FN(sy_cpu_conv2d_direct_bwd)(sy_exec *ex, sy_node *n, const float *w, float *dx, float *dw)
{
    SY_ISA_DISPATCH_VOID(sy_cpu_conv2d_direct_bwd, (ex, n, w, dx, dw));
    sy_shape xs = IN(0)->shape, ws = IN(1)->shape;
    plan_t p;
    make_plan(&p, xs.dim[0], xs.dim[1], xs.dim[2], xs.dim[3], ws.dim[0], ws.dim[2], ws.dim[3], n->shape.dim[2],
              n->shape.dim[3], n->iattr[1], dx != NULL);
    float *xt = n->scratch, *dyt = xt + p.xt_n, *dxt = dyt + p.dy_n, *w2 = dxt + p.dxt_n;
    size_t hw = (size_t)p.HO * p.WO, dplane = hw * VL, dblock = (size_t)p.Opad * dplane;
    int ckk = p.C * p.KH * p.KW;
    /* w [O][C][KH][KW] -> w2[O][KH][KW][Cpad] for the input gradient */
    if (dx)
        for (int o = 0; o < p.O; o++)
            for (int k = 0; k < p.KH * p.KW; k++)
                for (int c = 0; c < p.Cpad; c++)
                    w2[((size_t)o * p.KH * p.KW + k) * p.Cpad + c] =
                        c < p.C ? w[((size_t)o * p.C + c) * p.KH * p.KW + k] : 0.0f;
    void (*xtile)(const plan_t *, const float *, const float *, int, int, int, float *);
    int CB;
#ifdef __AVX512F__
    if (p.C % 10 == 0) xtile = dx_tile_10, CB = 10;
    else
#endif
    if (p.C % 8 == 0) xtile = dx_tile_8, CB = 8;
    else if (p.C % 5 == 0) xtile = dx_tile_5, CB = 5;
    else if (p.C % 4 == 0) xtile = dx_tile_4, CB = 4;
    else xtile = dx_tile_8, CB = 8;
    size_t xblock = (size_t)p.C * p.H * p.W * VL, chw = (size_t)p.C * p.H * p.W;
    dw_tile_fn tile = NULL;
    int OB = 1, KB = 1, tasks = 0;
    if (dw) {
#ifdef __AVX512F__
        if (p.KW == 5 && p.O % 5 == 0) tile = dw_tile_5_5, OB = 5, KB = 5; /* 25 accumulators of 32 registers */
        else
#endif
        if (p.KW == 5) tile = dw_tile_4_5, OB = 4, KB = 5;
        else if (p.KW == 3) tile = dw_tile_8_3, OB = 8, KB = 3;
        else tile = dw_tile_8_1, OB = 8, KB = 1;
        tasks = (p.O + OB - 1) / OB * p.C * p.KH * (p.KW / KB);
    }
    int nkb = p.KW / KB, set = (n->overwrite & 2) != 0;
    /* One parallel region, two phases with a barrier between them:
     * 1. per sample block: dy [N,O,HO,WO] -> dyt[NB][Opad][HO][WO][VL] (zero
     *    channels past O, zero lanes past N), then the input gradient of the
     *    block and its unpacking into dx;
     * 2. the weight gradient, tile by tile over every block's dyt. */
#pragma omp parallel if (par_ok((double)p.NB * VL * hw * p.O * ckk))
    {
#pragma omp for schedule(static)
        for (int nb = 0; nb < p.NB; nb++) {
            const float *src[VL];
            lanes_of(n->grad, p.N, nb, (size_t)p.O * hw, 0, src);
            interleave(dyt + nb * dblock, src, (size_t)p.O * hw);
            memset(dyt + nb * dblock + (size_t)p.O * dplane, 0, (size_t)(p.Opad - p.O) * dplane * sizeof(float));
            if (!dx) continue;
            for (int ih = 0; ih < p.H; ih++)
                for (int iw = 0; iw < p.W; iw++)
                    for (int c0 = 0; c0 < p.C; c0 += CB) xtile(&p, dyt + nb * dblock, w2, c0, ih, iw, dxt + nb * xblock);
            float *dst[VL];
            deinterleave(dst, dxt + nb * xblock, chw, out_lanes(dx, p.N, nb, chw, dst), !(n->overwrite & 1));
        }
#pragma omp for schedule(dynamic, 1)
        for (int t = 0; t < tasks; t++) {
            int kb = t % nkb, r = t / nkb, kh = r % p.KH, c = (r / p.KH) % p.C, ob = r / p.KH / p.C;
            tile(&p, xt, dyt, ob * OB, c, kh, kb * KB, dw, set);
        }
    }
}
