#define _GNU_SOURCE
/* Data-parallel training over MPI (syre/dist.h), on 2 ranks.
 *
 * Run by CTest as a plain program, it starts itself again under
 * `mpirun -np 2` ($SYRE_MPIEXEC, --allow-run-as-root when root,
 * --oversubscribe for small machines) and passes on the exit status. It
 * skips (77), saying why, in a build without MPI or without an mpirun.
 *
 * What it checks, on every rank:
 *   - syre's anchors theta0 (stored and regenerated) and the shifted initial
 *     parameters are bitwise identical on every rank, and the check itself
 *     notices a one-float difference;
 *   - the sharded batcher: each rank gets its contiguous half of every global
 *     batch, the halves cover each epoch exactly once; uneven splits refused;
 *   - 2 ranks with global batch B give the parameters of 1 process with batch
 *     B to float tolerance (vanilla and syre, SGD with momentum and Adam).
 *     The one-process reference runs on each rank with a replicating
 *     batcher: every rank computes the full-batch gradient g and the
 *     allreduce mean (g + g) / 2 = g is exact, so it is the one-process run;
 *   - checkpoints and other files are written by rank 0 only, and resuming
 *     from one (same rank count) continues bit for bit;
 *   - the run record: one directory for all ranks, config.json says 2 ranks,
 *     metrics rows are written once; a non-data-parallel experiment and a
 *     --batch the ranks do not divide are refused on every rank. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "syre/syre.h"

#include "dist_harness.h"

static char tmpdir[256]; /* shared by the ranks: rank 0 creates it */

static int file_exists(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0;
}

/* ---- anchors ---------------------------------------------------------------- */

static void test_anchors_identical_on_every_rank(void **state)
{
    (void)state;
    for (int st = 0; st < 2; st++) {
        model m;
        build(&m, 8, "syre-ar", SY_OPTIM_SGD, st ? SY_ANCHOR_REGENERATE : SY_ANCHOR_STORED, NULL);
        size_t n = sy_params_trainable_size(m.ps);
        float *a = malloc(n * sizeof *a), *dc = malloc(n * sizeof *dc);
        assert_int_equal(sy_optimizer_anchor(m.opt, a), SY_OK);
        assert_int_equal(sy_optimizer_decay_coef(m.opt, dc), SY_OK);
        double nz = 0;
        for (size_t i = 0; i < n; i++) nz += a[i] != 0;
        assert_true(nz > n / 2); /* a real anchor, not zeros */
        assert_int_equal(sy_dist_identical(a, n), 1);
        assert_int_equal(sy_dist_identical(dc, n), 1);
        /* phi = theta_init + theta0 too */
        assert_int_equal(sy_dist_identical(sy_params_data(m.ps), n), 1);
        /* and the check sees a single float that differs on one rank */
        if (sy_dist_rank() == 1) a[n / 2] = nextafterf(a[n / 2], 1.0f);
        assert_int_equal(sy_dist_identical(a, n), 0);
        free(a);
        free(dc);
        drop(&m);
    }
}

/* ---- the sharded batcher --------------------------------------------------------- */

static void test_batcher_shards_cover_each_batch(void **state)
{
    (void)state;
    sy_dataset *d = make_data(100); /* 6 batches of 16 and a last one of 4 */
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = 16;
    bo.seed = 4;
    sy_batcher *sh, *full;
    assert_int_equal(sy_batcher_new(d, bo, &sh), SY_OK);
    bo.replicate = 1;
    assert_int_equal(sy_batcher_new(d, bo, &full), SY_OK);
    assert_int_equal(sy_batcher_local_batch(sh), 16 / sy_dist_size());
    assert_int_equal(sy_batcher_local_batch(full), 16);
    assert_int_equal(sy_batcher_num_batches(sh), sy_batcher_num_batches(full));
    double seen[100] = {0};
    float ysh[16], yfull[16];
    for (int e = 0; e < 2; e++) {
        sy_batcher_epoch(sh, (uint64_t)e);
        sy_batcher_epoch(full, (uint64_t)e);
        size_t k, kf;
        while ((kf = sy_batcher_next(full, NULL, yfull)) > 0) {
            k = sy_batcher_next(sh, NULL, ysh);
            size_t lo, cnt;
            sy_dist_shard(kf, &lo, &cnt);
            assert_int_equal(k, cnt);
            assert_int_equal(k, kf / sy_dist_size());
            for (size_t i = 0; i < k; i++) {
                assert_int_equal(sy_batcher_indices(sh)[i], sy_batcher_indices(full)[lo + i]);
                assert_true(ysh[i] == yfull[lo + i]);
                seen[sy_batcher_indices(sh)[i]] += 1;
            }
        }
        assert_int_equal(sy_batcher_next(sh, NULL, NULL), 0);
    }
    /* over all ranks, every sample exactly once per epoch */
    assert_int_equal(sy_dist_sum(seen, 100), SY_OK);
    for (int i = 0; i < 100; i++) assert_true(seen[i] == 2.0);
    sy_batcher_free(sh);
    sy_batcher_free(full);

    /* a batch, or a last batch, that the ranks do not divide is refused */
    bo.replicate = 0;
    bo.batch = 15;
    assert_int_equal(sy_batcher_new(d, bo, &sh), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "ranks"));
    sy_dataset *odd = make_data(101); /* last batch of 5 */
    bo.batch = 16;
    assert_int_equal(sy_batcher_new(odd, bo, &sh), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "last batch"));
    bo.drop_last = 1;
    assert_int_equal(sy_batcher_new(odd, bo, &sh), SY_OK);
    sy_batcher_free(sh);
    size_t local;
    assert_int_equal(sy_dist_local_batch(7, &local), SY_ERR_ARG);
    assert_int_equal(sy_dist_local_batch(8, &local), SY_OK);
    assert_int_equal(local, 8 / sy_dist_size());
    sy_dataset_free(odd);
    sy_dataset_free(d);
}

/* ---- N ranks with batch B == one process with batch B ---------------------------- */

static void check_same_as_one_process(const char *method, sy_optim_kind kind)
{
    sy_dataset *d = make_data(NDATA);
    const int B = 16, N = sy_dist_size();
    model ref, par;
    build(&ref, B, method, kind, SY_ANCHOR_STORED, NULL);
    build(&par, B / N, method, kind, SY_ANCHOR_STORED, NULL);
    size_t n = sy_params_trainable_size(ref.ps);
    float *init = malloc(n * sizeof *init);
    memcpy(init, sy_params_data(ref.ps), n * sizeof *init);
    sy_batcher *bf = batcher(d, (size_t)B, 1), *bs = batcher(d, (size_t)B, 0);
    train(&ref, bf, 0, 3); /* 18 steps */
    train(&par, bs, 0, 3);
    const float *p = sy_params_data(ref.ps), *q = sy_params_data(par.ps);
    double scale = 0, diff = 0, moved = 0;
    for (size_t i = 0; i < n; i++) {
        scale = fmax(scale, fabs(p[i]));
        diff = fmax(diff, fabs((double)p[i] - q[i]));
        moved = fmax(moved, fabs((double)p[i] - init[i]));
    }
    if (sy_dist_is_root())
        printf("# %s/%s: max |2-rank - 1-process| = %.3g, max |param| = %.3g, moved by %.3g\n", method,
               kind == SY_OPTIM_SGD ? "sgd" : "adam", diff, scale, moved);
    assert_true(moved > 1e-2);                 /* it trained */
    assert_true(diff <= 1e-5 * scale + 1e-7);  /* float tolerance: sums in another order */
    /* and every rank holds the same parameters */
    assert_int_equal(sy_dist_identical(q, n), 1);
    free(init);
    sy_batcher_free(bf);
    sy_batcher_free(bs);
    drop(&ref);
    drop(&par);
    sy_dataset_free(d);
}

static void test_two_ranks_equal_one_process_vanilla(void **state)
{
    (void)state;
    check_same_as_one_process("vanilla", SY_OPTIM_SGD);
    check_same_as_one_process("vanilla", SY_OPTIM_ADAM);
}

static void test_two_ranks_equal_one_process_syre(void **state)
{
    (void)state;
    check_same_as_one_process("syre", SY_OPTIM_SGD);
    check_same_as_one_process("syre", SY_OPTIM_ADAM);
}

/* ---- files: rank 0 only; resume ---------------------------------------------------- */

static void test_checkpoints_rank0_only_and_resume(void **state)
{
    (void)state;
    char path[512], mine[512];
    snprintf(path, sizeof path, "%s/ckpt.safetensors", tmpdir);
    sy_dataset *d = make_data(NDATA);
    const int B = 16, N = sy_dist_size();
    model a, b;
    build(&a, B / N, "syre", SY_OPTIM_SGD, SY_ANCHOR_STORED, NULL);
    sy_batcher *ba = batcher(d, (size_t)B, 0);
    train(&a, ba, 0, 2);
    sy_train_pos pos = {.epoch = 2, .graph_step = (int64_t)sy_graph_step(a.g)};
    /* each rank names its own file: only rank 0's may appear */
    snprintf(mine, sizeof mine, "%s/ckpt-rank%d.safetensors", tmpdir, sy_dist_rank());
    assert_int_equal(sy_train_save(mine, a.ps, a.opt, &pos), SY_OK);
    assert_int_equal(sy_train_save(path, a.ps, a.opt, &pos), SY_OK);
    char txt[512];
    snprintf(txt, sizeof txt, "%s/note-rank%d.txt", tmpdir, sy_dist_rank());
    assert_int_equal(sy_write_file_atomic(txt, "x\n", 2), SY_OK);
    assert_int_equal(sy_dist_barrier(), SY_OK);
    for (int r = 0; r < N; r++) {
        snprintf(mine, sizeof mine, "%s/ckpt-rank%d.safetensors", tmpdir, r);
        assert_int_equal(file_exists(mine), r == 0);
        snprintf(txt, sizeof txt, "%s/note-rank%d.txt", tmpdir, r);
        assert_int_equal(file_exists(txt), r == 0);
    }
    train(&a, ba, 2, 4);

    /* resume: a fresh model loads rank 0's checkpoint on every rank */
    build(&b, B / N, "syre", SY_OPTIM_SGD, SY_ANCHOR_STORED, NULL);
    sy_train_pos got;
    assert_int_equal(sy_train_load(path, b.ps, b.opt, &got), SY_OK);
    assert_int_equal(got.epoch, 2);
    sy_batcher *bb = batcher(d, (size_t)B, 0);
    train(&b, bb, (int)got.epoch, 4);
    size_t n = sy_params_total_size(a.ps);
    assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), n * sizeof(float));
    assert_int_equal(sy_optimizer_steps(a.opt), sy_optimizer_steps(b.opt));
    assert_int_equal(sy_dist_identical(sy_params_data(b.ps), n), 1);
    sy_batcher_free(ba);
    sy_batcher_free(bb);
    drop(&a);
    drop(&b);
    sy_dataset_free(d);
}

/* ---- the run record ------------------------------------------------------------------- */

static sy_status demo_run(sy_run *run) { return SY_OK; }
static const sy_experiment dp = {.name = "dpdemo", .figure = "-", .summary = "test", .run = demo_run,
                                 .data_parallel = 1};
static const sy_experiment serial = {.name = "serialdemo", .figure = "-", .summary = "test", .run = demo_run};

static sy_run *start(const sy_experiment *e, const char *batch, sy_status want)
{
    char out[300];
    snprintf(out, sizeof out, "%s/runs", tmpdir);
    char *argv[] = {"--out", out, "--batch", (char *)batch};
    sy_run *run;
    assert_int_equal(sy_run_parse(&run, e, 4, argv), SY_OK);
    sy_status s = sy_run_start(run);
    assert_int_equal(s, want);
    return run;
}

static void test_run_record_written_once(void **state)
{
    (void)state;
    sy_run *run = start(&dp, "8", SY_OK);
    /* one directory (a timestamp rank 0 chose) for every rank */
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", sy_run_dir(run));
    char root_dir[4096];
    memcpy(root_dir, dir, sizeof dir);
    assert_int_equal(sy_dist_bcast(root_dir, sizeof root_dir), SY_OK);
    assert_string_equal(dir, root_dir);
    const char *names[1] = {"loss"};
    double v[1] = {0.5};
    assert_int_equal(sy_run_log(run, "syre", 1, 1, names, v), SY_OK);
    assert_int_equal(sy_run_summary(run, "syre", "loss", 0.5), SY_OK);
    assert_int_equal(sy_run_finish(run), SY_OK);
    assert_true(sy_run_summary_value(run, "syre", "loss") == 0.5); /* every rank keeps its summary */
    assert_int_equal(sy_dist_barrier(), SY_OK);
    char p[4300], line[512];
    snprintf(p, sizeof p, "%s/metrics.csv", dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    int lines = 0;
    while (fgets(line, sizeof line, f)) lines++;
    fclose(f);
    assert_int_equal(lines, 2); /* header + one row, not one per rank */
    snprintf(p, sizeof p, "%s/config.json", dir);
    f = fopen(p, "r");
    assert_non_null(f);
    char buf[8192];
    size_t k = fread(buf, 1, sizeof buf - 1, f);
    buf[k] = '\0';
    fclose(f);
    char want[32];
    snprintf(want, sizeof want, "\"ranks\":\t%d", sy_dist_size());
    assert_non_null(strstr(buf, want));
    sy_run_free(run);

    /* refused on every rank: an experiment without data parallelism, a batch of 7 */
    sy_run_free(start(&serial, "8", SY_ERR_UNSUPPORTED));
    assert_non_null(strstr(sy_last_error(), "data-parallel"));
    sy_run_free(start(&dp, "7", SY_ERR_ARG));
    assert_non_null(strstr(sy_last_error(), "ranks"));
}

/* A local scope: each rank alone (no exchange, rank 0 of 1, the writer), the job's place kept; scopes nest. */
static void test_local_scope(void **state)
{
    (void)state;
    int rank = sy_dist_rank(), size = sy_dist_size(), local = sy_dist_local_rank();
    float g[3] = {(float)rank, 1, 2};
    sy_dist_local_enter();
    sy_dist_local_enter();
    assert_true(sy_dist_in_local());
    assert_int_equal(sy_dist_size(), 1);
    assert_int_equal(sy_dist_rank(), 0);
    assert_true(sy_dist_is_root());
    assert_int_equal(sy_dist_job_rank(), rank);
    assert_int_equal(sy_dist_job_size(), size);
    assert_int_equal(sy_dist_local_rank(), local);
    assert_int_equal(sy_dist_allreduce_mean(g, 3), SY_OK);
    assert_true(g[0] == (float)rank); /* no other rank's gradient */
    sy_dist_local_leave();
    assert_int_equal(sy_dist_size(), 1); /* still inside the outer scope */
    sy_dist_local_leave();
    assert_false(sy_dist_in_local());
    assert_int_equal(sy_dist_size(), size);
    assert_int_equal(sy_dist_rank(), rank);
    assert_int_equal(sy_dist_allreduce_mean(g, 3), SY_OK);
    assert_true(g[0] == (float)(size - 1) / 2.0f); /* the mean of 0 .. size-1 */
    sy_dist_local_leave(); /* unbalanced: a no-op */
    assert_int_equal(sy_dist_size(), size);
}

/* ---- driver ------------------------------------------------------------------------------ */

int main(int argc, char **argv)
{
    (void)argc;
    int rc = dist_start("test_dist", argv[0]);
    if (rc >= 0) return rc;
    if (sy_dist_is_root()) {
        snprintf(tmpdir, sizeof tmpdir, "/tmp/syre-dist-XXXXXX");
        if (!mkdtemp(tmpdir)) tmpdir[0] = '\0';
        printf("# %s\n", sy_dist_info());
    }
    sy_dist_bcast(tmpdir, sizeof tmpdir);
    if (!tmpdir[0]) sy_dist_abort(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_anchors_identical_on_every_rank),
        cmocka_unit_test(test_batcher_shards_cover_each_batch),
        cmocka_unit_test(test_two_ranks_equal_one_process_vanilla),
        cmocka_unit_test(test_two_ranks_equal_one_process_syre),
        cmocka_unit_test(test_checkpoints_rank0_only_and_resume),
        cmocka_unit_test(test_run_record_written_once),
        cmocka_unit_test(test_local_scope),
    };
    int failed = dist_run_group("dist", tests, sizeof tests / sizeof tests[0]);
    if (sy_dist_is_root() && !failed) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
        if (system(cmd) != 0) fprintf(stderr, "test_dist: could not remove %s\n", tmpdir);
    }
    sy_dist_finalize();
    return failed;
}
