/* Tests of src/metrics against hand-computed cases: covariance spectra and
 * ranks (including exact threshold boundaries), effective and stable rank,
 * dead and distinct units, the quartic toy, and rejection of bad input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "syre/core.h"
#include "syre/metrics.h"

static float *randn(uint64_t seed, size_t n)
{
    float *a = malloc(n * sizeof *a);
    assert_non_null(a);
    sy_rng r = sy_rng_make(seed, SY_STREAM_USER, 0);
    for (size_t i = 0; i < n; i++)
        a[i] = sy_rng_normal(&r);
    return a;
}

/* |a - b| <= tol (this cmocka predates assert_double_equal). */
#define assert_near(a, b, tol)                                                        \
    do {                                                                              \
        double a_ = (a), b_ = (b), t_ = (tol);                                        \
        if (!(fabs(a_ - b_) <= t_))                                                   \
            fail_msg("%s = %.17g, expected %.17g (tol %g)", #a, a_, b_, t_);          \
    } while (0)

/* A failing call must return `code` and leave a message. */
#define assert_fails(code, call)                                   \
    do {                                                           \
        sy_clear_error();                                          \
        assert_int_equal((call), (code));                          \
        assert_true(strlen(sy_last_error()) > 0);                  \
    } while (0)

/* ---- covariance --------------------------------------------------------- */

static void test_cov_correlated_features(void **state)
{
    (void)state;
    /* Feature 2 = 2 * feature 1 (+ const): covariance [[v, 2v], [2v, 4v]] with
     * v = var(a) = 1.25 for a = 1..4, eigenvalues 5v and exactly 0. */
    const float X[4 * 2] = {1, 5, 2, 7, 3, 9, 4, 11};
    double eig[2];
    assert_int_equal(sy_cov_spectrum(X, 4, 2, eig), SY_OK);
    assert_near(eig[0], 6.25, 1e-12);
    assert_near(eig[1], 0.0, 1e-12);
    int rank = -1;
    assert_int_equal(sy_cov_rank(X, 4, 2, SY_COV_RANK_THR, &rank), SY_OK);
    assert_int_equal(rank, 1);
    double share = -1;
    assert_int_equal(sy_cov_low_rankness(X, 4, 2, SY_LOW_RANKNESS_THR, &share), SY_OK);
    assert_near(share, 0.5, 0);
    /* scale multiplies the covariance (inputs scaled by alpha: pass 1/alpha^2). */
    assert_int_equal(sy_cov_spectrum_scaled(X, 4, 2, 0.04, eig), SY_OK);
    assert_near(eig[0], 0.25, 1e-12);
    /* scale 1 is the plain spectrum, bit for bit */
    double e1[2], e2[2];
    assert_int_equal(sy_cov_spectrum(X, 4, 2, e1), SY_OK);
    assert_int_equal(sy_cov_spectrum_scaled(X, 4, 2, 1.0, e2), SY_OK);
    assert_memory_equal(e1, e2, sizeof e1);
}

static void test_cov_threshold_boundary(void **state)
{
    (void)state;
    /* Centred, orthogonal columns: covariance = diag(0.5, 0.125) exactly
     * (powers of two, so dsyevd returns them exactly). The rank counts
     * eigenvalues strictly above thr. */
    const float X[4 * 2] = {1, 0, -1, 0, 0, 0.5f, 0, -0.5f};
    double eig[2];
    assert_int_equal(sy_cov_spectrum(X, 4, 2, eig), SY_OK);
    assert_near(eig[0], 0.5, 0);
    assert_near(eig[1], 0.125, 0);
    int rank;
    assert_int_equal(sy_cov_rank(X, 4, 2, 0.125, &rank), SY_OK);
    assert_int_equal(rank, 1);
    assert_int_equal(sy_cov_rank(X, 4, 2, nextafter(0.125, 0), &rank), SY_OK);
    assert_int_equal(rank, 2);
    assert_int_equal(sy_cov_rank(X, 4, 2, 0.5, &rank), SY_OK);
    assert_int_equal(rank, 0);
    /* Spectrum helpers: > for the count, < for the share, both strict. */
    const double spec[4] = {1e-3, 1e-4, 1e-5, 1e-6};
    assert_int_equal(sy_spectrum_count_above(spec, 4, 1e-4), 1);
    assert_near(sy_spectrum_share_below(spec, 4, 1e-5), 0.25, 0);
    assert_near(sy_spectrum_share_below(spec, 0, 1e-5), 0.0, 0);
}

/* X = A [n, r] * Bf [r, f] with Gaussian factors has rank r. */
static float *low_rank(int n, int f, int r, uint64_t seed)
{
    float *A = randn(seed, (size_t)n * r), *B = randn(seed + 1, (size_t)r * f);
    float *X = calloc((size_t)n * f, sizeof *X);
    assert_non_null(X);
    for (int s = 0; s < n; s++)
        for (int k = 0; k < r; k++)
            for (int j = 0; j < f; j++)
                X[(size_t)s * f + j] += A[(size_t)s * r + k] * B[(size_t)k * f + j];
    free(A);
    free(B);
    return X;
}

static void test_cov_rank_of_product(void **state)
{
    (void)state;
    const int n = 1000, f = 300, r = 17;
    float *X = low_rank(n, f, r, 42);
    double *eig = malloc(f * sizeof *eig);
    assert_int_equal(sy_cov_spectrum(X, n, f, eig), SY_OK);
    for (int i = 1; i < f; i++)
        assert_true(eig[i] <= eig[i - 1]);   /* descending */
    int rank;
    assert_int_equal(sy_cov_rank(X, n, f, SY_COV_RANK_THR, &rank), SY_OK);
    assert_int_equal(rank, r);
    assert_int_equal(sy_cov_rank(X, n, f, SY_COV_RANK_THR_VAE, &rank), SY_OK);
    assert_int_equal(rank, r);
    double share;
    assert_int_equal(sy_cov_low_rankness(X, n, f, SY_LOW_RANKNESS_THR, &share), SY_OK);
    assert_near(share, (double)(f - r) / f, 1e-15);
    /* The same rank with the stable and effective ranks bounded by it. */
    int srank;
    double erank;
    assert_int_equal(sy_rank_measures(X, n, f, 0.99, &erank, &srank), SY_OK);
    assert_true(srank >= 1 && srank <= r);
    assert_true(erank > 1 && erank <= r + 1e-9);
    free(eig);
    free(X);
}

/* ---- effective and stable rank ------------------------------------------- */

static void test_effective_rank_equal_singular_values(void **state)
{
    (void)state;
    /* Tall [10, 6] and wide [6, 10], each with four singular values of 3. */
    float X[60] = {0}, Xt[60] = {0};
    for (int i = 0; i < 4; i++) {
        X[i * 6 + (i + 1)] = (i % 2) ? 3.0f : -3.0f;
        Xt[(i + 1) * 10 + i] = 3.0f;
    }
    double erank;
    assert_int_equal(sy_effective_rank(X, 10, 6, &erank), SY_OK);
    assert_near(erank, 4.0, 1e-12);
    assert_int_equal(sy_effective_rank(Xt, 6, 10, &erank), SY_OK);
    assert_near(erank, 4.0, 1e-12);
    double s[6];
    assert_int_equal(sy_singular_values(X, 10, 6, s), SY_OK);
    for (int i = 0; i < 6; i++)
        assert_near(s[i], i < 4 ? 3.0 : 0.0, 1e-12);
    /* Zero matrix: defined as 0, not NaN. */
    float Z[12] = {0};
    int srank = -1;
    assert_int_equal(sy_rank_measures(Z, 3, 4, 0.99, &erank, &srank), SY_OK);
    assert_near(erank, 0.0, 0);
    assert_int_equal(srank, 0);
}

static void test_effective_rank_rank_one(void **state)
{
    (void)state;
    /* u v^T with small integers: exactly rank 1 in float. X is not centred,
     * so adding the constant does not matter here (it is still rank 1). */
    enum { N = 50, F = 40 };
    float *X = malloc(N * F * sizeof *X);
    for (int s = 0; s < N; s++)
        for (int j = 0; j < F; j++)
            X[s * F + j] = (float)((s % 7) - 3) * (float)((j % 5) + 1);
    double erank;
    int srank;
    assert_int_equal(sy_rank_measures(X, N, F, 0.99, &erank, &srank), SY_OK);
    assert_near(erank, 1.0, 1e-9);
    assert_int_equal(srank, 1);
    free(X);
}

static void test_stable_rank_spectrum(void **state)
{
    (void)state;
    /* Cumulative shares 0.6, 0.9, 0.995, 1: 99% first reached at k = 3. */
    const double s1[4] = {60, 30, 9.5, 0.5};
    assert_int_equal(sy_stable_rank_sv(s1, 4, 0.99), 3);
    assert_int_equal(sy_stable_rank_sv(s1, 4, 0.9), 2);
    assert_int_equal(sy_stable_rank_sv(s1, 4, 1.0), 4);
    /* 0.5, 0.8, 0.95, 0.985, 1: needs all five. */
    const double s2[5] = {50, 30, 15, 3.5, 1.5};
    assert_int_equal(sy_stable_rank_sv(s2, 5, 0.99), 5);
    /* Same spectrum s1 built as a diagonal matrix [6, 4], through the Gram path. */
    float X[24] = {0};
    for (int i = 0; i < 4; i++)
        X[i * 4 + i] = (float)s1[i];
    int srank;
    assert_int_equal(sy_stable_rank(X, 6, 4, SY_STABLE_RANK_COVER, &srank), SY_OK);
    assert_int_equal(srank, 3);
    /* Effective rank of s1 by hand. */
    double h = 0;
    for (int i = 0; i < 4; i++)
        h -= s1[i] / 100 * log(s1[i] / 100);
    double erank;
    assert_int_equal(sy_effective_rank(X, 6, 4, &erank), SY_OK);
    assert_near(erank, exp(h), 1e-9);
    assert_near(sy_effective_rank_sv(s1, 4), exp(h), 1e-12);
}

/* ---- dead and distinct units, norms --------------------------------------- */

static void test_dead_units_activations(void **state)
{
    (void)state;
    /* [3, 4] ReLU outputs: unit 1 always 0, unit 3 always <= 0.1. */
    const float X[12] = {0.5f, 0, 0, 0.1f,
                         0,    0, 2, 0.0f,
                         0,    0, 0, 0.05f};
    int count = -1;
    unsigned char dead[4];
    assert_int_equal(sy_dead_units_act(X, 3, 4, 0.0f, &count, dead), SY_OK);
    assert_int_equal(count, 1);
    assert_int_equal(dead[1], 1);
    assert_int_equal(dead[0] + dead[2] + dead[3], 0);
    assert_int_equal(sy_dead_units_act(X, 3, 4, 0.1f, &count, NULL), SY_OK);
    assert_int_equal(count, 2);
}

static void test_dead_units_parameters(void **state)
{
    (void)state;
    /* f = 3 units, in = 2, out = 2. Unit 0: all small -> dead. Unit 1: small
     * incoming and outgoing but a large bias. Unit 2: large outgoing only. */
    const float W_in[3 * 2] = {1e-4f, -1e-4f, 0, 1e-5f, 0, 0};
    const float b[3] = {0, 0.5f, 0};
    const float W_out[2 * 3] = {1e-4f, 0, 0, -1e-4f, 0, -2.0f};
    int count;
    unsigned char dead[3];
    assert_int_equal(sy_dead_units_param(W_in, 3, 2, NULL, W_out, 2, 1e-3f, &count, dead), SY_OK);
    assert_int_equal(count, 2);   /* without the bias, unit 1 is dead too */
    assert_true(dead[0] && dead[1] && !dead[2]);
    assert_int_equal(sy_dead_units_param(W_in, 3, 2, b, W_out, 2, 1e-3f, &count, dead), SY_OK);
    assert_int_equal(count, 1);
    assert_true(dead[0] && !dead[1] && !dead[2]);
    assert_int_equal(sy_dead_units_param(W_in, 3, 2, b, NULL, 0, 1e-3f, &count, dead), SY_OK);
    assert_int_equal(count, 2);   /* without W_out, unit 2 looks dead */
    /* Threshold is inclusive: |w| <= thr. */
    assert_int_equal(sy_dead_units_param(W_in, 3, 2, NULL, NULL, 0, 1e-4f, &count, NULL), SY_OK);
    assert_int_equal(count, 3);
}

static void test_distinct_units(void **state)
{
    (void)state;
    /* f = 5, in = 3: rows 0, 2, 4 identical (4 within tol), 1 and 3 distinct. */
    const float W_in[5 * 3] = {1, 2, 3,
                               0, 1, 0,
                               1, 2, 3,
                               0, 1, 0.5f,
                               1, 2, 3.0005f};
    int classes;
    assert_int_equal(sy_distinct_units(W_in, 5, 3, NULL, NULL, 0, 1e-3f, &classes), SY_OK);
    assert_int_equal(classes, 3);
    assert_int_equal(sy_distinct_units(W_in, 5, 3, NULL, NULL, 0, 0.0f, &classes), SY_OK);
    assert_int_equal(classes, 4);
    /* A bias separates unit 2 from 0 and 4. */
    const float b[5] = {0, 0, 1, 0, 0};
    assert_int_equal(sy_distinct_units(W_in, 5, 3, b, NULL, 0, 1e-3f, &classes), SY_OK);
    assert_int_equal(classes, 4);
    /* Outgoing columns [out = 2, f = 5]: column 4 differs from 0. */
    const float W_out[2 * 5] = {1, 0, 1, 0, 1,
                                2, 0, 2, 0, 7};
    assert_int_equal(sy_distinct_units(W_in, 5, 3, NULL, W_out, 2, 1e-3f, &classes), SY_OK);
    assert_int_equal(classes, 4);
    /* Chains join transitively: 0 ~ 1 ~ 2 with 0 and 2 more than tol apart. */
    const float chain[3] = {0, 0.6f, 1.2f};
    assert_int_equal(sy_distinct_units(chain, 3, 1, NULL, NULL, 0, 0.7f, &classes), SY_OK);
    assert_int_equal(classes, 1);
}

static void test_frobenius_norm(void **state)
{
    (void)state;
    const float W[4] = {3, 0, -4, 0};
    double norm;
    assert_int_equal(sy_frobenius_norm(W, 4, &norm), SY_OK);
    assert_near(norm, 5.0, 0);
    assert_int_equal(sy_frobenius_norm(NULL, 0, &norm), SY_OK);
    assert_near(norm, 0.0, 0);
}

/* ---- quartic toy ------------------------------------------------------------ */

static void test_symmetry_degree_diagonal_B(void **state)
{
    (void)state;
    enum { D = 6 };
    float B[D * D] = {0};
    const float lam[D] = {3, -1, 5, 0.5f, 2, -4};
    for (int i = 0; i < D; i++)
        B[i * D + i] = lam[i];
    float V[D * D];
    double lambda[D];
    assert_int_equal(sy_sym_eigvecs(B, D, V, lambda), SY_OK);
    /* Descending eigenvalues; eigenvectors are +-unit vectors e_i. */
    const double want[D] = {5, 3, 2, 0.5, -1, -4};
    for (int i = 0; i < D; i++)
        assert_near(lambda[i], want[i], 1e-12);
    for (int r = 0; r < D; r++) {
        int i = 0;
        while (lam[i] != (float)want[r])
            i++;
        for (int k = 0; k < D; k++)
            assert_near(fabsf(V[r * D + k]), k == i ? 1.0 : 0.0, 1e-6);
    }
    /* So deg(w) counts |w_i| < c_th (strict, sign-blind). */
    const float w[D] = {0.0f, -0.05f, 0.2f, 0.1f, -3.0f, 0.09999f};
    int deg;
    assert_int_equal(sy_symmetry_degree(V, D, w, 0.1f, &deg), SY_OK);
    assert_int_equal(deg, 3);
    assert_int_equal(sy_symmetry_degree(V, D, w, 0.0f, &deg), SY_OK);
    assert_int_equal(deg, 0);
}

static void test_sym_eigvecs_random(void **state)
{
    (void)state;
    /* V B V^T must be diag(lambda) for a random symmetric B. */
    enum { D = 30 };
    float *G = randn(7, D * D), B[D * D], V[D * D];
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++)
            B[i * D + j] = 0.5f * (G[i * D + j] + G[j * D + i]);
    double lambda[D];
    assert_int_equal(sy_sym_eigvecs(B, D, V, lambda), SY_OK);
    for (int a = 0; a < D; a++)
        for (int c = 0; c < D; c++) {
            double acc = 0;
            for (int i = 0; i < D; i++)
                for (int j = 0; j < D; j++)
                    acc += (double)V[a * D + i] * B[i * D + j] * V[c * D + j];
            assert_near(acc, a == c ? lambda[a] : 0.0, 1e-4);
        }
    free(G);
}

static void test_quartic_value_and_gradient(void **state)
{
    (void)state;
    enum { D = 20 };
    float *G = randn(11, D * D), *w = randn(12, D), B[D * D], grad[D];
    for (int i = 0; i < D; i++)
        for (int j = 0; j < D; j++)
            B[i * D + j] = 0.5f * (G[i * D + j] + G[j * D + i]);
    for (int i = 0; i < D; i++)
        w[i] *= 0.3f;
    /* Value by hand. */
    double ww = 0, wBw = 0, v;
    for (int i = 0; i < D; i++) {
        ww += (double)w[i] * w[i];
        for (int j = 0; j < D; j++)
            wBw += (double)w[i] * B[i * D + j] * w[j];
    }
    assert_int_equal(sy_quartic_value(B, D, w, &v), SY_OK);
    assert_near(v, ww * ww - wBw, 1e-10);
    /* Gradient against central differences of sy_quartic_value. */
    assert_int_equal(sy_quartic_grad(B, D, w, grad), SY_OK);
    const float h = 1e-2f;
    for (int i = 0; i < D; i++) {
        float wi = w[i];
        double fp, fm;
        w[i] = wi + h;
        assert_int_equal(sy_quartic_value(B, D, w, &fp), SY_OK);
        w[i] = wi - h;
        assert_int_equal(sy_quartic_value(B, D, w, &fm), SY_OK);
        w[i] = wi;
        double hh = ((double)(wi + h) - (double)(wi - h));   /* the step actually taken */
        double fd = (fp - fm) / hh;
        assert_near(grad[i], fd, 1e-3 * (1 + fabs(fd)));
    }
    free(G);
    free(w);
}

/* ---- bad input ------------------------------------------------------------ */

static void test_bad_input(void **state)
{
    (void)state;
    float X[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    double eig[4], erank = -7, share;
    int rank = -7, count, srank;
    /* Covariance needs n >= 2. */
    assert_fails(SY_ERR_ARG, sy_cov_spectrum(X, 1, 4, eig));
    assert_fails(SY_ERR_ARG, sy_cov_rank(X, 1, 4, 1e-4, &rank));
    assert_fails(SY_ERR_ARG, sy_cov_low_rankness(X, 1, 4, 1e-5, &share));
    assert_fails(SY_ERR_ARG, sy_cov_spectrum(X, 3, 0, eig));
    assert_fails(SY_ERR_ARG, sy_cov_spectrum_scaled(X, 3, 4, 0.0, eig));
    assert_fails(SY_ERR_ARG, sy_cov_rank(X, 3, 4, NAN, &rank));
    /* NULL pointers. */
    assert_fails(SY_ERR_ARG, sy_cov_spectrum(NULL, 3, 4, eig));
    assert_fails(SY_ERR_ARG, sy_cov_spectrum(X, 3, 4, NULL));
    assert_fails(SY_ERR_ARG, sy_cov_rank(X, 3, 4, 1e-4, NULL));
    assert_fails(SY_ERR_ARG, sy_effective_rank(NULL, 3, 4, &erank));
    assert_fails(SY_ERR_ARG, sy_effective_rank(X, 3, 4, NULL));
    assert_fails(SY_ERR_ARG, sy_stable_rank(X, 3, 4, 0.0, &srank));
    assert_fails(SY_ERR_ARG, sy_singular_values(X, 3, 4, NULL));
    assert_fails(SY_ERR_ARG, sy_dead_units_act(NULL, 3, 4, 0, &count, NULL));
    assert_fails(SY_ERR_ARG, sy_dead_units_act(X, 3, 4, 0, NULL, NULL));
    assert_fails(SY_ERR_ARG, sy_dead_units_param(NULL, 3, 4, NULL, NULL, 0, 0, &count, NULL));
    assert_fails(SY_ERR_ARG, sy_dead_units_param(X, 3, 4, NULL, X, 0, 0, &count, NULL));
    assert_fails(SY_ERR_ARG, sy_dead_units_param(X, 3, 4, NULL, NULL, 0, -1, &count, NULL));
    assert_fails(SY_ERR_ARG, sy_distinct_units(X, 3, 4, NULL, NULL, 0, 0, NULL));
    assert_fails(SY_ERR_ARG, sy_frobenius_norm(NULL, 3, &erank));
    assert_fails(SY_ERR_ARG, sy_sym_eigvecs(NULL, 3, (float *)eig, NULL));
    assert_fails(SY_ERR_ARG, sy_symmetry_degree(X, 2, NULL, 0.1f, &count));
    assert_fails(SY_ERR_ARG, sy_quartic_value(X, 0, X, &erank));
    assert_fails(SY_ERR_ARG, sy_quartic_grad(X, 2, X, X));   /* aliasing */
    /* Outputs untouched on failure. */
    assert_int_equal(rank, -7);
    assert_near(erank, -7, 0);
    /* Non-symmetric B. */
    const float Bns[4] = {1, 2, 0, 1};
    float V[4];
    assert_fails(SY_ERR_ARG, sy_sym_eigvecs(Bns, 2, V, NULL));
}

static void test_non_finite_input(void **state)
{
    (void)state;
    float X[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    double eig[4], d = -7;
    int rank = -7, count = -7, srank = -7;
    X[6] = NAN;   /* X[1, 2] */
    assert_fails(SY_ERR_NUMERIC, sy_cov_spectrum(X, 3, 4, eig));
    assert_non_null(strstr(sy_last_error(), "X[1, 2]"));
    assert_fails(SY_ERR_NUMERIC, sy_cov_rank(X, 3, 4, 1e-4, &rank));
    assert_fails(SY_ERR_NUMERIC, sy_cov_low_rankness(X, 3, 4, 1e-5, &d));
    assert_fails(SY_ERR_NUMERIC, sy_effective_rank(X, 3, 4, &d));
    assert_fails(SY_ERR_NUMERIC, sy_stable_rank(X, 3, 4, 0.99, &srank));
    assert_fails(SY_ERR_NUMERIC, sy_dead_units_act(X, 3, 4, 0, &count, NULL));
    assert_fails(SY_ERR_NUMERIC, sy_dead_units_param(X, 3, 4, NULL, NULL, 0, 0, &count, NULL));
    assert_fails(SY_ERR_NUMERIC, sy_distinct_units(X, 3, 4, NULL, NULL, 0, 0, &count));
    assert_fails(SY_ERR_NUMERIC, sy_frobenius_norm(X, 12, &d));
    X[6] = INFINITY;
    assert_fails(SY_ERR_NUMERIC, sy_cov_rank(X, 3, 4, 1e-4, &rank));
    assert_int_equal(rank, -7);
    assert_int_equal(count, -7);
    assert_int_equal(srank, -7);
    assert_near(d, -7, 0);
    /* NaN in a bias or in the outgoing weights. */
    const float W[4] = {1, 2, 3, 4}, bn[2] = {0, NAN};
    assert_fails(SY_ERR_NUMERIC, sy_dead_units_param(W, 2, 2, bn, NULL, 0, 0, &count, NULL));
    assert_fails(SY_ERR_NUMERIC, sy_distinct_units(W, 2, 2, NULL, bn, 1, 0, &count));
    /* Quartic: NaN in w, in B (caught via the result), in V. */
    float B[4] = {1, 0, 0, 1}, w[2] = {0.5f, 0.25f}, g[2], V[4];
    assert_int_equal(sy_sym_eigvecs(B, 2, V, NULL), SY_OK);
    w[1] = NAN;
    assert_fails(SY_ERR_NUMERIC, sy_quartic_value(B, 2, w, &d));
    assert_fails(SY_ERR_NUMERIC, sy_quartic_grad(B, 2, w, g));
    assert_fails(SY_ERR_NUMERIC, sy_symmetry_degree(V, 2, w, 0.1f, &count));
    w[1] = 0.25f;
    B[1] = B[2] = NAN;
    assert_fails(SY_ERR_NUMERIC, sy_quartic_value(B, 2, w, &d));
    assert_fails(SY_ERR_NUMERIC, sy_quartic_grad(B, 2, w, g));
    assert_fails(SY_ERR_NUMERIC, sy_sym_eigvecs(B, 2, V, NULL));
    V[3] = NAN;
    assert_fails(SY_ERR_NUMERIC, sy_symmetry_degree(V, 2, w, 0.1f, &count));
    assert_near(d, -7, 0);
    assert_int_equal(count, -7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cov_correlated_features),
        cmocka_unit_test(test_cov_threshold_boundary),
        cmocka_unit_test(test_cov_rank_of_product),
        cmocka_unit_test(test_effective_rank_equal_singular_values),
        cmocka_unit_test(test_effective_rank_rank_one),
        cmocka_unit_test(test_stable_rank_spectrum),
        cmocka_unit_test(test_dead_units_activations),
        cmocka_unit_test(test_dead_units_parameters),
        cmocka_unit_test(test_distinct_units),
        cmocka_unit_test(test_frobenius_norm),
        cmocka_unit_test(test_symmetry_degree_diagonal_B),
        cmocka_unit_test(test_sym_eigvecs_random),
        cmocka_unit_test(test_quartic_value_and_gradient),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_non_finite_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
