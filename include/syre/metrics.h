/* syre metrics: the diagnostics of collapse (covariance spectrum and rank,
 * effective and stable rank, dead and identical units, weight norms, degree of
 * symmetry of the quartic toy). Pure functions over plain row-major float
 * arrays, cheap enough to call on any layer's activations every epoch.
 *
 * Conventions for the whole header:
 * - X is a feature matrix [n, f], row-major: n samples by f features (e.g. a
 *   layer's activations on a fixed batch). Spectra are double, descending.
 * - Every function checks its pointers and sizes (SY_ERR_ARG) and its input
 *   values: a NaN or Inf gives SY_ERR_NUMERIC naming where it was, never a
 *   garbage rank. On failure the outputs are left untouched (one exception:
 *   sy_quartic_grad).
 * - No caller workspace: functions that need scratch allocate it themselves
 *   (sizes given per function, O(f^2) doubles at most beyond their outputs),
 *   free it before returning, and report SY_ERR_NOMEM if it cannot be had.
 * Definitions, paper thresholds and costs: docs/metrics.md. */
#ifndef SYRE_METRICS_H
#define SYRE_METRICS_H

#include <stddef.h>

#include "syre/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Thresholds used in the paper (see docs/metrics.md for where). */
#define SY_COV_RANK_THR      1e-4  /* Figs. 4 and 9: eigenvalues < 1e-4 set to 0 */
#define SY_COV_RANK_THR_VAE  1e-6  /* Fig. 6 (beta-VAE encoder output) */
#define SY_LOW_RANKNESS_THR  1e-5  /* Table 1 (SimCLR): share of eigenvalues < 1e-5 */
#define SY_STABLE_RANK_COVER 0.99  /* Dohare et al. 2023: top-k cover 99% of sum s */

/* ---- Covariance spectrum and rank --------------------------------------- */

/* Eigenvalues, descending, of scale * C with C = (1/n) sum_s (x_s - mean)(x_s - mean)^T
 * the [f, f] feature covariance of X [n, f], n >= 2. eig: [f]. Not clamped
 * (round-off may leave values like -1e-17). scale = 1 for the plain
 * covariance; for Fig. 4 ("scaled by alpha^2", inputs multiplied by alpha)
 * pass scale = 1 / alpha^2 to undo the input scaling (see docs/metrics.md).
 * Scratch: f*f + 256*f doubles. Cost O(n f^2 + f^3). */
sy_status sy_cov_spectrum(const float *X, int n, int f, double scale, double *eig);

/* Rank of the covariance: *rank = #{eigenvalues of scale * C > thr}
 * (paper: thr = SY_COV_RANK_THR, or SY_COV_RANK_THR_VAE for the VAE). */
sy_status sy_cov_rank(const float *X, int n, int f, double scale, double thr, int *rank);

/* Low-rankness (Table 1): *share = #{eigenvalues of scale * C < thr} / f, in
 * [0, 1] (paper: thr = SY_LOW_RANKNESS_THR). */
sy_status sy_cov_low_rankness(const float *X, int n, int f, double scale, double thr,
                              double *share);

/* On a spectrum already computed (eig [k], any order): #{eig_i > thr}. No
 * checks beyond k >= 0; NaN entries are never counted. */
int sy_spectrum_count_above(const double *eig, int k, double thr);
/* On a spectrum: #{eig_i < thr} / k (0 for k = 0). */
double sy_spectrum_share_below(const double *eig, int k, double thr);

/* Low-rankness measures of X [n, f] (Table 1, thr = SY_LOW_RANKNESS_THR):
 * share = #{covariance eigenvalues < thr} / f, share_rel the same below
 * thr x the largest eigenvalue (0 if that is not positive: scale-free, to
 * see when collapse begins), the largest and smallest eigenvalue, and the
 * effective rank of X itself. eig [f] (may be NULL) gets the spectrum
 * (sy_cov_spectrum, scale 1, descending). Scratch as sy_cov_spectrum. */
typedef struct {
    double share, share_rel, eig_max, eig_min, erank;
} sy_low_rankness;
sy_status sy_low_rankness_measures(const float *X, int n, int f, double thr, sy_low_rankness *r, double *eig);

/* ---- Singular values, effective rank, stable rank ------------------------ */

/* Singular values s [min(n, f)], descending, of X [n, f] itself: NOT centred
 * (unlike the covariance). Via the eigenvalues of the smaller Gram matrix in
 * double; values below the Gram's resolution (sqrt(m * eps) * s_max) are 0.
 * Scratch: m*m + 256*max(n,f) doubles, m = min(n, f). Cost O(n f m + m^3). */
sy_status sy_singular_values(const float *X, int n, int f, double *s);

/* Effective rank (Roy & Vetterli 2007) of X [n, f], not centred:
 * p_i = s_i / sum_j s_j, erank = exp(-sum_i p_i log p_i) with 0 log 0 = 0;
 * in [1, min(n, f)], and 0 for X = 0. */
sy_status sy_effective_rank(const float *X, int n, int f, double *erank);

/* Stable rank as in Dohare et al. 2023 (loss of plasticity) of X [n, f], not
 * centred: the smallest k with (s_1 + ... + s_k) / sum_j s_j >= cover
 * (paper: cover = SY_STABLE_RANK_COVER = 0.99); 0 for X = 0. */
sy_status sy_stable_rank(const float *X, int n, int f, double cover, int *srank);

/* Both ranks from one decomposition (either output may be NULL). */
sy_status sy_rank_measures(const float *X, int n, int f, double cover,
                           double *erank, int *srank);

/* On singular values s [k], descending, s_i >= 0: the effective rank as above. */
double sy_effective_rank_sv(const double *s, int k);
/* On singular values s [k], descending, s_i >= 0: the stable rank as above. */
int sy_stable_rank_sv(const double *s, int k, double cover);

/* ---- Dead and identical units, weight norms ------------------------------ */

/* Dead units from activations: unit j of X [n, f] is dead if X[s, j] <= thr on
 * every sample s (thr = 0 after ReLU: never positive). *count = number dead;
 * dead [f] (may be NULL) gets 1/0 per unit. Cost O(n f), no scratch. */
sy_status sy_dead_units_act(const float *X, int n, int f, float thr,
                            int *count, unsigned char *dead);

/* Dead units from parameters: unit i (of f) is dead if |W_in[i, :]| <= thr,
 * |b[i]| <= thr and |W_out[:, i]| <= thr elementwise. W_in [f, in] (row i =
 * incoming weights), b [f] or NULL, W_out [out, f] (column i = outgoing) or
 * NULL (then out is ignored). *count, dead [f] or NULL as above. O(f (in+out)). */
sy_status sy_dead_units_param(const float *W_in, int f, int in, const float *b,
                              const float *W_out, int out, float thr,
                              int *count, unsigned char *dead);

/* Distinct units: units i, j are identical if max |W_in[i,:] - W_in[j,:]|,
 * |b[i] - b[j]| and max |W_out[:,i] - W_out[:,j]| are all <= tol; *classes =
 * number of classes of the transitive closure of that relation (1..f). Shapes
 * and NULLs as sy_dead_units_param. Scratch: f ints (+ out*f floats if W_out).
 * Cost O(f^2 (in + out)) worst case. */
sy_status sy_distinct_units(const float *W_in, int f, int in, const float *b,
                            const float *W_out, int out, float tol, int *classes);

/* Active units (Burda et al. 2016) of X [n, f], e.g. a VAE's posterior means
 * over n inputs: *count = #{j : Var_s(X[s, j]) > thr}, the variance with
 * 1/n around the column mean, both accumulated in double in sample order
 * (thr: 0.01 x the prior variance in the paper's C.4). var_max (may be NULL)
 * gets the largest column variance (0 if none is positive). O(n f), no scratch. */
sy_status sy_active_units(const float *X, int n, int f, double thr, int *count, double *var_max);

/* Frobenius norm sqrt(sum_i W_i^2) of numel floats, accumulated in double. */
sy_status sy_frobenius_norm(const float *W, size_t numel, double *norm);

/* ---- Quartic toy objective and its degree of symmetry (paper Sec. 5.1) ----
 * f(w) = (w^T w)^2 - w^T B w with B [d, d] symmetric; each eigenvector v_i of
 * B gives a reflection symmetry w -> w - 2 (v_i^T w) v_i. */

/* Eigen-decomposition of symmetric B [d, d] (checked to be symmetric within
 * 1e-5 * max|B|): V [d, d] gets the unit eigenvectors as ROWS (row i = v_i),
 * lambda [d] (may be NULL) the eigenvalues, both descending in lambda.
 * Scratch: d*d + d doubles. Cost O(d^3); compute once per B. */
sy_status sy_sym_eigvecs(const float *B, int d, float *V, double *lambda);

/* Degree of symmetry: *deg = #{i : |v_i^T w| < c_th}, V [d, d] from
 * sy_sym_eigvecs (rows v_i), w [d]. Cost O(d^2), no scratch. */
sy_status sy_symmetry_degree(const float *V, int d, const float *w, float c_th, int *deg);

/* Quartic objective value f(w) = (w^T w)^2 - w^T B w, in double. O(d^2). */
sy_status sy_quartic_value(const float *B, int d, const float *w, double *value);

/* Its gradient grad [d] = 4 (w^T w) w - 2 B w (B symmetric), float, via
 * sgemv; allocates nothing (it runs every step), so unlike the rest of this
 * header grad is unspecified on SY_ERR_NUMERIC. grad must not alias w. O(d^2). */
sy_status sy_quartic_grad(const float *B, int d, const float *w, float *grad);

#ifdef __cplusplus
}
#endif
#endif
