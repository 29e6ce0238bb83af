/* Tests of the one-call figures (src/plot/figures.c): each figure that
 * sy_plot_sweep or sy_plot_spectra saves in a run directory is, pixel for
 * pixel (the PNG's bytes), the figure drawn series by series with sy_plot_*
 * calls. sy_plot_sweep: labels with their suffixes, solid and dashed curves
 * per group in order, the reference level, the log axis and the fixed y
 * range; one point is drawn as markers. sy_plot_spectra: the spectra in
 * order and the threshold. Bad arguments are refused. */
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

#define FIGURE_TEST "figures"
#include "figure_harness.h"

static const sy_experiment demo = {.name = "sweepdemo", .figure = "none", .summary = "a test", .run = no_run};

static void test_sweep_figures(void **state)
{
    (void)state;
    const char *argv[] = {"--out", tmpdir, "--name", "r"};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, 4, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    const char *dir = sy_run_dir(run);

    const double x[3] = {1e-3, 1e-2, 1e-1};
    const double a0[3] = {0.9, 0.8, 0.2}, a1[3] = {0.95, 0.9, 0.85}, b0[3] = {0.85, 0.7, 0.1}, b1[3] = {0.9, 0.88, 0.8};
    const char *const methods[2] = {"vanilla", "syre"};
    const double *const y[2] = {a0, a1}, *const y2[2] = {b0, b1};

    /* two groups, suffixes, dashed companions, a chance level, log x, fixed y */
    sy_plot_opts o = {.title = "accuracy vs gamma", .xlabel = "gamma", .ylabel = "accuracy", .suffix = "train",
                            .suffix2 = "test", .logx = 1, .ymin = 0, .ymax = 1.02, .ref_label = "random guess",
                            .ref = 0.1};
    assert_int_equal(sy_plot_sweep(run, "sweep", &o, x, 3, 2, methods, y, y2), SY_OK);
    sy_plot *p = sy_plot_new("accuracy vs gamma", "gamma", "accuracy");
    assert_int_equal(sy_plot_series(p, "vanilla train", x, a0, 3, SY_PLOT_LINE_POINTS), SY_OK);
    assert_int_equal(sy_plot_series(p, "vanilla test", x, b0, 3, SY_PLOT_DASHED), SY_OK);
    assert_int_equal(sy_plot_series(p, "syre train", x, a1, 3, SY_PLOT_LINE_POINTS), SY_OK);
    assert_int_equal(sy_plot_series(p, "syre test", x, b1, 3, SY_PLOT_DASHED), SY_OK);
    const double gx[2] = {1e-3, 1e-1}, gy[2] = {0.1, 0.1};
    assert_int_equal(sy_plot_series(p, "random guess", gx, gy, 2, SY_PLOT_DASHED), SY_OK);
    sy_plot_log_axes(p, 1, 0);
    sy_plot_yrange(p, 0, 1.02);
    save_ref(p, dir, "ref");
    assert_true(same_png(dir, "sweep", "ref"));

    /* the comparison sees a difference: the same figure with the groups swapped */
    p = sy_plot_new("accuracy vs gamma", "gamma", "accuracy");
    assert_int_equal(sy_plot_series(p, "syre train", x, a1, 3, SY_PLOT_LINE_POINTS), SY_OK);
    assert_int_equal(sy_plot_series(p, "syre test", x, b1, 3, SY_PLOT_DASHED), SY_OK);
    assert_int_equal(sy_plot_series(p, "vanilla train", x, a0, 3, SY_PLOT_LINE_POINTS), SY_OK);
    assert_int_equal(sy_plot_series(p, "vanilla test", x, b0, 3, SY_PLOT_DASHED), SY_OK);
    assert_int_equal(sy_plot_series(p, "random guess", gx, gy, 2, SY_PLOT_DASHED), SY_OK);
    sy_plot_log_axes(p, 1, 0);
    sy_plot_yrange(p, 0, 1.02);
    save_ref(p, dir, "swapped");
    assert_false(same_png(dir, "sweep", "swapped"));

    /* own labels for the companions, no suffixes, linear axes fitted to the data */
    const char *const levels[2] = {"vanilla level", "vanilla level 2"};
    sy_plot_opts o2 = {.title = "rank", .xlabel = "sigma0", .ylabel = "rank", .labels2 = levels};
    assert_int_equal(sy_plot_sweep(run, "plain", &o2, x, 3, 2, methods, y, y2), SY_OK);
    p = sy_plot_new("rank", "sigma0", "rank");
    assert_int_equal(sy_plot_series(p, "vanilla", x, a0, 3, SY_PLOT_LINE_POINTS), SY_OK);
    assert_int_equal(sy_plot_series(p, "vanilla level", x, b0, 3, SY_PLOT_DASHED), SY_OK);
    assert_int_equal(sy_plot_series(p, "syre", x, a1, 3, SY_PLOT_LINE_POINTS), SY_OK);
    assert_int_equal(sy_plot_series(p, "vanilla level 2", x, b1, 3, SY_PLOT_DASHED), SY_OK);
    save_ref(p, dir, "plain-ref");
    assert_true(same_png(dir, "plain", "plain-ref"));

    /* one point (one epoch): markers only; no y2: solid curves alone */
    sy_plot_opts o3 = {.title = "one epoch", .xlabel = "epoch", .ylabel = "accuracy", .suffix = "train"};
    assert_int_equal(sy_plot_sweep(run, "one", &o3, x, 1, 2, methods, y, NULL), SY_OK);
    p = sy_plot_new("one epoch", "epoch", "accuracy");
    assert_int_equal(sy_plot_series(p, "vanilla train", x, a0, 1, SY_PLOT_POINTS), SY_OK);
    assert_int_equal(sy_plot_series(p, "syre train", x, a1, 1, SY_PLOT_POINTS), SY_OK);
    save_ref(p, dir, "one-ref");
    assert_true(same_png(dir, "one", "one-ref"));

    /* refused: no points, no run, no labels */
    assert_int_equal(sy_plot_sweep(run, "bad", &o, x, 0, 2, methods, y, y2), SY_ERR_ARG);
    assert_int_equal(sy_plot_sweep(NULL, "bad", &o, x, 3, 2, methods, y, y2), SY_ERR_ARG);
    assert_int_equal(sy_plot_sweep(run, "bad", &o, x, 3, 2, NULL, y, y2), SY_ERR_ARG);
    sy_run_free(run);
}

static void test_spectra_figure(void **state)
{
    (void)state;
    const char *argv[] = {"--out", tmpdir, "--name", "s"};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, 4, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    const char *dir = sy_run_dir(run);
    enum { N = 40 };
    double e0[N], e1[N];
    float f0[N], f1[N], idx[N], thr[N];
    for (int i = 0; i < N; i++) {
        e0[i] = 10 * exp(-0.5 * i), e1[i] = 2 * exp(-0.05 * i); /* e0 falls below the floor */
        f0[i] = (float)e0[i], f1[i] = (float)e1[i], idx[i] = (float)(i + 1), thr[i] = 1e-4f;
    }
    const char *const methods[2] = {"vanilla", "syre"};
    const double *const eig[2] = {e0, e1};
    sy_plot_opts o = {.title = "spectrum", .xlabel = "index", .ylabel = "eigenvalue", .ref_label = "threshold",
                      .ref = 1e-4};
    assert_int_equal(sy_plot_spectra(run, "spec", &o, N, 2, methods, eig), SY_OK);
    sy_plot *p = sy_plot_new("spectrum", "index", "eigenvalue");
    assert_int_equal(sy_plot_spectrum(p, "vanilla", f0, N, 1e-12), SY_OK);
    assert_int_equal(sy_plot_spectrum(p, "syre", f1, N, 1e-12), SY_OK);
    assert_int_equal(sy_plot_series_f(p, "threshold", idx, thr, N, SY_PLOT_DASHED), SY_OK);
    save_ref(p, dir, "spec-ref");
    assert_true(same_png(dir, "spec", "spec-ref"));

    /* without the threshold */
    o.ref_label = NULL;
    assert_int_equal(sy_plot_spectra(run, "bare", &o, N, 2, methods, eig), SY_OK);
    assert_false(same_png(dir, "bare", "spec-ref"));
    p = sy_plot_new("spectrum", "index", "eigenvalue");
    assert_int_equal(sy_plot_spectrum(p, "vanilla", f0, N, 1e-12), SY_OK);
    assert_int_equal(sy_plot_spectrum(p, "syre", f1, N, 1e-12), SY_OK);
    save_ref(p, dir, "bare-ref");
    assert_true(same_png(dir, "bare", "bare-ref"));

    assert_int_equal(sy_plot_spectra(run, "bad", &o, 0, 2, methods, eig), SY_ERR_ARG);
    assert_int_equal(sy_plot_spectra(run, "bad", &o, N, 2, methods, NULL), SY_ERR_ARG);
    sy_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sweep_figures),
        cmocka_unit_test(test_spectra_figure),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
