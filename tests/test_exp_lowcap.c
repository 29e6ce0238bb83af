/* Experiment `lowcap` (Fig. 1) at its quick scale (first 10000 MNIST
 * images, 2 epochs, fractions 0, 0.9, 0.99, 1), through the registry, with
 * SGD and Adam: vanilla training keeps the identical hidden units exactly
 * identical and its final loss grows with the identical fraction; syre pulls
 * the copies apart and its final loss hardly depends on the fraction.
 * Margins come from measured quick runs (seed 1, split copies):
 *   train loss f = 0 / 0.9 / 0.99 / 1
 *     SGD  vanilla 0.191 0.256 1.03 2.00   syre 0.190 0.254 0.284 0.271
 *     Adam vanilla 0.179 0.312 1.48 1.96   syre 0.181 0.210 0.209 0.206
 *   distinct units (tol 1e-2): vanilla 200 21 3 1 (the init) for both;
 *     syre SGD 200 27 199 198, Adam 200 200 200 200.
 * Also: bad flag values are refused by name. */
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

#include "syre/syre.h"

#include "exp_harness.h"

static double val(const sy_run *run, const char *col, const char *what, double f)
{
    char key[96];
    snprintf(key, sizeof key, "%s f=%.2f", what, f);
    double v = sy_run_summary_value(run, col, key);
    if (isnan(v)) fail_msg("no summary value %s / %s", col, key);
    return v;
}

static void test_quick_claim(void **state)
{
    (void)state;
    const char *both[] = {"--optim", "both"};
    sy_run *run = run_quick_exp("lowcap", "quick", 2, both);

    const double fr[4] = {0, 0.9, 0.99, 1};
    const int init_distinct[4] = {200, 21, 3, 1};
    const char *opt[2] = {"sgd", "adam"};
    for (int o = 0; o < 2; o++) {
        char van[32], sy[32];
        snprintf(van, sizeof van, "vanilla/%s", opt[o]);
        snprintf(sy, sizeof sy, "syre/%s", opt[o]);
        printf("# lowcap quick %s: loss vanilla", opt[o]);
        for (int f = 0; f < 4; f++) printf(" %.3g", val(run, van, "train_loss", fr[f]));
        printf(" | syre");
        for (int f = 0; f < 4; f++) printf(" %.3g", val(run, sy, "train_loss", fr[f]));
        printf(" | distinct syre");
        for (int f = 0; f < 4; f++) printf(" %g", val(run, sy, "distinct_units", fr[f]));
        printf("\n");

        /* vanilla: identical units stay exactly identical (trapped) */
        for (int f = 0; f < 4; f++) {
            assert_true(val(run, van, "distinct_units", fr[f]) == init_distinct[f]);
            assert_true(val(run, van, "copy_spread", fr[f]) < 1e-6);
        }
        /* ... and the final loss depends on the fraction */
        double v0 = val(run, van, "train_loss", 0), v1 = val(run, van, "train_loss", 1);
        assert_true(v1 > 5 * v0);
        assert_true(val(run, van, "train_loss", 0.99) > 3 * v0);
        /* syre: the copies move apart and the loss hardly depends on f */
        double s0 = val(run, sy, "train_loss", 0), s1 = val(run, sy, "train_loss", 1);
        double s99 = val(run, sy, "train_loss", 0.99);
        assert_true(s1 < 2 * s0 && s99 < 2 * s0);
        assert_true(s1 < 0.3 * v1);
        assert_true(val(run, sy, "distinct_units", 1) >= 150);
        assert_true(val(run, sy, "distinct_units", 0.99) >= 150);
        assert_true(val(run, sy, "copy_spread", 0.9) > 1e-2);
    }
    sy_run_free(run);
}

static void expect_refused(const char *flag, const char *value) { expect_flag_refused("lowcap", flag, value); }

static void test_bad_flags(void **state)
{
    (void)state;
    expect_refused("fraction", "1.5");
    expect_refused("fraction", "-0.1");
    expect_refused("gamma", "-1");
    expect_refused("hidden", "1");
    expect_refused("samples", "70000");
    expect_refused("adam-lr", "0");

    /* list-valued and named-choice flags are checked when the run starts,
     * before any data is read or any directory is created */
    const sy_experiment *exp = sy_experiment_find("lowcap");
    const char *bad[][2] = {{"--fractions", "0,1.2"}, {"--optim", "rmsprop"}, {"--method", "wfix"}};
    for (int k = 0; k < 3; k++) {
        const char *argv[] = {"--quick", bad[k][0], bad[k][1], "--out", "/nonexistent/never"};
        sy_run *run = NULL;
        assert_int_equal(sy_run_parse(&run, exp, 5, (char **)argv), SY_OK);
        assert_int_equal(exp->run(run), SY_ERR_ARG);
        if (!strstr(sy_last_error(), bad[k][0] + 2) && !strstr(sy_last_error(), bad[k][1]))
            fail_msg("message '%s' names neither %s nor %s", sy_last_error(), bad[k][0], bad[k][1]);
        sy_run_free(run);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_quick_claim),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
