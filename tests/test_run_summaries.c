/* Tests of a run's choices and summaries in one call (src/io/run_choice.c,
 * run_summaries.c): sy_run_get_choice gives a name's position and refuses any
 * other value naming the experiment, the flag, the choices and the value;
 * sy_run_summaries and sy_run_summaryf record exactly what the same
 * sy_run_summary calls record (values, and the table's row order), and stop
 * at a key too long to format. */
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

static const sy_flag_spec demo_flags[] = {
    {"solver", "gd or closed", "gd", SY_FLAG_STRING, 0, 0},
    {"shape", "one of three", "square", SY_FLAG_STRING, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

static sy_status demo_run(sy_run *run)
{
    (void)run;
    return SY_OK;
}

static const sy_experiment demo = {.name = "choicedemo", .figure = "none", .summary = "a test", .flags = demo_flags,
                                   .run = demo_run};

static sy_run *parse(int argc, const char **argv)
{
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, argc, (char **)argv), SY_OK);
    return run;
}

static void test_choice(void **state)
{
    (void)state;
    const char *const solvers[2] = {"closed", "gd"}, *const shapes[3] = {"round", "square", "flat"};
    sy_run *run = parse(0, NULL);
    int i = -1;
    assert_int_equal(sy_run_get_choice(run, "solver", 2, solvers, &i), SY_OK); /* the default */
    assert_int_equal(i, 1);
    assert_int_equal(sy_run_get_choice(run, "shape", 3, shapes, &i), SY_OK);
    assert_int_equal(i, 1);
    sy_run_free(run);

    const char *given[] = {"--solver", "closed", "--shape=flat"};
    run = parse(3, given);
    assert_int_equal(sy_run_get_choice(run, "solver", 2, solvers, &i), SY_OK);
    assert_int_equal(i, 0);
    assert_int_equal(sy_run_get_choice(run, "shape", 3, shapes, &i), SY_OK);
    assert_int_equal(i, 2);
    sy_run_free(run);

    /* another value: refused, *index untouched, one message naming all of it */
    const char *bad[] = {"--solver", "sgd", "--shape", "Round"};
    run = parse(4, bad);
    i = 7;
    assert_int_equal(sy_run_get_choice(run, "solver", 2, solvers, &i), SY_ERR_ARG);
    assert_int_equal(i, 7);
    assert_string_equal(sy_last_error(), "choicedemo: --solver must be 'closed' or 'gd', got 'sgd'");
    assert_int_equal(sy_run_get_choice(run, "shape", 3, shapes, &i), SY_ERR_ARG); /* case matters */
    assert_string_equal(sy_last_error(), "choicedemo: --shape must be 'round', 'square' or 'flat', got 'Round'");
    sy_run_free(run);
}

/* The side-by-side table of a run, as text. */
static char *table_of(const sy_run *run)
{
    FILE *f = tmpfile();
    assert_non_null(f);
    sy_run_print_table(run, f);
    long n = ftell(f);
    rewind(f);
    char *t = calloc((size_t)n + 1, 1);
    assert_non_null(t);
    assert_int_equal(fread(t, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    return t;
}

static void test_summaries(void **state)
{
    (void)state;
    const char *keys[3] = {"train_loss", "test_loss", "dead_units"};
    const double v[3] = {0.25, 0.5, 3}, w[3] = {0.125, NAN, 0};
    sy_run *a = parse(0, NULL), *b = parse(0, NULL);
    /* in one call each */
    assert_int_equal(sy_run_summaries(a, "vanilla", 3, keys, v), SY_OK);
    assert_int_equal(sy_run_summaries(a, "syre", 3, keys, w), SY_OK);
    for (int k = 0; k < 4; k++)
        assert_int_equal(sy_run_summaryf(a, k % 2 ? "syre" : "vanilla", k * 0.5, "dead_units gamma=%g", k * 0.1),
                         SY_OK);
    assert_int_equal(sy_run_summaries(a, "syre", 0, NULL, NULL), SY_OK); /* nothing to record */
    /* and one sy_run_summary at a time */
    for (int k = 0; k < 3; k++) assert_int_equal(sy_run_summary(b, "vanilla", keys[k], v[k]), SY_OK);
    for (int k = 0; k < 3; k++) assert_int_equal(sy_run_summary(b, "syre", keys[k], w[k]), SY_OK);
    const char *gk[4] = {"dead_units gamma=0", "dead_units gamma=0.1", "dead_units gamma=0.2", "dead_units gamma=0.3"};
    for (int k = 0; k < 4; k++) assert_int_equal(sy_run_summary(b, k % 2 ? "syre" : "vanilla", gk[k], k * 0.5), SY_OK);

    assert_true(sy_run_summary_value(a, "vanilla", "test_loss") == 0.5);
    assert_true(isnan(sy_run_summary_value(a, "syre", "test_loss")));
    assert_true(sy_run_summary_value(a, "syre", "dead_units gamma=0.3") == 1.5);
    assert_true(isnan(sy_run_summary_value(a, "syre", "dead_units gamma=0.2"))); /* vanilla's */
    char *ta = table_of(a), *tb = table_of(b);
    assert_string_equal(ta, tb);
    free(ta);
    free(tb);

    /* setting a key again replaces it, as sy_run_summary does */
    assert_int_equal(sy_run_summaryf(a, "vanilla", 9, "dead_units gamma=%g", 0.0), SY_OK);
    assert_true(sy_run_summary_value(a, "vanilla", "dead_units gamma=0") == 9);

    /* a key too long: refused, nothing recorded */
    char longkey[1100];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    assert_int_equal(sy_run_summaryf(a, "syre", 1, "%s", longkey), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "syre"));
    longkey[1023] = '\0';
    assert_true(isnan(sy_run_summary_value(a, "syre", longkey)));
    sy_run_free(a);
    sy_run_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choice),
        cmocka_unit_test(test_summaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
