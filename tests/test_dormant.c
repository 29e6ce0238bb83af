/* The dormant-unit ratio (sy_dormant_ratio, src/metrics/dormant.c): ReDo's
 * score (a unit's mean |activation| over the layer's mean of it) against
 * tau = 0 and 0.1, per unit of a linear layer and per channel of a
 * convolution's output; a silent layer all dormant; bad input refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "syre/syre.h"

/* 2 samples x 3 channels x 2 positions: channel 0 |x| = 1 (signs mixed),
 * channel 1 0.02 (score 0.02 / 0.34 = 0.059), channel 2 silent. */
static void test_channels(void **state)
{
    (void)state;
    const float X[12] = {1, -1, 0.02f, -0.02f, 0, 0, -1, 1, 0.02f, 0.02f, 0, 0};
    unsigned char d[3];
    double r = -1;
    assert_int_equal(sy_dormant_ratio(X, 2, 3, 2, 0.0, &r, d), SY_OK);
    assert_true(r == 1.0 / 3);
    assert_int_equal(d[0], 0), assert_int_equal(d[1], 0), assert_int_equal(d[2], 1);
    assert_int_equal(sy_dormant_ratio(X, 2, 3, 2, 0.1, &r, d), SY_OK);
    assert_true(r == 2.0 / 3);
    assert_int_equal(d[1], 1);
    assert_int_equal(sy_dormant_ratio(X, 2, 3, 2, 0.05, &r, NULL), SY_OK); /* 0.059 > 0.05 */
    assert_true(r == 1.0 / 3);
    /* the same numbers as 6 linear units (hw 1): units 4 and 5 silent */
    assert_int_equal(sy_dormant_ratio(X, 2, 6, 1, 0.0, &r, NULL), SY_OK);
    assert_true(r == 2.0 / 6);
}

static void test_silent_and_bad(void **state)
{
    (void)state;
    float Z[8] = {0};
    double r = -1;
    assert_int_equal(sy_dormant_ratio(Z, 2, 4, 1, 0.0, &r, NULL), SY_OK);
    assert_true(r == 1.0);
    Z[3] = NAN;
    assert_int_equal(sy_dormant_ratio(Z, 2, 4, 1, 0.1, &r, NULL), SY_ERR_NUMERIC);
    assert_non_null(strstr(sy_last_error(), "X[0, 3]"));
    assert_true(r == 1.0); /* untouched on failure */
    assert_int_equal(sy_dormant_ratio(Z, 2, 0, 1, 0.1, &r, NULL), SY_ERR_ARG);
    assert_int_equal(sy_dormant_ratio(Z, 2, 4, 1, -0.1, &r, NULL), SY_ERR_ARG);
    assert_int_equal(sy_dormant_ratio(NULL, 2, 4, 1, 0.1, &r, NULL), SY_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_channels), cmocka_unit_test(test_silent_and_bad)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
