/* Philox4x32-10 (Salmon et al., "Parallel random numbers: as easy as 1, 2, 3")
 * as the single source of randomness. Counter-based, so any element of any
 * stream can be drawn directly: this is what lets the memory-free syre variant
 * regenerate theta0 inside the update and the GPU draw the same numbers. */
#include "syre/core.h"

#include <math.h>

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
