/* Flags naming things from a set and a method's measured metrics at once
 * (src/io/run_choice_list.c, src/io/run_methods.c,
 * src/io/run_summaries_measured.c): a word list read as a mask whatever its
 * order, an empty list, a bad or empty word refused with the experiment,
 * the flag and the choices named; the methods checked against those an
 * experiment supports; summaries written in order with the NaN (unmeasured)
 * ones left out. */
#define _POSIX_C_SOURCE 200809L /* fmemopen */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "syre/syre.h"

static sy_status no_run(sy_run *run)
{
    (void)run;
    return SY_OK;
}

static const sy_flag_spec demo_flags[] = {
    {"scope", "where: head, all (comma-separated)", "head,all", SY_FLAG_STRING, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

static const sy_experiment demo = {
    .name = "choicedemo", .figure = "none", .summary = "a test", .flags = demo_flags, .run = no_run};

static sy_run *parse(int argc, const char **argv)
{
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, argc, (char **)argv), SY_OK);
    return run;
}

static void test_choice_list(void **state)
{
    (void)state;
    const struct {
        const char *value;
        sy_status want;
        unsigned mask;
    } cases[] = {
        {"head,all", SY_OK, 3}, {"all,head", SY_OK, 3}, {"all", SY_OK, 2},     {"head", SY_OK, 1},
        {"", SY_OK, 0},         {"head,", SY_OK, 1},    {"hea", SY_ERR_ARG, 0}, {"head,,all", SY_ERR_ARG, 0},
        {",all", SY_ERR_ARG, 0}, {"all,tail", SY_ERR_ARG, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *argv[] = {"--scope", cases[i].value};
        sy_run *run = parse(2, argv);
        unsigned mask = 99;
        assert_int_equal(sy_run_get_choice_list(run, "scope", "head,all", &mask), cases[i].want);
        if (cases[i].want == SY_OK) {
            assert_int_equal(mask, cases[i].mask);
        } else {
            const char *e = sy_last_error();
            assert_non_null(strstr(e, "choicedemo: --scope takes head, all (comma-separated)"));
            assert_non_null(strstr(e, cases[i].value));
        }
        sy_run_free(run);
    }
    /* the default, and a choice past the first two */
    sy_run *run = parse(0, NULL);
    unsigned mask = 0;
    assert_int_equal(sy_run_get_choice_list(run, "scope", "tail,all,x,head", &mask), SY_OK);
    assert_int_equal(mask, (1u << 3) | (1u << 1));
    sy_run_free(run);
    sy_clear_error();
}

static void test_methods_among(void **state)
{
    (void)state;
    const char *argv[] = {"--method", "syre,none"};
    sy_run *run = parse(2, argv);
    const char *const *m = NULL;
    int n = -1;
    assert_int_equal(sy_run_methods_among(run, "vanilla,syre,none", &m, &n), SY_OK);
    assert_int_equal(n, 2);
    assert_string_equal(m[0], "syre");
    assert_string_equal(m[1], "none");
    /* one not supported: refused by name, listing those that are */
    assert_int_equal(sy_run_methods_among(run, "vanilla, syre", &m, &n), SY_ERR_ARG);
    assert_string_equal(sy_last_error(), "choicedemo: --method none is not supported here (vanilla, syre)");
    /* spaces around the allowed names do not matter */
    assert_int_equal(sy_run_methods_among(run, " none , syre", &m, &n), SY_OK);
    assert_int_equal(n, 2);
    /* a prefix of an allowed name is not that name */
    assert_int_equal(sy_run_methods_among(run, "vanilla,syre-ar,none", &m, &n), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "--method syre is not supported"));
    sy_run_free(run);
    sy_clear_error();
}

static void test_summaries(void **state)
{
    (void)state;
    sy_run *run = parse(0, NULL);
    const char *keys[4] = {"acc", "loss", "rank", "steps"};
    const double vals[4] = {0.5, NAN, 3, 0};
    assert_int_equal(sy_run_summaries_measured(run, "syre", 4, keys, vals), SY_OK);
    assert_true(sy_run_summary_value(run, "syre", "acc") == 0.5);
    assert_true(isnan(sy_run_summary_value(run, "syre", "loss"))); /* left out: not recorded */
    assert_true(sy_run_summary_value(run, "syre", "rank") == 3);
    assert_true(sy_run_summary_value(run, "syre", "steps") == 0);
    /* left out, not overwritten: a value recorded before stays */
    assert_int_equal(sy_run_summary(run, "vanilla", "loss", 2), SY_OK);
    assert_int_equal(sy_run_summaries_measured(run, "vanilla", 2, keys, vals), SY_OK);
    assert_true(sy_run_summary_value(run, "vanilla", "loss") == 2);
    assert_true(sy_run_summary_value(run, "vanilla", "acc") == 0.5);
    /* the table lists the metrics in the order first given */
    char buf[2048] = {0};
    FILE *f = fmemopen(buf, sizeof buf - 1, "w");
    assert_non_null(f);
    sy_run_print_table(run, f);
    fclose(f);
    const char *acc = strstr(buf, "acc"), *rank = strstr(buf, "rank"), *loss = strstr(buf, "loss");
    assert_non_null(acc);
    assert_non_null(rank);
    assert_non_null(loss);
    assert_true(acc < rank);
    assert_true(rank < loss); /* "loss" first came with vanilla, after syre's rank */
    sy_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_choice_list),
        cmocka_unit_test(test_methods_among),
        cmocka_unit_test(test_summaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
