/* syre metrics: the diagnostics of collapse (covariance spectrum and rank,
 * effective and stable rank, dead and identical units, weight norms, degree of
 * symmetry of the quartic toy). Pure functions over plain row-major float
 * arrays, cheap enough to call on any layer's activations every epoch; and
 * the two toy problems' solvers, which train no network: gradient descent on
 * the quartic toy and regression with decay toward an anchor.
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
#include "syre/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Thresholds used in the paper (see docs/metrics.md for where). */
#define SY_COV_RANK_THR      1e-4  /* Figs. 4 and 9: eigenvalues < 1e-4 set to 0 */
#define SY_COV_RANK_THR_VAE  1e-6  /* Fig. 6 (beta-VAE encoder output) */
#define SY_LOW_RANKNESS_THR  1e-5  /* Table 1 (SimCLR): share of eigenvalues < 1e-5 */
#define SY_STABLE_RANK_COVER 0.99  /* Dohare et al. 2023: top-k cover 99% of sum s */

/* ---- Covariance spectrum and rank --------------------------------------- */

/* Eigenvalues, descending, of C = (1/n) sum_s (x_s - mean)(x_s - mean)^T,
 * the [f, f] feature covariance of X [n, f], n >= 2. eig: [f]. Not clamped
 * (round-off may leave values like -1e-17).
 * Scratch: f*f + 256*f doubles. Cost O(n f^2 + f^3). */
sy_status sy_cov_spectrum(const float *X, int n, int f, double *eig);

/* Eigenvalues, descending, of scale * C (sy_cov_spectrum's C), scale > 0
 * and finite. For Fig. 4 ("scaled by alpha^2", inputs multiplied by alpha):
 * scale = 1 / alpha^2 undoes the input scaling (docs/metrics.md). The scale
 * multiplies C's entries before the eigensolver, so the eigenvalues are
 * those of the scaled matrix (not, in general bit for bit, scale times
 * sy_cov_spectrum's); scale = 1 gives sy_cov_spectrum's exactly. */
sy_status sy_cov_spectrum_scaled(const float *X, int n, int f, double scale, double *eig);

/* Rank of the covariance: *rank = #{eigenvalues of C > thr}
 * (paper: thr = SY_COV_RANK_THR, or SY_COV_RANK_THR_VAE for the VAE). */
sy_status sy_cov_rank(const float *X, int n, int f, double thr, int *rank);

/* Low-rankness (Table 1): *share = #{eigenvalues of C < thr} / f, in
 * [0, 1] (paper: thr = SY_LOW_RANKNESS_THR). */
sy_status sy_cov_low_rankness(const float *X, int n, int f, double thr, double *share);

/* Rank of the channel covariance of a convolution output X [n, C, HW] (NCHW,
 * HW = H * W positions): every (image, position) is a sample of the C
 * channels, eigenvalues above thr counted (sy_cov_rank). At most C; unlike
 * the rank over all C * HW features, which n images bound by n - 1, it is
 * meaningful for a wide early layer. n * HW >= 2. */
sy_status sy_channel_cov_rank(const float *X, int n, int C, int HW, double thr, int *rank);

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
 * (sy_cov_spectrum, descending). Scratch as sy_cov_spectrum. */
typedef struct {
    /* shares of eigenvalues below thr and below thr x eig_max; the largest
     * and smallest eigenvalue; the effective rank of X */
    double share, share_rel, eig_max, eig_min, erank;
} sy_low_rankness;
/* Computes them into *r (eig as above). Fails with SY_ERR_ARG if r is NULL
 * or f < 1, SY_ERR_NOMEM, or as sy_cov_spectrum and sy_effective_rank. */
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

/* Margin of the dead state: *margin = min over units i of the largest
 * |parameter| of unit i (W_in row, b[i], W_out column; shapes and NULLs as
 * sy_dead_units_param), the smallest thr at which a unit would count as
 * dead. Paired parameters (in = out = 1): min_i max(|u_i|, |w_i|). */
sy_status sy_dead_units_margin(const float *W_in, int f, int in, const float *b, const float *W_out, int out,
                               double *margin);

/* Active units (Burda et al. 2016) of X [n, f], e.g. a VAE's posterior means
 * over n inputs: *count = #{j : Var_s(X[s, j]) > thr}, the variance with
 * 1/n around the column mean, both accumulated in double in sample order
 * (thr: 0.01 x the prior variance in the paper's C.4). var_max (may be NULL)
 * gets the largest column variance (0 if none is positive). O(n f), no scratch. */
sy_status sy_active_units(const float *X, int n, int f, double thr, int *count, double *var_max);

/* Dormant units (Sokar et al. 2023, ReDo) of X [n, f x hw], f units of hw
 * positions each in unit-major order (hw = 1 for a linear layer's [n, f],
 * the positions of a channel for a convolution's NCHW output): unit j's
 * score s_j = mean over samples and positions of |X| divided by the mean
 * of that over the layer's units; it is tau-dormant if s_j <= tau (tau = 0:
 * never nonzero on the batch; the paper's 0.025 and 0.1 for nearly silent
 * units). A layer whose every activation is 0 has every unit dormant.
 * *ratio = dormant units / f; dormant [f] (may be NULL) gets 1/0 per unit.
 * Accumulated in double in sample order. O(n f hw), scratch f doubles. */
sy_status sy_dormant_ratio(const float *X, int n, int f, int hw, double tau, double *ratio, unsigned char *dormant);

/* Frobenius norm sqrt(sum_i W_i^2) of numel floats, accumulated in double. */
sy_status sy_frobenius_norm(const float *W, size_t numel, double *norm);

/* ---- Identical units: a low-capacity start (paper Sec. 3) ----------------- */

/* Units 1 .. ncopy-1 of a layer (shapes as sy_distinct_units; b, W_out may be
 * NULL) become exact copies of unit 0: its W_in row, bias and W_out column.
 * With split, unit 0's column is first divided by ncopy, so that the copies
 * together contribute what unit 0 did: the layer computes what a layer of
 * f - ncopy + 1 units does. ncopy in [0, f]; 0 or 1 change nothing. */
sy_status sy_units_make_copies(float *W_in, int f, int in, float *b, float *W_out, int out, int ncopy,
                               int split);

/* *spread = the largest |difference| between unit 0 and units 1 .. ncopy-1
 * over their W_in rows, biases and W_out columns (differences taken in float):
 * exactly 0 while they are copies. A NaN or Inf among them: SY_ERR_NUMERIC. */
sy_status sy_units_copy_spread(const float *W_in, int f, int in, const float *b, const float *W_out, int out,
                               int ncopy, double *spread);

/* ---- Quartic toy objective and its degree of symmetry (paper Sec. 5.1) ----
 * f(w) = (w^T w)^2 - w^T B w with B [d, d] symmetric; each eigenvector v_i of
 * B gives a reflection symmetry w -> w - 2 (v_i^T w) v_i. */

/* Eigen-decomposition of symmetric B [d, d] (checked to be symmetric within
 * 1e-5 * max|B|): V [d, d] gets the unit eigenvectors as ROWS (row i = v_i),
 * lambda [d] (may be NULL) the eigenvalues, both descending in lambda.
 * Scratch: d*d + d doubles. Cost O(d^3); compute once per B. */
sy_status sy_sym_eigvecs(const float *B, int d, float *V, double *lambda);

/* Flat and repeated eigenvalues of a spectrum eig[0..n) (any order), with
 * g = tol * max|eig|: *flat = #{i : |eig_i| <= g}; *multiplicity = the size
 * of the largest run of the other eigenvalues, sorted, whose neighbours
 * differ by at most g (1 when all are apart, 0 when all are flat). At a
 * minimum of a loss, a continuous symmetry shows as flat directions, or as a
 * multiplet where a decay lifts its orbit but keeps a subgroup (Theorem 5:
 * plain syre keeps the rotations that fix theta0, syre-ar none).
 * (src/metrics/degeneracy.c) */
sy_status sy_spectrum_degeneracy(const double *eig, int n, double tol, int *flat, int *multiplicity);

/* The share of X [n, mx] outside the column span of B [n, mb] (both
 * row-major): *share = |X - Q Q^T X|_F / |X|_F, Q an orthonormal basis of
 * B's columns (0 for X = 0). E.g. how much of a solution lies in the
 * directions an anchor leaves symmetric. Scratch (mb + 1) n doubles; no
 * BLAS, so the same bits on every CPU. (src/metrics/subspace.c) */
sy_status sy_outside_span_share(const float *B, int mb, const float *X, int mx, int n, double *share);

/* Degree of symmetry: *deg = #{i : |v_i^T w| < c_th}, V [d, d] from
 * sy_sym_eigvecs (rows v_i), w [d]. Cost O(d^2), no scratch. */
sy_status sy_symmetry_degree(const float *V, int d, const float *w, float c_th, int *deg);

/* Quartic objective value f(w) = (w^T w)^2 - w^T B w, in double. O(d^2). */
sy_status sy_quartic_value(const float *B, int d, const float *w, double *value);

/* Its gradient grad [d] = 4 (w^T w) w - 2 B w (B symmetric), float, via
 * sgemv; allocates nothing (it runs every step), so unlike the rest of this
 * header grad is unspecified on SY_ERR_NUMERIC. grad must not alias w. O(d^2). */
sy_status sy_quartic_grad(const float *B, int d, const float *w, float *grad);

/* Where a point w stands: f(w) (NaN if w is not finite), its degree of
 * symmetry (-1 then), |w| and whether w is no longer finite. */
typedef struct {
    double objective, wnorm; /* f(w) (NaN if diverged) and |w| */
    int degree, diverged;    /* degree of symmetry (-1 if diverged); 1 if |w|^2 is not finite */
} sy_quartic_point;

/* f(w), the degree of symmetry at c_th (V from sy_sym_eigvecs) and |w| of w
 * [d]. Never fails: a w that is not finite is reported as diverged. */
void sy_quartic_measure(const float *B, const float *V, int d, const float *w, float c_th, sy_quartic_point *out);

/* ---- Gradient descent on the quartic toy ----------------------------------
 * w is the one tensor "w" [1, d] of its own parameter store (rank 2, so that
 * W-fix applies; fan_in 1, so syre's anchor std is sigma0 itself), initialised
 * w_i ~ N(0, init_scale^2 / d) and trained by plain SGD with the decay rule;
 * the gradient of f is written into the store's gradient buffer by hand. With
 * a dropout rate p > 0, step t draws the mask m_i ~ Bernoulli(1 - p) from
 * stream SY_STREAM_DROPOUT, sub-stream t, and the gradient is taken at
 * w~ = m * w / (1 - p) and chained back, grad_i = m_i / (1 - p) (df/dw)(w~)_i
 * (inverted dropout: f itself is measured at w). */

/* Options of sy_quartic_gd_new. */
typedef struct {
    const float *B;     /* [d, d] symmetric; read at every step, not copied */
    int d;              /* dimension of w, >= 1 */
    int diagonal;       /* 1: B is diagonal, and the gradient costs O(d) */
    double lr;          /* SGD learning rate */
    double init_scale;  /* |w0| ~ init_scale */
    double dropout;     /* rate p on w, in [0, 1); 0: none */
    sy_decay decay;     /* the optimizer's rule: sy_decay_parse, sy_decay_wfix, ... */
    uint64_t seed;      /* init, anchor, W-fix values, dropout masks */
} sy_quartic_gd_opts;

/* Gradient descent on the quartic toy (opaque): w, its store and optimizer. */
typedef struct sy_quartic_gd sy_quartic_gd;

/* Makes the store, initialises w and makes the SGD optimizer; o is copied
 * (B is not). Fails with SY_ERR_ARG on a NULL argument, d < 1, a dropout
 * rate outside [0, 1) or options the optimizer refuses, or SY_ERR_NOMEM. */
sy_status sy_quartic_gd_new(const sy_quartic_gd_opts *o, sy_quartic_gd **out);
/* Frees it with its store and optimizer; NULL is a no-op. */
void sy_quartic_gd_free(sy_quartic_gd *q);
/* The store and optimizer, for checkpoints (sy_train_save / sy_train_load). */
sy_params *sy_quartic_gd_params(sy_quartic_gd *q);
sy_optimizer *sy_quartic_gd_optimizer(sy_quartic_gd *q);
/* w now: [d] floats in the store (valid until free; a load writes into it). */
const float *sy_quartic_gd_w(const sy_quartic_gd *q);
/* Step t (0-based): the gradient of f (at step t's dropout mask), then the
 * optimizer's step with its decay. SY_ERR_NUMERIC once w or the gradient is
 * no longer finite. */
sy_status sy_quartic_gd_step(sy_quartic_gd *q, long t);
/* |grad f(w)| at w now: the quartic alone, without the decay or dropout. */
sy_status sy_quartic_gd_grad_norm(sy_quartic_gd *q, double *norm);

/* ---- Linear regression with decay toward an anchor (paper C.2, Eq. 52) ----
 * Training loss: the mean squared error (1/N) sum (w^T x_n - y_n)^2 of N
 * samples X [N, d] (row-major), y [N], plus the optimizer's decay
 * (wd/2) (w - a)^T D (w - a): its gradient is 2 (A w - b) + wd D (w - a) with
 * A = X^T X / N, b = X^T y / N. w is one linear layer of fan_in d, so syre's
 * anchor std is sigma0 / sqrt(d). */

/* A [d, d] = X^T X / n and b [d] = X^T y / n, summed in double. O(n d^2). */
sy_status sy_ridge_moments(const float *X, const float *y, int n, int d, double *A, double *b);

/* How sy_ridge_fit fits w. */
typedef struct {
    sy_decay decay;    /* none (least squares), weight decay, syre, ... (sy_decay_parse) */
    int gd;            /* 1: solve by gradient descent, checked against the closed form; 0: closed form */
    double lr;         /* GD: SGD learning rate (stable below 2 / (2 lambda_max(A) + wd)) */
    double tol;        /* GD stops when |grad| <= tol * |2 b| (checked every 50 steps) ... */
    long max_steps;    /* ... or after max_steps */
    uint64_t seed;     /* keys the anchor */
} sy_ridge_opts;

/* Fit w [d] on (X, y) with their moments A, b. Closed form: with decay, the
 * stationary point (2A + wd D) w = 2b + wd D a (Eq. 52, Cholesky in double);
 * without, the minimum-norm least-squares solution (GD is never used then: it
 * would need unbounded time at N = d). GD: full-batch SGD with the decay rule
 * from w = 0; *gd_err = |w - w_closed| / |w_closed| (NaN without GD) and
 * *steps the steps taken (0 without GD). A GD that stops being finite fails
 * with SY_ERR_NUMERIC. Scratch O(d^2 + N^2) doubles. */
sy_status sy_ridge_fit(const float *X, const float *y, int n, int d, const double *A, const double *b,
                       const sy_ridge_opts *o, float *w, double *gd_err, long *steps);

/* For the Gaussian linear model x ~ N(0, I_d), y = w*^T x + noise N(0, 1):
 * *test = the population risk E(w^T x - y)^2 = |w - w*|^2 + noise^2, exact;
 * *train = the mean squared error of w on (X, y). Both in double. */
void sy_ridge_losses(const float *X, const float *y, int n, int d, const float *w, const float *wstar, double noise,
                     double *test, double *train);

/* Draws training set `trial` of n samples: X [n, d] and y [n]. */
typedef sy_status (*sy_ridge_draw_fn)(void *ctx, int trial, int n, float *X, float *y);

/* One point of a risk curve, over the trials. */
typedef struct {
    double test, test_sd; /* mean and standard deviation of the population risk */
    double train;         /* mean training MSE */
    double gd_err;        /* largest GD distance to the closed form (NaN if any is NaN) */
    double steps;         /* mean GD steps */
} sy_ridge_risk;

/* out[m] for each of ns fits o[m], on the same `trials` training sets of n
 * samples that draw gives (teacher wstar [d], label noise std noise). */
sy_status sy_ridge_risk_at(int d, int n, int trials, sy_ridge_draw_fn draw, void *ctx, const float *wstar,
                           double noise, int ns, const sy_ridge_opts *o, sy_ridge_risk *out);

/* ---- Identical units of a store's hidden layer (src/metrics/layer_units.c) ----
 * The hidden layer between two linear layers of ps, named by them: W_in
 * "<in_layer>.weight" [f, in], b "<in_layer>.bias" [f] (none: NULL) and W_out
 * "<out_layer>.weight" [out, f], fetched afresh at each call (on a device a
 * pointer kept across training steps would be stale). Tensors missing or
 * not shaped as a hidden layer fail with SY_ERR_ARG or SY_ERR_SHAPE. */

/* sy_units_make_copies on the layer: units 1 .. ncopy-1 become copies of unit 0. */
sy_status sy_layer_make_copies(sy_params *ps, const char *in_layer, const char *out_layer, int ncopy, int split);
/* sy_distinct_units of the layer at tol into *distinct and, where spread is
 * not NULL, sy_units_copy_spread of its units 0 .. ncopy-1 into *spread. */
sy_status sy_layer_units(sy_params *ps, const char *in_layer, const char *out_layer, float tol, int ncopy,
                         int *distinct, double *spread);

/* ---- Repeats of one measurement (src/metrics/spread.c) ---------------------- */

/* Mean and sample standard deviation of v[0..n), n >= 1 (e.g. a test
 * accuracy over seeds): mean = sum_k (v[k] / n) in order, sd = sqrt(sum_k
 * (v[k] - mean)^2 / (n - 1)), 0 when n = 1. Either output may be NULL. */
sy_status sy_mean_std(const double *v, int n, double *mean, double *sd);

#ifdef __cplusplus
}
#endif
#endif
