/* The optimizer update as a backend kernel: the per-element update of SGD,
 * Adam and AdamW with every decay rule (toward zero, toward a stored or
 * regenerated anchor theta0, with or without the diagonal D), over flat
 * ranges of uniform rule ("segments"). The optimizer (src/optim) resolves
 * its rules into segments and per-step scalars; each backend runs the same
 * update on its own memory: the CPU's in backend/cpu/optim_update.c (also
 * what the sim device runs), CUDA's in backend/cuda/kernels.cu (the device
 * table's optim_range). Not a public interface. */
#ifndef SYRE_OPTIM_UPDATE_H
#define SYRE_OPTIM_UPDATE_H

#include <stddef.h>
#include <stdint.h>

#include "syre/core.h"

/* How a range decays; every mode computes the same per-element term
 * wd * D_ii * (phi_i - a_i), specialised so that no mode pays for what it
 * does not use. */
typedef enum {
    SEG_NONE = 0,   /* no decay */
    SEG_ZERO,       /* a = 0, D = 1 (plain weight decay) */
    SEG_ANCHOR,     /* a = anchor[i], D = 1 */
    SEG_ANCHOR_D,   /* a = anchor[i], D = dd[i] */
    SEG_REGEN,      /* a regenerated from (key, tensor, i - base), D = 1 */
    SEG_REGEN_D,    /* a and D regenerated */
    SEG_NMODES
} seg_mode;

typedef struct {
    size_t begin, end;  /* flat range [begin, end) */
    size_t base;        /* flat offset of the tensor's first element (regen modes) */
    int tensor;         /* store index: the RNG sub-stream of its anchors */
    seg_mode mode;
    float wd;           /* PyTorch weight_decay */
    float sigma;        /* absolute anchor std: sigma0 / sqrt(fan_in) */
    float eps;          /* syre-ar half-width */
} sy_segment;

/* Per-step optimizer scalars, the same numbers the CPU step computes. */
typedef struct {
    float lr, clip;
    int clipping, first;
    float momentum, damp1;
    int has_momentum, nesterov;
    float b1c, b2, b2c, eps, step_size, bc2_sqrt;
    int kind; /* sy_optim_kind */
    uint64_t key_a, key_d;
} sy_step_scalars;

/* The gradient flag's value when the recorded step must not update (the
 * device's veto); any other value but (size_t)-1 is a gradient index. */
#define SY_STEP_VETOED ((size_t)-2)

/* Device-side optimizer pointers (all [n] floats, or NULL). */
typedef struct {
    float *p, *g, *m1, *m2;
    const float *anchor, *dd;
    size_t n;
    /* The NaN guard's flag (device memory, or NULL): while *skip !=
     * (size_t)-1 optim_range and wfix change nothing. */
    const size_t *skip;
    /* This step's scalars in device memory (or NULL: the ones passed): a
     * recorded step copies them in from pinned memory, so the replayed
     * kernels see each step's learning rate and bias corrections. */
    const sy_step_scalars *dev_scalars;
} sy_step_ptrs;

/* The value theta0 (or D_ii) of element j of tensor t: the stored and the
 * regenerated paths both call these, which is what makes them bit-identical. */
static inline float sy_anchor_value(uint64_t key, int tensor, size_t j, float sigma)
{
    return sigma * sy_rng_normal_at(key, (uint64_t)tensor, (uint64_t)j);
}
static inline float sy_d_value(uint64_t key, int tensor, size_t j, float eps)
{
    return 1.0f + eps * (2.0f * sy_rng_uniform_at(key, (uint64_t)tensor, (uint64_t)j) - 1.0f);
}

/* Elements per block of the gradient-norm reduction (the CPU step, the
 * devices' grad_sq_blocks and clip_norm: the same blocks, the same sums). */
#define SY_OPTIM_NORM_BLOCK 4096

/* The largest |x| bit pattern of a finite float (FLT_MAX's): an update that
 * reports more wrote an Inf or NaN. */
#define SY_FINITE_MAX_BITS 0x7f7fffffu

/* The CPU update of segment seg: inside an OpenMP parallel region this
 * thread's share (whole 16-float pieces), outside it the whole range.
 * Returns the largest |p| bit pattern written (the parameter guard rides
 * along the update). Elementwise: no value depends on the thread count. */
uint32_t sy_update_segment(const sy_step_scalars *s, const sy_step_ptrs *p, const sy_segment *seg);

#endif
