/* One-off probe, not built by CMake: how fast would another GEMM library run
 * the products of one training step of the 784-300-300-300-10 MLP at batch 64
 * (as syre computes them: forward, weight gradients, input gradients;
 * row-major, beta = 0), against OpenBLAS? Input to the issue-8 question of
 * whether OpenBLAS caps the MLP target (docs/bench.md).
 *
 *   apt-get install libdnnl-dev libxsmm-dev
 *   gcc -O2 -o /tmp/gemm_libs bench/probes/gemm_libs.c -lxsmm -lopenblas -ldnnl -lm -lpthread -ldl -lrt
 *   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 /tmp/gemm_libs
 *
 * Prints, three times over, each library's time for the step's products. */
#include <cblas.h>
#include <dnnl.h>
#include <libxsmm.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
typedef struct {
    char ta, tb;
    int M, N, K;
} shp;
static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}
/* As syre's sy_linear: W is [out, in]; forward X W^T, weight gradient dY^T X,
 * input gradient dY W (none for the first layer, whose input is data). */
static shp S[] = {
    {'N', 'T', 64, 300, 784}, {'N', 'T', 64, 300, 300}, {'N', 'T', 64, 300, 300}, {'N', 'T', 64, 10, 300},
    {'T', 'N', 300, 784, 64}, {'T', 'N', 300, 300, 64}, {'T', 'N', 300, 300, 64}, {'T', 'N', 10, 300, 64},
    {'N', 'N', 64, 300, 300}, {'N', 'N', 64, 300, 300}, {'N', 'N', 64, 300, 10},
};
#define NS (int)(sizeof S / sizeof S[0])
static float *A[NS], *B[NS], *C[NS];
static void run(int lib)
{
    for (int i = 0; i < NS; i++) {
        shp s = S[i];
        int lda = s.ta == 'N' ? s.K : s.M, ldb = s.tb == 'N' ? s.N : s.K, ldc = s.N;
        if (lib == 0)
            cblas_sgemm(CblasRowMajor, s.ta == 'N' ? CblasNoTrans : CblasTrans,
                        s.tb == 'N' ? CblasNoTrans : CblasTrans, s.M, s.N, s.K, 1.f, A[i], lda, B[i], ldb,
                        0.f, C[i], ldc);
        else if (lib == 1)
            dnnl_sgemm(s.ta, s.tb, s.M, s.N, s.K, 1.f, A[i], lda, B[i], ldb, 0.f, C[i], ldc);
        else { /* column-major: C^T = B^T A^T */
            float al = 1, be = 0;
            libxsmm_blasint m = s.N, n = s.M, k = s.K, la = ldb, lb = lda, lc = ldc;
            libxsmm_sgemm(&s.tb, &s.ta, &m, &n, &k, &al, B[i], &la, A[i], &lb, &be, C[i], &lc);
        }
    }
}
int main(void)
{
    double fl = 0;
    for (int i = 0; i < NS; i++) {
        shp s = S[i];
        size_t na = (size_t)s.M * s.K, nb = (size_t)s.K * s.N, nc = (size_t)s.M * s.N;
        A[i] = malloc(na * 4);
        B[i] = malloc(nb * 4);
        C[i] = malloc(nc * 4);
        for (size_t j = 0; j < na; j++)
            A[i][j] = rand() / (float)RAND_MAX - .5f;
        for (size_t j = 0; j < nb; j++)
            B[i][j] = rand() / (float)RAND_MAX - .5f;
        fl += 2.0 * s.M * s.N * s.K;
    }
    libxsmm_init();
    const char *nm[3] = {"openblas", "onednn", "libxsmm"};
    for (int rep = 0; rep < 3; rep++)
        for (int lib = 0; lib < 3; lib++) {
            for (int w = 0; w < 50; w++)
                run(lib);
            int it = 400;
            double t0 = now();
            for (int w = 0; w < it; w++)
                run(lib);
            double t = (now() - t0) / it;
            printf("%-9s %.3f ms per step's GEMMs, %.1f GFLOP/s\n", nm[lib], t * 1e3, fl / t * 1e-9);
        }
    return 0;
}
