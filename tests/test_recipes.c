/* The shared training recipes: sy_optim_sgd_cosine (src/optim/recipes.c)
 * is SGD with momentum on a cosine schedule from lr to 0 over the steps (at
 * least one), keyed by the seed, and no decay; sy_batcher_new_full
 * (src/data/experiment_data.c) gives the full batches of sy_batcher_new with
 * drop_last, in the same order, and drops the short rest. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "syre/syre.h"

static void test_sgd_cosine(void **state)
{
    (void)state;
    sy_optim_opts o = sy_optim_sgd_cosine(0.1, 0.9, 100, 7);
    sy_optim_opts d = sy_optim_defaults(SY_OPTIM_SGD);
    assert_int_equal(o.kind, SY_OPTIM_SGD);
    assert_true(o.lr == 0.1f && o.momentum == 0.9f);
    assert_int_equal(o.schedule.kind, SY_SCHED_COSINE);
    assert_int_equal(o.schedule.total_steps, 100);
    assert_true(o.schedule.min_lr == 0);
    assert_true(o.seed == 7);
    /* the rest is SGD's defaults: no decay, no rules, no clipping */
    assert_int_equal(o.decay.kind, d.decay.kind);
    assert_int_equal(o.n_rules, 0);
    assert_true(o.max_grad_norm == d.max_grad_norm);
    assert_true(o.dampening == d.dampening && o.nesterov == d.nesterov);
    /* cosine from lr to 0 */
    assert_true(sy_schedule_lr(&o.schedule, o.lr, 0) == 0.1f);
    assert_true(fabsf(sy_schedule_lr(&o.schedule, o.lr, 50) - 0.05f) < 1e-7f);
    assert_true(sy_schedule_lr(&o.schedule, o.lr, 100) == 0);
    /* no steps (0 epochs): one, so that the schedule is valid */
    assert_int_equal(sy_optim_sgd_cosine(0.1, 0.9, 0, 7).schedule.total_steps, 1);
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_linear(g, sy_input(g, "x", sy_shape_of(2, 2, 3)), "fc", 2);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    sy_optim_opts z = sy_optim_sgd_cosine(0.1, 0.9, 0, 7);
    sy_optimizer *opt = sy_optimizer_new(ps, &z);
    assert_non_null(opt);
    sy_optimizer_free(opt);
    sy_graph_free(g);
    sy_params_free(ps);
}

static void test_batcher_fixed(void **state)
{
    (void)state;
    sy_dataset *d = NULL;
    assert_int_equal(sy_dataset_new(23, sy_shape_of(1, 2), 2, 0, "toy", &d), SY_OK);
    for (int i = 0; i < 46; i++) d->x[i] = (float)i;
    for (int i = 0; i < 23; i++) d->y[i] = i % 2;
    sy_batcher *a = NULL, *b = NULL;
    assert_int_equal(sy_batcher_new_full(d, 5, 11, &a), SY_OK);
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = 5, bo.drop_last = 1, bo.seed = 11;
    assert_int_equal(sy_batcher_new(d, bo, &b), SY_OK);
    assert_int_equal(sy_batcher_num_batches(a), 4); /* 23 = 4 x 5 + 3 dropped */
    for (uint64_t e = 0; e < 2; e++) {
        sy_batcher_epoch(a, e);
        sy_batcher_epoch(b, e);
        float xa[10], ya[5], xb[10], yb[5];
        size_t na, nb, batches = 0;
        while ((na = sy_batcher_next(a, xa, ya)) > 0) {
            nb = sy_batcher_next(b, xb, yb);
            assert_int_equal(na, 5);
            assert_int_equal(nb, 5);
            assert_memory_equal(xa, xb, sizeof xa);
            assert_memory_equal(ya, yb, sizeof ya);
            batches++;
        }
        assert_int_equal(batches, 4);
    }
    sy_batcher_free(a);
    sy_batcher_free(b);
    assert_int_equal(sy_batcher_new_full(d, 0, 11, &a), SY_ERR_ARG);
    sy_dataset_free(d);
    sy_clear_error();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_cosine),
        cmocka_unit_test(test_batcher_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
