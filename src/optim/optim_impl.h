/* Private layout of the optimizer: the per-tensor rules are resolved once, at
 * creation, into a short list of flat ranges ("segments") that the step walks
 * with plain vector loops. Not a public interface. */
#ifndef SYRE_OPTIM_IMPL_H
#define SYRE_OPTIM_IMPL_H

#include "syre/optim.h"

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

struct sy_optimizer {
    sy_params *ps;
    /* Unique in the process and never reused, unlike the address: what a
     * recorded training step is keyed on (graph_device.c). */
    uint64_t id;
    sy_optim_opts o;
    size_t n;              /* trainable_size */
    long steps;
    float base_lr, last_lr, last_norm;

    int n_tensors;
    sy_decay *rule;        /* [n_tensors] resolved rule (trainable tensors) */
    int *has_rule;         /* [n_tensors] */
    sy_segment *tseg;      /* [n_tseg] one per trainable tensor, unmerged */
    int n_tseg;
    sy_segment *seg;       /* merged ranges the step walks */
    int n_seg;

    uint64_t key_anchor, key_d;
    float *anchor;         /* [n] or NULL */
    float *dd;             /* [n] or NULL */
    float *m1, *m2;        /* momentum / exp_avg, exp_avg_sq; [n] or NULL */

    size_t n_fix;          /* W-fix entries, sorted by flat index */
    size_t *fix_idx;
    float *fix_val;

    double *block_sq;      /* per-block sums of squares for a deterministic norm */
    size_t n_blocks;

    struct sy_optim_dev *dev; /* device copies when the store is on a device (step_device.c) */

    int n_state;
    const char *state_name[4];
    float *state[4];
};

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

/* Elements per block of the gradient-norm reduction. */
#define SY_OPTIM_NORM_BLOCK 4096
/* Below this many trainable floats the step runs on one thread. */
#define SY_OPTIM_PAR_MIN 32768

/* The step's numerical guard (nan_guard.c): gradients before the update
 * (*skip = 1: skip this batch). The parameters after it are checked by the
 * update pass itself (step.c), with the message of sy_optim_guard_params_at. */
sy_status sy_optim_guard_grad(sy_optimizer *opt, int *skip);
/* The same with the first non-finite index i known ((size_t)-1: none), as the
 * device step finds it (step_device.c). */
sy_status sy_optim_guard_grad_at(sy_optimizer *opt, size_t i, int *skip);
sy_status sy_optim_guard_params_at(sy_optimizer *opt, size_t i);

sy_status sy_decay_validate(const sy_decay *d, const char *where);
/* The update pass (step.c); returns 1 if it wrote an Inf or NaN parameter. */
int sy_optim_update(sy_optimizer *opt, float lr, float clip);

#endif
