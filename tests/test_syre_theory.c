/* The method's claims, checked on small models built with the graph API:
 * sigma0 = 0 is plain weight decay bit for bit; symmetric states (the tanh
 * toy's origin, identical ReLU neurons, dead u_i = w_i = 0 pairs of the
 * reparametrised regression) trap vanilla training and not syre; W-fix,
 * L2-init, syre-ar and the memory-free anchors behave as specified; and the
 * optimizer's step is dl/dphi (finite differences) + wd (phi - theta0). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/core.h"
#include "syre/graph.h"
#include "syre/nn.h"
#include "syre/optim.h"

#define SY_TANH_PAD 64 /* two 1x1 tensors, each padded to 16 floats */
#include "syre/params.h"

#define assert_near(a, b, tol)                                                        \
    do {                                                                              \
        double a_ = (a), b_ = (b), t_ = (tol);                                        \
        if (!(fabs(a_ - b_) <= t_))                                                   \
            fail_msg("%s = %.17g, expected %.17g (tol %g)", #a, a_, b_, t_);          \
    } while (0)

static void fill_normal(float *a, size_t n, uint64_t seed)
{
    sy_rng r = sy_rng_make(seed, SY_STREAM_USER, 0);
    for (size_t i = 0; i < n; i++) a[i] = sy_rng_normal(&r);
}

/* ---- a small classifier: in-hidden-out ReLU MLP, softmax CE ------------ */

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_var x, y, loss;
    int batch, in, hidden, out;
} mlp_t;

static mlp_t mlp_new(int in, int hidden, int out, int batch, const char *backend)
{
    mlp_t m = {0};
    m.batch = batch, m.in = in, m.hidden = hidden, m.out = out;
    m.ps = sy_params_new();
    m.g = sy_graph_new(m.ps);
    assert_int_equal(sy_graph_set_backend(m.g, backend), SY_OK);
    m.x = sy_input(m.g, "x", sy_shape_of(2, batch, in));
    m.y = sy_input(m.g, "y", sy_shape_of(1, batch));
    sy_var h = sy_relu(m.g, sy_linear(m.g, m.x, "l1", hidden));
    sy_var o = sy_linear(m.g, h, "l2", out);
    m.loss = sy_softmax_ce(m.g, o, m.y);
    assert_int_equal(sy_graph_compile(m.g), SY_OK);
    assert_int_equal(sy_params_init(m.ps, 5), SY_OK);
    float *x = malloc((size_t)batch * in * sizeof *x);
    float *y = malloc((size_t)batch * sizeof *y);
    fill_normal(x, (size_t)batch * in, 17);
    for (int i = 0; i < batch; i++) y[i] = (float)(i % out);
    assert_int_equal(sy_graph_feed(m.g, m.x, x, (size_t)batch * in), SY_OK);
    assert_int_equal(sy_graph_feed(m.g, m.y, y, (size_t)batch), SY_OK);
    free(x);
    free(y);
    return m;
}

static void mlp_free(mlp_t *m)
{
    sy_graph_free(m->g);
    sy_params_free(m->ps);
}

static void train(sy_graph *g, sy_var loss, sy_optimizer *opt, int steps)
{
    for (int t = 0; t < steps; t++) {
        assert_int_equal(sy_graph_forward(g), SY_OK);
        assert_int_equal(sy_graph_backward(g, loss), SY_OK);
        assert_int_equal(sy_optimizer_step(opt), SY_OK);
    }
}

/* Re-initialise, train `steps` with opts, return a copy of the trainable buffer. */
static float *run(mlp_t *m, const sy_optim_opts *o, int steps)
{
    assert_int_equal(sy_params_init(m->ps, 5), SY_OK);
    sy_optimizer *opt = sy_optimizer_new(m->ps, o);
    assert_non_null(opt);
    train(m->g, m->loss, opt, steps);
    size_t n = sy_params_trainable_size(m->ps);
    float *out = malloc(n * sizeof *out);
    memcpy(out, sy_params_data(m->ps), n * sizeof *out);
    sy_optimizer_free(opt);
    return out;
}

static sy_optim_opts opts_for(sy_optim_kind kind, sy_decay d)
{
    sy_optim_opts o = sy_optim_defaults(kind);
    o.lr = kind == SY_OPTIM_SGD ? 0.05f : 3e-3f;
    o.momentum = kind == SY_OPTIM_SGD ? 0.9f : 0.0f;
    o.decay = d;
    o.seed = 99;
    return o;
}

/* ---- sigma0 = 0 is plain weight decay ---------------------------------- */

static void test_sigma0_zero_is_weight_decay(void **state)
{
    (void)state;
    mlp_t m = mlp_new(10, 16, 3, 32, "cpu");
    size_t n = sy_params_trainable_size(m.ps);
    const sy_optim_kind kinds[3] = {SY_OPTIM_SGD, SY_OPTIM_ADAM, SY_OPTIM_ADAMW};
    for (int k = 0; k < 3; k++) {
        sy_optim_opts o = opts_for(kinds[k], sy_decay_l2(0.05f));
        float *plain = run(&m, &o, 50);
        o.decay = sy_decay_syre(0.05f, 0.0f);
        float *stored = run(&m, &o, 50);
        o.anchor_storage = SY_ANCHOR_REGENERATE;
        float *regen = run(&m, &o, 50);
        o.decay = sy_decay_syre_ar(0.05f, 0.0f, 0.0f);
        float *ar = run(&m, &o, 50);
        assert_memory_equal(plain, stored, n * sizeof(float));
        assert_memory_equal(plain, regen, n * sizeof(float));
        assert_memory_equal(plain, ar, n * sizeof(float));
        /* ...and a real sigma0 does change the result. */
        o.decay = sy_decay_syre(0.05f, 0.01f);
        float *syre = run(&m, &o, 50);
        assert_true(memcmp(plain, syre, n * sizeof(float)) != 0);
        free(plain), free(stored), free(regen), free(ar), free(syre);
    }
    mlp_free(&m);
}

/* ---- theta1 tanh(theta2 x): the origin traps vanilla, not syre -------- */

static void test_tanh_toy_escapes_only_with_syre(void **state)
{
    (void)state;
    const int N = 64;
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(2, N, 1));
    sy_var y = sy_input(g, "y", sy_shape_of(2, N, 1));
    sy_var h = sy_tanh(g, sy_linear_nobias(g, x, "theta2", 1));
    sy_var out = sy_linear_nobias(g, h, "theta1", 1);
    sy_var loss = sy_mse(g, out, y, SY_REDUCE_MEAN);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    float xs[64], ys[64];
    fill_normal(xs, N, 3);
    for (int i = 0; i < N; i++) ys[i] = 2.0f * tanhf(1.5f * xs[i]);
    sy_graph_feed(g, x, xs, N);
    sy_graph_feed(g, y, ys, N);
    float *p = sy_params_data(ps);
    size_t n = sy_params_trainable_size(ps);

    const float wds[3] = {0.0f, 1e-3f, 0.1f};
    for (int k = 0; k < 3; k++) {
        memset(p, 0, n * sizeof *p);
        sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
        o.lr = 0.1f;
        o.decay = sy_decay_l2(wds[k]);
        sy_optimizer *opt = sy_optimizer_new(ps, &o);
        train(g, loss, opt, 300);
        for (size_t i = 0; i < n; i++) assert_true(p[i] == 0.0f);
        sy_optimizer_free(opt);
    }
    /* syre from exactly phi = (0, 0) (no shift): the pull toward theta0 breaks
     * the symmetry and the saddle does the rest. With the default shift the
     * start is theta0 itself; both leave by orders of magnitude. */
    for (int shift = 0; shift <= 1; shift++) {
        memset(p, 0, n * sizeof *p);
        sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
        o.lr = 0.1f;
        o.decay = sy_decay_syre(1e-2f, 0.01f);
        o.shift_init = shift;
        sy_optimizer *opt = sy_optimizer_new(ps, &o);
        float a[SY_TANH_PAD] = {0}; /* the anchor of every trainable element, padding included */
        assert_true(sy_params_trainable_size(ps) <= SY_TANH_PAD);
        sy_optimizer_anchor(opt, a);
        float a_max = fmaxf(fabsf(a[0]), fabsf(a[1]));
        assert_true(a_max > 0 && a_max < 0.05f);
        train(g, loss, opt, 300);
        float norm = sqrtf(p[0] * p[0] + p[1] * p[1]);
        assert_true(norm > 100 * a_max);
        assert_true(norm > 0.5f);
        assert_true(sy_graph_scalar(g, loss) < 0.1f);
        sy_optimizer_free(opt);
    }
    sy_graph_free(g);
    sy_params_free(ps);
}

/* ---- identical ReLU neurons -------------------------------------------- */

enum { COPIES = 4 };

/* Hidden units 1..COPIES become copies of unit 0 (rows of W1 and b1, columns of W2). */
static void make_identical(mlp_t *m)
{
    float *W1 = sy_params_tensor(m->ps, sy_params_find(m->ps, "l1.weight"));
    float *b1 = sy_params_tensor(m->ps, sy_params_find(m->ps, "l1.bias"));
    float *W2 = sy_params_tensor(m->ps, sy_params_find(m->ps, "l2.weight"));
    for (int c = 1; c <= COPIES; c++) {
        memcpy(W1 + c * m->in, W1, m->in * sizeof(float));
        b1[c] = b1[0];
        for (int o = 0; o < m->out; o++) W2[o * m->hidden + c] = W2[o * m->hidden];
    }
}

/* Largest difference between unit 0 and its copies, over all its parameters. */
static double copy_spread(mlp_t *m)
{
    const float *W1 = sy_params_tensor(m->ps, sy_params_find(m->ps, "l1.weight"));
    const float *b1 = sy_params_tensor(m->ps, sy_params_find(m->ps, "l1.bias"));
    const float *W2 = sy_params_tensor(m->ps, sy_params_find(m->ps, "l2.weight"));
    double d = 0;
    for (int c = 1; c <= COPIES; c++) {
        for (int j = 0; j < m->in; j++) d = fmax(d, fabs(W1[c * m->in + j] - W1[j]));
        d = fmax(d, fabs(b1[c] - b1[0]));
        for (int o = 0; o < m->out; o++) d = fmax(d, fabs(W2[o * m->hidden + c] - W2[o * m->hidden]));
    }
    return d;
}

static double spread_after(mlp_t *m, sy_optim_opts o, int steps)
{
    assert_int_equal(sy_params_init(m->ps, 5), SY_OK);
    make_identical(m);
    o.shift_init = 0; /* start from the exactly symmetric point in every run */
    sy_optimizer *opt = sy_optimizer_new(m->ps, &o);
    assert_non_null(opt);
    assert_true(copy_spread(m) == 0.0);
    train(m->g, m->loss, opt, steps);
    sy_optimizer_free(opt);
    return copy_spread(m);
}

static void test_identical_neurons(void **state)
{
    (void)state;
    const sy_optim_kind kinds[2] = {SY_OPTIM_SGD, SY_OPTIM_ADAM};
    for (int b = 0; b < 2; b++) {
        mlp_t m = mlp_new(20, 16, 3, 64, b == 0 ? "cpu-ref" : "cpu");
        for (int k = 0; k < 2; k++) {
            sy_optim_opts o = opts_for(kinds[k], sy_decay_l2(1e-2f));
            double vanilla = spread_after(&m, o, 30);
            o.decay = sy_decay_syre(1e-2f, 0.01f);
            double syre = spread_after(&m, o, 30);
            printf("# identical neurons, %s, %s: spread vanilla %.3g, syre %.3g\n",
                   b == 0 ? "cpu-ref" : "cpu", kinds[k] == SY_OPTIM_SGD ? "SGD" : "Adam", vanilla, syre);
            if (b == 0)
                assert_true(vanilla == 0.0);
            else
                assert_true(vanilla < 1e-6);
            assert_true(syre > 1e-4);
            assert_true(syre > 1000 * fmax(vanilla, 1e-7));
        }
        mlp_free(&m);
    }
}

/* ---- (u * w)^T x: dead pairs under vanilla, none under syre ----------- */

static void test_rescaling_symmetry(void **state)
{
    (void)state;
    enum { D = 200, N = 500, SUPPORT = 10 };
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_init uinit = {SY_INIT_UNIFORM_FANIN, 1.0f};
    sy_var x = sy_input(g, "x", sy_shape_of(2, N, D));
    sy_var y = sy_input(g, "y", sy_shape_of(1, N));
    sy_var u = sy_param_new(g, "u", sy_shape_of(2, 1, D), 1, uinit, 1);
    sy_var w = sy_param_new(g, "w", sy_shape_of(2, 1, D), 1, uinit, 1);
    sy_var pred = sy_sum_axis(g, sy_mul(g, x, sy_mul(g, u, w)), 1);
    sy_var loss = sy_mse(g, pred, y, SY_REDUCE_MEAN);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    float *xs = malloc((size_t)N * D * sizeof *xs), *ys = calloc(N, sizeof *ys);
    fill_normal(xs, (size_t)N * D, 8);
    for (int i = 0; i < N; i++)
        for (int j = 0; j < SUPPORT; j++) ys[i] += xs[(size_t)i * D + j];
    sy_graph_feed(g, x, xs, (size_t)N * D);
    sy_graph_feed(g, y, ys, N);
    const float *U = sy_params_tensor(ps, sy_params_find(ps, "u"));
    const float *W = sy_params_tensor(ps, sy_params_find(ps, "w"));

    for (int method = 0; method < 2; method++) {
        assert_int_equal(sy_params_init(ps, 1), SY_OK);
        sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
        o.lr = 0.1f;
        o.decay = method == 0 ? sy_decay_l2(0.2f) : sy_decay_syre(0.2f, 0.1f);
        sy_optimizer *opt = sy_optimizer_new(ps, &o);
        train(g, loss, opt, 1500);
        int dead = 0;
        double min_alive = 1e30;
        for (int i = SUPPORT; i < D; i++) {
            double prod = fabs((double)U[i] * W[i]);
            if (prod < 1e-6 && fabs(U[i]) < 1e-4 && fabs(W[i]) < 1e-4) dead++;
            min_alive = fmin(min_alive, fmax(fabs(U[i]), fabs(W[i])));
        }
        /* The support is learnt either way: u_i w_i near the teacher's 1. */
        for (int i = 0; i < SUPPORT; i++) assert_near((double)U[i] * W[i], 1.0, 0.2);
        printf("# rescaling, %s: %d of %d off-support pairs dead, min max(|u|,|w|) %.3g\n",
               method == 0 ? "vanilla" : "syre", dead, D - SUPPORT, min_alive);
        if (method == 0)
            assert_int_equal(dead, D - SUPPORT);
        else {
            assert_int_equal(dead, 0);
            assert_true(min_alive > 1e-3);
        }
        sy_optimizer_free(opt);
    }
    free(xs);
    free(ys);
    sy_graph_free(g);
    sy_params_free(ps);
}

/* ---- baselines and storage modes --------------------------------------- */

static void test_wfix_entries_never_change(void **state)
{
    (void)state;
    mlp_t m = mlp_new(20, 16, 3, 64, "cpu");
    size_t n = sy_params_trainable_size(m.ps);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(sy_params_init(m.ps, 5), SY_OK);
        sy_optim_opts o = opts_for(k ? SY_OPTIM_ADAMW : SY_OPTIM_SGD, sy_decay_wfix(0.1f, 0.3f, 0.01f));
        sy_optimizer *opt = sy_optimizer_new(m.ps, &o);
        float *before = malloc(n * sizeof *before);
        memcpy(before, sy_params_data(m.ps), n * sizeof *before);
        /* round(0.3 numel) per weight matrix, none in biases. */
        assert_int_equal(sy_optimizer_num_fixed(opt), (size_t)(96 + 14));
        double sq = 0;
        for (int t = 0; t < sy_params_count(m.ps); t++) {
            const sy_param_info *pi = sy_params_info(m.ps, t);
            size_t c = 0;
            for (size_t j = 0; j < pi->numel; j++)
                if (sy_optimizer_is_fixed(opt, pi->offset + j)) {
                    c++;
                    sq += (double)before[pi->offset + j] * before[pi->offset + j];
                }
            assert_int_equal(c, pi->shape.ndim >= 2 ? (size_t)lround(0.3 * pi->numel) : 0);
        }
        /* Their values have variance kappa = 0.01 (loosely: 110 samples). */
        assert_true(sq / 110 > 0.004 && sq / 110 < 0.02);
        train(m.g, m.loss, opt, 40);
        const float *p = sy_params_data(m.ps);
        size_t moved = 0;
        for (size_t i = 0; i < n; i++) {
            if (sy_optimizer_is_fixed(opt, i))
                assert_true(p[i] == before[i]);
            else
                moved += p[i] != before[i];
        }
        assert_true(moved > n / 2);
        free(before);
        sy_optimizer_free(opt);
    }
    mlp_free(&m);
}

static void test_l2init_decays_to_init(void **state)
{
    (void)state;
    mlp_t m = mlp_new(10, 8, 3, 4, "cpu");
    size_t n = sy_params_trainable_size(m.ps);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.1f;
    o.decay = sy_decay_l2_init(1.0f);
    sy_optimizer *opt = sy_optimizer_new(m.ps, &o);
    float *init = malloc(n * sizeof *init);
    float *p = sy_params_data(m.ps);
    memcpy(init, p, n * sizeof *init);
    /* Move every element (not the alignment padding, which is no parameter). */
    for (int t = 0; t < sy_params_count(m.ps); t++) {
        const sy_param_info *pi = sy_params_info(m.ps, t);
        for (size_t j = 0; j < pi->numel; j++) p[pi->offset + j] += 1.0f;
    }
    sy_params_zero_grad(m.ps);
    for (int t = 0; t < 300; t++) sy_optimizer_step(opt);
    for (size_t i = 0; i < n; i++) assert_near(p[i], init[i], 1e-6);
    assert_true(fabsf(init[0]) > 1e-3);
    sy_optimizer_free(opt);
    free(init);
    mlp_free(&m);
}

static void test_storage_modes_and_ar(void **state)
{
    (void)state;
    mlp_t m = mlp_new(10, 16, 3, 32, "cpu");
    size_t n = sy_params_trainable_size(m.ps);
    const sy_optim_kind kinds[3] = {SY_OPTIM_SGD, SY_OPTIM_ADAM, SY_OPTIM_ADAMW};
    for (int k = 0; k < 3; k++) {
        /* syre-ar with eps = 0 is syre, through the general-D code path. */
        sy_optim_opts o = opts_for(kinds[k], sy_decay_syre(0.05f, 0.5f));
        float *syre = run(&m, &o, 50);
        o.decay = sy_decay_syre_ar(0.05f, 0.5f, 0.0f);
        float *ar0 = run(&m, &o, 50);
        assert_memory_equal(syre, ar0, n * sizeof(float));
        /* Stored and memory-free anchors give identical parameters. */
        const sy_decay rules[2] = {sy_decay_syre(0.05f, 0.5f), sy_decay_syre_ar(0.05f, 0.5f, 0.3f)};
        for (int r = 0; r < 2; r++) {
            o.decay = rules[r];
            o.anchor_storage = SY_ANCHOR_STORED;
            float *st = run(&m, &o, 200);
            o.anchor_storage = SY_ANCHOR_REGENERATE;
            float *rg = run(&m, &o, 200);
            assert_memory_equal(st, rg, n * sizeof(float));
            free(st), free(rg);
        }
        o.decay = sy_decay_syre_ar(0.05f, 0.5f, 0.3f);
        float *ar = run(&m, &o, 50);
        assert_true(memcmp(syre, ar, n * sizeof(float)) != 0);
        free(syre), free(ar0), free(ar);
    }
    /* Groups: syre on the head only leaves l1 exactly as with plain decay. */
    sy_optim_opts o = opts_for(SY_OPTIM_SGD, sy_decay_l2(0.05f));
    o.lr = 0.0f; /* decay-free lr: only the creation-time shift shows */
    float *plain = run(&m, &o, 1);
    sy_optim_add_rule(&o, "l2.*", sy_decay_syre(0.05f, 0.5f));
    float *head = run(&m, &o, 1);
    for (int t = 0; t < sy_params_count(m.ps); t++) {
        const sy_param_info *pi = sy_params_info(m.ps, t);
        int same = memcmp(plain + pi->offset, head + pi->offset, pi->numel * sizeof(float)) == 0;
        assert_int_equal(same, strncmp(pi->name, "l2.", 3) != 0);
    }
    free(plain), free(head);
    mlp_free(&m);
}

/* ---- the step is dl/dphi + wd (phi - theta0) ---------------------------- */

static void test_step_matches_finite_differences(void **state)
{
    (void)state;
    const int B = 8;
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(2, B, 3));
    sy_var y = sy_input(g, "y", sy_shape_of(2, B, 2));
    sy_var h = sy_tanh(g, sy_linear(g, x, "a", 4));
    sy_var loss = sy_mse(g, sy_linear(g, h, "b", 2), y, SY_REDUCE_MEAN);
    assert_int_equal(sy_graph_set_backend(g, "cpu-ref"), SY_OK);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    sy_params_init(ps, 2);
    float xs[24], ys[16];
    fill_normal(xs, 24, 4);
    fill_normal(ys, 16, 6);
    sy_graph_feed(g, x, xs, 24);
    sy_graph_feed(g, y, ys, 16);

    const float wd = 0.3f;
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 1.0f;
    o.decay = sy_decay_syre(wd, 2.0f); /* large anchors so the decay term is visible */
    o.anchor_storage = SY_ANCHOR_REGENERATE;
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    size_t n = sy_params_trainable_size(ps);
    float *p = sy_params_data(ps);
    float *before = malloc(n * sizeof *before), *theta0 = malloc(n * sizeof *theta0);
    float *fd = calloc(n, sizeof *fd);
    memcpy(before, p, n * sizeof *before);
    sy_optimizer_anchor(opt, theta0);

    const float hstep = 1e-2f;
    for (int t = 0; t < sy_params_count(ps); t++) {
        const sy_param_info *pi = sy_params_info(ps, t);
        for (size_t j = 0; j < pi->numel; j++) {
            size_t i = pi->offset + j;
            p[i] = before[i] + hstep;
            sy_graph_forward(g);
            double lp = sy_graph_scalar(g, loss);
            p[i] = before[i] - hstep;
            sy_graph_forward(g);
            double lm = sy_graph_scalar(g, loss);
            p[i] = before[i];
            fd[i] = (float)((lp - lm) / (2.0 * hstep));
        }
    }
    train(g, loss, opt, 1);
    int decay_visible = 0;
    for (int t = 0; t < sy_params_count(ps); t++) {
        const sy_param_info *pi = sy_params_info(ps, t);
        for (size_t j = 0; j < pi->numel; j++) {
            size_t i = pi->offset + j;
            double step = (double)before[i] - p[i];
            double dec = wd * ((double)before[i] - theta0[i]);
            assert_near(step, fd[i] + dec, 2e-3 + 1e-3 * fabs(step));
            if (fabs(dec) > 0.05) decay_visible++;
        }
    }
    assert_true(decay_visible > (int)(sy_params_num_trainable(ps) / 2));
    free(before), free(theta0), free(fd);
    sy_optimizer_free(opt);
    sy_graph_free(g);
    sy_params_free(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sigma0_zero_is_weight_decay),
        cmocka_unit_test(test_tanh_toy_escapes_only_with_syre),
        cmocka_unit_test(test_identical_neurons),
        cmocka_unit_test(test_rescaling_symmetry),
        cmocka_unit_test(test_wfix_entries_never_change),
        cmocka_unit_test(test_l2init_decays_to_init),
        cmocka_unit_test(test_storage_modes_and_ar),
        cmocka_unit_test(test_step_matches_finite_differences),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
