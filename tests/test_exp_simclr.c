/* Experiment `simclr` (Table 1) at its quick scale on real CIFAR-10 images:
 * ResNet18 width 4 + head 32-32-8, 1000 training / 1000 test images, 2
 * epochs of SimCLR (batch 128, two views), then linear probes on the frozen
 * penultimate (encoder) and last (head) features; records init (untrained),
 * vanilla, syre on the head and syre on all layers at sigma0 = 0.01.
 *
 * What this scale shows (measured, seed 1): the whole pipeline runs; the
 * NT-Xent loss falls (vanilla, epoch 1 -> 2: 5.46 -> 5.37); the probes beat chance
 * (0.10) on the penultimate features (about 0.2 - but so does the untrained
 * encoder: 14 SGD steps teach little); the head output is FULL rank
 * relative to its largest eigenvalue for every method (no eigenvalue below
 * 1e-5 x the largest), i.e. no collapse yet, as the issue expected; and the
 * paper's absolute threshold (eigenvalues < 1e-5) flags 87.5% of the
 * untrained network's 8 directions only because its features are small
 * (largest eigenvalue 1.7e-4), a share that training removes. So the test
 * asserts these, and not Table 1's differences between methods, which need
 * long training (docs/results/simclr.md). That needs the real CIFAR-10 and
 * is skipped, visibly, without it; the pipeline itself runs everywhere, on
 * a fixture the test writes (tests/cifar_fixture.h), in both data formats.
 * Also: bad flags are refused. */
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
#include "../cli/env_options.h"

#include "exp_harness.h"

#include "cifar_fixture.h"

/* The whole pipeline on the suite's own CIFAR-format fixture, in both
 * formats (width 2, 100 training / 50 test images, 1 epoch of batch 20,
 * short probes): it runs to the end on either, every record holds its
 * measures in range, and both formats give the same records to the last
 * digit (the same pixels in the same order); syre on all layers is not
 * vanilla. */
static void test_fixture_pipeline(void **state)
{
    (void)state;
    char root[512], dir[600];
    snprintf(root, sizeof root, "%s/cifar-fixture", tmpdir);
    cifar_fixture_write(root, 10, 5);
    const char *recs[4] = {"init", "vanilla", "syre-head-0.01", "syre-all-0.01"};
    const char *keys[4] = {"low_rankness", "penult_acc", "last_acc", "eig_max"};
    double v[2][4][4];
    const char *fmt[2] = {"bin", "folder"};
    for (int f = 0; f < 2; f++) {
        snprintf(dir, sizeof dir, "%s/%s", root, fmt[f]);
        const char *extra[] = {"--data-dir", dir,       "--width",  "2",  "--train-n",      "100", "--test-n",
                               "50",         "--epochs", "1",      "--batch", "20", "--probe-epochs", "5", "--rank-n",
                               "50"};
        sy_run *run = run_quick_exp("simclr", fmt[f], 16, extra);
        for (int m = 0; m < 4; m++) {
            for (int k = 0; k < 4; k++) v[f][m][k] = summary_val(run, recs[m], keys[k]);
            printf("# simclr on the %s fixture, %-15s low-rankness %.3f penult %.3f last %.3f\n", fmt[f], recs[m],
                   v[f][m][0], v[f][m][1], v[f][m][2]);
            for (int k = 0; k < 3; k++) assert_true(v[f][m][k] >= 0 && v[f][m][k] <= 1);
            if (m > 0) assert_true(isfinite(summary_val(run, recs[m], "nt_xent")));
        }
        /* syre on all layers leaves vanilla's path: the anchor is applied
         * (with a zero anchor it is plain decay, vanilla to the last bit) */
        assert_true(summary_val(run, "syre-all-0.01", "nt_xent") != summary_val(run, "vanilla", "nt_xent"));
        sy_run_free(run);
    }
    for (int m = 0; m < 4; m++)
        for (int k = 0; k < 4; k++)
            if (v[0][m][k] != v[1][m][k])
                fail_msg("%s %s: %.9g from the binary batches, %.9g from the image folder", recs[m], keys[k],
                         v[0][m][k], v[1][m][k]);
}

/* L2-init, syre's control, on the same scopes: records l2init-head and
 * l2init-all, each off vanilla's path (decay toward the initialisation is
 * not decay toward 0), and the two scopes differ from each other. */
static void test_fixture_l2init(void **state)
{
    (void)state;
    char dir[600];
    snprintf(dir, sizeof dir, "%s/cifar-fixture-l2init", tmpdir);
    cifar_fixture_write(dir, 10, 5);
    snprintf(dir + strlen(dir), sizeof dir - strlen(dir), "/bin");
    const char *extra[] = {"--data-dir", dir,   "--width",  "2",  "--train-n", "100", "--test-n",
                           "50",         "--epochs", "1", "--batch", "20", "--probe-epochs", "5",
                           "--rank-n",   "50",  "--method", "vanilla,l2init", "--probe-init=0", "--gamma", "0.05"};
    sy_run *run = run_quick_exp("simclr", "l2init", (int)(sizeof extra / sizeof *extra), extra);
    double v = summary_val(run, "vanilla", "nt_xent"), h = summary_val(run, "l2init-head", "nt_xent"),
           a = summary_val(run, "l2init-all", "nt_xent");
    printf("# simclr l2init on the fixture: nt-xent vanilla %.9g, l2init-head %.9g, l2init-all %.9g\n", v, h, a);
    assert_true(isfinite(h) && isfinite(a));
    assert_true(h != v && a != v && a != h);
    sy_run_free(run);
}

static void test_quick_pipeline(void **state)
{
    (void)state;
    SKIP_WITHOUT_REAL_CIFAR10();
    sy_run *run = run_quick_exp("simclr", "quick", 0, NULL);
    const char *recs[4] = {"init", "vanilla", "syre-head-0.01", "syre-all-0.01"};
    for (int m = 0; m < 4; m++) {
        double lr = summary_val(run, recs[m], "low_rankness"), rel = summary_val(run, recs[m], "low_rankness_rel");
        double pa = summary_val(run, recs[m], "penult_acc"), la = summary_val(run, recs[m], "last_acc");
        printf("# simclr quick %-15s low-rankness %.3f (relative %.3f, eig %.3g..%.3g) penult %.3f last %.3f", recs[m],
               lr, rel, summary_val(run, recs[m], "eig_min"), summary_val(run, recs[m], "eig_max"), pa, la);
        if (m > 0)
            printf(" nt-xent %.3f -> %.3f", summary_val(run, recs[m], "nt_xent_epoch1"),
                   summary_val(run, recs[m], "nt_xent"));
        printf("\n");
        assert_true(lr >= 0 && lr <= 1);
        assert_true(la >= 0 && la <= 1);
        assert_true(pa > 0.15); /* chance 0.10 */
        if (m == 0) continue;
        /* the loss falls, below the uniform-similarity value log(2B - 1) */
        assert_true(summary_val(run, recs[m], "nt_xent") < summary_val(run, recs[m], "nt_xent_epoch1"));
        assert_true(summary_val(run, recs[m], "nt_xent") < log(255.0));
        /* no collapse at this scale: full rank relative to the largest eigenvalue */
        assert_true(rel == 0);
    }
    /* the absolute threshold flags the untrained network's small features,
     * and training removes that share */
    assert_true(summary_val(run, "init", "low_rankness") > 0.5);
    assert_true(summary_val(run, "vanilla", "low_rankness") < summary_val(run, "init", "low_rankness"));
    /* quick runs sigma0 0.01 only */
    assert_true(isnan(sy_run_summary_value(run, "syre-head-0.1", "last_acc")));
    sy_run_free(run);
}

static void expect_refused(const char *flag, const char *value) { expect_flag_refused("simclr", flag, value); }

static void test_bad_flags(void **state)
{
    (void)state;
    expect_refused("width", "0");
    expect_refused("temperature", "0");
    expect_refused("batch", "1");
    expect_refused("rank-n", "1");
    expect_refused("gamma", "-1");
    expect_refused("method", "bogus");
    /* checked when the run starts, before any data is loaded */
    const char *bad[][2] = {{"--syre-on", "encoder"}, {"--sigma0s", "0.1,x"}, {"--method", "wfix"}};
    for (int i = 0; i < 3; i++) {
        const char *argv[] = {"--quick", bad[i][0], bad[i][1], "--out", tmpdir, "--name", "bad"};
        sy_run *run = NULL;
        assert_int_equal(sy_run_parse(&run, sy_experiment_find("simclr"), 7, (char **)argv), SY_OK);
        assert_int_equal(sy_run_experiment(run)->run(run), SY_ERR_ARG);
        if (!strstr(sy_last_error(), bad[i][0] + 2) && !strstr(sy_last_error(), bad[i][1]))
            fail_msg("message '%s' names neither %s nor %s", sy_last_error(), bad[i][0], bad[i][1]);
        sy_run_free(run);
    }
}

int main(void)
{
    if (sy_env_apply_runtime() != SY_OK) { /* SYRE_DATA, as the command reads it */
        fprintf(stderr, "%s\n", sy_last_error());
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_fixture_pipeline),
        cmocka_unit_test(test_fixture_l2init),
        cmocka_unit_test(test_quick_pipeline),
    };
    return cifar_exit_status(cmocka_run_group_tests(tests, setup_dir, teardown_dir));
}
