/* Figures of series with x of their own (src/plot/xy.c): sy_plot_xy saves,
 * pixel for pixel (the PNG's bytes), the figure drawn series by series with
 * its own lengths, log axes and fixed y range; sy_plot_sweep's log y axis
 * (sy_plot_opts.logy); sy_plot_range keeps the positive finite values only.
 * Bad arguments are refused. */
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

#define FIGURE_TEST "plot-xy"
#include "figure_harness.h"

static const sy_experiment demo = {.name = "xydemo", .figure = "none", .summary = "a test", .run = no_run};

static void test_xy(void **state)
{
    (void)state;
    const char *argv[] = {"--out", tmpdir, "--name", "r"};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, 4, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    const char *dir = sy_run_dir(run);

    /* two curves of different lengths and steps, log y, a fixed range */
    const double x0[4] = {0, 10, 20, 30}, y0[4] = {2.3, 1.1, 0.6, 0.4};
    const double x1[3] = {0, 15, 30}, y1[3] = {2.2, 0.3, 0.05};
    const double *const xs[2] = {x0, x1}, *const ys[2] = {y0, y1};
    const char *const labels[2] = {"f=0.00", "f=0.90"};
    const int n[2] = {4, 3};
    sy_plot_opts o = {.title = "loss", .xlabel = "iteration", .ylabel = "loss", .logy = 1, .ymin = 0.04, .ymax = 3};
    assert_int_equal(sy_plot_xy(run, "xy", &o, 2, labels, xs, ys, n, SY_PLOT_LINE), SY_OK);
    sy_plot *p = sy_plot_new("loss", "iteration", "loss");
    assert_int_equal(sy_plot_series(p, "f=0.00", x0, y0, 4, SY_PLOT_LINE), SY_OK);
    assert_int_equal(sy_plot_series(p, "f=0.90", x1, y1, 3, SY_PLOT_LINE), SY_OK);
    sy_plot_log_axes(p, 0, 1);
    sy_plot_yrange(p, 0.04, 3);
    save_ref(p, dir, "xy-ref");
    assert_true(same_png(dir, "xy", "xy-ref"));
    /* the comparison sees a difference: linear axes */
    p = sy_plot_new("loss", "iteration", "loss");
    assert_int_equal(sy_plot_series(p, "f=0.00", x0, y0, 4, SY_PLOT_LINE), SY_OK);
    assert_int_equal(sy_plot_series(p, "f=0.90", x1, y1, 3, SY_PLOT_LINE), SY_OK);
    sy_plot_yrange(p, 0.04, 3);
    save_ref(p, dir, "xy-linear");
    assert_false(same_png(dir, "xy", "xy-linear"));

    /* log x, markers, the range fitted to the data */
    sy_plot_opts o2 = {.title = "final", .xlabel = "units", .ylabel = "loss", .logx = 1};
    assert_int_equal(sy_plot_xy(run, "xy2", &o2, 2, labels, xs, ys, (const int[2]){3, 3}, SY_PLOT_LINE_POINTS),
                     SY_OK);
    p = sy_plot_new("final", "units", "loss");
    assert_int_equal(sy_plot_series(p, "f=0.00", x0, y0, 3, SY_PLOT_LINE_POINTS), SY_OK);
    assert_int_equal(sy_plot_series(p, "f=0.90", x1, y1, 3, SY_PLOT_LINE_POINTS), SY_OK);
    sy_plot_log_axes(p, 1, 0);
    save_ref(p, dir, "xy2-ref");
    assert_true(same_png(dir, "xy2", "xy2-ref"));

    /* sy_plot_sweep with a log y axis */
    const double *const yy[1] = {y0};
    sy_plot_opts o3 = {.title = "sweep", .xlabel = "x", .ylabel = "y", .logy = 1};
    assert_int_equal(sy_plot_sweep(run, "sweep", &o3, x0, 4, 1, labels, yy, NULL), SY_OK);
    p = sy_plot_new("sweep", "x", "y");
    assert_int_equal(sy_plot_series(p, "f=0.00", x0, y0, 4, SY_PLOT_LINE_POINTS), SY_OK);
    sy_plot_log_axes(p, 0, 1);
    save_ref(p, dir, "sweep-ref");
    assert_true(same_png(dir, "sweep", "sweep-ref"));

    /* refused: no run, no name, series without data */
    assert_int_equal(sy_plot_xy(NULL, "bad", &o, 2, labels, xs, ys, n, SY_PLOT_LINE), SY_ERR_ARG);
    assert_int_equal(sy_plot_xy(run, NULL, &o, 2, labels, xs, ys, n, SY_PLOT_LINE), SY_ERR_ARG);
    assert_int_equal(sy_plot_xy(run, "bad", &o, 2, labels, xs, ys, NULL, SY_PLOT_LINE), SY_ERR_ARG);
    sy_run_free(run);
}

static void test_range(void **state)
{
    (void)state;
    double lo = INFINITY, hi = -INFINITY;
    const double a[5] = {0.5, -1, 0, NAN, 4}, b[2] = {INFINITY, 0.25};
    sy_plot_range(a, 5, &lo, &hi);
    assert_true(lo == 0.5 && hi == 4);
    sy_plot_range(b, 2, &lo, &hi);
    assert_true(lo == 0.25 && hi == 4);
    lo = INFINITY, hi = -INFINITY;
    sy_plot_range(a + 1, 3, &lo, &hi); /* nothing positive and finite: no range */
    assert_false(lo < hi);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xy),
        cmocka_unit_test(test_range),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
