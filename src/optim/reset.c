/* Shrink-and-perturb (Ash & Adams 2020), the reset baseline of continual
 * learning: theta <- lambda theta + p theta_fresh, theta_fresh a fresh
 * initialisation of the same tensors. */
#include "syre/optim.h"

sy_status sy_shrink_perturb(sy_params *ps, float lambda, float p, uint64_t fresh_seed)
{
    /* theta_fresh: a second store with the same tensors, initialised by sy_params_init */
    sy_params *fresh = sy_params_new();
    if (!fresh) return sy_fail(SY_ERR_NOMEM, "shrink-and-perturb: out of memory");
    sy_status s = SY_OK;
    int n = sy_params_count(ps);
    for (int i = 0; i < n && s == SY_OK; i++) {
        const sy_param_info *pi = sy_params_info(ps, i);
        if (sy_params_add(fresh, pi->name, pi->shape, pi->fan_in, pi->init, pi->trainable) < 0)
            s = sy_fail(SY_ERR_STATE, "shrink-and-perturb: cannot copy tensor %s", pi->name);
    }
    if (s == SY_OK) s = sy_params_init(fresh, fresh_seed);
    float *w;
    if (s == SY_OK) s = sy_params_write(ps, &w);
    for (int i = 0; i < n && s == SY_OK; i++) {
        const sy_param_info *pi = sy_params_info(ps, i);
        if (!pi->trainable) continue;
        float *wi = w + pi->offset;
        const float *f = sy_params_tensor(fresh, sy_params_find(fresh, pi->name)); /* a host store */
        for (size_t j = 0; j < pi->numel; j++) wi[j] = lambda * wi[j] + p * f[j];
    }
    sy_params_free(fresh);
    return s;
}
