/* Shared by the experiment tests (tests/test_exp_*.c): a temporary output
 * directory per test binary, a run's summary values, and the check that a bad flag value is refused
 * before any work, with a message naming the flag. */
#ifndef SYRE_TEST_EXP_HARNESS_H
#define SYRE_TEST_EXP_HARNESS_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h" /* experiments/ */
#include "syre/syre.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/syre-test-exp-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* A method's finite summary value (summary.json), or the test fails naming it. */
static __attribute__((unused)) double summary_val(const sy_run *run, const char *method, const char *key)
{
    double v = sy_run_summary_value(run, method, key);
    if (!isfinite(v)) fail_msg("%s: no finite '%s' in the summary", method, key);
    return v;
}

/* `syre run EXP --quick --threads 1 --name NAME [extra...]` in tmpdir, run to
 * the end; returns the finished run (the caller frees it). */
static __attribute__((unused)) sy_run *run_quick_exp(const char *exp_name, const char *run_name, int n_extra, const char **extra)
{
    const sy_experiment *exp = sy_experiment_find(exp_name);
    assert_non_null(exp);
    const char *argv[32] = {"--quick", "--out", tmpdir, "--threads", "1", "--name", run_name};
    int argc = 7;
    assert_true(n_extra <= 32 - argc);
    for (int i = 0; i < n_extra; i++) argv[argc++] = extra[i];
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, exp, argc, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    sy_status s = exp->run(run);
    if (s != SY_OK) fail_msg("%s --quick (%s) failed: %s", exp_name, run_name, sy_last_error());
    assert_int_equal(sy_run_finish(run), SY_OK);
    return run;
}

/* `syre run EXP --quick --FLAG VALUE` must fail to parse, naming the flag. */
static __attribute__((unused)) void expect_flag_refused(const char *exp_name, const char *flag, const char *value)
{
    const sy_experiment *exp = sy_experiment_find(exp_name);
    assert_non_null(exp);
    char opt[64];
    snprintf(opt, sizeof opt, "--%s", flag);
    const char *argv[] = {"--quick", opt, value, "--out", tmpdir};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, exp, 5, (char **)argv), SY_ERR_ARG);
    assert_null(run);
    if (!strstr(sy_last_error(), flag)) fail_msg("message '%s' does not name --%s", sy_last_error(), flag);
}

#endif
