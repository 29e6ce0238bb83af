/* sy_dataset_load_balanced on a CIFAR-10 the test writes in both formats
 * (tests/cifar_fixture.h): a subset keeps the first n / 10 images of each
 * class, the same images with the same labels from the official binaries
 * and from the image folder (which decodes only those); n = 0 keeps all.
 * (Never skipped: the fixture needs no real data.) */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_balanced_both_formats),
    };
    return cifar_exit_status(cmocka_run_group_tests(tests, NULL, NULL));
}
