/* The optimizer step on a device: the same segments, scalars and W-fix as
 * the CPU step (step.c), run by the device over its copies of the flat
 * parameter, gradient and state buffers. The optimizer's host arrays stay
 * the checkpoint interface: sy_optimizer_state copies the device's moments
 * back, and whatever the host then writes is uploaded before the next step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/device.h"
#include "optim/optim_impl.h"



struct sy_optim_dev {
    sy_device *d;
    float *m1, *m2, *anchor, *dd, *fix_val;
    size_t *fix_idx;
    size_t *slot;   /* device: [0] first non-finite gradient, [1] parameter */
    size_t *flag;   /* host copy of slot (pinned on cuda) */
    sy_step_scalars *dsc, *hsc; /* scalars read from memory (recorded step, clipping): device, pinned host */
    double *blocks, *dnorm;     /* clipping: block sums of squares and the norm (device) */
    double *hnorm;              /* the norm's host copy (pinned), read after the step's wait */
    int host_newer; /* host state arrays may differ from the device's */
    int dev_newer;  /* the device's moments changed since the last copy back */
};

static sy_status dev_init(sy_optimizer *opt, sy_device *d)
{
    struct sy_optim_dev *v = calloc(1, sizeof *v);
    if (!v) return sy_fail(SY_ERR_NOMEM, "optimizer: out of memory");
    v->d = d;
    opt->dev = v;
    size_t bytes = (opt->n ? opt->n : 1) * sizeof(float);
    if ((opt->m1 && !(v->m1 = d->alloc(d, bytes))) || (opt->m2 && !(v->m2 = d->alloc(d, bytes))) ||
        (opt->anchor && !(v->anchor = d->alloc(d, bytes))) || (opt->dd && !(v->dd = d->alloc(d, bytes))) ||
        !(v->slot = d->alloc(d, 2 * sizeof(size_t))) || !(v->flag = d->host_alloc(d, 2 * sizeof(size_t)))) {
        SY_LAST_ERROR_COPY(why);
        return sy_fail(SY_ERR_NOMEM, "optimizer: cannot allocate its state on device '%s': %s", d->name, why);
    }
    if (opt->n_fix) {
        if (!(v->fix_idx = d->alloc(d, opt->n_fix * sizeof(size_t))) ||
            !(v->fix_val = d->alloc(d, opt->n_fix * sizeof(float))))
            return sy_fail(SY_ERR_NOMEM, "optimizer: cannot allocate W-fix entries on device '%s'", d->name);
        d->upload(d, v->fix_idx, opt->fix_idx, opt->n_fix * sizeof(size_t));
        d->upload(d, v->fix_val, opt->fix_val, opt->n_fix * sizeof(float));
    }
    if (opt->o.max_grad_norm > 0 &&
        (!(v->blocks = d->alloc(d, (opt->n_blocks ? opt->n_blocks : 1) * sizeof(double))) ||
         !(v->dnorm = d->alloc(d, sizeof(double))) || !(v->hnorm = d->host_alloc(d, sizeof(double)))))
        return sy_fail(SY_ERR_NOMEM, "optimizer: cannot allocate the gradient norm's buffers on device '%s'", d->name);
    v->host_newer = 1;
    return SY_OK;
}

static void upload_state(sy_optimizer *opt)
{
    struct sy_optim_dev *v = opt->dev;
    sy_device *d = v->d;
    size_t bytes = opt->n * sizeof(float);
    if (v->m1) d->upload(d, v->m1, opt->m1, bytes);
    if (v->m2) d->upload(d, v->m2, opt->m2, bytes);
    if (v->anchor) d->upload(d, v->anchor, opt->anchor, bytes);
    if (v->dd) d->upload(d, v->dd, opt->dd, bytes);
    v->host_newer = 0;
}

sy_status sy_optim_dev_prepare(sy_optimizer *opt)
{
    sy_params *ps = opt->ps;
    sy_device *d = sy_params_device(ps);
    sy_status st;
    if (!opt->dev && (st = dev_init(opt, d))) return st;
    if (opt->dev->host_newer) upload_state(opt);
    /* Bring the store current now, so that enqueue only asks for pointers. */
    sy_params_dev_data(ps, 1);
    sy_params_dev_grad(ps, 0);
    return SY_OK;
}

sy_status sy_optim_dev_begin_recorded(sy_optimizer *opt, float *lr, sy_step_scalars *sc)
{
    *lr = sy_schedule_lr(&opt->o.schedule, opt->base_lr, opt->steps);
    opt->last_norm = 0;
    sy_status st = sy_optim_dev_prepare(opt);
    if (st) return st;
    sy_optim_scalars(opt, *lr, 1.0f, sc);
    return sy_optim_dev_set_scalars(opt, sc);
}

/* The device work of the step, without one host wait (a captured step
 * replays exactly this): the gradient scan, with clipping the norm and the
 * clip factor (into the device scalars), the update and W-fix (both skipped
 * on the device when the scan found something), the parameter scan, and the
 * flags and the norm copied to the host. from_memory: the kernels read the
 * scalars from the device copy of the pinned block (set_scalars writes it
 * before; a recorded step, and every step with clipping). */
static void enqueue(sy_optimizer *opt, const sy_step_scalars *sc, int from_memory, void (*veto)(void *, size_t *),
                    void *ctx)
{
    sy_params *ps = opt->ps;
    struct sy_optim_dev *v = opt->dev;
    sy_device *d = v->d;
    float *g = sy_params_dev_grad(ps, 0);
    d->scan_nonfinite(d, g, opt->n, &v->slot[0]);
    if (veto) veto(ctx, &v->slot[0]);
    sy_step_ptrs p = {sy_params_dev_data(ps, 1), g, v->m1, v->m2, v->anchor, v->dd, opt->n, &v->slot[0], NULL};
    int clipping = opt->o.max_grad_norm > 0;
    if (from_memory || clipping) {
        d->upload(d, v->dsc, v->hsc, sizeof *v->hsc); /* replays read the pinned copy as it is then */
        if (clipping)
            d->clip_norm(d, g, opt->n, v->blocks, opt->n_blocks, v->fix_idx, opt->n_fix, opt->o.max_grad_norm, v->dsc,
                         v->dnorm);
        p.dev_scalars = v->dsc;
    }
    for (int k = 0; k < opt->n_seg; k++) d->optim_range(d, sc, &p, &opt->seg[k]);
    if (opt->n_fix) d->wfix(d, &p, v->fix_idx, v->fix_val, opt->n_fix);
    d->scan_nonfinite(d, p.p, opt->n, &v->slot[1]);
    d->download(d, v->flag, v->slot, 2 * sizeof(size_t));
    if (clipping) d->download(d, v->hnorm, v->dnorm, sizeof(double));
    v->dev_newer = 1;
}

void sy_optim_dev_enqueue(sy_optimizer *opt, const sy_step_scalars *sc) { enqueue(opt, sc, 0, NULL, NULL); }
void sy_optim_dev_enqueue_recorded(sy_optimizer *opt, const sy_step_scalars *sc, void (*veto)(void *, size_t *),
                                   void *ctx)
{
    enqueue(opt, sc, 1, veto, ctx);
}

sy_status sy_optim_dev_set_scalars(sy_optimizer *opt, const sy_step_scalars *sc)
{
    struct sy_optim_dev *v = opt->dev;
    sy_device *d = v->d;
    if (!v->dsc) {
        if (!(v->dsc = d->alloc(d, sizeof *v->dsc)) || !(v->hsc = d->host_alloc(d, sizeof *v->hsc)))
            return sy_fail(SY_ERR_NOMEM, "optimizer: cannot allocate its step scalars on device '%s'", d->name);
    }
    *v->hsc = *sc; /* the previous step's copy has finished: every step ends with a wait */
    /* The step about to run (eager, captured or replayed) changes the
     * moments on the device: a replay does not run enqueue's marking. */
    v->dev_newer = 1;
    return SY_OK;
}

/* After the device finished the enqueued work: the guards, on the flags. */
sy_status sy_optim_dev_finish(sy_optimizer *opt, float lr, int *skip)
{
    struct sy_optim_dev *v = opt->dev;
    if (v->flag[0] == SY_STEP_VETOED) { /* the host stopped first (loss, label); defensive */
        *skip = 1;
        return sy_fail(SY_ERR_STATE, "optimizer step %ld: the device withheld the update (an error in this step)",
                       opt->steps);
    }
    sy_status st = sy_optim_guard_grad_at(opt, v->flag[0], skip);
    if (st || *skip) return st; /* the device applied no update */
    if (opt->o.max_grad_norm > 0) {
        double norm = *v->hnorm;
        opt->last_norm = (float)norm;
        /* Finite gradients (the guard) have a finite norm in double: a
         * non-finite one cannot occur; the check is the CPU's. */
        if (!isfinite(norm))
            return sy_fail(SY_ERR_NUMERIC, "optimizer step %ld: gradient norm is %g", opt->steps, norm);
    }
    opt->last_lr = lr;
    opt->steps++;
    return sy_optim_guard_params_at(opt, v->flag[1]);
}

sy_status sy_optim_step_device(sy_optimizer *opt, float lr, float max_norm)
{
    sy_params *ps = opt->ps;
    sy_device *d = sy_params_device(ps);
    sy_status st;
    if ((st = sy_optim_dev_prepare(opt))) return st;
    /* Clipping (max_norm > 0) stays on the device: the norm and the factor
     * are computed there and read by the update kernels; the host reads the
     * norm after the one wait. */
    sy_step_scalars sc;
    sy_optim_scalars(opt, lr, 1.0f, &sc);
    if (max_norm > 0 && (st = sy_optim_dev_set_scalars(opt, &sc))) return st;
    sy_optim_dev_enqueue(opt, &sc);
    /* One wait per step: the flags (the forward waited for the loss already). */
    if ((st = d->sync(d))) return sy_fail(st, "optimizer step on %s: %s", d->name, d->error);
    int skip;
    return sy_optim_dev_finish(opt, lr, &skip);
}

void sy_optim_device_to_host(sy_optimizer *opt)
{
    struct sy_optim_dev *v = opt->dev;
    if (!v) return;
    if (v->dev_newer) {
        size_t bytes = opt->n * sizeof(float);
        if (v->m1) v->d->download(v->d, opt->m1, v->m1, bytes);
        if (v->m2) v->d->download(v->d, opt->m2, v->m2, bytes);
        v->d->sync(v->d);
        v->dev_newer = 0;
    }
    v->host_newer = 1; /* the caller may write them (checkpoint load) */
}

void sy_optim_device_free(sy_optimizer *opt)
{
    struct sy_optim_dev *v = opt->dev;
    if (!v) return;
    sy_device *d = v->d;
    d->sync(d);
    float *f[] = {v->m1, v->m2, v->anchor, v->dd, v->fix_val};
    for (int i = 0; i < 5; i++)
        if (f[i]) d->free(d, f[i]);
    if (v->fix_idx) d->free(d, v->fix_idx);
    if (v->slot) d->free(d, v->slot);
    if (v->flag) d->host_free(d, v->flag);
    if (v->dsc) d->free(d, v->dsc);
    if (v->blocks) d->free(d, v->blocks);
    if (v->dnorm) d->free(d, v->dnorm);
    if (v->hnorm) d->host_free(d, v->hnorm);
    if (v->hsc) d->host_free(d, v->hsc);
    free(v);
    opt->dev = NULL;
}
