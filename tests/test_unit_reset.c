/* Unit resets (src/train/unit_reset.c) on a tiny network x[8, 4] -> h (6
 * units, relu) -> o (3): ReDo replaces exactly the tau-dormant units and CBP
 * the least useful mature ones; a replaced unit's incoming weights are the
 * documented fresh draw from the layer's init (plus theta0 under syre), its
 * bias and outgoing weights 0, its Adam moments 0, and every other
 * parameter and moment is the same bit for bit. CBP's utility and ages
 * follow their definition; methods split into decay and reset; bad layers
 * are refused. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

#define B 8
#define IN 4
#define F 6
#define OUT 3

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_var x, y, act, loss;
    sy_optimizer *opt;
} net;

static int is_moment(const char *nm)
{
    return !strcmp(nm, "exp_avg") || !strcmp(nm, "exp_avg_sq") || !strcmp(nm, "momentum_buffer");
}

static float *tensor(sy_params *ps, const char *name) { return sy_params_tensor(ps, sy_params_find(ps, name)); }

/* The network with units `dead` (a mask) never active on inputs in [0, 1)
 * and the others active; `weak`: unit whose outgoing weights are scaled by
 * 1e-3 (-1: none). One Adam (or, with method, that method's SGD) step taken,
 * so that the forward pass has run. */
static void make(net *n, const int *dead, int weak, const char *method)
{
    n->ps = sy_params_new();
    n->g = sy_graph_new(n->ps);
    n->x = sy_input(n->g, "x", sy_shape_of(2, B, IN));
    n->y = sy_input(n->g, "y", sy_shape_of(2, B, OUT));
    n->act = sy_relu(n->g, sy_linear(n->g, n->x, "h", F));
    sy_var o = sy_linear(n->g, n->act, "o", OUT);
    n->loss = sy_mse(n->g, o, n->y, SY_REDUCE_MEAN);
    assert_int_equal(sy_graph_compile(n->g), SY_OK);
    assert_int_equal(sy_params_init(n->ps, 11), SY_OK);
    float *w = tensor(n->ps, "h.weight"), *b = tensor(n->ps, "h.bias"), *wo = tensor(n->ps, "o.weight");
    for (int u = 0; u < F; u++) {
        for (int i = 0; i < IN; i++) w[u * IN + i] = dead[u] ? -fabsf(w[u * IN + i]) : fabsf(w[u * IN + i]) + 0.2f;
        b[u] = dead[u] ? -5.0f : 0.1f;
        if (u == weak)
            for (int r = 0; r < OUT; r++) wo[r * F + u] *= 1e-3f;
    }
    sy_rng r = sy_rng_make(5, SY_STREAM_USER, 0);
    float *x = sy_graph_data(n->g, n->x), *y = sy_graph_data(n->g, n->y);
    for (int i = 0; i < B * IN; i++) x[i] = sy_rng_uniform(&r);
    for (int i = 0; i < B * OUT; i++) y[i] = sy_rng_uniform(&r);
    if (method) {
        sy_optim_opts oo = sy_optim_defaults(SY_OPTIM_SGD);
        oo.momentum = 0.9f;
        oo.seed = 2;
        assert_int_equal(sy_optimizer_for_method(n->ps, oo, method, 0.01f, 1.0f, 0.0f, &n->opt), SY_OK);
    } else {
        sy_optim_opts oo = sy_optim_defaults(SY_OPTIM_ADAM);
        n->opt = sy_optimizer_new(n->ps, &oo);
    }
    assert_non_null(n->opt);
    assert_int_equal(sy_train_step(n->g, n->loss, n->opt), SY_OK);
    /* every moment 1, so that a cleared one shows */
    for (int k = 0; k < sy_optimizer_num_state(n->opt); k++) {
        if (!is_moment(sy_optimizer_state_name(n->opt, k))) continue; /* anchors stay */
        float *s = sy_optimizer_state(n->opt, k);
        for (size_t i = 0; i < sy_optimizer_state_size(n->opt); i++) s[i] = 1.0f;
    }
}

static void unmake(net *n)
{
    sy_optimizer_free(n->opt);
    sy_graph_free(n->g);
    sy_params_free(n->ps);
}

static sy_unit_reset *hook(net *n, sy_unit_reset_opts o)
{
    sy_unit_layer L = {"h", "o", n->act};
    sy_unit_reset *r = NULL;
    assert_int_equal(sy_unit_reset_new(&o, n->g, n->ps, n->opt, &L, 1, &r), SY_OK);
    return r;
}

/* What the store and every moment must be after units `mask` were replaced
 * (in increasing order, the first with sub-stream 0 of seed): the rest as
 * before, bit for bit. anchor: the optimizer's anchors (NULL: none added). */
static void check_reset(net *n, const float *before, const unsigned char *mask, uint64_t seed, const float *anchor)
{
    size_t T = sy_params_trainable_size(n->ps);
    float *want = malloc(T * sizeof(float));
    memcpy(want, before, T * sizeof(float));
    const sy_param_info *pw = sy_params_info(n->ps, sy_params_find(n->ps, "h.weight"));
    const sy_param_info *pb = sy_params_info(n->ps, sy_params_find(n->ps, "h.bias"));
    const sy_param_info *po = sy_params_info(n->ps, sy_params_find(n->ps, "o.weight"));
    unsigned char *hit = calloc(T, 1);
    uint64_t sub = 0;
    float bound = 1.0f / sqrtf((float)IN);
    for (int u = 0; u < F; u++) {
        if (!mask[u]) continue;
        sy_rng r = sy_rng_make(seed, SY_STREAM_UNIT_RESET, sub++);
        for (int i = 0; i < IN; i++) {
            size_t k = pw->offset + (size_t)u * IN + (size_t)i;
            float v = bound * (2.0f * sy_rng_uniform(&r) - 1.0f);
            assert_true(fabsf(v) <= bound);
            want[k] = anchor ? v + anchor[k] : v, hit[k] = 1;
        }
        want[pb->offset + (size_t)u] = anchor ? anchor[pb->offset + (size_t)u] : 0.0f, hit[pb->offset + (size_t)u] = 1;
        for (int o = 0; o < OUT; o++) {
            size_t k = po->offset + (size_t)o * F + (size_t)u;
            want[k] = 0.0f, hit[k] = 1;
        }
    }
    assert_memory_equal(sy_params_data(n->ps), want, T * sizeof(float));
    int moments = 0;
    for (int k = 0; k < sy_optimizer_num_state(n->opt); k++) {
        if (!is_moment(sy_optimizer_state_name(n->opt, k))) continue;
        const float *s = sy_optimizer_state(n->opt, k);
        for (size_t i = 0; i < T; i++) assert_true(s[i] == (hit[i] ? 0.0f : 1.0f));
        moments++;
    }
    assert_true(moments >= 1); /* Adam's two, or SGD's momentum */
    free(hit);
    free(want);
}

static float *snapshot(net *n)
{
    size_t T = sy_params_trainable_size(n->ps);
    float *p = malloc(T * sizeof(float));
    memcpy(p, sy_params_data(n->ps), T * sizeof(float));
    return p;
}

static void test_redo_resets_dormant(void **state)
{
    (void)state;
    const int dead[F] = {0, 1, 0, 0, 1, 0};
    net n;
    make(&n, dead, -1, NULL);
    sy_unit_reset_opts o = sy_unit_reset_defaults(SY_UNIT_RESET_REDO);
    o.redo_every = 3, o.seed = 9;
    sy_unit_reset *r = hook(&n, o);
    float *before = snapshot(&n);
    /* not a reset step: nothing changes */
    assert_int_equal(sy_unit_reset_step(r, 0), SY_OK);
    assert_int_equal(sy_unit_reset_count(r, -1), 0);
    assert_memory_equal(sy_params_data(n.ps), before, sy_params_trainable_size(n.ps) * sizeof(float));
    /* step 2 is the third: the dormant units 1 and 4, and no other, are replaced */
    unsigned char want[F] = {0, 1, 0, 0, 1, 0}, dorm[F];
    double ratio;
    assert_int_equal(sy_dormant_ratio(sy_graph_data(n.g, n.act), B, F, 1, 0.1, &ratio, dorm), SY_OK);
    assert_memory_equal(dorm, want, F); /* the set-up: exactly those are dormant */
    assert_int_equal(sy_unit_reset_step(r, 2), SY_OK);
    assert_memory_equal(sy_unit_reset_last(r, 0), want, F);
    assert_int_equal(sy_unit_reset_count(r, 0), 2);
    check_reset(&n, before, want, 9, NULL);
    free(before);
    sy_unit_reset_free(r);
    unmake(&n);
}

static void test_cbp_utility_maturity(void **state)
{
    (void)state;
    const int dead[F] = {0, 0, 0, 0, 1, 0};
    net n;
    make(&n, dead, 2, NULL); /* unit 4 contributes nothing, unit 2 little */
    sy_unit_reset_opts o = sy_unit_reset_defaults(SY_UNIT_RESET_CBP);
    o.cbp_rate = 0.375, o.cbp_decay = 0.9, o.cbp_maturity = 2, o.seed = 4;
    sy_unit_reset *r = hook(&n, o);
    float *before = snapshot(&n);
    /* the utility by its definition: u <- eta u + (1 - eta) mean|h| mean|w_out| */
    const float *h = sy_graph_data(n.g, n.act), *wo = tensor(n.ps, "o.weight");
    double util[F] = {0};
    for (long t = 0; t < 2; t++) { /* ages 1, 2: not yet mature, nothing replaced */
        assert_int_equal(sy_unit_reset_step(r, t), SY_OK);
        for (int u = 0; u < F; u++) {
            double a = 0, m = 0;
            for (int s = 0; s < B; s++) a += fabs((double)h[s * F + u]);
            for (int k = 0; k < OUT; k++) m += fabs((double)wo[k * F + u]);
            util[u] = 0.9 * util[u] + 0.1 * (a / B) * (m / OUT);
            assert_true(fabs(sy_unit_reset_utility(r, 0)[u] - util[u]) <= 1e-12 * (1 + util[u]));
            assert_int_equal(sy_unit_reset_age(r, 0)[u], t + 1);
        }
    }
    assert_int_equal(sy_unit_reset_count(r, -1), 0);
    assert_memory_equal(sy_params_data(n.ps), before, sy_params_trainable_size(n.ps) * sizeof(float));
    /* age 3 > maturity 2: all 6 eligible, 6 x 0.375 = 2.25 units owed: the two least useful, 4 then 2 */
    assert_int_equal(sy_unit_reset_step(r, 2), SY_OK);
    unsigned char want[F] = {0, 0, 1, 0, 1, 0};
    assert_memory_equal(sy_unit_reset_last(r, 0), want, F);
    assert_int_equal(sy_unit_reset_count(r, 0), 2);
    for (int u = 0; u < F; u++) {
        assert_int_equal(sy_unit_reset_age(r, 0)[u], want[u] ? 0 : 3);
        if (want[u]) assert_true(sy_unit_reset_utility(r, 0)[u] == 0.0);
    }
    /* replaced in the order chosen: unit 4 (sub-stream 0) before unit 2 (1) */
    float *after = snapshot(&n);
    /* check_reset draws in increasing unit order; CBP drew 4 first: compare the rows by hand */
    const sy_param_info *pw = sy_params_info(n.ps, sy_params_find(n.ps, "h.weight"));
    float bound = 1.0f / sqrtf((float)IN);
    sy_rng a = sy_rng_make(4, SY_STREAM_UNIT_RESET, 0), b = sy_rng_make(4, SY_STREAM_UNIT_RESET, 1);
    for (int i = 0; i < IN; i++) {
        assert_true(after[pw->offset + 4 * IN + (size_t)i] == bound * (2.0f * sy_rng_uniform(&a) - 1.0f));
        assert_true(after[pw->offset + 2 * IN + (size_t)i] == bound * (2.0f * sy_rng_uniform(&b) - 1.0f));
    }
    /* the rest: as check_reset with those rows taken as they are */
    for (int i = 0; i < IN; i++) {
        before[pw->offset + 4 * IN + (size_t)i] = after[pw->offset + 4 * IN + (size_t)i];
        before[pw->offset + 2 * IN + (size_t)i] = after[pw->offset + 2 * IN + (size_t)i];
    }
    const sy_param_info *pb = sy_params_info(n.ps, sy_params_find(n.ps, "h.bias"));
    const sy_param_info *po = sy_params_info(n.ps, sy_params_find(n.ps, "o.weight"));
    for (int u = 0; u < F; u++) {
        if (!want[u]) continue;
        before[pb->offset + (size_t)u] = 0.0f;
        for (int k = 0; k < OUT; k++) before[po->offset + (size_t)k * F + (size_t)u] = 0.0f;
    }
    assert_memory_equal(after, before, sy_params_trainable_size(n.ps) * sizeof(float));
    /* the count carries over: 0.25 left, + 4 eligible x 0.375 = 1.75, one replaced */
    assert_int_equal(sy_unit_reset_step(r, 3), SY_OK);
    assert_int_equal(sy_unit_reset_count(r, 0), 3);
    free(after);
    free(before);
    sy_unit_reset_free(r);
    unmake(&n);
}

/* Under syre the fresh row starts at theta_init + theta0, as the optimizer
 * started the network; SGD's momentum of the replaced entries is cleared. */
static void test_reset_under_syre(void **state)
{
    (void)state;
    const int dead[F] = {0, 0, 0, 0, 0, 0};
    net n;
    make(&n, dead, -1, "syre");
    sy_unit_reset_opts o = sy_unit_reset_defaults(SY_UNIT_RESET_NONE);
    o.seed = 21;
    sy_unit_reset *r = hook(&n, o);
    size_t T = sy_params_trainable_size(n.ps);
    float *before = snapshot(&n), *anchor = malloc(T * sizeof(float));
    assert_int_equal(sy_optimizer_anchor(n.opt, anchor), SY_OK);
    int units[2] = {0, 5};
    assert_int_equal(sy_unit_reset_units(r, 0, units, 2), SY_OK);
    unsigned char want[F] = {1, 0, 0, 0, 0, 1};
    /* o.weight is syre's too, but outgoing weights become 0 */
    check_reset(&n, before, want, 21, anchor);
    /* a unit out of range is refused */
    int bad = F;
    assert_int_equal(sy_unit_reset_units(r, 0, &bad, 1), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "no unit 6"));
    free(anchor);
    free(before);
    sy_unit_reset_free(r);
    unmake(&n);
}

static void test_method_split(void **state)
{
    (void)state;
    char d[32];
    sy_unit_reset_kind k;
    assert_int_equal(sy_unit_reset_method("syre+cbp", d, sizeof d, &k), SY_OK);
    assert_string_equal(d, "syre");
    assert_int_equal(k, SY_UNIT_RESET_CBP);
    assert_int_equal(sy_unit_reset_method("redo", d, sizeof d, &k), SY_OK);
    assert_string_equal(d, "vanilla");
    assert_int_equal(k, SY_UNIT_RESET_REDO);
    assert_int_equal(sy_unit_reset_method("l2init", d, sizeof d, &k), SY_OK);
    assert_string_equal(d, "l2init");
    assert_int_equal(k, SY_UNIT_RESET_NONE);
    assert_int_equal(sy_unit_reset_method("+cbp", d, sizeof d, &k), SY_ERR_ARG);
    assert_int_equal(sy_unit_reset_method("syre-ar+redo", d, 4, &k), SY_ERR_ARG);
}

static void test_bad_layers(void **state)
{
    (void)state;
    const int dead[F] = {0};
    net n;
    make(&n, dead, -1, NULL);
    sy_unit_reset *r = NULL;
    sy_unit_reset_opts o = sy_unit_reset_defaults(SY_UNIT_RESET_REDO);
    sy_unit_layer missing = {"h", "nope", n.act};
    assert_int_equal(sy_unit_reset_new(&o, n.g, n.ps, n.opt, &missing, 1, &r), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "nope.weight"));
    sy_unit_layer wrong = {"o", "h", n.act}; /* o has 3 units, h.weight rows 4 columns */
    assert_int_equal(sy_unit_reset_new(&o, n.g, n.ps, n.opt, &wrong, 1, &r), SY_ERR_SHAPE);
    sy_unit_layer ok = {"h", "o", n.act};
    o.redo_every = 0;
    assert_int_equal(sy_unit_reset_new(&o, n.g, n.ps, n.opt, &ok, 1, &r), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "interval"));
    o = sy_unit_reset_defaults(SY_UNIT_RESET_CBP);
    o.cbp_decay = 1.0;
    assert_int_equal(sy_unit_reset_new(&o, n.g, n.ps, n.opt, &ok, 1, &r), SY_ERR_ARG);
    assert_null(r);
    unmake(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redo_resets_dormant), cmocka_unit_test(test_cbp_utility_maturity),
        cmocka_unit_test(test_reset_under_syre),    cmocka_unit_test(test_method_split),
        cmocka_unit_test(test_bad_layers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
