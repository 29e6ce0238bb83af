/* Private layout of the optimizer: the per-tensor rules are resolved once, at
 * creation, into a short list of flat ranges ("segments") that the step walks
 * with plain vector loops. Not a public interface. */
#ifndef SYRE_OPTIM_IMPL_H
#define SYRE_OPTIM_IMPL_H

#include "backend/optim_update.h"
#include "syre/optim.h"


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

/* Below this many trainable floats the step runs on one thread. */
#define SY_OPTIM_PAR_MIN 32768

/* The step's numerical guard (nan_guard.c): gradients before the update
 * (*skip = 1: skip this batch). The parameters after it are checked by the
 * update pass itself (step.c), with the message of sy_optim_guard_params_at. */
sy_status sy_optim_guard_grad(sy_optimizer *opt, const float *grad, int *skip);
/* The same with the first non-finite index i known ((size_t)-1: none), as the
 * device step finds it (step_device.c). */
sy_status sy_optim_guard_grad_at(sy_optimizer *opt, size_t i, int *skip);
sy_status sy_optim_guard_params_at(sy_optimizer *opt, size_t i);

sy_status sy_decay_validate(const sy_decay *d, const char *where);
/* The update pass (step.c) on the store's host buffers p (the values) and g
 * (the gradients); returns 1 if it wrote an Inf or NaN parameter. */
int sy_optim_update(sy_optimizer *opt, float *p, float *g, float lr, float clip);

/* ---- The step on a device (step_device.c; the recorded step: train/step.c) ---- */
void sy_optim_scalars(const sy_optimizer *opt, float lr, float clip, sy_step_scalars *c);
sy_status sy_optim_step_device(sy_optimizer *opt, float lr, float clip_norm_max);
/* The device step in parts, for a captured training step (train/step.c):
 * prepare (host work: allocation, uploads of what the host changed), enqueue
 * (device work only, no waits: gradient scan, guarded update, parameter
 * scan, flags to the host), finish (after the device finished: the NaN
 * guard's verdict, the step count). */
sy_status sy_optim_dev_prepare(sy_optimizer *opt);
/* The host work of a recorded step: this step's learning rate and scalars,
 * prepare, and the scalars written to the pinned copy (set_scalars). */
sy_status sy_optim_dev_begin_recorded(sy_optimizer *opt, float *lr, sy_step_scalars *sc);
void sy_optim_dev_enqueue(sy_optimizer *opt, const sy_step_scalars *sc);
/* The recorded form: the scalars are read from a pinned copy that the
 * device work copies in (set_scalars writes it; call it before every launch),
 * and veto(ctx, slot) enqueues, between the gradient scan and the update,
 * what must stop the update (d->veto on the gradient flag `slot`). */
void sy_optim_dev_enqueue_recorded(sy_optimizer *opt, const sy_step_scalars *sc,
                                   void (*veto)(void *ctx, size_t *slot), void *ctx);
/* Also marks the device's moments as changed (read back before the next
 * checkpoint read). */
sy_status sy_optim_dev_set_scalars(sy_optimizer *opt, const sy_step_scalars *sc);
sy_status sy_optim_dev_finish(sy_optimizer *opt, float lr, int *skip);
void sy_optim_device_free(sy_optimizer *opt);
/* Make host copies of the optimizer state current (checkpoint reads), and
 * mark them as possibly changed by the host (checkpoint loads). */
void sy_optim_device_to_host(sy_optimizer *opt);

#endif
