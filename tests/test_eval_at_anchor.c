/* sy_optimizer_eval_at_anchor: the anchor network evaluated in place and
 * the trained values given back, also after a failed evaluation, with only
 * the tensors of a name prefix swapped. (sy_classifier_new: test_classifier.c.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "syre/core.h"
#include "syre/graph.h"
#include "syre/nn.h"
#include "syre/optim.h"
#include "syre/params.h"

/* ---- sy_optimizer_eval_at_anchor ------------------------------------------------ */

typedef struct {
    sy_params *ps;
    const float *anchor, *before; /* flat, trainable_size */
    const char *prefix;           /* tensors expected at the anchor ("" = all) */
    sy_status ret;
    int calls;
} at_ctx;

/* Inside the evaluation: tensors under the prefix hold the anchor, the others
 * their own values; the buffer (running statistics) is untouched. */
static sy_status check_at_anchor(void *ctx)
{
    at_ctx *a = ctx;
    a->calls++;
    const float *p = sy_params_data(a->ps);
    for (int t = 0; t < sy_params_count(a->ps); t++) {
        const sy_param_info *pi = sy_params_info(a->ps, t);
        const float *v = p + pi->offset;
        if (!pi->trainable) {
            for (size_t i = 0; i < pi->numel; i++) assert_true(v[i] == 7.0f);
            continue;
        }
        int swapped = !strncmp(pi->name, a->prefix, strlen(a->prefix));
        for (size_t i = 0; i < pi->numel; i++)
            assert_true(v[i] == (swapped ? a->anchor : a->before)[pi->offset + i]);
    }
    return a->ret;
}

static void test_eval_at_anchor(void **state)
{
    (void)state;
    sy_params *ps = sy_params_new();
    sy_init u = {SY_INIT_UNIFORM_FANIN, 1.0f};
    assert_true(sy_params_add(ps, "enc.weight", sy_shape_of(2, 3, 4), 4, u, 1) >= 0);
    assert_true(sy_params_add(ps, "dec.weight", sy_shape_of(2, 2, 3), 3, u, 1) >= 0);
    int buf = sy_params_add(ps, "enc.running", sy_shape_of(1, 3), 1, u, 0);
    assert_true(buf >= 0);
    assert_int_equal(sy_params_init(ps, 5), SY_OK);
    float *r = sy_params_tensor(ps, buf);
    for (int i = 0; i < 3; i++) r[i] = 7.0f;
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.decay = sy_decay_syre(0.1f, 1.0f);
    o.seed = 3;
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    assert_non_null(opt);
    size_t n = sy_params_trainable_size(ps);
    float *anchor = malloc(n * sizeof *anchor), *before = malloc(n * sizeof *before);
    assert_int_equal(sy_optimizer_anchor(opt, anchor), SY_OK);
    memcpy(before, sy_params_data(ps), n * sizeof *before);
    /* the anchor is not the initialisation, or the test could not tell them apart */
    assert_true(anchor[sy_params_info(ps, 0)->offset] != before[sy_params_info(ps, 0)->offset]);

    at_ctx a = {ps, anchor, before, "", SY_OK, 0};
    assert_int_equal(sy_optimizer_eval_at_anchor(opt, ps, NULL, check_at_anchor, &a), SY_OK);
    assert_int_equal(a.calls, 1);
    assert_memory_equal(sy_params_data(ps), before, n * sizeof *before);

    /* a prefix swaps only its tensors; a failed evaluation still restores and returns its status */
    a.prefix = "enc.", a.ret = SY_ERR_NUMERIC;
    assert_int_equal(sy_optimizer_eval_at_anchor(opt, ps, "enc.", check_at_anchor, &a), SY_ERR_NUMERIC);
    assert_int_equal(a.calls, 2);
    assert_memory_equal(sy_params_data(ps), before, n * sizeof *before);
    for (int i = 0; i < 3; i++) assert_true(sy_params_tensor(ps, buf)[i] == 7.0f);

    assert_int_equal(sy_optimizer_eval_at_anchor(opt, ps, NULL, NULL, NULL), SY_ERR_ARG);
    free(anchor);
    free(before);
    sy_optimizer_free(opt);
    sy_params_free(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_at_anchor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
