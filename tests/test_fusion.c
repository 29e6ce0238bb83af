/* Bias add + activation fused into one pass on the CPU (graph.c's
 * plan_fusion, the fwd/bwd_bias_act kernels): every node value, node
 * gradient and parameter gradient must equal, bit for bit, the same graph run
 * one node at a time (g->no_fuse). Cases: an MLP with ReLU and SiLU layers
 * (the small one-pass path); an activation too large for it (the fallback);
 * gradients that accumulate instead of overwrite (the matmul output read
 * twice, so the bias add adds into it); a bias add on an input that needs no
 * gradient (no dx) and a frozen bias (no db); a bias add read by two nodes
 * and one whose reader is not next (no fusion). At 1 and 2 threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph_impl.h"
#include "syre/core.h"
#include "syre/graph.h"
#include "syre/params.h"
#include "syre/runtime.h"

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_var x, loss;
} net;

static sy_var lin(sy_graph *g, sy_var x, const char *name, int in, int out, int bias_trainable)
{
    char w[64], b[64];
    snprintf(w, sizeof w, "%s.w", name);
    snprintf(b, sizeof b, "%s.b", name);
    sy_init u = {SY_INIT_UNIFORM_FANIN, 1.0f};
    sy_var W = sy_param_new(g, w, sy_shape_of(2, in, out), in, u, 1);
    sy_var B = sy_param_new(g, b, sy_shape_of(1, out), in, u, bias_trainable);
    return sy_bias_add(g, sy_matmul(g, x, W, 0, 0), B);
}

/* kind 0: MLP relu/silu; 1: large activation; 2: accumulate paths; 3: no dx,
 * frozen bias; 4: unfusable shapes of the graph. */
static void build(net *m, int kind, int no_fuse)
{
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    sy_graph *g = m->g;
    int B = kind == 1 ? 200 : 64, D = 30;
    m->x = sy_input(g, "x", sy_shape_of(2, B, D));
    sy_var h, loss;
    switch (kind) {
    case 0:
        h = sy_relu(g, lin(g, m->x, "l0", D, 40, 1));
        h = sy_silu(g, lin(g, h, "l1", 40, 50, 1));
        h = sy_relu(g, lin(g, h, "l2", 50, 20, 1));
        loss = sy_sum(g, sy_silu(g, lin(g, h, "l3", 20, 7, 1)));
        break;
    case 1: /* [200, 200]: 40000 floats, over the one-pass limit */
        h = sy_relu(g, lin(g, m->x, "l0", D, 200, 1));
        loss = sy_sum(g, sy_silu(g, lin(g, h, "l1", 200, 200, 1)));
        break;
    case 2: { /* mm read by the bias add and by the loss: dx accumulates */
        sy_init u = {SY_INIT_UNIFORM_FANIN, 1.0f};
        sy_var W = sy_param_new(g, "w", sy_shape_of(2, D, 40), D, u, 1);
        sy_var b = sy_param_new(g, "b", sy_shape_of(1, 40), D, u, 1);
        sy_var mm = sy_matmul(g, m->x, W, 0, 0);
        sy_var r = sy_relu(g, sy_bias_add(g, mm, b));
        sy_var mm2 = sy_matmul(g, m->x, W, 0, 0);
        sy_var s = sy_silu(g, sy_bias_add(g, mm2, b));
        loss = sy_add(g, sy_add(g, sy_sum(g, r), sy_sum(g, s)), sy_sum(g, sy_add(g, mm, mm2)));
        break;
    }
    case 3: { /* bias add on the input itself (no dx), and a frozen bias (no db) */
        sy_init u = {SY_INIT_UNIFORM_FANIN, 1.0f};
        sy_var b0 = sy_param_new(g, "b0", sy_shape_of(1, D), D, u, 1);
        h = sy_silu(g, sy_bias_add(g, m->x, b0));
        h = sy_relu(g, lin(g, h, "l1", D, 40, 0));
        loss = sy_sum(g, h);
        break;
    }
    default: { /* a bias add read twice; one whose reader is not the next node */
        sy_var t = lin(g, m->x, "l0", D, 40, 1);
        sy_var r = sy_relu(g, t);
        sy_var loss1 = sy_add(g, sy_sum(g, r), sy_sum(g, t));
        sy_var t2 = lin(g, m->x, "l1", D, 40, 1);
        sy_var other = sy_sum(g, m->x);
        sy_var s = sy_silu(g, t2);
        loss = sy_add(g, sy_add(g, loss1, sy_sum(g, s)), other);
        break;
    }
    }
    m->loss = loss;
    assert_int_equal(sy_graph_status(g), SY_OK);
    g->no_fuse = no_fuse;
    assert_int_equal(sy_graph_compile(g), SY_OK);
    assert_int_equal(sy_params_init(m->ps, 11), SY_OK);
    sy_rng r = sy_rng_make(5, SY_STREAM_USER, (uint64_t)kind);
    float *x = sy_graph_data(g, m->x);
    for (size_t i = 0; i < (size_t)B * D; i++) x[i] = 2.0f * sy_rng_uniform(&r) - 1.0f;
}

static int n_pairs(const sy_graph *g)
{
    int k = 0;
    for (int i = 0; i < g->n_nodes; i++) k += g->nodes[i].fuse == SY_FUSE_PAIR;
    return k;
}

static void compare(int kind, int threads, int want_pairs)
{
    sy_set_threads(threads);
    net a, b;
    build(&a, kind, 0);
    build(&b, kind, 1);
    for (int pass = 0; pass < 2; pass++) { /* twice: the second reuses the plans */
        assert_int_equal(sy_graph_forward(a.g), SY_OK);
        assert_int_equal(sy_graph_backward(a.g, a.loss), SY_OK);
        assert_int_equal(sy_graph_forward(b.g), SY_OK);
        assert_int_equal(sy_graph_backward(b.g, b.loss), SY_OK);
    }
    assert_int_equal(n_pairs(a.g), want_pairs);
    assert_int_equal(n_pairs(b.g), 0);
    assert_int_equal(a.g->n_nodes, b.g->n_nodes);
    for (int i = 0; i < a.g->n_nodes; i++) {
        const sy_node *p = &a.g->nodes[i], *q = &b.g->nodes[i];
        if (p->val) assert_memory_equal(p->val, q->val, p->numel * sizeof(float));
        if (p->grad) assert_memory_equal(p->grad, q->grad, p->numel * sizeof(float));
    }
    size_t n = sy_params_trainable_size(a.ps);
    assert_memory_equal(sy_params_grad(a.ps), sy_params_grad(b.ps), n * sizeof(float));
    for (net *m = &a; m; m = m == &a ? &b : NULL) {
        sy_graph_free(m->g);
        sy_params_free(m->ps);
    }
    sy_set_threads(1);
}

static void test_mlp(void **state)
{
    (void)state;
    for (int t = 1; t <= 2; t++) compare(0, t, 4);
}

static void test_large(void **state)
{
    (void)state;
    for (int t = 1; t <= 2; t++) compare(1, t, 2);
}

static void test_accumulate(void **state)
{
    (void)state;
    compare(2, 1, 2);
}

static void test_missing_grads(void **state)
{
    (void)state;
    compare(3, 1, 2);
}

static void test_not_fused(void **state)
{
    (void)state;
    compare(4, 1, 0);
}

/* The reference backend has no fused kernels: nothing is fused there. */
static void test_reference_backend(void **state)
{
    (void)state;
    net m;
    build(&m, 0, 0);
    assert_int_equal(sy_graph_set_backend(m.g, "cpu-ref"), SY_OK);
    assert_int_equal(sy_graph_forward(m.g), SY_OK);
    assert_int_equal(n_pairs(m.g), 0);
    assert_int_equal(sy_graph_set_backend(m.g, "cpu"), SY_OK);
    assert_int_equal(sy_graph_forward(m.g), SY_OK);
    assert_int_equal(n_pairs(m.g), 4);
    sy_graph_free(m.g);
    sy_params_free(m.ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlp),           cmocka_unit_test(test_large),
        cmocka_unit_test(test_accumulate),    cmocka_unit_test(test_missing_grads),
        cmocka_unit_test(test_not_fused),     cmocka_unit_test(test_reference_backend),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
