/* Tests of sy_eval_loss (src/train/eval_loss.c): the loss of a graph over a
 * set it holds whole is the graph's own loss after feeding that set, for a
 * mean squared error computed here in double; without y the target input
 * keeps its data; a failed forward returns its status and leaves *out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

enum { N = 37, D = 5 };

static void test_eval_loss(void **state)
{
    (void)state;
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_eval_new(ps);
    assert_non_null(g);
    sy_var x = sy_input(g, "x", sy_shape_of(2, N, D)), y = sy_input(g, "y", sy_shape_of(2, N, 1));
    sy_var pred = sy_linear(g, x, "lin", 1);
    sy_var loss = sy_mse(g, pred, y, SY_REDUCE_MEAN);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    assert_int_equal(sy_params_init(ps, 3), SY_OK);
    const float *w = sy_params_tensor(ps, sy_params_find(ps, "lin.weight"));
    const float *b = sy_params_tensor(ps, sy_params_find(ps, "lin.bias"));

    float X[N * D], Y[N];
    for (int i = 0; i < N * D; i++) X[i] = (float)sin(0.7 * i);
    for (int i = 0; i < N; i++) Y[i] = (float)cos(1.3 * i);
    double got = -1, want = 0;
    assert_int_equal(sy_eval_loss(g, x, X, y, Y, loss, &got), SY_OK);
    for (int i = 0; i < N; i++) {
        double p = b[0];
        for (int j = 0; j < D; j++) p += (double)w[j] * X[i * D + j];
        want += (p - Y[i]) * (p - Y[i]) / N;
    }
    assert_true(fabs(got - want) <= 1e-5 * want);
    /* the same as feeding by hand */
    assert_int_equal(sy_graph_feed(g, x, X, N * D), SY_OK);
    assert_int_equal(sy_graph_feed(g, y, Y, N), SY_OK);
    assert_int_equal(sy_graph_forward(g), SY_OK);
    assert_true(got == sy_graph_scalar(g, loss));

    /* yv NULL: y keeps the targets fed before; another x gives another loss */
    float X2[N * D];
    for (int i = 0; i < N * D; i++) X2[i] = 0.5f * X[i];
    double again = -1;
    assert_int_equal(sy_eval_loss(g, x, X, y, NULL, loss, &again), SY_OK);
    assert_true(again == got);
    assert_int_equal(sy_eval_loss(g, x, X2, y, NULL, loss, &again), SY_OK);
    assert_true(again != got);

    /* a non-finite loss: the forward's failure, *out untouched */
    Y[4] = NAN;
    double keep = 42;
    assert_int_equal(sy_eval_loss(g, x, X, y, Y, loss, &keep), SY_ERR_NUMERIC);
    assert_true(keep == 42);
    sy_graph_free(g);
    sy_params_free(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_loss),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
