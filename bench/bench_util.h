/* Helpers shared by the benchmark programs (header-only: each bench program is
 * its own program): the matrix products of one training
 * step with cblas_sgemm's own rate on them. */
#ifndef SYRE_BENCH_UTIL_H
#define SYRE_BENCH_UTIL_H

#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <time.h>

#include "backend/cpu/threads.h"
#include "graph/graph_impl.h"
#include "syre/syre.h"
#include "bench_clock.h"

enum { MAX_GEMMS = 64 };

/* The matrix products of one training step, as (M, N, K, transA, transB). */
typedef struct {
    int M, N, K, ta, tb;
    int direct; /* a stride-1 convolution's product: the engine runs its direct kernel, not an sgemm */
} gemm_t;

static int step_gemms(const sy_graph *g, gemm_t *out)
{
    int k = 0;
    for (int i = 0; i < g->n_nodes && k + 3 <= MAX_GEMMS; i++) {
        const sy_node *n = &g->nodes[i];
        const sy_node *a = &g->nodes[n->in[0]], *b = &g->nodes[n->in[1]];
        if (n->op == SY_OP_MATMUL) {
            int ta = n->iattr[0], tb = n->iattr[1];
            int M = ta ? a->shape.dim[1] : a->shape.dim[0], K = ta ? a->shape.dim[0] : a->shape.dim[1];
            int N = tb ? b->shape.dim[0] : b->shape.dim[1];
            out[k++] = (gemm_t){M, N, K, ta, tb, 0};
            if (a->needs_grad) out[k++] = ta ? (gemm_t){K, M, N, tb, 1, 0} : (gemm_t){M, K, N, 0, !tb, 0};
            if (b->needs_grad) out[k++] = tb ? (gemm_t){N, K, M, 1, ta, 0} : (gemm_t){K, N, M, !ta, 0, 0};
        } else if (n->op == SY_OP_CONV2D) { /* as im2col products */
            int O = b->shape.dim[0], CKK = b->shape.dim[1] * b->shape.dim[2] * b->shape.dim[3];
            int NHW = n->shape.dim[0] * n->shape.dim[2] * n->shape.dim[3];
            int d = n->iattr[0] == 1;
            out[k++] = (gemm_t){O, NHW, CKK, 0, 0, d};
            if (b->needs_grad) out[k++] = (gemm_t){O, CKK, NHW, 0, 1, d};
            if (a->needs_grad) out[k++] = (gemm_t){CKK, NHW, O, 1, 0, d};
        }
    }
    return k;
}

__attribute__((unused)) static double gemm_flops(const gemm_t *gm, int n)
{
    double f = 0;
    for (int i = 0; i < n; i++) f += 2.0 * gm[i].M * gm[i].N * gm[i].K;
    return f;
}

/* cblas_sgemm's own rate on the step's products: the list run back to back
 * (random operands, beta 0), as many times as make a repeat last >= 50 ms
 * (so that a run on a shared machine is preempted as often as the engine's
 * longer runs), median over repeats. Returns GFLOP/s by the wall clock; the
 * rate by process CPU time goes to *cpu_rate (may be NULL). OpenBLAS runs
 * these with its own threads, sy_get_threads() of them (the engine keeps it
 * single-threaded and splits products itself). */
__attribute__((unused)) static double sgemm_rate(const gemm_t *gm, int n, int repeats, double *cpu_rate)
{
    size_t amax = 0, bmax = 0, cmax = 0;
    for (int i = 0; i < n; i++) {
        size_t a = (size_t)gm[i].M * gm[i].K, b = (size_t)gm[i].K * gm[i].N, c = (size_t)gm[i].M * gm[i].N;
        amax = a > amax ? a : amax, bmax = b > bmax ? b : bmax, cmax = c > cmax ? c : cmax;
    }
    float *A = malloc(amax * sizeof(float)), *B = malloc(bmax * sizeof(float)), *C = calloc(cmax, sizeof(float));
    double *t = malloc(repeats * sizeof(double)), *c = malloc(repeats * sizeof(double)), rate = NAN;
    if (cpu_rate) *cpu_rate = NAN;
    if (!A || !B || !C || !t || !c) goto out;
    sy_rng r = sy_rng_make(3, SY_STREAM_USER, 0);
    for (size_t i = 0; i < amax; i++) A[i] = sy_rng_uniform(&r);
    for (size_t i = 0; i < bmax; i++) B[i] = sy_rng_uniform(&r);
    int iters = 1;
    sy_blas_threads_begin();
    for (int rep = -1; rep < repeats; rep++) { /* one warm-up round, which also sets iters */
        double t0 = now(), c0 = cpu_now();
        for (int it = 0; it < iters; it++)
            for (int i = 0; i < n; i++) {
                const gemm_t *q = &gm[i];
                cblas_sgemm(CblasRowMajor, q->ta ? CblasTrans : CblasNoTrans, q->tb ? CblasTrans : CblasNoTrans,
                            q->M, q->N, q->K, 1.0f, A, q->ta ? q->M : q->K, B, q->tb ? q->K : q->N, 0.0f, C, q->N);
            }
        double dt = now() - t0, dc = cpu_now() - c0;
        if (rep < 0) {
            iters = dt > 0 ? (int)(0.05 / dt) + 1 : 1;
            iters = iters > 100000 ? 100000 : iters;
            continue;
        }
        t[rep] = dt / iters, c[rep] = dc / iters;
    }
    sy_blas_threads_end();
    rate = gemm_flops(gm, n) / median(t, repeats) * 1e-9;
    if (cpu_rate) *cpu_rate = gemm_flops(gm, n) / median(c, repeats) * 1e-9;
out:
    free(A), free(B), free(C), free(t), free(c);
    return rate;
}

#endif
