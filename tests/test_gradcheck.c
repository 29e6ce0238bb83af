/* Finite-difference gradient check of every op in the op table, on both CPU
 * backends, for several seeds; and the fast backend against the reference one.
 * The loop runs over the op table itself: an op added to the table without a
 * case here fails this test, so no op goes unchecked. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "graph/graph_impl.h"
#include "syre/syre.h"

typedef struct {
    sy_var v;
    int positive;  /* keep values in [0.5, 2) (log) */
    int away_zero; /* keep |x| >= 0.2 (relu kink) */
    int spread;    /* distinct well-separated values (max-pool ties) */
} leaf;

typedef struct {
    sy_graph *g;
    sy_params *ps;
    leaf leaves[5];
    int n_leaves;
    sy_var out, loss;
    sy_var other[5]; /* non-differentiable inputs (labels, running stats) */
    int n_other;
} case_t;

static leaf *add_leaf(case_t *c, sy_shape s, int flags)
{
    leaf *l = &c->leaves[c->n_leaves++];
    char name[16];
    snprintf(name, sizeof name, "x%d", c->n_leaves);
    l->v = sy_input(c->g, name, s);
    l->positive = flags & 1;
    l->away_zero = flags & 2;
    l->spread = flags & 4;
    return l;
}
#define LEAF(s, f) add_leaf(c, (s), (f))->v
#define S2(a, b) sy_shape_of(2, a, b)
#define S4(a, b, cc, d) sy_shape_of(4, a, b, cc, d)

/* Build a small graph exercising `op`; returns 0 if the op has no case. */
static int build(case_t *c, sy_op op)
{
    sy_graph *g = c->g;
    sy_var a, b;
    switch (op) {
    case SY_OP_MATMUL:
        a = LEAF(S2(3, 4), 0);
        b = LEAF(S2(5, 4), 0);
        c->out = sy_add(g, sy_matmul(g, a, b, 0, 1), sy_matmul(g, LEAF(S2(4, 3), 0), LEAF(S2(4, 5), 0), 1, 0));
        return 1;
    case SY_OP_BIAS_ADD: c->out = sy_bias_add(g, LEAF(S4(2, 3, 2, 2), 0), LEAF(sy_shape_of(1, 3), 0)); return 1;
    case SY_OP_ADD: c->out = sy_add(g, LEAF(S4(2, 3, 2, 2), 0), LEAF(sy_shape_of(3, 3, 1, 2), 0)); return 1;
    case SY_OP_SUB: c->out = sy_sub(g, LEAF(S2(3, 4), 0), LEAF(S2(1, 4), 0)); return 1;
    case SY_OP_MUL: c->out = sy_mul(g, LEAF(S2(3, 4), 0), LEAF(S2(3, 1), 0)); return 1;
    case SY_OP_SCALE: c->out = sy_scale(g, LEAF(S2(3, 4), 0), -1.7f); return 1;
    case SY_OP_RELU: c->out = sy_relu(g, LEAF(S2(3, 4), 2)); return 1;
    case SY_OP_TANH: c->out = sy_tanh(g, LEAF(S2(3, 4), 0)); return 1;
    case SY_OP_SIGMOID: c->out = sy_sigmoid(g, LEAF(S2(3, 4), 0)); return 1;
    case SY_OP_SILU: c->out = sy_silu(g, LEAF(S2(3, 4), 0)); return 1;
    case SY_OP_EXP: c->out = sy_exp(g, LEAF(S2(3, 4), 0)); return 1;
    case SY_OP_LOG: c->out = sy_log(g, LEAF(S2(3, 4), 1)); return 1;
    case SY_OP_SQUARE: c->out = sy_square(g, LEAF(S2(3, 4), 0)); return 1;
    case SY_OP_SUM: c->out = sy_sum(g, LEAF(S2(3, 4), 0)); return 1;
    case SY_OP_MEAN: c->out = sy_mean(g, LEAF(S2(3, 4), 0)); return 1;
    case SY_OP_SUM_AXIS: c->out = sy_sum_axis(g, LEAF(sy_shape_of(3, 2, 3, 4), 0), 1); return 1;
    case SY_OP_MEAN_AXIS: c->out = sy_mean_axis(g, LEAF(sy_shape_of(3, 2, 3, 4), 0), 2); return 1;
    case SY_OP_RESHAPE: c->out = sy_reshape(g, sy_scale(g, LEAF(S2(3, 4), 0), 2.0f), sy_shape_of(3, 2, 2, 3)); return 1;
    case SY_OP_CONCAT: c->out = sy_concat(g, LEAF(S4(2, 2, 2, 2), 0), LEAF(S4(2, 3, 2, 2), 0)); return 1;
    case SY_OP_SLICE: c->out = sy_slice(g, LEAF(S2(3, 6), 0), 1, 3); return 1;
    case SY_OP_RANK_GATHER: c->out = sy_rank_gather(g, LEAF(S2(3, 4), 0)); return 1; /* one rank: a copy */
    case SY_OP_CONV2D:
        c->out = sy_conv2d(g, LEAF(S4(2, 3, 6, 5), 0), LEAF(S4(4, 3, 3, 2), 0), 2, 1);
        return 1;
    case SY_OP_MAXPOOL2D: c->out = sy_maxpool2d(g, LEAF(S4(2, 2, 5, 6), 4), 2, 2); return 1;
    case SY_OP_GLOBAL_AVGPOOL: c->out = sy_global_avgpool(g, LEAF(S4(2, 3, 3, 2), 0)); return 1;
    case SY_OP_BATCHNORM: {
        sy_var x = LEAF(S4(3, 2, 2, 2), 0), ga = LEAF(sy_shape_of(1, 2), 0), be = LEAF(sy_shape_of(1, 2), 0);
        sy_var rm = c->other[c->n_other++] = sy_input(g, "rm", sy_shape_of(1, 2));
        sy_var rv = c->other[c->n_other++] = sy_input(g, "rv", sy_shape_of(1, 2));
        c->out = sy_batchnorm(g, x, ga, be, rm, rv, 0.1f, 1e-5f);
        return 1;
    }
    case SY_OP_DROPOUT: c->out = sy_dropout(g, LEAF(S2(4, 5), 0), 0.4f); return 1;
    case SY_OP_L2NORMALIZE: c->out = sy_l2normalize(g, LEAF(S2(3, 4), 0), 1e-8f); return 1;
    case SY_OP_SOFTMAX_CE: {
        sy_var lab = c->other[c->n_other++] = sy_input(g, "labels", sy_shape_of(1, 4));
        c->out = sy_softmax_ce(g, LEAF(S2(4, 5), 0), lab);
        return 1;
    }
    case SY_OP_MSE: c->out = sy_mse(g, LEAF(S2(3, 4), 0), LEAF(S2(3, 4), 0), SY_REDUCE_MEAN); return 1;
    case SY_OP_BCE_LOGITS: c->out = sy_bce_logits(g, LEAF(S2(3, 4), 0), LEAF(S2(3, 4), 0), SY_REDUCE_BATCH); return 1;
    case SY_OP_KL_GAUSS: c->out = sy_kl_gauss(g, LEAF(S2(3, 4), 0), LEAF(S2(3, 4), 0), 0.5f, SY_REDUCE_SUM); return 1;
    /* values on a 0.05 grid, bounds off it: no value within h of a kink */
    case SY_OP_CLAMP: c->out = sy_clamp(g, LEAF(S2(3, 8), 4), -0.62f, 0.03f); return 1;
    /* b = a + d with |d| >= 0.2: a and b never tie within h */
    case SY_OP_MINIMUM:
        a = LEAF(S2(3, 4), 0);
        c->out = sy_minimum(g, a, sy_add(g, a, LEAF(S2(3, 4), 2)));
        return 1;
    default: return 0;
    }
}

static void fill(case_t *c, uint64_t seed)
{
    sy_rng r = sy_rng_make(seed, SY_STREAM_USER, 0);
    for (int i = 0; i < c->n_leaves; i++) {
        leaf *l = &c->leaves[i];
        float *d = sy_graph_data(c->g, l->v);
        size_t n = sy_shape_numel(sy_graph_shape(c->g, l->v));
        for (size_t j = 0; j < n; j++) {
            float u = sy_rng_uniform(&r);
            if (l->positive) d[j] = 0.5f + 1.5f * u;
            else if (l->away_zero) d[j] = (0.2f + u) * (sy_rng_uniform(&r) < 0.5f ? -1.0f : 1.0f);
            else d[j] = 2.0f * u - 1.0f;
        }
        if (l->spread) { /* a shuffled ramp: every value distinct by >= 0.05 */
            int *idx = malloc(n * sizeof *idx);
            for (size_t j = 0; j < n; j++) idx[j] = (int)j;
            sy_rng_shuffle(&r, idx, n);
            for (size_t j = 0; j < n; j++) d[j] = -1.0f + 0.05f * idx[j];
            free(idx);
        }
    }
    for (int i = 0; i < c->n_other; i++) {
        float *d = sy_graph_data(c->g, c->other[i]);
        size_t n = sy_shape_numel(sy_graph_shape(c->g, c->other[i]));
        for (size_t j = 0; j < n; j++) d[j] = (float)((j * 3 + seed) % 5); /* labels in [0,5); stats >= 0 */
    }
}

/* Loss = sum(out * R) with a fixed random R, so every output element matters. */
static float run_forward(case_t *c)
{
    sy_graph_set_step(c->g, 7); /* same dropout mask every time */
    assert_int_equal(sy_graph_forward(c->g), SY_OK);
    return sy_graph_scalar(c->g, c->loss);
}

static void make_case(case_t *c, sy_op op, const char *backend, uint64_t seed)
{
    memset(c, 0, sizeof *c);
    c->ps = sy_params_new();
    c->g = sy_graph_new(c->ps);
    assert_int_equal(sy_graph_set_backend(c->g, backend), SY_OK);
    if (!build(c, op)) fail_msg("op '%s' has no gradient-check case: add one", sy_op_name(op));
    sy_var w = sy_input(c->g, "R", sy_graph_shape(c->g, c->out));
    c->loss = sy_sum(c->g, sy_mul(c->g, c->out, w));
    for (int i = 0; i < c->n_leaves; i++) sy_graph_requires_grad(c->g, c->leaves[i].v);
    if (sy_graph_compile(c->g) != SY_OK) fail_msg("compile %s: %s", sy_op_name(op), sy_last_error());
    fill(c, seed);
    sy_rng r = sy_rng_make(seed, SY_STREAM_USER, 1);
    float *wd = sy_graph_data(c->g, w);
    for (size_t j = 0; j < sy_shape_numel(sy_graph_shape(c->g, w)); j++) wd[j] = 2.0f * sy_rng_uniform(&r) - 1.0f;
}

static void free_case(case_t *c)
{
    sy_graph_free(c->g);
    sy_params_free(c->ps);
}

static void check_op(sy_op op, const char *backend, uint64_t seed)
{
    case_t c;
    make_case(&c, op, backend, seed);
    run_forward(&c);
    assert_int_equal(sy_graph_backward(c.g, c.loss), SY_OK);
    const float h = 1e-2f;
    for (int i = 0; i < c.n_leaves; i++) {
        sy_var v = c.leaves[i].v;
        size_t n = sy_shape_numel(sy_graph_shape(c.g, v));
        float *x = sy_graph_data(c.g, v), *gr = sy_graph_grad(c.g, v);
        float *analytic = malloc(n * sizeof *analytic);
        memcpy(analytic, gr, n * sizeof *analytic);
        for (size_t j = 0; j < n; j++) {
            float x0 = x[j];
            x[j] = x0 + h;
            double lp = run_forward(&c);
            x[j] = x0 - h;
            double lm = run_forward(&c);
            x[j] = x0;
            double num = (lp - lm) / (2.0 * h), an = analytic[j];
            /* Central differences in float32: O(h^2) truncation + O(eps/h) rounding. */
            double tol = 1e-3 + 1e-2 * fmax(fabs(num), fabs(an));
            if (fabs(num - an) > tol)
                fail_msg("%s [%s, seed %llu]: d loss / d input%d[%zu]: analytic %.6f, numeric %.6f", sy_op_name(op),
                         backend, (unsigned long long)seed, i, j, an, num);
        }
        free(analytic);
    }
    free_case(&c);
}

static void test_every_op_gradcheck(void **state)
{
    int checked = 0;
    for (int op = 0; op < SY_OP_COUNT; op++) {
        if (op == SY_OP_INPUT || op == SY_OP_PARAM) continue; /* leaves: no kernel */
        for (uint64_t seed = 1; seed <= 3; seed++) {
            check_op((sy_op)op, "cpu-ref", seed);
            check_op((sy_op)op, "cpu", seed);
        }
        checked++;
    }
    assert_int_equal(checked, SY_OP_COUNT - 2);
}

/* The fast backend must agree with the reference kernels, forward and backward. */
static void test_fast_matches_reference(void **state)
{
    for (int op = 0; op < SY_OP_COUNT; op++) {
        if (op == SY_OP_INPUT || op == SY_OP_PARAM) continue;
        case_t r, f;
        make_case(&r, (sy_op)op, "cpu-ref", 11);
        make_case(&f, (sy_op)op, "cpu", 11);
        float lr = run_forward(&r), lf = run_forward(&f);
        assert_int_equal(sy_graph_backward(r.g, r.loss), SY_OK);
        assert_int_equal(sy_graph_backward(f.g, f.loss), SY_OK);
        if (fabsf(lr - lf) > 1e-5f * fmaxf(1.0f, fabsf(lr)))
            fail_msg("%s: loss ref %.7g vs fast %.7g", sy_op_name((sy_op)op), lr, lf);
        for (int i = 0; i < r.n_leaves; i++) {
            size_t n = sy_shape_numel(sy_graph_shape(r.g, r.leaves[i].v));
            float *gr = sy_graph_grad(r.g, r.leaves[i].v), *gf = sy_graph_grad(f.g, f.leaves[i].v);
            for (size_t j = 0; j < n; j++)
                if (fabsf(gr[j] - gf[j]) > 1e-5f * fmaxf(1.0f, fabsf(gr[j])))
                    fail_msg("%s: grad input%d[%zu] ref %.7g vs fast %.7g", sy_op_name((sy_op)op), i, j, gr[j], gf[j]);
        }
        free_case(&r);
        free_case(&f);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_op_gradcheck),
        cmocka_unit_test(test_fast_matches_reference),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
