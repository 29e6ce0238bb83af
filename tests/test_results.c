/* Curves kept in memory (src/io/results.c): the layout the figures take
 * (column c's curves y[s][0..np), against x = 1..np), values NaN until set,
 * the points a resumed run reads back from the rows it logged (only the
 * method's, each at its index, the others left as they were), and a
 * sweep's results as summary rows "<column> <point>". */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/syre-test-curves-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static sy_status no_run(sy_run *run)
{
    (void)run;
    return SY_OK;
}

static const sy_experiment demo = {.name = "curvesdemo", .figure = "none", .summary = "a test", .run = no_run};

static const char *const cols[2] = {"rank", "rec_loss"};

static void test_layout(void **state)
{
    (void)state;
    sy_results c;
    assert_int_equal(sy_results_new(&c, 3, 4, 2, cols), SY_OK);
    assert_int_equal(c.ns, 3);
    assert_int_equal(c.np, 4);
    for (int p = 0; p < 4; p++) assert_true(c.x[p] == p + 1);
    for (int k = 0; k < 2; k++)
        for (int s = 0; s < 3; s++)
            for (int p = 0; p < 4; p++) assert_true(isnan(sy_results_at(&c, k, s)[p]));
    sy_results_set(&c, 1, 2, (double[2]){7, 0.5});
    sy_results_at(&c, 0, 2)[3] = 9;
    assert_true(sy_results_at(&c, 0, 1)[2] == 7 && sy_results_at(&c, 1, 1)[2] == 0.5);
    /* the figures' view: y[s] of column k, and the series from k on */
    const double *const *rank = sy_results_col(&c, 0), *const *rec = sy_results_col(&c, 1);
    assert_true(rank[1][2] == 7 && rec[1][2] == 0.5 && rank[2][3] == 9);
    assert_true((rank + 1)[1][3] == 9);
    assert_true(isnan(rank[0][2]) && isnan(rec[2][3]));
    sy_results_free(&c);
    assert_null(c.v);
    sy_results_free(&c); /* twice is fine */
    /* refused */
    assert_int_equal(sy_results_new(&c, 0, 4, 2, cols), SY_ERR_ARG);
    assert_int_equal(sy_results_new(&c, 3, 4, 2, NULL), SY_ERR_ARG);
    assert_null(c.v);
}

static void test_read_rows_and_summary(void **state)
{
    (void)state;
    const char *argv[] = {"--out", tmpdir, "--name", "r"};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, 4, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    /* rows of two methods, as a run logs them each epoch */
    const char *names[3] = {"train_loss", "rank", "rec_loss"};
    for (int e = 1; e <= 3; e++) {
        double a[3] = {1.0 / e, 10 + e, 100.5 + e}, b[3] = {2.0 / e, 20 + e, 200.5 + e};
        assert_int_equal(sy_run_log(run, "vanilla", e, 3, names, a), SY_OK);
        if (e < 3) assert_int_equal(sy_run_log(run, "syre", e, 3, names, b), SY_OK);
    }
    sy_results c;
    assert_int_equal(sy_results_new(&c, 2, 4, 2, cols), SY_OK);
    sy_results_at(&c, 0, 1)[3] = -1; /* a point no row gives is left as it was */
    assert_int_equal(sy_results_read_rows(&c, run, NULL, "syre", 1, "step"), SY_OK);
    assert_true(sy_results_at(&c, 0, 1)[0] == 21 && sy_results_at(&c, 0, 1)[1] == 22);
    assert_true(sy_results_at(&c, 1, 1)[0] == 201.5 && sy_results_at(&c, 1, 1)[1] == 202.5);
    assert_true(isnan(sy_results_at(&c, 0, 1)[2]) && sy_results_at(&c, 0, 1)[3] == -1);
    assert_true(isnan(sy_results_at(&c, 0, 0)[0])); /* the other series untouched */
    assert_int_equal(sy_results_read_rows(&c, run, NULL, "vanilla", 0, "step"), SY_OK);
    assert_true(sy_results_at(&c, 0, 0)[2] == 13 && sy_results_at(&c, 1, 0)[2] == 103.5);
    assert_true(isnan(sy_results_at(&c, 1, 0)[3]));
    /* a file that is not there reads nothing */
    assert_int_equal(sy_results_read_rows(&c, run, "none.csv", "vanilla", 0, "step"), SY_OK);
    assert_true(sy_results_at(&c, 0, 0)[2] == 13);

    /* a sweep's results as summary rows: "<column> <point>" for the first ncols columns */
    c.x[0] = 0, c.x[1] = 0.5, c.x[2] = 0.9, c.x[3] = 1;
    assert_int_equal(sy_results_summary(&c, run, 0, "vanilla", 1, "f=%.2f"), SY_OK);
    assert_true(sy_run_summary_value(run, "vanilla", "rank f=0.00") == 11);
    assert_true(sy_run_summary_value(run, "vanilla", "rank f=0.90") == 13);
    assert_true(isnan(sy_run_summary_value(run, "vanilla", "rank f=1.00"))); /* never set: NaN */
    assert_true(isnan(sy_run_summary_value(run, "vanilla", "rec_loss f=0.00"))); /* not among the first one */
    assert_int_equal(sy_results_summary(&c, run, 1, "syre", 2, "g=%g"), SY_OK);
    assert_true(sy_run_summary_value(run, "syre", "rec_loss g=0.5") == 202.5);
    sy_results_free(&c);
    sy_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_read_rows_and_summary),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
