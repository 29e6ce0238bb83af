/* GEMM benchmark: syre's own sgemm (kernels_gemm.c) against OpenBLAS's
 * cblas_sgemm on exactly the matrix products of one training step of each
 * benchmarked model (bench_engine's models; convolutions as their im2col
 * products), at 1 thread, with the share of the core's measured fp32 FMA
 * peak (bench/fma_peak.h).
 *
 *   build/bench_gemm [--models LIST] [--isa avx512,avx2] [--per-product] [--repeats R]
 *     (models: those of bench_engine; default mlp,mlp1000,vae,cnn,resnet18b32)
 *   env -u OPENBLAS_CORETYPE build/bench_gemm    # OpenBLAS free to pick its own kernel
 *
 * Per model it prints one line per kernel: the step's products run back to
 * back (random operands, beta 0), as many times as make a repeat last at
 * least 30 ms of CPU time, median over repeats (by process CPU time, as the
 * peak: the machine may be shared), as GFLOP/s and share of the AVX-512 peak
 * (the AVX2 one on a CPU without AVX-512), and a machine-readable
 * `GEMM model=M kernel=K gflops=G peak_share=S` line. With --per-product, a
 * line per product too. Products the engine gives to its direct convolution
 * kernel (stride-1 convolutions) are counted apart ("direct"): bench_engine
 * counts them as im2col products, the engine does not run them so. Not timed
 * assertions: nothing here fails on a slow machine. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_kernels.h"
#include "bench_models.h"
#include "bench_util.h"
#include "fma_peak.h"

extern char *openblas_get_corename(void); /* OpenBLAS; not in every cblas.h */

enum { K_OPENBLAS = -1 };

static float *A, *B, *C;

static void run_one(const gemm_t *q, int kernel)
{
    int lda = q->ta ? q->M : q->K, ldb = q->tb ? q->K : q->N;
    if (kernel == K_OPENBLAS)
        cblas_sgemm(CblasRowMajor, q->ta ? CblasTrans : CblasNoTrans, q->tb ? CblasTrans : CblasNoTrans, q->M, q->N,
                    q->K, 1.0f, A, lda, B, ldb, 0.0f, C, q->N);
    else
        sy_cpu_gemm(q->ta, q->tb, q->M, q->N, q->K, A, lda, B, ldb, 0.0f, C, q->N);
}

/* Process CPU seconds per run of the list gm[0..n) with the kernel (at one
 * thread, other load on a shared machine does not inflate it): median of
 * repeats. */
static double time_list(const gemm_t *gm, int n, int kernel, int repeats)
{
    if (kernel != K_OPENBLAS) sy_cpu_gemm_force_isa(kernel);
    double t[64];
    int iters = 1;
    if (repeats > 64) repeats = 64;
    for (int rep = -1; rep < repeats; rep++) {
        double t0 = cpu_now();
        for (int it = 0; it < iters; it++)
            for (int i = 0; i < n; i++) run_one(&gm[i], kernel);
        double dt = cpu_now() - t0;
        if (rep < 0) {
            iters = dt > 0 ? (int)(0.03 / dt) + 1 : 1;
            continue;
        }
        t[rep] = dt / iters;
    }
    sy_cpu_gemm_force_isa(-1);
    return median(t, repeats);
}

static const char *kernel_name(int kernel, char *buf, size_t len)
{
    if (kernel == K_OPENBLAS) {
        snprintf(buf, len, "openblas-%s", openblas_get_corename());
        return buf;
    }
    sy_cpu_gemm_force_isa(kernel);
    snprintf(buf, len, "own-%s", sy_cpu_gemm_isa_name());
    sy_cpu_gemm_force_isa(-1);
    return buf;
}

int main(int argc, char **argv)
{
    const char *models = "mlp,mlp1000,vae,cnn,resnet18b32";
    int per_product = 0, repeats = 5, kernels[4], nk = 0, want512 = 1, want2 = 1;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--models") && i + 1 < argc) {
            models = argv[++i];
        } else if (!strcmp(argv[i], "--per-product")) {
            per_product = 1;
        } else if (!strcmp(argv[i], "--repeats") && i + 1 < argc) {
            repeats = atoi(argv[++i]);
        } else if (!strcmp(argv[i], "--isa") && i + 1 < argc) {
            const char *l = argv[++i];
            want512 = strstr(l, "avx512") != NULL, want2 = strstr(l, "avx2") != NULL;
        } else {
            fprintf(stderr, "usage: bench_gemm [--models LIST] [--isa avx512,avx2] [--per-product] [--repeats R]\n");
            return 2;
        }
    }
    if (repeats < 1) repeats = 1;
    setvbuf(stdout, NULL, _IOLBF, 0); /* lines as they come, also into a file */
    sy_set_threads(1);
    sy_blas_threads_begin();
    int best = sy_cpu_gemm_isa_best();
    if (want512 && best >= SY_GEMM_AVX512) kernels[nk++] = SY_GEMM_AVX512;
    if (want2 && best >= SY_GEMM_AVX2) kernels[nk++] = SY_GEMM_AVX2;
    if (best < SY_GEMM_AVX2) kernels[nk++] = SY_GEMM_SCALAR;
    kernels[nk++] = K_OPENBLAS;
    double p512 = fma_peak_gflops_by(FMA_ISA_AVX512, 1, cpu_now), p2 = fma_peak_gflops_by(FMA_ISA_AVX2, 1, cpu_now);
    double peak = isnan(p512) ? p2 : p512;
    printf("# fp32 FMA peak, 1 thread: AVX-512 %.1f GFLOP/s, AVX2 %.1f GFLOP/s; OpenBLAS kernel %s\n", p512, p2,
           openblas_get_corename());
    char *list = strdup(models);
    for (char *save = NULL, *m = strtok_r(list, ",", &save); m; m = strtok_r(NULL, ",", &save)) {
        model_t mod;
        if (build(&mod, m)) {
            fprintf(stderr, "bench_gemm: %s: %s\n", m, sy_last_error());
            return 1;
        }
        gemm_t gm[MAX_GEMMS], run[MAX_GEMMS];
        int ng = step_gemms(mod.g, gm), nr = 0;
        for (int i = 0; i < ng; i++)
            if (!gm[i].direct) run[nr++] = gm[i];
        size_t amax = 0, bmax = 0, cmax = 0;
        for (int i = 0; i < ng; i++) {
            size_t a = (size_t)gm[i].M * gm[i].K, b = (size_t)gm[i].K * gm[i].N, c = (size_t)gm[i].M * gm[i].N;
            amax = a > amax ? a : amax, bmax = b > bmax ? b : bmax, cmax = c > cmax ? c : cmax;
        }
        A = malloc(amax * sizeof(float)), B = malloc(bmax * sizeof(float)), C = calloc(cmax, sizeof(float));
        if (!A || !B || !C) return 1;
        sy_rng r = sy_rng_make(3, SY_STREAM_USER, 0);
        for (size_t i = 0; i < amax; i++) A[i] = sy_rng_uniform(&r);
        for (size_t i = 0; i < bmax; i++) B[i] = sy_rng_uniform(&r);
        double fall = gemm_flops(gm, ng), frun = gemm_flops(run, nr);
        printf("\n%s: %d products, %.3f GFLOP per step; %d through the sgemm (%.3f GFLOP), %d direct convolution\n", m,
               ng, fall * 1e-9, nr, frun * 1e-9, ng - nr);
        for (int k = 0; k < nk; k++) {
            char name[64];
            kernel_name(kernels[k], name, sizeof name);
            double ta = time_list(gm, ng, kernels[k], repeats);
            double tr = nr ? time_list(run, nr, kernels[k], repeats) : NAN;
            double g = fall / ta * 1e-9, gr = frun / tr * 1e-9;
            printf("  %-22s all %7.1f GFLOP/s (%5.1f%% of peak)   sgemm-run %7.1f GFLOP/s (%5.1f%%)\n", name, g,
                   100 * g / peak, gr, 100 * gr / peak);
            printf("GEMM model=%s kernel=%s gflops=%.2f peak_share=%.3f run_gflops=%.2f run_peak_share=%.3f\n", m, name,
                   g, g / peak, gr, gr / peak);
            if (!per_product) continue;
            for (int i = 0; i < ng; i++) {
                double t1 = time_list(&gm[i], 1, kernels[k], repeats), f = 2.0 * gm[i].M * gm[i].N * gm[i].K;
                printf("    %c%c M=%5d N=%6d K=%6d%s %7.1f GFLOP/s %5.1f%%  %8.1f us\n", gm[i].ta ? 'T' : 'N',
                       gm[i].tb ? 'T' : 'N', gm[i].M, gm[i].N, gm[i].K, gm[i].direct ? " direct" : "       ",
                       f / t1 * 1e-9, 100 * f / t1 * 1e-9 / peak, t1 * 1e6);
            }
        }
        free(A), free(B), free(C);
        destroy(&mod);
    }
    free(list);
    sy_blas_threads_end();
    return 0;
}
