/* The sweep runner (sy_sweep_run, src/io/run_sweep.c): every point trained
 * once, in order, and recorded with the table so far; with `keep`, --resume
 * reads the points already done back, bit for bit, instead of training them;
 * rank/size picks the points a process trains and, across processes, the
 * points are recorded in order with their rows copied into the run's files
 * as one process writes them; a record of another point, or bad options,
 * are refused by name. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syre/dist.h"
#include "syre/experiment.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/syre-test-run-sweep-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static sy_status demo_run(sy_run *run)
{
    (void)run;
    return SY_OK;
}

static const sy_experiment demo = {.name = "sweepdemo", .figure = "none", .summary = "a test", .run = demo_run};

/* resume 2: with --override lr --lr 0.5 */
static sy_run *start(const char *name, int resume)
{
    char out[600];
    snprintf(out, sizeof out, "--out=%s", tmpdir);
    const char *argv[] = {out, "--name", name, "--threads", "1", "--resume", "--override", "lr", "--lr", "0.5"};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, resume == 2 ? 10 : resume ? 6 : 5, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    return run;
}

/* What the callbacks saw. */
typedef struct {
    sy_run *run; /* where the points log their rows (NULL: nowhere) */
    int trained[8], recorded[8], ntrained, nrecorded, nprepared;
    double seen_before; /* at the record of point 2: point 1's first value from the table */
} demo_ctx;

static sy_status demo_prepare(void *ctx)
{
    ((demo_ctx *)ctx)->nprepared++;
    return SY_OK;
}

static void demo_name(void *ctx, int i, char *buf, size_t size)
{
    (void)ctx;
    snprintf(buf, size, "sigma0=%g/seed%d", 0.1 * (i / 2), i % 2 + 1);
}

/* Values no short decimal prints exactly: a read-back must give the same bits. */
static sy_status demo_train(void *ctx, int i, const char *name, double *v)
{
    demo_ctx *d = ctx;
    char want[64];
    demo_name(ctx, i, want, sizeof want);
    assert_string_equal(name, want);
    d->trained[d->ntrained++] = i;
    v[0] = 0.1 + 0.2 * i;
    v[1] = 1.0 / 3.0 + i;
    if (!d->run) return SY_OK;
    /* two epochs' rows; the odd points also a file of their own, with a column left out */
    const char *names[3] = {"loss", "acc", "extra"};
    double row[3] = {v[1], v[0], -i};
    sy_status s = SY_OK;
    for (int e = 1; e <= 2 && s == SY_OK; e++) s = sy_run_log(d->run, name, e, 3, names, row);
    if (s == SY_OK && i % 2) s = sy_run_log_to(d->run, "odd.csv", "m,\"q\"", i, 2 - (i == 3), names, row);
    return s;
}

static sy_status demo_record(void *ctx, int i, const char *name, const double *all)
{
    (void)name;
    demo_ctx *d = ctx;
    d->recorded[d->nrecorded++] = i;
    if (i == 2) d->seen_before = all[1 * 2 + 0];
    return SY_OK;
}

static const char *const cols[2] = {"test_acc", "train_loss"};

static sy_sweep demo_sweep(demo_ctx *d, int n)
{
    sy_sweep w = sy_sweep_defaults();
    w.n = n, w.ncols = 2, w.cols = cols, w.ctx = d;
    w.name = demo_name, w.train = demo_train, w.record = demo_record, w.prepare = demo_prepare;
    return w;
}

static void test_in_order(void **state)
{
    (void)state;
    demo_ctx d = {0};
    double vals[8];
    sy_sweep w = demo_sweep(&d, 4);
    sy_run *run = start("order", 0);
    d.run = run;
    assert_int_equal(sy_sweep_run(run, &w, vals), SY_OK);
    assert_int_equal(d.ntrained, 4);
    assert_int_equal(d.nprepared, 1);
    assert_int_equal(d.nrecorded, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(d.trained[i], i);
        assert_int_equal(d.recorded[i], i);
        assert_true(vals[2 * i] == 0.1 + 0.2 * i);
    }
    assert_true(d.seen_before == 0.1 + 0.2);
    /* keep = 0: no point record */
    char path[4200];
    assert_int_equal(access(sy_run_path(run, "points", path, sizeof path), F_OK), -1);
    sy_run_free(run);
}

static void test_resume_reads_back(void **state)
{
    (void)state;
    demo_ctx d = {0};
    double first[8], again[8];
    sy_sweep w = demo_sweep(&d, 4);
    w.keep = 1;
    sy_run *run = start("resume", 0);
    w.n = 3; /* a run stopped after three points */
    assert_int_equal(sy_sweep_run(run, &w, first), SY_OK);
    assert_int_equal(d.ntrained, 3);
    sy_run_free(run);

    demo_ctx d2 = {0};
    w.ctx = &d2, w.n = 4;
    run = start("resume", 1);
    assert_int_equal(sy_sweep_run(run, &w, again), SY_OK);
    assert_int_equal(d2.ntrained, 1); /* only the missing point */
    assert_int_equal(d2.trained[0], 3);
    assert_int_equal(d2.nrecorded, 4);
    assert_memory_equal(first, again, 6 * sizeof(double)); /* bit for bit */
    assert_true(d2.seen_before == 0.1 + 0.2);
    sy_run_free(run);

    /* an option changed on resume (--override): every point is trained again */
    demo_ctx d4 = {0};
    w.ctx = &d4;
    run = start("resume", 2);
    assert_int_equal(sy_sweep_run(run, &w, again), SY_OK);
    assert_int_equal(d4.ntrained, 4);
    sy_run_free(run);

    /* without --resume every point is trained again */
    demo_ctx d3 = {0};
    w.ctx = &d3;
    run = start("resume2", 0);
    assert_int_equal(sy_sweep_run(run, &w, again), SY_OK);
    assert_int_equal(d3.ntrained, 4);
    sy_run_free(run);
}

static char *slurp(const sy_run *run, const char *file)
{
    char path[4200];
    FILE *f = fopen(sy_run_path(run, file, path, sizeof path), "r");
    if (!f) return NULL;
    static char buf[2][8192];
    static int which;
    char *b = buf[which ^= 1];
    size_t n = fread(b, 1, sizeof buf[0] - 1, f);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* A process that trains a point alone sees a world of one (no exchange with the others). */
static sy_status alone_train(void *ctx, int i, const char *name, double *v)
{
    if (!sy_dist_in_local() || sy_dist_size() != 1) return sy_fail(SY_ERR_STATE, "point %d trained outside a scope", i);
    return demo_train(ctx, i, name, v);
}

/* The two ranks of a 2-process sweep, one after the other (the barrier is a no-op here): rank 1's points, then
 * rank 0's with rank 1's read back; the run's rows then equal a single process's, byte for byte. */
static void test_ranks(void **state)
{
    (void)state;
    demo_ctx d1 = {0}, d0 = {0}, ds = {0};
    double v1[10], v0[10], vs[10];
    sy_sweep w = demo_sweep(&ds, 5);
    sy_run *seq = start("ranks-seq", 0);
    ds.run = seq;
    w.keep = 1;
    assert_int_equal(sy_sweep_run(seq, &w, vs), SY_OK);

    w.ctx = &d1, w.train = alone_train, w.rank = 1, w.size = 2;
    sy_run *run = start("ranks", 0);
    d1.run = run;
    assert_int_equal(sy_sweep_run(run, &w, v1), SY_OK);
    assert_int_equal(d1.ntrained, 2); /* points 1 and 3 */
    assert_int_equal(d1.trained[0], 1);
    assert_int_equal(d1.trained[1], 3);
    assert_int_equal(d1.nprepared, 1);
    assert_false(sy_dist_in_local());
    assert_true(isnan(v1[0]) && isnan(v1[4]) && isnan(v1[8])); /* rank 0's, not there yet */
    assert_int_equal(d1.nrecorded, 2);
    sy_run_free(run);

    w.ctx = &d0, w.rank = 0;
    run = start("ranks", 1);
    d0.run = run;
    assert_int_equal(sy_sweep_run(run, &w, v0), SY_OK);
    assert_int_equal(d0.ntrained, 3); /* points 0, 2, 4 */
    assert_int_equal(d0.nrecorded, 5); /* and rank 1's two read back, all in order */
    for (int i = 0; i < 5; i++) assert_int_equal(d0.recorded[i], i);
    assert_true(d0.seen_before == 0.1 + 0.2);
    assert_memory_equal(v0, vs, sizeof vs); /* bit for bit */
    sy_run_free(run); /* closes the files */
    run = start("ranks", 1);
    char *a = slurp(seq, "metrics.csv"), *b = slurp(run, "metrics.csv");
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    a = slurp(seq, "odd.csv"), b = slurp(run, "odd.csv");
    assert_non_null(a);
    assert_non_null(b);
    assert_string_equal(a, b);
    assert_non_null(strstr(b, "\"m,\"\"q\"\"\",3,3.33333333,\n")); /* a quoted label, a column left empty */

    /* all read back: nothing to prepare or train, the gather again writes the files whole */
    demo_ctx d2 = {0};
    w.ctx = &d2, d2.run = run;
    assert_int_equal(sy_sweep_run(run, &w, v0), SY_OK);
    assert_int_equal(d2.ntrained + d2.nprepared, 0);
    sy_run_free(run);
    run = start("ranks", 1);
    assert_string_equal(slurp(seq, "metrics.csv"), slurp(run, "metrics.csv"));

    /* a single process does not resume what ranks trained (their rows are in points/<i>/), nor the reverse */
    w.rank = 0, w.size = 1;
    assert_int_equal(sy_sweep_run(run, &w, v0), SY_ERR_STATE);
    assert_non_null(strstr(sy_last_error(), "resume the run as it was launched"));
    sy_run_free(run);
    sy_run_free(seq);
    seq = start("ranks-seq", 1);
    w.size = 2;
    assert_int_equal(sy_sweep_run(seq, &w, v0), SY_ERR_STATE);
    sy_run_free(seq);
}

static void test_refusals(void **state)
{
    (void)state;
    demo_ctx d = {0};
    double vals[8];
    sy_sweep w = demo_sweep(&d, 2);
    sy_run *run = start("refuse", 0);
    w.rank = 2, w.size = 2;
    assert_int_equal(sy_sweep_run(run, &w, vals), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "rank 2 of size 2"));
    w.rank = 0, w.size = 1, w.train = NULL;
    assert_int_equal(sy_sweep_run(run, &w, vals), SY_ERR_ARG);
    w = demo_sweep(&d, 2);
    w.size = 2; /* several processes without point records */
    assert_int_equal(sy_sweep_run(run, &w, vals), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "need keep"));
    sy_run_free(run);

    /* a record of another point (the settings changed) is refused, naming the file */
    w = demo_sweep(&d, 2);
    w.keep = 1;
    run = start("other", 0);
    assert_int_equal(sy_sweep_run(run, &w, vals), SY_OK);
    sy_run_free(run);
    char path[4200];
    run = start("other", 1);
    FILE *f = fopen(sy_run_path(run, "points/1.csv", path, sizeof path), "w");
    assert_non_null(f);
    fputs("name,test_acc,train_loss\nsigma0=9/seed1,1,2\n", f);
    fclose(f);
    assert_int_equal(sy_sweep_run(run, &w, vals), SY_ERR_IO);
    assert_non_null(strstr(sy_last_error(), "points/1.csv is not the record of point 'sigma0=0/seed2'"));
    f = fopen(path, "w");
    fputs("name,test_acc\nsigma0=0/seed2,1\n", f); /* a column missing */
    fclose(f);
    assert_int_equal(sy_sweep_run(run, &w, vals), SY_ERR_IO);
    assert_non_null(strstr(sy_last_error(), "column 2 is not 'train_loss'"));
    sy_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_resume_reads_back),
        cmocka_unit_test(test_ranks),
        cmocka_unit_test(test_refusals),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
