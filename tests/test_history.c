/* Histories of a comparison (syre/history.h, src/io/history.c): the mean of
 * a column's finite values over a range of rows (the sum in row order over
 * their count, bit for bit), the row-by-row mean of several histories; the
 * summary numbers read from a history (first, last, least, mean, the means
 * of the first and last `tail` rows), recorded in the order of the keys,
 * and one key per row; a set of histories that grows, names each and starts
 * it as NaN. Bad arguments are refused by name. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
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

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/syre-test-history-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static sy_status no_run(sy_run *run)
{
    (void)run;
    return SY_OK;
}

static const sy_experiment demo = {.name = "histdemo", .figure = "none", .summary = "a test", .run = no_run};

static sy_run *start_run(const char *name)
{
    const char *argv[] = {"--out", tmpdir, "--name", name};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, 4, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    return run;
}

static int same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* 5 rows x 3 columns: column 1 has a NaN and an inf, column 2 is all NaN */
static const double H[5 * 3] = {
    1, 0.1, NAN, /* */ 2, NAN, NAN, /* */ 3, 0.7, NAN, /* */ 4, INFINITY, NAN, /* */ 5, 0.3, NAN,
};

static void test_mean(void **state)
{
    (void)state;
    assert_true(same_bits(sy_history_mean(H, 3, 0, 5, 0), (1.0 + 2 + 3 + 4 + 5) / 5));
    /* the finite values only: 0.1, 0.7, 0.3 summed in row order */
    assert_true(same_bits(sy_history_mean(H, 3, 0, 5, 1), (0.1 + 0.7 + 0.3) / 3));
    assert_true(same_bits(sy_history_mean(H, 3, 1, 4, 1), 0.7));
    assert_true(isnan(sy_history_mean(H, 3, 0, 5, 2)));
    assert_true(isnan(sy_history_mean(H, 3, 2, 2, 0))); /* an empty range */

    /* three histories of 4 values averaged element by element, NaN skipped */
    const double a[4] = {1, NAN, 0.1, INFINITY}, b[4] = {2, NAN, 0.2, 1}, c[4] = {4, 5, 0.7, NAN};
    const double *const h[3] = {a, b, c};
    double out[4];
    sy_history_mean_over(out, h, 3, 4);
    assert_true(same_bits(out[0], (1.0 + 2 + 4) / 3));
    assert_true(out[1] == 5);
    assert_true(same_bits(out[2], (0.1 + 0.2 + 0.7) / 3));
    assert_true(out[3] == 1);
    sy_history_mean_over(out, h, 1, 4);
    assert_true(out[0] == 1 && isnan(out[1]) && out[2] == 0.1 && isnan(out[3]));
}

/* The position of "key" in text, failing when it is not there. */
static size_t where(const char *text, const char *key)
{
    char q[64];
    snprintf(q, sizeof q, "\"%s\"", key);
    const char *p = strstr(text, q);
    if (!p) fail_msg("no %s in the summary", q);
    return (size_t)(p - text);
}

static void test_summary(void **state)
{
    (void)state;
    sy_run *run = start_run("summary");
    const sy_history_key keys[] = {
        {"x_last", 0, SY_HIST_LAST}, {"y_first", 1, SY_HIST_FIRST}, {"y_min", 1, SY_HIST_MIN},
        {"y_mean", 1, SY_HIST_MEAN}, {"x_start", 0, SY_HIST_HEAD}, {"x_end", 0, SY_HIST_TAIL},
        {"y_end", 1, SY_HIST_TAIL},  {"z_min", 2, SY_HIST_MIN},
    };
    assert_int_equal(sy_run_summary_history(run, "m", H, 5, 3, 2, keys, 8), SY_OK);
    assert_true(sy_run_summary_value(run, "m", "x_last") == 5);
    assert_true(sy_run_summary_value(run, "m", "y_first") == 0.1);
    assert_true(sy_run_summary_value(run, "m", "y_min") == 0.1); /* NaN skipped */
    assert_true(same_bits(sy_run_summary_value(run, "m", "y_mean"), (0.1 + 0.7 + 0.3) / 3));
    assert_true(sy_run_summary_value(run, "m", "x_start") == 1.5);
    assert_true(sy_run_summary_value(run, "m", "x_end") == 4.5);
    assert_true(sy_run_summary_value(run, "m", "y_end") == 0.3); /* inf skipped */
    assert_true(isinf(sy_run_summary_value(run, "m", "z_min")));
    /* tail 0: the head and tail means have no rows */
    assert_int_equal(sy_run_summary_history(run, "n", H, 5, 3, 0, keys + 4, 2), SY_OK);
    assert_true(isnan(sy_run_summary_value(run, "n", "x_start")) && isnan(sy_run_summary_value(run, "n", "x_end")));
    /* one key per row */
    assert_int_equal(sy_run_summary_rows(run, "m", H, 5, 3, 0, "x row"), SY_OK);
    for (int t = 1; t <= 5; t++) {
        char key[32];
        snprintf(key, sizeof key, "x row %d", t);
        assert_true(sy_run_summary_value(run, "m", key) == t);
    }
    assert_true(isnan(sy_run_summary_value(run, "m", "x row 6")));

    /* refused: a tail beyond the rows, no rows, a column out of range */
    assert_int_equal(sy_run_summary_history(run, "m", H, 5, 3, 6, keys, 1), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "tail"));
    assert_int_equal(sy_run_summary_history(run, "m", H, 0, 3, 0, keys, 1), SY_ERR_ARG);
    const sy_history_key bad = {"w", 3, SY_HIST_LAST};
    assert_int_equal(sy_run_summary_history(run, "m", H, 5, 3, 1, &bad, 1), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "'w'"));
    assert_int_equal(sy_run_summary_rows(run, "m", H, 5, 3, -1, "x"), SY_ERR_ARG);
    sy_clear_error();

    /* summary.json holds the keys in the order given */
    assert_int_equal(sy_run_finish(run), SY_OK);
    char path[600];
    snprintf(path, sizeof path, "%s/histdemo/summary/summary.json", tmpdir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    char text[8192] = {0};
    assert_true(fread(text, 1, sizeof text - 1, f) > 0);
    fclose(f);
    for (int k = 1; k < 8; k++) assert_true(where(text, keys[k - 1].key) < where(text, keys[k].key));
    assert_true(where(text, "x row 1") < where(text, "x row 2"));
    sy_run_free(run);
}

static void test_set(void **state)
{
    (void)state;
    sy_histories hs = sy_histories_make(3, 2);
    assert_int_equal(hs.n, 0);
    double *h = NULL;
    for (int k = 0; k < 20; k++) { /* past the first allocation of 8 */
        assert_int_equal(sy_histories_add(&hs, &h, "%s@lr%g", k % 2 ? "syre" : "vanilla", 0.1 * k), SY_OK);
        assert_non_null(h);
        assert_ptr_equal(h, hs.h[k]);
        for (int i = 0; i < 6; i++) assert_true(isnan(h[i]));
        h[5] = k;
    }
    assert_int_equal(hs.n, 20);
    assert_string_equal(hs.name[0], "vanilla@lr0");
    assert_string_equal(hs.name[3], "syre@lr0.3");
    assert_int_equal(sy_histories_find(&hs, "syre@lr0.3"), 3);
    assert_int_equal(sy_histories_find(&hs, "syre"), -1);
    for (int k = 0; k < 20; k++) assert_true(hs.h[k][5] == k);
    sy_histories_free(&hs);
    assert_int_equal(hs.n, 0);
    assert_null(hs.h);
    assert_int_equal(sy_histories_find(&hs, "vanilla@lr0"), -1);
    /* usable again after being freed */
    assert_int_equal(sy_histories_add(&hs, &h, "again"), SY_OK);
    assert_int_equal(sy_histories_find(&hs, "again"), 0);
    sy_histories_free(&hs);
    sy_histories_free(&hs); /* twice is harmless */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mean),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_set),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
