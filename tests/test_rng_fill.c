/* sy_rng_normal_fill: the bulk normal generator used for per-step noise.
 * Every element against the same Box-Muller transform computed in double from
 * the documented Philox layout (worst error reported), determinism and counter
 * advance, lengths that are not a multiple of the chunk, moments, a
 * Kolmogorov-Smirnov test and tail counts against the normal CDF, and
 * independence of streams and of the cos/sin partners. Fixed seeds; every
 * bound is several standard errors wide, and a generator with a wrong
 * polynomial, quadrant or layout fails it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/core.h"

#define BIG (1u << 20)

/* Element i of a fill started from state r, in double (core.h's layout). */
static double ref_at(sy_rng r, size_t i)
{
    uint32_t o[4];
    size_t chunk = i / 64, j = i % 64, w = j / 16, l = j % 16;
    sy_philox(r.key, r.sub, r.counter + chunk * 16 + l, o);
    uint32_t a = w < 2 ? o[0] : o[2], b = w < 2 ? o[1] : o[3];
    double u1 = ((double)(a >> 8) + 1.0) / 16777216.0, u2 = (double)(b >> 8) / 16777216.0;
    double rr = sqrt(-2.0 * log(u1)), ang = 6.283185307179586476925 * u2;
    return rr * ((w & 1) ? sin(ang) : cos(ang));
}

static float *fill(uint64_t seed, uint32_t stream, uint64_t sub, size_t n)
{
    float *a = malloc(n * sizeof *a);
    assert_non_null(a);
    sy_rng r = sy_rng_make(seed, stream, sub);
    sy_rng_normal_fill(&r, a, n);
    return a;
}

static void test_against_double(void **state)
{
    (void)state;
    sy_rng r = sy_rng_make(3, SY_STREAM_NOISE, 5);
    r.counter = 123456789ull; /* mid-stream, and counters crossing 2^32 below */
    const size_t n = BIG + 37;
    float *a = malloc(n * sizeof *a);
    assert_non_null(a);
    sy_rng w = r;
    sy_rng_normal_fill(&w, a, n);
    double worst = 0, worst_rel = 0;
    for (size_t i = 0; i < n; i++) {
        double d = fabs(a[i] - ref_at(r, i)), ref = fabs(ref_at(r, i));
        if (d > worst) worst = d;
        if (ref > 0.01 && d / ref > worst_rel) worst_rel = d / ref;
    }
    sy_rng hi = sy_rng_make(3, SY_STREAM_NOISE, 5);
    hi.counter = 0xFFFFFFF8ull; /* the low counter word wraps inside a chunk */
    sy_rng h2 = hi;
    sy_rng_normal_fill(&h2, a, 640);
    for (size_t i = 0; i < 640; i++) {
        double d = fabs(a[i] - ref_at(hi, i));
        if (d > worst) worst = d;
    }
    printf("# sy_rng_normal_fill vs double: max abs error %.3g, max rel error (|z| > 0.01) %.3g\n", worst, worst_rel);
    assert_true(worst < 1e-6);
    assert_true(worst_rel < 1e-6);
    free(a);
}

static void test_determinism_and_lengths(void **state)
{
    (void)state;
    float *a = fill(9, SY_STREAM_NOISE, 2, 1000), *b = fill(9, SY_STREAM_NOISE, 2, 1000);
    assert_memory_equal(a, b, 1000 * sizeof *a);
    /* A length that is no multiple of 64 is the prefix of a longer fill, and
     * nothing past n is written. */
    float *c = malloc(1100 * sizeof *c);
    assert_non_null(c);
    for (size_t n = 1; n <= 130; n++) {
        for (int k = 0; k < 1100; k++) c[k] = -99.0f;
        sy_rng r = sy_rng_make(9, SY_STREAM_NOISE, 2);
        sy_rng_normal_fill(&r, c, n);
        assert_memory_equal(c, a, n * sizeof *a);
        assert_true(c[n] == -99.0f);
        assert_int_equal(r.counter, 16 * ((n + 63) / 64)); /* 16 blocks per started chunk */
    }
    /* Fills of whole chunks continue the stream. */
    sy_rng r = sy_rng_make(9, SY_STREAM_NOISE, 2);
    sy_rng_normal_fill(&r, c, 640);
    sy_rng_normal_fill(&r, c + 640, 360);
    assert_memory_equal(c, a, 1000 * sizeof *a);
    /* Another sub-stream, stream or seed gives other numbers. */
    float *d = fill(9, SY_STREAM_NOISE, 3, 1000), *e = fill(9, SY_STREAM_DATA, 2, 1000), *f = fill(10, SY_STREAM_NOISE, 2, 1000);
    int same_d = 0, same_e = 0, same_f = 0;
    for (int i = 0; i < 1000; i++) same_d += a[i] == d[i], same_e += a[i] == e[i], same_f += a[i] == f[i];
    assert_true(same_d < 5 && same_e < 5 && same_f < 5);
    free(a), free(b), free(c), free(d), free(e), free(f);
}

/* The stream is pinned: recorded vae results depend on it, and it must be
 * the same bits on every build (SSE2 to AVX-512, any -O, ASan). */
static void test_pinned_stream(void **state)
{
    (void)state;
    float *a = fill(5, SY_STREAM_NOISE, 3, 100003);
    uint64_t h = 1469598103934665603ull; /* FNV-1a over the float bits */
    for (int i = 0; i < 100003; i++) {
        uint32_t b;
        memcpy(&b, a + i, sizeof b);
        h = (h ^ b) * 1099511628211ull;
    }
    assert_true(h == 0x5d71c4f1ead31304ull);
    free(a);
}

static double norm_cdf(double x) { return 0.5 * erfc(-x / sqrt(2.0)); }

static int cmp_float(const void *x, const void *y)
{
    float a = *(const float *)x, b = *(const float *)y;
    return (a > b) - (a < b);
}

static void test_distribution(void **state)
{
    (void)state;
    const size_t n = BIG;
    float *a = fill(1, SY_STREAM_NOISE, 0, n);
    double m1 = 0, m2 = 0, m3 = 0, m4 = 0;
    size_t t3 = 0, t4 = 0;
    for (size_t i = 0; i < n; i++) {
        double z = a[i];
        m1 += z, m2 += z * z, m3 += z * z * z, m4 += z * z * z * z;
        t3 += fabs(z) > 3.0, t4 += fabs(z) > 4.0;
        assert_true(fabs(z) <= 5.78);
    }
    m1 /= n, m2 /= n, m3 /= n, m4 /= n;
    /* standard errors: mean 1/sqrt(n) = 0.001, var sqrt(2/n) = 0.0014,
     * third moment sqrt(15/n) = 0.0038, fourth sqrt(96/n) = 0.0096 */
    printf("# moments: mean %.5f var %.5f m3 %.5f m4 %.5f; |z|>3: %zu, |z|>4: %zu\n", m1, m2, m3, m4, t3, t4);
    assert_true(fabs(m1) < 0.005);
    assert_true(fabs(m2 - 1.0) < 0.007);
    assert_true(fabs(m3) < 0.019);
    assert_true(fabs(m4 - 3.0) < 0.048);
    /* tails: expected counts n P(|z| > t), sd sqrt(count) */
    double e3 = n * 2.0 * (1.0 - norm_cdf(3.0)), e4 = n * 2.0 * (1.0 - norm_cdf(4.0));
    assert_true(fabs((double)t3 - e3) < 5.0 * sqrt(e3));
    assert_true(fabs((double)t4 - e4) < 5.0 * sqrt(e4) + 1.0);
    /* Kolmogorov-Smirnov: sqrt(n) D < 1.95 holds with probability 0.999. */
    qsort(a, n, sizeof *a, cmp_float);
    double D = 0;
    for (size_t i = 0; i < n; i++) {
        double F = norm_cdf(a[i]), lo = F - (double)i / n, hi = (double)(i + 1) / n - F;
        if (lo > D) D = lo;
        if (hi > D) D = hi;
    }
    printf("# KS: sqrt(n) D = %.3f (n = %zu)\n", sqrt((double)n) * D, n);
    assert_true(sqrt((double)n) * D < 1.95);
    /* chi-square on 64 equiprobable bins of Phi(z): 63 degrees of freedom,
     * the 0.999 quantile is 103.4 */
    size_t bins[64] = {0};
    for (size_t i = 0; i < n; i++) {
        int k = (int)(norm_cdf(a[i]) * 64.0);
        bins[k > 63 ? 63 : k]++;
    }
    double chi = 0, ex = (double)n / 64;
    for (int k = 0; k < 64; k++) chi += ((double)bins[k] - ex) * ((double)bins[k] - ex) / ex;
    printf("# chi-square (64 bins) = %.1f\n", chi);
    assert_true(chi < 103.4);
    free(a);
}

static double corr(const float *x, const float *y, size_t n, int squares)
{
    double sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
    for (size_t i = 0; i < n; i++) {
        double a = squares ? (double)x[i] * x[i] : x[i], b = squares ? (double)y[i] * y[i] : y[i];
        sx += a, sy += b, sxx += a * a, syy += b * b, sxy += a * b;
    }
    double cxy = sxy / n - sx / n * sy / n, vx = sxx / n - sx / n * sx / n, vy = syy / n - sy / n * sy / n;
    return cxy / sqrt(vx * vy);
}

static void test_independence(void **state)
{
    (void)state;
    const size_t n = BIG;
    float *a = fill(1, SY_STREAM_NOISE, 0, n), *b = fill(1, SY_STREAM_NOISE, 1, n), *c = fill(1, SY_STREAM_INIT, 0, n);
    double bound = 5.0 / sqrt((double)n); /* five standard errors */
    assert_true(fabs(corr(a, b, n, 0)) < bound);
    assert_true(fabs(corr(a, c, n, 0)) < bound);
    assert_true(fabs(corr(a, b, n, 1)) < 2 * bound);
    /* neighbours, and the cos/sin partners that share one radius (elements
     * l and 16 + l of a chunk): uncorrelated, and so are their squares */
    size_t m = n / 64 * 16;
    float *cs = malloc(m * sizeof *cs), *sn = malloc(m * sizeof *sn);
    assert_non_null(cs);
    assert_non_null(sn);
    for (size_t k = 0, c0 = 0; c0 < n; c0 += 64)
        for (int l = 0; l < 16; l++, k++) cs[k] = a[c0 + l], sn[k] = a[c0 + 16 + l];
    double pb = 5.0 / sqrt((double)m);
    printf("# corr: streams %.2e, lag-1 %.2e, cos/sin %.2e, squares %.2e\n", corr(a, b, n, 0),
           corr(a, a + 1, n - 1, 0), corr(cs, sn, m, 0), corr(cs, sn, m, 1));
    assert_true(fabs(corr(a, a + 1, n - 1, 0)) < bound);
    assert_true(fabs(corr(cs, sn, m, 0)) < pb);
    assert_true(fabs(corr(cs, sn, m, 1)) < 2 * pb);
    free(a), free(b), free(c), free(cs), free(sn);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_against_double),
        cmocka_unit_test(test_determinism_and_lengths),
        cmocka_unit_test(test_pinned_stream),
        cmocka_unit_test(test_distribution),
        cmocka_unit_test(test_independence),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
