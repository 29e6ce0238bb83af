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
    sy_step_scalars *dsc, *hsc; /* a recorded step's scalars: device, pinned host */
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

/* The device work of the step, without one host wait (a captured step
 * replays exactly this): the gradient scan, the update and W-fix (both
 * skipped on the device when the scan found something), the parameter
 * scan, and both results copied to the host flags. */
static void enqueue(sy_optimizer *opt, const sy_step_scalars *sc, int recorded)
{
    sy_params *ps = opt->ps;
    struct sy_optim_dev *v = opt->dev;
    sy_device *d = v->d;
    float *g = sy_params_dev_grad(ps, 0);
    d->scan_nonfinite(d, g, opt->n, &v->slot[0]);
    sy_step_ptrs p = {sy_params_dev_data(ps, 1), g, v->m1, v->m2, v->anchor, v->dd, opt->n, &v->slot[0], NULL};
    if (recorded) {
        d->upload(d, v->dsc, v->hsc, sizeof *v->hsc); /* replays read the pinned copy as it is then */
        p.dev_scalars = v->dsc;
    }
    for (int k = 0; k < opt->n_seg; k++) d->optim_range(d, sc, &p, &opt->seg[k]);
    if (opt->n_fix) d->wfix(d, &p, v->fix_idx, v->fix_val, opt->n_fix);
    d->scan_nonfinite(d, p.p, opt->n, &v->slot[1]);
    d->download(d, v->flag, v->slot, 2 * sizeof(size_t));
    v->dev_newer = 1;
}

void sy_optim_dev_enqueue(sy_optimizer *opt, const sy_step_scalars *sc) { enqueue(opt, sc, 0); }
void sy_optim_dev_enqueue_recorded(sy_optimizer *opt, const sy_step_scalars *sc) { enqueue(opt, sc, 1); }

sy_status sy_optim_dev_set_scalars(sy_optimizer *opt, const sy_step_scalars *sc)
{
    struct sy_optim_dev *v = opt->dev;
    sy_device *d = v->d;
    if (!v->dsc) {
        if (!(v->dsc = d->alloc(d, sizeof *v->dsc)) || !(v->hsc = d->host_alloc(d, sizeof *v->hsc)))
            return sy_fail(SY_ERR_NOMEM, "optimizer: cannot allocate its step scalars on device '%s'", d->name);
    }
    *v->hsc = *sc; /* the previous step's copy has finished: every step ends with a wait */
    return SY_OK;
}

/* After the device finished the enqueued work: the guards, on the flags. */
sy_status sy_optim_dev_finish(sy_optimizer *opt, float lr, int *skip)
{
    struct sy_optim_dev *v = opt->dev;
    sy_status st = sy_optim_guard_grad_at(opt, v->flag[0], skip);
    if (st || *skip) return st; /* the device applied no update */
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
    struct sy_optim_dev *v = opt->dev;

    float clip = 1.0f;
    if (max_norm > 0) {
        /* The guard runs first (as on the CPU), its flag read with the norm's sync. */
        d->scan_nonfinite(d, sy_params_dev_grad(ps, 0), opt->n, &v->slot[0]);
        d->download(d, v->flag, v->slot, sizeof(size_t));
        if ((st = d->grad_sq_blocks(d, sy_params_dev_grad(ps, 0), opt->n, opt->block_sq, opt->n_blocks)))
            return st;
        int skip;
        if ((st = sy_optim_guard_grad_at(opt, v->flag[0], &skip)) || skip) return st;
        double s = 0;
        for (size_t b = 0; b < opt->n_blocks; b++) s += opt->block_sq[b];
        if (opt->n_fix) { /* rare (W-fix with clipping): read the gradient on the host */
            const float *g = sy_params_grad(ps);
            for (size_t k = 0; k < opt->n_fix; k++) s -= (double)g[opt->fix_idx[k]] * g[opt->fix_idx[k]];
        }
        double norm = isfinite(s) ? sqrt(s > 0 ? s : 0) : s;
        opt->last_norm = (float)norm;
        if (!isfinite(norm))
            return sy_fail(SY_ERR_NUMERIC, "optimizer step %ld: gradient norm is %g", opt->steps, norm);
        double coef = (double)max_norm / (norm + 1e-6);
        clip = coef < 1.0 ? (float)coef : 1.0f;
    }
    sy_step_scalars sc;
    sy_optim_scalars(opt, lr, clip, &sc);
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
    if (v->hsc) d->host_free(d, v->hsc);
    free(v);
    opt->dev = NULL;
}
