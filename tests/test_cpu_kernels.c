/* The fast CPU kernels (backend "cpu") against the reference kernels
 * ("cpu-ref", the oracle) on the shapes where their code paths differ:
 * direct convolution with batches that are not a multiple of its 16-sample
 * blocks, padding, channel counts that do and do not divide its tiles, and
 * kernel widths with and without a specialised tile; 3x3 convolutions as
 * chunked implicit-GEMM products (chunks of several samples, of one, a short
 * last one; dx as dy's convolution, padded, unpadded and cropped, or by a
 * scatter-add for few channels), other kernels forced onto that route, and
 * its columns packed from the image against formed ones bit for bit; chains such as
 * linear -> bias -> relu where the fast backend fuses or skips work. Every
 * output and every gradient (inputs and parameters) must agree to float
 * rounding. test_gradcheck.c checks each op against finite differences. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_kernels.h"
#include "syre/syre.h"

typedef sy_var (*build_fn)(sy_graph *g, sy_var x, const int *cfg);

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_var x, out, loss, r;
} net_t;

static net_t make(const char *backend, sy_shape xs, build_fn fn, const int *cfg)
{
    net_t m;
    m.ps = sy_params_new();
    m.g = sy_graph_new(m.ps);
    assert_int_equal(sy_graph_set_backend(m.g, backend), SY_OK);
    m.x = sy_input(m.g, "x", xs);
    sy_graph_requires_grad(m.g, m.x);
    m.out = fn(m.g, m.x, cfg);
    m.r = sy_input(m.g, "R", sy_graph_shape(m.g, m.out));
    m.loss = sy_sum(m.g, sy_mul(m.g, m.out, m.r));
    if (sy_graph_compile(m.g) != SY_OK || sy_params_init(m.ps, 3) != SY_OK) fail_msg("compile: %s", sy_last_error());
    sy_rng rng = sy_rng_make(5, SY_STREAM_USER, 0);
    size_t nx = sy_shape_numel(xs), nr = sy_shape_numel(sy_graph_shape(m.g, m.out));
    float *xd = sy_graph_data(m.g, m.x), *rd = sy_graph_data(m.g, m.r);
    for (size_t i = 0; i < nx; i++) xd[i] = 2.0f * sy_rng_uniform(&rng) - 1.0f;
    for (size_t i = 0; i < nr; i++) rd[i] = 2.0f * sy_rng_uniform(&rng) - 1.0f;
    return m;
}

static void compare(const char *what, const float *a, const float *b, size_t n)
{
    double scale = 0;
    for (size_t i = 0; i < n; i++) scale = fmax(scale, fabs(a[i]));
    for (size_t i = 0; i < n; i++)
        if (fabs(a[i] - b[i]) > 1e-5 * fmax(1.0, scale))
            fail_msg("%s[%zu]: reference %.7g, fast %.7g", what, i, a[i], b[i]);
}

/* Build the same network on both backends, run forward + backward twice
 * (the second pass catches state left over from the first), compare. */
static void check(const char *label, sy_shape xs, build_fn fn, const int *cfg)
{
    net_t r = make("cpu-ref", xs, fn, cfg), f = make("cpu", xs, fn, cfg);
    for (int pass = 0; pass < 2; pass++) {
        assert_int_equal(sy_graph_forward(r.g), SY_OK);
        assert_int_equal(sy_graph_forward(f.g), SY_OK);
        assert_int_equal(sy_graph_backward(r.g, r.loss), SY_OK);
        assert_int_equal(sy_graph_backward(f.g, f.loss), SY_OK);
        char what[160];
        snprintf(what, sizeof what, "%s: output", label);
        compare(what, sy_graph_data(r.g, r.out), sy_graph_data(f.g, f.out),
                sy_shape_numel(sy_graph_shape(r.g, r.out)));
        snprintf(what, sizeof what, "%s: d loss / d x", label);
        compare(what, sy_graph_grad(r.g, r.x), sy_graph_grad(f.g, f.x), sy_shape_numel(xs));
        snprintf(what, sizeof what, "%s: parameter gradients", label);
        compare(what, sy_params_grad(r.ps), sy_params_grad(f.ps), sy_params_trainable_size(r.ps));
    }
    sy_graph_free(r.g);
    sy_params_free(r.ps);
    sy_graph_free(f.g);
    sy_params_free(f.ps);
}

/* cfg: out channels, kernel h, kernel w, stride, padding */
static sy_var conv_named(sy_graph *g, sy_var x, const int *cfg, const char *wname)
{
    sy_shape s = sy_graph_shape(g, x);
    sy_var w = sy_param_new(g, wname, sy_shape_of(4, cfg[0], s.dim[1], cfg[1], cfg[2]), s.dim[1] * cfg[1] * cfg[2],
                            (sy_init){SY_INIT_UNIFORM_FANIN, 1.0f}, 1);
    return sy_conv2d(g, x, w, cfg[3], cfg[4]);
}

static sy_var conv_net(sy_graph *g, sy_var x, const int *cfg) { return conv_named(g, x, cfg, "w"); }

static void test_conv_shapes(void **state)
{
    static const struct {
        int N, C, H, W, O, KH, KW, S, P;
    } cases[] = {
        {64, 1, 28, 28, 10, 5, 5, 1, 0},  /* the paper's conv1 */
        {64, 10, 12, 12, 20, 5, 5, 1, 0}, /* the paper's conv2 */
        {17, 3, 9, 7, 6, 3, 3, 1, 1},     /* partial sample block, padding, KW 3 tile */
        {1, 2, 6, 6, 3, 3, 2, 1, 2},      /* one sample, padding > kernel - 1, generic dw tile */
        {33, 8, 5, 6, 8, 1, 1, 1, 0},     /* 1x1 kernel; C and O multiples of 8 */
        {20, 5, 8, 8, 7, 5, 5, 1, 2},     /* O that no tile divides */
        {5, 4, 9, 9, 4, 3, 3, 2, 1},      /* stride 2: the im2col path */
        {10, 16, 16, 16, 32, 3, 3, 1, 1}, /* 3x3: chunked im2col, chunks of 8 samples and 2 */
        {3, 16, 32, 32, 8, 3, 3, 1, 1},   /* chunks of 2 samples and 1 (straight into the output) */
        {3, 5, 48, 48, 7, 3, 3, 1, 0},    /* one sample a chunk, no padding */
        /* 3x3 with 16+ input channels: dx as the rotated kernel's convolution of dy */
        {1, 17, 7, 5, 13, 3, 3, 1, 1},    /* one sample; C, O, H, W no multiple of a tile */
        {5, 16, 9, 11, 33, 3, 3, 1, 0},   /* no padding: dy's convolution padded by 2 */
        {4, 16, 6, 6, 8, 3, 3, 1, 2},     /* padding 2: dy's unpadded */
        {3, 24, 5, 4, 1, 3, 3, 1, 3},     /* padding 3 > kernel - 1: dy's cropped; one output channel */
        {70, 16, 4, 4, 16, 3, 3, 1, 1},   /* chunks of 70 samples of 4x4: panels across samples */
        {2, 1, 45, 46, 3, 3, 3, 1, 1},    /* one input channel: dx by the columns' scatter-add */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int cfg[5] = {cases[i].O, cases[i].KH, cases[i].KW, cases[i].S, cases[i].P};
        char label[128];
        snprintf(label, sizeof label, "conv N%d C%d %dx%d O%d k%dx%d s%d p%d", cases[i].N, cases[i].C, cases[i].H,
                 cases[i].W, cases[i].O, cases[i].KH, cases[i].KW, cases[i].S, cases[i].P);
        check(label, sy_shape_of(4, cases[i].N, cases[i].C, cases[i].H, cases[i].W), conv_net, cfg);
    }
}

/* Two convolutions of x summed: the second backward adds into dx. */
static sy_var conv2_net(sy_graph *g, sy_var x, const int *cfg)
{
    return sy_add(g, conv_named(g, x, cfg, "w1"), sy_scale(g, conv_named(g, x, cfg, "w2"), 0.5f));
}

/* Stride-1 convolutions forced onto the chunked route whatever their
 * kernel (the route picks 3x3 only): non-square kernels, whose padding for
 * dy's convolution differs by axis, and dx accumulating from two readers. */
static void test_conv_chunked_forced(void **state)
{
    static const struct {
        int N, C, H, W, O, KH, KW, P;
    } cases[] = {
        {3, 16, 8, 9, 5, 1, 3, 1},   /* 1x3: padding -1 down, 1 across for dy */
        {2, 20, 10, 7, 6, 5, 3, 2},  /* 5x3 */
        {9, 16, 6, 6, 17, 5, 5, 0},  /* 5x5, no padding */
        {1, 16, 5, 5, 4, 1, 1, 0},   /* 1x1 */
        {6, 3, 12, 12, 8, 5, 5, 2},  /* few channels: the scatter-add */
    };
    sy_cpu_conv_force_route(1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int cfg[5] = {cases[i].O, cases[i].KH, cases[i].KW, 1, cases[i].P};
        char label[128];
        snprintf(label, sizeof label, "chunked conv N%d C%d %dx%d O%d k%dx%d p%d", cases[i].N, cases[i].C,
                 cases[i].H, cases[i].W, cases[i].O, cases[i].KH, cases[i].KW, cases[i].P);
        sy_shape xs = sy_shape_of(4, cases[i].N, cases[i].C, cases[i].H, cases[i].W);
        check(label, xs, conv_net, cfg);
        check(label, xs, conv2_net, cfg);
    }
    sy_cpu_conv_force_route(-1);
}

/* The own sgemm behind the sgemm hook: the convolution then forms its
 * columns instead of packing them straight from the image. */
static void own_sgemm_hooked(int ta, int tb, int M, int N, int K, float alpha, const float *A, int lda,
                             const float *B, int ldb, float beta, float *C, int ldc)
{
    assert_true(alpha == 1.0f);
    assert_int_equal(sy_cpu_gemm(ta, tb, M, N, K, A, lda, B, ldb, beta, C, ldc), 0);
}

/* Columns packed from the image and formed columns on the same sgemm:
 * the same values in the same order, hence the same bits. */
static void test_conv_implicit_bits(void **state)
{
    static const int cases[][9] = {
        /* N, C, H, W, O, KH, KW, P, x read twice */
        {5, 16, 9, 11, 33, 3, 3, 1, 0}, {1, 17, 7, 5, 13, 3, 3, 0, 1}, {70, 16, 4, 4, 16, 3, 3, 1, 1},
        {2, 20, 10, 7, 6, 5, 3, 2, 1},
    };
    if (sy_cpu_gemm_isa_best() < SY_GEMM_AVX2) skip(); /* the route runs on OpenBLAS there */
    sy_cpu_conv_force_route(1);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const int *c = cases[i];
        int cfg[5] = {c[4], c[5], c[6], 1, c[7]};
        sy_shape xs = sy_shape_of(4, c[0], c[1], c[2], c[3]);
        net_t a = make("cpu", xs, c[8] ? conv2_net : conv_net, cfg);
        net_t b = make("cpu", xs, c[8] ? conv2_net : conv_net, cfg);
        assert_int_equal(sy_graph_forward(a.g), SY_OK);
        assert_int_equal(sy_graph_backward(a.g, a.loss), SY_OK);
        sy_cpu_set_sgemm(own_sgemm_hooked);
        assert_int_equal(sy_graph_forward(b.g), SY_OK);
        assert_int_equal(sy_graph_backward(b.g, b.loss), SY_OK);
        sy_cpu_set_sgemm(NULL);
        size_t ny = sy_shape_numel(sy_graph_shape(a.g, a.out));
        assert_memory_equal(sy_graph_data(a.g, a.out), sy_graph_data(b.g, b.out), ny * sizeof(float));
        assert_memory_equal(sy_graph_grad(a.g, a.x), sy_graph_grad(b.g, b.x), sy_shape_numel(xs) * sizeof(float));
        assert_memory_equal(sy_params_grad(a.ps), sy_params_grad(b.ps), sy_params_trainable_size(a.ps) * sizeof(float));
        sy_graph_free(a.g);
        sy_params_free(a.ps);
        sy_graph_free(b.g);
        sy_params_free(b.ps);
    }
    sy_cpu_conv_force_route(-1);
}

/* The paper's CNN (conv, bias, pool, relu, linear layers) end to end. */
static sy_var cnn_net(sy_graph *g, sy_var x, const int *cfg) { return sy_mnist_cnn(g, x, NULL); }

static void test_mnist_cnn(void **state)
{
    check("mnist cnn N64", sy_shape_of(4, 64, 1, 28, 28), cnn_net, NULL);
    check("mnist cnn N3", sy_shape_of(4, 3, 1, 28, 28), cnn_net, NULL);
}

/* conv -> max pool with window cfg[0] and stride cfg[1]; cfg[2] = 1 makes
 * the conv output feed the sum too, so its gradient accumulates instead of
 * being overwritten by the pool's backward (the sole-consumer path). */
static sy_var pool_net(sy_graph *g, sy_var x, const int *cfg)
{
    int conv_cfg[5] = {3, 3, 3, 1, 1};
    sy_var c = conv_net(g, x, conv_cfg);
    sy_var p = sy_maxpool2d(g, c, cfg[0], cfg[1]);
    if (!cfg[2]) return p;
    sy_var s = sy_maxpool2d(g, sy_scale(g, c, 0.5f), cfg[0], cfg[1]);
    return sy_add(g, p, s);
}

static void test_pool_windows(void **state)
{
    static const int cases[][3] = {{2, 2, 0}, {2, 2, 1}, {3, 2, 0}, {3, 2, 1}, {3, 3, 0}, {2, 1, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char label[96];
        snprintf(label, sizeof label, "maxpool k%d s%d%s", cases[i][0], cases[i][1],
                 cases[i][2] ? " (two readers)" : "");
        check(label, sy_shape_of(4, 5, 2, 9, 11), pool_net, cases[i]);
    }
}

/* linear -> bias -> relu chains, with a node read by two consumers. */
static sy_var mlp_net(sy_graph *g, sy_var x, const int *cfg)
{
    sy_var h = sy_relu(g, sy_linear(g, x, "fc1", cfg[0]));
    sy_var h2 = sy_relu(g, sy_linear(g, h, "fc2", cfg[0]));
    h = sy_add(g, h, h2); /* h feeds fc2 and the sum */
    h = sy_tanh(g, sy_linear(g, h, "fc3", cfg[0]));
    return sy_linear(g, h, "fc4", 3);
}

static void test_mlp_chains(void **state)
{
    int cfg[1] = {37};
    check("mlp N64", sy_shape_of(2, 64, 19), mlp_net, cfg);
    check("mlp N1", sy_shape_of(2, 1, 19), mlp_net, cfg);
}

/* The VAE's transcendental ops (fast exp/log in the fast backend) on inputs
 * scaled by cfg[0] / 10, to reach the tails where e^-x over- or underflows. */
static sy_var vae_net(sy_graph *g, sy_var x, const int *cfg)
{
    sy_shape s = sy_graph_shape(g, x);
    sy_var h = sy_scale(g, x, cfg[0] / 10.0f);
    sy_var a = sy_silu(g, h), b = sy_sigmoid(g, h);
    sy_var t = sy_input(g, "t", s); /* targets: zeros (the graph's arena starts zeroed) */
    sy_var out = sy_add(g, sy_add(g, a, b), sy_scale(g, sy_exp(g, sy_scale(g, sy_bce_logits(g, h, t, SY_REDUCE_BATCH), -1e-3f)), 1.0f));
    /* KL: mu and logvar read only by it (the overwrite path), and h, which
     * has other readers (the accumulating path) */
    sy_var mu = sy_scale(g, x, cfg[0] / 7.0f), lv = sy_scale(g, x, cfg[0] / 40.0f);
    sy_var kl = sy_add(g, sy_kl_gauss(g, mu, lv, 0.5f, SY_REDUCE_BATCH),
                       sy_kl_gauss(g, h, sy_scale(g, h, 0.25f), 1.0f, SY_REDUCE_SUM));
    return sy_add(g, out, sy_scale(g, kl, 1e-3f));
}

static void test_vae_ops(void **state)
{
    for (int scale = 1; scale <= 1000; scale *= 10) {
        int cfg[1] = {scale};
        char label[64];
        snprintf(label, sizeof label, "silu/sigmoid/bce/kl at scale %g", scale / 10.0);
        check(label, sy_shape_of(2, 37, 53), vae_net, cfg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv_shapes),
        cmocka_unit_test(test_conv_chunked_forced),
        cmocka_unit_test(test_conv_implicit_bits),
        cmocka_unit_test(test_mnist_cnn),
        cmocka_unit_test(test_pool_windows),
        cmocka_unit_test(test_mlp_chains),
        cmocka_unit_test(test_vae_ops),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
