/* The flag helpers every experiment reads its options with
 * (src/io/run_choice.c, run_methods.c, run_pathf.c): a string flag among
 * named choices (sy_run_get_choice), a sweep's list replaced by a single
 * value (sy_run_get_numbers_or), the supported methods
 * (sy_run_methods_among), the series of a comparison where a setting is
 * swept for some methods only (sy_run_series) and a run file named by a
 * pattern (sy_run_pathf). Wrong values are refused with a message that
 * names the experiment, the flag and what was given. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/syre-test-run-flags-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const sy_flag_spec demo_flags[] = {
    {"var", "a choice", "fixed", SY_FLAG_STRING, 0, 0},
    {"fraction", "one value", "", SY_FLAG_DOUBLE, 0, 1},
    {"fractions", "a list", "0,0.5,1", SY_FLAG_STRING, 0, 0},
    {"method", NULL, "vanilla,syre,l2init", SY_FLAG_METHODS, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

static sy_status no_run(sy_run *run)
{
    (void)run;
    return SY_OK;
}

static const sy_experiment demo = {.name = "flagdemo", .figure = "none", .summary = "a test", .flags = demo_flags,
                                   .run = no_run};

static sy_run *parse(int argc, const char **argv)
{
    sy_run *run = NULL;
    if (sy_run_parse(&run, &demo, argc, (char **)argv) != SY_OK) fail_msg("parse: %s", sy_last_error());
    return run;
}

static void expect_message(const char *a, const char *b, const char *c)
{
    const char *msg = sy_last_error();
    if (!strstr(msg, a) || !strstr(msg, b) || (c && !strstr(msg, c)))
        fail_msg("message '%s' does not name '%s', '%s' and '%s'", msg, a, b, c ? c : "");
}

static void test_numbers_or(void **state)
{
    (void)state;
    double v[4];
    int n = 0;
    sy_run *run = parse(0, NULL);
    assert_int_equal(sy_run_get_numbers_or(run, "fraction", "fractions", 0, 0, 1, v, 4, &n), SY_OK);
    assert_int_equal(n, 3);
    assert_true(v[0] == 0 && v[1] == 0.5 && v[2] == 1);
    sy_run_free(run);
    const char *one[] = {"--fraction", "0.25"};
    run = parse(2, one);
    assert_int_equal(sy_run_get_numbers_or(run, "fraction", "fractions", 0, 0, 1, v, 4, &n), SY_OK);
    assert_int_equal(n, 1);
    assert_true(v[0] == 0.25);
    sy_run_free(run);
    /* the list is checked as sy_run_get_numbers checks it */
    const char *list[] = {"--fractions", "0,1.5"};
    run = parse(2, list);
    assert_int_equal(sy_run_get_numbers_or(run, "fraction", "fractions", 0, 0, 1, v, 4, &n), SY_ERR_ARG);
    expect_message("flagdemo", "--fractions", NULL);
    sy_run_free(run);
}

static void test_methods_among(void **state)
{
    (void)state;
    const char *const *m = NULL;
    int n = 0;
    sy_run *run = parse(0, NULL);
    assert_int_equal(sy_run_methods_among(run, "vanilla,syre,l2init,none", &m, &n), SY_OK);
    assert_int_equal(n, 3);
    assert_string_equal(m[0], "vanilla");
    assert_string_equal(m[2], "l2init");
    assert_int_equal(sy_run_methods_among(run, "vanilla,syre,l2init", NULL, NULL), SY_OK);
    assert_int_equal(sy_run_methods_among(run, "vanilla,syre", NULL, NULL), SY_ERR_ARG);
    expect_message("flagdemo", "--method l2init", "vanilla,syre");
    sy_run_free(run);
    /* names are whole: syre is not syre-ar */
    const char *syre[] = {"--method", "syre"};
    run = parse(2, syre);
    assert_int_equal(sy_run_methods_among(run, "vanilla,syre-ar", NULL, NULL), SY_ERR_ARG);
    sy_run_free(run);
}

static void test_series(void **state)
{
    (void)state;
    const char *argv[] = {"--method", "vanilla,syre,syre-ar,l2init"};
    sy_run *run = parse(2, argv);
    sy_series s[8];
    int n = -1;
    /* without values: every method once at the default */
    assert_int_equal(sy_run_series(run, "syre", "s", "sigma0", NULL, 0, 0.5, s, 8, &n), SY_OK);
    assert_int_equal(n, 4);
    for (int i = 0; i < 4; i++) {
        assert_true(s[i].value == 0.5);
        assert_string_equal(s[i].name, s[i].method);
        assert_string_equal(s[i].label, s[i].method);
    }
    assert_string_equal(s[1].method, "syre");
    /* with values: the swept methods once per value, in method order */
    const double sig[2] = {0.01, 1};
    assert_int_equal(sy_run_series(run, "syre", "s", "sigma0", sig, 2, 0.5, s, 8, &n), SY_OK);
    assert_int_equal(n, 6);
    const char *names[6] = {"vanilla", "syre-s0.01", "syre-s1", "syre-ar-s0.01", "syre-ar-s1", "l2init"};
    const char *labels[6] = {"vanilla", "syre sigma0=0.01", "syre sigma0=1", "syre-ar sigma0=0.01",
                             "syre-ar sigma0=1", "l2init"};
    const double values[6] = {0.5, 0.01, 1, 0.01, 1, 0.5};
    for (int i = 0; i < 6; i++) {
        assert_string_equal(s[i].name, names[i]);
        assert_string_equal(s[i].label, labels[i]);
        assert_true(s[i].value == values[i]);
    }
    assert_string_equal(s[4].method, "syre-ar");
    /* more series than room: refused, naming the experiment */
    assert_int_equal(sy_run_series(run, "syre", "s", "sigma0", sig, 2, 0.5, s, 5, &n), SY_ERR_ARG);
    expect_message("flagdemo", "5", "sigma0");
    sy_run_free(run);
}

static void test_pathf(void **state)
{
    (void)state;
    const char *argv[] = {"--out", tmpdir, "--name", "p"};
    sy_run *run = parse(4, argv);
    assert_int_equal(sy_run_start(run), SY_OK);
    char buf[600], want[600];
    assert_ptr_equal(sy_run_pathf(run, buf, sizeof buf, "curve-%s-%d.txt", "syre", 3), buf);
    snprintf(want, sizeof want, "%s/flagdemo/p/curve-syre-3.txt", tmpdir);
    assert_string_equal(buf, want);
    sy_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_numbers_or),
        cmocka_unit_test(test_methods_among),
        cmocka_unit_test(test_series),
        cmocka_unit_test(test_pathf),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
