/* Shrink-and-perturb (sy_shrink_perturb): every trainable tensor becomes
 * lambda theta + p theta_fresh, theta_fresh exactly the default
 * initialisation of the same tensors from the given seed; a tensor that is
 * not trainable is left as it was. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "syre/syre.h"

/* A store of a linear layer's weight and bias and one non-trainable tensor. */
static sy_params *store(uint64_t seed)
{
    sy_params *ps = sy_params_new();
    assert_non_null(ps);
    assert_true(sy_params_add(ps, "w", sy_shape_of(2, 4, 3), 3, (sy_init){SY_INIT_UNIFORM_FANIN, 1.0f}, 1) >= 0);
    assert_true(sy_params_add(ps, "b", sy_shape_of(1, 4), 3, (sy_init){SY_INIT_UNIFORM_FANIN, 1.0f}, 1) >= 0);
    assert_true(sy_params_add(ps, "stat", sy_shape_of(1, 4), 1, (sy_init){SY_INIT_ONE, 1.0f}, 0) >= 0);
    assert_int_equal(sy_params_init(ps, seed), SY_OK);
    return ps;
}

static void test_shrink_perturb(void **state)
{
    (void)state;
    sy_params *ps = store(1), *fresh = store(77), *before = store(1);
    float *stat = sy_params_tensor(ps, 2);
    for (int j = 0; j < 4; j++) stat[j] = 3.0f + (float)j;
    assert_int_equal(sy_shrink_perturb(ps, 0.6f, 0.1f, 77), SY_OK);
    for (int i = 0; i < 2; i++) {
        const float *w = sy_params_tensor(ps, i), *w0 = sy_params_tensor(before, i), *f = sy_params_tensor(fresh, i);
        for (size_t j = 0; j < sy_params_info(ps, i)->numel; j++) {
            assert_true(f[j] != 0.0f);
            assert_true(fabsf(w[j] - (0.6f * w0[j] + 0.1f * f[j])) <= 1e-6f);
        }
    }
    for (int j = 0; j < 4; j++) assert_true(stat[j] == 3.0f + (float)j); /* not trainable: untouched */
    /* lambda 0, p 1: the fresh initialisation itself */
    assert_int_equal(sy_shrink_perturb(ps, 0.0f, 1.0f, 77), SY_OK);
    assert_memory_equal(sy_params_tensor(ps, 0), sy_params_tensor(fresh, 0), 12 * sizeof(float));
    sy_params_free(ps);
    sy_params_free(fresh);
    sy_params_free(before);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shrink_perturb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
