/* Experiment `reparam` (Fig. 3 right) at its quick scale, through the
 * registry: vanilla (weight decay) and W-fix leave neurons dead at
 * u_i = w_i = 0, syre leaves none at any logged step, at no cost in training
 * loss. Margins come from measured quick runs (5000 steps, dead threshold
 * 1e-6; seeds 1-8: vanilla 180 of the 180 off-support neurons dead every
 * time, W-fix 21-45 dead, syre 0 with its smallest pair over time >= 4.7e-5;
 * seed 1: train loss 0.067 vanilla, 0.066 syre, 4.1 W-fix). Also: bad flag
 * values are refused by name. */
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
    sy_run *run = run_quick_exp("reparam", "quick", 0, NULL);

    double dv = sy_run_summary_value(run, "vanilla", "dead_units");
    double dw = sy_run_summary_value(run, "wfix", "dead_units");
    double ds = sy_run_summary_value(run, "syre", "dead_units");
    double offv = sy_run_summary_value(run, "vanilla", "dead_off_support");
    double lv = sy_run_summary_value(run, "vanilla", "train_loss");
    double ls = sy_run_summary_value(run, "syre", "train_loss");
    double lw = sy_run_summary_value(run, "wfix", "train_loss");
    double mins = sy_run_summary_value(run, "syre", "min_pair_norm_over_time");
    double maxds = sy_run_summary_value(run, "syre", "max_dead_over_time");
    printf("# reparam quick: dead vanilla %g (off-support %g), wfix %g, syre %g; loss %g / %g / %g; "
           "syre min pair %g\n", dv, offv, dw, ds, lv, lw, ls, mins);

    /* vanilla: (nearly) every one of the 180 off-support neurons dies */
    assert_true(offv >= 175);
    /* W-fix: many pairs with both entries free die too (measured 21-45) */
    assert_true(dw >= 10);
    assert_true(dw < dv);
    /* syre: none dead, at the end or at any logged step, every pair far
     * above the dead threshold 1e-6 */
    assert_true(ds == 0);
    assert_true(maxds == 0);
    assert_true(mins > 1e-5);
    /* and the fit is as good as vanilla's */
    assert_true(ls < 1.2 * lv && lv < 0.2);
    assert_true(lw > 1.0); /* W-fix's frozen support entries cost it the fit */
    sy_run_free(run);
}

static void expect_refused(const char *flag, const char *value) { expect_flag_refused("reparam", flag, value); }

static void test_bad_flags(void **state)
{
    (void)state;
    expect_refused("gamma", "-0.1");
    expect_refused("wfix-frac", "1.5");
    expect_refused("dead-thr", "-1");
    expect_refused("lr", "0");
    expect_refused("steps", "0");
    expect_refused("method", "bogus");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_quick_claim),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
