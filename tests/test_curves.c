/* Curves kept in memory (sy_curves_*): NaN until set, set from rows of named
 * values, refused out of range or without their column, refilled from a
 * run's rows as a resumed method does; and drawn (sy_plot_curves), against
 * the epochs when x is NULL, refused when a curve is missing. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "syre/experiment.h"
#include "syre/plot.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/syre-test-curves-XXXXXX");
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

static sy_status curves_run(sy_run *run)
{
    (void)run;
    return SY_OK;
}

static const sy_experiment curves_exp = {.name = "curves", .figure = "none", .summary = "a test", .run = curves_run};

static sy_run *start(const char *name, int resume)
{
    char out[600];
    snprintf(out, sizeof out, "--out=%s", tmpdir);
    const char *argv[] = {out, "--name", name, "--threads", "1", "--resume"};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &curves_exp, resume ? 6 : 5, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    return run;
}

static const char *const cols[2] = {"test_acc", "rank_pre"};
static const char *const row_names[4] = {"gamma", "epoch", "rank_pre", "test_acc"};

static void test_set(void **state)
{
    (void)state;
    sy_curves c = {0};
    sy_curves_free(&c); /* an empty one frees */
    assert_int_equal(sy_curves_init(&c, 2, cols, 3), SY_OK);
    assert_int_equal(c.n, 2);
    assert_int_equal(c.len, 3);
    for (int i = 0; i < 6; i++) assert_true(isnan(c.v[i]));
    const double row[4] = {0.1, 2, 250, 0.9};
    assert_int_equal(sy_curves_set(&c, 2, 4, row_names, row), SY_OK);
    assert_true(c.v[1] == 0.9 && c.v[3 + 1] == 250);
    assert_true(isnan(c.v[0]) && isnan(c.v[2]) && isnan(c.v[3]) && isnan(c.v[5]));
    /* point 0 or len + 1, a row without a curve's column */
    assert_int_equal(sy_curves_set(&c, 0, 4, row_names, row), SY_ERR_ARG);
    assert_int_equal(sy_curves_set(&c, 4, 4, row_names, row), SY_ERR_ARG);
    assert_int_equal(sy_curves_set(&c, 1, 3, row_names, row), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "test_acc"));
    assert_true(isnan(c.v[0]));
    sy_curves_free(&c);
    assert_null(c.v);
    assert_int_equal(c.n, 0);
    /* no curves at all is a mistake; no points is not */
    assert_int_equal(sy_curves_init(&c, 0, cols, 3), SY_ERR_ARG);
    assert_int_equal(sy_curves_init(&c, 2, cols, 0), SY_OK);
    sy_curves_free(&c);
}

/* A method's rows logged, then read back into fresh curves: only its rows at
 * its gamma, each at its epoch; what was not logged stays NaN. */
static void test_read(void **state)
{
    (void)state;
    sy_run *run = start("read", 0);
    const double rows[4][4] = {{0.1, 1, 300, 0.5}, {0.2, 1, 100, 0.1}, {0.1, 3, 280, 0.8}, {0.1, 9, 1, 1}};
    for (int r = 0; r < 4; r++) assert_int_equal(sy_run_log(run, "syre", r, 4, row_names, rows[r]), SY_OK);
    assert_int_equal(sy_run_log(run, "vanilla", 4, 4, row_names, rows[1]), SY_OK);
    assert_int_equal(sy_run_finish(run), SY_OK);
    sy_run_free(run);

    run = start("read", 1);
    sy_curves c;
    assert_int_equal(sy_curves_init(&c, 2, cols, 3), SY_OK);
    const double gamma = 0.1;
    assert_int_equal(sy_curves_read(&c, run, NULL, "syre", 1, row_names, &gamma, "epoch"), SY_OK);
    assert_true(c.v[0] == 0.5 && isnan(c.v[1]) && c.v[2] == 0.8);
    assert_true(c.v[3] == 300 && isnan(c.v[4]) && c.v[5] == 280);
    /* a file that is not there reads nothing */
    assert_int_equal(sy_curves_read(&c, run, "absent.csv", "syre", 1, row_names, &gamma, "epoch"), SY_OK);
    assert_true(c.v[0] == 0.5);
    sy_curves_free(&c);
    sy_run_free(run);
}

static int nonempty(const sy_run *run, const char *file)
{
    char path[4200];
    struct stat st;
    return stat(sy_run_path(run, file, path, sizeof path), &st) == 0 && st.st_size > 100;
}

static void test_plot(void **state)
{
    (void)state;
    sy_run *run = start("plot", 0);
    sy_curves a[2], b[2];
    const char *labels[2] = {"vanilla", "syre"};
    for (int g = 0; g < 2; g++) {
        assert_int_equal(sy_curves_init(&a[g], 2, cols, 3), SY_OK);
        assert_int_equal(sy_curves_init(&b[g], 2, cols, 3), SY_OK);
        for (int i = 1; i <= 3; i++) {
            const double row[4] = {0.1, i, 100.0 * i, 0.2 * i + 0.1 * g};
            assert_int_equal(sy_curves_set(&a[g], i, 4, row_names, row), SY_OK);
            if (i < 3) assert_int_equal(sy_curves_set(&b[g], i, 4, row_names, row), SY_OK);
        }
    }
    sy_plot_opts o = {.title = "t", .xlabel = "epoch", .ylabel = "acc", .suffix = "train", .suffix2 = "test"};
    assert_int_equal(sy_plot_curves(run, "epochs", &o, NULL, 2, labels, a, 0, b, 0), SY_OK);
    const double x[3] = {0.01, 0.1, 1};
    o.logx = 1;
    assert_int_equal(sy_plot_curves(run, "swept", &o, x, 2, labels, a, 1, NULL, 0), SY_OK);
    assert_true(nonempty(run, "epochs.png") && nonempty(run, "epochs.svg") && nonempty(run, "swept.png"));
    /* a curve index out of range, curves of another length */
    assert_int_equal(sy_plot_curves(run, "bad", &o, x, 2, labels, a, 2, NULL, 0), SY_ERR_ARG);
    assert_int_equal(sy_plot_curves(run, "bad", &o, x, 2, labels, a, 0, b, 5), SY_ERR_ARG);
    sy_curves short_one;
    assert_int_equal(sy_curves_init(&short_one, 2, cols, 2), SY_OK);
    sy_curves mixed[2] = {a[0], short_one};
    assert_int_equal(sy_plot_curves(run, "bad", &o, x, 2, labels, mixed, 0, NULL, 0), SY_ERR_ARG);
    assert_false(nonempty(run, "bad.png"));
    sy_curves_free(&short_one);
    for (int g = 0; g < 2; g++) sy_curves_free(&a[g]), sy_curves_free(&b[g]);
    sy_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set),
        cmocka_unit_test(test_read),
        cmocka_unit_test(test_plot),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
