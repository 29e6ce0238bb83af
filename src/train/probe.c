/* Linear probes on frozen features (include/syre/probe.h). */
#include "syre/probe.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "syre/data.h"
#include "syre/nn.h"
#include "syre/optim.h"

sy_status sy_graph_features(sy_graph *g, sy_var xin, const float *x, size_t n, size_t sample,
                            sy_status (*prepare)(void *ctx, float *x, size_t k), void *ctx, int nout,
                            const sy_var *outs, float *const *dst)
{
    if (!g || !x || (nout > 0 && (!outs || !dst)) || sy_graph_shape(g, xin).ndim < 1)
        return sy_fail(SY_ERR_ARG, "sy_graph_features: need a graph, its input and the outputs");
    float *in = sy_graph_data(g, xin);
    size_t B = (size_t)sy_graph_shape(g, xin).dim[0];
    for (size_t i0 = 0; i0 < n; i0 += B) {
        size_t nb = n - i0 < B ? n - i0 : B;
        memcpy(in, x + i0 * sample, nb * sample * sizeof(float));
        if (nb < B) memset(in + nb * sample, 0, (B - nb) * sample * sizeof(float));
        sy_status s = prepare ? prepare(ctx, in, nb) : SY_OK;
        if (s == SY_OK) s = sy_graph_forward(g);
        if (s != SY_OK) return s;
        for (int j = 0; j < nout; j++) {
            if (!dst[j]) continue;
            size_t w = sy_shape_numel(sy_graph_shape(g, outs[j])) / B;
            memcpy(dst[j] + i0 * w, sy_graph_data(g, outs[j]), nb * w * sizeof(float));
        }
    }
    return SY_OK;
}

sy_status sy_probe_scale(float *Ftr, size_t ntr, float *Fte, size_t nte, int F)
{
    if (!Ftr || (nte && !Fte) || ntr < 1 || F < 1) return sy_fail(SY_ERR_ARG, "sy_probe_scale: bad features");
    double *mu = calloc((size_t)F, sizeof(double)), var = 0;
    if (!mu) return sy_fail(SY_ERR_NOMEM, "sy_probe_scale: out of memory");
    for (size_t i = 0; i < ntr; i++)
        for (int j = 0; j < F; j++) mu[j] += Ftr[i * F + j] / (double)ntr;
    for (size_t i = 0; i < ntr; i++)
        for (int j = 0; j < F; j++) var += (Ftr[i * F + j] - mu[j]) * (Ftr[i * F + j] - mu[j]) / (double)ntr;
    double sd = sqrt(var / F);
    float inv = sd > 0 ? (float)(1.0 / sd) : 1.0f;
    for (size_t i = 0; i < ntr; i++)
        for (int j = 0; j < F; j++) Ftr[i * F + j] = (float)((Ftr[i * F + j] - mu[j]) * inv);
    for (size_t i = 0; i < nte; i++)
        for (int j = 0; j < F; j++) Fte[i * F + j] = (float)((Fte[i * F + j] - mu[j]) * inv);
    free(mu);
    return SY_OK;
}

/* Argmax accuracy of the linear map (W [ncls, F], bias) on F [n, F]. */
static double probe_accuracy(const float *W, const float *bias, const float *Fm, const int *y, size_t n, int F,
                             int ncls, float *zl)
{
    size_t correct = 0;
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < ncls; k++) {
            float a = bias[k];
            for (int j = 0; j < F; j++) a += W[(size_t)k * F + j] * Fm[i * F + j];
            zl[k] = a;
        }
        int best = 0;
        for (int k = 1; k < ncls; k++)
            if (zl[k] > zl[best]) best = k;
        correct += best == y[i];
    }
    return (double)correct / (double)n;
}

sy_status sy_linear_probe(const float *Ftr, const int *ytr, size_t ntr, const float *Fte, const int *yte, size_t nte,
                          int F, int ncls, int epochs, double lr, uint64_t seed, double *acc_test, double *acc_train)
{
    if (!Ftr || !ytr || ntr < 1 || (acc_test && (!Fte || !yte || nte < 1)) || F < 1 || ncls < 1)
        return sy_fail(SY_ERR_ARG, "sy_linear_probe: bad features, labels or classes (%d)", ncls);
    sy_dataset *d = NULL;
    sy_status s = sy_dataset_new(ntr, sy_shape_of(1, F), ncls, 0, "features", &d);
    if (s != SY_OK) return s;
    memcpy(d->x, Ftr, ntr * (size_t)F * sizeof(float));
    memcpy(d->y, ytr, ntr * sizeof(int));
    int B = ntr < 256 ? (int)ntr : 256;
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_batcher *b = NULL;
    sy_optimizer *opt = NULL;
    float *zl = malloc(sizeof(float) * (size_t)ncls);
    if (!ps || !g || !zl) s = sy_fail(SY_ERR_NOMEM, "sy_linear_probe: out of memory");
    sy_var x = -1, y = -1, loss = -1;
    if (s == SY_OK) {
        x = sy_input(g, "f", sy_shape_of(2, B, F));
        y = sy_input(g, "y", sy_shape_of(1, B));
        loss = sy_softmax_ce(g, sy_linear(g, x, "probe", ncls), y);
        s = sy_graph_compile(g);
    }
    if (s == SY_OK) s = sy_params_init(ps, seed);
    if (s == SY_OK) {
        sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAM);
        o.lr = (float)lr;
        opt = sy_optimizer_new(ps, &o);
        if (!opt) s = SY_ERR_ARG;
    }
    if (s == SY_OK) {
        sy_batcher_opts bo = sy_batcher_opts_default();
        bo.batch = (size_t)B;
        bo.drop_last = 1;
        bo.seed = seed;
        s = sy_batcher_new(d, bo, &b);
    }
    for (int e = 0; e < epochs && s == SY_OK; e++) {
        sy_batcher_epoch(b, (uint64_t)e);
        while (s == SY_OK && sy_batcher_next(b, sy_graph_data(g, x), sy_graph_data(g, y)) > 0) {
            s = sy_graph_forward(g);
            if (s == SY_OK) s = sy_graph_backward(g, loss);
            if (s == SY_OK) s = sy_optimizer_step(opt);
        }
    }
    const float *p;
    if (s == SY_OK && (s = sy_params_read(ps, &p)) == SY_OK) {
        const float *W = p + sy_params_info(ps, sy_params_find(ps, "probe.weight"))->offset;
        const float *bias = p + sy_params_info(ps, sy_params_find(ps, "probe.bias"))->offset;
        if (acc_test) *acc_test = probe_accuracy(W, bias, Fte, yte, nte, F, ncls, zl);
        if (acc_train) *acc_train = probe_accuracy(W, bias, Ftr, ytr, ntr, F, ncls, zl);
    }
    free(zl);
    sy_batcher_free(b);
    sy_optimizer_free(opt);
    sy_graph_free(g);
    sy_params_free(ps);
    sy_dataset_free(d);
    return s;
}

sy_status sy_probe_outputs(sy_graph *g, sy_var xin, int nout, const sy_var *outs, const sy_dataset *train,
                           const sy_dataset *test, const sy_probe_opts *o, size_t n_raw, float *const *raw,
                           double *acc_test, double *acc_train)
{
    enum { MAX_OUT = 8 };
    if (!g || !outs || !train || !test || !o || nout < 1 || nout > MAX_OUT || n_raw > test->n)
        return sy_fail(SY_ERR_ARG, "sy_probe_outputs: need a graph, 1..%d outputs, the sets and n_raw <= %zu",
                       MAX_OUT, test ? test->n : 0);
    size_t ntr = train->n, nte = test->n, sample = sy_dataset_numel(train);
    size_t B = (size_t)sy_graph_shape(g, xin).dim[0];
    float *tr[MAX_OUT] = {0}, *te[MAX_OUT] = {0};
    int w[MAX_OUT];
    sy_status s = SY_OK;
    for (int j = 0; j < nout && s == SY_OK; j++) {
        w[j] = (int)(sy_shape_numel(sy_graph_shape(g, outs[j])) / B);
        tr[j] = malloc(ntr * w[j] * sizeof(float));
        te[j] = malloc(nte * w[j] * sizeof(float));
        if (!tr[j] || !te[j]) s = sy_fail(SY_ERR_NOMEM, "sy_probe_outputs: out of memory");
    }
    if (s == SY_OK) s = sy_graph_features(g, xin, train->x, ntr, sample, o->prepare, o->ctx, nout, outs, tr);
    if (s == SY_OK) s = sy_graph_features(g, xin, test->x, nte, sample, o->prepare, o->ctx, nout, outs, te);
    for (int j = 0; j < nout && s == SY_OK; j++)
        if (raw && raw[j]) memcpy(raw[j], te[j], n_raw * w[j] * sizeof(float));
    for (int j = 0; j < nout && s == SY_OK; j++) s = sy_probe_scale(tr[j], ntr, te[j], nte, w[j]);
    for (int j = 0; j < nout && s == SY_OK; j++)
        s = sy_linear_probe(tr[j], train->y, ntr, te[j], test->y, nte, w[j], train->n_classes, o->epochs, o->lr,
                            o->seed, acc_test ? &acc_test[j] : NULL, acc_train ? &acc_train[j] : NULL);
    for (int j = 0; j < nout; j++) {
        free(tr[j]);
        free(te[j]);
    }
    return s;
}
