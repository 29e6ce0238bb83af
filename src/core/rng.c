/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3")
 * as the single source of randomness. Counter-based, so any element of any
 * stream can be drawn directly: this is what lets the memory-free syre variant
 * regenerate theta0 inside the update and the GPU draw the same numbers. */
#include "syre/core.h"
#include "core/fast_log.h"

#include <math.h>
#include <stdatomic.h>
#include <string.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

void sy_philox(uint64_t key, uint64_t c_hi, uint64_t c_lo, uint32_t out[4])
{
    uint32_t c0 = (uint32_t)c_lo, c1 = (uint32_t)(c_lo >> 32);
    uint32_t c2 = (uint32_t)c_hi, c3 = (uint32_t)(c_hi >> 32);
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)PHILOX_M0 * c0;
        uint64_t p1 = (uint64_t)PHILOX_M1 * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

/* splitmix64 finaliser: spreads (seed, stream) over the 64-bit key space. */
static uint64_t mix64(uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

uint64_t sy_rng_key(uint64_t seed, uint32_t stream)
{
    return mix64(mix64(seed) ^ ((uint64_t)stream * 0x632BE59BD9B4E019ull));
}

/* 24 random bits -> [0, 1), exactly representable in float. */
static float u32_to_unit(uint32_t x) { return (float)(x >> 8) * (1.0f / 16777216.0f); }

/* Box-Muller from two u32; (0, 1] for the log argument so it never sees 0. */
static float box_muller(uint32_t a, uint32_t b)
{
    double u1 = ((double)(a >> 8) + 1.0) * (1.0 / 16777216.0);
    double u2 = (double)(b >> 8) * (1.0 / 16777216.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

float sy_rng_uniform_at(uint64_t key, uint64_t sub, uint64_t index)
{
    uint32_t o[4];
    sy_philox(key, sub, index, o);
    return u32_to_unit(o[0]);
}

float sy_rng_normal_at(uint64_t key, uint64_t sub, uint64_t index)
{
    uint32_t o[4];
    sy_philox(key, sub, index, o);
    return box_muller(o[0], o[1]);
}

sy_rng sy_rng_make(uint64_t seed, uint32_t stream, uint64_t sub)
{
    sy_rng r = {sy_rng_key(seed, stream), sub, 0};
    return r;
}

uint32_t sy_rng_u32(sy_rng *r)
{
    uint32_t o[4];
    sy_philox(r->key, r->sub, r->counter++, o);
    return o[0];
}

float sy_rng_uniform(sy_rng *r) { return u32_to_unit(sy_rng_u32(r)); }

float sy_rng_normal(sy_rng *r)
{
    uint32_t o[4];
    sy_philox(r->key, r->sub, r->counter++, o);
    return box_muller(o[0], o[1]);
}

uint32_t sy_rng_below(sy_rng *r, uint32_t n)
{
    /* Lemire's multiply-shift; the tiny bias (< n / 2^32) is irrelevant here. */
    return (uint32_t)(((uint64_t)sy_rng_u32(r) * n) >> 32);
}

void sy_rng_shuffle(sy_rng *r, int *idx, size_t n)
{
    for (size_t i = n; i > 1; i--) {
        size_t j = sy_rng_below(r, (uint32_t)i);
        int t = idx[i - 1];
        idx[i - 1] = idx[j];
        idx[j] = t;
    }
}

/* ---- bulk normal noise (sy_rng_normal_fill) ----------------------------------
 * Written for the compiler's auto-vectoriser: Philox on SY_FILL_LANES counters
 * at once (its 32x32->64 products vectorise as vpmuludq), then a float
 * Box-Muller on both Philox pairs with both cos and sin, so one block gives
 * four normals. log, sin and cos are branch-free polynomials. This file is
 * compiled with strict IEEE rounding (no FMA contraction), and every operation
 * used is correctly rounded (+, *, /, sqrtf, int<->float), so the stream is
 * bit-identical on every x86-64 build (SSE2, AVX2, AVX-512) and thread count.
 *
 * Uniforms as in sy_rng_normal: u1 = (a>>8 + 1) 2^-24 in (0, 1], u2 = (b>>8)
 * 2^-24 in [0, 1), both exact floats, so |z| <= sqrt(48 ln 2) = 5.77 and the
 * only differences from the exact transform are the polynomial and float
 * rounding errors (tests/test_rng_fill.c measures them against double). */
#define SY_FILL_LANES 16
#define SY_FILL_CHUNK (4 * SY_FILL_LANES)

/* -2 ln(u) for u = k 2^-24, k in [1, 2^24]: u = 2^e m, m in [sqrt(1/2), sqrt(2)),
 * ln m = 2 atanh(s), s = (m - 1) / (m + 1), |s| <= 0.172, odd series to s^11
 * (truncation < 2e-11). */
static inline float neg2log_unit(uint32_t k)
{
    float u = (float)(int32_t)k * (1.0f / 16777216.0f);
    uint32_t bits;
    memcpy(&bits, &u, sizeof bits);
    int32_t e = (int32_t)(bits >> 23) - 127;
    uint32_t mb = (bits & 0x007FFFFFu) | 0x3F800000u;
    float m;
    /* m > sqrt(2): halve it (exponent field minus one); integer ops only,
     * so the loop needs no selects */
    uint32_t big = mb > 0x3FB504F3u;
    mb -= big << 23;
    e += (int32_t)big;
    memcpy(&m, &mb, sizeof m);
    float fe = (float)e;
    /* ln 2 split so that e * hi is exact */
    float l = fe * 0.693145752f + (sy_log_mantissa_series((m - 1.0f) / (m + 1.0f)) + fe * 1.42860677e-6f);
    return -2.0f * l;
}

/* cos and sin of 2 pi b / 2^24, b in [0, 2^24): exact integer reduction to a
 * quadrant q and |theta| <= pi/4, then Taylor polynomials (truncation < 2e-9). */
static inline void sincos_turn24(uint32_t b, float *co, float *si)
{
    uint32_t q4 = (b + (1u << 21)) >> 22;                 /* 0..4 */
    int32_t f = (int32_t)b - (int32_t)(q4 << 22);       /* [-2^21, 2^21) */
    uint32_t q = q4 & 3u;
    float t = (float)f * (6.28318530717958648f / 16777216.0f), t2 = t * t;
    float sp = 1.0f / 362880.0f;
    sp = sp * t2 - 1.0f / 5040.0f;
    sp = sp * t2 + 1.0f / 120.0f;
    sp = sp * t2 - 1.0f / 6.0f;
    float sn = t + t * (t2 * sp);
    float cp = -1.0f / 3628800.0f;
    cp = cp * t2 + 1.0f / 40320.0f;
    cp = cp * t2 - 1.0f / 720.0f;
    cp = cp * t2 + 1.0f / 24.0f;
    cp = cp * t2 - 0.5f;
    float cs = 1.0f + t2 * cp;
    /* angle = q pi/2 + theta: (cos, sin) = (c, s), (-s, c), (-c, -s), (s, -c) */
    uint32_t cb, sb, odd = 0u - (q & 1u); /* all ones for odd q */
    memcpy(&cb, &cs, sizeof cb);
    memcpy(&sb, &sn, sizeof sb);
    uint32_t c = (cb & ~odd) | (sb & odd), s = (sb & ~odd) | (cb & odd);
    c ^= ((q + 1u) & 2u) << 30; /* sign flips as bit operations */
    s ^= (q & 2u) << 30;
    memcpy(co, &c, sizeof c);
    memcpy(si, &s, sizeof s);
}

typedef uint32_t sy_u32v __attribute__((vector_size(4 * SY_FILL_LANES)));

/* a * m for every 32-bit lane: the high halves into *hi, the low into *lo.
 * pmuludq multiplies the even 32-bit lanes into 64-bit products; the odd
 * lanes go through a shift (the compiler does not find this for 64-bit
 * products on its own). One form per x86 instruction set (sy_mulv: its
 * widest integer vector). */
#define MUL_V_BODY(sy_mulv, MUL_EPU32, SRLI64, SLLI64, AND, OR, SET1)                                      \
    {                                                                                                   \
        const sy_mulv mv = SET1((long long)m), mask = SET1(0xFFFFFFFFll),                                \
                      himask = SET1((long long)0xFFFFFFFF00000000ull);                                   \
        for (int k = 0; k < (int)(sizeof(sy_u32v) / sizeof(sy_mulv)); k++) {                            \
            sy_mulv v, h, l;                                                                            \
            memcpy(&v, (const char *)a + k * sizeof v, sizeof v);                                       \
            sy_mulv pe = MUL_EPU32(v, mv), po = MUL_EPU32(SRLI64(v, 32), mv);                           \
            h = OR(SRLI64(pe, 32), AND(po, himask));                                                    \
            l = OR(AND(pe, mask), SLLI64(po, 32));                                                      \
            memcpy((char *)hi + k * sizeof h, &h, sizeof h);                                            \
            memcpy((char *)lo + k * sizeof l, &l, sizeof l);                                            \
        }                                                                                               \
    }

typedef void (*normal_chunk_fn)(uint64_t, uint64_t, uint64_t, float *);

#if defined(__x86_64__) || defined(__i386__)
/* x86: SSE2 (every x86-64), AVX2 and AVX-512 forms, chosen at run time. */
static inline void mul_v_sse2(const sy_u32v *a, uint32_t m, sy_u32v *hi, sy_u32v *lo)
    MUL_V_BODY(__m128i, _mm_mul_epu32, _mm_srli_epi64, _mm_slli_epi64, _mm_and_si128, _mm_or_si128, _mm_set1_epi64x)
__attribute__((target("avx2"))) static inline void mul_v_avx2(const sy_u32v *a, uint32_t m, sy_u32v *hi,
                                                              sy_u32v *lo)
    MUL_V_BODY(__m256i, _mm256_mul_epu32, _mm256_srli_epi64, _mm256_slli_epi64, _mm256_and_si256, _mm256_or_si256,
               _mm256_set1_epi64x)
__attribute__((target("avx512f"))) static inline void mul_v_avx512(const sy_u32v *a, uint32_t m, sy_u32v *hi,
                                                                   sy_u32v *lo)
    MUL_V_BODY(__m512i, _mm512_mul_epu32, _mm512_srli_epi64, _mm512_slli_epi64, _mm512_and_si512, _mm512_or_si512,
               _mm512_set1_epi64)

#define SY_CHUNK_NAME normal_chunk_sse2
#define SY_CHUNK_ATTR
#define SY_CHUNK_MUL mul_v_sse2
#include "core/rng_chunk.h"
#define SY_CHUNK_NAME normal_chunk_avx2
#define SY_CHUNK_ATTR __attribute__((target("avx2")))
#define SY_CHUNK_MUL mul_v_avx2
#include "core/rng_chunk.h"
#define SY_CHUNK_NAME normal_chunk_avx512
#define SY_CHUNK_ATTR __attribute__((target("avx512f")))
#define SY_CHUNK_MUL mul_v_avx512
#include "core/rng_chunk.h"

/* The widest form this CPU runs (cpuid through libgcc, which also checks
 * that the OS saves the registers); racing first calls store the same one. */
static normal_chunk_fn pick_normal_chunk(void)
{
    static _Atomic(normal_chunk_fn) fn;
    normal_chunk_fn f = atomic_load_explicit(&fn, memory_order_relaxed);
    if (!f) {
        __builtin_cpu_init();
        f = __builtin_cpu_supports("avx512f") ? normal_chunk_avx512
            : __builtin_cpu_supports("avx2")  ? normal_chunk_avx2
                                              : normal_chunk_sse2;
        atomic_store_explicit(&fn, f, memory_order_relaxed);
    }
    return f;
}
#else
static inline void mul_v_generic(const sy_u32v *a, uint32_t m, sy_u32v *hi, sy_u32v *lo)
{
    for (int l = 0; l < SY_FILL_LANES; l++) {
        uint64_t p = (uint64_t)m * (*a)[l];
        (*hi)[l] = (uint32_t)(p >> 32);
        (*lo)[l] = (uint32_t)p;
    }
}
#define SY_CHUNK_NAME normal_chunk_generic
#define SY_CHUNK_ATTR
#define SY_CHUNK_MUL mul_v_generic
#include "core/rng_chunk.h"
static normal_chunk_fn pick_normal_chunk(void) { return normal_chunk_generic; }
#endif

void sy_rng_normal_fill(sy_rng *r, float *out, size_t n)
{
    normal_chunk_fn normal_chunk = pick_normal_chunk();
    size_t i = 0;
    for (; i + SY_FILL_CHUNK <= n; i += SY_FILL_CHUNK, r->counter += SY_FILL_LANES)
        normal_chunk(r->key, r->sub, r->counter, out + i);
    if (i < n) {
        float tmp[SY_FILL_CHUNK];
        normal_chunk(r->key, r->sub, r->counter, tmp);
        memcpy(out + i, tmp, sizeof(float) * (n - i));
        r->counter += SY_FILL_LANES;
    }
}
