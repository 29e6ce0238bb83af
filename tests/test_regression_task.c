/* sy_regression_new: the teacher, training set and test set are those of
 * sy_synth_sparse_teacher and sy_synth_linear (sub-streams 1 and 2), the
 * training inputs a dataset the batcher draws from; sy_regression_targets
 * follows the batcher's indices; bad sizes are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "syre/core.h"
#include "syre/data.h"

static void test_task_matches_generators(void **state)
{
    (void)state;
    enum { D = 7, K = 3, N = 11, NT = 5 };
    sy_regression *r = NULL;
    assert_int_equal(sy_regression_new(D, K, N, NT, 0.1f, 42, &r), SY_OK);
    assert_non_null(r);
    float w[D], x[N * D], y[N], xt[NT * D], yt[NT];
    assert_int_equal(sy_synth_sparse_teacher(D, K, 42, w), SY_OK);
    assert_int_equal(sy_synth_linear(w, D, N, 0.1f, 42, 1, x, y), SY_OK);
    assert_int_equal(sy_synth_linear(w, D, NT, 0.1f, 42, 2, xt, yt), SY_OK);
    assert_memory_equal(r->w, w, sizeof w);
    assert_memory_equal(r->train->x, x, sizeof x);
    assert_memory_equal(r->y, y, sizeof y);
    assert_memory_equal(r->x_test, xt, sizeof xt);
    assert_memory_equal(r->y_test, yt, sizeof yt);
    assert_int_equal(r->train->n, N);
    assert_int_equal(sy_dataset_numel(r->train), D);
    int nonzero = 0;
    for (int i = 0; i < D; i++)
        nonzero += r->w[i] != 0.0f;
    assert_int_equal(nonzero, K);

    /* a shuffled batch: inputs from the batcher, targets by the same indices */
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = 4, bo.drop_last = 1, bo.seed = 9;
    sy_batcher *b = NULL;
    assert_int_equal(sy_batcher_new(r->train, bo, &b), SY_OK);
    sy_batcher_epoch(b, 3);
    float bx[4 * D], by[4];
    for (int k = 0; k < 2; k++) {
        size_t n = sy_batcher_next(b, bx, NULL);
        assert_int_equal(n, 4);
        sy_regression_targets(r, b, n, by);
        for (size_t j = 0; j < n; j++) {
            int i = sy_batcher_indices(b)[j];
            assert_true(by[j] == y[i]);
            assert_memory_equal(bx + j * D, x + (size_t)i * D, sizeof(float) * D);
        }
    }
    sy_batcher_free(b);
    sy_regression_free(r);
    sy_regression_free(NULL);
}

static void test_bad_sizes(void **state)
{
    (void)state;
    sy_regression *r = (sy_regression *)&r;
    assert_int_equal(sy_regression_new(5, 6, 10, 10, 0.1f, 1, &r), SY_ERR_ARG);
    assert_null(r);
    assert_int_equal(sy_regression_new(5, 2, 0, 10, 0.1f, 1, &r), SY_ERR_ARG);
    assert_int_equal(sy_regression_new(0, 0, 10, 10, 0.1f, 1, &r), SY_ERR_ARG);
    /* no test set is allowed */
    assert_int_equal(sy_regression_new(3, 1, 4, 0, 0.0f, 1, &r), SY_OK);
    sy_regression_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_task_matches_generators),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
