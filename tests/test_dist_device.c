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
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syre/syre.h"

extern char **environ;

#define NFEAT 16
#define NCLS 3
#define NDATA 96

static sy_dataset *make_data(size_t n)
{
    sy_dataset *d;
    assert_int_equal(sy_dataset_new(n, sy_shape_of(3, 1, 4, 4), NCLS, 0, "dist-dev-test", &d), SY_OK);
    sy_rng r = sy_rng_make(5, SY_STREAM_USER, 0);
    for (size_t i = 0; i < n * NFEAT; i++) d->x[i] = sy_rng_normal(&r);
    for (size_t i = 0; i < n; i++) d->y[i] = (int)(i * 7 % NCLS);
    return d;
}

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_optimizer *opt;
    sy_var x, y, loss;
} model;

static void build(model *m, int batch, const char *method, sy_optim_kind kind, const char *device)
{
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    assert_int_equal(sy_graph_set_backend(m->g, device), SY_OK);
    int sizes[3] = {NFEAT, 12, NCLS};
    m->x = sy_input(m->g, "x", sy_shape_of(2, batch, NFEAT));
    m->y = sy_input(m->g, "y", sy_shape_of(1, batch));
    m->loss = sy_softmax_ce(m->g, sy_mlp(m->g, m->x, "mlp", sizes, 3, SY_ACT_TANH), m->y);
    assert_int_equal(sy_graph_compile(m->g), SY_OK);
    assert_int_equal(sy_params_init(m->ps, 3), SY_OK);
    sy_optim_opts o = sy_optim_defaults(kind);
    o.lr = kind == SY_OPTIM_SGD ? 0.2f : 0.01f;
    if (kind == SY_OPTIM_SGD) o.momentum = 0.9f;
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

static int train(model *m, sy_batcher *b, int epochs)
{
    int steps = 0;
    for (int e = 0; e < epochs; e++) {
        sy_batcher_epoch(b, (uint64_t)e);
        while (sy_batcher_next(b, sy_graph_data(m->g, m->x), sy_graph_data(m->g, m->y)) > 0) {
            assert_int_equal(sy_graph_forward(m->g), SY_OK);
            assert_int_equal(sy_graph_backward(m->g, m->loss), SY_OK);
            assert_int_equal(sy_optimizer_step(m->opt), SY_OK);
            steps++;
        }
    }
    return steps;
}

static sy_batcher *batcher(const sy_dataset *d, size_t batch, int replicate)
{
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = batch;
    bo.drop_last = 1;
    bo.seed = 21;
    bo.replicate = replicate;
    sy_batcher *b;
    assert_int_equal(sy_batcher_new(d, bo, &b), SY_OK);
    return b;
}

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
    build(&ref, B, method, kind, "sim");
    build(&par, B / N, method, kind, "sim");
    build(&cpu, B / N, method, kind, "cpu");
    size_t n = sy_params_trainable_size(ref.ps);
    float *init = malloc(n * sizeof *init);
    memcpy(init, sy_params_data(ref.ps), n * sizeof *init);
    sy_batcher *bf = batcher(d, (size_t)B, 1), *bs = batcher(d, (size_t)B, 0), *bc = batcher(d, (size_t)B, 0);
    long before = sy_dist_get_stats().device_calls;
    train(&ref, bf, 3);
    int steps = train(&par, bs, 3);
    long device_calls = sy_dist_get_stats().device_calls - before;
    train(&cpu, bc, 3);
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

static int relaunch(char *self)
{
    const char *mpiexec = getenv("SYRE_MPIEXEC");
    if (!mpiexec || !*mpiexec) mpiexec = "mpirun";
    char *argv[12];
    int a = 0;
    argv[a++] = (char *)mpiexec;
    if (geteuid() == 0) argv[a++] = "--allow-run-as-root";
    argv[a++] = "--oversubscribe";
    argv[a++] = "-np";
    argv[a++] = "2";
    argv[a++] = self;
    argv[a] = NULL;
    const char *lsan = getenv("LSAN_OPTIONS"); /* as in test_dist.c */
    if (lsan && *lsan && !strstr(lsan, "fast_unwind_on_malloc")) {
        char opt[2048];
        snprintf(opt, sizeof opt, "%s:fast_unwind_on_malloc=0", lsan);
        setenv("LSAN_OPTIONS", opt, 1);
    }
    pid_t pid;
    if (posix_spawnp(&pid, mpiexec, NULL, NULL, argv, environ) != 0) {
        printf("SKIP test_dist_device: cannot start %s (install openmpi-bin)\n", mpiexec);
        return 77;
    }
    int st = 0;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st)) return 1;
    return WEXITSTATUS(st);
}

int main(int argc, char **argv)
{
    (void)argc;
    if (!sy_dist_compiled()) {
        printf("SKIP test_dist_device: syre was built without MPI (Debian: libopenmpi-dev openmpi-bin)\n");
        return 77;
    }
    if (sy_dist_launched_size() == 0) return relaunch(argv[0]);
    alarm(600);
    if (sy_dist_init() != SY_OK) {
        fprintf(stderr, "test_dist_device: %s\n", sy_last_error());
        return 1;
    }
    if (sy_dist_size() < 2) {
        fprintf(stderr, "test_dist_device: needs at least 2 ranks, got %d\n", sy_dist_size());
        sy_dist_finalize();
        return 1;
    }
    sy_set_threads(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sim_two_ranks_equal_one_process_vanilla),
        cmocka_unit_test(test_sim_two_ranks_equal_one_process_syre),
    };
    char group[40];
    snprintf(group, sizeof group, "dist_device rank %d", sy_dist_rank());
    int failed = _cmocka_run_group_tests(group, tests, sizeof tests / sizeof tests[0], NULL, NULL);
    double f = failed;
    sy_dist_sum(&f, 1);
    sy_dist_finalize();
    return f == 0 ? 0 : 1;
}
