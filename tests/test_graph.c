/* The graph engine's contract: clear errors on bad input (shapes, feeds,
 * unknown ops, NaN losses, labels out of range), determinism, parameter
 * sharing between graphs, and the RNG's stream independence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "graph/graph_impl.h"
#include "syre/syre.h"

static void expect_error(sy_status got, sy_status want, const char *needle)
{
    if (got != want) fail_msg("status %s, expected %s (%s)", sy_status_str(got), sy_status_str(want), sy_last_error());
    if (!strstr(sy_last_error(), needle)) fail_msg("message '%s' lacks '%s'", sy_last_error(), needle);
}

static void test_shape_mismatch_reported_at_compile(void **state)
{
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(2, 8, 784));
    sy_var h = sy_linear(g, x, "fc1", 300);
    sy_var bad = sy_matmul(g, h, sy_input(g, "y", sy_shape_of(2, 5, 6)), 0, 0);
    assert_true(bad < 0);
    sy_var later = sy_relu(g, bad); /* building goes on without crashing */
    assert_true(later < 0);
    expect_error(sy_graph_compile(g), SY_ERR_SHAPE, "inner dimensions");
    assert_non_null(strstr(sy_last_error(), "matmul"));
    sy_graph_free(g);
    sy_params_free(ps);
}

static void test_bad_shapes_each_op(void **state)
{
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var a = sy_input(g, "a", sy_shape_of(2, 3, 4)), b = sy_input(g, "b", sy_shape_of(2, 4, 3));
    assert_true(sy_add(g, a, b) < 0);
    expect_error(sy_graph_status(g), SY_ERR_SHAPE, "does not broadcast");
    sy_graph_free(g);

    g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(4, 2, 3, 8, 8));
    sy_var w = sy_input(g, "w", sy_shape_of(4, 5, 4, 3, 3));
    assert_true(sy_conv2d(g, x, w, 1, 0) < 0);
    expect_error(sy_graph_status(g), SY_ERR_SHAPE, "same C");
    sy_graph_free(g);

    g = sy_graph_new(ps);
    x = sy_input(g, "x", sy_shape_of(2, 3, 4));
    assert_true(sy_reshape(g, x, sy_shape_of(2, 5, 5)) < 0);
    expect_error(sy_graph_status(g), SY_ERR_SHAPE, "cannot reshape");
    sy_graph_free(g);

    g = sy_graph_new(ps);
    x = sy_input(g, "x", sy_shape_of(2, 3, 4));
    assert_true(sy_dropout(g, x, 1.5f) < 0);
    expect_error(sy_graph_status(g), SY_ERR_ARG, "dropout rate");
    sy_graph_free(g);

    g = sy_graph_new(ps);
    x = sy_input(g, "x", sy_shape_of(2, 3, 4));
    assert_true(sy_graph_add_op(g, (sy_op)999, (int[]){x}, NULL, NULL) < 0);
    expect_error(sy_graph_status(g), SY_ERR_ARG, "unknown op");
    assert_true(sy_relu(g, 12345) < 0);
    sy_graph_free(g);
    sy_params_free(ps);
}

static void test_feed_and_state_errors(void **state)
{
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(2, 4, 3));
    sy_var lab = sy_input(g, "labels", sy_shape_of(1, 4));
    sy_var loss = sy_softmax_ce(g, sy_linear(g, x, "fc", 5), lab);
    float buf[12] = {0};
    expect_error(sy_graph_feed(g, x, buf, 12), SY_ERR_STATE, "compile");
    expect_error(sy_graph_forward(g), SY_ERR_STATE, "compile");
    assert_int_equal(sy_graph_compile(g), SY_OK);
    assert_int_equal(sy_params_init(ps, 1), SY_OK);
    expect_error(sy_graph_feed(g, x, buf, 10), SY_ERR_SHAPE, "expects 12 values, got 10");
    expect_error(sy_graph_backward(g, sy_linear(g, x, "late", 2)), SY_ERR_ARG, "invalid node");
    /* A new parameter after layout is refused with a reason. */
    sy_graph *g2 = sy_graph_new(ps);
    assert_true(sy_linear(g2, sy_input(g2, "x", sy_shape_of(2, 4, 3)), "new_layer", 2) < 0);
    expect_error(sy_graph_status(g2), SY_ERR_ARG, "laid out");
    sy_graph_free(g2);

    /* A label outside [0, K) and a NaN input are run-time errors, not garbage. */
    assert_int_equal(sy_graph_feed(g, x, buf, 12), SY_OK);
    float labels[4] = {0, 1, 7, 2};
    assert_int_equal(sy_graph_feed(g, lab, labels, 4), SY_OK);
    expect_error(sy_graph_forward(g), SY_ERR_ARG, "label 7");
    labels[2] = 3;
    assert_int_equal(sy_graph_feed(g, lab, labels, 4), SY_OK);
    buf[5] = NAN;
    assert_int_equal(sy_graph_feed(g, x, buf, 12), SY_OK);
    expect_error(sy_graph_forward(g), SY_ERR_NUMERIC, "NaN");
    buf[5] = 0;
    assert_int_equal(sy_graph_feed(g, x, buf, 12), SY_OK);
    assert_int_equal(sy_graph_forward(g), SY_OK);
    assert_int_equal(sy_graph_backward(g, loss), SY_OK);
    sy_graph_free(g);
    sy_params_free(ps);
}

static void test_graphs_share_parameters(void **state)
{
    sy_params *ps = sy_params_new();
    sy_graph *train = sy_graph_new(ps), *eval = sy_graph_new(ps);
    int sizes[3] = {6, 5, 3};
    sy_var xt = sy_input(train, "x", sy_shape_of(2, 8, 6));
    sy_var yt = sy_mlp(train, xt, "mlp", sizes, 3, SY_ACT_TANH);
    sy_var xe = sy_input(eval, "x", sy_shape_of(2, 1, 6));
    sy_var ye = sy_mlp(eval, xe, "mlp", sizes, 3, SY_ACT_TANH);
    assert_int_equal(sy_params_count(ps), 4);
    assert_int_equal(sy_graph_compile(train), SY_OK);
    assert_int_equal(sy_graph_compile(eval), SY_OK);
    assert_int_equal(sy_params_init(ps, 3), SY_OK);
    float x[48];
    for (int i = 0; i < 48; i++) x[i] = sinf((float)i);
    sy_graph_feed(train, xt, x, 48);
    sy_graph_feed(eval, xe, x + 6 * 5, 6); /* sample 5 */
    assert_int_equal(sy_graph_forward(train), SY_OK);
    assert_int_equal(sy_graph_forward(eval), SY_OK);
    for (int k = 0; k < 3; k++) assert_float_equal(sy_graph_data(eval, ye)[k], sy_graph_data(train, yt)[5 * 3 + k], 1e-6);
    sy_graph_free(train);
    sy_graph_free(eval);
    sy_params_free(ps);
}

static void test_init_matches_pytorch_bounds_and_is_deterministic(void **state)
{
    sy_params *a = sy_params_new(), *b = sy_params_new();
    sy_graph *ga = sy_graph_new(a), *gb = sy_graph_new(b);
    sy_linear(ga, sy_input(ga, "x", sy_shape_of(2, 2, 100)), "fc", 50);
    sy_linear(gb, sy_input(gb, "x", sy_shape_of(2, 2, 100)), "fc", 50);
    sy_params_init(a, 42);
    sy_params_init(b, 42);
    assert_memory_equal(sy_params_data(a), sy_params_data(b), sy_params_total_size(a) * sizeof(float));
    float *w = sy_params_tensor(a, 0), mx = 0;
    double mean = 0;
    for (int i = 0; i < 5000; i++) {
        mx = fmaxf(mx, fabsf(w[i]));
        mean += w[i] / 5000.0;
    }
    assert_true(mx <= 0.1f && mx > 0.099f); /* U(-1/sqrt(100), 1/sqrt(100)) */
    assert_true(fabs(mean) < 0.003);
    sy_params_init(b, 43);
    assert_memory_not_equal(sy_params_data(a), sy_params_data(b), 5000 * sizeof(float));
    sy_graph_free(ga);
    sy_graph_free(gb);
    sy_params_free(a);
    sy_params_free(b);
}

static void test_rng_streams(void **state)
{
    /* Counter-based: the stateful and stateless draws agree; streams differ. */
    sy_rng r = sy_rng_make(7, SY_STREAM_ANCHOR, 3);
    uint64_t key = sy_rng_key(7, SY_STREAM_ANCHOR);
    for (int i = 0; i < 100; i++) assert_true(sy_rng_normal(&r) == sy_rng_normal_at(key, 3, i));
    assert_true(sy_rng_normal_at(key, 3, 0) != sy_rng_normal_at(sy_rng_key(7, SY_STREAM_INIT), 3, 0));
    /* Moments of 200k normals and uniforms. */
    double s = 0, s2 = 0, u = 0;
    for (int i = 0; i < 200000; i++) {
        double z = sy_rng_normal_at(key, 0, i);
        s += z;
        s2 += z * z;
        u += sy_rng_uniform_at(key, 1, i);
    }
    assert_true(fabs(s / 200000) < 0.01 && fabs(s2 / 200000 - 1) < 0.01 && fabs(u / 200000 - 0.5) < 0.003);
    /* Philox4x32-10 known-answer test (Random123 kat_vectors: counter 0, key 0). */
    uint32_t out[4];
    sy_philox(0, 0, 0, out);
    assert_int_equal(out[0], 0x6627e8d5u);
    assert_int_equal(out[1], 0xe169c58du);
    assert_int_equal(out[2], 0xbc57ac4cu);
    assert_int_equal(out[3], 0x9b00dbd8u);
}

static void test_dropout_eval_identity_and_train_rate(void **state)
{
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(2, 100, 100));
    sy_var y = sy_dropout(g, x, 0.3f);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    float *xd = sy_graph_data(g, x);
    for (int i = 0; i < 10000; i++) xd[i] = 1.0f;
    sy_graph_set_seed(g, 5);
    assert_int_equal(sy_graph_forward(g), SY_OK);
    int zeros = 0;
    for (int i = 0; i < 10000; i++) zeros += sy_graph_data(g, y)[i] == 0.0f;
    assert_true(zeros > 2800 && zeros < 3200);
    sy_graph_set_training(g, 0);
    assert_int_equal(sy_graph_forward(g), SY_OK);
    for (int i = 0; i < 10000; i++) assert_true(sy_graph_data(g, y)[i] == 1.0f);
    sy_graph_free(g);
    sy_params_free(ps);
}

/* A graph made for evaluation is in evaluation mode from the start:
 * dropout is the identity without sy_graph_set_training. */
static void test_eval_graph_starts_in_eval_mode(void **state)
{
    (void)state;
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_eval_new(ps);
    assert_non_null(g);
    sy_var x = sy_input(g, "x", sy_shape_of(2, 10, 10));
    sy_var y = sy_dropout(g, x, 0.5f);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    float *xd = sy_graph_data(g, x);
    for (int i = 0; i < 100; i++) xd[i] = 1.0f;
    assert_int_equal(sy_graph_forward(g), SY_OK);
    for (int i = 0; i < 100; i++) assert_true(sy_graph_data(g, y)[i] == 1.0f);
    assert_int_equal(sy_graph_step(g), 0); /* an evaluation forward draws no masks */
    sy_graph_free(g);
    sy_params_free(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shape_mismatch_reported_at_compile),
        cmocka_unit_test(test_bad_shapes_each_op),
        cmocka_unit_test(test_feed_and_state_errors),
        cmocka_unit_test(test_graphs_share_parameters),
        cmocka_unit_test(test_init_matches_pytorch_bounds_and_is_deterministic),
        cmocka_unit_test(test_rng_streams),
        cmocka_unit_test(test_dropout_eval_identity_and_train_rate),
        cmocka_unit_test(test_eval_graph_starts_in_eval_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
