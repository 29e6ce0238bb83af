/* The benchmarked models (header-only, shared by bench_engine and
 * bench_gemm): one training graph each, as the experiments build it. */
#ifndef SYRE_BENCH_MODELS_H
#define SYRE_BENCH_MODELS_H

#include <math.h>
#include <string.h>

#include "syre/syre.h"

static int is_resnet(const char *name) { return !strncmp(name, "resnet18", 8); }

static int model_batch(const char *name)
{
    return !strcmp(name, "mlp1000") ? 1000 : !strcmp(name, "vae") || !strcmp(name, "resnet18") ? 128 : !strcmp(name, "resnet18b32") ? 32 : 64;
}

typedef struct {
    const char *name;
    int batch, adam, vae;
    sy_params *ps;
    sy_graph *g;
    sy_optimizer *opt;
    sy_var x, y, eps, lv, loss;
    size_t xn;
} model_t;

static int build(model_t *m, const char *name)
{
    memset(m, 0, sizeof *m);
    m->name = name;
    m->batch = model_batch(name);
    m->adam = !strcmp(name, "mlp2adam") || !strcmp(name, "vae");
    m->vae = !strcmp(name, "vae");
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    sy_graph *g = m->g;
    int B = m->batch;
    if (is_resnet(name)) {
        m->x = sy_input(g, "x", sy_shape_of(4, B, 3, 32, 32));
        m->y = sy_input(g, "y", sy_shape_of(1, B));
        m->loss = sy_softmax_ce(g, sy_resnet18(g, m->x, NULL, 64, 10, NULL), m->y);
    } else if (!strcmp(name, "cnn")) {
        m->x = sy_input(g, "x", sy_shape_of(4, B, 1, 28, 28));
        m->y = sy_input(g, "y", sy_shape_of(1, B));
        m->loss = sy_softmax_ce(g, sy_mnist_cnn(g, m->x, NULL), m->y);
    } else if (m->vae) { /* as experiments/vae.c with its defaults (fixed encoder variance, BCE, beta 10) */
        m->x = sy_input(g, "x", sy_shape_of(2, B, 784));
        m->eps = sy_input(g, "eps", sy_shape_of(2, B, 200));
        m->lv = sy_input(g, "logvar", sy_shape_of(2, B, 200));
        sy_var h = sy_silu(g, sy_linear(g, m->x, "enc.0", 200));
        sy_var mu = sy_linear(g, h, "enc.mu", 200);
        sy_var z = sy_add(g, mu, sy_scale(g, m->eps, 0.1f));
        sy_var kl = sy_kl_gauss(g, mu, m->lv, 1.0f, SY_REDUCE_BATCH);
        sy_var logits = sy_linear(g, sy_silu(g, sy_linear(g, z, "dec.0", 200)), "dec.1", 784);
        m->loss = sy_add(g, sy_bce_logits(g, logits, m->x, SY_REDUCE_BATCH), sy_scale(g, kl, 10.0f));
    } else {
        int two = !strcmp(name, "mlp2adam");
        const int deep[5] = {784, 300, 300, 300, 10}, shallow[3] = {784, 256, 10};
        m->x = sy_input(g, "x", sy_shape_of(2, B, 784));
        m->y = sy_input(g, "y", sy_shape_of(1, B));
        m->loss = sy_softmax_ce(g, sy_mlp(g, m->x, "mlp", two ? shallow : deep, two ? 3 : 5, SY_ACT_RELU), m->y);
    }
    if (sy_graph_compile(g) != SY_OK || sy_params_init(m->ps, 1) != SY_OK) return -1;
    if (m->vae) {
        float *lv = sy_graph_data(g, m->lv);
        for (int i = 0; i < B * 200; i++) lv[i] = logf(0.01f);
    }
    sy_optim_opts o = sy_optim_defaults(m->adam ? SY_OPTIM_ADAM : SY_OPTIM_SGD);
    o.lr = m->adam ? 1e-3f : 0.05f;
    m->opt = sy_optimizer_new(m->ps, &o);
    m->xn = sy_shape_numel(sy_graph_shape(g, m->x));
    return m->opt ? 0 : -1;
}

static void destroy(model_t *m)
{
    sy_optimizer_free(m->opt);
    sy_graph_free(m->g);
    sy_params_free(m->ps);
}

#endif
