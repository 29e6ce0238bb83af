/* Rows gathered over ranks (sy_rank_gather) and SimCLR's NT-Xent with the
 * negatives of the global batch (sy_nt_xent_ranks), on 2 ranks (the test
 * runs itself under `mpirun -np 2`; skipped, 77, without MPI):
 *   - the gather stacks the ranks' rows in rank order, and its backward hands
 *     each rank the sum over ranks of the gradient of its rows;
 *   - NT-Xent: the mean over ranks of each rank's loss is the one-graph
 *     NT-Xent of the global batch (rows [view 1 of all B, view 2 of all B]),
 *     and each rank's gradient of its z rows, summed over the ranks' losses
 *     as the gather's backward does and divided by N as the optimizer's mean
 *     does, is the one-graph gradient of those rows;
 *   - without the gather (each rank's negatives only) the loss differs.
 * About 1 s. */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "dist_harness.h"

#define BL 3 /* images per rank */
#define P 5  /* projection size */

static void test_gather_forward_backward(void **state)
{
    (void)state;
    int N = sy_dist_size(), r = sy_dist_rank();
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(2, 2, 3));
    sy_var w = sy_input(g, "w", sy_shape_of(2, 2 * N, 3));
    sy_var y = sy_rank_gather(g, x);
    sy_var loss = sy_sum(g, sy_mul(g, y, w));
    assert_int_equal(sy_graph_requires_grad(g, x), SY_OK);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    float *xv = sy_graph_data(g, x), *wv = sy_graph_data(g, w);
    for (int i = 0; i < 6; i++) xv[i] = (float)(100 * r + i);
    for (int i = 0; i < 6 * N; i++) wv[i] = (float)(i + 1) * (float)(r + 1); /* differs by rank */
    assert_int_equal(sy_graph_forward(g), SY_OK);
    assert_int_equal(sy_graph_backward(g, loss), SY_OK);
    const float *yv = sy_graph_data(g, y), *dx = sy_graph_grad(g, x);
    for (int q = 0; q < N; q++)
        for (int i = 0; i < 6; i++) assert_float_equal(yv[q * 6 + i], (float)(100 * q + i), 0);
    /* d loss_q / d x_r = w_q's block r; summed over q: (sum_q (q + 1)) * (6 r + i + 1) */
    float sq = (float)(N * (N + 1) / 2);
    for (int i = 0; i < 6; i++) assert_float_equal(dx[i], sq * (float)(6 * r + i + 1), 0);
    sy_graph_free(g);
    sy_params_free(ps);
}

/* z of the global batch: view 1 of images 0..BN-1, then view 2 (the one-graph layout). */
static void global_z(float *z, int B)
{
    sy_rng rg = sy_rng_make(23, SY_STREAM_USER, 0);
    for (int i = 0; i < 2 * B * P; i++) z[i] = sy_rng_normal(&rg);
}

/* The loss and the gradient of the z rows this rank holds (rank r: images
 * [r BL, (r+1) BL) of each view), from the global graph or the ranks'. */
static void nt_xent_run(int ranks, double *loss, float *grad /* [2 BL, P] */)
{
    int N = sy_dist_size(), r = sy_dist_rank(), B = BL * N, rows = ranks ? 2 * BL : 2 * B;
    static float zg[2 * BL * 8 * P];
    global_z(zg, B);
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var z = sy_input(g, "z", sy_shape_of(2, rows, P));
    sy_var mask = sy_input(g, "mask", sy_shape_of(2, rows, ranks ? 2 * B : rows));
    sy_var partner = sy_input(g, "partner", sy_shape_of(1, rows));
    sy_var l = ranks ? sy_nt_xent_ranks(g, z, mask, partner, 0.5) : sy_nt_xent(g, z, mask, partner, 0.5);
    assert_int_equal(sy_graph_requires_grad(g, z), SY_OK);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    float *zv = sy_graph_data(g, z);
    if (ranks) {
        for (int v = 0; v < 2; v++) /* this rank's images of view v */
            memcpy(zv + (size_t)v * BL * P, zg + ((size_t)v * B + (size_t)r * BL) * P, BL * P * sizeof(float));
        sy_nt_xent_fill_ranks(sy_graph_data(g, mask), sy_graph_data(g, partner), BL, r, N);
    } else {
        memcpy(zv, zg, (size_t)2 * B * P * sizeof(float));
        sy_nt_xent_fill(sy_graph_data(g, mask), sy_graph_data(g, partner), B);
    }
    assert_int_equal(sy_graph_forward(g), SY_OK);
    assert_int_equal(sy_graph_backward(g, l), SY_OK);
    *loss = sy_graph_scalar(g, l);
    const float *dz = sy_graph_grad(g, z);
    for (int v = 0; v < 2; v++)
        memcpy(grad + (size_t)v * BL * P, dz + (size_t)(ranks ? v * BL : v * B + r * BL) * P, BL * P * sizeof(float));
    sy_graph_free(g);
    sy_params_free(ps);
}

static void test_nt_xent_ranks_equals_global(void **state)
{
    (void)state;
    double lr, lg;
    float gr[2 * BL * P], gg[2 * BL * P];
    nt_xent_run(1, &lr, gr);
    nt_xent_run(0, &lg, gg);
    double mean = sy_dist_mean(lr), worst = 0;
    for (int i = 0; i < 2 * BL * P; i++)
        worst = fmax(worst, fabs((double)gr[i] / sy_dist_size() - gg[i]));
    if (sy_dist_is_root()) printf("# loss: ranks' mean %.9g, one graph %.9g; max |gradient diff| %.2e\n", mean, lg, worst);
    assert_true(fabs(mean - lg) < 1e-5 * fabs(lg));
    assert_true(worst < 1e-6);
    /* each rank's own negatives only: another loss */
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var z = sy_input(g, "z", sy_shape_of(2, 2 * BL, P));
    sy_var mask = sy_input(g, "mask", sy_shape_of(2, 2 * BL, 2 * BL));
    sy_var partner = sy_input(g, "partner", sy_shape_of(1, 2 * BL));
    sy_var l = sy_nt_xent(g, z, mask, partner, 0.5);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    static float zg[2 * BL * 8 * P];
    global_z(zg, BL * sy_dist_size());
    for (int v = 0; v < 2; v++)
        memcpy(sy_graph_data(g, z) + (size_t)v * BL * P,
               zg + ((size_t)v * BL * sy_dist_size() + (size_t)sy_dist_rank() * BL) * P, BL * P * sizeof(float));
    sy_nt_xent_fill(sy_graph_data(g, mask), sy_graph_data(g, partner), BL);
    assert_int_equal(sy_graph_forward(g), SY_OK);
    double local = sy_dist_mean(sy_graph_scalar(g, l));
    assert_true(fabs(local - lg) > 1e-2);
    sy_graph_free(g);
    sy_params_free(ps);
}

int main(int argc, char **argv)
{
    (void)argc;
    int rc = dist_start("test_rank_gather", argv[0]);
    if (rc >= 0) return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_gather_forward_backward),
        cmocka_unit_test(test_nt_xent_ranks_equals_global),
    };
    int failed = dist_run_group("rank_gather", tests, sizeof tests / sizeof tests[0]);
    sy_dist_finalize();
    return failed;
}
