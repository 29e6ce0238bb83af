/* The optimizer update on the CPU (backend/optim_update.h): one specialised
 * loop per (optimizer, decay mode) pair, so plain weight decay pays nothing
 * for syre, and the stored and regenerated anchors go through the same
 * arithmetic (hence give identical bits). Compiled with strict rounding (no
 * FMA contraction), like the reference kernels: the update is the one
 * PyTorch writes, operation by operation. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "backend/cpu/isa.h"
#include "backend/optim_update.h"
#include "core/numeric.h"
#include "syre/optim.h"

/* Per-step scalars, computed once (in double, as PyTorch's Python side does). */
typedef struct {
    float *p, *g, *m1, *m2;
    const float *anchor, *dd;
    uint64_t key_a, key_d;
    float lr, clip;
    int clipping, first;
    float momentum, damp1, b1c, b2, b2c, eps, step_size, bc2_sqrt;
    int nesterov, has_momentum;
} step_ctx;

#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* The parameter guard rides along the update: each range walks its share in
 * blocks of SY_UPDATE_BLOCK floats, updates a block, then takes the largest
 * |p| bit pattern of the block while it is in L1 (sy_max_abs_bits: two vector
 * instructions per 8 floats), instead of a second pass over the buffer after
 * the step. Above 0x7f7fffff (FLT_MAX's bits) means an Inf or NaN was
 * written. (A max reduction inside the update loop itself keeps GCC from
 * vectorising it; a separate loop over the hot block does not.) */
#define SY_UPDATE_BLOCK 2048

/* This thread's share [*i0, *i1) of [begin, end) in whole 16-float pieces
 * (the whole range outside a parallel region). Elementwise updates, so the
 * split does not change any value. */
ALWAYS_INLINE void thread_share(size_t begin, size_t end, size_t *i0, size_t *i1)
{
    size_t pieces = (end - begin + 15) / 16, t = (size_t)omp_get_thread_num(), nt = (size_t)omp_get_num_threads();
    *i0 = begin + pieces * t / nt * 16;
    *i1 = begin + pieces * (t + 1) / nt * 16;
    if (*i0 > end) *i0 = end;
    if (*i1 > end) *i1 = end;
}

/* Decay term for element i. Coupled: returns wd*D*(phi - a) to add to g.
 * Decoupled: applies phi <- phi (1 - c) + c a with c = lr wd D, returns 0. */
ALWAYS_INLINE float decay(const step_ctx *c, const sy_segment *s, size_t i, float *p, const int mode,
                          const int decoupled)
{
    float a = 0.0f, d = 1.0f;
    switch (mode) {
    case SEG_NONE: return 0.0f;
    case SEG_ZERO:
        if (decoupled) {
            *p = *p * (1.0f - c->lr * s->wd);
            return 0.0f;
        }
        return s->wd * *p;
    case SEG_ANCHOR: a = c->anchor[i]; break;
    case SEG_ANCHOR_D: a = c->anchor[i]; d = c->dd[i]; break;
    case SEG_REGEN: a = sy_anchor_value(c->key_a, s->tensor, i - s->base, s->sigma); break;
    case SEG_REGEN_D:
        a = sy_anchor_value(c->key_a, s->tensor, i - s->base, s->sigma);
        d = sy_d_value(c->key_d, s->tensor, i - s->base, s->eps);
        break;
    }
    const int has_d = mode == SEG_ANCHOR_D || mode == SEG_REGEN_D;
    if (decoupled) {
        float k = has_d ? (c->lr * s->wd) * d : c->lr * s->wd;
        *p = *p * (1.0f - k) + k * a;
        return 0.0f;
    }
    return (has_d ? s->wd * d : s->wd) * (*p - a);
}

/* The update of [b0, b1) of segment s. */
ALWAYS_INLINE void sgd_range(const step_ctx *c, const sy_segment *s, const int mode, size_t b0, size_t b1)
{
    float *restrict P = c->p, *restrict G = c->g, *restrict B = c->m1;
#pragma omp simd
    for (size_t i = b0; i < b1; i++) {
        float p = P[i];
        float g = c->clipping ? G[i] * c->clip : G[i];
        if (mode != SEG_NONE) g = g + decay(c, s, i, &p, mode, 0);
        if (c->has_momentum) {
            float b = c->first ? g : B[i] * c->momentum + g * c->damp1;
            B[i] = b;
            g = c->nesterov ? g + c->momentum * b : b;
        }
        P[i] = p - c->lr * g;
    }
}

ALWAYS_INLINE void adam_range(const step_ctx *c, const sy_segment *s, const int mode, size_t b0, size_t b1,
                              const int decoupled)
{
    float *restrict P = c->p, *restrict G = c->g, *restrict M = c->m1, *restrict V = c->m2;
#pragma omp simd
    for (size_t i = b0; i < b1; i++) {
        float p = P[i];
        float g = c->clipping ? G[i] * c->clip : G[i];
        if (mode != SEG_NONE) {
            float t = decay(c, s, i, &p, mode, decoupled);
            if (!decoupled) g = g + t;
        }
        /* exp_avg.lerp_(g, 1 - beta1); exp_avg_sq.mul_(beta2).addcmul_(g, g, 1 - beta2) */
        float m = M[i] + c->b1c * (g - M[i]);
        float v = V[i] * c->b2 + c->b2c * (g * g);
        M[i] = m;
        V[i] = v;
        /* This loop vectorises only under -fno-math-errno (sqrtf's errno
         * path is control flow); vsqrtps is correctly rounded, same bits. */
        float denom = sqrtf(v) / c->bc2_sqrt + c->eps;
        P[i] = p - c->step_size * (m / denom);
    }
}

#define DISPATCH(fn, ...)                                               \
    switch (s->mode) {                                                   \
    case SEG_NONE: fn(c, s, SEG_NONE, ##__VA_ARGS__); break;             \
    case SEG_ZERO: fn(c, s, SEG_ZERO, ##__VA_ARGS__); break;             \
    case SEG_ANCHOR: fn(c, s, SEG_ANCHOR, ##__VA_ARGS__); break;         \
    case SEG_ANCHOR_D: fn(c, s, SEG_ANCHOR_D, ##__VA_ARGS__); break;     \
    case SEG_REGEN: fn(c, s, SEG_REGEN, ##__VA_ARGS__); break;           \
    case SEG_REGEN_D: fn(c, s, SEG_REGEN_D, ##__VA_ARGS__); break;       \
    default: break;                                                      \
    }

/* This thread's share of one segment, in blocks of SY_UPDATE_BLOCK floats:
 * update a block, then check it while it is in L1. Returns the largest |p|
 * bits written. */
static uint32_t run_segment(const step_ctx *cp, const sy_segment *sp, sy_optim_kind kind)
{
    /* Local copies: loop-invariant for the compiler (the stores to the
     * parameters and moments could otherwise alias *cp), so the branches on
     * them leave the loops. */
    const step_ctx cc = *cp, *c = &cc;
    const sy_segment ssg = *sp, *s = &ssg;
    size_t i0, i1;
    uint32_t top = 0;
    thread_share(s->begin, s->end, &i0, &i1);
    for (size_t b0 = i0; b0 < i1; b0 += SY_UPDATE_BLOCK) {
        const size_t b1 = b0 + SY_UPDATE_BLOCK < i1 ? b0 + SY_UPDATE_BLOCK : i1;
        if (kind == SY_OPTIM_SGD) {
            DISPATCH(sgd_range, b0, b1)
        } else if (kind == SY_OPTIM_ADAM) {
            DISPATCH(adam_range, b0, b1, 0)
        } else {
            DISPATCH(adam_range, b0, b1, 1)
        }
        const uint32_t t = sy_max_abs_bits(c->p + b0, b1 - b0);
        top = t > top ? t : top;
    }
    return top;
}

static void ctx_of(step_ctx *c, const sy_step_scalars *s, const sy_step_ptrs *q)
{
    memset(c, 0, sizeof *c);
    c->p = q->p;
    c->g = q->g;
    c->m1 = q->m1;
    c->m2 = q->m2;
    c->anchor = q->anchor;
    c->dd = q->dd;
    c->key_a = s->key_a;
    c->key_d = s->key_d;
    c->lr = s->lr;
    c->clip = s->clip;
    c->clipping = s->clipping;
    c->first = s->first;
    c->momentum = s->momentum;
    c->damp1 = s->damp1;
    c->has_momentum = s->has_momentum;
    c->nesterov = s->nesterov;
    c->b1c = s->b1c;
    c->b2 = s->b2;
    c->b2c = s->b2c;
    c->eps = s->eps;
    c->step_size = s->step_size;
    c->bc2_sqrt = s->bc2_sqrt;
}

SY_ISA_DECLARE(uint32_t, sy_update_segment, (const sy_step_scalars *s, const sy_step_ptrs *p, const sy_segment *seg))
uint32_t SY_ISA_FN(sy_update_segment)(const sy_step_scalars *s, const sy_step_ptrs *p, const sy_segment *seg)
{
    SY_ISA_DISPATCH(sy_update_segment, (s, p, seg));
    step_ctx c;
    ctx_of(&c, s, p);
    return run_segment(&c, seg, (sy_optim_kind)s->kind);
}

