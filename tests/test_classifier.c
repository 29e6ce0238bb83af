/* sy_classifier_new: one store, a training graph (inputs of the batch,
 * labels, logits, cross-entropy) and an evaluation graph of another batch
 * in inference mode, both built by the caller's net with shared parameters:
 * the net is called for each, the store holds one set of tensors, the
 * shapes are the batch's and the sample's, and the evaluation graph runs
 * without dropout (the same logits twice) while the training graph drops. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "syre/syre.h"

typedef struct {
    int calls, evals;
} net_seen;

static sy_var net(void *ctx, sy_graph *g, sy_var x, int eval)
{
    net_seen *n = ctx;
    n->calls++, n->evals += eval;
    int sizes[3] = {12, 8, 4};
    sy_var f = sy_reshape(g, x, sy_shape_of(2, sy_graph_shape(g, x).dim[0], 12));
    return sy_dropout(g, sy_mlp(g, f, "mlp", sizes, 3, SY_ACT_RELU), 0.5f);
}

static void test_classifier(void **state)
{
    (void)state;
    sy_classifier m;
    memset(&m, 0, sizeof m);
    net_seen seen = {0, 0};
    assert_int_equal(sy_classifier_new(&m, sy_shape_of(3, 1, 3, 4), 8, 5, net, &seen), SY_OK);
    assert_int_equal(seen.calls, 2);
    assert_int_equal(seen.evals, 1);
    assert_int_equal(sy_params_count(m.ps), 4); /* mlp.0 and mlp.1, weight and bias, once */
    sy_shape xs = sy_graph_shape(m.train, m.x), es = sy_graph_shape(m.eval, m.ex);
    assert_int_equal(xs.ndim, 4);
    assert_int_equal(xs.dim[0], 8);
    assert_int_equal(xs.dim[3], 4);
    assert_int_equal(es.dim[0], 5);
    assert_int_equal(es.dim[2], 3);
    assert_int_equal(sy_graph_shape(m.eval, m.elogits).dim[1], 4);
    assert_int_equal(sy_graph_shape(m.train, m.y).dim[0], 8);
    assert_int_equal(sy_params_init(m.ps, 3), SY_OK);
    float *x = sy_graph_data(m.train, m.x), *ex = sy_graph_data(m.eval, m.ex), *y = sy_graph_data(m.train, m.y);
    for (int i = 0; i < 8 * 12; i++) x[i] = (float)((i * 5) % 7) - 3.0f;
    for (int i = 0; i < 8; i++) y[i] = (float)(i % 4);
    memcpy(ex, x, 5 * 12 * sizeof(float));
    float first[5 * 4];
    assert_int_equal(sy_graph_forward(m.eval), SY_OK);
    memcpy(first, sy_graph_data(m.eval, m.elogits), sizeof first);
    assert_int_equal(sy_graph_forward(m.eval), SY_OK);
    assert_memory_equal(first, sy_graph_data(m.eval, m.elogits), sizeof first);
    assert_int_equal(sy_graph_forward(m.train), SY_OK);
    assert_true(memcmp(first, sy_graph_data(m.train, m.logits), sizeof first) != 0);
    assert_true(sy_graph_scalar(m.train, m.loss) > 0);
    sy_classifier_free(&m);
    sy_classifier_free(&m); /* twice: nothing left to free */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classifier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
