/* An experiment's data in one call each (src/data/experiment_data.c): both
 * splits of a dataset cut to the samples asked for (the same samples as
 * sy_dataset_load_n), a split holding fewer refused by name with both
 * counts and nothing left allocated; and full shuffled batches, the same as
 * sy_batcher_new with drop_last and the seed. Needs MNIST (scripts/setup.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

static void test_splits(void **state)
{
    (void)state;
    const char *dir = sy_data_dir(NULL);
    const sy_data_contract want = {"splittest", 1, 28, 28, 10, 1};
    sy_dataset *train = NULL, *test = NULL, *ref = NULL;
    sy_status s = sy_dataset_load_splits(dir, "mnist", 300, 0, &want, &train, &test);
    if (s != SY_OK) fail_msg("MNIST under %s: %s (scripts/setup.sh installs it)", dir, sy_last_error());
    assert_int_equal(train->n, 300);
    assert_int_equal(test->n, 10000); /* 0: the whole split */
    assert_int_equal(sy_dataset_load_n(dir, "mnist", "train", 300, 0, &want, &ref), SY_OK);
    assert_memory_equal(train->x, ref->x, sizeof(float) * 300 * 784);
    assert_memory_equal(train->y, ref->y, sizeof(int) * 300);
    sy_dataset_free(ref);
    sy_dataset_free(train);
    sy_dataset_free(test);

    assert_int_equal(sy_dataset_load_splits(dir, "mnist", 0, 2000, &want, &train, &test), SY_OK);
    assert_int_equal(train->n, 60000);
    assert_int_equal(test->n, 2000);
    sy_dataset_free(train);
    sy_dataset_free(test);

    /* more than a split holds: refused, naming the user, the split and both counts; nothing kept */
    train = test = (sy_dataset *)0x1;
    assert_int_equal(sy_dataset_load_splits(dir, "mnist", 100, 20000, &want, &train, &test), SY_ERR_ARG);
    assert_null(train);
    assert_null(test);
    const char *msg = sy_last_error();
    if (!strstr(msg, "splittest") || !strstr(msg, "20000") || !strstr(msg, "test") || !strstr(msg, "10000"))
        fail_msg("message '%s' does not name the user, the split and both counts", msg);
    train = test = (sy_dataset *)0x1;
    assert_int_equal(sy_dataset_load_splits(dir, "mnist", 70000, 10, &want, &train, &test), SY_ERR_ARG);
    assert_null(train);
    assert_null(test);
    /* the contract is checked */
    const sy_data_contract cifar = {"splittest", 3, 32, 32, 10, 1};
    assert_int_not_equal(sy_dataset_load_splits(dir, "mnist", 10, 10, &cifar, &train, &test), SY_OK);
    assert_null(train);
    assert_null(test);
}

static void test_full_batches(void **state)
{
    (void)state;
    sy_dataset *d;
    assert_int_equal(sy_dataset_new(10, sy_shape_of(1, 2), 2, 0, "toy", &d), SY_OK);
    for (int i = 0; i < 20; i++) d->x[i] = (float)i;
    sy_batcher *a, *b;
    assert_int_equal(sy_batcher_new_full(d, 4, 9, &a), SY_OK);
    sy_batcher_opts o = sy_batcher_opts_default();
    o.batch = 4, o.drop_last = 1, o.seed = 9;
    assert_int_equal(sy_batcher_new(d, o, &b), SY_OK);
    assert_int_equal(sy_batcher_num_batches(a), 2); /* 10 samples: two full batches, the short one dropped */
    float xa[8], xb[8], ya[4], yb[4];
    for (uint64_t e = 0; e < 3; e++) {
        sy_batcher_epoch(a, e);
        sy_batcher_epoch(b, e);
        size_t na, nb;
        while ((na = sy_batcher_next(a, xa, ya)) > 0) {
            nb = sy_batcher_next(b, xb, yb);
            assert_int_equal(na, 4);
            assert_int_equal(na, nb);
            assert_memory_equal(xa, xb, sizeof xa);
        }
        assert_int_equal(sy_batcher_next(b, xb, yb), 0);
    }
    sy_batcher_free(a);
    sy_batcher_free(b);
    sy_dataset_free(d);
    assert_int_equal(sy_batcher_new_full(NULL, 4, 9, &a), SY_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_splits),
        cmocka_unit_test(test_full_batches),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
