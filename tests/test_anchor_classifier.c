/* Tests of two model-level utilities: sy_optimizer_eval_at_anchor (the
 * anchor network evaluated in place and the trained values given back,
 * also after a failed evaluation, with only the tensors of a name prefix
 * swapped) and sy_classifier_new (a training and an evaluation graph on one
 * store, sharing parameters, the evaluation graph in evaluation mode). */
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

/* ---- sy_classifier ------------------------------------------------------------------ */

typedef struct {
    int calls, evals[4];
    sy_var hidden; /* kept from the evaluation graph */
    int fail;      /* build an invalid network */
} net_ctx;

/* x [N,5] -> "fc1" (4) -> relu -> "fc2" (3) */
static sy_var tiny_net(sy_graph *g, sy_var x, int eval, void *ctx)
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

static void test_classifier(void **state)
{
    (void)state;
    net_ctx n = {0};
    sy_classifier c;
    assert_int_equal(sy_classifier_new(&c, sy_shape_of(2, 4, 5), sy_shape_of(2, 2, 5), tiny_net, &n), SY_OK);
    assert_int_equal(n.calls, 2);
    assert_int_equal(n.evals[0], 0);
    assert_int_equal(n.evals[1], 1);
    /* one store: four tensors (two layers), not eight */
    assert_int_equal(sy_params_count(c.ps), 4);
    sy_shape ys = sy_graph_shape(c.train, c.y), zs = sy_graph_shape(c.eval, c.logits);
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
    for (int i = 0; i < 2 * 3; i++) assert_true(fabs(sy_graph_data(c.eval, c.logits)[i] - z[i]) < 1e-5);
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
    assert_int_not_equal(sy_classifier_new(&c, sy_shape_of(2, 4, 5), sy_shape_of(2, 2, 5), tiny_net, &bad), SY_OK);
    assert_null(c.ps);
    assert_null(c.train);
    assert_int_equal(sy_classifier_new(&c, sy_shape_of(2, 4, 5), sy_shape_of(2, 2, 5), NULL, NULL), SY_ERR_ARG);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eval_at_anchor),
        cmocka_unit_test(test_classifier),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
