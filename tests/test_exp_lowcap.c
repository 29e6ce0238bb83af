/* Experiment `lowcap` (Fig. 1) at its quick scale (first 10000 MNIST
 * images, 2 epochs, fractions 0, 0.9, 0.99, 1), through the registry, with
 * SGD and Adam: vanilla training keeps the identical hidden units trapped
 * and its final loss grows with the identical fraction; syre pulls the
 * copies apart and its final loss hardly depends on the fraction.
 *
 * How exactly vanilla stays trapped depends on the arithmetic. Identical
 * units get identical updates only if the sgemm computes them identically;
 * OpenBLAS's AVX2 kernel rounds an output element by its position in a
 * panel (docs/results/lowcap.md), so 200 copies fall into a handful of
 * position classes, and the tiny differences between classes grow. Copies
 * in the same class stay bitwise equal, so a group of copies splits into at
 * most P groups, P the number of classes. The test measures P on this
 * machine's kernel (class_count) and asserts the claim in the form that
 * kernel gives it:
 * - P = 1 (AVX-512): the exact trap, every copy identical (spread 0); the
 *   vanilla loss at f = 1 above 5x and at f = 0.99 above 3x its f = 0 loss;
 *   syre's f = 1 loss below 0.3x vanilla's;
 * - P > 1 (AVX2: P = 5): at most P - 1 extra distinct units per group of
 *   copies; vanilla at f = 0.99 and 1 above 2x its f = 0 loss; syre's f = 1
 *   loss below 0.5x vanilla's;
 * - both: syre's f = 0.99 and 1 losses within 2x of its f = 0 loss, at
 *   least 150 distinct units at f = 0.99 and 1, spread above 1e-2 at 0.9;
 *   with Adam also at least 150 distinct units at 0.9 (SGD's 27 there, too
 *   few epochs to separate, is logged as the known negative).
 * Measured over seeds 1-5 on both kernels (docs/results/lowcap.md), the
 * extremes: AVX-512 smallest vanilla ratios 5.4 (f = 0.99) and 9.8 (f = 1),
 * largest syre/vanilla at f = 1 0.14; AVX2 smallest vanilla ratios 2.66 and
 * 3.29, largest syre/vanilla 0.39, vanilla distinct units 5 (f = 1) and 7
 * (f = 0.99) = init + P - 1; syre's largest f-ratio 1.57 on both.
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

/* Position classes of this machine's sgemm for the lowcap network: all 200
 * hidden units of 784-200-10 made copies of unit 0, three SGD steps on
 * random batches at the experiment's batch and thread count, then the
 * number of distinct units at tolerance 0. Units in one class compute
 * bitwise the same at every step, so they never separate. */
static int class_count(void)
{
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(2, 64, 784)), y = sy_input(g, "y", sy_shape_of(1, 64));
    sy_var loss = sy_softmax_ce(g, sy_linear(g, sy_relu(g, sy_linear(g, x, "l1", 200)), "l2", 10), y);
    if (sy_graph_compile(g) != SY_OK || sy_params_init(ps, 1) != SY_OK) fail_msg("%s", sy_last_error());
    float *W1 = sy_params_tensor(ps, sy_params_find(ps, "l1.weight"));
    float *b1 = sy_params_tensor(ps, sy_params_find(ps, "l1.bias"));
    float *W2 = sy_params_tensor(ps, sy_params_find(ps, "l2.weight"));
    for (int c = 1; c < 200; c++) {
        memcpy(W1 + (size_t)c * 784, W1, 784 * sizeof(float));
        b1[c] = b1[0];
        for (int o = 0; o < 10; o++) W2[o * 200 + c] = W2[o * 200];
    }
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.1f;
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    assert_non_null(opt);
    sy_rng rng = sy_rng_make(7, SY_STREAM_USER, 0);
    float *xd = sy_graph_data(g, x), *yd = sy_graph_data(g, y);
    for (int step = 0; step < 3; step++) {
        for (int i = 0; i < 64 * 784; i++) xd[i] = 2.0f * sy_rng_uniform(&rng) - 1.0f;
        for (int i = 0; i < 64; i++) yd[i] = (float)(int)(10 * sy_rng_uniform(&rng));
        assert_int_equal(sy_train_step(g, loss, opt), SY_OK);
    }
    int classes = 0;
    assert_int_equal(sy_distinct_units(W1, 200, 784, b1, W2, 10, 0.0f, &classes), SY_OK);
    sy_optimizer_free(opt);
    sy_graph_free(g);
    sy_params_free(ps);
    return classes;
}

static void test_quick_claim(void **state)
{
    (void)state;
    const char *both[] = {"--optim", "both"};
    sy_run *run = run_quick_exp("lowcap", "quick", 2, both);

    const double fr[4] = {0, 0.9, 0.99, 1};
    const int init_distinct[4] = {200, 21, 3, 1};
    const char *opt[2] = {"sgd", "adam"};
    int P = class_count();
    printf("# sgemm position classes for 200 identical units: %d (%s)\n", P,
           P == 1 ? "exact trap" : "rounding splits copies");
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

        /* vanilla: identical units stay trapped, exactly identical where
         * the kernel rounds every position alike, and split into at most P
         * groups where it does not */
        for (int f = 0; f < 4; f++) {
            double d = val(run, van, "distinct_units", fr[f]);
            if (P == 1) {
                assert_true(d == init_distinct[f]);
                assert_true(val(run, van, "copy_spread", fr[f]) < 1e-6);
            } else if (d < init_distinct[f] || d > init_distinct[f] + (f > 0 ? P - 1 : 0))
                fail_msg("vanilla/%s f=%g: %g distinct units, outside [%d, %d + %d - 1]", opt[o], fr[f], d,
                         init_distinct[f], init_distinct[f], P);
        }
        /* ... and the final loss depends on the fraction */
        double v0 = val(run, van, "train_loss", 0), v1 = val(run, van, "train_loss", 1);
        double v99 = val(run, van, "train_loss", 0.99);
        assert_true(v1 > (P == 1 ? 5 : 2) * v0);
        assert_true(v99 > (P == 1 ? 3 : 2) * v0);
        /* syre: the copies move apart and the loss hardly depends on f */
        double s0 = val(run, sy, "train_loss", 0), s1 = val(run, sy, "train_loss", 1);
        double s99 = val(run, sy, "train_loss", 0.99);
        assert_true(s1 < 2 * s0 && s99 < 2 * s0);
        assert_true(s1 < (P == 1 ? 0.3 : 0.5) * v1);
        assert_true(val(run, sy, "distinct_units", 1) >= 150);
        assert_true(val(run, sy, "distinct_units", 0.99) >= 150);
        assert_true(val(run, sy, "copy_spread", 0.9) > 1e-2);
        /* f = 0.9: Adam separates the copies (200 distinct units measured);
         * SGD does not within 2 epochs (27 distinct, spread 0.054: its
         * 2-epoch loss equals vanilla's, 21 units being enough so far;
         * docs/results/lowcap.md), a known negative of this scale, logged */
        if (o == 1)
            assert_true(val(run, sy, "distinct_units", 0.9) >= 150);
        else
            printf("# note: syre/sgd at f = 0.9: %g distinct units of 200 after 2 epochs (known: too few epochs to "
                   "separate)\n", val(run, sy, "distinct_units", 0.9));
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
