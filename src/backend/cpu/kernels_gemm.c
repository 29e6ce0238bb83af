/* syre's own sgemm: operands packed into panels, register-tile
 * micro-kernels for AVX-512 and AVX2 chosen at run time by cpuid, and a
 * scalar fallback. Row-major C[M,N] = op(A)[M,K] op(B)[K,N] + beta C.
 *
 * Every element of C is one chain of fused multiply-adds over k in
 * increasing order, starting from 0 (beta 0) or from C (beta 1): the same
 * operations whatever the ISA, the register tile the element falls in, its
 * position in the call or the thread that runs it. Panels are padded with
 * zeros, so an edge tile computes exactly as an inner one. Hence results are
 * bit-identical on every x86-64 CPU and identical units (equal rows of
 * op(A), equal columns of op(B)) are computed identically, which no BLAS
 * kernel promises (OpenBLAS's AVX2 kernel rounds by position).
 *
 * Blocking, BLIS-style: K in blocks of KC, M in blocks of MC (the packed A
 * block, MC x KC, in L2), N in blocks of NC (the packed B block in L2/L3).
 * A B micro-panel (KC x NR, 64 KiB for AVX-512) streams from L2 at about a
 * third of its bandwidth: the 8x32 kernel spends 8 cycles per k on 16 FMAs,
 * which is what lets KC be 512 rather than an L1's worth, so that C is loaded
 * and stored once per product for K up to 512 (the training products' K are
 * 10-1152 but for the convolutions' weight gradients). Between K blocks the
 * partial sums go through C, which does not change them. Register tiles:
 * 8x32 on AVX-512 (16 zmm accumulators), 6x16 on AVX2 (12 ymm
 * accumulators). Edge tiles: the vector kernels mask their columns and skip
 * rows past the edge, and a last panel of at most half a tile's width (a
 * 10-class output) runs on a kernel of that width (8x16, 6x8), not on a
 * tile mostly zeros; the scalar kernel runs edge tiles on a scratch tile. */
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/threads.h"

#if defined(__x86_64__) || defined(__i386__)
#define GEMM_X86 1
#include <immintrin.h>
#endif
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Block sizes (each may be set with -D to measure another) */
#ifndef KC
#define KC 512
#endif
#ifndef MC
#define MC 96 /* a multiple of every MR below (8, 6, 4) */
#endif
#ifndef NC
#define NC 1024 /* columns of the B block, rounded down to whole panels */
#endif

/* MR x NR tile of C: zero (start from 0) or load it, add the kc products of
 * the packed panels (ap: kc columns of MR, bp: kc rows of NR), store it.
 * A kernel with edges set takes a partial tile itself (its first h rows and
 * w columns valid, the rest neither read nor written); others get full
 * tiles only, h = MR and w = NR. */
typedef void (*micro_fn)(int kc, const float *ap, const float *bp, float *c, long ldc, int zero, int h, int w);

typedef struct {
    int mr, nr;
    micro_fn kernel;
    const char *name;
    int edges;      /* the kernels take partial tiles (masked loads and stores) */
    int nr_narrow;  /* a last panel of at most this many columns is packed this wide ... */
    micro_fn narrow; /* ... and run by this kernel (0, NULL: none) */
} gemm_isa;

#ifdef GEMM_X86
/* AVX-512: MR = 8 rows by NV vectors of 16 columns (NV = 2: 16 accumulators;
 * NV = 1 for a narrow last panel). The columns past w are masked off, the
 * rows past h neither loaded nor stored: an edge tile computes its valid
 * elements exactly as an inner one, with no scratch copy. */
#define MICRO_AVX512(NAME, NV)                                                                                    \
    __attribute__((target("avx512f"))) static void NAME(int kc, const float *ap, const float *bp, float *c,       \
                                                        long ldc, int zero, int h, int w)                         \
    {                                                                                                             \
        __m512 acc[8][NV];                                                                                        \
        __mmask16 m[NV];                                                                                          \
        for (int j = 0; j < NV; j++) {                                                                            \
            int v = w - 16 * j;                                                                                   \
            m[j] = v >= 16 ? (__mmask16)0xFFFF : v <= 0 ? (__mmask16)0 : (__mmask16)((1u << v) - 1);               \
        }                                                                                                         \
        _Pragma("GCC unroll 8") for (int r = 0; r < 8; r++)                                                       \
            _Pragma("GCC unroll 2") for (int j = 0; j < NV; j++) acc[r][j] =                                      \
                zero || r >= h ? _mm512_setzero_ps() : _mm512_maskz_loadu_ps(m[j], c + r * ldc + 16 * j);         \
        for (int k = 0; k < kc; k++) {                                                                            \
            __m512 b[NV];                                                                                         \
            _Pragma("GCC unroll 2") for (int j = 0; j < NV; j++) b[j] = _mm512_load_ps(bp + (size_t)k * 16 * NV + 16 * j); \
            _Pragma("GCC unroll 8") for (int r = 0; r < 8; r++)                                                   \
            {                                                                                                     \
                __m512 a = _mm512_set1_ps(ap[(size_t)k * 8 + r]);                                                 \
                _Pragma("GCC unroll 2") for (int j = 0; j < NV; j++) acc[r][j] = _mm512_fmadd_ps(a, b[j], acc[r][j]); \
            }                                                                                                     \
        }                                                                                                         \
        _Pragma("GCC unroll 8") for (int r = 0; r < 8; r++) if (r < h)                                            \
            _Pragma("GCC unroll 2") for (int j = 0; j < NV; j++) _mm512_mask_storeu_ps(c + r * ldc + 16 * j, m[j], acc[r][j]); \
    }
MICRO_AVX512(micro_avx512, 2)
MICRO_AVX512(micro_avx512_n16, 1)

/* AVX2: MR = 6 rows by NV vectors of 8 columns (NV = 2: 12 accumulators,
 * 2 B vectors and a broadcast in the 16 ymm registers; NV = 1 for a narrow
 * last panel). Edges as the AVX-512 kernel's: columns past w masked off
 * (vmaskmov), rows past h neither loaded nor stored. */
#define MICRO_AVX2(NAME, NV)                                                                                      \
    __attribute__((target("avx2,fma"))) static void NAME(int kc, const float *ap, const float *bp, float *c,      \
                                                         long ldc, int zero, int h, int w)                        \
    {                                                                                                             \
        __m256 acc[6][NV];                                                                                        \
        __m256i m[NV];                                                                                            \
        const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);                                           \
        for (int j = 0; j < NV; j++) m[j] = _mm256_cmpgt_epi32(_mm256_set1_epi32(w - 8 * j), lane);              \
        _Pragma("GCC unroll 6") for (int r = 0; r < 6; r++)                                                       \
            _Pragma("GCC unroll 2") for (int j = 0; j < NV; j++) acc[r][j] =                                      \
                zero || r >= h ? _mm256_setzero_ps() : _mm256_maskload_ps(c + r * ldc + 8 * j, m[j]);            \
        for (int k = 0; k < kc; k++) {                                                                            \
            __m256 b[NV];                                                                                         \
            _Pragma("GCC unroll 2") for (int j = 0; j < NV; j++) b[j] = _mm256_load_ps(bp + (size_t)k * 8 * NV + 8 * j); \
            _Pragma("GCC unroll 6") for (int r = 0; r < 6; r++)                                                   \
            {                                                                                                     \
                __m256 a = _mm256_broadcast_ss(ap + (size_t)k * 6 + r);                                           \
                _Pragma("GCC unroll 2") for (int j = 0; j < NV; j++) acc[r][j] = _mm256_fmadd_ps(a, b[j], acc[r][j]); \
            }                                                                                                     \
        }                                                                                                         \
        _Pragma("GCC unroll 6") for (int r = 0; r < 6; r++) if (r < h)                                            \
            _Pragma("GCC unroll 2") for (int j = 0; j < NV; j++) _mm256_maskstore_ps(c + r * ldc + 8 * j, m[j], acc[r][j]); \
    }
MICRO_AVX2(micro_avx2, 2)
MICRO_AVX2(micro_avx2_n8, 1)

#endif

static void micro_scalar(int kc, const float *ap, const float *bp, float *c, long ldc, int zero, int h, int w)
{
    (void)h, (void)w;
    for (int r = 0; r < 4; r++)
        for (int j = 0; j < 4; j++) {
            float acc = zero ? 0.0f : c[r * ldc + j];
            for (int k = 0; k < kc; k++) acc = fmaf(ap[(size_t)k * 4 + r], bp[(size_t)k * 4 + j], acc);
            c[r * ldc + j] = acc;
        }
}

static const gemm_isa isas[SY_GEMM_NISA] = {
    [SY_GEMM_SCALAR] = {4, 4, micro_scalar, "scalar", 0, 0, NULL},
#ifdef GEMM_X86
    [SY_GEMM_AVX2] = {6, 16, micro_avx2, "AVX2", 1, 8, micro_avx2_n8},
    [SY_GEMM_AVX512] = {8, 32, micro_avx512, "AVX-512", 1, 16, micro_avx512_n16},
#endif
};

static int isa_forced = -1;

int sy_cpu_gemm_isa_best(void)
{
    static int best = -1; /* cpuid once: a product of a few microseconds feels the query */
    int seen = __atomic_load_n(&best, __ATOMIC_RELAXED);
    if (seen >= 0) return seen;
    int b = SY_GEMM_SCALAR;
#ifdef GEMM_X86
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f"))
        b = SY_GEMM_AVX512;
    else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
        b = SY_GEMM_AVX2;
#endif
    __atomic_store_n(&best, b, __ATOMIC_RELAXED);
    return b;
}

int sy_cpu_gemm_force_isa(int isa)
{
    if (isa < 0) {
        isa_forced = -1;
        return 0;
    }
    if (isa >= SY_GEMM_NISA || isa > sy_cpu_gemm_isa_best()) return -1;
    isa_forced = isa;
    return 0;
}

const char *sy_cpu_gemm_isa_name(void)
{
    return isas[isa_forced >= 0 ? isa_forced : sy_cpu_gemm_isa_best()].name;
}

#ifdef GEMM_X86
/* dst[q * ds + r] = src[r * ss + q] for r, q < 8: one 8x8 block transposed,
 * how both operands of an NT or TN product are packed (a copy: no rounding). */
__attribute__((target("avx2"))) static void transpose8(const float *src, long ss, float *dst, long ds)
{
    __m256 r[8], t[8], u[8];
    for (int i = 0; i < 8; i++) r[i] = _mm256_loadu_ps(src + i * ss);
    for (int i = 0; i < 8; i += 2) t[i] = _mm256_unpacklo_ps(r[i], r[i + 1]), t[i + 1] = _mm256_unpackhi_ps(r[i], r[i + 1]);
    for (int i = 0; i < 8; i += 4)
        for (int j = 0; j < 2; j++) {
            u[i + 2 * j] = _mm256_shuffle_ps(t[i + j], t[i + j + 2], 0x44);
            u[i + 2 * j + 1] = _mm256_shuffle_ps(t[i + j], t[i + j + 2], 0xEE);
        }
    for (int i = 0; i < 4; i++) {
        _mm256_storeu_ps(dst + i * ds, _mm256_permute2f128_ps(u[i], u[i + 4], 0x20));
        _mm256_storeu_ps(dst + (i + 4) * ds, _mm256_permute2f128_ps(u[i], u[i + 4], 0x31));
    }
}

static int have_avx2(void)
{
    static int h = -1;
    if (h < 0) {
        __builtin_cpu_init();
        h = __builtin_cpu_supports("avx2");
    }
    return h;
}
#endif

/* n floats from src to dst, the register-tile widths inlined (a call to
 * memcpy per k of a panel costs more than the copy). */
static inline void copy_floats(float *dst, const float *src, int n)
{
    switch (n) {
    case 4: memcpy(dst, src, 4 * sizeof(float)); break;
    case 6: memcpy(dst, src, 6 * sizeof(float)); break;
    case 8: memcpy(dst, src, 8 * sizeof(float)); break;
    case 16: memcpy(dst, src, 16 * sizeof(float)); break;
    case 24: memcpy(dst, src, 24 * sizeof(float)); break;
    case 32: memcpy(dst, src, 32 * sizeof(float)); break;
    default: memcpy(dst, src, (size_t)n * sizeof(float));
    }
}

/* Packing: op(A) rows i0.. (mr per panel), op(B) columns j0.. (nr per
 * panel; a last panel of at most isa->nr_narrow columns that wide), k from
 * k0, zeros past the matrix's edge. */
static void pack_a(int ta, const float *A, int lda, int i0, int mc, int M, int k0, int kc, int mr, float *ap)
{
    for (int p = 0; p < mc; p += mr, ap += (size_t)mr * kc) {
#ifdef GEMM_X86
        if (!ta && mr == 8 && p + 8 <= mc && i0 + p + 8 <= M && have_avx2()) { /* 8 rows, 8 k at a time */
            const float *blk = A + (size_t)(i0 + p) * lda + k0;
            int k = 0;
            for (; k + 8 <= kc; k += 8) transpose8(blk + k, lda, ap + (size_t)k * 8, 8);
            for (; k < kc; k++)
                for (int r = 0; r < 8; r++) ap[(size_t)k * 8 + r] = blk[(size_t)r * lda + k];
            continue;
        }
        if (!ta && mr == 6 && p + 6 <= mc && i0 + p + 8 <= M && have_avx2()) { /* 6 rows from 8x8 transposes */
            const float *blk = A + (size_t)(i0 + p) * lda + k0;
            float t[64];
            int k = 0;
            for (; k + 8 <= kc; k += 8) {
                transpose8(blk + k, lda, t, 8); /* rows 6 and 7 are read (they exist) and dropped */
                for (int q = 0; q < 8; q++) memcpy(ap + (size_t)(k + q) * 6, t + q * 8, 6 * sizeof(float));
            }
            for (; k < kc; k++)
                for (int r = 0; r < 6; r++) ap[(size_t)k * 6 + r] = blk[(size_t)r * lda + k];
            continue;
        }
        if (!ta && mr == 4 && p + 8 <= mc && i0 + p + 8 <= M && have_avx2()) { /* two panels of 4 rows from 8 */
            const float *blk = A + (size_t)(i0 + p) * lda + k0;
            float *ap2 = ap + (size_t)4 * kc, t[64];
            int k = 0;
            for (; k + 8 <= kc; k += 8) {
                transpose8(blk + k, lda, t, 8);
                for (int q = 0; q < 8; q++) {
                    memcpy(ap + (size_t)(k + q) * 4, t + q * 8, 4 * sizeof(float));
                    memcpy(ap2 + (size_t)(k + q) * 4, t + q * 8 + 4, 4 * sizeof(float));
                }
            }
            for (; k < kc; k++)
                for (int r = 0; r < 4; r++) {
                    ap[(size_t)k * 4 + r] = blk[(size_t)r * lda + k];
                    ap2[(size_t)k * 4 + r] = blk[(size_t)(r + 4) * lda + k];
                }
            p += 4, ap += (size_t)4 * kc; /* the second panel done too */
            continue;
        }
#endif
        if (ta && p + mr <= mc && i0 + p + mr <= M) { /* op(A)'s rows are contiguous in A: mr floats per k */
            for (int k = 0; k < kc; k++) copy_floats(ap + (size_t)k * mr, A + (size_t)(k0 + k) * lda + i0 + p, mr);
            continue;
        }
        for (int r = 0; r < mr; r++) {
            int i = i0 + p + r;
            if (i >= M || p + r >= mc) {
                for (int k = 0; k < kc; k++) ap[(size_t)k * mr + r] = 0.0f;
            } else if (ta) {
                for (int k = 0; k < kc; k++) ap[(size_t)k * mr + r] = A[(size_t)(k0 + k) * lda + i];
            } else {
                const float *row = A + (size_t)i * lda + k0;
                for (int k = 0; k < kc; k++) ap[(size_t)k * mr + r] = row[k];
            }
        }
    }
}

/* The width of the panel of op(B) that starts at column p of a block of nc. */
static int panel_width(const gemm_isa *isa, int nc, int p)
{
    return isa->nr_narrow && nc - p <= isa->nr_narrow ? isa->nr_narrow : isa->nr;
}

/* op(B): a matrix (tb, B, ldb), or a packer (src, its columns from jbase). */
typedef struct {
    int tb;
    const float *B;
    int ldb;
    const sy_gemm_bsrc *src;
    int jbase;
} b_operand;

static void pack_b(const gemm_isa *isa, const b_operand *bo, int j0, int nc, int N, int k0, int kc, float *bp)
{
    const int tb = bo->tb, ldb = bo->ldb;
    const float *B = bo->B;
    for (int p = 0; p < nc; p += isa->nr) {
        int nr = panel_width(isa, nc, p), w = N - (j0 + p) < nr ? N - (j0 + p) : nr;
        if (w > nc - p) w = nc - p;
        float *pp = bp + (size_t)p * kc;
        if (bo->src) { /* the packer writes w columns per k; the panel's rest is zeros */
            bo->src->pack(bo->src, bo->jbase + j0 + p, w, k0, kc, nr, pp);
            if (w < nr)
                for (int k = 0; k < kc; k++) memset(pp + (size_t)k * nr + w, 0, (size_t)(nr - w) * sizeof(float));
            continue;
        }
#ifdef GEMM_X86
        if (tb && w == nr && nr % 8 == 0 && have_avx2()) { /* 8 columns, 8 k at a time */
            const float *blk = B + (size_t)(j0 + p) * ldb + k0;
            int k = 0;
            for (; k + 8 <= kc; k += 8)
                for (int c = 0; c < nr; c += 8) transpose8(blk + (size_t)c * ldb + k, ldb, pp + (size_t)k * nr + c, nr);
            for (; k < kc; k++)
                for (int c = 0; c < nr; c++) pp[(size_t)k * nr + c] = blk[(size_t)c * ldb + k];
            continue;
        }
#endif
        for (int k = 0; k < kc; k++) {
            float *dst = pp + (size_t)k * nr;
            if (tb)
                for (int c = 0; c < w; c++) dst[c] = B[(size_t)(j0 + p + c) * ldb + k0 + k];
            else
                copy_floats(dst, B + (size_t)(k0 + k) * ldb + j0 + p, w);
            for (int c = w; c < nr; c++) dst[c] = 0.0f;
        }
    }
}

/* This thread's packing buffers (threads.h: freed when the thread ends). */
static _Thread_local float *abuf, *bbuf;

static int buffers(void)
{
    abuf = sy_thread_scratch(SY_SCRATCH_GEMM_A, (size_t)MC * KC);
    bbuf = sy_thread_scratch(SY_SCRATCH_GEMM_B, (size_t)KC * NC);
    return abuf && bbuf;
}

static int gemm_core(int ta, int M, int N, int K, const float *A, int lda, const b_operand *bo, float beta, float *C,
                     int ldc)
{
    if (M <= 0 || N <= 0) return 0;
    if (beta != 0.0f && beta != 1.0f) return -1;
    if (K <= 0) {
        if (beta == 0.0f)
            for (int i = 0; i < M; i++) memset(C + (size_t)i * ldc, 0, (size_t)N * sizeof(float));
        return 0;
    }
    if (!buffers()) return -1;
    const gemm_isa *isa = &isas[isa_forced >= 0 ? isa_forced : sy_cpu_gemm_isa_best()];
    const int mr = isa->mr, ncb = NC / isa->nr * isa->nr; /* whole panels: the packed B block ends in one */
    float tile[8 * 32];
    for (int jc = 0; jc < N; jc += ncb) {
        int nc = N - jc < ncb ? N - jc : ncb;
        /* K in equal blocks of at most KC: no short last block, whose C
         * load and store would cost as much as a full one */
        int nkb = (K + KC - 1) / KC, kstep = (K + nkb - 1) / nkb;
        for (int pc = 0; pc < K; pc += kstep) {
            int kc = K - pc < kstep ? K - pc : kstep, zero = beta == 0.0f && pc == 0;
            pack_b(isa, bo, jc, nc, N, pc, kc, bbuf);
            for (int ic = 0; ic < M; ic += MC) {
                int mc = M - ic < MC ? M - ic : MC;
                pack_a(ta, A, lda, ic, mc, M, pc, kc, mr, abuf);
                for (int jr = 0; jr < nc; jr += isa->nr) {
                    const float *bp = bbuf + (size_t)jr * kc;
                    int nr = panel_width(isa, nc, jr), w = nc - jr < nr ? nc - jr : nr;
                    micro_fn kernel = nr == isa->nr ? isa->kernel : isa->narrow;
                    for (int ir = 0; ir < mc; ir += mr) {
                        const float *ap = abuf + (size_t)ir * kc;
                        int h = mc - ir < mr ? mc - ir : mr;
                        float *c = C + (size_t)(ic + ir) * ldc + jc + jr;
                        if (ir + mr < mc) /* the next tile's C, on its way while this one computes */
                            for (int r = 0; r < mr; r++) {
                                __builtin_prefetch(c + (size_t)(mr + r) * ldc, 1, 3);
                                __builtin_prefetch(c + (size_t)(mr + r) * ldc + w - 1, 1, 3);
                            }
                        if ((h == mr && w == nr) || isa->edges) {
                            kernel(kc, ap, bp, c, ldc, zero, h, w);
                            continue;
                        }
                        /* an edge tile: the same kernel on a full tile in
                         * registers' worth of scratch, then its valid part */
                        for (int r = 0; r < mr; r++)
                            for (int j = 0; j < nr; j++)
                                tile[r * nr + j] = zero || r >= h || j >= w ? 0.0f : c[(size_t)r * ldc + j];
                        kernel(kc, ap, bp, tile, nr, 0, mr, nr);
                        for (int r = 0; r < h; r++) memcpy(c + (size_t)r * ldc, tile + r * nr, (size_t)w * sizeof(float));
                    }
                }
            }
        }
    }
    return 0;
}

int sy_cpu_gemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc)
{
    b_operand bo = {tb, B, ldb, NULL, 0};
    return gemm_core(ta, M, N, K, A, lda, &bo, beta, C, ldc);
}

int sy_cpu_gemm_bsrc(int ta, int M, int N, int K, const float *A, int lda, const sy_gemm_bsrc *src, int src_j0,
                     float beta, float *C, int ldc)
{
    b_operand bo = {0, NULL, 0, src, src_j0};
    return gemm_core(ta, M, N, K, A, lda, &bo, beta, C, ldc);
}
