/* Experiment `continual` (Fig. 9) at its quick scale, through the registry:
 * 4 permuted-MNIST tasks, 6000 training / 2000 test images each, 1 epoch per
 * task, SGD lr 0.1, weight decay 0.01, for vanilla, syre, l2init and
 * shrink-and-perturb. What the quick scale shows (seed 1, measured): every
 * method learns every new task (syre 0.88, 0.64, 0.65, 0.68 test accuracy;
 * chance 0.1); the conv2 output starts at full rank 320 and vanilla's falls
 * to 265 by task 4 as features die at the task switches (seeds 2-5: 214 to
 * 288); forgetting (mean
 * accuracy over all tasks seen, 0.38) is far below plasticity (accuracy on
 * the new task, 0.73); shrink-and-perturb shrinks the weights (norm 4.3 vs
 * 7.5), and at lambda 0, p 1 it restarts from live units; syre's anchor
 * moves it off vanilla's path. At this scale syre's rank falls as much as vanilla's (262): the
 * difference the paper reports needs many more decay steps per task, so it is
 * not asserted here (see docs/results/continual.md). Also: bad flag values
 * are refused by name. */
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

static void test_quick_claim(void **state)
{
    (void)state;
    sy_run *run = run_quick_exp("continual", "quick", 0, NULL);

    const char *methods[4] = {"vanilla", "syre", "l2init", "shrink-perturb"};
    const int tasks = 4;
    for (int m = 0; m < 4; m++) {
        printf("# continual quick %-14s acc", methods[m]);
        for (int t = 1; t <= tasks; t++) {
            char ka[48], kr[48];
            snprintf(ka, sizeof ka, "test_acc task %d", t);
            snprintf(kr, sizeof kr, "rank_conv2 task %d", t);
            double a = summary_val(run, methods[m], ka), r = summary_val(run, methods[m], kr);
            printf(" %.3f/%g", a, r);
            /* logged for every task and method, in range */
            assert_true(a >= 0 && a <= 1);
            assert_true(r >= 0 && r <= 320);
            /* every method learns every new task well above chance (0.1) */
            assert_true(a > 0.4);
        }
        printf("  avg all tasks %.3f, erank %.1f, dead %g, |theta| %.2f\n",
               summary_val(run, methods[m], "avg_acc_all_tasks"),
               summary_val(run, methods[m], "effective_rank"), summary_val(run, methods[m], "dead_units"),
               summary_val(run, methods[m], "weight_norm"));
        /* a 5th task was never run */
        assert_true(isnan(sy_run_summary_value(run, methods[m], "test_acc task 5")));
    }
    /* syre learns each new task (measured >= 0.64) */
    for (int t = 1; t <= tasks; t++) {
        char ka[48];
        snprintf(ka, sizeof ka, "test_acc task %d", t);
        assert_true(summary_val(run, "syre", ka) > 0.5);
    }
    assert_true(summary_val(run, "syre", "test_acc_task1") > 0.8); /* MNIST itself: 0.876 */
    /* the conv2 output starts at (nearly) full rank and vanilla's falls: 320
     * -> 265 (seeds 2-5: drops of 46, 59, 84, 32 to 274, 261, 214, 288) */
    double r1 = summary_val(run, "vanilla", "rank_conv2_task1"), r4 = summary_val(run, "vanilla", "rank_conv2");
    assert_true(r1 >= 290);
    assert_true(r4 <= 300);
    assert_true(r4 <= r1 - 20);
    assert_true(summary_val(run, "vanilla", "dead_units") >= 10); /* 30 dead features */
    /* forgetting is measured apart from plasticity: old tasks are lost */
    assert_true(summary_val(run, "vanilla", "avg_acc_all_tasks") < summary_val(run, "vanilla", "test_acc") - 0.15);
    /* shrink-and-perturb did shrink at the boundaries (4.3 vs 7.5) */
    assert_true(summary_val(run, "shrink-perturb", "weight_norm") < 0.8 * summary_val(run, "vanilla", "weight_norm"));
    /* syre is not vanilla: its anchor moves the run (|theta| 7.473 vs 7.516);
     * with a zero anchor syre is plain decay, vanilla to the last bit */
    assert_true(summary_val(run, "syre", "weight_norm") != summary_val(run, "vanilla", "weight_norm"));
    sy_run_free(run);
}

/* Shrink-and-perturb at lambda 0, p 1 restarts from a fresh initialisation
 * at the task switch: task 2 starts from live units (measured, seeds 1-2 on
 * 1000 images: conv2 rank 303 and 311, 0 dead units, test accuracy 0.28 and
 * 0.24). Without its perturbation every weight would be 0 after the switch:
 * 320 dead units, rank 0, chance accuracy. */
static void test_sp_reset(void **state)
{
    (void)state;
    const char *extra[] = {"--tasks", "2", "--method", "none", "--sp-lambda", "0", "--sp-noise", "1",
                           "--train-n", "1000", "--test-n", "500", "--rank-n", "500"};
    sy_run *run = run_quick_exp("continual", "sp-reset", 14, extra);
    double r = summary_val(run, "shrink-perturb", "rank_conv2"), d = summary_val(run, "shrink-perturb", "dead_units");
    double a = summary_val(run, "shrink-perturb", "test_acc");
    printf("# continual, shrink-and-perturb at lambda 0, p 1: task 2 rank %g, dead %g, accuracy %.3f\n", r, d, a);
    assert_true(r > 160);
    assert_true(d < 32);
    assert_true(a > 0.15);
    sy_run_free(run);
}

/* The unit resets through the experiment, at rates that act within 2 tasks
 * of 15 steps: CBP (rate 0.05, maturity 5) and ReDo (every 10 steps)
 * replace units, syre+cbp too; vanilla, with the same init and data,
 * replaces none; the dormant ratios are summarised in [0, 1] for every
 * method, and the methods' accuracies differ from vanilla's once units
 * were replaced. */
static void test_unit_resets(void **state)
{
    (void)state;
    const char *extra[] = {"--tasks", "2", "--method", "vanilla,cbp,redo,syre+cbp", "--shrink-perturb=0",
                           "--cbp-rate", "0.05", "--cbp-maturity", "5", "--redo-every", "10", "--redo-tau", "0.5",
                           "--train-n", "1000", "--test-n", "500", "--rank-n", "500"};
    sy_run *run = run_quick_exp("continual", "resets", (int)(sizeof extra / sizeof extra[0]), extra);
    const char *m[4] = {"vanilla", "cbp", "redo", "syre+cbp"};
    for (int k = 0; k < 4; k++) {
        double n = summary_val(run, m[k], "units_reset"), d = summary_val(run, m[k], "dormant_fc1");
        printf("# continual resets: %-9s units replaced %4g, dormant fc1 %.3f, conv2 %.3f, accuracy %.3f\n", m[k], n, d,
               summary_val(run, m[k], "dormant_conv2"), summary_val(run, m[k], "test_acc"));
        assert_true(k == 0 ? n == 0 : n > 0);
        assert_true(d >= 0 && d <= 1);
        assert_true(summary_val(run, m[k], "dormant0_conv1") <= summary_val(run, m[k], "dormant_conv1"));
    }
    assert_true(summary_val(run, "cbp", "test_acc") != summary_val(run, "vanilla", "test_acc"));
    sy_run_free(run);
}

static void expect_refused(const char *flag, const char *value) { expect_flag_refused("continual", flag, value); }

static void test_bad_flags(void **state)
{
    (void)state;
    expect_refused("gamma", "-0.1");
    expect_refused("sp-lambda", "1.5");
    expect_refused("sp-noise", "-1");
    expect_refused("tasks", "0");
    expect_refused("epochs", "0");
    expect_refused("lr", "0");
    expect_refused("momentum", "1");
    expect_refused("rank-n", "1");
    expect_refused("test-n", "20000");
    expect_refused("method", "bogus");
    expect_refused("method", "bogus+cbp");
    expect_refused("cbp-rate", "2");
    expect_refused("cbp-decay", "1");
    expect_refused("redo-every", "0");
    expect_refused("redo-tau", "-1");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_sp_reset),
        cmocka_unit_test(test_unit_resets),
        cmocka_unit_test(test_quick_claim),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
