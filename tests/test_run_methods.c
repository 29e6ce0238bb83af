/* sy_run_methods_among (src/io/run_methods.c): the methods of --method when
 * the experiment runs each of them, in their order; otherwise SY_ERR_ARG
 * naming the experiment, the method and the ones it runs. Names are matched
 * whole ("syre" does not allow "syre-ar"), with or without spaces after the
 * commas. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "syre/syre.h"

static sy_status no_run(sy_run *run)
{
    (void)run;
    return SY_OK;
}

static const sy_flag_spec flags[] = {
    {"method", NULL, "vanilla,syre", SY_FLAG_METHODS, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

static const sy_experiment demo = {.name = "methdemo", .figure = "none", .summary = "a test", .flags = flags,
                                   .run = no_run};

static sy_run *parse(const char *methods)
{
    const char *argv[] = {"--method", methods};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, methods ? 2 : 0, (char **)argv), SY_OK);
    return run;
}

static void test_allowed(void **state)
{
    (void)state;
    const char *const *m = NULL;
    int n = 0;
    sy_run *run = parse(NULL); /* the default: vanilla, syre */
    assert_int_equal(sy_run_methods_among(run, "none, vanilla, syre, syre-ar", &m, &n), SY_OK);
    assert_int_equal(n, 2);
    assert_string_equal(m[0], "vanilla");
    assert_string_equal(m[1], "syre");
    assert_int_equal(sy_run_methods_among(run, "syre,vanilla", &m, &n), SY_OK); /* no spaces */
    sy_run_free(run);

    run = parse("syre-ar,l2init");
    assert_int_equal(sy_run_methods_among(run, "vanilla, syre-ar ,l2init", &m, &n), SY_OK);
    assert_int_equal(n, 2);
    assert_string_equal(m[1], "l2init");
    sy_run_free(run);
}

static void test_refused(void **state)
{
    (void)state;
    const char *const *m = NULL;
    int n = 0;
    sy_run *run = parse("vanilla,wfix");
    assert_int_equal(sy_run_methods_among(run, "vanilla, syre, none", &m, &n), SY_ERR_ARG);
    const char *msg = sy_last_error();
    if (!strstr(msg, "methdemo: --method wfix is not supported here (vanilla, syre, none)"))
        fail_msg("message: %s", msg);
    sy_run_free(run);

    /* a name is matched whole: syre does not allow syre-ar, nor syre-ar syre */
    run = parse("syre-ar");
    assert_int_equal(sy_run_methods_among(run, "vanilla, syre", &m, &n), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "--method syre-ar"));
    sy_run_free(run);
    run = parse("syre");
    assert_int_equal(sy_run_methods_among(run, "syre-ar, none", &m, &n), SY_ERR_ARG);
    assert_int_equal(sy_run_methods_among(run, "", &m, &n), SY_ERR_ARG);
    sy_run_free(run);
    sy_clear_error();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_allowed),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
