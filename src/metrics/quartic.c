/* The quartic toy of paper Sec. 5.1, f(w) = (w^T w)^2 - w^T B w: the
 * eigenvectors of B (one per reflection symmetry), the degree of symmetry of a
 * point w, and f with its gradient so the experiment and the tests share one
 * definition. Gradient descent on it is in quartic_gd.c. */
#include "syre/metrics.h"

#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

static sy_status check_vec(const char *fn, const float *w, int d)
{
    for (int i = 0; i < d; i++)
        if (!isfinite(w[i]))
            return sy_fail(SY_ERR_NUMERIC, "%s: w[%d] = %g is not finite", fn, i, (double)w[i]);
    return SY_OK;
}

static sy_status check_args(const char *fn, const float *M, const char *mname, int d,
                            const float *w, const void *out)
{
    if (!M || !w || !out)
        return sy_fail(SY_ERR_ARG, "%s: %s is NULL", fn, !M ? mname : !w ? "w" : "output");
    if (d < 1)
        return sy_fail(SY_ERR_ARG, "%s: dimension d = %d must be >= 1", fn, d);
    return check_vec(fn, w, d);
}

sy_status sy_sym_eigvecs(const float *B, int d, float *V, double *lambda)
{
    static const char fn[] = "sy_sym_eigvecs";
    if (!B || !V)
        return sy_fail(SY_ERR_ARG, "%s: %s is NULL", fn, !B ? "B" : "V");
    if (d < 1)
        return sy_fail(SY_ERR_ARG, "%s: dimension d = %d must be >= 1", fn, d);
    double maxabs = 0.0;
    for (size_t i = 0; i < (size_t)d * d; i++) {
        if (!isfinite(B[i]))
            return sy_fail(SY_ERR_NUMERIC, "%s: B[%zu, %zu] = %g is not finite", fn, i / d,
                           i % d, (double)B[i]);
        if (fabs(B[i]) > maxabs)
            maxabs = fabs(B[i]);
    }
    /* dsyevd reads one triangle only: a non-symmetric B would silently give
     * the eigenvectors of a different matrix. */
    double tol = 1e-5 * maxabs;
    for (size_t i = 0; i < (size_t)d; i++)
        for (size_t j = i + 1; j < (size_t)d; j++)
            if (fabs((double)B[i * d + j] - B[j * d + i]) > tol)
                return sy_fail(SY_ERR_ARG, "%s: B is not symmetric: B[%zu, %zu] = %g but "
                               "B[%zu, %zu] = %g", fn, i, j, (double)B[i * d + j], j, i,
                               (double)B[j * d + i]);
    double *A = malloc((size_t)d * d * sizeof *A);
    double *w = malloc((size_t)d * sizeof *w);
    sy_status st = SY_OK;
    if (!A || !w) {
        st = sy_fail(SY_ERR_NOMEM, "%s: no memory for a %d x %d double matrix", fn, d, d);
        goto done;
    }
    for (size_t i = 0; i < (size_t)d * d; i++)
        A[i] = B[i];
    /* Column-major on purpose: eigenvector k then lies contiguously at
     * A[k*d .. k*d+d), which is the row layout we hand back, and LAPACKE makes
     * no transposed copy. B symmetric, so which triangle is read is moot. */
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'V', 'L', d, A, d, w);
    if (info != 0) {
        st = info < 0 ? sy_fail(SY_ERR_ARG, "%s: LAPACKE_dsyevd rejected argument %d", fn,
                                (int)-info)
                      : sy_fail(SY_ERR_NUMERIC, "%s: LAPACKE_dsyevd did not converge (info %d)",
                                fn, (int)info);
        goto done;
    }
    for (size_t r = 0; r < (size_t)d; r++) {   /* descending: row r = eigenvector d-1-r */
        const double *v = A + ((size_t)d - 1 - r) * d;
        for (size_t k = 0; k < (size_t)d; k++)
            V[r * d + k] = (float)v[k];
        if (lambda)
            lambda[r] = w[d - 1 - r];
    }
done:
    free(A);
    free(w);
    return st;
}

sy_status sy_symmetry_degree(const float *V, int d, const float *w, float c_th, int *deg)
{
    static const char fn[] = "sy_symmetry_degree";
    sy_status st = check_args(fn, V, "V", d, w, deg);
    if (st != SY_OK)
        return st;
    if (!(c_th >= 0) || !isfinite(c_th))
        return sy_fail(SY_ERR_ARG, "%s: c_th = %g must be >= 0 and finite", fn, (double)c_th);
    /* |v_i^T w|, not the paper's signed v_i^T w: the sign of an eigenvector is
     * arbitrary, and w is symmetric under P_i exactly when v_i^T w = 0. */
    int c = 0;
    for (size_t i = 0; i < (size_t)d; i++) {
        const float *v = V + i * d;
        double p = 0.0;
        for (int k = 0; k < d; k++)
            p += (double)v[k] * w[k];
        /* w is finite, so a non-finite projection means V holds NaN/Inf;
         * checking the d results costs less than scanning the d*d V. */
        if (!isfinite(p))
            return sy_fail(SY_ERR_NUMERIC, "%s: row %zu of V is not finite", fn, i);
        c += fabs(p) < c_th;
    }
    *deg = c;
    return SY_OK;
}

sy_status sy_quartic_value(const float *B, int d, const float *w, double *value)
{
    static const char fn[] = "sy_quartic_value";
    sy_status st = check_args(fn, B, "B", d, w, value);
    if (st != SY_OK)
        return st;
    /* All in double: f is a difference of two terms of similar size near a
     * minimum, and the tests take finite differences of it. */
    double ww = 0.0, wBw = 0.0;
    for (size_t i = 0; i < (size_t)d; i++) {
        const float *row = B + i * d;
        double bw = 0.0;
        for (int k = 0; k < d; k++)
            bw += (double)row[k] * w[k];
        wBw += (double)w[i] * bw;
        ww += (double)w[i] * w[i];
    }
    double v = ww * ww - wBw;
    if (!isfinite(v))
        return sy_fail(SY_ERR_NUMERIC, "%s: f(w) is not finite (B holds NaN/Inf, or w is too "
                       "large: |w|^2 = %g)", fn, ww);
    *value = v;
    return SY_OK;
}

sy_status sy_quartic_grad(const float *B, int d, const float *w, float *grad)
{
    static const char fn[] = "sy_quartic_grad";
    sy_status st = check_args(fn, B, "B", d, w, grad);
    if (st != SY_OK)
        return st;
    if (grad == w)
        return sy_fail(SY_ERR_ARG, "%s: grad must not alias w", fn);
    double ww = 0.0;
    for (int i = 0; i < d; i++)
        ww += (double)w[i] * w[i];
    /* This runs every gradient step, so no scratch: grad is written by sgemv
     * and checked afterwards (on failure its contents are unspecified). A
     * NaN/Inf in B always reaches grad, since w is finite (Inf*0 is NaN). */
    cblas_sgemv(CblasRowMajor, CblasNoTrans, d, d, -2.0f, B, d, w, 1, 0.0f, grad, 1);
    float c = (float)(4.0 * ww);
    for (int i = 0; i < d; i++) {
        grad[i] += c * w[i];
        if (!isfinite(grad[i]))
            return sy_fail(SY_ERR_NUMERIC, "%s: gradient component %d is not finite (B holds "
                           "NaN/Inf, or w is too large: |w|^2 = %g)", fn, i, ww);
    }
    return SY_OK;
}
