/* The optimizer step: one pass over the flat trainable buffer, walked as a
 * few long ranges of uniform rule. Each (optimizer, decay mode) pair is its
 * own specialised loop so plain weight decay pays nothing for syre, and the
 * stored and regenerated anchors go through the same arithmetic (hence give
 * identical bits). Elementwise only, so results do not depend on threads. */
#include <math.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "backend/device.h"
#include "core/numeric.h"
#include "optim/optim_impl.h"
#include "syre/dist.h"

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
#define SY_FINITE_MAX_BITS 0x7f7fffffu
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

/* The per-step scalars of the update (shared with the device step). */
void sy_optim_scalars(const sy_optimizer *opt, float lr, float clip, sy_step_scalars *c)
{
    const sy_optim_opts *o = &opt->o;
    memset(c, 0, sizeof *c);
    c->kind = o->kind;
    c->key_a = opt->key_anchor;
    c->key_d = opt->key_d;
    c->lr = lr;
    c->clip = clip;
    c->clipping = clip < 1.0f;
    c->first = opt->steps == 0;
    c->momentum = o->momentum;
    c->damp1 = 1.0f - o->dampening;
    c->has_momentum = o->kind == SY_OPTIM_SGD && o->momentum != 0;
    c->nesterov = o->nesterov;
    if (o->kind != SY_OPTIM_SGD) {
        double t = (double)(opt->steps + 1);
        double bc1 = 1.0 - pow((double)o->beta1, t), bc2 = 1.0 - pow((double)o->beta2, t);
        c->b1c = 1.0f - o->beta1;
        c->b2 = o->beta2;
        c->b2c = 1.0f - o->beta2;
        c->eps = o->eps;
        c->step_size = (float)((double)lr / bc1);
        c->bc2_sqrt = (float)sqrt(bc2);
    }
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

/* One range on the calling thread, on any pointers (the sim device's). */
void sy_optim_range_host(const sy_step_scalars *s, const sy_step_ptrs *p, const sy_segment *seg)
{
    step_ctx c;
    ctx_of(&c, s, p);
    run_segment(&c, seg, (sy_optim_kind)s->kind);
}

/* The update; returns whether it wrote a non-finite parameter (the exact
 * index is then found by the full scan in sy_optimizer_step). */
int sy_optim_update(sy_optimizer *opt, float lr, float clip)
{
    sy_step_scalars sc;
    sy_optim_scalars(opt, lr, clip, &sc);
    sy_step_ptrs q = {sy_params_data(opt->ps), sy_params_grad(opt->ps), opt->m1, opt->m2, opt->anchor, opt->dd, opt->n, NULL, NULL};
    step_ctx c;
    ctx_of(&c, &sc, &q);
    const sy_optim_opts *o = &opt->o;
    const int n_seg = opt->n_seg;
    const sy_segment *segs = opt->seg;
    uint32_t top = 0;
#pragma omp parallel if (opt->n >= SY_OPTIM_PAR_MIN) reduction(max : top)
    for (int k = 0; k < n_seg; k++) {
        uint32_t t = run_segment(&c, &segs[k], o->kind);
        top = t > top ? t : top;
    }

    /* W-fix entries never move: put their values back, and keep their
     * optimizer state at zero so nothing of them leaks into a checkpoint. */
    for (size_t k = 0; k < opt->n_fix; k++) {
        size_t i = opt->fix_idx[k];
        c.p[i] = opt->fix_val[k];
        if (opt->m1) opt->m1[i] = 0.0f;
        if (opt->m2) opt->m2[i] = 0.0f;
    }
    return top > SY_FINITE_MAX_BITS;
}

/* The parameter guard after an update that reported `wrote_bad`: the first
 * non-finite index of the whole store, exactly as a scan of [0, n) after the
 * update would find it. Only the update's ranges were checked on the way;
 * the rest (alignment gaps between segments, W-fix entries, which were just
 * reset) is scanned here, and any fault anywhere falls back to the full scan,
 * which then gives the first index. */
static size_t params_first_nonfinite(const sy_optimizer *opt, int wrote_bad)
{
    const float *p = sy_params_data(opt->ps);
    int bad = wrote_bad;
    size_t at = 0;
    for (int k = 0; k < opt->n_seg && !bad; k++) {
        const sy_segment *s = &opt->seg[k];
        if (s->begin > at) bad = sy_first_nonfinite(p + at, s->begin - at) != (size_t)-1;
        at = s->end > at ? s->end : at;
    }
    if (!bad && opt->n > at) bad = sy_first_nonfinite(p + at, opt->n - at) != (size_t)-1;
    for (size_t k = 0; k < opt->n_fix && !bad; k++) bad = !isfinite(p[opt->fix_idx[k]]);
    return bad ? sy_first_nonfinite(p, opt->n) : (size_t)-1;
}

/* Global L2 norm of the trainable gradient (W-fix entries excluded), summed in
 * fixed blocks and then in order, so it does not depend on the thread count. */
static double grad_norm(sy_optimizer *opt)
{
    const float *g = sy_params_grad(opt->ps);
    const size_t n = opt->n, nb = opt->n_blocks;
    double *bs = opt->block_sq;
#pragma omp parallel for schedule(static) if (n >= SY_OPTIM_PAR_MIN)
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b * SY_OPTIM_NORM_BLOCK, hi = lo + SY_OPTIM_NORM_BLOCK < n ? lo + SY_OPTIM_NORM_BLOCK : n;
        double s = 0;
        for (size_t i = lo; i < hi; i++) s += (double)g[i] * g[i];
        bs[b] = s;
    }
    double s = 0;
    for (size_t b = 0; b < nb; b++) s += bs[b];
    for (size_t k = 0; k < opt->n_fix; k++) s -= (double)g[opt->fix_idx[k]] * g[opt->fix_idx[k]];
    if (!isfinite(s)) return s;
    return sqrt(s > 0 ? s : 0);
}

sy_status sy_optimizer_step(sy_optimizer *opt)
{
    if (!opt) return sy_fail(SY_ERR_ARG, "optimizer step: NULL optimizer");
    float lr = sy_schedule_lr(&opt->o.schedule, opt->base_lr, opt->steps);
    float clip = 1.0f;
    opt->last_norm = 0;
    if (sy_params_device(opt->ps)) { /* the store lives on a device: so does the step */
        sy_status st;
        /* Data parallelism: the mean gradient over ranks, on the device (NCCL on cuda). */
        if (sy_device_allreduce_wanted() &&
            (st = sy_device_allreduce_mean(sy_params_device(opt->ps), sy_params_dev_grad(opt->ps, 1), opt->n)))
            return st;
        /* The device step runs the same guard (gradients before, parameters
         * after the update) and counts the step itself. */
        return sy_optim_step_device(opt, lr, opt->o.max_grad_norm);
    }
    /* Data parallelism: the mean gradient over ranks, before anything reads it. */
    sy_status st = sy_dist_allreduce_mean(sy_params_grad(opt->ps), opt->n);
    if (st != SY_OK) return st;
    int skip; /* the numerical guard (nan_guard.c): every gradient finite? */
    st = sy_optim_guard_grad(opt, &skip);
    if (st != SY_OK || skip) return st;
    if (opt->o.max_grad_norm > 0) {
        double norm = grad_norm(opt);
        opt->last_norm = (float)norm;
        if (!isfinite(norm))
            return sy_fail(SY_ERR_NUMERIC, "optimizer step %ld: gradient norm is %g", opt->steps, norm);
        /* torch.nn.utils.clip_grad_norm_: coef = max / (norm + 1e-6), clamped to 1. */
        double coef = (double)opt->o.max_grad_norm / (norm + 1e-6);
        clip = coef < 1.0 ? (float)coef : 1.0f;
    }
    opt->last_lr = lr;
    int wrote_bad = sy_optim_update(opt, lr, clip);
    opt->steps++;
    return sy_optim_guard_params_at(opt, params_first_nonfinite(opt, wrote_bad));
}
