/* The identical-unit measures on a store's hidden layer named by its two
 * linear layers (src/metrics/layer_units.c): the same copies, distinct units
 * and spread as sy_units_make_copies, sy_distinct_units and
 * sy_units_copy_spread on the raw tensors, with or without a bias, and
 * missing or misshapen tensors refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "syre/syre.h"

#define F 5
#define IN 3
#define OUT 2

/* "h" [F, IN] (with "h.bias" [F] when bias) and "o" [OUT, F], initialised. */
static sy_params *store(int bias)
{
    sy_params *ps = sy_params_new();
    sy_init u = {SY_INIT_UNIFORM_FANIN, 1.0f};
    assert_true(sy_params_add(ps, "h.weight", sy_shape_of(2, F, IN), IN, u, 1) >= 0);
    if (bias) assert_true(sy_params_add(ps, "h.bias", sy_shape_of(1, F), IN, u, 1) >= 0);
    assert_true(sy_params_add(ps, "o.weight", sy_shape_of(2, OUT, F), F, u, 1) >= 0);
    assert_true(sy_params_add(ps, "odd.weight", sy_shape_of(2, OUT, F + 1), F, u, 1) >= 0);
    assert_int_equal(sy_params_init(ps, 7), SY_OK);
    return ps;
}

static float *tensor(sy_params *ps, const char *name)
{
    int i = sy_params_find(ps, name);
    return i < 0 ? NULL : sy_params_tensor(ps, i);
}

static void check(int bias)
{
    sy_params *a = store(bias), *b = store(bias);
    /* copies by name = copies on the raw tensors */
    assert_int_equal(sy_layer_make_copies(a, "h", "o", 3, 1), SY_OK);
    assert_int_equal(sy_units_make_copies(tensor(b, "h.weight"), F, IN, tensor(b, "h.bias"), tensor(b, "o.weight"),
                                          OUT, 3, 1),
                     SY_OK);
    assert_memory_equal(tensor(a, "h.weight"), tensor(b, "h.weight"), sizeof(float) * F * IN);
    assert_memory_equal(tensor(a, "o.weight"), tensor(b, "o.weight"), sizeof(float) * F * OUT);
    int da = -1, db = -2;
    double sa = -1, sb = -2;
    assert_int_equal(sy_layer_units(a, "h", "o", 0.0f, 3, &da, &sa), SY_OK);
    assert_int_equal(sy_distinct_units(tensor(b, "h.weight"), F, IN, tensor(b, "h.bias"), tensor(b, "o.weight"), OUT,
                                       0.0f, &db),
                     SY_OK);
    assert_int_equal(sy_units_copy_spread(tensor(b, "h.weight"), F, IN, tensor(b, "h.bias"), tensor(b, "o.weight"),
                                          OUT, 3, &sb),
                     SY_OK);
    assert_int_equal(da, F - 2); /* units 0-2 one class, 3 and 4 apart */
    assert_int_equal(da, db);
    assert_true(sa == 0 && sb == 0);
    /* moved apart: the spread is the change, the units distinct again */
    tensor(a, "h.weight")[IN] += 0.25f;
    assert_int_equal(sy_layer_units(a, "h", "o", 0.0f, 3, &da, &sa), SY_OK);
    assert_int_equal(da, F - 1);
    assert_true(fabs(sa - 0.25) < 1e-6); /* the difference taken in float */
    assert_int_equal(sy_layer_units(a, "h", "o", 0.5f, 3, &da, NULL), SY_OK); /* spread not asked for */
    sy_params_free(a);
    sy_params_free(b);
}

static void test_with_bias(void **state)
{
    (void)state;
    check(1);
}

static void test_without_bias(void **state)
{
    (void)state;
    check(0);
}

static void test_refused(void **state)
{
    (void)state;
    sy_params *ps = store(1);
    int d;
    assert_int_equal(sy_layer_units(ps, "x", "o", 0.0f, 1, &d, NULL), SY_ERR_ARG);
    assert_int_equal(sy_layer_units(ps, "h", "x", 0.0f, 1, &d, NULL), SY_ERR_ARG);
    assert_int_equal(sy_layer_make_copies(ps, "h", "odd", 2, 1), SY_ERR_SHAPE); /* [OUT, F + 1]: not F units */
    assert_int_equal(sy_layer_units(ps, "o", "h", 0.0f, 1, &d, NULL), SY_ERR_SHAPE);
    assert_int_equal(sy_layer_units(NULL, "h", "o", 0.0f, 1, &d, NULL), SY_ERR_ARG);
    sy_params_free(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_with_bias),
        cmocka_unit_test(test_without_bias),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
