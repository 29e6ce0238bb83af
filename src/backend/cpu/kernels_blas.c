/* OpenBLAS-backed kernels: matmul and convolution (im2col + sgemm). The
 * backward passes accumulate with beta = 1, so no temporary is needed.
 *
 * Threads: OpenBLAS runs single-threaded (threads.c). A large product is cut
 * into tiles of output columns or rows (along the longer dimension), one
 * sgemm call each, and threads share out the tiles. The tiles depend on the
 * product's shape alone, never on the thread count, and the inner dimension
 * K is never split: so every output element is computed by the same call at
 * the same position in it, whatever the thread count. That holds whatever
 * the sgemm underneath does, including kernels that round an element by its
 * position in the call, as OpenBLAS's AVX2 kernel does (checked bitwise by
 * tests/test_threads.c, on OpenBLAS and on a position-rounding sgemm). */
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/threads.h"
#include "syre/runtime.h"

#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void openblas_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                           const float *B, int ldb, float beta, float *C, int ldc)
{
    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M, N, K, alpha, A,
                lda, B, ldb, beta, C, ldc);
}

/* syre's own kernels (kernels_gemm.c), the default on every CPU with FMA
 * (AVX2 or AVX-512, picked by cpuid): the same results on every such CPU,
 * whatever kernel OpenBLAS would pick. OpenBLAS for what they do not take
 * (alpha other than 1, beta other than 0 and 1, which no kernel here asks
 * for), on a CPU without FMA (where the own kernel's fmaf would be a
 * library call), and where the own_gemm setting is 0 (SYRE_GEMM=blas). */
static void own_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                      int ldb, float beta, float *C, int ldc)
{
    if (alpha != 1.0f || sy_cpu_gemm(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc) != 0)
        openblas_sgemm(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

/* The own kernels where the setting asks for them and the CPU has FMA. */
static int own_default(void) { return sy_runtime()->own_gemm && sy_cpu_gemm_isa_best() >= SY_GEMM_AVX2; }

static sy_cpu_sgemm_fn default_sgemm(void) { return own_default() ? own_sgemm : openblas_sgemm; }

const char *sy_cpu_sgemm_name(void)
{
    static char buf[64];
    if (!own_default()) return "OpenBLAS";
    snprintf(buf, sizeof buf, "syre's own (%s)", sy_cpu_gemm_isa_name());
    return buf;
}

static sy_cpu_sgemm_fn sgemm_set; /* by sy_cpu_set_sgemm; NULL: default_sgemm() */

void sy_cpu_set_sgemm(sy_cpu_sgemm_fn fn) { sgemm_set = fn; }

/* Tile boundaries are multiples of this many columns (rows): OpenBLAS's
 * register tile, so that tiles add few edge tiles the whole product lacks. */
#define GEMM_ALIGN 16
/* Each tile is its own sgemm call, which packs the operand it shares with
 * the other tiles again (A when cut by columns, B by rows): per element of
 * C, that costs about 1/length of the tile's cut dimension of extra copying.
 * Tiles at least this long keep it to a few percent. */
#define GEMM_TILE_MIN_LEN 128
/* ... and at least this many multiply-adds (~50 us of a core), far above
 * the cost of a parallel region. */
#define GEMM_TILE_MIN_MACS 2e6
/* At most this many tiles. The count must not depend on the thread count,
 * so a product is shared by at most 8 threads on any machine. */
#define GEMM_MAX_TILES 8
/* Two one-tile products (both gradients of one matmul) run on two threads
 * at once when each has at least this many multiply-adds (~10 us of a core). */
#define GEMM_PAIR_MIN_MACS 5e5

/* Part t of nt of len columns (rows), on GEMM_ALIGN boundaries. */
static void slice(int len, int nt, int t, int *i0, int *i1)
{
    int blocks = (len + GEMM_ALIGN - 1) / GEMM_ALIGN;
    int b0 = (int)((long)blocks * t / nt), b1 = (int)((long)blocks * (t + 1) / nt);
    *i0 = b0 * GEMM_ALIGN;
    *i1 = b1 * GEMM_ALIGN < len ? b1 * GEMM_ALIGN : len;
}

/* Tiles of a product, from its shape alone: cut along the longer of the
 * output's two dimensions, a power of two of them (so that 2, 4 and 8
 * threads share them evenly), each at least GEMM_TILE_MIN_LEN long and
 * GEMM_TILE_MIN_MACS large. */
static int gemm_tiles(int M, int N, int K, int *by_cols)
{
    *by_cols = N >= M;
    int len = *by_cols ? N : M;
    double macs = (double)M * N * K;
    int tiles = 1;
    while (tiles * 2 <= GEMM_MAX_TILES && tiles * 2 * GEMM_TILE_MIN_LEN <= len &&
           macs / (tiles * 2) >= GEMM_TILE_MIN_MACS)
        tiles *= 2;
    return tiles;
}

/* One product, row-major C[M,N] = alpha op(A) op(B) + beta C as cblas_sgemm,
 * cut into tiles: columns of C (rows of C when N is small). */
typedef struct {
    int ta, tb, M, N, K;
    float alpha;
    const float *A;
    int lda;
    const float *B;
    int ldb;
    float beta;
    float *C;
    int ldc;
    int tiles, by_cols;
    sy_cpu_sgemm_fn sgemm; /* the sgemm in force when the product was planned */
    const sy_gemm_bsrc *bsrc; /* op(B) from a packer (own sgemm only; B unused) */
} gemm_t;

static gemm_t gemm_plan(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                        int ldb, float beta, float *C, int ldc)
{
    gemm_t q = {ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, 1, 0, NULL, NULL};
    q.tiles = gemm_tiles(M, N, K, &q.by_cols);
    q.sgemm = sgemm_set ? sgemm_set : default_sgemm();
    return q;
}

/* Columns j0.. (n of them) of a product whose op(B) comes from a packer, on
 * the own sgemm; without its packing buffers, on OpenBLAS from the columns
 * formed in a temporary (NaN and an error where that fails too). */
static void gemm_bsrc_cols(const gemm_t *q, int M, const float *A, int j0, int n, float *C)
{
    if (sy_cpu_gemm_bsrc(q->ta, M, n, q->K, A, q->lda, q->bsrc, j0, q->beta, C, q->ldc) == 0) return;
    float *b = malloc((size_t)q->K * n * sizeof(float));
    if (!b) {
        sy_fail(SY_ERR_NOMEM, "no memory for a convolution's %d x %d columns", q->K, n);
        for (int i = 0; i < M; i++)
            for (int j = 0; j < n; j++) C[(size_t)i * q->ldc + j] = NAN;
        return;
    }
    q->bsrc->pack(q->bsrc, j0, n, 0, q->K, n, b);
    openblas_sgemm(q->ta, 0, M, n, q->K, 1.0f, A, q->lda, b, n, q->beta, C, q->ldc);
    free(b);
}

/* Tile t of a product: one sgemm call, the same whichever thread runs it. */
static void gemm_tile(const gemm_t *q, int t)
{
    if (q->bsrc) {
        int i0 = 0, i1 = q->by_cols ? q->N : q->M;
        if (q->tiles > 1) slice(i1, q->tiles, t, &i0, &i1);
        if (i1 <= i0) return;
        if (q->by_cols)
            gemm_bsrc_cols(q, q->M, q->A, i0, i1 - i0, q->C + i0);
        else
            gemm_bsrc_cols(q, i1 - i0, q->A + (q->ta ? (size_t)i0 : (size_t)i0 * q->lda), 0, q->N,
                           q->C + (size_t)i0 * q->ldc);
        return;
    }
    if (q->tiles <= 1) {
        q->sgemm(q->ta, q->tb, q->M, q->N, q->K, q->alpha, q->A, q->lda, q->B, q->ldb, q->beta, q->C, q->ldc);
        return;
    }
    int i0, i1;
    slice(q->by_cols ? q->N : q->M, q->tiles, t, &i0, &i1);
    if (i1 <= i0) return;
    if (q->by_cols) /* columns i0..i1 of op(B) and C */
        q->sgemm(q->ta, q->tb, q->M, i1 - i0, q->K, q->alpha, q->A, q->lda,
              q->B + (q->tb ? (size_t)i0 * q->ldb : (size_t)i0), q->ldb, q->beta, q->C + i0, q->ldc);
    else /* rows i0..i1 of op(A) and C */
        q->sgemm(q->ta, q->tb, i1 - i0, q->N, q->K, q->alpha, q->A + (q->ta ? (size_t)i0 : (size_t)i0 * q->lda),
              q->lda, q->B, q->ldb, q->beta, q->C + (size_t)i0 * q->ldc, q->ldc);
}

/* Thread t of n runs a contiguous share of the tiles. */
static void gemm_share(const gemm_t *q, int t, int n)
{
    int t0 = (int)((long)q->tiles * t / n), t1 = (int)((long)q->tiles * (t + 1) / n);
    for (int k = t0; k < t1; k++) gemm_tile(q, k);
}

/* Threads for a product: one per tile, at most OpenMP's count. */
static int gemm_threads(const gemm_t *q)
{
    int nt = omp_in_parallel() ? 1 : omp_get_max_threads();
    return nt < q->tiles ? nt : q->tiles;
}

/* A planned product, its tiles shared over threads. */
static void gemm_run(const gemm_t *q)
{
    int nt = gemm_threads(q);
    if (nt <= 1) {
        gemm_share(q, 0, 1);
        return;
    }
#pragma omp parallel num_threads(nt)
    gemm_share(q, omp_get_thread_num(), omp_get_num_threads());
}

/* Row-major C[M,N] = alpha op(A) op(B) + beta C, as cblas_sgemm, its tiles
 * shared over threads. */
static void gemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda, const float *B,
                 int ldb, float beta, float *C, int ldc)
{
    gemm_t q = gemm_plan(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    gemm_run(&q);
}

/* Two independent products (disjoint outputs) in one parallel region: each
 * thread runs its share of the first's tiles, then of the second's, with no
 * barrier between them. A one-tile product is run by the last thread, so
 * that it overlaps the other product's first tiles. Tiles are those gemm()
 * would run, so the results are bitwise those of two gemm() calls. */
static void gemm2(const gemm_t *p, const gemm_t *q)
{
    int np = gemm_threads(p), nq = gemm_threads(q), nt = np > nq ? np : nq;
    if (nt <= 1) {
        /* Both one tile (the CNN's fc1: 1M multiply-adds each): side by
         * side on two threads when each is worth it. */
        double mp = (double)p->M * p->N * p->K, mq = (double)q->M * q->N * q->K;
        if (p->tiles == 1 && q->tiles == 1 && omp_get_max_threads() > 1 && !omp_in_parallel() &&
            mp >= GEMM_PAIR_MIN_MACS && mq >= GEMM_PAIR_MIN_MACS) {
#pragma omp parallel num_threads(2)
            {
                int t = omp_get_thread_num(), n = omp_get_num_threads();
                if (t == 0) gemm_tile(p, 0);
                if (t == n - 1) gemm_tile(q, 0); /* thread 0 too if it runs alone */
            }
            return;
        }
        gemm_share(p, 0, 1);
        gemm_share(q, 0, 1);
        return;
    }
#pragma omp parallel num_threads(nt)
    {
        int t = omp_get_thread_num(), n = omp_get_num_threads();
        const gemm_t *pq[2] = {p, q};
        for (int k = 0; k < 2; k++) {
            if (pq[k]->tiles > 1)
                gemm_share(pq[k], t, n);
            else if (t == n - 1)
                gemm_tile(pq[k], 0);
        }
    }
}

static void mm_dims(sy_exec *ex, sy_node *n, int *M, int *K, int *N)
{
    sy_shape a = IN(0)->shape, b = IN(1)->shape;
    *M = n->iattr[0] ? a.dim[1] : a.dim[0];
    *K = n->iattr[0] ? a.dim[0] : a.dim[1];
    *N = n->iattr[1] ? b.dim[0] : b.dim[1];
}

static void fwd_matmul(sy_exec *ex, sy_node *n)
{
    int M, K, N, ta = n->iattr[0], tb = n->iattr[1];
    mm_dims(ex, n, &M, &K, &N);
    gemm(ta, tb, M, N, K, 1.0f, IN(0)->val, ta ? M : K, IN(1)->val, tb ? K : N, 0.0f, n->val, N);
}

static void bwd_matmul(sy_exec *ex, sy_node *n)
{
    int M, K, N, ta = n->iattr[0], tb = n->iattr[1];
    mm_dims(ex, n, &M, &K, &N);
    const float *a = IN(0)->val, *b = IN(1)->val, *dc = n->grad;
    float *da = IN(0)->grad, *db = IN(1)->grad;
    int lda = ta ? M : K, ldb = tb ? K : N;
    /* beta 0 where the graph planned this kernel to overwrite the gradient */
    float ba = (n->overwrite & 1) ? 0.0f : 1.0f, bb = (n->overwrite & 2) ? 0.0f : 1.0f;
    gemm_t pa, pb;
    if (da) {
        if (!ta) /* dA[M,K] += dC @ op(B)^T */
            pa = gemm_plan(0, !tb, M, K, N, 1.0f, dc, N, b, ldb, ba, da, K);
        else /* dA^T[K,M] += op(B) @ dC^T */
            pa = gemm_plan(tb, 1, K, M, N, 1.0f, b, ldb, dc, N, ba, da, M);
    }
    if (db) {
        if (!tb) /* dB[K,N] += op(A)^T @ dC */
            pb = gemm_plan(!ta, 0, K, N, M, 1.0f, a, lda, dc, N, bb, db, N);
        else /* dB^T[N,K] += dC^T @ op(A) */
            pb = gemm_plan(1, ta, N, K, M, 1.0f, dc, N, a, lda, bb, db, K);
    }
    /* Both gradients in one parallel region (one wake-up and one barrier
     * instead of two); each alone otherwise, and one after the other when
     * they are the same buffer (a product of a matrix with itself, z z^T). */
    size_t na = (size_t)M * K, nb = (size_t)K * N;
    if (da && db && !(da < db + nb && db < da + na)) {
        gemm2(&pa, &pb);
        return;
    }
    if (da) gemm_run(&pa);
    if (db) gemm_run(&pb);
}

/* col[(c,kh,kw), (oh,ow)] of one sample (zero outside the image); rows are
 * ld floats apart, so all samples can share one [CKK, N*HW] matrix. */
static void im2col(const float *x, int C, int H, int W, int KH, int KW, int S, int P, int HO, int WO,
                   float *col, size_t ld)
{
    for (int c = 0; c < C; c++)
        for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++) {
                float *row = col + (((size_t)c * KH + kh) * KW + kw) * ld;
                for (int oh = 0; oh < HO; oh++) {
                    int ih = oh * S - P + kh;
                    float *r = row + (size_t)oh * WO;
                    if (ih < 0 || ih >= H) {
                        memset(r, 0, WO * sizeof(float));
                        continue;
                    }
                    const float *xr = x + ((size_t)c * H + ih) * W;
                    if (S == 1) { /* contiguous run between the padded borders */
                        int lo = P - kw > 0 ? P - kw : 0, hi = W + P - kw < WO ? W + P - kw : WO;
                        for (int ow = 0; ow < lo; ow++) r[ow] = 0.0f;
                        if (hi > lo) memcpy(r + lo, xr + lo - P + kw, (size_t)(hi - lo) * sizeof(float));
                        for (int ow = hi > lo ? hi : lo; ow < WO; ow++) r[ow] = 0.0f;
                        continue;
                    }
                    for (int ow = 0; ow < WO; ow++) {
                        int iw = ow * S - P + kw;
                        r[ow] = (iw >= 0 && iw < W) ? xr[iw] : 0.0f;
                    }
                }
            }
}

static void col2im_add(const float *col, int C, int H, int W, int KH, int KW, int S, int P, int HO, int WO,
                       float *dx, size_t ld)
{
    for (int c = 0; c < C; c++)
        for (int kh = 0; kh < KH; kh++)
            for (int kw = 0; kw < KW; kw++) {
                const float *row = col + (((size_t)c * KH + kh) * KW + kw) * ld;
                for (int oh = 0; oh < HO; oh++) {
                    int ih = oh * S - P + kh;
                    if (ih < 0 || ih >= H) continue;
                    float *xr = dx + ((size_t)c * H + ih) * W;
                    const float *rr = row + (size_t)oh * WO;
                    if (S == 1) {
                        int lo = P - kw > 0 ? P - kw : 0, hi = W + P - kw < WO ? W + P - kw : WO;
                        float *xo = xr - P + kw;
                        for (int ow = lo; ow < hi; ow++) xo[ow] += rr[ow];
                        continue;
                    }
                    for (int ow = 0; ow < WO; ow++) {
                        int iw = ow * S - P + kw;
                        if (iw >= 0 && iw < W) xr[iw] += rr[ow];
                    }
                }
            }
}

#define CONV_DIMS                                                                   \
    sy_shape xs = IN(0)->shape, ws = IN(1)->shape;                                  \
    int N = xs.dim[0], C = xs.dim[1], H = xs.dim[2], W = xs.dim[3];                 \
    int O = ws.dim[0], KH = ws.dim[2], KW = ws.dim[3];                              \
    int HO = n->shape.dim[2], WO = n->shape.dim[3], S = n->iattr[0], P = n->iattr[1]; \
    size_t ckk = (size_t)C * KH * KW, hw = (size_t)HO * WO;

/* The whole batch is one sgemm: col [CKK, N*HW] holds every sample's columns
 * side by side, and the output comes out as [O, N*HW], which is transposed to
 * [N, O, HW] by row copies. One large product keeps OpenBLAS efficient (and
 * its threads busy) where N small per-sample products would not. Scratch:
 * col [CKK, N*HW], dcol [CKK, N*HW], ybuf [O, N*HW]. */
/* The direct kernel (kernels_conv.c) for stride 1 (but see conv_chunked),
 * im2col + sgemm otherwise. */
static int use_direct(sy_exec *ex, sy_node *n) { return n->iattr[0] == 1; }

/* Stride-1 convolutions the own sgemm runs faster than the direct kernel
 * (bench_conv, docs/bench.md, per shape): 3x3 kernels (every ResNet-18
 * convolution, 1.5-2.3x; the MNIST CNN's 5x5 ones run faster direct), with
 * the own sgemm in force. Forced either way by
 * sy_cpu_conv_force_route. */
static int conv_route = -1;

void sy_cpu_conv_force_route(int route) { conv_route = route; }

int sy_cpu_conv_chunked(int C, int KH, int KW, int S)
{
    if (S != 1) return 0;
    if (conv_route >= 0) return conv_route;
    (void)C;
    return own_default() && KH == 3 && KW == 3;
}

static int use_chunked(sy_exec *ex, sy_node *n)
{
    sy_shape ws = IN(1)->shape;
    return sy_cpu_conv_chunked(ws.dim[1], ws.dim[2], ws.dim[3], n->iattr[0]);
}

/* Columns of one chunk: at least this many (whole samples), so that the
 * products of a chunk are wide enough for the sgemm's tiles and threads. */
#define CONV_CHUNK_COLS 2048

/* This thread's workspace of the chunked convolution (threads.h: freed when the thread ends). */
static float *conv_workspace(size_t n) { return sy_thread_scratch(SY_SCRATCH_CONV, n); }

/* Parallel loops over (sample, channel) of a chunk when there is enough of
 * them (each iteration's writes are its own, so threads do not change bits). */
#define CONV_OMP_MIN_FLOATS 65536
size_t sy_cpu_conv2d_scratch(int N, int C, int H, int W, int O, int KH, int KW, int HO, int WO, int S, int P)
{
    if (S == 1) return sy_cpu_conv2d_direct_scratch(N, C, H, W, O, KH, KW, HO, WO, S, P);
    /* batched im2col: col and dcol [CKK, N*HW], ybuf [O, N*HW] */
    return (2 * (size_t)C * KH * KW + O) * HO * WO * N;
}

/* Chunked implicit-GEMM convolution (stride 1): the batch in chunks of
 * whole samples (at least CONV_CHUNK_COLS columns each, by shape alone).
 * Forward, y = W @ col(x); input gradient, dx += W' @ col(dy), the forward
 * convolution of dy with W' [C, O*KH*KW] (the kernel rotated by 180 degrees,
 * its channel axes swapped) and padding K-1-P: one fma chain per element of
 * dx instead of a product into columns and a scatter-add of them. With the
 * own sgemm the columns are never formed: its panels are packed straight
 * from x or dy (conv_pack); with another sgemm they are formed chunk by
 * chunk, the same values. The weight gradient, dw += dy @ col(x)^T, forms
 * the columns (the backward builds them again instead of keeping the whole
 * batch's) and adds chunk after chunk with beta 1: with the own sgemm, each
 * element is one fma chain over (sample, position) in order whatever the
 * chunks, so chunking changes no bit. Returns 0 (nothing done) where the
 * workspace cannot be had: the direct kernel runs instead. */
typedef struct {
    int N, C, H, W, O, KH, KW, P, HO, WO, spc; /* spc: samples per chunk */
    size_t ckk, hw, chw;
} conv_dims;

static conv_dims conv_dims_of(sy_exec *ex, sy_node *n)
{
    sy_shape xs = IN(0)->shape, ws = IN(1)->shape;
    conv_dims d = {xs.dim[0], xs.dim[1], xs.dim[2], xs.dim[3], ws.dim[0], ws.dim[2], ws.dim[3], n->iattr[1],
                   n->shape.dim[2], n->shape.dim[3], 1, 0, 0, 0};
    d.ckk = (size_t)d.C * d.KH * d.KW, d.hw = (size_t)d.HO * d.WO, d.chw = (size_t)d.C * d.H * d.W;
    d.spc = (int)((CONV_CHUNK_COLS + d.hw - 1) / d.hw);
    if (d.spc > d.N) d.spc = d.N;
    return d;
}

/* The columns of a stride-1 convolution of the samples at x ([C, H, W]
 * each; padding PH, PW, possibly negative: a crop) as op(B) of a product:
 * row k = (c, kh, kw), column j = (sample, oh, ow), zero outside the image. */
typedef struct {
    sy_gemm_bsrc base;
    const float *x;
    int C, H, W, KH, KW, PH, PW, HO, WO;
} conv_src;

/* Columns j0..j0+w-1, rows k0..k0+kc-1 of the columns into pp (nr apart):
 * per row, a run of consecutive ow at a time, copied from one image row. */
static void conv_pack(const sy_gemm_bsrc *base, int j0, int w, int k0, int kc, int nr, float *pp)
{
    const conv_src *s = (const conv_src *)base;
    const int hw = s->HO * s->WO, kk = s->KH * s->KW;
    const int b0 = j0 / hw, oh0 = j0 % hw / s->WO, ow0 = j0 % s->WO;
    const size_t plane = (size_t)s->H * s->W;
    int c = k0 / kk, kh = k0 % kk / s->KW, kw = k0 % s->KW; /* row k0's, then counted on */
    for (int k = 0; k < kc; k++) {
        float *dst = pp + (size_t)k * nr;
        /* ow + kw - PW inside [0, W) for ow in [vlo, vhi) */
        const int vlo = s->PW - kw, vhi = s->W + s->PW - kw;
        const float *xc = s->x + (size_t)c * plane + (kw - s->PW); /* xc[ih * W + ow] is x[ih, ow + kw - PW] */
        int b = b0, oh = oh0, ow = ow0;
        for (int t = 0; t < w;) {
            int run = s->WO - ow < w - t ? s->WO - ow : w - t, ih = oh + kh - s->PH, end = ow + run;
            int lo = vlo > ow ? vlo : ow, hi = vhi < end ? vhi : end;
            if (ih < 0 || ih >= s->H || hi < lo) lo = hi = end;
            float *d = dst + t - ow; /* d + i: column (b, oh, i) */
            const float *xr = xc + (size_t)b * s->C * plane + (size_t)ih * s->W;
            for (int i = ow; i < lo; i++) d[i] = 0.0f;
            for (int i = lo; i < hi; i++) d[i] = xr[i];
            for (int i = hi; i < end; i++) d[i] = 0.0f;
            t += run, ow = end;
            if (ow == s->WO) {
                ow = 0;
                if (++oh == s->HO) oh = 0, b++;
            }
        }
        if (++kw == s->KW && (kw = 0, ++kh == s->KH)) kh = 0, c++;
    }
}

static conv_src conv_src_of(const float *x, int C, int H, int W, int KH, int KW, int PH, int PW)
{
    conv_src s = {{conv_pack}, x, C, H, W, KH, KW, PH, PW, H + 2 * PH - KH + 1, W + 2 * PW - KW + 1};
    return s;
}

/* The columns [C*KH*KW, sc*HO*WO] of sc samples of src, formed. */
static void conv_cols(const conv_src *s, int sc, float *col)
{
    int K = s->C * s->KH * s->KW, ld = sc * s->HO * s->WO;
#pragma omp parallel for schedule(static) if (!omp_in_parallel() && (size_t)K * ld >= CONV_OMP_MIN_FLOATS)
    for (int k = 0; k < K; k++) conv_pack(&s->base, 0, ld, k, 1, ld, col + (size_t)k * ld);
}

/* sc samples' [M, hw] (one after another) as the rows [M, sc*hw] of one matrix, and back. */
static void samples_to_rows(const float *smp, int M, int sc, size_t hw, float *rows)
{
    for (int b = 0; b < sc; b++)
        for (int m = 0; m < M; m++) memcpy(rows + (m * (size_t)sc + b) * hw, smp + ((size_t)b * M + m) * hw, hw * sizeof(float));
}

static void rows_to_samples(const float *rows, int M, int sc, size_t hw, float *smp)
{
    for (int b = 0; b < sc; b++)
        for (int m = 0; m < M; m++) memcpy(smp + ((size_t)b * M + m) * hw, rows + (m * (size_t)sc + b) * hw, hw * sizeof(float));
}

/* out = A [M, C*KH*KW] @ the columns of sc samples of src (+ out with beta
 * 1), out holding each sample's [M, HO*WO] in turn. A chunk of several
 * samples is computed in ybuf [M, sc*HO*WO]; col [C*KH*KW, sc*HO*WO] holds
 * the formed columns where the sgemm in force is not the own one. */
static void conv_product(const float *A, int M, const conv_src *s, int sc, float beta, float *out, float *ybuf,
                         float *col)
{
    int K = s->C * s->KH * s->KW;
    size_t hw = (size_t)s->HO * s->WO, ld = (size_t)sc * hw;
    float *c = sc > 1 ? ybuf : out;
    if (sc > 1 && beta != 0.0f) samples_to_rows(out, M, sc, hw, ybuf);
    gemm_t q = gemm_plan(0, 0, M, (int)ld, K, 1.0f, A, K, col, (int)ld, beta, c, (int)ld);
    if (q.sgemm == own_sgemm)
        q.bsrc = &s->base;
    else
        conv_cols(s, sc, col);
    gemm_run(&q);
    if (sc > 1) rows_to_samples(ybuf, M, sc, hw, out);
}

/* Whether conv_product forms the columns (the sgemm in force is not the own one). */
static int conv_forms_cols(void) { return (sgemm_set ? sgemm_set : default_sgemm()) != own_sgemm; }

static int fwd_conv_chunked(sy_exec *ex, sy_node *n)
{
    conv_dims d = conv_dims_of(ex, n);
    size_t ldmax = (size_t)d.spc * d.hw;
    size_t ncol = conv_forms_cols() ? d.ckk * ldmax : 0, ny = d.spc > 1 ? d.O * ldmax : 0;
    float *ws = conv_workspace(ncol + ny + 1);
    if (!ws) return 0;
    float *col = ws, *ybuf = ws + ncol;
    const float *x = IN(0)->val, *w = IN(1)->val;
    for (int b0 = 0; b0 < d.N; b0 += d.spc) {
        int sc = d.N - b0 < d.spc ? d.N - b0 : d.spc;
        conv_src s = conv_src_of(x + (size_t)b0 * d.chw, d.C, d.H, d.W, d.KH, d.KW, d.P, d.P);
        conv_product(w, d.O, &s, sc, 0.0f, n->val + (size_t)b0 * d.O * d.hw, ybuf, col);
    }
    return 1;
}

/* W' [C, O*KH*KW] of W [O, C, KH, KW]: W'[c, (o, i, j)] = W[o, c, KH-1-i, KW-1-j]. */
static void rotate_kernel(const float *w, int O, int C, int KH, int KW, float *wt)
{
    size_t kk = (size_t)KH * KW;
    for (int c = 0; c < C; c++)
        for (int o = 0; o < O; o++) {
            const float *src = w + ((size_t)o * C + c) * kk;
            float *dst = wt + ((size_t)c * O + o) * kk;
            for (size_t i = 0; i < kk; i++) dst[i] = src[kk - 1 - i];
        }
}

/* Input channels below which dx is not one product with C rows (an AVX-512
 * register tile has 8 rows; bench_conv's stem, C = 3: 41-44 GFLOP/s through
 * the columns, 17-20 as the rotated kernel's product). */
#define CONV_DX_MIN_CHANNELS 16

static int bwd_conv_chunked(sy_exec *ex, sy_node *n)
{
    conv_dims d = conv_dims_of(ex, n);
    const float *x = IN(0)->val, *w = IN(1)->val;
    float *dx = IN(0)->grad, *dw = IN(1)->grad;
    size_t kk = (size_t)d.KH * d.KW, ldmax = (size_t)d.spc * d.hw, ldxmax = (size_t)d.spc * d.H * d.W;
    /* dx as a product of C rows wastes most of the sgemm's register tile
     * where C is small (the stem's 3 channels): there, dx from a product
     * into columns and their scatter-add (dx_scatter), else as a convolution
     * of dy (dx_conv). Workspace: the columns (dw's, or the scatter's), dy
     * gathered to [O, sc*HO*WO] for both; for dx_conv W', its chunk's output
     * when a chunk has several samples, and formed columns where needed. */
    int dx_scatter = dx && d.C < CONV_DX_MIN_CHANNELS, dx_conv = dx && !dx_scatter;
    size_t ncol = dw || dx_scatter ? d.ckk * ldmax : 0, ndy = (dw || dx_scatter) && d.spc > 1 ? d.O * ldmax : 0;
    size_t nwt = dx_conv ? d.ckk * d.O : 0, nyx = dx_conv && d.spc > 1 ? d.C * ldxmax : 0;
    size_t ncolx = dx_conv && conv_forms_cols() ? d.O * kk * ldxmax : 0;
    float *ws = conv_workspace(ncol + ndy + nwt + nyx + ncolx + 1);
    if (!ws) return 0;
    float *col = ws, *dybuf = col + ncol, *wt = dybuf + ndy, *yx = wt + nwt, *colx = yx + nyx;
    if (dx_conv) rotate_kernel(w, d.O, d.C, d.KH, d.KW, wt);
    for (int b0 = 0; b0 < d.N; b0 += d.spc) {
        int sc = d.N - b0 < d.spc ? d.N - b0 : d.spc;
        size_t ld = (size_t)sc * d.hw;
        const float *dy = n->grad + (size_t)b0 * d.O * d.hw, *dyc = dy; /* dyc: [O, sc*HW] */
        if (sc > 1 && (dw || dx_scatter)) {
            samples_to_rows(dy, d.O, sc, d.hw, dybuf);
            dyc = dybuf;
        }
        if (dw) { /* dw [O, CKK] += dy [O, sc*HW] @ col^T, chunk after chunk */
            conv_src s = conv_src_of(x + (size_t)b0 * d.chw, d.C, d.H, d.W, d.KH, d.KW, d.P, d.P);
            conv_cols(&s, sc, col);
            float beta = b0 == 0 && (n->overwrite & 2) ? 0.0f : 1.0f;
            gemm(0, 1, d.O, (int)d.ckk, (int)ld, 1.0f, dyc, (int)ld, col, (int)ld, beta, dw, (int)d.ckk);
        }
        if (dx_conv) { /* dx [C, H*W] of each sample (+)= W' @ col(dy) */
            conv_src s = conv_src_of(dy, d.O, d.HO, d.WO, d.KH, d.KW, d.KH - 1 - d.P, d.KW - 1 - d.P);
            conv_product(wt, d.C, &s, sc, (n->overwrite & 1) ? 0.0f : 1.0f, dx + (size_t)b0 * d.chw, yx, colx);
        } else if (dx_scatter) { /* dcol [CKK, sc*HW] = w^T @ dy, scattered back into dx */
            gemm(1, 0, (int)d.ckk, (int)ld, d.O, 1.0f, w, (int)d.ckk, dyc, (int)ld, 0.0f, col, (int)ld);
            if (n->overwrite & 1) memset(dx + (size_t)b0 * d.chw, 0, (size_t)sc * d.chw * sizeof(float));
            int jobs = sc * d.C;
#pragma omp parallel for schedule(static) if (!omp_in_parallel() && (size_t)jobs * kk * d.hw >= CONV_OMP_MIN_FLOATS)
            for (int j = 0; j < jobs; j++) {
                int b = j / d.C, c = j % d.C;
                col2im_add(col + (size_t)c * kk * ld + (size_t)b * d.hw, 1, d.H, d.W, d.KH, d.KW, 1, d.P, d.HO, d.WO,
                           dx + (size_t)(b0 + b) * d.chw + (size_t)c * d.H * d.W, ld);
            }
        }
    }
    return 1;
}

static void fwd_conv2d(sy_exec *ex, sy_node *n)
{
    if (use_chunked(ex, n) && fwd_conv_chunked(ex, n)) return;
    if (use_direct(ex, n)) {
        sy_cpu_conv2d_direct_fwd(ex, n, IN(1)->val, n->val);
        return;
    }
    CONV_DIMS
    size_t ld = (size_t)N * hw;
    float *col = n->scratch, *ybuf = n->scratch + 2 * ckk * ld;
    const float *x = IN(0)->val, *w = IN(1)->val;
    for (int b = 0; b < N; b++) im2col(x + (size_t)b * C * H * W, C, H, W, KH, KW, S, P, HO, WO, col + b * hw, ld);
    gemm(0, 0, O, (int)ld, (int)ckk, 1.0f, w, (int)ckk, col, (int)ld, 0.0f, ybuf, (int)ld);
    for (int b = 0; b < N; b++)
        for (int o = 0; o < O; o++)
            memcpy(n->val + ((size_t)b * O + o) * hw, ybuf + o * ld + b * hw, hw * sizeof(float));
}

static void bwd_conv2d(sy_exec *ex, sy_node *n)
{
    if (use_chunked(ex, n) && bwd_conv_chunked(ex, n)) return;
    if (use_direct(ex, n)) {
        sy_cpu_conv2d_direct_bwd(ex, n, IN(1)->val, IN(0)->grad, IN(1)->grad);
        return;
    }
    CONV_DIMS
    size_t ld = (size_t)N * hw;
    float *col = n->scratch, *dcol = n->scratch + ckk * ld, *dybuf = n->scratch + 2 * ckk * ld;
    const float *w = IN(1)->val;
    float *dx = IN(0)->grad, *dw = IN(1)->grad;
    for (int b = 0; b < N; b++)
        for (int o = 0; o < O; o++)
            memcpy(dybuf + o * ld + b * hw, n->grad + ((size_t)b * O + o) * hw, hw * sizeof(float));
    if (dw) /* dw [O, CKK] += dy [O, N*HW] @ col^T */
        gemm(0, 1, O, (int)ckk, (int)ld, 1.0f, dybuf, (int)ld, col, (int)ld, (n->overwrite & 2) ? 0.0f : 1.0f, dw,
             (int)ckk);
    if (dx) { /* dcol [CKK, N*HW] = w^T @ dy, scattered back into dx */
        gemm(1, 0, (int)ckk, (int)ld, O, 1.0f, w, (int)ckk, dybuf, (int)ld, 0.0f, dcol, (int)ld);
        if (n->overwrite & 1) memset(dx, 0, (size_t)N * C * H * W * sizeof(float));
        for (int b = 0; b < N; b++)
            col2im_add(dcol + b * hw, C, H, W, KH, KW, S, P, HO, WO, dx + (size_t)b * C * H * W, ld);
    }
}

void sy_cpu_register_fast(sy_backend *be)
{
    be->can_overwrite[SY_OP_MATMUL] = 3;
    be->can_overwrite[SY_OP_CONV2D] = 3;
    be->forward[SY_OP_MATMUL] = fwd_matmul;
    be->backward[SY_OP_MATMUL] = bwd_matmul;
    be->forward[SY_OP_CONV2D] = fwd_conv2d;
    be->backward[SY_OP_CONV2D] = bwd_conv2d;
    sy_cpu_register_simple(be);
    sy_cpu_register_math(be);
}
