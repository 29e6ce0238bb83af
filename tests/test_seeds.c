/* A setting over seeds: sy_mean_std (src/metrics/spread.c) gives the mean
 * summed as v[k] / n in order and the sample standard deviation (0 for one
 * value), refusing no values and non-finite ones; sy_plot_seeds
 * (src/plot/seeds.c) saves, pixel for pixel, the figure drawn series by
 * series (mean, mean + std, mean - std, every value); sy_plot_sweep's log y
 * axis (sy_plot_opts.logy) is sy_plot_log_axes(p, 0, 1). */
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

#define FIGURE_TEST "seeds"
#include "figure_harness.h"

static void test_mean_std(void **state)
{
    (void)state;
    const double v[4] = {0.25, 0.5, 0.75, 0.1};
    double m = -1, sd = -1;
    assert_int_equal(sy_mean_std(v, 3, &m, &sd), SY_OK);
    assert_true(m == 0.25 / 3 + 0.5 / 3 + 0.75 / 3); /* the sum of the v[k] / n, in order */
    assert_true(fabs(sd - 0.25) < 1e-15);            /* sqrt((0.0625 + 0 + 0.0625) / 2) */
    assert_int_equal(sy_mean_std(v + 3, 1, &m, &sd), SY_OK);
    assert_true(m == 0.1 && sd == 0);
    assert_int_equal(sy_mean_std(v, 2, NULL, &sd), SY_OK);
    assert_true(fabs(sd - sqrt(0.03125)) < 1e-15);
    const double bad[2] = {1, NAN};
    m = 7;
    assert_int_equal(sy_mean_std(bad, 2, &m, &sd), SY_ERR_NUMERIC);
    assert_true(m == 7); /* untouched */
    assert_non_null(strstr(sy_last_error(), "value 1 of 2"));
    assert_int_equal(sy_mean_std(v, 0, &m, &sd), SY_ERR_ARG);
    sy_clear_error();
}

static const sy_experiment demo = {.name = "seedsdemo", .figure = "none", .summary = "a test", .run = no_run};

static void test_figures(void **state)
{
    (void)state;
    const char *argv[] = {"--out", tmpdir, "--name", "r"};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, 4, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    const char *dir = sy_run_dir(run);

    /* three settings, two seeds each: v[i * 2 + k] */
    const double x[3] = {0, 0.1, 1}, v[6] = {0.8, 0.9, 0.7, 0.75, 0.2, 0.4};
    const sy_plot_opts o = {.title = "accuracy vs sigma0", .xlabel = "sigma0", .ylabel = "accuracy"};
    assert_int_equal(sy_plot_seeds(run, "seeds", &o, x, 3, 2, v), SY_OK);
    double mean[3], hi[3], lo[3], px[6], py[6];
    for (int i = 0; i < 3; i++) {
        double sd;
        assert_int_equal(sy_mean_std(v + 2 * i, 2, &mean[i], &sd), SY_OK);
        hi[i] = mean[i] + sd, lo[i] = mean[i] - sd;
        for (int k = 0; k < 2; k++) px[2 * i + k] = x[i], py[2 * i + k] = v[2 * i + k];
    }
    sy_plot *p = sy_plot_new("accuracy vs sigma0", "sigma0", "accuracy");
    assert_int_equal(sy_plot_series(p, "mean over seeds", x, mean, 3, SY_PLOT_LINE_POINTS), SY_OK);
    assert_int_equal(sy_plot_series(p, "mean + std", x, hi, 3, SY_PLOT_DASHED), SY_OK);
    assert_int_equal(sy_plot_series(p, "mean - std", x, lo, 3, SY_PLOT_DASHED), SY_OK);
    assert_int_equal(sy_plot_series(p, "each seed", px, py, 6, SY_PLOT_POINTS), SY_OK);
    save_ref(p, dir, "seeds-ref");
    assert_true(same_png(dir, "seeds", "seeds-ref"));
    /* the comparison sees a difference: one seed's value moved */
    const double w[6] = {0.8, 0.9, 0.7, 0.75, 0.2, 0.45};
    assert_int_equal(sy_plot_seeds(run, "seeds2", &o, x, 3, 2, w), SY_OK);
    assert_false(same_png(dir, "seeds2", "seeds-ref"));
    assert_int_equal(sy_plot_seeds(run, "seeds3", &o, x, 3, 0, v), SY_ERR_ARG);

    /* sy_plot_sweep on a log y axis, with a dashed companion and a level */
    const double e[3] = {0, 1, 2}, a[3] = {1e-3, 1e-2, 1e-1}, b[3] = {1e-7, 1e-6, 1e-6};
    const char *const labels[1] = {"vanilla"};
    const double *const y[1] = {a}, *const y2[1] = {b};
    const sy_plot_opts ol = {.title = "eigenvalues", .xlabel = "epoch", .ylabel = "eigenvalue", .suffix = "max",
                             .suffix2 = "min", .logy = 1, .ref_label = "1e-5", .ref = 1e-5};
    assert_int_equal(sy_plot_sweep(run, "logy", &ol, e, 3, 1, labels, y, y2), SY_OK);
    p = sy_plot_new("eigenvalues", "epoch", "eigenvalue");
    assert_int_equal(sy_plot_series(p, "vanilla max", e, a, 3, SY_PLOT_LINE_POINTS), SY_OK);
    assert_int_equal(sy_plot_series(p, "vanilla min", e, b, 3, SY_PLOT_DASHED), SY_OK);
    const double gx[2] = {0, 2}, gy[2] = {1e-5, 1e-5};
    assert_int_equal(sy_plot_series(p, "1e-5", gx, gy, 2, SY_PLOT_DASHED), SY_OK);
    sy_plot_log_axes(p, 0, 1);
    save_ref(p, dir, "logy-ref");
    assert_true(same_png(dir, "logy", "logy-ref"));
    sy_plot_opts lin = ol;
    lin.logy = 0;
    assert_int_equal(sy_plot_sweep(run, "liny", &lin, e, 3, 1, labels, y, y2), SY_OK);
    assert_false(same_png(dir, "liny", "logy-ref"));
    sy_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mean_std),
        cmocka_unit_test(test_figures),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
