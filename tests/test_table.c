/* sy_table_save / sy_table_load: a table of doubles written as text reads
 * back bit for bit (NaN, tiny and huge values included), in the layout the
 * continual experiment's histories have always had ("%.17g " per value, one
 * row a line); a short file or a missing one is refused by name. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syre/syre.h"

static void test_table_roundtrip(void **state)
{
    (void)state;
    char dir[] = "/tmp/syre-table-XXXXXX", path[200];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/history-x.txt", dir);
    const double v[6] = {0.1, -1.0 / 3.0, NAN, 1e-300, 6.02214076e23, 320};
    assert_int_equal(sy_table_save(path, 2, 3, v), SY_OK);
    char text[256] = {0};
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    assert_true(len > 0);
    assert_string_equal(text, "0.10000000000000001 -0.33333333333333331 nan \n"
                              "1e-300 6.0221407599999999e+23 320 \n");
    double w[6];
    assert_int_equal(sy_table_load(path, 2, 3, w), SY_OK);
    for (int i = 0; i < 6; i++) {
        if (isnan(v[i]))
            assert_true(isnan(w[i]));
        else
            assert_memory_equal(&v[i], &w[i], sizeof(double));
    }
    /* the first row alone; a third row is not there */
    double u[3];
    assert_int_equal(sy_table_load(path, 1, 3, u), SY_OK);
    assert_true(u[0] == 0.1);
    double z[9];
    assert_int_equal(sy_table_load(path, 3, 3, z), SY_ERR_FORMAT);
    assert_non_null(strstr(sy_last_error(), "before row 3"));
    unlink(path);
    assert_int_equal(sy_table_load(path, 1, 3, u), SY_ERR_IO);
    assert_non_null(strstr(sy_last_error(), path));
    sy_clear_error();
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table_roundtrip),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
