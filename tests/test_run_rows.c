/* Rows and summaries picked by name (sy_run_log_pick, sy_run_summary_pick)
 * and arrays logged as rows (sy_run_log_columns): the exact CSV text, the
 * summary keys and values, and the refusals that name what is wrong. (Choice
 * flags: tests/test_run_summaries.c.) */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syre/experiment.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/syre-test-run-rows-XXXXXX");
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

static const sy_flag_spec rows_flags[] = {
    {"scale", "a choice", "alpha2", SY_FLAG_STRING, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

static sy_status rows_run(sy_run *run)
{
    (void)run;
    return SY_OK;
}

static const sy_experiment rows_exp = {.name = "rows", .figure = "none", .summary = "a test", .flags = rows_flags,
                                       .run = rows_run};

static sy_run *start(const char *name, const char *scale)
{
    char out[600];
    snprintf(out, sizeof out, "--out=%s", tmpdir);
    const char *argv[] = {out, "--name", name, "--threads", "1", "--scale", scale};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &rows_exp, 7, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    return run;
}

static char *read_file(const sy_run *run, const char *file)
{
    char path[4200];
    FILE *f = fopen(sy_run_path(run, file, path, sizeof path), "rb");
    assert_non_null(f);
    static char buf[8192];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

static const char *const names[5] = {"gamma", "alpha", "epoch", "test_acc", "rank_pre"};
static const double vals[5] = {0.1, 2, 3, 0.75, 280};

static void test_log_pick(void **state)
{
    (void)state;
    sy_run *run = start("pick", "none");
    /* the first call fixes the columns in the order of cols, values by name */
    assert_int_equal(sy_run_log_pick(run, "sweep.csv", "syre", 0, "rank_pre,gamma,test_acc", 5, names, vals), SY_OK);
    assert_int_equal(sy_run_log_pick(run, "sweep.csv", "vanilla", 1, "gamma,test_acc,rank_pre", 5, names, vals),
                     SY_OK);
    /* another file with its own columns, and a subset of the first file's */
    assert_int_equal(sy_run_log_pick(run, "other.csv", "syre", 7, "epoch,alpha", 5, names, vals), SY_OK);
    assert_int_equal(sy_run_log_pick(run, "sweep.csv", "syre", 2, "gamma", 5, names, vals), SY_OK);
    /* refusals: a column not among the names (a prefix of one is not it), none at all */
    assert_int_equal(sy_run_log_pick(run, "sweep.csv", "syre", 3, "gamma,test", 5, names, vals), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "'test'"));
    assert_int_equal(sy_run_log_pick(run, "sweep.csv", "syre", 3, "", 5, names, vals), SY_ERR_ARG);
    assert_int_equal(sy_run_log_pick(run, "sweep.csv", "syre", 3, "gamma,", 5, names, vals), SY_OK);
    assert_int_equal(sy_run_finish(run), SY_OK);
    assert_string_equal(read_file(run, "sweep.csv"), "method,step,rank_pre,gamma,test_acc\n"
                                                     "syre,0,280,0.1,0.75\n"
                                                     "vanilla,1,280,0.1,0.75\n"
                                                     "syre,2,,0.1,\n"
                                                     "syre,3,,0.1,\n");
    assert_string_equal(read_file(run, "other.csv"), "method,step,epoch,alpha\nsyre,7,3,2\n");
    sy_run_free(run);
}

static void test_summary_pick(void **state)
{
    (void)state;
    sy_run *run = start("summary", "none");
    assert_int_equal(sy_run_summary_pick(run, "syre", NULL, "test_acc,rank_pre", 5, names, vals), SY_OK);
    assert_int_equal(sy_run_summary_pick(run, "syre", "g=0.1 ", "rank_pre", 5, names, vals), SY_OK);
    assert_true(sy_run_summary_value(run, "syre", "test_acc") == 0.75);
    assert_true(sy_run_summary_value(run, "syre", "rank_pre") == 280);
    assert_true(sy_run_summary_value(run, "syre", "g=0.1 rank_pre") == 280);
    assert_int_equal(sy_run_summary_pick(run, "syre", "x ", "test_acc,nope", 5, names, vals), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "'nope'"));
    sy_run_free(run);
}

static void test_log_columns(void **state)
{
    (void)state;
    sy_run *run = start("columns", "none");
    const double a[3] = {3, 2, 1}, b[3] = {0.5, 0.25, 0.125};
    const char *nm[2] = {"eig_pre", "eig_post"};
    assert_int_equal(sy_run_log_columns(run, "spectrum.csv", "syre", 1, 3, 2, nm, (const double *const[2]){a, b}),
                     SY_OK);
    assert_int_equal(sy_run_log_columns(run, "spectrum.csv", "vanilla", 1, 0, 2, nm, (const double *const[2]){a, b}),
                     SY_OK);
    assert_int_equal(sy_run_log_columns(run, "spectrum.csv", "syre", 1, 3, 0, nm, NULL), SY_ERR_ARG);
    assert_int_equal(sy_run_finish(run), SY_OK);
    assert_string_equal(read_file(run, "spectrum.csv"), "method,step,eig_pre,eig_post\n"
                                                        "syre,1,3,0.5\nsyre,2,2,0.25\nsyre,3,1,0.125\n");
    sy_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_log_pick),
        cmocka_unit_test(test_summary_pick),
        cmocka_unit_test(test_log_columns),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
