/* sy_plot_histories (src/plot/history_figure.c): each figure it saves in a
 * run directory is, pixel for pixel (the PNG's bytes), the figure drawn
 * series by series with sy_plot_* calls: one column of every history
 * against the row number or another column of the first history, smoothed
 * by a moving average of the finite values, with the axis ranges asked
 * for. Bad arguments are refused. */
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

#define FIGURE_TEST "histfig"
#include "figure_harness.h"

static const sy_experiment demo = {.name = "histfig", .figure = "none", .summary = "a test", .run = no_run};

#define R 6 /* rows */
#define C 3 /* columns: steps, a measure, another */

static void test_history_figures(void **state)
{
    (void)state;
    const char *argv[] = {"--out", tmpdir, "--name", "r"};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, 4, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    const char *dir = sy_run_dir(run);
    double a[R * C], b[R * C];
    for (int i = 0; i < R; i++) {
        a[i * C] = b[i * C] = 100.0 * (i + 1);
        a[i * C + 1] = sin(i), b[i * C + 1] = i == 2 ? NAN : 0.5 + 0.1 * i;
        a[i * C + 2] = 10 - i, b[i * C + 2] = 3 + i * i;
    }
    const double *const h[2] = {a, b};
    const char *const labels[2] = {"vanilla", "syre"};

    /* against the row number, x and y ranges fixed, two figures in one call */
    sy_history_curves c = {.rows = R, .cols = C, .xcol = -1, .n = 2, .labels = labels, .h = h, .xlabel = "task",
                           .xmin = 0.5, .xmax = R + 0.5, .style = SY_PLOT_LINE_POINTS};
    const sy_history_figure figs[2] = {{"one", 1, "measure", "m", -1, 1}, {"two", 2, "other", "o", 0, 0}};
    assert_int_equal(sy_plot_histories(run, &c, figs, 2), SY_OK);
    double rows[R], ya[R], yb[R];
    for (int i = 0; i < R; i++) rows[i] = i + 1, ya[i] = a[i * C + 1], yb[i] = b[i * C + 1];
    sy_plot *p = sy_plot_new("measure", "task", "m");
    assert_int_equal(sy_plot_series(p, "vanilla", rows, ya, R, SY_PLOT_LINE_POINTS), SY_OK);
    assert_int_equal(sy_plot_series(p, "syre", rows, yb, R, SY_PLOT_LINE_POINTS), SY_OK);
    sy_plot_xrange(p, 0.5, R + 0.5);
    sy_plot_yrange(p, -1, 1);
    save_ref(p, dir, "one-ref");
    assert_true(same_png(dir, "one", "one-ref"));
    for (int i = 0; i < R; i++) ya[i] = a[i * C + 2], yb[i] = b[i * C + 2];
    p = sy_plot_new("other", "task", "o");
    assert_int_equal(sy_plot_series(p, "vanilla", rows, ya, R, SY_PLOT_LINE_POINTS), SY_OK);
    assert_int_equal(sy_plot_series(p, "syre", rows, yb, R, SY_PLOT_LINE_POINTS), SY_OK);
    sy_plot_xrange(p, 0.5, R + 0.5);
    save_ref(p, dir, "two-ref");
    assert_true(same_png(dir, "two", "two-ref"));
    assert_false(same_png(dir, "one", "two-ref"));

    /* against column 0, a moving average over 3 rows of the finite values, ranges fitted */
    sy_history_curves s = {.rows = R, .cols = C, .xcol = 0, .smooth = 3, .n = 2, .labels = labels, .h = h,
                           .xlabel = "steps", .style = SY_PLOT_LINE};
    const sy_history_figure sm = {"smooth", 1, "smoothed", "m", 0, 0};
    assert_int_equal(sy_plot_histories(run, &s, &sm, 1), SY_OK);
    double steps[R];
    for (int i = 0; i < R; i++) {
        steps[i] = a[i * C];
        double sa = 0, sb = 0;
        int na = 0, nb = 0;
        for (int j = i >= 2 ? i - 2 : 0; j <= i; j++) {
            sa += a[j * C + 1], na++;
            if (isfinite(b[j * C + 1])) sb += b[j * C + 1], nb++;
        }
        ya[i] = sa / na, yb[i] = sb / nb;
    }
    p = sy_plot_new("smoothed", "steps", "m");
    assert_int_equal(sy_plot_series(p, "vanilla", steps, ya, R, SY_PLOT_LINE), SY_OK);
    assert_int_equal(sy_plot_series(p, "syre", steps, yb, R, SY_PLOT_LINE), SY_OK);
    save_ref(p, dir, "smooth-ref");
    assert_true(same_png(dir, "smooth", "smooth-ref"));

    /* refused: a column out of range, no histories, no run */
    const sy_history_figure bad = {"bad", C, "bad", "b", 0, 0};
    assert_int_equal(sy_plot_histories(run, &c, &bad, 1), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "bad"));
    c.n = 0;
    assert_int_equal(sy_plot_histories(run, &c, figs, 1), SY_ERR_ARG);
    c.n = 2;
    assert_int_equal(sy_plot_histories(NULL, &c, figs, 1), SY_ERR_ARG);
    sy_clear_error();
    sy_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_history_figures),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
