/* Shared by the 2-rank MPI tests (tests/test_dist.c, test_dist_device.c): a
 * small labelled dataset, a 16-12-3 tanh MLP trained with any decay rule on
 * any device, the batcher, and the start-up that runs the test binary again
 * under `mpirun -np 2` ($SYRE_MPIEXEC, --allow-run-as-root when root,
 * --oversubscribe for small machines) and skips (77) where MPI is missing. */
#ifndef SYRE_TEST_DIST_HARNESS_H
#define SYRE_TEST_DIST_HARNESS_H

#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syre/mpi.h"
#include "syre/syre.h"
#include "../cli/env_options.h"

extern char **environ;

#define NFEAT 16
#define NCLS 3
#define NDATA 96

/* The same on every rank (seeded generator). */
static inline sy_dataset *make_data(size_t n)
{
    sy_dataset *d;
    assert_int_equal(sy_dataset_new(n, sy_shape_of(3, 1, 4, 4), NCLS, 0, "dist-test", &d), SY_OK);
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

/* device NULL: the default (cpu). */
static inline void build(model *m, int batch, const char *method, sy_optim_kind kind, sy_anchor_storage st,
                  const char *device)
{
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    if (device) assert_int_equal(sy_graph_set_backend(m->g, device), SY_OK);
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
    o.anchor_storage = st;
    o.seed = 11;
    m->opt = sy_optimizer_new(m->ps, &o);
    assert_non_null(m->opt);
}

static inline void drop(model *m)
{
    sy_optimizer_free(m->opt);
    sy_graph_free(m->g);
    sy_params_free(m->ps);
}

/* Epochs [e0, e1) of training with batcher b; returns the steps taken. */
static inline int train(model *m, sy_batcher *b, int e0, int e1)
{
    int steps = 0;
    for (int e = e0; e < e1; e++) {
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

/* replicate: every rank gets the whole global batch (the one-process reference). */
static inline sy_batcher *batcher(const sy_dataset *d, size_t batch, int replicate)
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

/* Run self again under mpirun with 2 ranks; its exit status, 77 if no mpirun. */
static int relaunch(const char *name, char *self)
{
    const char *mpiexec = getenv("SYRE_MPIEXEC");
    if (!mpiexec || !*mpiexec) mpiexec = "mpirun";
    char *argv[12];
    int a = 0;
    argv[a++] = (char *)mpiexec;
    if (geteuid() == 0) argv[a++] = "--allow-run-as-root";
    argv[a++] = "--oversubscribe"; /* 2 ranks even on a 1-core machine */
    argv[a++] = "-np";
    argv[a++] = "2";
    argv[a++] = self;
    argv[a] = NULL;
    /* Under LeakSanitizer (scripts/test.sh) Open MPI's process-lifetime
     * allocations are suppressed by library (tests/lsan.supp), which needs
     * full malloc stacks: its libraries have no frame pointers. */
    const char *lsan = getenv("LSAN_OPTIONS");
    if (lsan && *lsan && !strstr(lsan, "fast_unwind_on_malloc")) {
        char opt[2048];
        snprintf(opt, sizeof opt, "%s:fast_unwind_on_malloc=0", lsan);
        setenv("LSAN_OPTIONS", opt, 1);
    }
    pid_t pid;
    if (posix_spawnp(&pid, mpiexec, NULL, NULL, argv, environ) != 0) {
        printf("SKIP %s: cannot start %s (install openmpi-bin)\n", name, mpiexec);
        return 77;
    }
    int st = 0;
    if (waitpid(pid, &st, 0) < 0 || !WIFEXITED(st)) return 1;
    return WEXITSTATUS(st);
}

/* Start a 2-rank test: -1 once MPI runs here with at least 2 ranks (go on),
 * else the exit status to return (77 skipped: no MPI; the relaunched run's). */
static int dist_start(const char *name, char *self)
{
#ifdef SYRE_HAVE_MPI
    sy_dist_use_mpi();
#endif
    if (!sy_dist_have_mpi()) {
        printf("SKIP %s: syre was built without MPI (Debian: libopenmpi-dev openmpi-bin, then rebuild)\n", name);
        return 77;
    }
    sy_dist_opts dist = sy_env_dist_opts();
    if (dist.launched_size == 0) return relaunch(name, self);
    alarm(600); /* a rank stuck in a collective after another failed must not hang the suite */
    if (sy_dist_init(&dist) != SY_OK) {
        fprintf(stderr, "%s: %s\n", name, sy_last_error());
        return 1;
    }
    if (sy_dist_size() < 2) {
        fprintf(stderr, "%s: needs at least 2 ranks, got %d\n", name, sy_dist_size());
        sy_dist_finalize();
        return 1;
    }
    sy_set_threads(1);
    return -1;
}

/* Run the group on every rank; a failure on any rank fails the test on all. */
static int dist_run_group(const char *name, const struct CMUnitTest *tests, size_t n)
{
    char group[64];
    snprintf(group, sizeof group, "%s rank %d", name, sy_dist_rank());
    double f = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
    sy_dist_sum(&f, 1);
    return f == 0 ? 0 : 1;
}

#endif
