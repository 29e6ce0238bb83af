/* Identical units (sy_units_make_copies, sy_units_copy_spread: the
 * low-capacity start of paper Sec. 3) and the margin of the dead state
 * (sy_dead_units_margin) against hand-built layers, and curve
 * files (sy_curve_write, sy_curve_read): exact text, bitwise round trip, the
 * cut at a checkpoint's iteration, a missing file. */
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

#include "syre/core.h"
#include "syre/format.h"
#include "syre/metrics.h"

/* f = 4 units, in = 3, out = 2; entry values tell their place. */
static void layer(float *W_in, float *b, float *W_out)
{
    for (int i = 0; i < 4; i++) {
        for (int j = 0; j < 3; j++)
            W_in[i * 3 + j] = (float)(10 * i + j + 1);
        b[i] = (float)(-i - 1);
    }
    for (int o = 0; o < 2; o++)
        for (int i = 0; i < 4; i++)
            W_out[o * 4 + i] = (float)(100 * (o + 1) + i);
}

static void test_make_copies(void **state)
{
    (void)state;
    float W_in[12], b[4], W_out[8];
    layer(W_in, b, W_out);
    /* units 1 and 2 copy unit 0; unit 3 untouched; with split unit 0's
     * column is divided by 3 first, so the three add up to what it was */
    assert_int_equal(sy_units_make_copies(W_in, 4, 3, b, W_out, 2, 3, 1), SY_OK);
    for (int c = 0; c < 3; c++) {
        for (int j = 0; j < 3; j++)
            assert_true(W_in[c * 3 + j] == (float)(j + 1));
        assert_true(b[c] == -1.0f);
        assert_true(W_out[c] == 100.0f / 3.0f);
        assert_true(W_out[4 + c] == 200.0f / 3.0f);
    }
    assert_true(W_in[9] == 31.0f && b[3] == -4.0f && W_out[3] == 103.0f && W_out[7] == 203.0f);
    int classes;
    assert_int_equal(sy_distinct_units(W_in, 4, 3, b, W_out, 2, 0.0f, &classes), SY_OK);
    assert_int_equal(classes, 2);
    double spread = -1;
    assert_int_equal(sy_units_copy_spread(W_in, 4, 3, b, W_out, 2, 3, &spread), SY_OK);
    assert_true(spread == 0.0);
    /* without split the column is copied whole */
    layer(W_in, b, W_out);
    assert_int_equal(sy_units_make_copies(W_in, 4, 3, b, W_out, 2, 4, 0), SY_OK);
    for (int c = 0; c < 4; c++)
        assert_true(W_out[c] == 100.0f && W_out[4 + c] == 200.0f && b[c] == -1.0f && W_in[c * 3 + 2] == 3.0f);
    /* ncopy 0 or 1 changes nothing, even with split */
    float W2[12], b2[4], Wo2[8];
    layer(W_in, b, W_out);
    layer(W2, b2, Wo2);
    assert_int_equal(sy_units_make_copies(W2, 4, 3, b2, Wo2, 2, 1, 1), SY_OK);
    assert_memory_equal(W2, W_in, sizeof W2);
    assert_memory_equal(Wo2, W_out, sizeof Wo2);
    assert_int_equal(sy_units_make_copies(W2, 4, 3, NULL, NULL, 0, 0, 1), SY_OK);
    assert_memory_equal(W2, W_in, sizeof W2);
    /* bad arguments */
    assert_int_equal(sy_units_make_copies(W2, 4, 3, b2, Wo2, 2, 5, 1), SY_ERR_ARG);
    assert_int_equal(sy_units_make_copies(NULL, 4, 3, b2, Wo2, 2, 2, 1), SY_ERR_ARG);
    assert_int_equal(sy_units_make_copies(W2, 4, 0, b2, Wo2, 2, 2, 1), SY_ERR_ARG);
}

static void test_copy_spread(void **state)
{
    (void)state;
    float W_in[12], b[4], W_out[8];
    layer(W_in, b, W_out);
    assert_int_equal(sy_units_make_copies(W_in, 4, 3, b, W_out, 2, 3, 0), SY_OK);
    double spread = -1;
    /* one entry of each part moved: the largest move is the spread */
    W_in[2 * 3 + 1] += 0.25f;
    b[1] -= 0.5f;
    W_out[4 + 2] += 0.125f;
    assert_int_equal(sy_units_copy_spread(W_in, 4, 3, b, W_out, 2, 3, &spread), SY_OK);
    assert_true(spread == 0.5);
    /* only the parts given count; unit 3 is no copy and is never compared */
    assert_int_equal(sy_units_copy_spread(W_in, 4, 3, NULL, W_out, 2, 3, &spread), SY_OK);
    assert_true(spread == 0.25);
    assert_int_equal(sy_units_copy_spread(W_in, 4, 3, NULL, W_out, 2, 2, &spread), SY_OK);
    assert_true(spread == 0.0);
    assert_int_equal(sy_units_copy_spread(W_in, 4, 3, b, W_out, 2, 1, &spread), SY_OK);
    assert_true(spread == 0.0);
    /* a NaN would vanish in the max: it is refused, the output kept */
    spread = -7;
    W_out[1] = NAN;
    assert_int_equal(sy_units_copy_spread(W_in, 4, 3, b, W_out, 2, 3, &spread), SY_ERR_NUMERIC);
    assert_true(spread == -7);
    assert_int_equal(sy_units_copy_spread(W_in, 4, 3, b, W_out, 2, 3, NULL), SY_ERR_ARG);
}

static void test_dead_margin(void **state)
{
    (void)state;
    float W_in[12], b[4], W_out[8];
    layer(W_in, b, W_out);
    double m = -1;
    /* unit 0's largest |parameter| is its outgoing 200 ... unless only W_in counts */
    assert_int_equal(sy_dead_units_margin(W_in, 4, 3, NULL, NULL, 0, &m), SY_OK);
    assert_true(m == 3.0);
    assert_int_equal(sy_dead_units_margin(W_in, 4, 3, b, W_out, 2, &m), SY_OK);
    assert_true(m == 200.0);
    /* the margin is the thr from which that unit counts as dead */
    W_in[3] = W_in[4] = W_in[5] = 0.0f, b[1] = -1e-3f, W_out[1] = 5e-4f, W_out[5] = -2e-3f;
    assert_int_equal(sy_dead_units_margin(W_in, 4, 3, b, W_out, 2, &m), SY_OK);
    assert_true(m == (double)2e-3f);
    int dead;
    assert_int_equal(sy_dead_units_param(W_in, 4, 3, b, W_out, 2, (float)m, &dead, NULL), SY_OK);
    assert_int_equal(dead, 1);
    assert_int_equal(sy_dead_units_param(W_in, 4, 3, b, W_out, 2, 1.9e-3f, &dead, NULL), SY_OK);
    assert_int_equal(dead, 0);
    /* pairs (in = out = 1): min_i max(|u_i|, |w_i|) */
    const float u[3] = {0.5f, -1e-7f, 2.0f}, w[3] = {-0.25f, 3e-7f, 1e-9f};
    assert_int_equal(sy_dead_units_margin(u, 3, 1, NULL, w, 1, &m), SY_OK);
    assert_true(m == (double)3e-7f);
    m = -7;
    W_in[0] = NAN;
    assert_int_equal(sy_dead_units_margin(W_in, 4, 3, b, W_out, 2, &m), SY_ERR_NUMERIC);
    assert_true(m == -7);
    assert_int_equal(sy_dead_units_margin(u, 0, 1, NULL, w, 1, &m), SY_ERR_ARG);
}

static void test_curve_file(void **state)
{
    (void)state;
    char dir[] = "/tmp/syre-test-curve-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/curve.txt", dir);
    double x[4] = {0, 10, 20, 30}, y[4] = {2.302585092994046, 0.1 + 0.2, -1e-300, 1.0 / 3.0};
    assert_int_equal(sy_curve_write(path, x, y, 4), SY_OK);
    char text[512] = {0};
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t got = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    assert_true(got > 0);
    assert_string_equal(text, "0 2.3025850929940459\n10 0.30000000000000004\n20 -1e-300\n"
                              "30 0.33333333333333331\n");
    /* read back bit for bit, up to the first point at or past upto */
    double rx[4], ry[4];
    int n = -1;
    assert_int_equal(sy_curve_read(path, 1e9, 4, rx, ry, &n), SY_OK);
    assert_int_equal(n, 4);
    assert_memory_equal(rx, x, sizeof x);
    assert_memory_equal(ry, y, sizeof y);
    assert_int_equal(sy_curve_read(path, 20, 4, rx, ry, &n), SY_OK);
    assert_int_equal(n, 2);
    assert_int_equal(sy_curve_read(path, 1e9, 3, rx, ry, &n), SY_OK);
    assert_int_equal(n, 3);
    /* an empty curve, and a missing file (nothing logged yet) */
    assert_int_equal(sy_curve_write(path, NULL, NULL, 0), SY_OK);
    assert_int_equal(sy_curve_read(path, 1e9, 4, rx, ry, &n), SY_OK);
    assert_int_equal(n, 0);
    assert_int_equal(remove(path), 0);
    n = -1;
    assert_int_equal(sy_curve_read(path, 1e9, 4, rx, ry, &n), SY_OK);
    assert_int_equal(n, 0);
    assert_int_equal(sy_curve_write(path, NULL, y, 2), SY_ERR_ARG);
    assert_int_equal(sy_curve_read(path, 1e9, 4, rx, ry, NULL), SY_ERR_ARG);
    assert_int_equal(rmdir(dir), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_make_copies),
        cmocka_unit_test(test_copy_spread),
        cmocka_unit_test(test_dead_margin),
        cmocka_unit_test(test_curve_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
