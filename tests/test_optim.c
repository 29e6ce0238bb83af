/* Tests of src/optim against hand-computed PyTorch updates on a 3-element
 * buffer (SGD, momentum, Nesterov, Adam, AdamW), schedules, clipping, rule
 * resolution by name pattern, the anchor streams, checkpoint state, method
 * parsing and rejection of bad options. */
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
#include "syre/trainer.h"

#define assert_near(a, b, tol)                                                        \
    do {                                                                              \
        double a_ = (a), b_ = (b), t_ = (tol);                                        \
        if (!(fabs(a_ - b_) <= t_))                                                   \
            fail_msg("%s = %.17g, expected %.17g (tol %g)", #a, a_, b_, t_);          \
    } while (0)

#define assert_fails(code, call)                                   \
    do {                                                           \
        sy_clear_error();                                          \
        assert_int_equal((call), (code));                          \
        assert_true(strlen(sy_last_error()) > 0);                  \
    } while (0)

static const double P0[3] = {1.0, -2.0, 3.0};
static const double G0[3] = {0.5, -1.0, 2.0};

/* A store holding one trainable [3] tensor "w" = P0 with gradient G0. */
static sy_params *store3(void)
{
    sy_params *ps = sy_params_new();
    sy_init z = {SY_INIT_ZERO, 0};
    assert_int_equal(sy_params_add(ps, "w", sy_shape_of(1, 3), 1, z, 1), 0);
    assert_int_equal(sy_params_layout(ps), SY_OK);
    for (int i = 0; i < 3; i++) {
        sy_params_data(ps)[i] = (float)P0[i];
        sy_params_grad(ps)[i] = (float)G0[i];
    }
    return ps;
}

/* ---- hand-computed updates --------------------------------------------- */

static void test_sgd_plain_and_decay(void **state)
{
    (void)state;
    sy_params *ps = store3();
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.1f;
    o.decay = sy_decay_l2(0.5f);
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    assert_non_null(opt);
    assert_int_equal(sy_optimizer_step(opt), SY_OK);
    /* p - lr (g + wd p): 1 - 0.1 (0.5 + 0.5) = 0.9; -2 - 0.1 (-1 - 1) = -1.8; 3 - 0.1 (2 + 1.5) = 2.65 */
    const float *p = sy_params_data(ps);
    assert_near(p[0], 0.9, 1e-6);
    assert_near(p[1], -1.8, 1e-6);
    assert_near(p[2], 2.65, 1e-6);
    /* The gradient buffer is read, never written. */
    assert_near(sy_params_grad(ps)[2], 2.0, 0);
    assert_int_equal(sy_optimizer_num_state(opt), 0);
    sy_optimizer_free(opt);
    sy_params_free(ps);
}

/* PyTorch SGD in double: buf = g on the first step, then m buf + g. */
static void sgd_ref(double *p, double *buf, int steps, double lr, double mom, double wd, int nesterov)
{
    for (int t = 0; t < steps; t++)
        for (int i = 0; i < 3; i++) {
            double g = G0[i] + wd * p[i];
            buf[i] = t == 0 ? g : mom * buf[i] + g;
            double d = nesterov ? g + mom * buf[i] : buf[i];
            p[i] -= lr * d;
        }
}

static void check_sgd(double mom, double wd, int nesterov)
{
    sy_params *ps = store3();
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.1f;
    o.momentum = (float)mom;
    o.nesterov = nesterov;
    o.decay = sy_decay_l2((float)wd);
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    assert_non_null(opt);
    for (int t = 0; t < 3; t++) assert_int_equal(sy_optimizer_step(opt), SY_OK);
    double p[3] = {P0[0], P0[1], P0[2]}, buf[3];
    sgd_ref(p, buf, 3, 0.1, mom, wd, nesterov);
    for (int i = 0; i < 3; i++) {
        assert_near(sy_params_data(ps)[i], p[i], 1e-5);
        assert_near(sy_optimizer_state(opt, 0)[i], buf[i], 1e-5);
    }
    assert_string_equal(sy_optimizer_state_name(opt, 0), "momentum_buffer");
    sy_optimizer_free(opt);
    sy_params_free(ps);
}

static void test_sgd_momentum(void **state)
{
    (void)state;
    /* Two steps by hand, momentum 0.9, no decay: buf1 = g, p1 = p0 - 0.1 g;
     * buf2 = 1.9 g, p2 = p0 - 0.29 g: w[0] = 1 - 0.145 = 0.855. */
    sy_params *ps = store3();
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.1f;
    o.momentum = 0.9f;
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    sy_optimizer_step(opt);
    sy_optimizer_step(opt);
    assert_near(sy_params_data(ps)[0], 0.855, 1e-6);
    assert_near(sy_params_data(ps)[2], 3 - 0.58, 1e-6);
    sy_optimizer_free(opt);
    sy_params_free(ps);
    check_sgd(0.9, 0.0, 0);
    check_sgd(0.9, 0.1, 0);
}

static void test_sgd_nesterov(void **state)
{
    (void)state;
    /* First step by hand: buf = g, d = g + 0.9 g = 1.9 g: w[0] = 1 - 0.095. */
    sy_params *ps = store3();
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.1f;
    o.momentum = 0.9f;
    o.nesterov = 1;
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    sy_optimizer_step(opt);
    assert_near(sy_params_data(ps)[0], 0.905, 1e-6);
    sy_optimizer_free(opt);
    sy_params_free(ps);
    check_sgd(0.9, 0.0, 1);
    check_sgd(0.5, 0.2, 1);
}

/* PyTorch Adam / AdamW in double. */
static void adam_ref(double *p, int steps, double lr, double b1, double b2, double eps, double wd,
                     int decoupled)
{
    double m[3] = {0}, v[3] = {0};
    for (int t = 1; t <= steps; t++)
        for (int i = 0; i < 3; i++) {
            double g = G0[i];
            if (decoupled)
                p[i] *= 1 - lr * wd;
            else
                g += wd * p[i];
            m[i] = b1 * m[i] + (1 - b1) * g;
            v[i] = b2 * v[i] + (1 - b2) * g * g;
            double mh = m[i] / (1 - pow(b1, t));
            double den = sqrt(v[i]) / sqrt(1 - pow(b2, t)) + eps;
            p[i] -= lr * mh / den;
        }
}

static void check_adam(sy_optim_kind kind, double wd)
{
    sy_params *ps = store3();
    sy_optim_opts o = sy_optim_defaults(kind);
    o.lr = 0.01f;
    o.eps = 1e-3f; /* large, so that eps-outside-the-sqrt is actually tested */
    o.decay = sy_decay_l2((float)wd);
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    assert_non_null(opt);
    for (int t = 0; t < 5; t++) assert_int_equal(sy_optimizer_step(opt), SY_OK);
    double p[3] = {P0[0], P0[1], P0[2]};
    adam_ref(p, 5, 0.01, 0.9, 0.999, 1e-3, wd, kind == SY_OPTIM_ADAMW);
    for (int i = 0; i < 3; i++) assert_near(sy_params_data(ps)[i], p[i], 2e-6);
    assert_int_equal(sy_optimizer_num_state(opt), 2);
    assert_string_equal(sy_optimizer_state_name(opt, 0), "exp_avg");
    assert_string_equal(sy_optimizer_state_name(opt, 1), "exp_avg_sq");
    assert_int_equal(sy_optimizer_steps(opt), 5);
    sy_optimizer_free(opt);
    sy_params_free(ps);
}

static void test_adam(void **state)
{
    (void)state;
    /* First step by hand: m_hat = g, v_hat = g^2, so p1 = p0 - lr g / (|g| + eps). */
    sy_params *ps = store3();
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAM);
    o.lr = 0.01f;
    o.eps = 0.5f;
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    sy_optimizer_step(opt);
    assert_near(sy_params_data(ps)[0], 1 - 0.01 * 0.5 / 1.0, 1e-7);
    assert_near(sy_params_data(ps)[1], -2 + 0.01 * 1 / 1.5, 1e-7);
    assert_near(sy_params_data(ps)[2], 3 - 0.01 * 2 / 2.5, 1e-6);
    sy_optimizer_free(opt);
    sy_params_free(ps);
    check_adam(SY_OPTIM_ADAM, 0.0);
    check_adam(SY_OPTIM_ADAM, 0.1);
}

static void test_adamw(void **state)
{
    (void)state;
    /* First step by hand, wd 0.1, lr 0.01, eps 0.5: p (1 - 0.001) - 0.01 g/(|g| + 0.5). */
    sy_params *ps = store3();
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAMW);
    o.lr = 0.01f;
    o.eps = 0.5f;
    o.decay = sy_decay_l2(0.1f);
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    sy_optimizer_step(opt);
    assert_near(sy_params_data(ps)[0], 0.999 - 0.005, 1e-7);
    assert_near(sy_params_data(ps)[2], 3 * 0.999 - 0.008, 1e-6);
    sy_optimizer_free(opt);
    sy_params_free(ps);
    check_adam(SY_OPTIM_ADAMW, 0.1);
    assert_near(sy_optim_defaults(SY_OPTIM_ADAMW).decay.weight_decay, 0.01, 1e-9);
}

/* ---- schedules and clipping -------------------------------------------- */

static void test_schedules(void **state)
{
    (void)state;
    sy_schedule s = {0};
    s.kind = SY_SCHED_CONSTANT;
    for (long t = 0; t < 5; t++) assert_near(sy_schedule_lr(&s, 0.1f, t), 0.1, 1e-8);

    s.kind = SY_SCHED_STEP;
    s.step_size = 2;
    s.gamma = 0.5f;
    const double step_lr[6] = {1, 1, 0.5, 0.5, 0.25, 0.25};
    for (long t = 0; t < 6; t++) assert_near(sy_schedule_lr(&s, 1.0f, t), step_lr[t], 1e-7);

    s.kind = SY_SCHED_COSINE;
    s.total_steps = 4;
    s.min_lr = 0.0f;
    const double cos_lr[6] = {1, 0.85355339, 0.5, 0.14644661, 0, 0};
    for (long t = 0; t < 6; t++) assert_near(sy_schedule_lr(&s, 1.0f, t), cos_lr[t], 1e-6);
    s.min_lr = 0.1f;
    assert_near(sy_schedule_lr(&s, 1.0f, 2), 0.55, 1e-6);
    assert_near(sy_schedule_lr(&s, 1.0f, 100), 0.1, 1e-7);

    /* Warm-up 2 then cosine over 4: 0.5, 1, then the cosine from its start. */
    s.min_lr = 0.0f;
    s.warmup_steps = 2;
    const double wc[5] = {0.5, 1.0, 1.0, 0.85355339, 0.5};
    for (long t = 0; t < 5; t++) assert_near(sy_schedule_lr(&s, 1.0f, t), wc[t], 1e-6);

    /* The optimizer follows the schedule: SGD lr sequence on a zero-gradient store. */
    sy_params *ps = store3();
    memset(sy_params_grad(ps), 0, 3 * sizeof(float));
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 1.0f;
    o.schedule.kind = SY_SCHED_STEP;
    o.schedule.step_size = 2;
    o.schedule.gamma = 0.5f;
    o.schedule.warmup_steps = 1;
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    const double seq[5] = {1.0, 1.0, 1.0, 0.5, 0.5};
    for (int t = 0; t < 5; t++) {
        assert_near(sy_optimizer_lr(opt), seq[t], 1e-7);
        sy_optimizer_step(opt);
    }
    sy_optimizer_free(opt);
    sy_params_free(ps);
}

static void test_clipping(void **state)
{
    (void)state;
    sy_params *ps = store3();
    float *g = sy_params_grad(ps);
    g[0] = 3;
    g[1] = 4;
    g[2] = 0;
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 1.0f;
    o.max_grad_norm = 1.0f;
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    assert_int_equal(sy_optimizer_step(opt), SY_OK);
    assert_near(sy_optimizer_last_grad_norm(opt), 5.0, 1e-6);
    /* Scaled to norm 1: the step is g / 5. */
    assert_near(sy_params_data(ps)[0], 1 - 0.6, 1e-6);
    assert_near(sy_params_data(ps)[1], -2 - 0.8, 1e-6);
    assert_near(sy_params_data(ps)[2], 3, 0);
    sy_optimizer_free(opt);

    /* Under the limit nothing is scaled. */
    o.max_grad_norm = 10.0f;
    opt = sy_optimizer_new(ps, &o);
    float before = sy_params_data(ps)[1];
    sy_optimizer_step(opt);
    assert_near(sy_params_data(ps)[1], before - 4, 1e-6);

    /* A non-finite gradient is refused and leaves the parameters alone. */
    g[0] = NAN;
    before = sy_params_data(ps)[1];
    assert_fails(SY_ERR_NUMERIC, sy_optimizer_step(opt));
    assert_near(sy_params_data(ps)[1], before, 0);
    sy_optimizer_free(opt);
    sy_params_free(ps);
}

/* ---- rules, anchors, state ---------------------------------------------- */

/* enc.weight [4,5] (fan_in 5), enc.bias [4], head.weight [2,4], head.bias [2],
 * bn.running_mean [4] (buffer), all initialised from seed 3. */
static sy_params *store_model(void)
{
    sy_params *ps = sy_params_new();
    sy_init u = {SY_INIT_UNIFORM_FANIN, 1.0f};
    sy_params_add(ps, "enc.weight", sy_shape_of(2, 4, 5), 5, u, 1);
    sy_params_add(ps, "enc.bias", sy_shape_of(1, 4), 5, u, 1);
    sy_params_add(ps, "head.weight", sy_shape_of(2, 2, 4), 4, u, 1);
    sy_params_add(ps, "head.bias", sy_shape_of(1, 2), 4, u, 1);
    sy_params_add(ps, "bn.running_mean", sy_shape_of(1, 4), 4, u, 0);
    assert_int_equal(sy_params_init(ps, 3), SY_OK);
    return ps;
}

/* A rule whose pattern selects no trainable tensor is a typo that would turn
 * syre off without a word: refused, naming the pattern and the tensors;
 * a rule marked optional may match nothing. fan_in < 1 is refused (it sets
 * the anchor scale sigma0/sqrt(fan_in)). */
static void test_rule_matching_nothing(void **state)
{
    (void)state;
    sy_params *ps = store_model();
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.decay = sy_decay_l2(1e-3f);
    assert_int_equal(sy_optim_add_rule(&o, "enc.*", sy_decay_syre(1e-3f, 0.5f)), SY_OK);
    assert_int_equal(sy_optim_add_rule(&o, "fc1.*", sy_decay_syre(1e-3f, 0.5f)), SY_OK);
    sy_clear_error();
    assert_null(sy_optimizer_new(ps, &o));
    const char *e = sy_last_error();
    assert_non_null(strstr(e, "'fc1.*'"));
    assert_non_null(strstr(e, "enc.weight"));
    assert_non_null(strstr(e, "head.bias"));
    assert_null(strstr(e, "bn.running_mean")); /* not trainable: no rule applies to it */
    /* A pattern that only a buffer matches selects no trainable tensor either. */
    o = sy_optim_defaults(SY_OPTIM_SGD);
    assert_int_equal(sy_optim_add_rule(&o, "bn.*", sy_decay_none()), SY_OK);
    assert_null(sy_optimizer_new(ps, &o));
    assert_non_null(strstr(sy_last_error(), "'bn.*'"));
    /* Shadowed by an earlier rule, it selects nothing. */
    o = sy_optim_defaults(SY_OPTIM_SGD);
    assert_int_equal(sy_optim_add_rule(&o, "*", sy_decay_none()), SY_OK);
    assert_int_equal(sy_optim_add_rule(&o, "head.*", sy_decay_syre(1e-3f, 0.5f)), SY_OK);
    assert_null(sy_optimizer_new(ps, &o));
    assert_non_null(strstr(sy_last_error(), "'head.*'"));
    /* Optional: allowed to match nothing. */
    o = sy_optim_defaults(SY_OPTIM_SGD);
    assert_int_equal(sy_optim_add_rule(&o, "fc1.*", sy_decay_syre(1e-3f, 0.5f)), SY_OK);
    o.rules[0].optional = 1;
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    assert_non_null(opt);
    sy_optimizer_free(opt);
    sy_params_free(ps);

    ps = sy_params_new();
    sy_init u = {SY_INIT_UNIFORM_FANIN, 1.0f};
    sy_clear_error();
    assert_int_equal(sy_params_add(ps, "w", sy_shape_of(2, 2, 3), 0, u, 1), -1);
    assert_non_null(strstr(sy_last_error(), "fan_in"));
    assert_non_null(strstr(sy_last_error(), "'w'"));
    sy_params_free(ps);
}

static void test_rules_and_anchors(void **state)
{
    (void)state;
    sy_params *ps = store_model();
    size_t n = sy_params_trainable_size(ps), total = sy_params_total_size(ps);
    float *init = malloc(total * sizeof *init);
    memcpy(init, sy_params_data(ps), total * sizeof *init);

    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.seed = 11;
    o.decay = sy_decay_l2(1e-3f);
    assert_int_equal(sy_optim_add_rule(&o, "head.*", sy_decay_syre(1e-3f, 0.5f)), SY_OK);
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    assert_non_null(opt);
    assert_int_equal(sy_optimizer_rule_of(opt, 0)->kind, SY_DECAY_L2);
    assert_int_equal(sy_optimizer_rule_of(opt, 2)->kind, SY_DECAY_SYRE);
    assert_int_equal(sy_optimizer_rule_of(opt, 3)->kind, SY_DECAY_SYRE);
    assert_null(sy_optimizer_rule_of(opt, 4)); /* buffers get no rule */

    float *a = calloc(n, sizeof *a);
    assert_int_equal(sy_optimizer_anchor(opt, a), SY_OK);
    uint64_t key = sy_rng_key(11, SY_STREAM_ANCHOR);
    for (int t = 0; t < 4; t++) {
        const sy_param_info *pi = sy_params_info(ps, t);
        for (size_t j = 0; j < pi->numel; j++) {
            size_t i = pi->offset + j;
            /* theta0 = sigma0/sqrt(fan_in) * N(0,1) at (tensor, element); phi = init + theta0. */
            float want = t >= 2 ? (float)(0.5 / sqrt(4.0)) * sy_rng_normal_at(key, (uint64_t)t, j) : 0.0f;
            assert_true(a[i] == want);
            assert_true(sy_params_data(ps)[i] == init[i] + want);
        }
    }
    /* The buffer is untouched. */
    const sy_param_info *bn = sy_params_info(ps, 4);
    assert_memory_equal(sy_params_data(ps) + bn->offset, init + bn->offset, 4 * sizeof(float));
    assert_int_equal(sy_optimizer_num_state(opt), 1);
    assert_string_equal(sy_optimizer_state_name(opt, 0), "anchor");
    assert_int_equal(sy_optimizer_decay_bytes(opt), n * sizeof(float));
    sy_optimizer_free(opt);

    /* exclude_1d: biases get no decay; memory-free syre holds no extra bytes. */
    memcpy(sy_params_data(ps), init, total * sizeof *init);
    o = sy_optim_defaults(SY_OPTIM_SGD);
    o.decay = sy_decay_syre(1e-3f, 0.01f);
    o.decay.exclude_1d = 1;
    o.anchor_storage = SY_ANCHOR_REGENERATE;
    opt = sy_optimizer_new(ps, &o);
    float *coef = calloc(n, sizeof *coef);
    sy_optimizer_decay_coef(opt, coef);
    for (int t = 0; t < 4; t++) {
        const sy_param_info *pi = sy_params_info(ps, t);
        int is_bias = pi->shape.ndim == 1;
        assert_near(coef[pi->offset], is_bias ? 0.0 : 1e-3, 1e-9);
        /* Biases are not shifted either. */
        if (is_bias) assert_true(sy_params_data(ps)[pi->offset] == init[pi->offset]);
    }
    assert_int_equal(sy_optimizer_decay_bytes(opt), 0);
    sy_optimizer_free(opt);
    free(coef);
    free(a);
    free(init);
    sy_params_free(ps);
}

/* Stopping after 10 steps, restoring state into a fresh optimizer (no second
 * shift) and running 10 more equals 20 steps straight, bit for bit. */
static void test_checkpoint_resume(void **state)
{
    (void)state;
    sy_params *ps = store_model();
    size_t n = sy_params_trainable_size(ps), total = sy_params_total_size(ps);
    float *init = malloc(total * sizeof *init);
    memcpy(init, sy_params_data(ps), total * sizeof *init);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAM);
    o.decay = sy_decay_syre_ar(0.1f, 0.5f, 0.2f);
    o.schedule.kind = SY_SCHED_COSINE;
    o.schedule.total_steps = 20;
    /* A fixed fake gradient: g_i = sin(i). */
    float *g = sy_params_grad(ps);
    for (size_t i = 0; i < n; i++) g[i] = sinf((float)i);

    sy_optimizer *a = sy_optimizer_new(ps, &o);
    for (int t = 0; t < 20; t++) sy_optimizer_step(a);
    float *straight = malloc(n * sizeof *straight);
    memcpy(straight, sy_params_data(ps), n * sizeof *straight);
    sy_optimizer_free(a);

    memcpy(sy_params_data(ps), init, total * sizeof *init);
    a = sy_optimizer_new(ps, &o);
    for (int t = 0; t < 10; t++) sy_optimizer_step(a);
    o.shift_init = 0;
    sy_optimizer *b = sy_optimizer_new(ps, &o);
    assert_int_equal(sy_optimizer_num_state(b), sy_optimizer_num_state(a));
    for (int k = 0; k < sy_optimizer_num_state(a); k++) {
        assert_string_equal(sy_optimizer_state_name(a, k), sy_optimizer_state_name(b, k));
        memcpy(sy_optimizer_state(b, k), sy_optimizer_state(a, k), n * sizeof(float));
    }
    sy_optimizer_set_steps(b, sy_optimizer_steps(a));
    for (int t = 0; t < 10; t++) sy_optimizer_step(b);
    assert_memory_equal(sy_params_data(ps), straight, n * sizeof(float));
    sy_optimizer_free(a);
    sy_optimizer_free(b);
    free(straight);
    free(init);
    sy_params_free(ps);
}

static void test_parse_and_errors(void **state)
{
    (void)state;
    sy_decay d;
    assert_int_equal(sy_decay_parse("vanilla", 1e-4f, 0.01f, 0.1f, &d), SY_OK);
    assert_int_equal(d.kind, SY_DECAY_L2);
    assert_near(d.weight_decay, 1e-4, 1e-10);
    assert_int_equal(sy_decay_parse("none", 1e-4f, 0.01f, 0.1f, &d), SY_OK);
    assert_int_equal(d.kind, SY_DECAY_NONE);
    assert_int_equal(sy_decay_parse("syre", 1e-4f, 0.01f, 0.1f, &d), SY_OK);
    assert_int_equal(d.kind, SY_DECAY_SYRE);
    assert_near(d.sigma0, 0.01, 1e-9);
    assert_int_equal(sy_decay_parse("syre-ar", 1e-4f, 0.01f, 0.1f, &d), SY_OK);
    assert_int_equal(d.kind, SY_DECAY_SYRE_AR);
    assert_near(d.eps, 0.1, 1e-7);
    assert_int_equal(sy_decay_parse("l2init", 1e-4f, 0.01f, 0.1f, &d), SY_OK);
    assert_int_equal(d.kind, SY_DECAY_L2_INIT);
    assert_int_equal(sy_decay_parse("wfix", 1e-4f, 0.01f, 0.1f, &d), SY_OK);
    assert_near(d.wfix_frac, 0.3, 1e-7);
    assert_near(d.wfix_kappa, 0.01, 1e-9);
    assert_string_equal(sy_decay_kind_name(SY_DECAY_SYRE_AR), "syre-ar");
    assert_fails(SY_ERR_ARG, sy_decay_parse("sire", 1e-4f, 0.01f, 0.1f, &d));
    assert_fails(SY_ERR_ARG, sy_decay_parse("syre", -1.0f, 0.01f, 0.1f, &d));
    assert_fails(SY_ERR_ARG, sy_decay_parse("syre-ar", 1e-4f, 0.01f, 1.5f, &d));

    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    for (int r = 0; r < SY_OPTIM_MAX_RULES; r++)
        assert_int_equal(sy_optim_add_rule(&o, "x*", sy_decay_none()), SY_OK);
    assert_fails(SY_ERR_ARG, sy_optim_add_rule(&o, "y*", sy_decay_none()));
    o = sy_optim_defaults(SY_OPTIM_SGD);
    assert_fails(SY_ERR_ARG, sy_optim_add_rule(&o, "", sy_decay_none()));

    sy_params *ps = sy_params_new();
    sy_init z = {SY_INIT_ZERO, 0};
    sy_params_add(ps, "w", sy_shape_of(1, 3), 1, z, 1);
    sy_clear_error();
    assert_null(sy_optimizer_new(ps, &o)); /* not laid out */
    assert_true(strlen(sy_last_error()) > 0);
    sy_params_layout(ps);
    o.nesterov = 1;
    assert_null(sy_optimizer_new(ps, &o)); /* Nesterov without momentum */
    o = sy_optim_defaults(SY_OPTIM_ADAM);
    o.beta1 = 1.0f;
    assert_null(sy_optimizer_new(ps, &o));
    o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = -1;
    assert_null(sy_optimizer_new(ps, &o));
    o = sy_optim_defaults(SY_OPTIM_SGD);
    o.schedule.kind = SY_SCHED_COSINE; /* total_steps 0 */
    assert_null(sy_optimizer_new(ps, &o));
    o = sy_optim_defaults(SY_OPTIM_SGD);
    o.decay.sigma0 = -0.1f;
    assert_null(sy_optimizer_new(ps, &o));
    sy_params_free(ps);
}

/* ---- anchored decays against references built outside the optimizer ---- */

enum { REF_SYRE, REF_SYRE_AR, REF_L2INIT };

/* One anchored run on store3 (fan_in 1): 5 steps of `kind` with decay
 * `which`, against the update written out in double with the anchor and D
 * drawn here from the documented streams: theta0_i = sigma0 N(0,1) at
 * (SY_STREAM_ANCHOR, tensor 0, i), D_ii = 1 + eps (2U - 1) at
 * (SY_STREAM_DECAY_D, 0, i); L2-init's anchor is the initial value. A large
 * wd and sigma0 make every term visible at the 2e-6 tolerance. */
static void check_anchored(sy_optim_kind kind, int which, sy_anchor_storage storage)
{
    const double wd = 0.5, sigma0 = 1.0, eps = 0.4, lr = kind == SY_OPTIM_SGD ? 0.1 : 0.01;
    const uint64_t seed = 5;
    sy_params *ps = store3();
    sy_optim_opts o = sy_optim_defaults(kind);
    o.lr = (float)lr;
    o.seed = seed;
    o.anchor_storage = storage;
    if (kind == SY_OPTIM_SGD) o.momentum = 0.9f;
    o.decay = which == REF_SYRE      ? sy_decay_syre((float)wd, (float)sigma0)
              : which == REF_SYRE_AR ? sy_decay_syre_ar((float)wd, (float)sigma0, (float)eps)
                                     : sy_decay_l2_init((float)wd);
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    assert_non_null(opt);
    double p[3], a[3], d[3], m[3] = {0}, v[3] = {0};
    uint64_t ka = sy_rng_key(seed, SY_STREAM_ANCHOR), kd = sy_rng_key(seed, SY_STREAM_DECAY_D);
    for (int i = 0; i < 3; i++) {
        a[i] = which == REF_L2INIT ? P0[i] : (double)(float)sigma0 * sy_rng_normal_at(ka, 0, (uint64_t)i);
        d[i] = which == REF_SYRE_AR ? 1.0 + (double)(float)eps * (2.0 * sy_rng_uniform_at(kd, 0, (uint64_t)i) - 1.0) : 1.0;
        p[i] = which == REF_L2INIT ? P0[i] : P0[i] + a[i]; /* syre starts at phi = init + theta0 */
        assert_near(sy_params_data(ps)[i], p[i], 1e-6);
    }
    for (int t = 1; t <= 5; t++) {
        assert_int_equal(sy_optimizer_step(opt), SY_OK);
        for (int i = 0; i < 3; i++) {
            double g = G0[i];
            if (kind == SY_OPTIM_SGD) {
                g += wd * d[i] * (p[i] - a[i]);
                m[i] = t == 1 ? g : 0.9 * m[i] + g;
                p[i] -= lr * m[i];
                continue;
            }
            if (kind == SY_OPTIM_ADAMW) {
                double k = lr * wd * d[i];
                p[i] = p[i] * (1 - k) + k * a[i];
            } else {
                g += wd * d[i] * (p[i] - a[i]);
            }
            m[i] = 0.9 * m[i] + 0.1 * g;
            v[i] = 0.999 * v[i] + 0.001 * g * g;
            double den = sqrt(v[i]) / sqrt(1 - pow(0.999, t)) + 1e-8;
            p[i] -= lr * (m[i] / (1 - pow(0.9, t))) / den;
        }
    }
    for (int i = 0; i < 3; i++) assert_near(sy_params_data(ps)[i], p[i], 2e-6);
    sy_optimizer_free(opt);
    sy_params_free(ps);
}

static void test_anchored_references(void **state)
{
    (void)state;
    const sy_optim_kind kinds[3] = {SY_OPTIM_SGD, SY_OPTIM_ADAM, SY_OPTIM_ADAMW};
    for (int k = 0; k < 3; k++) {
        for (int st = 0; st < 2; st++) {
            check_anchored(kinds[k], REF_SYRE, st ? SY_ANCHOR_REGENERATE : SY_ANCHOR_STORED);
            check_anchored(kinds[k], REF_SYRE_AR, st ? SY_ANCHOR_REGENERATE : SY_ANCHOR_STORED);
        }
        check_anchored(kinds[k], REF_L2INIT, SY_ANCHOR_STORED);
    }
}

/* W-fix on a [7, 9] tensor at 0.3: round(18.9) = 19 entries (floor would give
 * 18), found as the entries a step leaves in place; they are spread over the
 * tensor (not its first 19) and move with the seed. */
static void wfix_fixed(uint64_t seed, unsigned char *fixed)
{
    sy_params *ps = sy_params_new();
    sy_init u = {SY_INIT_UNIFORM_FANIN, 1.0f};
    assert_int_equal(sy_params_add(ps, "w", sy_shape_of(2, 7, 9), 9, u, 1), 0);
    assert_int_equal(sy_params_init(ps, 1), SY_OK);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.1f;
    o.seed = seed;
    o.decay = sy_decay_wfix(0.0f, 0.3f, 1.0f);
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    assert_non_null(opt);
    float before[63];
    memcpy(before, sy_params_data(ps), sizeof before);
    for (int i = 0; i < 63; i++) sy_params_grad(ps)[i] = 1.0f;
    assert_int_equal(sy_optimizer_step(opt), SY_OK);
    int n = 0, lo = 0, hi = 0;
    for (int i = 0; i < 63; i++) {
        fixed[i] = sy_params_data(ps)[i] == before[i];
        n += fixed[i];
        lo += fixed[i] && i < 21;
        hi += fixed[i] && i >= 42;
    }
    assert_int_equal(n, 19);
    assert_true(lo > 0 && hi > 0);
    sy_optimizer_free(opt);
    sy_params_free(ps);
}

static void test_wfix_positions(void **state)
{
    (void)state;
    unsigned char f1[63], f2[63];
    wfix_fixed(1, f1);
    wfix_fixed(2, f2);
    assert_true(memcmp(f1, f2, sizeof f1) != 0);
}

/* Layers' fan_in, seen twice: the default init is U(-1/sqrt(fan_in),
 * 1/sqrt(fan_in)), and syre's anchor has std sigma0/sqrt(fan_in). fan_in is
 * in_features for a linear layer, C k k for a convolution (PyTorch's). */
static void check_fan_in(const char *name, int fan_in, sy_params *ps)
{
    int t = sy_params_find(ps, name);
    assert_true(t >= 0);
    const sy_param_info *pi = sy_params_info(ps, t);
    assert_int_equal(pi->fan_in, fan_in);
    const float *w = sy_params_tensor(ps, t);
    double bound = 1.0 / sqrt((double)fan_in), mx = 0;
    for (size_t j = 0; j < pi->numel; j++) mx = fabs(w[j]) > mx ? fabs(w[j]) : mx;
    /* Uniform: the largest of >= 1000 draws lies within 1% of the bound. */
    if (!(mx <= bound && mx > 0.99 * bound)) fail_msg("%s: max |w| %g, bound %g", name, mx, bound);
}

static void test_layer_fan_in(void **state)
{
    (void)state;
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(4, 2, 3, 12, 12));
    sy_var h = sy_conv2d_layer(g, x, "c1", 16, 5, 1, 0, 1);     /* [2, 16, 8, 8], fan_in 75 */
    h = sy_linear(g, sy_reshape(g, h, sy_shape_of(2, 2, 1024)), "fc", 4); /* fan_in 1024 */
    (void)h;
    assert_int_equal(sy_graph_compile(g), SY_OK);
    assert_int_equal(sy_params_init(ps, 7), SY_OK);
    check_fan_in("c1.weight", 75, ps);
    check_fan_in("fc.weight", 1024, ps);
    /* syre, sigma0 = 1: the anchor's sample std over each weight tensor is
     * 1/sqrt(fan_in) within 10% (1200 and 4096 draws: ~2% standard error). */
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.seed = 7;
    o.decay = sy_decay_syre(1e-3f, 1.0f);
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    assert_non_null(opt);
    float *a = calloc(sy_params_trainable_size(ps), sizeof *a);
    assert_int_equal(sy_optimizer_anchor(opt, a), SY_OK);
    const char *names[2] = {"c1.weight", "fc.weight"};
    const int fans[2] = {75, 1024};
    for (int k = 0; k < 2; k++) {
        const sy_param_info *pi = sy_params_info(ps, sy_params_find(ps, names[k]));
        double ss = 0;
        for (size_t j = 0; j < pi->numel; j++) ss += (double)a[pi->offset + j] * a[pi->offset + j];
        double sd = sqrt(ss / (double)pi->numel), want = 1.0 / sqrt((double)fans[k]);
        if (!(fabs(sd / want - 1) < 0.1)) fail_msg("%s: anchor std %g, expected %g", names[k], sd, want);
    }
    sy_optimizer_free(opt);
    free(a);
    sy_graph_free(g);
    sy_params_free(ps);
}

/* sy_optimizer_for_method: the method's decay rule, or a clear refusal. */
static void test_optimizer_for_method(void **state)
{
    (void)state;
    sy_params *ps = store3();
    sy_optimizer *opt = (sy_optimizer *)0x1;
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    assert_int_equal(sy_optimizer_for_method(ps, o, "syre", 0.1f, 0.5f, 0, &opt), SY_OK);
    assert_int_equal(sy_optimizer_opts(opt)->decay.kind, SY_DECAY_SYRE);
    assert_true(sy_optimizer_opts(opt)->decay.sigma0 == 0.5f && sy_optimizer_opts(opt)->decay.weight_decay == 0.1f);
    sy_optimizer_free(opt);
    assert_int_equal(sy_optimizer_for_method(ps, o, "sgd-ish", 0.1f, 0.5f, 0, &opt), SY_ERR_ARG);
    assert_null(opt);
    assert_non_null(strstr(sy_last_error(), "sgd-ish"));
    o.lr = -1;
    assert_int_equal(sy_optimizer_for_method(ps, o, "vanilla", 0.1f, 0, 0, &opt), SY_ERR_ARG);
    assert_null(opt);
    sy_params_free(ps);
}

static int prepared;
static void count_prepared(void *ctx, float *x, size_t n)
{
    (void)ctx, (void)x;
    prepared += (int)n;
}

/* sy_eval_classifier: cross-entropy and accuracy by hand, over a batch that
 * does not divide the data (the last chunk padded). */
static void test_eval_classifier(void **state)
{
    (void)state;
    sy_dataset *d;
    assert_int_equal(sy_dataset_new(3, sy_shape_of(1, 3), 3, 0, "toy", &d), SY_OK);
    const float x[9] = {1, 2, 3, 3, 1, 0, 0, 5, 1};
    const int y[3] = {2, 0, 0}; /* the third is misclassified */
    memcpy(d->x, x, sizeof x);
    memcpy(d->y, y, sizeof y);
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var in = sy_input(g, "x", sy_shape_of(2, 2, 3)), z = sy_relu(g, in);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    double loss, acc, want = 0;
    for (int i = 0; i < 3; i++) {
        double se = 0;
        for (int j = 0; j < 3; j++) se += exp(x[3 * i + j]);
        want += log(se) - x[3 * i + y[i]];
    }
    prepared = 0;
    assert_int_equal(sy_eval_classifier(g, in, z, d, count_prepared, NULL, &loss, &acc), SY_OK);
    assert_int_equal(prepared, 3);
    assert_true(fabs(loss - want / 3) < 1e-12);
    assert_true(fabs(acc - 2.0 / 3) < 1e-15);
    d->x[0] = INFINITY;
    assert_int_equal(sy_eval_classifier(g, in, z, d, NULL, NULL, &loss, NULL), SY_ERR_NUMERIC);
    sy_graph_free(g);
    sy_params_free(ps);
    sy_dataset_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sgd_plain_and_decay),
        cmocka_unit_test(test_optimizer_for_method),
        cmocka_unit_test(test_eval_classifier),
        cmocka_unit_test(test_sgd_momentum),
        cmocka_unit_test(test_sgd_nesterov),
        cmocka_unit_test(test_adam),
        cmocka_unit_test(test_adamw),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_rules_and_anchors),
        cmocka_unit_test(test_checkpoint_resume),
        cmocka_unit_test(test_parse_and_errors),
        cmocka_unit_test(test_anchored_references),
        cmocka_unit_test(test_wfix_positions),
        cmocka_unit_test(test_layer_fan_in),
        cmocka_unit_test(test_rule_matching_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
