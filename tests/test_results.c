/* Curves kept in memory (src/io/results.c): the layout the figures take
 * (column c's curves y[s][0..np), against x = 1..np), values NaN until set,
 * set in column order or picked by name from a row of named values (refused
 * out of range or without a column's value), the points a resumed run reads
 * back from the rows it logged (only the method's, at the settings matched,
 * each at its index, the others left as they were), drawn as a sweep
 * figure, and a sweep's results as summary rows "<column> <point>". */
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
#include <sys/stat.h>

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
    sy_results z = {0};
    sy_results_free(&z); /* a zeroed one is empty */
}

/* Picked by name from a row of named values, in any order, with names the
 * table does not keep; refused (nothing set) out of range or without a
 * column's value. */
static void test_set_pick(void **state)
{
    (void)state;
    const char *const row_names[4] = {"gamma", "rec_loss", "epoch", "rank"};
    const double row[4] = {0.1, 0.25, 2, 250};
    sy_results c;
    assert_int_equal(sy_results_new(&c, 2, 3, 2, cols), SY_OK);
    assert_int_equal(sy_results_set_pick(&c, 1, 1, 4, row_names, row), SY_OK);
    assert_true(sy_results_at(&c, 0, 1)[1] == 250 && sy_results_at(&c, 1, 1)[1] == 0.25);
    for (int p = 0; p < 3; p++) assert_true(isnan(sy_results_at(&c, 0, 0)[p]) && isnan(sy_results_at(&c, 1, 0)[p]));
    assert_true(isnan(sy_results_at(&c, 0, 1)[0]) && isnan(sy_results_at(&c, 0, 1)[2]));
    assert_int_equal(sy_results_set_pick(&c, 0, -1, 4, row_names, row), SY_ERR_ARG);
    assert_int_equal(sy_results_set_pick(&c, 0, 3, 4, row_names, row), SY_ERR_ARG);
    assert_int_equal(sy_results_set_pick(&c, 2, 0, 4, row_names, row), SY_ERR_ARG);
    /* "rank" is the row's last value: a row of 3 lacks it, and rec_loss is not set either */
    assert_int_equal(sy_results_set_pick(&c, 0, 0, 3, row_names, row), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "rank"));
    assert_true(isnan(sy_results_at(&c, 0, 0)[0]) && isnan(sy_results_at(&c, 1, 0)[0]));
    sy_results_free(&c);
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
    assert_int_equal(sy_results_read_rows(&c, run, NULL, "syre", 0, NULL, NULL, 1, "step"), SY_OK);
    assert_true(sy_results_at(&c, 0, 1)[0] == 21 && sy_results_at(&c, 0, 1)[1] == 22);
    assert_true(sy_results_at(&c, 1, 1)[0] == 201.5 && sy_results_at(&c, 1, 1)[1] == 202.5);
    assert_true(isnan(sy_results_at(&c, 0, 1)[2]) && sy_results_at(&c, 0, 1)[3] == -1);
    assert_true(isnan(sy_results_at(&c, 0, 0)[0])); /* the other series untouched */
    assert_int_equal(sy_results_read_rows(&c, run, NULL, "vanilla", 0, NULL, NULL, 0, "step"), SY_OK);
    assert_true(sy_results_at(&c, 0, 0)[2] == 13 && sy_results_at(&c, 1, 0)[2] == 103.5);
    assert_true(isnan(sy_results_at(&c, 1, 0)[3]));
    /* a file that is not there reads nothing */
    assert_int_equal(sy_results_read_rows(&c, run, "none.csv", "vanilla", 0, NULL, NULL, 0, "step"), SY_OK);
    assert_true(sy_results_at(&c, 0, 0)[2] == 13);
    /* a series out of range */
    assert_int_equal(sy_results_read_rows(&c, run, NULL, "vanilla", 0, NULL, NULL, 2, "step"), SY_ERR_ARG);

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

static sy_run *start(const char *name, int resume)
{
    const char *argv[] = {"--out", tmpdir, "--name", name, "--threads", "1", "--resume"};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, resume ? 7 : 6, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    return run;
}

/* A method logged at several settings (its rows carry the setting as
 * columns), read back in the resumed run: only its rows at the matched
 * gamma, each at its epoch, into the one series; what was not logged stays
 * NaN. */
static void test_read_rows_matched(void **state)
{
    (void)state;
    const char *const row_names[4] = {"gamma", "epoch", "rank", "rec_loss"};
    sy_run *run = start("matched", 0);
    const double rows[4][4] = {{0.1, 1, 300, 0.5}, {0.2, 1, 100, 0.1}, {0.1, 3, 280, 0.8}, {0.1, 9, 1, 1}};
    for (int r = 0; r < 4; r++) assert_int_equal(sy_run_log(run, "syre", r, 4, row_names, rows[r]), SY_OK);
    assert_int_equal(sy_run_log(run, "vanilla", 4, 4, row_names, rows[1]), SY_OK);
    assert_int_equal(sy_run_finish(run), SY_OK);
    sy_run_free(run);

    run = start("matched", 1);
    sy_results c;
    assert_int_equal(sy_results_new(&c, 2, 3, 2, cols), SY_OK);
    const double gamma = 0.1;
    assert_int_equal(sy_results_read_rows(&c, run, NULL, "syre", 1, row_names, &gamma, 1, "epoch"), SY_OK);
    assert_true(sy_results_at(&c, 0, 1)[0] == 300 && isnan(sy_results_at(&c, 0, 1)[1]));
    assert_true(sy_results_at(&c, 0, 1)[2] == 280);
    assert_true(sy_results_at(&c, 1, 1)[0] == 0.5 && sy_results_at(&c, 1, 1)[2] == 0.8);
    for (int p = 0; p < 3; p++) assert_true(isnan(sy_results_at(&c, 0, 0)[p]));
    /* a file that is not there reads nothing */
    assert_int_equal(sy_results_read_rows(&c, run, "absent.csv", "syre", 1, row_names, &gamma, 1, "epoch"), SY_OK);
    assert_true(sy_results_at(&c, 0, 1)[0] == 300);
    sy_results_free(&c);
    assert_int_equal(sy_run_finish(run), SY_OK);
    sy_run_free(run);
}

static int nonempty(const sy_run *run, const char *file)
{
    char path[4200];
    struct stat st;
    return stat(sy_run_path(run, file, path, sizeof path), &st) == 0 && st.st_size > 100;
}

/* The figures' view drawn: one column of every series solid, another (or the
 * series from k on) dashed, against the epochs or a swept x. */
static void test_plot(void **state)
{
    (void)state;
    sy_run *run = start("plot", 0);
    const char *labels[2] = {"vanilla", "syre"};
    sy_results c;
    assert_int_equal(sy_results_new(&c, 2, 3, 2, cols), SY_OK);
    for (int s = 0; s < 2; s++)
        for (int p = 0; p < 3; p++) sy_results_set(&c, s, p, (double[2]){100.0 * (p + 1), 0.2 * p + 0.1 * s});
    sy_results_at(&c, 1, 1)[2] = NAN; /* not drawn */
    sy_plot_opts o = {.title = "t", .xlabel = "epoch", .ylabel = "y", .suffix = "rank", .suffix2 = "rec"};
    assert_int_equal(sy_plot_sweep(run, "epochs", &o, c.x, c.np, c.ns, labels, sy_results_col(&c, 0),
                                   sy_results_col(&c, 1)), SY_OK);
    c.x[0] = 0.01, c.x[1] = 0.1, c.x[2] = 1;
    o.logx = 1, o.labels2 = labels + 1;
    assert_int_equal(sy_plot_sweep(run, "swept", &o, c.x, c.np, 1, labels, sy_results_col(&c, 1),
                                   sy_results_col(&c, 1) + 1), SY_OK);
    assert_true(nonempty(run, "epochs.png") && nonempty(run, "epochs.svg") && nonempty(run, "swept.png"));
    sy_results_free(&c);
    assert_int_equal(sy_run_finish(run), SY_OK);
    sy_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_layout),
        cmocka_unit_test(test_set_pick),
        cmocka_unit_test(test_read_rows_and_summary),
        cmocka_unit_test(test_read_rows_matched),
        cmocka_unit_test(test_plot),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
