/* Device equivalence harness shared by test_device_sim.c (CPU vs "sim", runs
 * everywhere, so the harness itself is tested without a GPU) and
 * test_cuda.c (CPU reference vs "cuda", skipped without a GPU).
 *
 *  - op cases: every op of the op table, forward value and the gradient of
 *    every input, on small random inputs; loss = sum(out * R) with a fixed
 *    random R so that backward sees a non-uniform dy. Each case names its
 *    tolerance: |a - b| <= atol + rtol * max|b| over the tensor.
 *  - training cases: an MLP, the paper's MNIST CNN and a small ResNet (conv,
 *    batch norm, residual add, global pool) trained a few steps with SGD /
 *    Adam / AdamW and syre (stored and regenerated anchors, clipping);
 *    losses per step and the final parameters compared. */
#ifndef SYRE_TEST_DEVICE_CASES_H
#define SYRE_TEST_DEVICE_CASES_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/core.h"
#include "syre/graph.h"
#include "syre/nn.h"
#include "syre/optim.h"
#include "syre/params.h"
#include "syre/runtime.h"
#include "syre/train.h"
#include "syre/train.h"

#define DC_MAX_IN 5

typedef enum { DC_NORMAL = 0, DC_POSITIVE, DC_LABELS, DC_UNIT } dc_kind;

typedef struct {
    const char *name;
    int n_in;
    sy_shape shape[DC_MAX_IN];
    dc_kind kind[DC_MAX_IN];
    int iattr[4];            /* op arguments (case-specific) */
    float rtol, atol;        /* documented per-op tolerance vs the CPU reference */
    int training;            /* graph mode (batch norm, dropout) */
} dc_case;

#define S1(a) ((sy_shape){1, {a, 1, 1, 1}})
#define S2(a, b) ((sy_shape){2, {a, b, 1, 1}})
#define S3(a, b, c) ((sy_shape){3, {a, b, c, 1}})
#define S4(a, b, c, d) ((sy_shape){4, {a, b, c, d}})

/* Tolerances: elementwise ops are a few ulp apart (device libm: expf, tanhf,
 * logf differ from glibc by <= 2 ulp); reductions and GEMMs add in another
 * order (tree sums, cuBLAS blocking): 1e-5..1e-4 relative to
 * the tensor's largest value. */
static const dc_case dc_cases[] = {
    {"matmul", 2, {S2(5, 7), S2(7, 3)}, {0}, {0, 0}, 1e-5f, 1e-6f, 1},
    {"matmul_tn", 2, {S2(7, 5), S2(7, 3)}, {0}, {1, 0}, 1e-5f, 1e-6f, 1},
    {"matmul_nt", 2, {S2(5, 7), S2(3, 7)}, {0}, {0, 1}, 1e-5f, 1e-6f, 1},
    {"matmul_tt", 2, {S2(7, 5), S2(3, 7)}, {0}, {1, 1}, 1e-5f, 1e-6f, 1},
    {"matmul_big", 2, {S2(64, 300), S2(300, 129)}, {0}, {0, 0}, 1e-4f, 1e-5f, 1},
    {"bias_add2", 2, {S2(4, 6), S1(6)}, {0}, {0}, 1e-6f, 1e-7f, 1},
    {"bias_add4", 2, {S4(2, 3, 4, 5), S1(3)}, {0}, {0}, 1e-5f, 1e-6f, 1},
    {"add", 2, {S3(3, 4, 5), S3(3, 4, 5)}, {0}, {0}, 1e-6f, 1e-7f, 1},
    {"add_bcast", 2, {S4(2, 3, 4, 5), S3(3, 1, 5)}, {0}, {0}, 1e-5f, 1e-6f, 1},
    {"sub_bcast", 2, {S3(3, 4, 5), S1(1)}, {0}, {0}, 1e-5f, 1e-6f, 1},
    {"mul_bcast", 2, {S3(3, 4, 5), S2(4, 5)}, {0}, {0}, 1e-5f, 1e-6f, 1},
    {"scale", 1, {S3(3, 4, 5)}, {0}, {0}, 1e-6f, 1e-7f, 1},
    {"relu", 1, {S3(3, 4, 5)}, {0}, {0}, 1e-6f, 1e-7f, 1},
    {"tanh", 1, {S3(3, 4, 5)}, {0}, {0}, 1e-5f, 1e-6f, 1},
    {"sigmoid", 1, {S3(3, 4, 5)}, {0}, {0}, 1e-5f, 1e-6f, 1},
    {"silu", 1, {S3(3, 4, 5)}, {0}, {0}, 1e-5f, 1e-6f, 1},
    {"exp", 1, {S3(3, 4, 5)}, {0}, {0}, 1e-5f, 1e-6f, 1},
    {"log", 1, {S3(3, 4, 5)}, {DC_POSITIVE}, {0}, 1e-5f, 1e-6f, 1},
    {"square", 1, {S3(3, 4, 5)}, {0}, {0}, 1e-6f, 1e-7f, 1},
    {"clamp", 1, {S3(3, 4, 5)}, {0}, {0}, 1e-6f, 1e-7f, 1},
    {"minimum", 2, {S3(3, 4, 5), S3(3, 4, 5)}, {0}, {0}, 1e-6f, 1e-7f, 1},
    {"sum", 1, {S3(30, 40, 50)}, {0}, {0}, 1e-5f, 1e-5f, 1},
    {"mean", 1, {S3(3, 4, 5)}, {0}, {0}, 1e-5f, 1e-6f, 1},
    {"sum_axis0", 1, {S3(3, 4, 5)}, {0}, {0}, 1e-5f, 1e-6f, 1},
    {"sum_axis1", 1, {S3(3, 4, 5)}, {0}, {1}, 1e-5f, 1e-6f, 1},
    {"mean_axis2", 1, {S3(3, 4, 5)}, {0}, {2}, 1e-5f, 1e-6f, 1},
    {"reshape", 1, {S3(3, 4, 5)}, {0}, {0}, 1e-6f, 1e-7f, 1},
    {"concat", 2, {S3(2, 3, 4), S3(2, 5, 4)}, {0}, {0}, 1e-6f, 1e-7f, 1},
    /* concat(x, x): both halves of the gradient land in one tensor */
    {"concat_self", 1, {S3(2, 3, 4)}, {0}, {0}, 1e-6f, 1e-7f, 1},
    /* a broadcast whose gradient sums over several dimensions on both sides */
    {"mul_bcast_mid", 2, {S4(3, 4, 5, 6), S4(1, 4, 1, 6)}, {0}, {0}, 1e-5f, 1e-6f, 1},
    {"slice", 1, {S4(2, 6, 3, 2)}, {0}, {2, 3}, 1e-6f, 1e-7f, 1},
    /* one rank: a copy (sim runs the CPU kernel; cuda refuses the op) */
    {"rank_gather", 1, {S2(6, 5)}, {0}, {0}, 1e-6f, 1e-7f, 1},
    {"conv3x3", 2, {S4(2, 3, 7, 7), S4(4, 3, 3, 3)}, {0}, {1, 1}, 1e-4f, 1e-6f, 1},
    {"conv3x3_s2", 2, {S4(2, 3, 8, 8), S4(5, 3, 3, 3)}, {0}, {2, 1}, 1e-4f, 1e-6f, 1},
    {"conv1x1_s2", 2, {S4(3, 4, 6, 6), S4(2, 4, 1, 1)}, {0}, {2, 0}, 1e-4f, 1e-6f, 1},
    {"conv5x5", 2, {S4(2, 1, 12, 12), S4(3, 1, 5, 5)}, {0}, {1, 0}, 1e-4f, 1e-6f, 1},
    {"maxpool2", 1, {S4(2, 3, 8, 8)}, {0}, {2, 2}, 1e-6f, 1e-7f, 1},
    {"maxpool3s2", 1, {S4(2, 3, 9, 9)}, {0}, {3, 2}, 1e-6f, 1e-7f, 1},
    {"global_avgpool", 1, {S4(2, 3, 5, 6)}, {0}, {0}, 1e-5f, 1e-6f, 1},
    {"batchnorm2_train", 3, {S2(16, 5), S1(5), S1(5)}, {0}, {0}, 1e-4f, 1e-5f, 1},
    {"batchnorm4_train", 3, {S4(4, 3, 5, 5), S1(3), S1(3)}, {0}, {0}, 1e-4f, 1e-5f, 1},
    {"batchnorm4_eval", 3, {S4(4, 3, 5, 5), S1(3), S1(3)}, {0}, {0}, 1e-5f, 1e-6f, 0},
    {"dropout_train", 1, {S3(4, 5, 6)}, {0}, {0}, 1e-6f, 1e-7f, 1},
    {"dropout_eval", 1, {S3(4, 5, 6)}, {0}, {0}, 1e-6f, 1e-7f, 0},
    {"l2normalize", 1, {S2(6, 9)}, {0}, {0}, 1e-5f, 1e-6f, 1},
    {"softmax_ce", 2, {S2(8, 10), S1(8)}, {0, DC_LABELS}, {0}, 1e-5f, 1e-6f, 1},
    {"mse", 2, {S2(8, 10), S2(8, 10)}, {0}, {SY_REDUCE_MEAN}, 1e-5f, 1e-6f, 1},
    {"mse_batch", 2, {S2(8, 10), S2(8, 10)}, {0}, {SY_REDUCE_BATCH}, 1e-5f, 1e-6f, 1},
    {"bce_logits", 2, {S2(8, 10), S2(8, 10)}, {0, DC_UNIT}, {SY_REDUCE_SUM}, 1e-5f, 1e-6f, 1},
    {"kl_gauss", 2, {S2(8, 10), S2(8, 10)}, {0}, {SY_REDUCE_BATCH}, 1e-5f, 1e-6f, 1},
};
#define DC_N_CASES ((int)(sizeof dc_cases / sizeof dc_cases[0]))

/* Ops of the table each case exercises (for the coverage check). */
static __attribute__((unused)) const char *dc_op_of(const char *c)
{
    static const char *pre[][2] = {{"matmul", "matmul"}, {"bias_add", "bias_add"}, {"add", "add"}, {"sub", "sub"},
                                   {"mul", "mul"}, {"conv", "conv2d"}, {"maxpool", "maxpool2d"},
                                   {"batchnorm", "batchnorm"}, {"dropout", "dropout"}, {"sum_axis", "sum_axis"},
                                   {"mean_axis", "mean_axis"}, {"mse", "mse"}, {"concat", "concat"}};
    for (size_t i = 0; i < sizeof pre / sizeof pre[0]; i++)
        if (strncmp(c, pre[i][0], strlen(pre[i][0])) == 0) return pre[i][1];
    return c;
}

static __attribute__((unused)) float dc_value(uint64_t seed, int input, size_t i, dc_kind k, sy_shape s)
{
    uint64_t key = sy_rng_key(seed, SY_STREAM_USER + 7);
    switch (k) {
    case DC_POSITIVE: return 0.2f + 2.0f * sy_rng_uniform_at(key, (uint64_t)input, i);
    case DC_LABELS: return (float)((int)(sy_rng_uniform_at(key, (uint64_t)input, i) * 10.0f) % 10);
    case DC_UNIT: return sy_rng_uniform_at(key, (uint64_t)input, i);
    default: return sy_rng_normal_at(key, (uint64_t)input, i);
    }
}

/* The op of case c on inputs in[] (and parameters it makes itself). */
static __attribute__((unused)) sy_var dc_build_op(sy_graph *g, const dc_case *c, const sy_var *in)
{
    const char *n = c->name;
    const int *a = c->iattr;
    if (!strncmp(n, "matmul", 6)) return sy_matmul(g, in[0], in[1], a[0], a[1]);
    if (!strncmp(n, "bias_add", 8)) return sy_bias_add(g, in[0], in[1]);
    if (!strncmp(n, "add", 3)) return sy_add(g, in[0], in[1]);
    if (!strncmp(n, "sub", 3)) return sy_sub(g, in[0], in[1]);
    if (!strncmp(n, "mul", 3)) return sy_mul(g, in[0], in[1]);
    if (!strcmp(n, "scale")) return sy_scale(g, in[0], -1.7f);
    if (!strcmp(n, "relu")) return sy_relu(g, in[0]);
    if (!strcmp(n, "tanh")) return sy_tanh(g, in[0]);
    if (!strcmp(n, "sigmoid")) return sy_sigmoid(g, in[0]);
    if (!strcmp(n, "silu")) return sy_silu(g, in[0]);
    if (!strcmp(n, "exp")) return sy_exp(g, in[0]);
    if (!strcmp(n, "log")) return sy_log(g, in[0]);
    if (!strcmp(n, "square")) return sy_square(g, in[0]);
    if (!strcmp(n, "clamp")) return sy_clamp(g, in[0], -0.3f, 0.4f);
    if (!strcmp(n, "minimum")) return sy_minimum(g, in[0], in[1]);
    if (!strcmp(n, "sum")) return sy_sum(g, in[0]);
    if (!strcmp(n, "mean")) return sy_mean(g, in[0]);
    if (!strncmp(n, "sum_axis", 8)) return sy_sum_axis(g, in[0], a[0]);
    if (!strncmp(n, "mean_axis", 9)) return sy_mean_axis(g, in[0], a[0]);
    if (!strcmp(n, "reshape")) return sy_tanh(g, sy_reshape(g, in[0], S2(12, 5)));
    if (!strcmp(n, "concat")) return sy_concat(g, in[0], in[1]);
    if (!strcmp(n, "concat_self")) return sy_concat(g, in[0], in[0]);
    if (!strcmp(n, "slice")) return sy_slice(g, in[0], a[0], a[1]);
    if (!strcmp(n, "rank_gather")) return sy_tanh(g, sy_rank_gather(g, in[0]));
    if (!strncmp(n, "conv", 4)) return sy_conv2d(g, in[0], in[1], a[0], a[1]);
    if (!strncmp(n, "maxpool", 7)) return sy_maxpool2d(g, in[0], a[0], a[1]);
    if (!strcmp(n, "global_avgpool")) return sy_global_avgpool(g, in[0]);
    if (!strncmp(n, "batchnorm", 9)) {
        int C = c->shape[0].dim[1];
        /* Running statistics are store buffers, as in sy_batchnorm_layer;
         * non-trivial values so that evaluation mode shows them. */
        sy_init mi = {SY_INIT_CONSTANT, 0.3f}, vi = {SY_INIT_CONSTANT, 1.7f};
        sy_var rm = sy_param_new(g, "bn.rm", S1(C), C, mi, 0), rv = sy_param_new(g, "bn.rv", S1(C), C, vi, 0);
        return sy_batchnorm(g, in[0], in[1], in[2], rm, rv, 0.1f, 1e-5f);
    }
    if (!strncmp(n, "dropout", 7)) return sy_dropout(g, in[0], 0.3f);
    if (!strcmp(n, "l2normalize")) return sy_l2normalize(g, in[0], 1e-6f);
    if (!strcmp(n, "softmax_ce")) return sy_softmax_ce(g, in[0], in[1]);
    if (!strncmp(n, "mse", 3)) return sy_mse(g, in[0], in[1], (sy_reduce)a[0]);
    if (!strcmp(n, "bce_logits")) return sy_bce_logits(g, in[0], in[1], (sy_reduce)a[0]);
    if (!strcmp(n, "kl_gauss")) return sy_kl_gauss(g, in[0], in[1], 0.5f, (sy_reduce)a[0]);
    return -1;
}

/* Results of one case on one backend: the output, each input's gradient,
 * and the store after the step (batch-norm running statistics). */
typedef struct {
    float *out, *grad[DC_MAX_IN], *store;
    size_t n_out, n_in[DC_MAX_IN], n_store;
} dc_result;

static __attribute__((unused)) void dc_result_free(dc_result *r)
{
    free(r->out);
    free(r->store);
    for (int k = 0; k < DC_MAX_IN; k++) free(r->grad[k]);
    memset(r, 0, sizeof *r);
}

static __attribute__((unused)) float *dc_copy(const float *p, size_t n)
{
    float *q = malloc((n ? n : 1) * sizeof *q);
    if (p && q) memcpy(q, p, n * sizeof *q);
    return q;
}

/* Run case c on `backend`; 0 on success, else prints why and returns -1. */
static __attribute__((unused)) int dc_run(const dc_case *c, const char *backend, dc_result *r)
{
    memset(r, 0, sizeof *r);
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    int rc = -1;
    if (!g || sy_graph_set_backend(g, backend) != SY_OK) {
        fprintf(stderr, "%s on %s: %s\n", c->name, backend, sy_last_error());
        goto out;
    }
    sy_graph_set_seed(g, 99);
    sy_graph_set_training(g, c->training);
    sy_var in[DC_MAX_IN];
    for (int k = 0; k < c->n_in; k++) {
        char nm[16];
        snprintf(nm, sizeof nm, "in%d", k);
        in[k] = sy_input(g, nm, c->shape[k]);
        if (c->kind[k] != DC_LABELS) sy_graph_requires_grad(g, in[k]);
    }
    sy_var y = dc_build_op(g, c, in);
    sy_shape ys = sy_graph_shape(g, y);
    sy_var R = sy_input(g, "R", ys.ndim ? ys : S1(1));
    sy_var loss = sy_sum(g, sy_mul(g, y, R));
    if (sy_graph_compile(g) != SY_OK || sy_params_init(ps, 5) != SY_OK) {
        fprintf(stderr, "%s on %s: %s\n", c->name, backend, sy_last_error());
        goto out;
    }
    for (int k = 0; k < c->n_in; k++) {
        size_t n = sy_shape_numel(c->shape[k]);
        float *buf = malloc(n * sizeof *buf);
        for (size_t i = 0; i < n; i++) buf[i] = dc_value(1, k, i, c->kind[k], c->shape[k]);
        sy_graph_feed(g, in[k], buf, n);
        free(buf);
    }
    size_t nr = sy_shape_numel(ys);
    float *rb = sy_graph_data(g, R); /* filled in place, as the batcher does */
    for (size_t i = 0; i < nr; i++) rb[i] = dc_value(2, 9, i, DC_NORMAL, ys);
    if (sy_graph_forward(g) != SY_OK || sy_graph_backward(g, loss) != SY_OK) {
        fprintf(stderr, "%s on %s: %s\n", c->name, backend, sy_last_error());
        goto out;
    }
    r->n_out = nr;
    r->out = dc_copy(sy_graph_data(g, y), nr);
    for (int k = 0; k < c->n_in; k++) {
        if (c->kind[k] == DC_LABELS) continue;
        r->n_in[k] = sy_shape_numel(c->shape[k]);
        r->grad[k] = dc_copy(sy_graph_grad(g, in[k]), r->n_in[k]);
    }
    r->n_store = sy_params_total_size(ps);
    r->store = dc_copy(sy_params_data(ps), r->n_store);
    rc = 0;
out:
    sy_graph_free(g);
    sy_params_free(ps);
    return rc;
}

/* max |a-b| against atol + rtol * max|b|; prints the worst element. */
static __attribute__((unused)) int dc_close(const char *what, const char *part, const float *a, const float *b, size_t n, float rtol,
                    float atol, double *worst_rel)
{
    double mx = 0, err = 0;
    size_t at = 0;
    for (size_t i = 0; i < n; i++) mx = fmax(mx, fabs(b[i]));
    for (size_t i = 0; i < n; i++) {
        double e = fabs((double)a[i] - b[i]);
        if (!(e <= err)) {
            err = e;
            at = i;
        }
    }
    double lim = atol + rtol * mx;
    if (worst_rel && mx > 0 && err / mx > *worst_rel) *worst_rel = err / mx;
    if (!(err <= lim)) {
        fprintf(stderr, "  %s %s: element %zu differs by %.3g (limit %.3g; values %.9g vs %.9g)\n", what, part, at,
                err, lim, n ? a[at] : 0.0, n ? b[at] : 0.0);
        return 0;
    }
    return 1;
}

/* Case c on `dev` against `ref`: 1 if every tensor agrees within the case's
 * tolerance (scaled by tol_mult). */
static __attribute__((unused)) int dc_compare(const dc_case *c, const char *dev, const char *ref, float tol_mult, double *worst_rel)
{
    dc_result a, b;
    if (dc_run(c, dev, &a) != 0) return 0;
    if (dc_run(c, ref, &b) != 0) {
        dc_result_free(&a);
        return 0;
    }
    float rt = c->rtol * tol_mult, at = c->atol * tol_mult;
    int ok = dc_close(c->name, "forward", a.out, b.out, a.n_out, rt, at, worst_rel);
    for (int k = 0; k < c->n_in; k++) {
        if (!a.grad[k]) continue;
        char part[32];
        snprintf(part, sizeof part, "grad of input %d", k);
        ok &= dc_close(c->name, part, a.grad[k], b.grad[k], a.n_in[k], 4 * rt, 4 * at, worst_rel);
    }
    ok &= dc_close(c->name, "store", a.store, b.store, a.n_store, rt, at, worst_rel);
    dc_result_free(&a);
    dc_result_free(&b);
    return ok;
}

/* ---- Training ------------------------------------------------------------- */

typedef enum { DM_MLP = 0, DM_CNN, DM_RESNET, DM_MLP_DROPOUT } dm_kind;

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_optimizer *opt;
    sy_var x, y, logits, loss;
    int batch, in_numel, classes;
} dm_model;

/* Build, compile, init, make the optimizer. */
static __attribute__((unused)) int dm_build(dm_model *m, dm_kind kind, const char *backend, int batch, const sy_optim_opts *o)
{
    memset(m, 0, sizeof *m);
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    if (!m->g || sy_graph_set_backend(m->g, backend) != SY_OK) goto fail;
    sy_graph *g = m->g;
    m->batch = batch;
    m->classes = 10;
    sy_graph_set_seed(g, 3);
    if (kind == DM_MLP) {
        m->in_numel = 64;
        m->x = sy_input(g, "x", S2(batch, 64));
        int sizes[] = {48, 48, 10};
        m->logits = sy_mlp(g, m->x, "mlp", sizes, 3, SY_ACT_TANH);
    } else if (kind == DM_MLP_DROPOUT) { /* the MLP with dropout after both hidden layers */
        m->in_numel = 64;
        m->x = sy_input(g, "x", S2(batch, 64));
        sy_var h = sy_dropout(g, sy_tanh(g, sy_linear(g, m->x, "l1", 48)), 0.3f);
        h = sy_dropout(g, sy_relu(g, sy_linear(g, h, "l2", 48)), 0.5f);
        m->logits = sy_linear(g, h, "l3", 10);
    } else if (kind == DM_CNN) {
        m->in_numel = 28 * 28;
        m->x = sy_input(g, "x", S4(batch, 1, 28, 28));
        m->logits = sy_mnist_cnn(g, m->x, NULL);
    } else {
        m->in_numel = 3 * 16 * 16;
        m->x = sy_input(g, "x", S4(batch, 3, 16, 16));
        m->logits = sy_resnet18(g, m->x, "", 4, 10, NULL); /* the library's builder, width 4 */
    }
    m->y = sy_input(g, "y", S1(batch));
    m->loss = sy_softmax_ce(g, m->logits, m->y);
    if (sy_graph_compile(g) != SY_OK || sy_params_init(m->ps, 11) != SY_OK) goto fail;
    if (o && !(m->opt = sy_optimizer_new(m->ps, o))) goto fail;
    return 0;
fail:
    fprintf(stderr, "build on %s: %s\n", backend, sy_last_error());
    return -1;
}

static __attribute__((unused)) void dm_free(dm_model *m)
{
    sy_optimizer_free(m->opt);
    sy_graph_free(m->g);
    sy_params_free(m->ps);
}

/* Synthetic batch `step`: inputs through the graph's own pointer (as the
 * batcher fills them), labels through sy_graph_feed. */
static __attribute__((unused)) void dm_batch(dm_model *m, int step)
{
    float *x = sy_graph_data(m->g, m->x);
    uint64_t key = sy_rng_key(77, SY_STREAM_USER + 8);
    size_t n = (size_t)m->batch * m->in_numel;
    for (size_t i = 0; i < n; i++) x[i] = sy_rng_normal_at(key, (uint64_t)step, i);
    float *lab = malloc(m->batch * sizeof *lab);
    for (int i = 0; i < m->batch; i++) lab[i] = (float)((i * 7 + step * 3) % m->classes);
    sy_graph_feed(m->g, m->y, lab, (size_t)m->batch);
    free(lab);
}

/* Train `steps` steps; losses[k] after each forward. 0 on success. */
static __attribute__((unused)) int dm_train(dm_model *m, int steps, float *losses)
{
    for (int k = 0; k < steps; k++) {
        dm_batch(m, k);
        if (sy_graph_forward(m->g) != SY_OK || sy_graph_backward(m->g, m->loss) != SY_OK ||
            sy_optimizer_step(m->opt) != SY_OK) {
            fprintf(stderr, "training step %d: %s\n", k, sy_last_error());
            return -1;
        }
        losses[k] = sy_graph_scalar(m->g, m->loss);
    }
    return 0;
}

/* The optimizer settings the training cases cover. */
static __attribute__((unused)) sy_optim_opts dm_opts(int which)
{
    sy_optim_opts o;
    switch (which) {
    case 0: /* SGD + momentum, syre with stored anchors */
        o = sy_optim_defaults(SY_OPTIM_SGD);
        o.lr = 0.05f;
        o.momentum = 0.9f;
        o.decay = sy_decay_syre(5e-4f, 0.01f);
        break;
    case 1: /* Adam, syre-ar with regenerated anchors, clipping */
        o = sy_optim_defaults(SY_OPTIM_ADAM);
        o.lr = 1e-3f;
        o.decay = sy_decay_syre_ar(1e-3f, 0.05f, 0.1f);
        o.anchor_storage = SY_ANCHOR_REGENERATE;
        o.max_grad_norm = 1.0f;
        break;
    default: /* AdamW, plain weight decay, cosine schedule */
        o = sy_optim_defaults(SY_OPTIM_ADAMW);
        o.lr = 2e-3f;
        o.schedule.kind = SY_SCHED_COSINE;
        o.schedule.total_steps = 10;
        break;
    }
    o.seed = 5;
    return o;
}

/* The four clipping cases (v = 0..3): Adam + syre-ar with regenerated
 * anchors (v < 2) or SGD + W-fix, whose entries stay out of the norm
 * (v >= 2); a bound the gradients exceed (even v: the factor scales every
 * step) or one they do not (odd v). */
static __attribute__((unused)) sy_optim_opts dm_clip_opts(int v)
{
    sy_optim_opts o = dm_opts(v < 2 ? 1 : 0);
    if (v >= 2) o.decay = sy_decay_wfix(5e-4f, 0.3f, 0.01f);
    o.max_grad_norm = v % 2 ? 100.0f : 0.05f;
    return o;
}

/* The NaN guard on a backend (nan_guard.c on the CPU, step_device.c on a
 * device): two good steps, then a fault at the third, then two more steps.
 * what 0: a NaN written into one gradient between backward and the step;
 * 1: an Inf written into one parameter (finite gradients: the guard after
 * the update names it); 2: a NaN in the input batch (non-finite loss).
 * Returns the faulty step's status (its message copied to msg), and the
 * final parameters (malloc'd) and optimizer step count. */
static __attribute__((unused)) sy_status dm_nan_case(const char *backend, int what, int which_opt, sy_nan_policy pol,
                                                     char *msg, size_t msgn, float **params, long *steps)
{
    sy_optim_opts o = dm_opts(which_opt);
    dm_model m;
    *params = NULL;
    msg[0] = '\0';
    if (dm_build(&m, DM_MLP, backend, 8, &o)) return SY_ERR_STATE;
    sy_set_nan_policy(pol);
    sy_status fault = SY_OK;
    for (int k = 0; k < 5; k++) {
        dm_batch(&m, k);
        if (k == 2 && what == 2) sy_graph_data(m.g, m.x)[5] = NAN;
        sy_status st = sy_graph_forward(m.g);
        if (!st) st = sy_graph_backward(m.g, m.loss);
        float *h; /* a host edit: the writable views */
        if (!st && k == 2 && what == 0 && !(st = sy_params_write_grad(m.ps, &h))) h[37] = NAN;
        if (!st && k == 2 && what == 1 && !(st = sy_params_write(m.ps, &h))) h[41] = INFINITY;
        if (!st) st = sy_optimizer_step(m.opt);
        if (k == 2) {
            fault = st;
            snprintf(msg, msgn, "%s", st ? sy_last_error() : "");
            if (what == 1 && !st) break;
            if (st && pol == SY_NAN_STOP) break;
        } else if (st) {
            fprintf(stderr, "nan case on %s, step %d: %s\n", backend, k, sy_last_error());
            fault = SY_ERR_STATE;
            break;
        }
    }
    size_t n = sy_params_total_size(m.ps);
    *params = malloc(n * sizeof(float));
    memcpy(*params, sy_params_data(m.ps), n * sizeof(float));
    *steps = sy_optimizer_steps(m.opt);
    sy_set_nan_policy(SY_NAN_STOP);
    dm_free(&m);
    return fault;
}

/* `steps` training steps of model `kind` on backend under precision prec;
 * losses[k] after each forward, final parameters (malloc'd) in *params. */
static __attribute__((unused)) int dm_train_precision(dm_kind kind, const char *backend, const char *prec, int which,
                                                      int batch, int steps, float *losses, float **params)
{
    if (sy_set_precision(prec) != SY_OK) return -1;
    sy_optim_opts o = dm_opts(which);
    dm_model m;
    int rc = dm_build(&m, kind, backend, batch, &o);
    if (!rc) rc = dm_train(&m, steps, losses);
    if (!rc) {
        size_t n = sy_params_total_size(m.ps);
        *params = malloc(n * sizeof(float));
        memcpy(*params, sy_params_data(m.ps), n * sizeof(float));
    }
    dm_free(&m);
    sy_set_precision("fp32");
    return rc;
}

/* dm_train through sy_train_step (the recorded step when CUDA Graphs are on). */
static __attribute__((unused)) int dm_train_steps(dm_model *m, int steps, float *losses)
{
    for (int k = 0; k < steps; k++) {
        dm_batch(m, k);
        if (sy_train_step(m->g, m->loss, m->opt) != SY_OK) {
            fprintf(stderr, "train step %d: %s\n", k, sy_last_error());
            return -1;
        }
        losses[k] = sy_graph_scalar(m->g, m->loss);
    }
    return 0;
}

/* Two optimizers in turn on one graph through sy_train_step (continual,
 * resnet and simclr make a new optimizer per method): vanilla SGD for 4
 * steps, then, after freeing it (the allocator may hand the next one the
 * same address), SGD + momentum + syre for 6. losses[10], the final
 * parameters (malloc'd, *n), the step statistics, and whether the second
 * optimizer got the first's address. 0 on success. */
static __attribute__((unused)) int dm_two_optimizers(const char *backend, float *losses, float **params, size_t *n,
                                                     sy_train_step_stats *st, int *same_address)
{
    sy_optim_opts first = sy_optim_defaults(SY_OPTIM_SGD), second = dm_opts(0);
    first.lr = 0.1f;
    first.seed = 5;
    dm_model m;
    if (dm_build(&m, DM_MLP, backend, 8, &first)) return -1;
    int rc = dm_train_steps(&m, 4, losses);
    const void *old = m.opt;
    sy_optimizer_free(m.opt);
    m.opt = rc ? NULL : sy_optimizer_new(m.ps, &second);
    if (!m.opt) rc = -1;
    *same_address = (const void *)m.opt == old;
    if (!rc) rc = dm_train_steps(&m, 6, losses + 4);
    *n = sy_params_total_size(m.ps);
    *params = malloc(*n * sizeof(float));
    memcpy(*params, sy_params_data(m.ps), *n * sizeof(float));
    sy_train_step_stats_get(m.g, st);
    dm_free(&m);
    return rc;
}

/* A step that the host stops, through sy_train_step (recorded when CUDA
 * Graphs are on) or the CPU's three calls: 5 steps of a small MLP, with at
 * the fourth a label out of range (what 0), or an MSE target of 1e20 (the
 * loss overflows to Inf, the gradient stays finite) under --on-nan stop
 * (what 1) or skip-batch (what 2). The CPU stops before its update on a bad
 * label and under stop on a non-finite loss. The first failing status (its
 * message in msg), the optimizer's step count and the final parameters
 * (malloc'd, *n). */
static __attribute__((unused)) sy_status dm_stop_case(const char *backend, int what, char *msg, size_t msgn,
                                                      long *steps, float **params, size_t *n)
{
    sy_set_nan_policy(what == 2 ? SY_NAN_SKIP_BATCH : SY_NAN_STOP);
    sy_optim_opts o = dm_opts(0);
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_status fault = sy_graph_set_backend(g, backend);
    sy_var x = sy_input(g, "x", S2(8, 16)), y = sy_input(g, "y", S1(8)), t = sy_input(g, "t", S2(8, 1));
    sy_var z = sy_linear(g, sy_tanh(g, sy_linear(g, x, "l1", 12)), "l2", 10);
    sy_var loss = what ? sy_mse(g, sy_linear(g, z, "l3", 1), t, SY_REDUCE_MEAN) : sy_softmax_ce(g, z, y);
    if (!fault) fault = sy_graph_compile(g);
    if (!fault) fault = sy_params_init(ps, 11);
    sy_optimizer *opt = fault ? NULL : sy_optimizer_new(ps, &o);
    if (!fault && !opt) fault = SY_ERR_STATE;
    msg[0] = 0;
    for (int s = 0; s < 5 && !fault; s++) {
        float *xv = sy_graph_data(g, x), *yv = sy_graph_data(g, y), *tv = sy_graph_data(g, t);
        for (int i = 0; i < 8 * 16; i++) xv[i] = sy_rng_normal_at(sy_rng_key(7, SY_STREAM_USER), s, i);
        for (int i = 0; i < 8; i++) {
            yv[i] = (float)((i + s) % 10);
            tv[i] = 0.5f * (float)i;
        }
        if (s == 3 && what == 0) yv[2] = 12.0f;
        if (s == 3 && what > 0) tv[4] = 1e20f;
        if (strcmp(backend, "cpu")) fault = sy_train_step(g, loss, opt);
        else {
            fault = sy_graph_forward(g);
            if (!fault) fault = sy_graph_backward(g, loss);
            if (!fault) fault = sy_optimizer_step(opt);
        }
    }
    if (fault) snprintf(msg, msgn, "%s", sy_last_error());
    sy_set_nan_policy(SY_NAN_STOP);
    *steps = opt ? sy_optimizer_steps(opt) : -1;
    *n = sy_params_total_size(ps);
    *params = malloc((*n ? *n : 1) * sizeof(float));
    if (*n) memcpy(*params, sy_params_data(ps), *n * sizeof(float));
    sy_optimizer_free(opt);
    sy_graph_free(g);
    sy_params_free(ps);
    return fault;
}

/* Prefetching (sy_prefetch): the fill function draws every batch from one
 * running generator (as the batcher and augmentation do), so a batch
 * produced out of order, into the wrong block, or a stale block uploaded,
 * changes the losses. `epochs` epochs of `per_epoch` batches of 8 through
 * sy_train_step, CUDA Graphs and prefetching as given; at step 4 the host
 * writes one input value after sy_prefetch_next (uploaded from the host
 * copy). losses[k], the labels read back (8 per step) and the final
 * parameters (malloc'd, *n of them). 0 on success. */
typedef struct {
    sy_rng r;
    int batch, in_numel, left;
} dm_pf_ctx;

static __attribute__((unused)) sy_status dm_pf_fill(void *ctx, float *const *in, size_t *count)
{
    dm_pf_ctx *c = ctx;
    if (c->left == 0) return SY_OK;
    c->left--;
    for (size_t i = 0; i < (size_t)c->batch * c->in_numel; i++) in[0][i] = sy_rng_normal(&c->r);
    for (int i = 0; i < c->batch; i++) in[1][i] = (float)(sy_rng_u32(&c->r) % 10);
    *count = (size_t)c->batch;
    return SY_OK;
}

static __attribute__((unused)) int dm_prefetch_train(dm_kind kind, const char *dev, int graphs, int prefetch,
                                                     int epochs, int per_epoch, float *losses, float *labels,
                                                     float **params, size_t *n, int *overlapped,
                                                     sy_train_step_stats *st)
{
    sy_set_cuda_graphs(graphs);
    sy_set_prefetch(prefetch);
    sy_optim_opts o = dm_opts(0);
    dm_model m;
    sy_prefetch *p = NULL;
    int rc = dm_build(&m, kind, dev, 8, &o), k = 0;
    *params = NULL;
    dm_pf_ctx c = {sy_rng_make(9, SY_STREAM_USER + 3, 0), 8, m.in_numel, 0};
    sy_var in[2] = {m.x, m.y};
    if (!rc && sy_prefetch_new(m.g, in, 2, dm_pf_fill, &c, &p) != SY_OK) rc = -1;
    if (!rc) *overlapped = sy_prefetch_overlaps(p);
    for (int e = 0; e < epochs && !rc; e++) {
        sy_prefetch_reset(p);
        c.left = per_epoch;
        size_t nb;
        for (;;) {
            if (sy_prefetch_next(p, &nb) != SY_OK) rc = -1;
            if (rc || !nb) break;
            if (k == 4) sy_graph_data(m.g, m.x)[3] = 2.5f; /* a host write after next() */
            if (sy_train_step(m.g, m.loss, m.opt) != SY_OK) rc = -1;
            if (rc) break;
            losses[k] = sy_graph_scalar(m.g, m.loss);
            memcpy(labels + 8 * k, sy_prefetch_data(p, 1), 8 * sizeof(float));
            k++;
        }
    }
    if (rc) fprintf(stderr, "prefetch training on %s, step %d: %s\n", dev, k, sy_last_error());
    double fill_s, wait_s;
    sy_prefetch_times(p, &fill_s, &wait_s);
    sy_prefetch_free(p);
    if (!rc) {
        *n = sy_params_total_size(m.ps);
        *params = malloc(*n * sizeof(float));
        memcpy(*params, sy_params_data(m.ps), *n * sizeof(float));
        sy_train_step_stats_get(m.g, st);
        printf("prefetch %s graphs %d prefetch %d: overlap %d, fill %.2f ms, waited %.2f ms; eager %ld captures %ld "
               "replays %ld\n", dev, graphs, prefetch, *overlapped, 1e3 * fill_s, 1e3 * wait_s, st->eager,
               st->captures, st->replays);
    }
    dm_free(&m);
    sy_set_cuda_graphs(0);
    sy_set_prefetch(1);
    return rc;
}

/* Two graphs (two MLPs, each fed by its own generator through its own
 * prefetcher) stepped in turn, so that both have staged uploads in flight
 * at once: `steps` steps each, losses la[k] and lb[k]. 0 on success. */
static __attribute__((unused)) int dm_prefetch_pair(const char *dev, int graphs, int steps, float *la, float *lb)
{
    sy_set_cuda_graphs(graphs);
    sy_optim_opts o = dm_opts(0);
    dm_model m[2];
    sy_prefetch *p[2] = {NULL, NULL};
    dm_pf_ctx c[2];
    int rc = 0;
    for (int k = 0; k < 2; k++) {
        if (dm_build(&m[k], DM_MLP, dev, 8, &o)) rc = -1;
        c[k] = (dm_pf_ctx){sy_rng_make(9 + k, SY_STREAM_USER + 3, 0), 8, m[k].in_numel, steps};
        sy_var in[2] = {m[k].x, m[k].y};
        if (!rc && sy_prefetch_new(m[k].g, in, 2, dm_pf_fill, &c[k], &p[k]) != SY_OK) rc = -1;
        if (!rc) sy_prefetch_reset(p[k]);
    }
    for (int s = 0; s < steps && !rc; s++)
        for (int k = 0; k < 2 && !rc; k++) {
            size_t nb;
            if (sy_prefetch_next(p[k], &nb) != SY_OK || !nb || sy_train_step(m[k].g, m[k].loss, m[k].opt) != SY_OK)
                rc = -1;
            else (k ? lb : la)[s] = sy_graph_scalar(m[k].g, m[k].loss);
        }
    if (rc) fprintf(stderr, "two prefetchers on %s: %s\n", dev, sy_last_error());
    for (int k = 0; k < 2; k++) {
        sy_prefetch_free(p[k]);
        dm_free(&m[k]);
    }
    sy_set_cuda_graphs(0);
    return rc;
}

#endif
