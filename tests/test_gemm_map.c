/* The row-major -> column-major GEMM argument mapping of the CUDA backend
 * (src/backend/cuda/gemm_map.h), run through OpenBLAS's column-major sgemm
 * against a plain triple loop, for every transpose combination and for the
 * shapes of the matmul and convolution backward calls. Needs no GPU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cblas.h>
#include <math.h>
#include <stdlib.h>

#include "backend/cuda/gemm_map.h"

static void gemm_via_map(int tx, int ty, int M, int N, int K, const float *X, const float *Y, float beta, float *Z)
{
    sy_gemm_args a = sy_gemm_map(tx, ty, M, N, K);
    cblas_sgemm(CblasColMajor, a.trans_first ? CblasTrans : CblasNoTrans, a.trans_second ? CblasTrans : CblasNoTrans,
                a.m, a.n, a.k, 1.0f, Y, a.ld_first, X, a.ld_second, beta, Z, a.ldc);
}

static void check(int tx, int ty, int M, int N, int K)
{
    float *X = malloc(sizeof(float) * M * K), *Y = malloc(sizeof(float) * K * N);
    float *Z = malloc(sizeof(float) * M * N), *R = malloc(sizeof(float) * M * N);
    for (int i = 0; i < M * K; i++) X[i] = (float)((i * 37) % 11) - 5.0f;
    for (int i = 0; i < K * N; i++) Y[i] = (float)((i * 17) % 7) - 3.0f;
    for (int i = 0; i < M * N; i++) Z[i] = R[i] = (float)(i % 5);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0;
            for (int k = 0; k < K; k++)
                s += (double)(tx ? X[k * M + i] : X[i * K + k]) * (ty ? Y[j * K + k] : Y[k * N + j]);
            R[i * N + j] += (float)s; /* beta = 1 */
        }
    gemm_via_map(tx, ty, M, N, K, X, Y, 1.0f, Z);
    for (int i = 0; i < M * N; i++)
        if (fabsf(Z[i] - R[i]) > 1e-3f) fail_msg("tx %d ty %d M %d N %d K %d: Z[%d] = %g, expected %g", tx, ty, M, N, K, i, Z[i], R[i]);
    free(X), free(Y), free(Z), free(R);
}

static void test_every_transpose(void **state)
{
    (void)state;
    int shapes[][3] = {{5, 3, 7}, {1, 9, 4}, {6, 1, 2}, {8, 8, 1}, {13, 17, 29}};
    for (int s = 0; s < 5; s++)
        for (int tx = 0; tx < 2; tx++)
            for (int ty = 0; ty < 2; ty++) check(tx, ty, shapes[s][0], shapes[s][1], shapes[s][2]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_every_transpose)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
