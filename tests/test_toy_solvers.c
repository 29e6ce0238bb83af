/* Tests of the toy problems' solvers in src/metrics: gradient descent on the
 * quartic toy (sy_quartic_gd: the dense and diagonal gradients agree, plain
 * GD reaches the optimum -lambda1^2/4 on the top eigenvector, strong decay
 * pulls w to 0, dropout masks follow the seed) and regression with decay
 * toward an anchor (sy_ridge_*: moments by hand, least squares recovers a
 * noiseless teacher, the minimum-norm solution interpolates, the ridge
 * solution solves its normal equations, GD lands on the closed form, and the
 * risk averaged over training sets). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

static void assert_near(double a, double b, double tol)
{
    if (!(fabs(a - b) <= tol)) fail_msg("%.17g, expected %.17g (tol %g)", a, b, tol);
}

/* ---- quartic ---------------------------------------------------------------- */

enum { QD = 6 };
/* diag(3, 1, 0.5, -0.2, -1, 0.1) as a dense matrix: lambda1 = 3, f* = -9/4 */
static const float QB_DIAG[QD] = {3, 1, 0.5f, -0.2f, -1, 0.1f};

static void fill_diag(float *B)
{
    memset(B, 0, sizeof(float) * QD * QD);
    for (int i = 0; i < QD; i++) B[i * QD + i] = QB_DIAG[i];
}

static sy_quartic_gd *quartic_new(const float *B, int diagonal, sy_decay decay, double dropout)
{
    sy_quartic_gd_opts o = {.B = B, .d = QD, .diagonal = diagonal, .lr = 1e-2, .init_scale = 1,
                            .dropout = dropout, .decay = decay, .seed = 3};
    sy_quartic_gd *q = NULL;
    assert_int_equal(sy_quartic_gd_new(&o, &q), SY_OK);
    return q;
}

static void test_quartic_gd_reaches_optimum(void **state)
{
    (void)state;
    float B[QD * QD], V[QD * QD];
    fill_diag(B);
    assert_int_equal(sy_sym_eigvecs(B, QD, V, NULL), SY_OK);
    sy_quartic_gd *dense = quartic_new(B, 0, sy_decay_none(), 0), *diag = quartic_new(B, 1, sy_decay_none(), 0);
    for (long t = 0; t < 4000; t++) {
        assert_int_equal(sy_quartic_gd_step(dense, t), SY_OK);
        assert_int_equal(sy_quartic_gd_step(diag, t), SY_OK);
    }
    const float *wd = sy_quartic_gd_w(dense), *wg = sy_quartic_gd_w(diag);
    /* the O(d) gradient of a diagonal B is the dense one */
    for (int i = 0; i < QD; i++) assert_near(wg[i], wd[i], 1e-5);
    sy_quartic_point p;
    sy_quartic_measure(B, V, QD, wd, 1e-3f, &p);
    /* all of w on the top eigenvector e_0, |w|^2 = lambda1 / 2 */
    assert_near(p.objective, -9.0 / 4, 1e-5);
    assert_near(p.wnorm, sqrt(1.5), 1e-4);
    assert_int_equal(p.degree, QD - 1);
    assert_false(p.diverged);
    double gn = -1;
    assert_int_equal(sy_quartic_gd_grad_norm(dense, &gn), SY_OK);
    assert_true(gn >= 0 && gn < 1e-4);
    sy_quartic_gd_free(dense);
    sy_quartic_gd_free(diag);
}

static void test_quartic_gd_decay_and_dropout(void **state)
{
    (void)state;
    float B[QD * QD];
    fill_diag(B);
    /* weight decay wd > 2 lambda1 makes w = 0 the only stationary point */
    sy_quartic_gd *q = quartic_new(B, 1, sy_decay_l2(8), 0);
    for (long t = 0; t < 3000; t++) assert_int_equal(sy_quartic_gd_step(q, t), SY_OK);
    double n2 = 0;
    for (int i = 0; i < QD; i++) n2 += (double)sy_quartic_gd_w(q)[i] * sy_quartic_gd_w(q)[i];
    assert_true(sqrt(n2) < 1e-6);
    sy_quartic_gd_free(q);

    /* dropout: the same seed gives the same path, which differs from GD's */
    sy_quartic_gd *a = quartic_new(B, 1, sy_decay_none(), 0.5), *b = quartic_new(B, 1, sy_decay_none(), 0.5);
    sy_quartic_gd *g = quartic_new(B, 1, sy_decay_none(), 0);
    for (long t = 0; t < 20; t++) {
        assert_int_equal(sy_quartic_gd_step(a, t), SY_OK);
        assert_int_equal(sy_quartic_gd_step(b, t), SY_OK);
        assert_int_equal(sy_quartic_gd_step(g, t), SY_OK);
    }
    assert_memory_equal(sy_quartic_gd_w(a), sy_quartic_gd_w(b), sizeof(float) * QD);
    double diff = 0;
    for (int i = 0; i < QD; i++) diff += fabs((double)sy_quartic_gd_w(a)[i] - sy_quartic_gd_w(g)[i]);
    assert_true(diff > 1e-4);
    sy_quartic_gd_free(a);
    sy_quartic_gd_free(b);
    sy_quartic_gd_free(g);

    /* a rate of 1 and a missing B are refused; a w that is not finite is diverged */
    sy_quartic_gd_opts o = {.B = B, .d = QD, .lr = 1e-2, .init_scale = 1, .dropout = 1, .decay = sy_decay_none()};
    sy_quartic_gd *bad = NULL;
    assert_int_equal(sy_quartic_gd_new(&o, &bad), SY_ERR_ARG);
    o.dropout = 0;
    o.B = NULL;
    assert_int_equal(sy_quartic_gd_new(&o, &bad), SY_ERR_ARG);
    assert_null(bad);
    float w[QD] = {0, NAN};
    sy_quartic_point p;
    sy_quartic_measure(B, B, QD, w, 1e-3f, &p);
    assert_true(p.diverged && isnan(p.objective) && p.degree == -1);
}

/* Theorem 6: syre breaks a symmetry with a strength of order gamma * sigma0.
 * With the same init and anchor direction (one seed), settings that share the
 * product land on the same degree of symmetry while the decay's own pull
 * toward 0 (gamma against the spectrum, lambda1 ~ 2.7 here) is small; a
 * product ten times larger gives a much lower degree. The unstructured B of
 * the quartic experiment (d 100, c_th 1e-3), lr * steps as its --quick. */
static int quartic_degree(const float *B, const float *V, int d, float gamma, float sigma0)
{
    sy_quartic_gd_opts o = {.B = B, .d = d, .lr = 1e-3, .init_scale = 1, .decay = sy_decay_syre(gamma, sigma0),
                            .seed = 11};
    sy_quartic_gd *q = NULL;
    assert_int_equal(sy_quartic_gd_new(&o, &q), SY_OK);
    for (long t = 0; t < 10000; t++) assert_int_equal(sy_quartic_gd_step(q, t), SY_OK);
    sy_quartic_point p;
    sy_quartic_measure(B, V, d, sy_quartic_gd_w(q), 1e-3f, &p);
    sy_quartic_gd_free(q);
    assert_false(p.diverged);
    return p.degree;
}

static void test_quartic_degree_follows_gamma_sigma0(void **state)
{
    (void)state;
    enum { D = 100 };
    float *B = malloc(sizeof(float) * D * D), *V = malloc(sizeof(float) * D * D);
    assert_non_null(B);
    assert_non_null(V);
    assert_int_equal(sy_synth_quartic_matrix(D, 0, 5, B), SY_OK);
    assert_int_equal(sy_sym_eigvecs(B, D, V, NULL), SY_OK);
    /* products 0.01 and 0.1, each as (gamma 1, sigma0 p) and (gamma 0.1, sigma0 10 p) */
    int small_a = quartic_degree(B, V, D, 1, 0.01f), small_b = quartic_degree(B, V, D, 0.1f, 0.1f);
    int large_a = quartic_degree(B, V, D, 1, 0.1f), large_b = quartic_degree(B, V, D, 0.1f, 1);
    print_message("degree of symmetry: gamma*sigma0 0.01: %d, %d; 0.1: %d, %d (d %d)\n", small_a, small_b, large_a,
                  large_b, D);
    /* one curve: within 2% of d at the same product ... */
    assert_true(abs(small_a - small_b) <= D / 50);
    assert_true(abs(large_a - large_b) <= D / 50);
    /* ... which falls steeply with the product */
    assert_true(large_a < small_a - D / 5);
    free(B);
    free(V);
}

/* ---- ridge ------------------------------------------------------------------- */

static void test_ridge_moments_and_losses(void **state)
{
    (void)state;
    /* X = [[1, 2], [3, -1]], y = [1, 2]: X^T X / 2 = [[5, -0.5], [-0.5, 2.5]], X^T y / 2 = [3.5, 0] */
    const float X[4] = {1, 2, 3, -1}, y[2] = {1, 2};
    double A[4], b[2];
    assert_int_equal(sy_ridge_moments(X, y, 2, 2, A, b), SY_OK);
    assert_near(A[0], 5, 0);
    assert_near(A[1], -0.5, 0);
    assert_near(A[2], -0.5, 0);
    assert_near(A[3], 2.5, 0);
    assert_near(b[0], 3.5, 0);
    assert_near(b[1], 0, 0);
    /* w = (1, 0): predictions 1, 3; train MSE (0 + 1) / 2; |w - w*|^2 = 1 for w* = (0, 0), noise 0.5 */
    const float w[2] = {1, 0}, ws[2] = {0, 0};
    double te, tr;
    sy_ridge_losses(X, y, 2, 2, w, ws, 0.5, &te, &tr);
    assert_near(te, 1.25, 1e-15);
    assert_near(tr, 0.5, 1e-15);
    assert_int_equal(sy_ridge_moments(NULL, y, 2, 2, A, b), SY_ERR_ARG);
}

enum { RD = 8 };

typedef struct {
    const float *wstar;
    float noise;
} draw_ctx;

static sy_status draw(void *ctx, int trial, int n, float *X, float *y)
{
    const draw_ctx *c = ctx;
    return sy_synth_linear(c->wstar, RD, (size_t)n, c->noise, 5, 4 + (uint64_t)trial, X, y);
}

static sy_ridge_opts ridge_opts(sy_decay decay, int gd)
{
    return (sy_ridge_opts){.decay = decay, .gd = gd, .lr = 0.05, .tol = 1e-7, .max_steps = 100000, .seed = 2};
}

static void test_ridge_fit(void **state)
{
    (void)state;
    float wstar[RD], X[20 * RD], y[20], w[RD], wg[RD];
    for (int i = 0; i < RD; i++) wstar[i] = 0.3f * (float)(i - 3);
    double A[RD * RD], b[RD], ge;
    long steps;
    /* noiseless, N = 20 > d: least squares recovers the teacher; no GD without decay */
    assert_int_equal(sy_synth_linear(wstar, RD, 20, 0, 5, 1, X, y), SY_OK);
    assert_int_equal(sy_ridge_moments(X, y, 20, RD, A, b), SY_OK);
    sy_ridge_opts none = ridge_opts(sy_decay_none(), 1);
    assert_int_equal(sy_ridge_fit(X, y, 20, RD, A, b, &none, w, &ge, &steps), SY_OK);
    for (int i = 0; i < RD; i++) assert_near(w[i], wstar[i], 1e-4);
    assert_true(isnan(ge) && steps == 0);
    /* N = 5 < d: the minimum-norm solution interpolates */
    assert_int_equal(sy_ridge_moments(X, y, 5, RD, A, b), SY_OK);
    assert_int_equal(sy_ridge_fit(X, y, 5, RD, A, b, &none, w, &ge, &steps), SY_OK);
    for (int k = 0; k < 5; k++) {
        double p = 0;
        for (int i = 0; i < RD; i++) p += (double)X[k * RD + i] * w[i];
        assert_near(p, y[k], 1e-4);
    }
    /* ridge wd = 0.5 in closed form solves (2A + wd I) w = 2b; GD lands on it */
    sy_ridge_opts closed = ridge_opts(sy_decay_l2(0.5f), 0), gd = ridge_opts(sy_decay_l2(0.5f), 1);
    assert_int_equal(sy_ridge_fit(X, y, 5, RD, A, b, &closed, w, &ge, &steps), SY_OK);
    assert_true(isnan(ge) && steps == 0);
    for (int i = 0; i < RD; i++) {
        double r = 0.5 * w[i] - 2 * b[i];
        for (int j = 0; j < RD; j++) r += 2 * A[i * RD + j] * w[j];
        assert_near(r, 0, 1e-5);
    }
    assert_int_equal(sy_ridge_fit(X, y, 5, RD, A, b, &gd, wg, &ge, &steps), SY_OK);
    assert_true(ge < 1e-4 && steps > 0);
    for (int i = 0; i < RD; i++) assert_near(wg[i], w[i], 1e-4);
    /* syre: a different anchor, a different solution, same GD agreement */
    sy_ridge_opts syre = ridge_opts(sy_decay_syre(0.5f, 1), 1);
    assert_int_equal(sy_ridge_fit(X, y, 5, RD, A, b, &syre, wg, &ge, &steps), SY_OK);
    assert_true(ge < 1e-4);
    double diff = 0;
    for (int i = 0; i < RD; i++) diff += fabs((double)wg[i] - w[i]);
    assert_true(diff > 1e-3);
    /* a learning rate far above 2 / lambda_max diverges, by name */
    sy_ridge_opts wild = ridge_opts(sy_decay_l2(0.5f), 1);
    wild.lr = 100;
    assert_int_equal(sy_ridge_fit(X, y, 5, RD, A, b, &wild, wg, &ge, &steps), SY_ERR_NUMERIC);
}

static void test_ridge_risk(void **state)
{
    (void)state;
    float wstar[RD];
    for (int i = 0; i < RD; i++) wstar[i] = 0.3f * (float)(i - 3);
    /* noiseless, N = 40: least squares is exact (risk 0), ridge is biased */
    draw_ctx c = {wstar, 0};
    sy_ridge_opts o[2] = {ridge_opts(sy_decay_none(), 1), ridge_opts(sy_decay_l2(1), 1)};
    sy_ridge_risk r[2];
    assert_int_equal(sy_ridge_risk_at(RD, 40, 3, draw, &c, wstar, 0, 2, o, r), SY_OK);
    assert_true(r[0].test < 1e-8 && r[0].train < 1e-8);
    assert_true(isnan(r[0].gd_err) && r[0].steps == 0);
    assert_true(r[1].test > 1e-4 && r[1].test_sd > 0);
    assert_true(r[1].gd_err < 1e-4 && r[1].steps > 0);
    /* with label noise 0.5 the risk of least squares is at least noise^2 */
    c.noise = 0.5f;
    assert_int_equal(sy_ridge_risk_at(RD, 40, 3, draw, &c, wstar, 0.5, 1, o, r), SY_OK);
    assert_true(r[0].test > 0.25 && r[0].test < 0.5);
    assert_true(r[0].train < 0.25);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_quartic_gd_reaches_optimum),
        cmocka_unit_test(test_quartic_gd_decay_and_dropout),
        cmocka_unit_test(test_quartic_degree_follows_gamma_sigma0),
        cmocka_unit_test(test_ridge_moments_and_losses),
        cmocka_unit_test(test_ridge_fit),
        cmocka_unit_test(test_ridge_risk),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
