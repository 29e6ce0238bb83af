/* Preparing a dataset (src/data/prepare.c). sy_dataset_load_balanced on a
 * CIFAR-10 the test writes in both formats (tests/cifar_fixture.h): a
 * subset keeps the first n / 10 images of each class, the same images with
 * the same labels from the official binaries and from the image folder
 * (which decodes only those); n = 0 keeps all. sy_dataset_standardize: the
 * training set's channels get mean 0 and std 1, the test set is mapped by
 * the training set's statistics, not its own; too many channels are
 * refused. (Never skipped: the fixture needs no real data.) */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

#include "syre/syre.h"

#include "cifar_fixture.h"

static void test_balanced_both_formats(void **state)
{
    (void)state;
    char root[] = "/tmp/syre-balanced-XXXXXX", dir[300];
    assert_non_null(mkdtemp(root));
    cifar_fixture_write(root, 4, 2);
    sy_dataset *d[2] = {NULL, NULL}, *all = NULL;
    const char *fmt[2] = {"bin", "folder"};
    for (int k = 0; k < 2; k++) {
        snprintf(dir, sizeof dir, "%s/%s", root, fmt[k]);
        assert_int_equal(sy_dataset_load_balanced(dir, "cifar10", "train", 20, NULL, &d[k]), SY_OK);
        assert_int_equal(d[k]->n, 20);
        for (size_t i = 0; i < 20; i++) assert_int_equal(d[k]->y[i], (int)(i / 2)); /* 2 of each class */
    }
    assert_memory_equal(d[0]->x, d[1]->x, 20 * 3072 * sizeof(float));
    /* the first two of each class: image 1 of class 3 is sample 3 * 4 + 1 of the whole set */
    snprintf(dir, sizeof dir, "%s/bin", root);
    assert_int_equal(sy_dataset_load_balanced(dir, "cifar10", "train", 0, NULL, &all), SY_OK);
    assert_int_equal(all->n, 40);
    assert_memory_equal(d[0]->x + 7 * 3072, all->x + 13 * 3072, 3072 * sizeof(float));
    sy_dataset_free(all);
    for (int k = 0; k < 2; k++) sy_dataset_free(d[k]);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    assert_int_equal(system(cmd), 0);
}

static void test_standardize(void **state)
{
    (void)state;
    sy_dataset *tr = NULL, *te = NULL, *wide = NULL;
    assert_int_equal(sy_dataset_new(4, sy_shape_of(3, 2, 1, 2), 2, 0, "tr", &tr), SY_OK);
    assert_int_equal(sy_dataset_new(1, sy_shape_of(3, 2, 1, 2), 2, 0, "te", &te), SY_OK);
    /* channel 0: 1..8 (mean 4.5), channel 1: 10 x that (mean 45) */
    for (int i = 0; i < 4; i++)
        for (int k = 0; k < 2; k++) {
            tr->x[i * 4 + k] = (float)(2 * i + k + 1);
            tr->x[i * 4 + 2 + k] = 10.0f * (float)(2 * i + k + 1);
        }
    for (int k = 0; k < 4; k++) te->x[k] = k < 2 ? 4.5f : 45.0f; /* the training means */
    assert_int_equal(sy_dataset_standardize(tr, te), SY_OK);
    for (int c = 0; c < 2; c++) {
        double m = 0, v = 0;
        for (int i = 0; i < 4; i++)
            for (int k = 0; k < 2; k++) m += tr->x[i * 4 + c * 2 + k] / 8.0;
        for (int i = 0; i < 4; i++)
            for (int k = 0; k < 2; k++) v += pow(tr->x[i * 4 + c * 2 + k] - m, 2) / 8.0;
        assert_true(fabs(m) < 1e-6 && fabs(v - 1) < 1e-5);
    }
    for (int k = 0; k < 4; k++) assert_true(fabsf(te->x[k]) < 1e-6f);
    assert_int_equal(sy_dataset_new(1, sy_shape_of(3, SY_STANDARDIZE_MAX_CHANNELS + 1, 1, 1), 2, 0, "w", &wide), SY_OK);
    assert_int_equal(sy_dataset_standardize(wide, NULL), SY_ERR_SHAPE);
    sy_clear_error();
    sy_dataset_free(tr);
    sy_dataset_free(te);
    sy_dataset_free(wide);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balanced_both_formats),
        cmocka_unit_test(test_standardize),
    };
    return cifar_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
