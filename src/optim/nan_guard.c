/* The optimizer step's numerical guard: before an update every gradient
 * must be finite, after it every parameter. On a fault the message names
 * the step, the tensor and element, and the last good checkpoint; the policy
 * (syre/runtime.h) decides between stopping and skipping the batch. One
 * integer scan of the gradient per step; the parameters are checked in the
 * update pass (step.c), which calls sy_optim_guard_params_at. */
#include <math.h>
#include <stdio.h>

#include "core/numeric.h"
#include "optim/optim_impl.h"
#include "syre/runtime.h"

/* The tensor holding flat index i of the store. */
static const char *tensor_of(const sy_params *ps, size_t i, size_t *elem)
{
    for (int k = 0; k < sy_params_count(ps); k++) {
        const sy_param_info *info = sy_params_info(ps, k);
        if (i >= info->offset && i < info->offset + info->numel) {
            *elem = i - info->offset;
            return info->name;
        }
    }
    *elem = i;
    return "?";
}

static const char *kind(float v) { return isnan(v) ? "NaN" : v > 0 ? "+Inf" : "-Inf"; }

sy_status sy_optim_guard_grad(sy_optimizer *opt, const float *grad, int *skip)
{
    return sy_optim_guard_grad_at(opt, sy_first_nonfinite(grad, opt->n), skip);
}

sy_status sy_optim_guard_grad_at(sy_optimizer *opt, size_t i, int *skip)
{
    *skip = 0;
    if (i == (size_t)-1) return SY_OK;
    const float *g; /* a device store copies it back: only on a fault */
    sy_status st = sy_params_read_grad(opt->ps, &g);
    if (st) return st;
    size_t e;
    const char *name = tensor_of(opt->ps, i, &e);
    int policy = opt->o.nan_policy != SY_NAN_PROCESS ? opt->o.nan_policy : (int)sy_get_nan_policy();
    if (policy == SY_NAN_SKIP_BATCH) {
        sy_nan_note_skip();
        if (sy_nan_skipped() <= 10 || sy_nan_skipped() % 1000 == 0)
            fprintf(stderr, "syre: optimizer step %ld: gradient of '%s' [%zu] is %s: batch skipped (%ld so far, --on-nan skip-batch)\n",
                    opt->steps + 1, name, e, kind(g[i]), sy_nan_skipped());
        *skip = 1;
        return SY_OK;
    }
    return sy_fail(SY_ERR_NUMERIC,
                   "optimizer step %ld: gradient of '%s' [%zu] is %s; update not applied, training stopped%s. "
                   "Lower --lr, or pass --on-nan skip-batch to skip such batches",
                   opt->steps + 1, name, e, kind(g[i]), sy_last_checkpoint_note());
}

sy_status sy_optim_guard_params_at(sy_optimizer *opt, size_t i)
{
    if (i == (size_t)-1) return SY_OK;
    const float *p;
    sy_status st = sy_params_read(opt->ps, &p);
    if (st) return st;
    size_t e;
    const char *name = tensor_of(opt->ps, i, &e);
    return sy_fail(SY_ERR_NUMERIC,
                   "optimizer step %ld: parameter '%s' [%zu] became %s from finite gradients (the run diverged); "
                   "training stopped%s. Lower --lr",
                   opt->steps, name, e, kind(p[i]), sy_last_checkpoint_note());
}
