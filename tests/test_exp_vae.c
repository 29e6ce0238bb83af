/* Experiment `vae` (Figs. 6-7) at its quick scale, through the registry:
 * beta-VAE on Fashion-MNIST (10000 training images, 4 epochs), beta = 10,
 * fixed encoder variance eta_enc = 0.01, weight decay on the encoder only.
 *   - posterior collapse: vanilla decay at gamma = 1000 leaves the encoder
 *     output mu (nearly) rank 0 and the reconstruction loss rises well above
 *     the undecayed model's;
 *   - syre at the same gamma with the experiment's default anchor scale
 *     (sigma0 = 1) keeps mu (nearly) full rank and reconstructs at least as
 *     well as the undecayed model;
 *   - the anchor encoder alone (theta0 at sigma0 = 1, untrained) has that
 *     rank too, and syre's is read against it;
 *   - with the paper's general sigma0 = 0.01, syre collapses like vanilla
 *     (documented negative: docs/results/vae.md): logged, not asserted.
 * Margins come from measured quick runs (seed 1): rank vanilla g0 177, g1000
 * 0; syre(1) g1000 197; syre(0.01) g1000 0; test reconstruction loss (nats)
 * vanilla g0 271.9, g1000 387.2, syre(1) g1000 258.3. Also: bad flag values
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

static sy_run *run_quick(const char *name, int n, const char **extra) { return run_quick_exp("vae", name, n, extra); }

static void test_quick_claim(void **state)
{
    (void)state;
    const char *nodecay[] = {"--method", "vanilla", "--gamma", "0"};
    sy_run *r0 = run_quick("g0", 4, nodecay);
    double rank0 = sy_run_summary_value(r0, "vanilla", "rank");
    double rec0 = sy_run_summary_value(r0, "vanilla", "rec_loss");
    sy_run_free(r0);

    const char *strong[] = {"--method", "vanilla,syre", "--gamma", "1000"};
    sy_run *r1 = run_quick("g1000", 4, strong);
    double rankv = sy_run_summary_value(r1, "vanilla", "rank");
    double recv = sy_run_summary_value(r1, "vanilla", "rec_loss");
    double ranks = sy_run_summary_value(r1, "syre", "rank");
    double recs = sy_run_summary_value(r1, "syre", "rec_loss");
    double aus = sy_run_summary_value(r1, "syre", "active_units");
    double ranka = sy_run_summary_value(r1, "syre", "anchor_rank");
    sy_run_free(r1);

    const char *small[] = {"--method", "syre", "--gamma", "1000", "--sigma0", "0.01"};
    sy_run *r2 = run_quick("g1000-s001", 6, small);
    double rank_small = sy_run_summary_value(r2, "syre", "rank");
    double ranka_small = sy_run_summary_value(r2, "syre", "anchor_rank");
    double rec_small = sy_run_summary_value(r2, "syre", "rec_loss");
    sy_run_free(r2);

    printf("# vae quick (beta 10): vanilla g0 rank %g rec %g; g1000 vanilla rank %g rec %g, syre(sigma0 1) rank "
           "%g rec %g AU %g (anchor encoder alone: rank %g), syre(sigma0 0.01) rank %g rec %g (anchor alone: %g)\n",
           rank0, rec0, rankv, recv, ranks, recs, aus, ranka, rank_small, rec_small, ranka_small);

    /* Without decay the encoder output is high-rank. */
    assert_true(rank0 >= 120);
    /* Posterior collapse under vanilla decay: mu (nearly) rank 0, reconstruction much worse. */
    assert_true(rankv <= 10);
    assert_true(recv > rec0 + 50);
    /* syre (sigma0 = 1): full rank, reconstructs at least as well as no decay. */
    assert_true(ranks >= 180);
    assert_true(aus >= 100);
    assert_true(recs < recv - 60);
    assert_true(recs < rec0 + 5);
    /* The anchor encoder alone (theta0, untrained) already has that rank
     * (measured 197 beside syre's 197): the rank claim is that syre keeps its
     * anchor's rank where vanilla falls to 0; the reconstruction is syre's own. */
    assert_true(ranka >= 180);
    assert_true(ranks >= ranka - 10);
    /* With the paper's general sigma0 = 0.01 syre collapsed like vanilla here
     * (docs/results/vae.md; the anchor encoder alone is then below the rank
     * threshold too). A result, not a requirement: logged, not asserted, so
     * that a change which fixes it does not fail the suite. */
    printf("# note: syre at sigma0 0.01, gamma 1000: rank %g (anchor alone %g), rec %g vs vanilla's %g%s\n", rank_small,
           ranka_small, rec_small, recv,
           rank_small <= 10 && fabs(rec_small - recv) < 20 ? " (collapsed like vanilla, as documented)"
                                                          : " (differs from the documented collapse)");
}

static void expect_refused(const char *flag, const char *value) { expect_flag_refused("vae", flag, value); }

static void test_bad_flags_refused(void **state)
{
    (void)state;
    expect_refused("gamma", "-1");
    expect_refused("beta", "-0.5");
    expect_refused("eta-enc", "0");
    expect_refused("test-size", "500");
    expect_refused("train-size", "70000");
    expect_refused("sigma0", "-1");

    /* Text flags are checked when the run starts, before any training. */
    const sy_experiment *exp = sy_experiment_find("vae");
    const char *texts[][2] = {{"--enc-var", "sometimes"}, {"--decoder", "poisson"}};
    for (int i = 0; i < 2; i++) {
        const char *argv[] = {"--quick", texts[i][0], texts[i][1], "--out", tmpdir, "--name", texts[i][1]};
        sy_run *run = NULL;
        assert_int_equal(sy_run_parse(&run, exp, 7, (char **)argv), SY_OK);
        assert_int_equal(sy_run_start(run), SY_OK);
        assert_int_equal(exp->run(run), SY_ERR_ARG);
        if (!strstr(sy_last_error(), texts[i][0]))
            fail_msg("message '%s' does not name %s", sy_last_error(), texts[i][0]);
        sy_run_free(run);
    }
    const char *argv[] = {"--quick", "--gammas", "1,x", "--out", tmpdir, "--name", "badlist"};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, exp, 7, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    assert_int_equal(exp->reproduce(run), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "--gammas"));
    sy_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_flags_refused),
        cmocka_unit_test(test_quick_claim),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
