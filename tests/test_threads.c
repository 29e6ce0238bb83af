/* Results do not depend on the thread count. The CPU backend cuts each
 * large matrix product into tiles of output columns (rows when it has few
 * columns) whose boundaries depend on the product's shape alone, one sgemm
 * call per tile, never splitting the inner dimension; threads share out the
 * tiles. The direct convolution gives each output element to one thread. So
 * a few training steps at 1, 2 and 3 threads must give bit-identical
 * outputs, input gradients and parameters. The networks cover every
 * transpose form of matmul split both ways (forward and both gradients), the
 * paper's MLP at batch 64 and its CNN. (3 threads on 2 cores is slow but
 * must be exact.)
 *
 * An sgemm may round an output element differently by where it sits in the
 * call (OpenBLAS's AVX2 kernel sums a panel's first and last 8 rows in
 * another order than the rest), so a split that moved with the thread
 * count would change results on such a kernel and not on another. Every
 * case therefore runs twice: on the default sgemm (syre's own on a CPU with FMA),
 * and on position_rounding_sgemm below, which sums the last rows and columns
 * of every call in reverse order, so that invariance cannot rest on the
 * kernel under test being position-independent. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

#include "backend/cpu/cpu_kernels.h"

typedef sy_var (*build_fn)(sy_graph *g, sy_var x);

/* Row-major C = alpha op(A) op(B) + beta C in which each element's dot
 * product runs forward, except in the call's last 3 rows and last 5
 * columns (an edge tile), which run backward: the same inputs round
 * differently by their position within the call. */
static void position_rounding_sgemm(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                                    const float *B, int ldb, float beta, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            int edge = i >= M - 3 || j >= N - 5;
            float acc = 0.0f;
            for (int s = 0; s < K; s++) {
                int k = edge ? K - 1 - s : s;
                float a = ta ? A[(size_t)k * lda + i] : A[(size_t)i * lda + k];
                float b = tb ? B[(size_t)j * ldb + k] : B[(size_t)k * ldb + j];
                acc += a * b;
            }
            float *c = &C[(size_t)i * ldc + j];
            *c = alpha * acc + (beta == 0.0f ? 0.0f : beta * *c);
        }
}

typedef struct {
    float *out, *dx, *params;
    size_t nout, nx, np;
} result_t;

static const sy_init init = {SY_INIT_UNIFORM_FANIN, 1.0f};

static sy_var param(sy_graph *g, const char *name, int r, int c)
{
    return sy_param_new(g, name, sy_shape_of(2, r, c), r, init, 1);
}

/* x: [1000, 48]. Products (M x N x K) and how the engine cuts them into
 * tiles (along the longer output dimension; a power of two of them, each at
 * least 128 long and 2M multiply-adds):
 *   x @ w1            1000x512x48   NN 4 row tiles; dx NT 4 row tiles, dw1 TN 4 column tiles
 *   h @ w2^T          1000x8x512    NT 2 row tiles; dh NN 2 row tiles, dw2 TN 2 column tiles
 *   p3^T @ w3         1000x8x512    TN 2 row tiles; dp3 NT 2 column tiles, dw3 NN 2 row tiles
 *   p4^T @ w4^T       1000x8x512    TT 2 row tiles; dp4 TT 2 column tiles, dw4 TT 2 column tiles */
static sy_var forms_net(sy_graph *g, sy_var x)
{
    sy_var h = sy_relu(g, sy_matmul(g, x, param(g, "w1", 48, 512), 0, 0));
    sy_var a = sy_matmul(g, h, param(g, "w2", 8, 512), 0, 1);
    sy_var b = sy_matmul(g, param(g, "p3", 512, 1000), param(g, "w3", 512, 8), 1, 0);
    sy_var c = sy_matmul(g, param(g, "p4", 512, 1000), param(g, "w4", 8, 512), 1, 1);
    return sy_add(g, sy_add(g, a, b), c);
}

/* x: [24, 16]. Backward runs both gradients in one parallel region; here
 * only one of them is split: dx [24, 16] (K 16384) has neither two column
 * tiles nor two row tiles and runs whole on one thread, while dw [16, 16384]
 * (K 24) is cut into 2 column tiles, as is the forward. */
static sy_var one_split_net(sy_graph *g, sy_var x) { return sy_matmul(g, x, param(g, "w", 16, 16384), 0, 0); }

/* A product of a matrix with itself (NT-Xent's z z^T): both of its
 * gradients go into the same buffer, so they must not run at once. They
 * did, side by side on two threads when neither was large enough to split
 * (h [64, 128]: 0.52M multiply-adds each), and simclr's results changed
 * from run to run at 2 threads. h [256, 256] cuts both into 2 column tiles. */
static sy_var gram_net(sy_graph *g, sy_var x)
{
    sy_shape s = sy_graph_shape(g, x);
    int n = s.dim[0] == 64 ? 128 : 256;
    sy_var h = sy_matmul(g, x, param(g, "w", s.dim[1], n), 0, 0);
    return sy_matmul(g, h, h, 0, 1);
}

static sy_var mlp_net(sy_graph *g, sy_var x)
{
    const int sizes[5] = {784, 300, 300, 300, 10};
    return sy_mlp(g, x, "mlp", sizes, 5, SY_ACT_RELU);
}

static sy_var cnn_net(sy_graph *g, sy_var x) { return sy_mnist_cnn(g, x, NULL); }

/* Two 3x3 convolutions (chunked im2col products: 8 samples a chunk, then 2). */
static sy_var conv3_net(sy_graph *g, sy_var x)
{
    sy_var w1 = sy_param_new(g, "w1", sy_shape_of(4, 24, 16, 3, 3), 144, (sy_init){SY_INIT_UNIFORM_FANIN, 1.0f}, 1);
    sy_var w2 = sy_param_new(g, "w2", sy_shape_of(4, 16, 24, 3, 3), 216, (sy_init){SY_INIT_UNIFORM_FANIN, 1.0f}, 1);
    return sy_conv2d(g, sy_relu(g, sy_conv2d(g, x, w1, 1, 1)), w2, 1, 1);
}

/* Three SGD steps of sum(net(x) * R) at the given thread count. */
static result_t run(int threads, sy_shape xs, build_fn fn)
{
    sy_set_threads(threads);
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    assert_int_equal(sy_graph_set_backend(g, "cpu"), SY_OK);
    sy_var x = sy_input(g, "x", xs);
    sy_graph_requires_grad(g, x);
    sy_var out = fn(g, x);
    sy_var r = sy_input(g, "R", sy_graph_shape(g, out));
    sy_var loss = sy_sum(g, sy_mul(g, out, r));
    if (sy_graph_compile(g) != SY_OK || sy_params_init(ps, 3) != SY_OK) fail_msg("compile: %s", sy_last_error());
    result_t res;
    res.nx = sy_shape_numel(xs), res.nout = sy_shape_numel(sy_graph_shape(g, out));
    res.np = sy_params_trainable_size(ps);
    sy_rng rng = sy_rng_make(5, SY_STREAM_USER, 0);
    float *xd = sy_graph_data(g, x), *rd = sy_graph_data(g, r);
    for (size_t i = 0; i < res.nx; i++) xd[i] = 2.0f * sy_rng_uniform(&rng) - 1.0f;
    for (size_t i = 0; i < res.nout; i++) rd[i] = 2.0f * sy_rng_uniform(&rng) - 1.0f;
    for (int s = 0; s < 3; s++) {
        assert_int_equal(sy_graph_forward(g), SY_OK);
        assert_int_equal(sy_graph_backward(g, loss), SY_OK);
        float *p = sy_params_data(ps), *gr = sy_params_grad(ps);
        for (size_t i = 0; i < res.np; i++) p[i] -= 0.01f * gr[i];
    }
    res.out = malloc(res.nout * sizeof(float)), res.dx = malloc(res.nx * sizeof(float));
    res.params = malloc(res.np * sizeof(float));
    assert_non_null(res.out), assert_non_null(res.dx), assert_non_null(res.params);
    memcpy(res.out, sy_graph_data(g, out), res.nout * sizeof(float));
    memcpy(res.dx, sy_graph_grad(g, x), res.nx * sizeof(float));
    memcpy(res.params, sy_params_data(ps), res.np * sizeof(float));
    sy_graph_free(g);
    sy_params_free(ps);
    return res;
}

static void same(const char *label, int threads, const char *what, const float *a, const float *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0)
            fail_msg("%s, %d threads: %s[%zu] = %.9g, at 1 thread %.9g", label, threads, what, i, b[i], a[i]);
}

static void check_with(const char *label, sy_shape xs, build_fn fn)
{
    result_t one = run(1, xs, fn);
    for (int t = 2; t <= 3; t++) {
        result_t r = run(t, xs, fn);
        same(label, t, "output", one.out, r.out, one.nout);
        same(label, t, "d loss / d x", one.dx, r.dx, one.nx);
        same(label, t, "parameters after 3 steps", one.params, r.params, one.np);
        free(r.out), free(r.dx), free(r.params);
    }
    free(one.out), free(one.dx), free(one.params);
}

/* On the default sgemm, then on the position-rounding sgemm. */
static void check(const char *label, sy_shape xs, build_fn fn)
{
    char l[128];
    sy_cpu_set_sgemm(NULL);
    snprintf(l, sizeof l, "%s (%s)", label, sy_cpu_sgemm_name());
    check_with(l, xs, fn);
    sy_cpu_set_sgemm(position_rounding_sgemm);
    snprintf(l, sizeof l, "%s (position-rounding sgemm)", label);
    check_with(l, xs, fn);
    sy_cpu_set_sgemm(NULL);
}

static void test_matmul_forms(void **state) { check("matmul forms", sy_shape_of(2, 1000, 48), forms_net); }
static void test_one_split(void **state) { check("one gradient split", sy_shape_of(2, 24, 16), one_split_net); }
static void test_gram(void **state)
{
    for (int rep = 0; rep < 5; rep++) {
        check("h h^T, unsplit", sy_shape_of(2, 64, 32), gram_net);
        check("h h^T, split", sy_shape_of(2, 256, 64), gram_net);
    }
}
static void test_mlp_b64(void **state) { check("mlp 784-300-300-300-10 b64", sy_shape_of(2, 64, 784), mlp_net); }
static void test_cnn_b64(void **state) { check("mnist cnn b64", sy_shape_of(4, 64, 1, 28, 28), cnn_net); }
static void test_conv3(void **state) { check("3x3 convolutions b10", sy_shape_of(4, 10, 16, 16, 16), conv3_net); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matmul_forms),
        cmocka_unit_test(test_one_split),
        cmocka_unit_test(test_gram),
        cmocka_unit_test(test_mlp_b64),
        cmocka_unit_test(test_cnn_b64),
        cmocka_unit_test(test_conv3),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
