/* Synchronised batch norm (sy_graph_set_sync_bn, docs/distributed.md) on 2
 * ranks (the test runs itself under `mpirun -np 2`; skipped, 77, without
 * MPI): a conv -> batch norm -> relu -> batch norm block, each rank holding
 * its half of a global batch of 8 images, against the same block run on the
 * whole batch in one graph (on every rank, no synchronisation):
 *   - forward: each rank's outputs are the rows of the one-graph output, and
 *     the running statistics are the one-graph ones on both ranks;
 *   - backward: the input gradient of each rank's rows is the one-graph one,
 *     and the parameter gradients summed over the ranks are the one-graph
 *     ones (the loss is a sum over samples, so nothing is rescaled);
 *   - without the setting, each rank normalises with its own half and the
 *     outputs differ (so the comparisons can fail). */
#define _GNU_SOURCE
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "dist_harness.h"

#define NB 8 /* global batch */
#define CH 3
#define HW 4
#define IMGN (CH * HW * HW)

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_var x, t, y, loss;
} bn_block;

/* n images; parameters from seed 9, then gammas and betas made non-trivial. */
static void block_build(bn_block *m, int n)
{
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    m->x = sy_input(m->g, "x", sy_shape_of(4, n, CH, HW, HW));
    m->t = sy_input(m->g, "t", sy_shape_of(4, n, 4, HW, HW));
    sy_var h = sy_batchnorm_layer(m->g, sy_conv2d_layer(m->g, m->x, "conv", 4, 3, 1, 1, 0), "bn1");
    m->y = sy_batchnorm_layer(m->g, sy_relu(m->g, h), "bn2");
    m->loss = sy_mse(m->g, m->y, m->t, SY_REDUCE_SUM);
    assert_int_equal(sy_graph_requires_grad(m->g, m->x), SY_OK);
    assert_int_equal(sy_graph_compile(m->g), SY_OK);
    assert_int_equal(sy_params_init(m->ps, 9), SY_OK);
    const char *names[4] = {"bn1.weight", "bn1.bias", "bn2.weight", "bn2.bias"};
    for (int k = 0; k < 4; k++) {
        int i = sy_params_find(m->ps, names[k]);
        assert_true(i >= 0);
        float *p = sy_params_tensor(m->ps, i);
        for (int c = 0; c < 4; c++) p[c] = (k % 2 ? 0.1f : 1.0f) + 0.3f * (float)(c + k) / 4.0f;
    }
}

static void block_free(bn_block *m)
{
    sy_graph_free(m->g);
    sy_params_free(m->ps);
}

/* The global batch's inputs and targets, the same on every rank. */
static void global_data(float *x, float *t, int pass)
{
    sy_rng r = sy_rng_make(17, SY_STREAM_USER, (uint64_t)pass);
    for (int i = 0; i < NB * IMGN; i++) x[i] = 2.0f * sy_rng_normal(&r) + 0.5f;
    for (int i = 0; i < NB * 4 * HW * HW; i++) t[i] = sy_rng_normal(&r);
}

/* Forward and backward of the local block (rows [r0, r0 + nl) of the global
 * data, sync on or off) and of the one-graph block; returns the largest
 * difference of the outputs of this rank's rows. */
static double run_pair(int sync, double *dx_diff, double *grad_diff, double *stat_diff)
{
    static float x[NB * IMGN], t[NB * 4 * HW * HW];
    size_t r0, nl;
    sy_dist_shard(NB, &r0, &nl);
    bn_block loc, ref;
    block_build(&loc, (int)nl);
    block_build(&ref, NB);
    assert_int_equal(sy_graph_set_sync_bn(loc.g, sync), SY_OK);
    const size_t tn = 4 * HW * HW;
    for (int pass = 0; pass < 2; pass++) { /* the second pass, on new data, finds the first one's state */
        global_data(x, t, pass);
        assert_int_equal(sy_graph_feed(loc.g, loc.x, x + r0 * IMGN, nl * IMGN), SY_OK);
        assert_int_equal(sy_graph_feed(loc.g, loc.t, t + r0 * tn, nl * tn), SY_OK);
        assert_int_equal(sy_graph_feed(ref.g, ref.x, x, NB * IMGN), SY_OK);
        assert_int_equal(sy_graph_feed(ref.g, ref.t, t, NB * tn), SY_OK);
        for (sy_graph **g = (sy_graph *[]){loc.g, ref.g, NULL}; *g; g++) assert_int_equal(sy_graph_forward(*g), SY_OK);
        assert_int_equal(sy_graph_backward(loc.g, loc.loss), SY_OK);
        assert_int_equal(sy_graph_backward(ref.g, ref.loss), SY_OK);
    }

    double ydiff = 0, dxd = 0, gd = 0, sd = 0;
    const float *yl = sy_graph_data(loc.g, loc.y), *yr = sy_graph_data(ref.g, ref.y) + r0 * tn;
    for (size_t i = 0; i < nl * tn; i++) ydiff = fmax(ydiff, fabs((double)yl[i] - yr[i]));
    const float *dl = sy_graph_grad(loc.g, loc.x), *dr = sy_graph_grad(ref.g, ref.x) + r0 * IMGN;
    for (size_t i = 0; i < nl * IMGN; i++) dxd = fmax(dxd, fabs((double)dl[i] - dr[i]));
    /* parameter gradients: summed over the ranks (the optimizer's mean times N) */
    size_t np = sy_params_trainable_size(loc.ps);
    double *g = malloc(np * sizeof *g);
    assert_non_null(g);
    const float *gl = sy_params_grad(loc.ps), *gr = sy_params_grad(ref.ps);
    for (size_t i = 0; i < np; i++) g[i] = gl[i];
    assert_int_equal(sy_dist_sum(g, np), SY_OK);
    for (size_t i = 0; i < np; i++) gd = fmax(gd, fabs(g[i] - gr[i]) / (1.0 + fabs((double)gr[i])));
    free(g);
    /* running statistics (buffers after the trainable part) */
    size_t nt = sy_params_total_size(loc.ps);
    const float *pl = sy_params_data(loc.ps), *pr = sy_params_data(ref.ps);
    for (size_t i = np; i < nt; i++) sd = fmax(sd, fabs((double)pl[i] - pr[i]));
    block_free(&loc);
    block_free(&ref);
    /* the worst rank's figures */
    double v[4] = {ydiff, dxd, gd, sd}, all[4];
    for (int k = 0; k < 4; k++) {
        all[k] = v[k];
        double m = v[k];
        /* max over ranks through sums: N copies, take each rank's in turn */
        double *buf = calloc((size_t)sy_dist_size(), sizeof *buf);
        assert_non_null(buf);
        buf[sy_dist_rank()] = m;
        assert_int_equal(sy_dist_sum(buf, (size_t)sy_dist_size()), SY_OK);
        for (int r = 0; r < sy_dist_size(); r++) all[k] = fmax(all[k], buf[r]);
        free(buf);
    }
    *dx_diff = all[1], *grad_diff = all[2], *stat_diff = all[3];
    return all[0];
}

static void test_sync_bn_equals_one_graph(void **state)
{
    (void)state;
    double dx, gr, st;
    double y = run_pair(1, &dx, &gr, &st);
    if (sy_dist_is_root())
        printf("# sync on: max |diff| output %.2e, input gradient %.2e, parameter gradient (rel) %.2e, running "
               "statistics %.2e\n",
               y, dx, gr, st);
    assert_true(y < 1e-5);
    assert_true(dx < 1e-5);
    assert_true(gr < 1e-5);
    assert_true(st < 1e-6);
}

static void test_per_rank_statistics_differ(void **state)
{
    (void)state;
    double dx, gr, st;
    double y = run_pair(0, &dx, &gr, &st);
    if (sy_dist_is_root())
        printf("# sync off: max |diff| output %.2e, input gradient %.2e, parameter gradient (rel) %.2e, running "
               "statistics %.2e\n",
               y, dx, gr, st);
    assert_true(y > 1e-2);
    assert_true(st > 1e-3);
}

int main(int argc, char **argv)
{
    (void)argc;
    int rc = dist_start("test_sync_bn", argv[0]);
    if (rc >= 0) return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_bn_equals_one_graph),
        cmocka_unit_test(test_per_rank_statistics_differ),
    };
    int failed = dist_run_group("sync_bn", tests, sizeof tests / sizeof tests[0]);
    sy_dist_finalize();
    return failed;
}
