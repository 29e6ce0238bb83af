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

#include <math.h>
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

typedef struct {
    int calls, evals[4];
    sy_var hidden; /* kept from the evaluation graph */
    int fail;      /* build an invalid network */
} net_ctx;

/* x [N,5] -> "fc1" (4) -> relu -> "fc2" (3) */
static sy_var tiny_net(void *ctx, sy_graph *g, sy_var x, int eval)
{
    net_ctx *n = ctx;
    n->evals[n->calls++] = eval;
    sy_var h = sy_relu(g, sy_linear(g, x, "fc1", 4));
    if (eval) n->hidden = h;
    return sy_linear(g, n->fail ? sy_reshape(g, h, sy_shape_of(2, 1, 1)) : h, "fc2", 3);
}

/* tiny_net by hand from the store: logits z [n,3] and hidden h [n,4] of x [n,5] */
static void tiny_net_ref(sy_params *ps, const float *x, int n, double *z, double *h)
{
    const float *w1 = sy_params_tensor(ps, sy_params_find(ps, "fc1.weight"));
    const float *b1 = sy_params_tensor(ps, sy_params_find(ps, "fc1.bias"));
    const float *w2 = sy_params_tensor(ps, sy_params_find(ps, "fc2.weight"));
    const float *b2 = sy_params_tensor(ps, sy_params_find(ps, "fc2.bias"));
    for (int s = 0; s < n; s++) {
        for (int j = 0; j < 4; j++) {
            double a = b1[j];
            for (int i = 0; i < 5; i++) a += (double)x[s * 5 + i] * w1[j * 5 + i];
            h[s * 4 + j] = a > 0 ? a : 0;
        }
        for (int k = 0; k < 3; k++) {
            double a = b2[k];
            for (int j = 0; j < 4; j++) a += h[s * 4 + j] * w2[k * 4 + j];
            z[s * 3 + k] = a;
        }
    }
}

/* By hand: the evaluation graph's hidden layer and logits, the training
 * graph's cross-entropy, one store; a network that fails leaves it empty. */
static void test_classifier_by_hand(void **state)
{
    (void)state;
    net_ctx n = {0};
    sy_classifier c;
    assert_int_equal(sy_classifier_new(&c, sy_shape_of(1, 5), 4, 2, tiny_net, &n), SY_OK);
    assert_int_equal(n.calls, 2);
    assert_int_equal(n.evals[0], 0);
    assert_int_equal(n.evals[1], 1);
    /* one store: four tensors (two layers), not eight */
    assert_int_equal(sy_params_count(c.ps), 4);
    sy_shape ys = sy_graph_shape(c.train, c.y), zs = sy_graph_shape(c.eval, c.elogits);
    assert_int_equal(ys.ndim, 1);
    assert_int_equal(ys.dim[0], 4);
    assert_int_equal(zs.dim[0], 2);
    assert_int_equal(zs.dim[1], 3);
    assert_int_equal(sy_params_init(c.ps, 1), SY_OK);

    /* the evaluation graph computes the network with the store's values */
    float *x = sy_graph_data(c.eval, c.ex);
    for (int i = 0; i < 10; i++) x[i] = 0.1f * (float)(i + 1) * (i % 2 ? -1.0f : 1.0f);
    assert_int_equal(sy_graph_forward(c.eval), SY_OK);
    double z[4 * 3], h[4 * 4];
    tiny_net_ref(c.ps, x, 2, z, h);
    for (int i = 0; i < 2 * 4; i++) assert_true(fabs(sy_graph_data(c.eval, n.hidden)[i] - h[i]) < 1e-5);
    for (int i = 0; i < 2 * 3; i++) assert_true(fabs(sy_graph_data(c.eval, c.elogits)[i] - z[i]) < 1e-5);
    /* evaluation mode: a forward does not advance the graph's (dropout) step */
    assert_int_equal(sy_graph_step(c.eval), 0);

    /* the training graph: the mean cross-entropy of its batch of 4 through the same parameters */
    float *tx = sy_graph_data(c.train, c.x), *ty = sy_graph_data(c.train, c.y);
    for (int i = 0; i < 20; i++) tx[i] = 0.05f * (float)i - 0.4f;
    for (int i = 0; i < 4; i++) ty[i] = (float)(i % 3);
    assert_int_equal(sy_graph_forward(c.train), SY_OK);
    tiny_net_ref(c.ps, tx, 4, z, h);
    double ce = 0;
    for (int s = 0; s < 4; s++) {
        double se = 0;
        for (int k = 0; k < 3; k++) se += exp(z[s * 3 + k]);
        ce += log(se) - z[s * 3 + (int)ty[s]];
    }
    assert_true(fabs(sy_graph_data(c.train, c.loss)[0] - ce / 4) < 1e-5);
    sy_classifier_free(&c);
    assert_null(c.ps);
    sy_classifier_free(&c); /* twice is safe */

    /* a network that fails to build leaves c empty */
    net_ctx bad = {.fail = 1};
    assert_int_not_equal(sy_classifier_new(&c, sy_shape_of(1, 5), 4, 2, tiny_net, &bad), SY_OK);
    assert_null(c.ps);
    assert_null(c.train);
    assert_int_equal(sy_classifier_new(&c, sy_shape_of(1, 5), 4, 2, NULL, NULL), SY_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_classifier),
        cmocka_unit_test(test_classifier_by_hand),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
