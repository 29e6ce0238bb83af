/* Row-major GEMM on a column-major BLAS (cuBLAS): Z[M,N] = op(X)[M,K]
 * op(Y)[K,N], X stored [K,M] when tx (else [M,K]), Y stored [N,K] when ty
 * (else [K,N]). Column-major sees Z^T = op(Y)^T op(X)^T, so the call passes
 * Y first. Plain C with no CUDA, so that tests/test_gemm_map.c checks the
 * mapping against OpenBLAS on machines without a GPU. */
#ifndef SYRE_GEMM_MAP_H
#define SYRE_GEMM_MAP_H

typedef struct {
    int trans_first, trans_second; /* 1 = transpose, for the first / second operand passed */
    int m, n, k, ld_first, ld_second, ldc;
    int y_first;                   /* always 1: Y is passed first */
} sy_gemm_args;

static inline sy_gemm_args sy_gemm_map(int tx, int ty, int M, int N, int K)
{
    sy_gemm_args a = {ty, tx, N, M, K, ty ? K : N, tx ? M : K, N, 1};
    return a;
}

#endif
