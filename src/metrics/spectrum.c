/* Spectral diagnostics of a feature matrix X [n, f]: covariance spectrum and
 * rank (paper Figs. 4-6, 9, Table 1), singular values, effective rank (Roy &
 * Vetterli) and stable rank (Dohare et al.). Not the quartic toy (quartic.c). */
#include "syre/metrics.h"
#include "backend/cpu/threads.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

/* Rows (or columns) converted to double per dsyrk call: bounds the scratch to
 * ROW_BLOCK * f doubles instead of a full double copy of X, and 256 is wide
 * enough for dsyrk to run at full speed. */
#define ROW_BLOCK 256

/* Values are checked before any arithmetic: a NaN would otherwise flow
 * through dsyrk and dsyevd and come out as a plausible-looking rank. */
static sy_status check_finite(const char *fn, const float *X, int n, int f)
{
    for (size_t s = 0; s < (size_t)n; s++) {
        const float *row = X + s * (size_t)f;
        for (int j = 0; j < f; j++)
            if (!isfinite(row[j]))
                return sy_fail(SY_ERR_NUMERIC,
                               "%s: X[%zu, %d] = %g is not finite (features must be finite)",
                               fn, s, j, (double)row[j]);
    }
    return SY_OK;
}

static sy_status check_matrix(const char *fn, const float *X, int n, int f, int min_n)
{
    if (!X)
        return sy_fail(SY_ERR_ARG, "%s: X is NULL", fn);
    if (n < min_n || f < 1)
        return sy_fail(SY_ERR_ARG, "%s: X has shape [%d, %d]; need n >= %d samples and f >= 1 features",
                       fn, n, f, min_n);
    return check_finite(fn, X, n, f);
}

/* Upper triangle (row-major) of a Gram matrix in double:
 *   by_cols = 0: G [f, f] = alpha * sum_s (x_s - mean)(x_s - mean)^T   (mean may be NULL)
 *   by_cols = 1: G [n, n] = alpha * X X^T
 * float*float products are exact in double, so accumulating in double loses
 * only summation round-off even for n in the tens of thousands. */
static sy_status gram(const char *fn, const float *X, int n, int f, const double *mean,
                      double alpha, int by_cols, double *G)
{
    int m = by_cols ? n : f;
    double *buf = malloc((size_t)ROW_BLOCK * (size_t)(by_cols ? n : f) * sizeof *buf);
    if (!buf)
        return sy_fail(SY_ERR_NOMEM, "%s: no memory for a %d x %d block of X", fn, ROW_BLOCK,
                       by_cols ? n : f);
    sy_blas_threads_begin(); /* a few large calls: OpenBLAS's own threads */
    if (!by_cols) {
        for (int s0 = 0; s0 < n; s0 += ROW_BLOCK) {
            int rb = n - s0 < ROW_BLOCK ? n - s0 : ROW_BLOCK;
            for (int r = 0; r < rb; r++) {
                const float *x = X + (size_t)(s0 + r) * f;
                double *y = buf + (size_t)r * f;
                for (int j = 0; j < f; j++)
                    y[j] = (double)x[j] - (mean ? mean[j] : 0.0);
            }
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, f, rb, alpha, buf, f,
                        s0 == 0 ? 0.0 : 1.0, G, m);
        }
    } else {
        for (int j0 = 0; j0 < f; j0 += ROW_BLOCK) {
            int cb = f - j0 < ROW_BLOCK ? f - j0 : ROW_BLOCK;
            for (int s = 0; s < n; s++) {
                const float *x = X + (size_t)s * f + j0;
                double *y = buf + (size_t)s * cb;
                for (int c = 0; c < cb; c++)
                    y[c] = (double)x[c];
            }
            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasNoTrans, n, cb, alpha, buf, cb,
                        j0 == 0 ? 0.0 : 1.0, G, m);
        }
    }
    sy_blas_threads_end();
    free(buf);
    return SY_OK;
}

/* Eigenvalues (ascending) of the symmetric G [m, m] whose row-major upper
 * triangle is filled; G is destroyed. The row-major upper triangle is the
 * column-major lower one, so LAPACK is called column-major on the same memory
 * and LAPACKE makes no transposed copy. */
static sy_status sym_eigenvalues(const char *fn, double *G, int m, double *w)
{
    sy_blas_threads_begin();
    lapack_int info = LAPACKE_dsyevd(LAPACK_COL_MAJOR, 'N', 'L', m, G, m, w);
    sy_blas_threads_end();
    if (info < 0)
        return sy_fail(SY_ERR_ARG, "%s: LAPACKE_dsyevd rejected argument %d", fn, (int)-info);
    if (info > 0)
        return sy_fail(SY_ERR_NUMERIC, "%s: LAPACKE_dsyevd did not converge (info %d)", fn,
                       (int)info);
    return SY_OK;
}

/* The spectrum of scale * C, reported as function fn. */
static sy_status cov_spectrum(const char *fn, const float *X, int n, int f, double scale, double *eig)
{
    sy_status st = check_matrix(fn, X, n, f, 2);
    if (st != SY_OK)
        return st;
    if (!eig)
        return sy_fail(SY_ERR_ARG, "%s: eig is NULL", fn);
    if (!(scale > 0) || !isfinite(scale))
        return sy_fail(SY_ERR_ARG, "%s: scale = %g must be positive and finite", fn, scale);

    double *mean = calloc((size_t)f, sizeof *mean);
    double *C = malloc((size_t)f * (size_t)f * sizeof *C);
    double *w = malloc((size_t)f * sizeof *w);
    if (!mean || !C || !w) {
        st = sy_fail(SY_ERR_NOMEM, "%s: no memory for the %d x %d covariance", fn, f, f);
        goto done;
    }
    /* Two passes (mean first) rather than E[xx^T] - mean mean^T: features
     * with a large mean and small variance would lose the variance entirely
     * to cancellation, which is exactly the low-rank signal we measure. */
    for (int s = 0; s < n; s++) {
        const float *x = X + (size_t)s * f;
        for (int j = 0; j < f; j++)
            mean[j] += x[j];
    }
    for (int j = 0; j < f; j++)
        mean[j] /= n;
    st = gram(fn, X, n, f, mean, scale / n, 0, C);
    if (st == SY_OK)
        st = sym_eigenvalues(fn, C, f, w);
    if (st == SY_OK)
        for (int i = 0; i < f; i++)
            eig[i] = w[f - 1 - i];
done:
    free(mean);
    free(C);
    free(w);
    return st;
}

sy_status sy_cov_spectrum(const float *X, int n, int f, double *eig)
{
    return cov_spectrum("sy_cov_spectrum", X, n, f, 1.0, eig);
}

sy_status sy_cov_spectrum_scaled(const float *X, int n, int f, double scale, double *eig)
{
    return cov_spectrum("sy_cov_spectrum_scaled", X, n, f, scale, eig);
}

int sy_spectrum_count_above(const double *eig, int k, double thr)
{
    int c = 0;
    for (int i = 0; eig && i < k; i++)
        c += eig[i] > thr;
    return c;
}

double sy_spectrum_share_below(const double *eig, int k, double thr)
{
    if (!eig || k <= 0)
        return 0.0;
    int c = 0;
    for (int i = 0; i < k; i++)
        c += eig[i] < thr;
    return (double)c / k;
}

sy_status sy_cov_rank(const float *X, int n, int f, double thr, int *rank)
{
    if (!rank)
        return sy_fail(SY_ERR_ARG, "sy_cov_rank: rank is NULL");
    if (isnan(thr))
        return sy_fail(SY_ERR_ARG, "sy_cov_rank: threshold is NaN");
    if (!X || n < 2 || f < 1)   /* reported before allocating for f eigenvalues */
        return check_matrix("sy_cov_rank", X, n, f, 2);
    double *eig = malloc((size_t)f * sizeof *eig);
    if (!eig)
        return sy_fail(SY_ERR_NOMEM, "sy_cov_rank: no memory for %d eigenvalues", f);
    sy_status st = sy_cov_spectrum(X, n, f, eig);
    if (st == SY_OK)
        *rank = sy_spectrum_count_above(eig, f, thr);
    free(eig);
    return st;
}

sy_status sy_cov_low_rankness(const float *X, int n, int f, double thr, double *share)
{
    if (!share)
        return sy_fail(SY_ERR_ARG, "sy_cov_low_rankness: share is NULL");
    if (isnan(thr))
        return sy_fail(SY_ERR_ARG, "sy_cov_low_rankness: threshold is NaN");
    if (!X || n < 2 || f < 1)
        return check_matrix("sy_cov_low_rankness", X, n, f, 2);
    double *eig = malloc((size_t)f * sizeof *eig);
    if (!eig)
        return sy_fail(SY_ERR_NOMEM, "sy_cov_low_rankness: no memory for %d eigenvalues", f);
    sy_status st = sy_cov_spectrum(X, n, f, eig);
    if (st == SY_OK)
        *share = sy_spectrum_share_below(eig, f, thr);
    free(eig);
    return st;
}

/* Singular values via the Gram matrix rather than sgesdd: it reuses the
 * blocked double dsyrk + dsyevd path of the covariance, needs only m*m
 * scratch for a tall X (sgesdd wants a copy of X plus its workspace), and the
 * large singular values, which dominate both erank and the 99% stable rank,
 * come out in double precision. What squaring costs is resolution: values
 * below sqrt(m * eps_double) * s_max (~1e-7 relative) are unresolvable, so
 * they are set to 0; they change neither measure by more than ~1e-6. */
sy_status sy_singular_values(const float *X, int n, int f, double *s)
{
    static const char fn[] = "sy_singular_values";
    sy_status st = check_matrix(fn, X, n, f, 1);
    if (st != SY_OK)
        return st;
    if (!s)
        return sy_fail(SY_ERR_ARG, "%s: s is NULL", fn);
    int by_cols = n < f;   /* X X^T [n, n] when X is wide, X^T X [f, f] when tall */
    int m = by_cols ? n : f;
    double *G = malloc((size_t)m * (size_t)m * sizeof *G);
    double *w = malloc((size_t)m * sizeof *w);
    if (!G || !w) {
        st = sy_fail(SY_ERR_NOMEM, "%s: no memory for the %d x %d Gram matrix", fn, m, m);
        goto done;
    }
    st = gram(fn, X, n, f, NULL, 1.0, by_cols, G);
    if (st == SY_OK)
        st = sym_eigenvalues(fn, G, m, w);
    if (st == SY_OK) {
        double cut = w[m - 1] * m * DBL_EPSILON;
        for (int i = 0; i < m; i++) {
            double l = w[m - 1 - i];
            s[i] = l > cut ? sqrt(l) : 0.0;
        }
    }
done:
    free(G);
    free(w);
    return st;
}

double sy_effective_rank_sv(const double *s, int k)
{
    double sum = 0.0;
    for (int i = 0; s && i < k; i++)
        sum += s[i];
    if (!(sum > 0))
        return 0.0;   /* X = 0: no direction at all, rather than log(0) */
    double h = 0.0;
    for (int i = 0; i < k; i++) {
        double p = s[i] / sum;
        if (p > 0)    /* 0 log 0 = 0 */
            h -= p * log(p);
    }
    return exp(h);
}

int sy_stable_rank_sv(const double *s, int k, double cover)
{
    double sum = 0.0;
    for (int i = 0; s && i < k; i++)
        sum += s[i];
    if (!(sum > 0))
        return 0;
    /* Same arithmetic as Dohare et al.'s reference code: cumsum / sum
     * compared with the cover, so boundary cases round the same way. */
    double cum = 0.0;
    for (int i = 0; i < k; i++) {
        cum += s[i];
        if (cum / sum >= cover)
            return i + 1;
    }
    return k;
}

sy_status sy_rank_measures(const float *X, int n, int f, double cover, double *erank,
                           int *srank)
{
    static const char fn[] = "sy_rank_measures";
    if (!erank && !srank)
        return sy_fail(SY_ERR_ARG, "%s: both outputs are NULL", fn);
    if (!(cover > 0 && cover <= 1))
        return sy_fail(SY_ERR_ARG, "%s: cover = %g must be in (0, 1]", fn, cover);
    sy_status st = check_matrix(fn, X, n, f, 1);
    if (st != SY_OK)
        return st;
    int m = n < f ? n : f;
    double *s = malloc((size_t)m * sizeof *s);
    if (!s)
        return sy_fail(SY_ERR_NOMEM, "%s: no memory for %d singular values", fn, m);
    st = sy_singular_values(X, n, f, s);
    if (st == SY_OK) {
        if (erank)
            *erank = sy_effective_rank_sv(s, m);
        if (srank)
            *srank = sy_stable_rank_sv(s, m, cover);
    }
    free(s);
    return st;
}

sy_status sy_effective_rank(const float *X, int n, int f, double *erank)
{
    if (!erank)
        return sy_fail(SY_ERR_ARG, "sy_effective_rank: erank is NULL");
    return sy_rank_measures(X, n, f, SY_STABLE_RANK_COVER, erank, NULL);
}

sy_status sy_stable_rank(const float *X, int n, int f, double cover, int *srank)
{
    if (!srank)
        return sy_fail(SY_ERR_ARG, "sy_stable_rank: srank is NULL");
    return sy_rank_measures(X, n, f, cover, NULL, srank);
}
