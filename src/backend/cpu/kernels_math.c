/* Vectorisable versions of the transcendental ops of the VAE (SiLU, sigmoid,
 * BCE with logits, the Gaussian KL). glibc's expf/log1pf are scalar calls that the compiler
 * cannot vectorise (without -ffast-math), and they took a fifth of a VAE
 * step. fast_expf and fast_log are branch-free (range reduction, polynomial,
 * exponent bits), so loops over them vectorise; relative error about 2e-7,
 * the order of float rounding. Results differ from the reference kernels only
 * by that rounding (test_cpu_kernels). */
#include "backend/cpu/cpu_kernels.h"
#include "core/fast_log.h"

#include <math.h>
#include <stdint.h>

static inline float bits_to_float(int32_t i)
{
    float f;
    memcpy(&f, &i, sizeof f);
    return f;
}

/* e^x for any float x, clamped to [-87.3, 88]: below, e^x stays at ~1e-38
 * (expf: down to 0); above, at ~1.7e38 (expf: up to 3.4e38, then inf). The
 * clamp also keeps the exponent field 1..254 (no shift of a negative value,
 * no infinity). Only sigmoid-like uses need the tails, where 1/(1+e^x) is 0
 * either way. */
static inline float fast_expf(float x)
{
    x = x < -87.3f ? -87.3f : x;
    x = x > 88.0f ? 88.0f : x;
    float n = __builtin_rintf(x * 1.44269504f);
    float r = x - n * 0.693145752f; /* ln 2 split in two for an exact product */
    r = r - n * 1.42860677e-6f;
    /* e^r on |r| <= 0.347: Taylor to degree 7 */
    float p = 1.0f / 5040.0f;
    p = p * r + 1.0f / 720.0f;
    p = p * r + 1.0f / 120.0f;
    p = p * r + 1.0f / 24.0f;
    p = p * r + 1.0f / 6.0f;
    p = p * r + 0.5f;
    p = p * r + 1.0f;
    p = p * r + 1.0f;
    return p * bits_to_float(((int32_t)n + 127) << 23);
}

/* ln y for y in [1, 2] (all that log(1 + e^-|x|) needs): y = 2^k m with m in
 * [sqrt(1/2), sqrt(2)), ln m = 2 atanh(s), s = (m-1)/(m+1), odd series. */
static inline float fast_log_1_2(float y)
{
    int big = y > 1.41421356f;
    float m = big ? 0.5f * y : y, k = big ? 1.0f : 0.0f;
    return k * 0.693147181f + sy_log_mantissa_series((m - 1.0f) / (m + 1.0f));
}

static inline float fast_sigmoid(float x) { return 1.0f / (1.0f + fast_expf(-x)); }

static void fwd_silu(sy_exec *ex, sy_node *n)
{
    const float *x = IN(0)->val;
    float *y = n->val;
    for (size_t i = 0; i < n->numel; i++) y[i] = x[i] * fast_sigmoid(x[i]);
}

static void bwd_silu(sy_exec *ex, sy_node *n)
{
    const float *x = IN(0)->val, *dy = n->grad;
    float *dx = IN(0)->grad;
    int set = n->overwrite & 1;
    for (size_t i = 0; i < n->numel; i++) {
        float s = fast_sigmoid(x[i]), d = dy[i] * (s * (1.0f + x[i] * (1.0f - s)));
        dx[i] = set ? d : dx[i] + d;
    }
}

static void fwd_sigmoid(sy_exec *ex, sy_node *n)
{
    const float *x = IN(0)->val;
    for (size_t i = 0; i < n->numel; i++) n->val[i] = fast_sigmoid(x[i]);
}

static void bwd_sigmoid(sy_exec *ex, sy_node *n)
{
    const float *y = n->val, *dy = n->grad;
    float *dx = IN(0)->grad;
    int set = n->overwrite & 1;
    for (size_t i = 0; i < n->numel; i++) {
        float d = dy[i] * y[i] * (1.0f - y[i]);
        dx[i] = set ? d : dx[i] + d;
    }
}

/* Sum of max(x,0) - x t + log(1 + e^-|x|), in blocks of float partial sums
 * added up in double (the reference sums in double). */
static void fwd_bce_logits(sy_exec *ex, sy_node *n)
{
    const float *x = IN(0)->val, *t = IN(1)->val;
    size_t N = IN(0)->numel;
    double s = 0;
    for (size_t i0 = 0; i0 < N; i0 += 1024) {
        size_t i1 = i0 + 1024 < N ? i0 + 1024 : N;
        float part[16] = {0};
        size_t i = i0;
        for (; i + 16 <= i1; i += 16)
            for (int l = 0; l < 16; l++) {
                float v = x[i + l], a = v > 0 ? v : -v;
                part[l] += (v > 0 ? v : 0) - v * t[i + l] + fast_log_1_2(1.0f + fast_expf(-a));
            }
        for (; i < i1; i++) {
            float v = x[i], a = v > 0 ? v : -v;
            part[0] += (v > 0 ? v : 0) - v * t[i] + fast_log_1_2(1.0f + fast_expf(-a));
        }
        for (int l = 0; l < 16; l++) s += part[l];
    }
    n->val[0] = (float)(s * sy_reduce_scale(n->iattr[0], IN(0)->shape));
}

static void bwd_bce_logits(sy_exec *ex, sy_node *n)
{
    const float *x = IN(0)->val, *t = IN(1)->val;
    float *dx = IN(0)->grad, *dt = IN(1)->grad;
    float s = n->grad[0] * sy_reduce_scale(n->iattr[0], IN(0)->shape);
    size_t N = IN(0)->numel;
    int set_x = n->overwrite & 1, set_t = n->overwrite & 2;
    if (dx)
        for (size_t i = 0; i < N; i++) {
            float d = s * (fast_sigmoid(x[i]) - t[i]);
            dx[i] = set_x ? d : dx[i] + d;
        }
    if (dt)
        for (size_t i = 0; i < N; i++) dt[i] = (set_t ? 0.0f : dt[i]) - s * x[i];
}

/* KL(N(mu, e^lv) || N(0, s2)) (the VAE's KL term): e^lv through
 * fast_expf, which saturates at ~1.7e38 above lv = 88 where expf reaches inf:
 * such inputs give inf here too. Sum as fwd_bce_logits: float partial sums
 * in blocks, added in double. */
static inline float kl_exp(float x) { return x > 88.7228f ? INFINITY : fast_expf(x); }

static void fwd_kl_gauss(sy_exec *ex, sy_node *n)
{
    const float *mu = IN(0)->val, *lv = IN(1)->val;
    size_t N = IN(0)->numel;
    const float s2 = n->fattr[0], c = (float)log((double)s2) - 1.0f;
    double s = 0;
    for (size_t i0 = 0; i0 < N; i0 += 1024) {
        size_t i1 = i0 + 1024 < N ? i0 + 1024 : N;
        float part[16] = {0};
        size_t i = i0;
        for (; i + 16 <= i1; i += 16)
            for (int l = 0; l < 16; l++) {
                float m = mu[i + l], v = lv[i + l];
                part[l] += (kl_exp(v) + m * m) / s2 + (c - v);
            }
        for (; i < i1; i++) part[0] += (kl_exp(lv[i]) + mu[i] * mu[i]) / s2 + (c - lv[i]);
        for (int l = 0; l < 16; l++) s += part[l];
    }
    n->val[0] = (float)(0.5 * s * sy_reduce_scale(n->iattr[0], IN(0)->shape));
}

static void bwd_kl_gauss(sy_exec *ex, sy_node *n)
{
    const float *mu = IN(0)->val, *lv = IN(1)->val;
    float *dmu = IN(0)->grad, *dlv = IN(1)->grad, s2 = n->fattr[0];
    float s = n->grad[0] * sy_reduce_scale(n->iattr[0], IN(0)->shape);
    size_t N = IN(0)->numel;
    int set_mu = n->overwrite & 1, set_lv = n->overwrite & 2;
    if (dmu)
        for (size_t i = 0; i < N; i++) {
            float d = s * mu[i] / s2;
            dmu[i] = set_mu ? d : dmu[i] + d;
        }
    if (dlv)
        for (size_t i = 0; i < N; i++) {
            float d = s * 0.5f * (kl_exp(lv[i]) / s2 - 1.0f);
            dlv[i] = set_lv ? d : dlv[i] + d;
        }
}

SY_ISA_DECLARE(void, sy_cpu_register_math, (sy_backend *be))
void SY_ISA_FN(sy_cpu_register_math)(sy_backend *be)
{
    SY_ISA_DISPATCH_VOID(sy_cpu_register_math, (be));
    be->can_overwrite[SY_OP_KL_GAUSS] = 3;
    be->forward[SY_OP_KL_GAUSS] = fwd_kl_gauss;
    be->backward[SY_OP_KL_GAUSS] = bwd_kl_gauss;
    be->can_overwrite[SY_OP_SILU] = 1;
    be->can_overwrite[SY_OP_SIGMOID] = 1;
    be->can_overwrite[SY_OP_BCE_LOGITS] = 3;
    be->forward[SY_OP_SILU] = fwd_silu;
    be->backward[SY_OP_SILU] = bwd_silu;
    be->forward[SY_OP_SIGMOID] = fwd_sigmoid;
    be->backward[SY_OP_SIGMOID] = bwd_sigmoid;
    be->forward[SY_OP_BCE_LOGITS] = fwd_bce_logits;
    be->backward[SY_OP_BCE_LOGITS] = bwd_bce_logits;
}
