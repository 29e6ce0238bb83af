/* Tests of the curves read back from a run's records: sy_run_read_curve
 * (src/io/run_files.c) gives a method's rows of two columns in the order
 * logged, across interleaved methods, other columns and more rows than its
 * first allocation, skipping rows without either value; a missing file or
 * column gives none. sy_plot_run_curves_new (src/plot/run_curves.c) draws,
 * pixel for pixel, the figure drawn series by series from the same points,
 * with its labels, styles, log x axis and fixed y range. */
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

#define FIGURE_TEST "curve"
#include "figure_harness.h"

static const sy_experiment demo = {.name = "curvedemo", .figure = "none", .summary = "a test", .run = no_run};

static sy_run *start_run(const char *name)
{
    const char *argv[] = {"--out", tmpdir, "--name", name};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, 4, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    return run;
}

enum { NROWS = 150 }; /* past the first allocation (64) and its growth */

/* Row k of a method: values exact in the 9 digits of metrics.csv. */
static double loss_at(int m, int k) { return 1.0 / (1 << (k % 8)) + m; }

static void log_rows(sy_run *run)
{
    const char *names[3] = {"train_loss", "dead_units", "other"};
    const char *methods[2] = {"vanilla", "syre"};
    for (int k = 0; k < NROWS; k++)
        for (int m = 0; m < 2; m++) {
            double v[3] = {loss_at(m, k), k % 7 + m, -1};
            /* syre leaves dead_units empty every tenth row */
            int n = m == 1 && k % 10 == 0 ? 1 : 3;
            const char *nm[3] = {names[0], n == 1 ? names[2] : names[1], names[2]};
            assert_int_equal(sy_run_log(run, methods[m], 25L * k, n == 1 ? 2 : 3, nm, v), SY_OK);
        }
    const char *en[1] = {"rank"};
    double r = 3;
    assert_int_equal(sy_run_log_to(run, "eval.csv", "vanilla", 1, 1, en, &r), SY_OK);
}

static void test_read_curve(void **state)
{
    (void)state;
    sy_run *run = start_run("read");
    log_rows(run);
    double *x, *y;
    int n;
    assert_int_equal(sy_run_read_curve(run, NULL, "vanilla", "step", "train_loss", &x, &y, &n), SY_OK);
    assert_int_equal(n, NROWS);
    for (int k = 0; k < NROWS; k++) {
        assert_true(x[k] == 25.0 * k);
        assert_true(y[k] == loss_at(0, k));
    }
    free(x);
    free(y);
    /* rows lacking the column are skipped, the others keep their order */
    assert_int_equal(sy_run_read_curve(run, "metrics.csv", "syre", "step", "dead_units", &x, &y, &n), SY_OK);
    assert_int_equal(n, NROWS - NROWS / 10);
    for (int k = 0, i = 0; k < NROWS; k++) {
        if (k % 10 == 0) continue;
        assert_true(x[i] == 25.0 * k && y[i] == k % 7 + 1);
        i++;
    }
    free(x);
    free(y);
    /* any two columns; another file */
    assert_int_equal(sy_run_read_curve(run, NULL, "syre", "train_loss", "other", &x, &y, &n), SY_OK);
    assert_int_equal(n, NROWS);
    assert_true(x[3] == loss_at(1, 3) && y[3] == -1);
    free(x);
    free(y);
    assert_int_equal(sy_run_read_curve(run, "eval.csv", "vanilla", "step", "rank", &x, &y, &n), SY_OK);
    assert_int_equal(n, 1);
    assert_true(x[0] == 1 && y[0] == 3);
    free(x);
    free(y);
    /* nothing to read: no such method, column or file */
    const char *none[][3] = {
        {NULL, "dropout", "train_loss"}, {NULL, "syre", "rank"}, {"nofile.csv", "syre", "train_loss"}};
    for (int i = 0; i < 3; i++) {
        x = y = (double *)1;
        n = 9;
        assert_int_equal(sy_run_read_curve(run, none[i][0], none[i][1], "step", none[i][2], &x, &y, &n), SY_OK);
        assert_int_equal(n, 0);
        assert_null(x);
        assert_null(y);
    }
    sy_run_free(run);
}

static void test_plot_curves(void **state)
{
    (void)state;
    sy_run *run = start_run("plot");
    log_rows(run);
    const char *methods[2] = {"vanilla", "syre"}, *labels[2] = {"weight decay", "syre (dashed)"};
    const sy_plot_style st[2] = {SY_PLOT_LINE, SY_PLOT_DASHED};
    double x[NROWS], y[2][NROWS];
    for (int k = 0; k < NROWS; k++) x[k] = 25.0 * (k + 1), y[0][k] = loss_at(0, k), y[1][k] = loss_at(1, k);

    /* labels, styles, log x and a fixed y range: the same as drawn by hand */
    sy_plot_opts o = {.title = "loss", .xlabel = "step", .ylabel = "training loss", .logx = 1, .ymin = 0, .ymax = 3};
    sy_plot *p = sy_plot_run_curves_new(run, &o, NULL, "step", "train_loss", 2, methods, labels, st);
    assert_non_null(p);
    assert_int_equal(sy_plot_save_run(p, run, "curves"), SY_OK);
    p = sy_plot_new("loss", "step", "training loss");
    double x0[NROWS];
    for (int k = 0; k < NROWS; k++) x0[k] = 25.0 * k; /* step 0 is dropped on the log axis */
    for (int m = 0; m < 2; m++) assert_int_equal(sy_plot_series(p, labels[m], x0, y[m], NROWS, st[m]), SY_OK);
    sy_plot_log_axes(p, 1, 0);
    sy_plot_yrange(p, 0, 3);
    assert_int_equal(sy_plot_save_run(p, run, "ref"), SY_OK);
    assert_true(same_png(sy_run_dir(run), "curves", "ref"));

    /* without labels and styles: the methods' names, lines; the points differ from x's */
    o = (sy_plot_opts){.title = "loss", .xlabel = "step", .ylabel = "training loss"};
    p = sy_plot_run_curves_new(run, &o, NULL, "step", "train_loss", 2, methods, NULL, NULL);
    assert_int_equal(sy_plot_save_run(p, run, "plain"), SY_OK);
    p = sy_plot_new("loss", "step", "training loss");
    for (int m = 0; m < 2; m++) assert_int_equal(sy_plot_series(p, methods[m], x0, y[m], NROWS, SY_PLOT_LINE), SY_OK);
    assert_int_equal(sy_plot_save_run(p, run, "plain-ref"), SY_OK);
    assert_true(same_png(sy_run_dir(run), "plain", "plain-ref"));
    p = sy_plot_new("loss", "step", "training loss");
    for (int m = 0; m < 2; m++) assert_int_equal(sy_plot_series(p, methods[m], x, y[m], NROWS, SY_PLOT_LINE), SY_OK);
    assert_int_equal(sy_plot_save_run(p, run, "shifted"), SY_OK);
    assert_false(same_png(sy_run_dir(run), "plain", "shifted"));

    /* refused: no run, no columns, methods missing */
    assert_null(sy_plot_run_curves_new(NULL, &o, NULL, "step", "train_loss", 2, methods, NULL, NULL));
    assert_null(sy_plot_run_curves_new(run, &o, NULL, NULL, "train_loss", 2, methods, NULL, NULL));
    assert_null(sy_plot_run_curves_new(run, &o, NULL, "step", "train_loss", 2, NULL, NULL, NULL));
    assert_non_null(strstr(sy_last_error(), "loss"));
    sy_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_read_curve, setup_dir, teardown_dir),
        cmocka_unit_test_setup_teardown(test_plot_curves, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
