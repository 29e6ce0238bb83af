/* syre's own sgemm (kernels_gemm.c) against its definition: every element of
 * C is the chain c = fma(a_k, b_k, c) over k = 0..K-1 in order, from 0
 * (beta 0) or from C (beta 1). The test computes that chain itself, element
 * by element with fmaf, and requires the library's result to equal it bit
 * for bit: for every transpose form, shapes with edge tiles in every
 * direction and K across several packing blocks, on each micro-kernel this
 * CPU runs (AVX-512, AVX2, scalar). Equality with one definition is what
 * makes results the same on every CPU and identical units identical; the
 * test also checks both directly, and the error against a double-precision
 * product. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_kernels.h"
#include "syre/syre.h"

static float *rand_mat(size_t n, sy_rng *r)
{
    float *m = malloc(n * sizeof(float));
    assert_non_null(m);
    for (size_t i = 0; i < n; i++) m[i] = 2.0f * sy_rng_uniform(r) - 1.0f;
    return m;
}

static float opa(int ta, const float *A, int lda, int i, int k) { return ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k]; }
static float opb(int tb, const float *B, int ldb, int k, int j) { return tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j]; }

/* One case on the current micro-kernel: equal to the fma chain, bit for bit,
 * and within K ulps-ish of the double product. */
static void check_case(int ta, int tb, int M, int N, int K, float beta, sy_rng *r)
{
    int lda = ta ? M : K, ldb = tb ? K : N, ldc = N + 3; /* C with a gap */
    float *A = rand_mat((size_t)(ta ? K : M) * lda, r), *B = rand_mat((size_t)(tb ? N : K) * ldb, r);
    float *C = rand_mat((size_t)M * ldc, r), *C0 = malloc((size_t)M * ldc * sizeof(float));
    assert_non_null(C0);
    memcpy(C0, C, (size_t)M * ldc * sizeof(float));
    assert_int_equal(sy_cpu_gemm(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc), 0);
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            float want = beta == 0.0f ? 0.0f : C0[(size_t)i * ldc + j];
            double ref = want, mag = fabs(want);
            for (int k = 0; k < K; k++) {
                float a = opa(ta, A, lda, i, k), b = opb(tb, B, ldb, k, j);
                want = fmaf(a, b, want);
                ref += (double)a * b, mag += fabs((double)a * b);
            }
            float got = C[(size_t)i * ldc + j];
            if (memcmp(&got, &want, sizeof got) != 0)
                fail_msg("%s ta=%d tb=%d %dx%dx%d beta=%g: C[%d,%d] = %.9g, the fma chain gives %.9g",
                         sy_cpu_gemm_isa_name(), ta, tb, M, N, K, beta, i, j, got, want);
            assert_true(fabs(got - ref) <= (K + 1) * 6e-8 * mag + 1e-30);
        }
        for (int j = N; j < ldc; j++) assert_true(C[(size_t)i * ldc + j] == C0[(size_t)i * ldc + j]); /* gap kept */
    }
    free(A), free(B), free(C), free(C0);
}

static void test_definition(void **state)
{
    (void)state;
    const int Ms[] = {1, 5, 8, 13, 96, 100}, Ns[] = {1, 7, 24, 33, 64, 65}, Ks[] = {1, 3, 256, 300, 600};
    sy_rng r = sy_rng_make(3, SY_STREAM_USER, 0);
    for (int isa = sy_cpu_gemm_isa_best(); isa >= 0; isa--) {
        assert_int_equal(sy_cpu_gemm_force_isa(isa), 0);
        int cases = 0;
        for (int t = 0; t < 4; t++)
            for (int mi = 0; mi < 6; mi++)
                for (int ni = 0; ni < 6; ni++)
                    for (int ki = 0; ki < 5; ki++)
                        if ((mi + ni + ki + t) % 3 == 0) { /* a third of the grid, every value of each */
                            check_case(t & 1, t >> 1, Ms[mi], Ns[ni], Ks[ki], (mi + ki) % 2 ? 1.0f : 0.0f, &r);
                            cases++;
                        }
        /* N across two NC blocks, M across several MC blocks */
        check_case(0, 0, 200, 2100, 20, 1.0f, &r);
        /* full K blocks and N past the N blocks: the packed B block is full
         * to its end, whichever panel width the kernel has (24 does not
         * divide a block of 1024 or 2048 columns) */
        check_case(0, 0, 8, 2100, 1024, 0.0f, &r);
        check_case(1, 1, 8, 2100, 1024, 1.0f, &r);
        /* last panels narrow (16 columns and fewer) and just past narrow
         * (17), in every transpose form: the MLP's and VAE's widths */
        const int Nn[] = {16, 17, 48, 300, 200, 10};
        for (int t = 0; t < 4; t++)
            for (int i = 0; i < 6; i++) check_case(t & 1, t >> 1, 13 + 8 * i, Nn[i], 9 + 50 * t, (float)((t + i) % 2), &r);
        cases += 27;
        printf("# %s: %d cases equal to the fma chain\n", sy_cpu_gemm_isa_name(), cases);
    }
    sy_cpu_gemm_force_isa(-1);
}

/* Identical rows of op(A) give identical rows of C, identical columns of
 * op(B) identical columns, at every position (OpenBLAS's AVX2 kernel fails
 * this: its panels' first and last 8 rows round otherwise). */
static void test_identical_units(void **state)
{
    (void)state;
    int M = 64, N = 200, K = 784;
    sy_rng r = sy_rng_make(4, SY_STREAM_USER, 0);
    float *x = rand_mat((size_t)M * K, &r), *w = rand_mat((size_t)N * K, &r), *c = malloc(sizeof(float) * M * N);
    assert_non_null(c);
    for (int u = 1; u < N; u++) memcpy(w + (size_t)u * K, w, K * sizeof(float)); /* 200 copies of unit 0 */
    assert_int_equal(sy_cpu_gemm(0, 1, M, N, K, x, K, w, K, 0.0f, c, N), 0);
    for (int i = 0; i < M; i++)
        for (int u = 1; u < N; u++) assert_memory_equal(&c[i * N + u], &c[i * N], sizeof(float));
    free(x), free(w), free(c);
}

static void test_refusals(void **state)
{
    (void)state;
    float a = 1, b = 1, c = 5;
    assert_int_equal(sy_cpu_gemm(0, 0, 1, 1, 1, &a, 1, &b, 1, 0.5f, &c, 1), -1); /* beta other than 0, 1 */
    assert_int_equal(sy_cpu_gemm(0, 0, 1, 1, 0, &a, 1, &b, 1, 0.0f, &c, 1), 0); /* K = 0: C = 0 */
    assert_true(c == 0.0f);
    assert_int_equal(sy_cpu_gemm_force_isa(SY_GEMM_NISA), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_definition),
        cmocka_unit_test(test_identical_units),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
