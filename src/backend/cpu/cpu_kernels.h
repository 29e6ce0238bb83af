/* Fast CPU kernels; each replaces a reference kernel in the "cpu" backend. */
#ifndef SYRE_CPU_KERNELS_H
#define SYRE_CPU_KERNELS_H

#include "backend/cpu/isa.h"
#include "ops/op_kernels.h"

/* Install every fast kernel into the backend table. */
void sy_cpu_register_fast(sy_backend *be);
/* Cheap ops (bias add, pooling): called by sy_cpu_register_fast. */
void sy_cpu_register_simple(sy_backend *be);
/* SiLU, sigmoid, BCE with logits (kernels_math.c): called by sy_cpu_register_fast. */
void sy_cpu_register_math(sy_backend *be);

/* The sgemm under every CPU product, with cblas_sgemm's row-major meaning
 * (ta, tb: op = transpose). Tests swap in one that rounds by an element's
 * position within the call, to check that results do not depend on how a
 * product is split; NULL restores the default (syre's own on a CPU with
 * FMA unless the own_gemm setting is 0, OpenBLAS otherwise). Not
 * thread-safe: set it while no graph runs. */
typedef void (*sy_cpu_sgemm_fn)(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                                const float *B, int ldb, float beta, float *C, int ldc);
void sy_cpu_set_sgemm(sy_cpu_sgemm_fn fn);
/* The default sgemm in force, for the run's provenance: "OpenBLAS" or
 * "syre's own (AVX-512)" and the like. */
const char *sy_cpu_sgemm_name(void);

/* syre's own sgemm (kernels_gemm.c): row-major C[M,N] = op(A) op(B) +
 * beta C for beta 0 or 1, each element one chain of fused multiply-adds
 * over k in order from 0 or from C, the same on every ISA and at every
 * position (so bit-identical on every x86-64 CPU). Returns 0, or -1 for a
 * beta it does not take or no memory for its packing buffers. */
int sy_cpu_gemm(int ta, int tb, int M, int N, int K, const float *A, int lda, const float *B, int ldb, float beta,
                float *C, int ldc);
/* The same with op(B) [K, N] never formed: its packer writes columns j0..
 * j0+w-1 (w <= nr), rows k0..k0+kc-1 of it as pp[k * nr + c] (k, c from 0),
 * straight into the sgemm's panels (an implicit-GEMM convolution packs its
 * columns from the image). Column j of C is column src_j0 + j of op(B). The
 * same chains of fused multiply-adds as sy_cpu_gemm on the formed matrix,
 * hence the same bits. */
typedef struct sy_gemm_bsrc sy_gemm_bsrc;
struct sy_gemm_bsrc {
    void (*pack)(const sy_gemm_bsrc *src, int j0, int w, int k0, int kc, int nr, float *pp);
};
int sy_cpu_gemm_bsrc(int ta, int M, int N, int K, const float *A, int lda, const sy_gemm_bsrc *src, int src_j0,
                     float beta, float *C, int ldc);
enum { SY_GEMM_SCALAR, SY_GEMM_AVX2, SY_GEMM_AVX512, SY_GEMM_NISA };
/* The best micro-kernel this CPU runs; tests may force a lesser one (-1:
 * back to the best; returns -1 for one the CPU lacks). */
int sy_cpu_gemm_isa_best(void);
int sy_cpu_gemm_force_isa(int isa);
const char *sy_cpu_gemm_isa_name(void);

/* Benchmarks and tests: stride-1 convolutions as chunked im2col products
 * (1) or on the direct kernel (0) whatever their shape; -1: by shape and
 * sgemm (the default). Not thread-safe: set it while no graph runs. */
void sy_cpu_conv_force_route(int route);
/* Whether a convolution over C channels with a KH x KW kernel and stride S
 * runs as chunked im2col products (else the direct kernel or, stride > 1,
 * whole-batch im2col). */
int sy_cpu_conv_chunked(int C, int KH, int KW, int S);

/* Scratch floats of the CPU backend's convolution (conv2d's shape rule). */
size_t sy_cpu_conv2d_scratch(int N, int C, int H, int W, int O, int KH, int KW, int HO, int WO, int S, int P);

/* Direct stride-1 convolution (kernels_conv.c): scratch floats it needs (0
 * when it does not apply), forward into y, backward adding into dx and dw
 * (either may be NULL). */
size_t sy_cpu_conv2d_direct_scratch(int N, int C, int H, int W, int O, int KH, int KW, int HO, int WO, int S, int P);
void sy_cpu_conv2d_direct_fwd(sy_exec *ex, sy_node *n, const float *w, float *y);
void sy_cpu_conv2d_direct_bwd(sy_exec *ex, sy_node *n, const float *w, float *dx, float *dw);

#endif
