/* sy_spectrum_degeneracy: flat eigenvalues counted against the largest
 * magnitude, the largest multiplet found in any order, a spectrum with all
 * values apart, and bad input refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>

#include "syre/syre.h"

static void test_flat_and_multiplet(void **state)
{
    (void)state;
    /* two zeros (one a round-off -1e-9), a triplet at 0.05 within 1e-6, a pair at 2, the top 10 */
    const double eig[] = {0.05, 2, 1e-12, 10, 0.0500005, -1e-9, 2.0000001, 0.0499998, 3};
    int flat = -1, mult = -1;
    assert_int_equal(sy_spectrum_degeneracy(eig, 9, 1e-6, &flat, &mult), SY_OK);
    assert_int_equal(flat, 2);
    assert_int_equal(mult, 3);
    /* a tighter tolerance (1e-9 * 10) splits the triplet (gaps 2e-7, 5e-7) and the pair (1e-7) */
    assert_int_equal(sy_spectrum_degeneracy(eig, 9, 1e-9, &flat, &mult), SY_OK);
    assert_int_equal(flat, 2);
    assert_int_equal(mult, 1);
}

static void test_all_apart_and_all_flat(void **state)
{
    (void)state;
    const double apart[] = {1, 2, 3, -4};
    int flat = -1, mult = -1;
    assert_int_equal(sy_spectrum_degeneracy(apart, 4, 1e-3, &flat, &mult), SY_OK);
    assert_int_equal(flat, 0);
    assert_int_equal(mult, 1);
    const double zeros[] = {0, 0, 0};
    assert_int_equal(sy_spectrum_degeneracy(zeros, 3, 1e-3, &flat, &mult), SY_OK);
    assert_int_equal(flat, 3);
    assert_int_equal(mult, 0);
}

static void test_bad_input(void **state)
{
    (void)state;
    const double eig[] = {1, NAN};
    int flat = 7, mult = 7;
    assert_int_equal(sy_spectrum_degeneracy(eig, 2, 1e-3, &flat, &mult), SY_ERR_NUMERIC);
    assert_int_equal(sy_spectrum_degeneracy(eig, 0, 1e-3, &flat, &mult), SY_ERR_ARG);
    assert_int_equal(sy_spectrum_degeneracy(eig, 1, -1, &flat, &mult), SY_ERR_ARG);
    assert_int_equal(sy_spectrum_degeneracy(NULL, 1, 1e-3, &flat, &mult), SY_ERR_ARG);
    assert_int_equal(flat, 7); /* untouched on failure */
    assert_int_equal(mult, 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flat_and_multiplet),
        cmocka_unit_test(test_all_apart_and_all_flat),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
