#define _GNU_SOURCE
/* Data parallelism on a device (syre/dist.h "GPUs"), on 2 ranks, with the
 * 'sim' test device: the parameter store and the optimizer step live in
 * device memory, so sy_optimizer_step averages the gradient through the
 * device all-reduce (on sim: copy to host, MPI_Allreduce, copy back; on a
 * GPU the same hook is NCCL, tests/test_nccl.c).
 *
 * Like tests/test_dist.c it starts itself again under `mpirun -np 2` and
 * skips (77) in a build without MPI or without an mpirun. It checks, for
 * vanilla and syre with SGD+momentum and Adam:
 *   - 2 ranks with global batch B give the parameters of one process with
 *     batch B (a replicating batcher on each rank: mean (g + g)/2 = g) to
 *     float tolerance, and the same parameters on every rank;
 *   - they equal the CPU's 2-rank run (sim runs the CPU kernels), so the
 *     device path of data parallelism is the host path's;
 *   - every step went through the device all-reduce (its call count). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

#include "dist_harness.h"

static double max_diff(const float *p, const float *q, size_t n, double *scale)
{
    double diff = 0;
    *scale = 0;
    for (size_t i = 0; i < n; i++) {
        *scale = fmax(*scale, fabs(p[i]));
        diff = fmax(diff, fabs((double)p[i] - q[i]));
    }
    return diff;
}

static void check(const char *method, sy_optim_kind kind)
{
    sy_dataset *d = make_data(NDATA);
    const int B = 16, N = sy_dist_size();
    model ref, par, cpu;
    build(&ref, B, method, kind, SY_ANCHOR_STORED, "sim");
    build(&par, B / N, method, kind, SY_ANCHOR_STORED, "sim");
    build(&cpu, B / N, method, kind, SY_ANCHOR_STORED, "cpu");
    size_t n = sy_params_trainable_size(ref.ps);
    float *init = malloc(n * sizeof *init);
    memcpy(init, sy_params_data(ref.ps), n * sizeof *init);
    sy_batcher *bf = batcher(d, (size_t)B, 1), *bs = batcher(d, (size_t)B, 0), *bc = batcher(d, (size_t)B, 0);
    long before = sy_dist_get_stats().device_calls;
    train(&ref, bf, 0, 3);
    int steps = train(&par, bs, 0, 3);
    long device_calls = sy_dist_get_stats().device_calls - before;
    train(&cpu, bc, 0, 3);
    assert_int_equal(sy_dist_get_stats().device_calls - before, device_calls); /* the CPU model: host path */
    const float *p = sy_params_data(ref.ps), *q = sy_params_data(par.ps), *c = sy_params_data(cpu.ps);
    double scale, moved = max_diff(p, init, n, &scale), cscale;
    double diff = max_diff(p, q, n, &scale), cdiff = max_diff(c, q, n, &cscale);
    if (sy_dist_is_root())
        printf("# sim %s/%s: %d steps, %ld device all-reduces; max |2-rank - 1-process| = %.3g, "
               "max |sim - cpu| (2 ranks) = %.3g, max |param| = %.3g, moved by %.3g\n",
               method, kind == SY_OPTIM_SGD ? "sgd" : "adam", steps, device_calls, diff, cdiff, scale, moved);
    assert_int_equal(device_calls, 2 * steps); /* ref and par: every step of both */
    assert_true(moved > 1e-2);
    assert_true(diff <= 1e-5 * scale + 1e-7);
    assert_true(cdiff <= 1e-5 * cscale + 1e-7);
    assert_int_equal(sy_dist_identical(q, n), 1);
    free(init);
    sy_batcher_free(bf);
    sy_batcher_free(bs);
    sy_batcher_free(bc);
    drop(&ref);
    drop(&par);
    drop(&cpu);
    sy_dataset_free(d);
}

static void test_sim_two_ranks_equal_one_process_vanilla(void **state)
{
    (void)state;
    check("vanilla", SY_OPTIM_SGD);
    check("vanilla", SY_OPTIM_ADAM);
}

static void test_sim_two_ranks_equal_one_process_syre(void **state)
{
    (void)state;
    check("syre", SY_OPTIM_SGD);
    check("syre", SY_OPTIM_ADAM);
}

int main(int argc, char **argv)
{
    (void)argc;
    int rc = dist_start("test_dist_device", argv[0]);
    if (rc >= 0) return rc;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_two_ranks_equal_one_process_vanilla),
        cmocka_unit_test(test_sim_two_ranks_equal_one_process_syre),
    };
    int failed = dist_run_group("dist_device", tests, sizeof tests / sizeof tests[0]);
    sy_dist_finalize();
    return failed;
}
