/* Normalisation and noise: batch norm (batch statistics in training, running
 * ones in evaluation), inverted dropout, row L2 normalisation. */
#include "ops/ops_common.h"
#include "syre/dist.h"

sy_var sy_batchnorm(sy_graph *g, sy_var x, sy_var gamma, sy_var beta, sy_var running_mean,
                    sy_var running_var, float momentum, float eps)
{
    int in[5] = {x, gamma, beta, running_mean, running_var};
    float fa[SY_MAX_FATTR] = {momentum, eps};
    return SY_BUILD(g, SY_OP_BATCHNORM, in, NULL, fa);
}

sy_status sy_shape_batchnorm(sy_graph *g, sy_node *n)
{
    sy_shape x = GIN(0)->shape;
    char b1[64], b2[64];
    if (x.ndim != 2 && x.ndim != 4)
        return sy_fail(SY_ERR_SHAPE, "input must be [N,C] or [N,C,H,W], got %s", sy_shape_str(x, b1));
    for (int k = 1; k < 5; k++)
        if (GIN(k)->numel != (size_t)x.dim[1])
            return sy_fail(SY_ERR_SHAPE, "input %d has shape %s, expected %d values (one per channel of %s)",
                           k, sy_shape_str(GIN(k)->shape, b2), x.dim[1], sy_shape_str(x, b1));
    if (!(n->fattr[1] > 0) || !(n->fattr[0] >= 0 && n->fattr[0] <= 1))
        return sy_fail(SY_ERR_ARG, "eps %g must be > 0 and momentum %g in [0, 1]", n->fattr[1], n->fattr[0]);
    n->shape = x;
    /* mean and 1/std used by this forward, then room for 2C + 2 doubles: the
     * per-channel sums that synchronised batch norm adds up over ranks */
    n->scratch_n = 2 * (size_t)x.dim[1] + 2 * (2 * (size_t)x.dim[1] + 2);
    return SY_OK;
}

/* The sums buffer of synchronised batch norm: 2C + 1 doubles after mean and
 * 1/std (2C floats), moved up by a float where needed to align them (the CPU
 * arena aligns buffers to a float only). */
static double *bn_sums(sy_node *n, size_t C)
{
    float *p = n->scratch + 2 * C;
    if ((uintptr_t)p % sizeof(double)) p++;
    return (double *)(void *)p;
}

/* Adds v[0..k) up over the ranks; a failure becomes the graph's run error. */
static void bn_allreduce(sy_exec *ex, double *v, size_t k)
{
    sy_status st = sy_dist_sum(v, k);
    if (st != SY_OK) sy_exec_fail(ex, st, "synchronised batch norm: %s", sy_last_error());
}

/* Training forward with the statistics of the global batch (SyncBatchNorm):
 * the per-channel sum and element count added up over the ranks give the
 * mean, then the centred sums of squares added up give the variance, two
 * passes as the one-process kernel computes them. */
static void bn_fwd_sync(sy_exec *ex, sy_node *n)
{
    sy_shape s = n->shape;
    size_t N = s.dim[0], C = s.dim[1], inner = sy_inner_size(s, 1);
    const float *x = IN(0)->val, *gam = IN(1)->val, *bet = IN(2)->val;
    float *rm = IN(3)->val, *rv = IN(4)->val, *mean = n->scratch, *istd = n->scratch + C;
    float mom = n->fattr[0], eps = n->fattr[1];
    double *acc = bn_sums(n, C);
    for (size_t c = 0; c < C; c++) {
        double s1 = 0;
        for (size_t b = 0; b < N; b++)
            for (size_t k = 0; k < inner; k++) s1 += x[(b * C + c) * inner + k];
        acc[c] = s1;
    }
    acc[C] = (double)(N * inner);
    bn_allreduce(ex, acc, C + 1);
    double cnt = acc[C];
    for (size_t c = 0; c < C; c++) {
        double m = acc[c] / cnt, s2 = 0;
        mean[c] = (float)m;
        for (size_t b = 0; b < N; b++)
            for (size_t k = 0; k < inner; k++) {
                double d = x[(b * C + c) * inner + k] - m;
                s2 += d * d;
            }
        acc[C + 1 + c] = s2;
    }
    bn_allreduce(ex, acc + C + 1, C);
    for (size_t c = 0; c < C; c++) {
        double m = acc[c] / cnt, v = acc[C + 1 + c] / cnt;
        rm[c] = (float)((1 - mom) * rm[c] + mom * m);
        rv[c] = (float)((1 - mom) * rv[c] + mom * (cnt > 1 ? v * cnt / (cnt - 1) : v));
        istd[c] = (float)(1.0 / sqrt(v + eps));
        for (size_t b = 0; b < N; b++)
            for (size_t k = 0; k < inner; k++) {
                size_t i = (b * C + c) * inner + k;
                n->val[i] = gam[c] * (x[i] - mean[c]) * istd[c] + bet[c];
            }
    }
}

/* Channel c's sums of dy and of dy * xhat over the batch (both backwards). */
static void bn_dy_sums(const float *x, const float *dy, const float *mean, const float *istd, size_t N, size_t C,
                       size_t inner, size_t c, double *sdy_out, double *sdyx_out)
{
    double sdy = 0, sdyx = 0;
    for (size_t b = 0; b < N; b++)
        for (size_t k = 0; k < inner; k++) {
            size_t i = (b * C + c) * inner + k;
            sdy += dy[i];
            sdyx += dy[i] * (x[i] - mean[c]) * istd[c];
        }
    *sdy_out = sdy, *sdyx_out = sdyx;
}

/* Its backward: dx needs the sums of dy and dy * xhat over the global batch
 * (added up over the ranks, as SyncBatchNorm's backward does); gamma's and
 * beta's gradients take this rank's own sums, since the optimizer step
 * averages parameter gradients over the ranks afterwards. */
static void bn_bwd_sync(sy_exec *ex, sy_node *n)
{
    sy_shape s = n->shape;
    size_t N = s.dim[0], C = s.dim[1], inner = sy_inner_size(s, 1);
    const float *x = IN(0)->val, *gam = IN(1)->val, *dy = n->grad;
    const float *mean = n->scratch, *istd = n->scratch + C;
    float *dx = IN(0)->grad, *dg = IN(1)->grad, *db = IN(2)->grad;
    double *acc = bn_sums(n, C); /* sum dy [C], sum dy xhat [C], count */
    for (size_t c = 0; c < C; c++) {
        double sdy, sdyx;
        bn_dy_sums(x, dy, mean, istd, N, C, inner, c, &sdy, &sdyx);
        if (dg) dg[c] += (float)sdyx;
        if (db) db[c] += (float)sdy;
        acc[c] = sdy, acc[C + c] = sdyx;
    }
    if (!dx) return; /* every rank skips alike: the graph is the same */
    acc[2 * C] = (double)(N * inner);
    bn_allreduce(ex, acc, 2 * C + 1);
    double cnt = acc[2 * C];
    for (size_t c = 0; c < C; c++)
        for (size_t b = 0; b < N; b++)
            for (size_t k = 0; k < inner; k++) {
                size_t i = (b * C + c) * inner + k;
                double xh = (x[i] - mean[c]) * istd[c];
                dx[i] += (float)(gam[c] * istd[c] * (dy[i] - acc[c] / cnt - xh * acc[C + c] / cnt));
            }
}

void sy_ref_fwd_batchnorm(sy_exec *ex, sy_node *n)
{
    if (ex->training && ex->sync_bn) {
        bn_fwd_sync(ex, n);
        return;
    }
    sy_shape s = n->shape;
    size_t N = s.dim[0], C = s.dim[1], inner = sy_inner_size(s, 1), cnt = N * inner;
    const float *x = IN(0)->val, *gam = IN(1)->val, *bet = IN(2)->val;
    float *rm = IN(3)->val, *rv = IN(4)->val, *mean = n->scratch, *istd = n->scratch + C;
    float mom = n->fattr[0], eps = n->fattr[1];
    for (size_t c = 0; c < C; c++) {
        double m, v;
        if (ex->training) {
            double s1 = 0, s2 = 0;
            for (size_t b = 0; b < N; b++)
                for (size_t k = 0; k < inner; k++) s1 += x[(b * C + c) * inner + k];
            m = s1 / cnt;
            for (size_t b = 0; b < N; b++)
                for (size_t k = 0; k < inner; k++) {
                    double d = x[(b * C + c) * inner + k] - m;
                    s2 += d * d;
                }
            v = s2 / cnt;
            rm[c] = (float)((1 - mom) * rm[c] + mom * m);
            rv[c] = (float)((1 - mom) * rv[c] + mom * (cnt > 1 ? v * cnt / (cnt - 1) : v));
        } else {
            m = rm[c];
            v = rv[c];
        }
        mean[c] = (float)m;
        istd[c] = (float)(1.0 / sqrt(v + eps));
        for (size_t b = 0; b < N; b++)
            for (size_t k = 0; k < inner; k++) {
                size_t i = (b * C + c) * inner + k;
                n->val[i] = gam[c] * (x[i] - mean[c]) * istd[c] + bet[c];
            }
    }
}

void sy_ref_bwd_batchnorm(sy_exec *ex, sy_node *n)
{
    if (ex->training && ex->sync_bn) {
        bn_bwd_sync(ex, n);
        return;
    }
    sy_shape s = n->shape;
    size_t N = s.dim[0], C = s.dim[1], inner = sy_inner_size(s, 1), cnt = N * inner;
    const float *x = IN(0)->val, *gam = IN(1)->val, *dy = n->grad;
    const float *mean = n->scratch, *istd = n->scratch + C;
    float *dx = IN(0)->grad, *dg = IN(1)->grad, *db = IN(2)->grad;
    for (size_t c = 0; c < C; c++) {
        double sdy, sdyx;
        bn_dy_sums(x, dy, mean, istd, N, C, inner, c, &sdy, &sdyx);
        if (dg) dg[c] += (float)sdyx;
        if (db) db[c] += (float)sdy;
        if (!dx) continue;
        for (size_t b = 0; b < N; b++)
            for (size_t k = 0; k < inner; k++) {
                size_t i = (b * C + c) * inner + k;
                if (ex->training) {
                    double xh = (x[i] - mean[c]) * istd[c];
                    dx[i] += (float)(gam[c] * istd[c] * (dy[i] - sdy / cnt - xh * sdyx / cnt));
                } else {
                    dx[i] += gam[c] * istd[c] * dy[i];
                }
            }
    }
}

sy_var sy_dropout(sy_graph *g, sy_var x, float p)
{
    if (!(p >= 0 && p < 1)) {
        if (!g) return -1;
        return sy_graph_error(g, SY_ERR_ARG, "dropout rate %g outside [0, 1)", p);
    }
    int in[1] = {x};
    float fa[SY_MAX_FATTR] = {p};
    return SY_BUILD(g, SY_OP_DROPOUT, in, NULL, fa);
}

sy_status sy_shape_dropout(sy_graph *g, sy_node *n)
{
    n->shape = GIN(0)->shape;
    n->scratch_n = GIN(0)->numel; /* the mask, scaled by 1/(1-p) */
    return SY_OK;
}

void sy_ref_fwd_dropout(sy_exec *ex, sy_node *n) { sy_dropout_fwd_at(ex, n, ex->step); }

void sy_dropout_fwd_at(sy_exec *ex, sy_node *n, uint64_t step)
{
    float p = n->fattr[0], keep = 1.0f / (1.0f - p);
    /* Mask element i of step t is a pure function of (seed, node, t, i). */
    uint64_t key = sy_rng_key(ex->seed ^ ((uint64_t)(n - ex->nodes) << 40), SY_STREAM_DROPOUT);
    for (size_t i = 0; i < n->numel; i++) {
        n->scratch[i] = !ex->training ? 1.0f : (sy_rng_uniform_at(key, step, i) >= p ? keep : 0.0f);
        n->val[i] = IN(0)->val[i] * n->scratch[i];
    }
}

void sy_ref_bwd_dropout(sy_exec *ex, sy_node *n)
{
    for (size_t i = 0; i < n->numel; i++) IN(0)->grad[i] += n->grad[i] * n->scratch[i];
}

sy_var sy_l2normalize(sy_graph *g, sy_var x, float eps)
{
    int in[1] = {x};
    float fa[SY_MAX_FATTR] = {eps};
    return SY_BUILD(g, SY_OP_L2NORMALIZE, in, NULL, fa);
}

sy_status sy_shape_l2normalize(sy_graph *g, sy_node *n)
{
    char b[64];
    if (GIN(0)->shape.ndim != 2)
        return sy_fail(SY_ERR_SHAPE, "input must be [N,F], got %s", sy_shape_str(GIN(0)->shape, b));
    if (!(n->fattr[0] > 0)) return sy_fail(SY_ERR_ARG, "eps %g must be > 0", n->fattr[0]);
    n->shape = GIN(0)->shape;
    n->scratch_n = (size_t)GIN(0)->shape.dim[0]; /* each row's max(norm, eps) */
    return SY_OK;
}

void sy_ref_fwd_l2normalize(sy_exec *ex, sy_node *n)
{
    int N = n->shape.dim[0], F = n->shape.dim[1];
    for (int i = 0; i < N; i++) {
        const float *x = IN(0)->val + (size_t)i * F;
        double s = 0;
        for (int j = 0; j < F; j++) s += (double)x[j] * x[j];
        float nrm = (float)sqrt(s);
        n->scratch[i] = nrm > n->fattr[0] ? nrm : n->fattr[0];
        for (int j = 0; j < F; j++) n->val[(size_t)i * F + j] = x[j] / n->scratch[i];
    }
}

void sy_ref_bwd_l2normalize(sy_exec *ex, sy_node *n)
{
    int N = n->shape.dim[0], F = n->shape.dim[1];
    for (int i = 0; i < N; i++) {
        const float *y = n->val + (size_t)i * F, *dy = n->grad + (size_t)i * F;
        float *dx = IN(0)->grad + (size_t)i * F, r = n->scratch[i];
        int clamped = r <= n->fattr[0];
        double dot = 0;
        if (!clamped)
            for (int j = 0; j < F; j++) dot += (double)y[j] * dy[j];
        for (int j = 0; j < F; j++) dx[j] += (float)((dy[j] - y[j] * dot) / r);
    }
}
