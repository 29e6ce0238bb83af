/* sy_outside_span_share: a column inside B's span has no share outside, one
 * orthogonal to it all of it, a mix its exact part; dependent columns of B
 * add nothing; bad input is refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "syre/syre.h"

static void test_shares(void **state)
{
    (void)state;
    /* B [3, 2]: e1 + e2 and 2 (e1 + e2) (dependent), so its span is the line e1 + e2 */
    const float B[6] = {1, 2, 1, 2, 0, 0};
    const float inside[3] = {3, 3, 0}, ortho[3] = {1, -1, 5}, zero[3] = {0, 0, 0};
    double sh = -1;
    assert_int_equal(sy_outside_span_share(B, 2, inside, 1, 3, &sh), SY_OK);
    assert_true(sh < 1e-12);
    assert_int_equal(sy_outside_span_share(B, 2, ortho, 1, 3, &sh), SY_OK);
    assert_true(fabs(sh - 1) < 1e-12);
    assert_int_equal(sy_outside_span_share(B, 2, zero, 1, 3, &sh), SY_OK);
    assert_true(sh == 0);
    /* X [3, 2] = [inside, ortho]: |outside|^2 = 27, |X|^2 = 18 + 27 */
    const float X[6] = {3, 1, 3, -1, 0, 5};
    assert_int_equal(sy_outside_span_share(B, 2, X, 2, 3, &sh), SY_OK);
    assert_true(fabs(sh - sqrt(27.0 / 45.0)) < 1e-12);
}

static void test_bad_input(void **state)
{
    (void)state;
    const float B[2] = {1, NAN}, X[2] = {1, 1};
    double sh = 7;
    assert_int_equal(sy_outside_span_share(B, 1, X, 1, 2, &sh), SY_ERR_NUMERIC);
    assert_int_equal(sy_outside_span_share(NULL, 1, X, 1, 2, &sh), SY_ERR_ARG);
    assert_int_equal(sy_outside_span_share(B, 0, X, 1, 2, &sh), SY_ERR_ARG);
    assert_true(sh == 7); /* untouched on failure */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shares),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
