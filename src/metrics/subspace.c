/* How much of a matrix lies outside the column span of another: the part of
 * a solution that a subspace (an anchor's span, a symmetric subspace) does
 * not explain. Modified Gram-Schmidt in double: small matrices, no BLAS, the
 * same bits on every CPU. */
#include "syre/metrics.h"

#include <math.h>
#include <stdlib.h>

sy_status sy_outside_span_share(const float *B, int mb, const float *X, int mx, int n, double *share)
{
    if (!B || !X || !share || n < 1 || mb < 1 || mx < 1)
        return sy_fail(SY_ERR_ARG, "sy_outside_span_share: NULL argument or a size below 1 (n %d, mb %d, mx %d)", n,
                       mb, mx);
    double *Q = malloc(sizeof(double) * (size_t)(mb + 1) * n), *col = Q ? Q + (size_t)mb * n : NULL;
    if (!Q) return sy_fail(SY_ERR_NOMEM, "sy_outside_span_share: out of memory");
    double bnorm = 0;
    for (size_t i = 0; i < (size_t)n * mb; i++) bnorm += (double)B[i] * B[i];
    /* an orthonormal basis of B's columns; a column left with less than 1e-10 of B's scale adds nothing */
    int nb = 0;
    for (int c = 0; c < mb; c++) {
        double *q = Q + (size_t)nb * n, nq = 0;
        for (int a = 0; a < n; a++) q[a] = B[(size_t)a * mb + c];
        for (int j = 0; j < nb; j++) {
            double dot = 0;
            for (int a = 0; a < n; a++) dot += Q[(size_t)j * n + a] * q[a];
            for (int a = 0; a < n; a++) q[a] -= dot * Q[(size_t)j * n + a];
        }
        for (int a = 0; a < n; a++) nq += q[a] * q[a];
        if (nq > 1e-20 * bnorm) {
            for (int a = 0; a < n; a++) q[a] /= sqrt(nq);
            nb++;
        }
    }
    double tot = 0, out = 0;
    for (int c = 0; c < mx; c++) {
        for (int a = 0; a < n; a++) col[a] = X[(size_t)a * mx + c], tot += col[a] * col[a];
        for (int j = 0; j < nb; j++) {
            double dot = 0;
            for (int a = 0; a < n; a++) dot += Q[(size_t)j * n + a] * col[a];
            for (int a = 0; a < n; a++) col[a] -= dot * Q[(size_t)j * n + a];
        }
        for (int a = 0; a < n; a++) out += col[a] * col[a];
    }
    free(Q);
    if (!isfinite(tot) || !isfinite(bnorm))
        return sy_fail(SY_ERR_NUMERIC, "sy_outside_span_share: a value of B or X is not finite");
    *share = tot > 0 ? sqrt(out / tot) : 0;
    return SY_OK;
}
