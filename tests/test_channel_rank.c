/* sy_channel_cov_rank: the rank of the channel covariance of an NCHW
 * convolution output, every (image, position) a sample of the C channels.
 * Built with known rank: channel 2 = channel 0 + channel 1 and channel 3
 * constant give rank 2 of 4; the layout matters (the same numbers read as
 * [n, HW, C] give another rank); too few samples are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>

#include "syre/syre.h"

enum { N = 6, C = 4, HW = 5 };

static float val(int i, int p, int k) { return (float)(((i * 7 + p * 3 + k * 5) % 11) - 5) * 0.5f; }

static void test_channel_rank(void **state)
{
    (void)state;
    float X[N * C * HW];
    for (int i = 0; i < N; i++)
        for (int p = 0; p < HW; p++) {
            float *x = X + (size_t)i * C * HW;
            x[0 * HW + p] = val(i, p, 0);
            x[1 * HW + p] = val(i, p, 1);
            x[2 * HW + p] = x[0 * HW + p] + x[1 * HW + p];
            x[3 * HW + p] = 2.0f;
        }
    int r = -1;
    assert_int_equal(sy_channel_cov_rank(X, N, C, HW, SY_COV_RANK_THR, &r), SY_OK);
    assert_int_equal(r, 2);
    /* the same buffer as 30 samples of 4 features in [n * HW, C] order is another matrix */
    int r2 = -1;
    assert_int_equal(sy_cov_rank(X, N * HW, C, SY_COV_RANK_THR, &r2), SY_OK);
    assert_true(r2 != 2);
    /* full rank when all four channels vary independently */
    for (int i = 0; i < N; i++)
        for (int p = 0; p < HW; p++) {
            X[((size_t)i * C + 2) * HW + p] = val(i, p, 2) * val(i, p, 3);
            X[((size_t)i * C + 3) * HW + p] = (float)((i * HW + p) % 4);
        }
    assert_int_equal(sy_channel_cov_rank(X, N, C, HW, SY_COV_RANK_THR, &r), SY_OK);
    assert_int_equal(r, 4);
    assert_int_equal(sy_channel_cov_rank(X, 1, C, 1, SY_COV_RANK_THR, &r), SY_ERR_ARG);
    sy_clear_error();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_channel_rank),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
