/* The anchor network: a model evaluated with (some of) its trainable
 * parameters set to the optimizer's anchor theta0, untrained, and then given
 * its own values back. syre's diagnostics (ranks, dead units) are read
 * against it: at sigma0 = 1 theta0 has the scale of an initialisation and
 * can pass them by itself. */
#include <stdlib.h>
#include <string.h>

#include "syre/optim.h"

sy_status sy_optimizer_eval_at_anchor(const sy_optimizer *opt, sy_params *ps, const char *prefix,
                                      sy_status (*eval)(void *ctx), void *ctx)
{
    if (!opt || !ps || !eval) return sy_fail(SY_ERR_ARG, "anchor evaluation: no optimizer, parameters or evaluation");
    size_t n = sy_params_trainable_size(ps), len = prefix ? strlen(prefix) : 0;
    float *p = NULL, *keep = malloc(n * sizeof *keep), *a = malloc(n * sizeof *a);
    sy_status s = keep && a ? sy_optimizer_anchor(opt, a) : sy_fail(SY_ERR_NOMEM, "anchor evaluation: out of memory");
    if (s == SY_OK) s = sy_params_write(ps, &p);
    if (s == SY_OK) {
        memcpy(keep, p, n * sizeof *p);
        for (int t = 0; t < sy_params_count(ps); t++) {
            const sy_param_info *pi = sy_params_info(ps, t);
            if (pi->trainable && !strncmp(pi->name, prefix ? prefix : "", len))
                memcpy(p + pi->offset, a + pi->offset, pi->numel * sizeof *p);
        }
        s = eval(ctx);
        /* again: a device store then takes the restored values as newer */
        sy_status w = sy_params_write(ps, &p);
        if (w == SY_OK) memcpy(p, keep, n * sizeof *p);
        if (s == SY_OK) s = w;
    }
    free(keep);
    free(a);
    return s;
}
