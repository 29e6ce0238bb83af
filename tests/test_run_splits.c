/* sy_run_load_balanced_splits (src/io/run_splits.c) on the suite's own
 * CIFAR-format fixture (tests/cifar_fixture.h, both formats): the first
 * n / 10 images of every class of each split, the whole split for 0 or no
 * flag, the same images as sy_dataset_load_balanced; counts that are not
 * multiples of the classes, a training set smaller than the batch and a
 * contract the data breaks are refused naming the experiment and the flags,
 * with nothing left loaded. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

#include "cifar_fixture.h"

static char tmpdir[256];

static sy_status no_run(sy_run *run)
{
    (void)run;
    return SY_OK;
}

static const sy_flag_spec demo_flags[] = {
    {"train-n", "training images", "0", SY_FLAG_INT, 0, 100000},
    {"test-n", "test images", "0", SY_FLAG_INT, 0, 100000},
    {NULL, NULL, NULL, 0, 0, 0},
};

static const sy_experiment demo = {
    .name = "splitdemo", .figure = "none", .summary = "a test", .flags = demo_flags, .run = no_run};

static const sy_data_contract want = {"splitdemo", 3, 32, 32, 10, 1};

static sy_run *parse(const char *dir, const char *train_n, const char *test_n)
{
    const char *argv[] = {"--data-dir", dir, "--train-n", train_n, "--test-n", test_n};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, 6, (char **)argv), SY_OK);
    return run;
}

static int setup(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/syre-test-splits-XXXXXX");
    if (!mkdtemp(tmpdir)) return -1;
    char root[300];
    snprintf(root, sizeof root, "%s/cifar", tmpdir);
    cifar_fixture_write(root, 6, 4); /* 60 training, 40 test images */
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_balanced_splits(void **state)
{
    (void)state;
    const char *fmt[2] = {"bin", "folder"};
    for (int f = 0; f < 2; f++) {
        char dir[400];
        snprintf(dir, sizeof dir, "%s/cifar/%s", tmpdir, fmt[f]);
        sy_run *run = parse(dir, "30", "20");
        sy_dataset *tr = NULL, *te = NULL, *ref = NULL;
        assert_int_equal(sy_run_load_balanced_splits(run, "cifar10", "train-n", "test-n", &want, 3, &tr, &te), SY_OK);
        assert_int_equal(tr->n, 30);
        assert_int_equal(te->n, 20);
        int per[10] = {0};
        for (size_t i = 0; i < tr->n; i++) per[tr->y[i]]++;
        for (int k = 0; k < 10; k++) assert_int_equal(per[k], 3);
        /* the images sy_dataset_load_balanced gives */
        assert_int_equal(sy_dataset_load_balanced(dir, "cifar10", "test", 20, &want, &ref), SY_OK);
        assert_memory_equal(te->x, ref->x, sizeof(float) * 20 * 3072);
        assert_memory_equal(te->y, ref->y, sizeof(int) * 20);
        sy_dataset_free(ref);
        sy_dataset_free(tr);
        sy_dataset_free(te);
        sy_run_free(run);
        /* 0, or no flag: the whole split */
        run = parse(dir, "0", "20");
        assert_int_equal(sy_run_load_balanced_splits(run, "cifar10", "train-n", NULL, &want, 0, &tr, &te), SY_OK);
        assert_int_equal(tr->n, 60);
        assert_int_equal(te->n, 40);
        sy_dataset_free(tr);
        sy_dataset_free(te);
        sy_run_free(run);
    }
}

static void test_refused(void **state)
{
    (void)state;
    char dir[400];
    snprintf(dir, sizeof dir, "%s/cifar/bin", tmpdir);
    sy_dataset *tr = (sy_dataset *)1, *te = (sy_dataset *)1;
    sy_run *run = parse(dir, "25", "20");
    assert_int_equal(sy_run_load_balanced_splits(run, "cifar10", "train-n", "test-n", &want, 0, &tr, &te), SY_ERR_ARG);
    assert_string_equal(sy_last_error(),
                        "splitdemo: --train-n (25) and --test-n (20) must be multiples of 10 (n/10 per class)");
    assert_null(tr);
    assert_null(te);
    sy_run_free(run);

    run = parse(dir, "30", "20");
    assert_int_equal(sy_run_load_balanced_splits(run, "cifar10", "train-n", "test-n", &want, 31, &tr, &te), SY_ERR_ARG);
    assert_string_equal(sy_last_error(), "splitdemo: --batch (31) exceeds the 30 training images");
    assert_null(tr);
    assert_null(te);
    /* a model of other images: the contract fails, nothing stays loaded */
    const sy_data_contract gray = {"splitdemo", 1, 28, 28, 10, 1};
    assert_int_not_equal(sy_run_load_balanced_splits(run, "cifar10", "train-n", "test-n", &gray, 0, &tr, &te), SY_OK);
    assert_null(tr);
    assert_null(te);
    /* without the number of classes there is no balance to keep */
    assert_int_equal(sy_run_load_balanced_splits(run, "cifar10", "train-n", "test-n", NULL, 0, &tr, &te), SY_ERR_ARG);
    sy_run_free(run);
    sy_clear_error();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balanced_splits),
        cmocka_unit_test(test_refused),
    };
    return cifar_exit_status(cmocka_run_group_tests(tests, setup, teardown));
}
