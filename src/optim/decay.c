/* The decay-rule constructors, the CLI method-name parser, option defaults
 * and learning-rate schedules: small pure functions with no state. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "optim/optim_impl.h"
#include "syre/runtime.h"

sy_decay sy_decay_none(void)
{
    sy_decay d = {0};
    d.kind = SY_DECAY_NONE;
    d.sigma0 = 0.01f;
    d.wfix_kappa = 0.01f;
    return d;
}

sy_decay sy_decay_l2(float wd)
{
    sy_decay d = sy_decay_none();
    d.kind = SY_DECAY_L2;
    d.weight_decay = wd;
    return d;
}

sy_decay sy_decay_syre(float wd, float sigma0)
{
    sy_decay d = sy_decay_l2(wd);
    d.kind = SY_DECAY_SYRE;
    d.sigma0 = sigma0;
    return d;
}

sy_decay sy_decay_syre_ar(float wd, float sigma0, float eps)
{
    sy_decay d = sy_decay_syre(wd, sigma0);
    d.kind = SY_DECAY_SYRE_AR;
    d.eps = eps;
    return d;
}

sy_decay sy_decay_l2_init(float wd)
{
    sy_decay d = sy_decay_l2(wd);
    d.kind = SY_DECAY_L2_INIT;
    return d;
}

sy_decay sy_decay_wfix(float wd, float frac, float kappa)
{
    sy_decay d = sy_decay_l2(wd);
    d.wfix_frac = frac;
    d.wfix_kappa = kappa;
    return d;
}

static const char *const kind_names[] = {"none", "l2", "syre", "syre-ar", "l2init"};

const char *sy_decay_kind_name(sy_decay_kind k)
{
    return (unsigned)k < sizeof kind_names / sizeof *kind_names ? kind_names[k] : "?";
}

sy_status sy_decay_parse(const char *method, float wd, float sigma0, float eps, sy_decay *out)
{
    if (!method || !out) return sy_fail(SY_ERR_ARG, "decay parse: NULL argument");
    if (!strcmp(method, "none"))
        *out = sy_decay_none();
    else if (!strcmp(method, "vanilla") || !strcmp(method, "l2"))
        *out = sy_decay_l2(wd);
    else if (!strcmp(method, "syre"))
        *out = sy_decay_syre(wd, sigma0);
    else if (!strcmp(method, "syre-ar"))
        *out = sy_decay_syre_ar(wd, sigma0, eps);
    else if (!strcmp(method, "l2init") || !strcmp(method, "l2-init"))
        *out = sy_decay_l2_init(wd);
    else if (!strcmp(method, "wfix"))
        *out = sy_decay_wfix(wd, 0.3f, 0.01f);
    else
        return sy_fail(SY_ERR_ARG,
                       "unknown method '%s' (expected vanilla, l2, none, syre, syre-ar, l2init or wfix)",
                       method);
    return sy_decay_validate(out, method);
}

sy_status sy_decay_validate(const sy_decay *d, const char *where)
{
    if ((unsigned)d->kind > SY_DECAY_L2_INIT)
        return sy_fail(SY_ERR_ARG, "%s: unknown decay kind %d", where, (int)d->kind);
    if (!(d->weight_decay >= 0) || !isfinite(d->weight_decay))
        return sy_fail(SY_ERR_ARG, "%s: weight_decay must be finite and >= 0, got %g", where,
                       d->weight_decay);
    if (!(d->sigma0 >= 0) || !isfinite(d->sigma0))
        return sy_fail(SY_ERR_ARG, "%s: sigma0 must be finite and >= 0, got %g", where, d->sigma0);
    if (!(d->eps >= 0 && d->eps < 1))
        return sy_fail(SY_ERR_ARG, "%s: syre-ar eps must be in [0, 1), got %g", where, d->eps);
    if (!(d->wfix_frac >= 0 && d->wfix_frac <= 1))
        return sy_fail(SY_ERR_ARG, "%s: W-fix fraction must be in [0, 1], got %g", where, d->wfix_frac);
    if (!(d->wfix_kappa >= 0) || !isfinite(d->wfix_kappa))
        return sy_fail(SY_ERR_ARG, "%s: W-fix variance kappa must be >= 0, got %g", where,
                       d->wfix_kappa);
    return SY_OK;
}

sy_optim_opts sy_optim_defaults(sy_optim_kind kind)
{
    sy_optim_opts o;
    memset(&o, 0, sizeof o);
    o.kind = kind;
    o.lr = kind == SY_OPTIM_SGD ? 0.01f : 1e-3f;
    o.beta1 = 0.9f;
    o.beta2 = 0.999f;
    o.eps = 1e-8f;
    o.schedule.kind = SY_SCHED_CONSTANT;
    o.schedule.gamma = 0.1f;
    o.decay = kind == SY_OPTIM_ADAMW ? sy_decay_l2(0.01f) : sy_decay_none();
    o.anchor_storage = SY_ANCHOR_STORED;
    o.shift_init = 1;
    o.nan_policy = SY_NAN_PROCESS;
    return o;
}

sy_status sy_optim_add_rule(sy_optim_opts *o, const char *pattern, sy_decay decay)
{
    if (!o || !pattern) return sy_fail(SY_ERR_ARG, "optim add rule: NULL argument");
    if (o->n_rules >= SY_OPTIM_MAX_RULES)
        return sy_fail(SY_ERR_ARG, "optim add rule '%s': at most %d rules", pattern, SY_OPTIM_MAX_RULES);
    size_t len = strlen(pattern);
    if (len == 0 || len >= sizeof o->rules[0].pattern)
        return sy_fail(SY_ERR_ARG, "optim add rule: pattern '%s' is empty or longer than %zu chars",
                       pattern, sizeof o->rules[0].pattern - 1);
    sy_status st = sy_decay_validate(&decay, pattern);
    if (st) return st;
    memcpy(o->rules[o->n_rules].pattern, pattern, len + 1);
    o->rules[o->n_rules].decay = decay;
    o->rules[o->n_rules].optional = 0;
    o->n_rules++;
    return SY_OK;
}

float sy_schedule_lr(const sy_schedule *s, float base, long t)
{
    if (t < 0) t = 0;
    if (s->warmup_steps > 0 && t < s->warmup_steps)
        return (float)((double)base * (double)(t + 1) / (double)s->warmup_steps);
    long k = t - (s->warmup_steps > 0 ? s->warmup_steps : 0);
    switch (s->kind) {
    case SY_SCHED_STEP:
        if (s->step_size <= 0) return base;
        return (float)((double)base * pow((double)s->gamma, (double)(k / s->step_size)));
    case SY_SCHED_COSINE: {
        if (s->total_steps <= 0) return base;
        double f = (double)(k < s->total_steps ? k : s->total_steps) / (double)s->total_steps;
        return (float)(s->min_lr + ((double)base - s->min_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * f)));
    }
    default:
        return base;
    }
}
