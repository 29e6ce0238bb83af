/* The NCCL path of data parallelism on a GPU (syre/dist.h "GPUs"), with one
 * rank: the nccl setting (SYRE_NCCL=1) makes the optimizer step average the device gradient
 * with a one-rank NCCL communicator, so the whole path (ncclGetUniqueId,
 * ncclCommInitRank on the backend's GPU, ncclAllReduce(ncclAvg) on its
 * stream, ncclCommDestroy at sy_dist_finalize) runs on a single GPU.
 * A mean over one rank changes nothing, so training with it must give the
 * parameters of training without it; the call count proves it ran.
 * (2 ranks on 2 GPUs: the sim test, tests/test_dist_device.c, checks the
 * arithmetic of the same hook.)
 *
 * Skips (77), saying why, in a build without CUDA or NCCL and on a machine
 * without a GPU. scripts/gpu-check.sh runs it. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/mpi.h"
#include "syre/syre.h"
#include "../cli/env_options.h"

#define NFEAT 16
#define NCLS 3

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_optimizer *opt;
    sy_var x, y, loss;
} model;

static void build(model *m, int batch, const char *method)
{
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    assert_int_equal(sy_graph_set_backend(m->g, "cuda"), SY_OK);
    int sizes[3] = {NFEAT, 32, NCLS};
    m->x = sy_input(m->g, "x", sy_shape_of(2, batch, NFEAT));
    m->y = sy_input(m->g, "y", sy_shape_of(1, batch));
    m->loss = sy_softmax_ce(m->g, sy_mlp(m->g, m->x, "mlp", sizes, 3, SY_ACT_TANH), m->y);
    assert_int_equal(sy_graph_compile(m->g), SY_OK);
    assert_int_equal(sy_params_init(m->ps, 3), SY_OK);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAM);
    o.lr = 0.01f;
    assert_int_equal(sy_decay_parse(method, 0.05f, 0.5f, 0.1f, &o.decay), SY_OK);
    o.seed = 11;
    m->opt = sy_optimizer_new(m->ps, &o);
    assert_non_null(m->opt);
}

static void drop(model *m)
{
    sy_optimizer_free(m->opt);
    sy_graph_free(m->g);
    sy_params_free(m->ps);
}

static void train(model *m, int steps, int batch)
{
    sy_rng r = sy_rng_make(5, SY_STREAM_USER, 0);
    for (int s = 0; s < steps; s++) {
        float *x = sy_graph_data(m->g, m->x), *y = sy_graph_data(m->g, m->y);
        for (int i = 0; i < batch * NFEAT; i++) x[i] = sy_rng_normal(&r);
        for (int i = 0; i < batch; i++) y[i] = (float)((i + s) % NCLS);
        assert_int_equal(sy_graph_forward(m->g), SY_OK);
        assert_int_equal(sy_graph_backward(m->g, m->loss), SY_OK);
        assert_int_equal(sy_optimizer_step(m->opt), SY_OK);
    }
}

static void set_nccl(int on)
{
    sy_runtime_opts o = *sy_runtime();
    o.nccl = on;
    assert_int_equal(sy_runtime_configure(&o), SY_OK);
}

static void check(const char *method)
{
    const int B = 32, steps = 20;
    model plain, nccl;
    set_nccl(0);
    build(&plain, B, method);
    train(&plain, steps, B);
    set_nccl(1);
    long before = sy_dist_get_stats().device_calls;
    build(&nccl, B, method);
    train(&nccl, steps, B);
    long calls = sy_dist_get_stats().device_calls - before;
    set_nccl(0);
    size_t n = sy_params_trainable_size(plain.ps);
    const float *p = sy_params_data(plain.ps), *q = sy_params_data(nccl.ps);
    double diff = 0, scale = 0;
    for (size_t i = 0; i < n; i++) {
        scale = fmax(scale, fabs(p[i]));
        diff = fmax(diff, fabs((double)p[i] - q[i]));
    }
    const char *info = sy_dist_nccl_info();
    printf("# %s: %s; %ld NCCL all-reduces in %d steps; max |with - without| = %.3g (max |param| %.3g)\n", method,
           info ? info : "no communicator", calls, steps, diff, scale);
    assert_non_null(info);
    assert_int_equal(calls, steps);
    assert_true(diff <= 1e-6 * scale); /* a mean over one rank: the same numbers */
    drop(&plain);
    drop(&nccl);
}

static void test_nccl_one_rank_vanilla(void **state)
{
    (void)state;
    check("vanilla");
}

static void test_nccl_one_rank_syre(void **state)
{
    (void)state;
    check("syre");
}

int main(void)
{
    if (!sy_dist_nccl_compiled()) {
        printf("SKIP test_nccl: syre was built without NCCL (needs the CUDA toolkit with nccl.h and libnccl)\n");
        return 77;
    }
    if (sy_device_check("cuda") != SY_OK) {
        printf("SKIP test_nccl: %s\n", sy_last_error());
        return 77;
    }
#ifdef SYRE_HAVE_MPI
    sy_dist_use_mpi();
#endif
    sy_dist_opts dist = sy_env_dist_opts();
    if (sy_dist_init(&dist) != SY_OK) {
        fprintf(stderr, "test_nccl: %s\n", sy_last_error());
        return 1;
    }
    if (sy_dist_size() != 1) {
        printf("SKIP test_nccl: a one-rank test (launched as one of %d ranks)\n", sy_dist_size());
        sy_dist_finalize();
        return 77;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_nccl_one_rank_vanilla),
        cmocka_unit_test(test_nccl_one_rank_syre),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    sy_dist_finalize();
    if (sy_dist_nccl_info() != NULL) {
        fprintf(stderr, "test_nccl: the NCCL communicator outlived sy_dist_finalize\n");
        failed++;
    }
    return failed ? 1 : 0;
}
