/* Optimizer creation and state: resolves each trainable tensor's decay rule
 * (by fnmatch pattern), applies W-fix values and syre's phi = theta + theta0
 * shift once, builds the flat ranges the step walks, and exposes the state
 * a checkpoint needs. The update itself lives in step.c. */
#define _POSIX_C_SOURCE 200809L
#include <fnmatch.h>
#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "backend/device.h"
#include "optim/optim_impl.h"
#include "syre/runtime.h"

static float *alloc_floats(size_t n)
{
    size_t bytes = (n * sizeof(float) + 63) / 64 * 64;
    float *p = aligned_alloc(64, bytes ? bytes : 64);
    if (p) memset(p, 0, bytes ? bytes : 64);
    return p;
}

static sy_status validate_opts(const sy_optim_opts *o)
{
    if ((unsigned)o->kind > SY_OPTIM_ADAMW)
        return sy_fail(SY_ERR_ARG, "optimizer: unknown kind %d", (int)o->kind);
    if (!(o->lr >= 0) || !isfinite(o->lr))
        return sy_fail(SY_ERR_ARG, "optimizer: lr must be finite and >= 0, got %g", o->lr);
    if (o->nan_policy < SY_NAN_PROCESS || o->nan_policy > SY_NAN_SKIP_BATCH)
        return sy_fail(SY_ERR_ARG, "optimizer: unknown nan_policy %d (SY_NAN_PROCESS, _STOP or _SKIP_BATCH)",
                       o->nan_policy);
    if (o->kind == SY_OPTIM_SGD) {
        if (!(o->momentum >= 0) || !(o->dampening >= 0 && o->dampening <= 1))
            return sy_fail(SY_ERR_ARG, "SGD: momentum must be >= 0 and dampening in [0, 1] (got %g, %g)",
                           o->momentum, o->dampening);
        if (o->nesterov && (o->momentum <= 0 || o->dampening != 0))
            return sy_fail(SY_ERR_ARG, "SGD: Nesterov momentum requires momentum > 0 and zero dampening");
    } else {
        if (!(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1))
            return sy_fail(SY_ERR_ARG, "Adam: betas must be in [0, 1), got (%g, %g)", o->beta1, o->beta2);
        if (!(o->eps >= 0))
            return sy_fail(SY_ERR_ARG, "Adam: eps must be >= 0, got %g", o->eps);
    }
    if (isnan(o->max_grad_norm))
        return sy_fail(SY_ERR_ARG, "optimizer: max_grad_norm is NaN");
    const sy_schedule *s = &o->schedule;
    if ((unsigned)s->kind > SY_SCHED_COSINE || s->warmup_steps < 0)
        return sy_fail(SY_ERR_ARG, "optimizer: bad schedule (kind %d, warm-up %ld)", (int)s->kind,
                       s->warmup_steps);
    if (s->kind == SY_SCHED_STEP && (s->step_size <= 0 || !(s->gamma > 0)))
        return sy_fail(SY_ERR_ARG, "step schedule: step_size must be > 0 and gamma > 0 (got %ld, %g)",
                       s->step_size, s->gamma);
    if (s->kind == SY_SCHED_COSINE && (s->total_steps <= 0 || !(s->min_lr >= 0)))
        return sy_fail(SY_ERR_ARG, "cosine schedule: total_steps must be > 0 and min_lr >= 0 (got %ld, %g)",
                       s->total_steps, s->min_lr);
    if ((unsigned)o->anchor_storage > SY_ANCHOR_REGENERATE)
        return sy_fail(SY_ERR_ARG, "optimizer: unknown anchor storage %d", (int)o->anchor_storage);
    if (o->n_rules < 0 || o->n_rules > SY_OPTIM_MAX_RULES)
        return sy_fail(SY_ERR_ARG, "optimizer: n_rules %d outside [0, %d]", o->n_rules, SY_OPTIM_MAX_RULES);
    sy_status st = sy_decay_validate(&o->decay, "optimizer decay");
    for (int r = 0; !st && r < o->n_rules; r++)
        st = sy_decay_validate(&o->rules[r].decay, o->rules[r].pattern);
    return st;
}

/* Index of the rule that selects trainable tensor `name` (the first whose
 * pattern matches), or -1 for the default rule. */
static int rule_index(const sy_optim_opts *o, const char *name)
{
    for (int r = 0; r < o->n_rules; r++)
        if (fnmatch(o->rules[r].pattern, name, 0) == 0) return r;
    return -1;
}

/* A rule that selects no trainable tensor is almost always a typo, and it
 * would turn syre off without a word: an error listing the names, unless the
 * rule says it is optional. */
static sy_status check_rules_select(const sy_params *ps, const sy_optim_opts *o)
{
    int hits[SY_OPTIM_MAX_RULES] = {0};
    for (int t = 0; t < sy_params_count(ps); t++) {
        const sy_param_info *pi = sy_params_info(ps, t);
        int r = pi->trainable ? rule_index(o, pi->name) : -1;
        if (r >= 0) hits[r]++;
    }
    for (int r = 0; r < o->n_rules; r++) {
        if (hits[r] || o->rules[r].optional) continue;
        char names[1200];
        size_t n = 0;
        names[0] = '\0';
        for (int t = 0; t < sy_params_count(ps) && n + 100 < sizeof names; t++) {
            const sy_param_info *pi = sy_params_info(ps, t);
            if (pi->trainable) n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", n ? ", " : "", pi->name);
        }
        if (n + 100 >= sizeof names) snprintf(names + n, sizeof names - n, ", ...");
        return sy_fail(SY_ERR_ARG, "optimizer: rule %d's pattern '%s' selects no trainable tensor (none matches, or "
                       "an earlier rule takes them); the trainable tensors are: %s (set the rule's optional = 1 if "
                       "it may select none)", r, o->rules[r].pattern, names);
    }
    return SY_OK;
}

static int cmp_size(const void *a, const void *b)
{
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* W-fix: exactly round(frac * numel) entries of each rank >= 2 tensor, chosen
 * by a shuffle of stream SY_STREAM_WFIX (sub-stream = tensor index), set to
 * sqrt(kappa) * N(0, 1) from the same sequence. */
static sy_status apply_wfix(sy_optimizer *opt, float *data, unsigned char *fixed)
{
    size_t total = 0;
    for (int t = 0; t < opt->n_tensors; t++) {
        const sy_param_info *pi = sy_params_info(opt->ps, t);
        if (opt->has_rule[t] && opt->rule[t].wfix_frac > 0 && pi->shape.ndim >= 2)
            total += (size_t)llround((double)opt->rule[t].wfix_frac * (double)pi->numel);
    }
    if (!total) return SY_OK;
    opt->fix_idx = malloc(total * sizeof *opt->fix_idx);
    opt->fix_val = malloc(total * sizeof *opt->fix_val);
    if (!opt->fix_idx || !opt->fix_val) return sy_fail(SY_ERR_NOMEM, "W-fix: out of memory");
    for (int t = 0; t < opt->n_tensors; t++) {
        const sy_param_info *pi = sy_params_info(opt->ps, t);
        if (!(opt->has_rule[t] && opt->rule[t].wfix_frac > 0 && pi->shape.ndim >= 2)) continue;
        size_t k = (size_t)llround((double)opt->rule[t].wfix_frac * (double)pi->numel);
        if (pi->numel > (size_t)0x7fffffff) return sy_fail(SY_ERR_ARG, "W-fix: tensor '%s' too large", pi->name);
        int *perm = malloc(pi->numel * sizeof *perm);
        if (!perm) return sy_fail(SY_ERR_NOMEM, "W-fix: out of memory");
        for (size_t j = 0; j < pi->numel; j++) perm[j] = (int)j;
        sy_rng r = sy_rng_make(opt->o.seed, SY_STREAM_WFIX, (uint64_t)t);
        sy_rng_shuffle(&r, perm, pi->numel);
        float sd = sqrtf(opt->rule[t].wfix_kappa);
        for (size_t j = 0; j < k; j++) {
            size_t i = pi->offset + (size_t)perm[j];
            data[i] = sd * sy_rng_normal(&r);
            fixed[i] = 1;
        }
        free(perm);
    }
    /* Collect in flat order so lookups can bisect. */
    size_t c = 0;
    for (size_t i = 0; i < opt->n; i++)
        if (fixed[i]) {
            opt->fix_idx[c] = i;
            opt->fix_val[c] = data[i];
            c++;
        }
    opt->n_fix = c;
    return SY_OK;
}

static seg_mode mode_of(const sy_decay *d, const sy_param_info *pi, sy_anchor_storage st)
{
    if (d->kind == SY_DECAY_NONE || d->weight_decay == 0 || (d->exclude_1d && pi->shape.ndim == 1))
        return SEG_NONE;
    switch (d->kind) {
    case SY_DECAY_L2: return SEG_ZERO;
    case SY_DECAY_SYRE: return st == SY_ANCHOR_STORED ? SEG_ANCHOR : SEG_REGEN;
    case SY_DECAY_SYRE_AR: return st == SY_ANCHOR_STORED ? SEG_ANCHOR_D : SEG_REGEN_D;
    case SY_DECAY_L2_INIT: return SEG_ANCHOR;
    default: return SEG_NONE;
    }
}

/* Does tensor t carry a random anchor (syre / syre-ar, decaying or not)? */
static int is_syre(const sy_optimizer *opt, int t)
{
    const sy_decay *d = &opt->rule[t];
    const sy_param_info *pi = sy_params_info(opt->ps, t);
    return opt->has_rule[t] && (d->kind == SY_DECAY_SYRE || d->kind == SY_DECAY_SYRE_AR) &&
           !(d->exclude_1d && pi->shape.ndim == 1);
}

sy_status sy_optimizer_for_method(sy_params *ps, sy_optim_opts o, const char *method, float wd, float sigma0,
                                  float eps, sy_optimizer **out)
{
    *out = NULL;
    sy_status s = sy_decay_parse(method, wd, sigma0, eps, &o.decay);
    if (s != SY_OK) return s;
    *out = sy_optimizer_new(ps, &o);
    return *out ? SY_OK : SY_ERR_ARG; /* the message says why */
}

sy_optimizer *sy_optimizer_new(sy_params *ps, const sy_optim_opts *o)
{
    if (!ps || !o) {
        sy_fail(SY_ERR_ARG, "optimizer: NULL store or options");
        return NULL;
    }
    if (validate_opts(o)) return NULL;
    if (!sy_params_is_laid_out(ps)) {
        sy_fail(SY_ERR_STATE, "optimizer: the parameter store is not laid out (initialise it first)");
        return NULL;
    }
    if (check_rules_select(ps, o)) return NULL;
    sy_optimizer *opt = calloc(1, sizeof *opt);
    unsigned char *fixed = NULL;
    if (!opt) goto nomem;
    static _Atomic uint64_t next_id;
    opt->id = atomic_fetch_add(&next_id, 1) + 1;
    opt->ps = ps;
    opt->o = *o;
    opt->n = sy_params_trainable_size(ps);
    opt->base_lr = o->lr;
    opt->n_tensors = sy_params_count(ps);
    opt->key_anchor = sy_rng_key(o->seed, SY_STREAM_ANCHOR);
    opt->key_d = sy_rng_key(o->seed, SY_STREAM_DECAY_D);
    int nt = opt->n_tensors;
    opt->rule = calloc(nt ? nt : 1, sizeof *opt->rule);
    opt->has_rule = calloc(nt ? nt : 1, sizeof *opt->has_rule);
    opt->tseg = calloc(nt ? nt : 1, sizeof *opt->tseg);
    opt->seg = calloc(nt ? nt : 1, sizeof *opt->seg);
    fixed = calloc(opt->n ? opt->n : 1, 1);
    if (!opt->rule || !opt->has_rule || !opt->tseg || !opt->seg || !fixed) goto nomem;

    /* Resolve rules: first matching pattern, else the default. */
    int need_anchor = 0, need_d = 0;
    for (int t = 0; t < nt; t++) {
        const sy_param_info *pi = sy_params_info(ps, t);
        if (!pi->trainable) continue;
        int r = rule_index(o, pi->name);
        const sy_decay *d = r >= 0 ? &o->rules[r].decay : &o->decay;
        opt->rule[t] = *d;
        opt->has_rule[t] = 1;
        sy_segment *s = &opt->tseg[opt->n_tseg++];
        s->begin = s->base = pi->offset;
        s->end = pi->offset + pi->numel;
        s->tensor = t;
        s->mode = mode_of(d, pi, o->anchor_storage);
        s->wd = d->weight_decay;
        s->sigma = (float)((double)d->sigma0 / sqrt((double)pi->fan_in));
        s->eps = d->eps;
        need_anchor |= s->mode == SEG_ANCHOR || s->mode == SEG_ANCHOR_D ||
                       (is_syre(opt, t) && o->anchor_storage == SY_ANCHOR_STORED);
        need_d |= s->mode == SEG_ANCHOR_D;
    }
    if (need_anchor && !(opt->anchor = alloc_floats(opt->n))) goto nomem;
    if (need_d && !(opt->dd = alloc_floats(opt->n))) goto nomem;

    float *data; /* W-fix and syre's shift change the values: on a device store, uploaded before its next use */
    if (sy_params_write(ps, &data) != SY_OK || apply_wfix(opt, data, fixed)) goto fail;

    /* Anchors: syre draws theta0 and shifts phi = theta_init + theta0 (W-fix
     * entries keep their fixed values); L2-init records phi as it now is. */
    for (int k = 0; k < opt->n_tseg; k++) {
        const sy_segment *s = &opt->tseg[k];
        int t = s->tensor;
        if (is_syre(opt, t)) {
            for (size_t i = s->begin; i < s->end; i++) {
                float a = sy_anchor_value(opt->key_anchor, t, i - s->base, s->sigma);
                if (opt->anchor) opt->anchor[i] = a;
                if (o->shift_init && !fixed[i]) data[i] += a;
            }
            if (s->mode == SEG_ANCHOR_D)
                for (size_t i = s->begin; i < s->end; i++)
                    opt->dd[i] = sy_d_value(opt->key_d, t, i - s->base, s->eps);
        } else if (s->mode == SEG_ANCHOR) {
            memcpy(opt->anchor + s->begin, data + s->begin, (s->end - s->begin) * sizeof(float));
        }
    }

    /* Merge neighbours that need no per-tensor index: the alignment gaps
     * between them hold zeros (value, gradient, anchor), which every update
     * maps to zero, so covering them is harmless and gives longer loops. */
    for (int k = 0; k < opt->n_tseg; k++) {
        const sy_segment *s = &opt->tseg[k];
        sy_segment *last = opt->n_seg ? &opt->seg[opt->n_seg - 1] : NULL;
        int mergeable = s->mode <= SEG_ANCHOR_D;
        if (last && mergeable && last->mode == s->mode && last->wd == s->wd) {
            last->end = s->end;
        } else {
            opt->seg[opt->n_seg++] = *s;
        }
    }

    if (o->kind == SY_OPTIM_SGD) {
        if (o->momentum != 0) {
            if (!(opt->m1 = alloc_floats(opt->n))) goto nomem;
            opt->state_name[opt->n_state] = "momentum_buffer";
            opt->state[opt->n_state++] = opt->m1;
        }
    } else {
        if (!(opt->m1 = alloc_floats(opt->n)) || !(opt->m2 = alloc_floats(opt->n))) goto nomem;
        opt->state_name[opt->n_state] = "exp_avg";
        opt->state[opt->n_state++] = opt->m1;
        opt->state_name[opt->n_state] = "exp_avg_sq";
        opt->state[opt->n_state++] = opt->m2;
    }
    if (opt->anchor) {
        opt->state_name[opt->n_state] = "anchor";
        opt->state[opt->n_state++] = opt->anchor;
    }
    if (opt->dd) {
        opt->state_name[opt->n_state] = "decay_d";
        opt->state[opt->n_state++] = opt->dd;
    }
    opt->n_blocks = (opt->n + SY_OPTIM_NORM_BLOCK - 1) / SY_OPTIM_NORM_BLOCK;
    if (!(opt->block_sq = calloc(opt->n_blocks ? opt->n_blocks : 1, sizeof(double)))) goto nomem;
    opt->last_lr = sy_schedule_lr(&o->schedule, o->lr, 0);
    free(fixed);
    return opt;
nomem:
    sy_fail(SY_ERR_NOMEM, "optimizer: out of memory for %zu parameters", opt ? opt->n : 0);
fail:
    free(fixed);
    sy_optimizer_free(opt);
    return NULL;
}

void sy_optimizer_free(sy_optimizer *opt)
{
    if (!opt) return;
    sy_optim_device_free(opt);
    free(opt->rule);
    free(opt->has_rule);
    free(opt->tseg);
    free(opt->seg);
    free(opt->anchor);
    free(opt->dd);
    free(opt->m1);
    free(opt->m2);
    free(opt->fix_idx);
    free(opt->fix_val);
    free(opt->block_sq);
    free(opt);
}

long sy_optimizer_steps(const sy_optimizer *opt) { return opt->steps; }
void sy_optimizer_set_steps(sy_optimizer *opt, long steps) { opt->steps = steps < 0 ? 0 : steps; }
float sy_optimizer_lr(const sy_optimizer *opt)
{
    return sy_schedule_lr(&opt->o.schedule, opt->base_lr, opt->steps);
}
void sy_optimizer_set_base_lr(sy_optimizer *opt, float lr) { opt->base_lr = lr; }
float sy_optimizer_last_grad_norm(const sy_optimizer *opt) { return opt->last_norm; }

size_t sy_optimizer_decay_bytes(const sy_optimizer *opt)
{
    size_t b = 0;
    if (opt->anchor) b += opt->n * sizeof(float);
    if (opt->dd) b += opt->n * sizeof(float);
    b += opt->n_fix * (sizeof(size_t) + sizeof(float));
    return b;
}

size_t sy_optimizer_bytes(const sy_optimizer *opt)
{
    size_t b = sy_optimizer_decay_bytes(opt);
    if (opt->m1) b += opt->n * sizeof(float);
    if (opt->m2) b += opt->n * sizeof(float);
    return b + opt->n_blocks * sizeof(double);
}

int sy_optimizer_num_state(const sy_optimizer *opt) { return opt->n_state; }
const char *sy_optimizer_state_name(const sy_optimizer *opt, int k)
{
    return k >= 0 && k < opt->n_state ? opt->state_name[k] : NULL;
}
float *sy_optimizer_state(sy_optimizer *opt, int k)
{
    if (opt->dev) sy_optim_device_to_host(opt);
    return k >= 0 && k < opt->n_state ? opt->state[k] : NULL;
}
size_t sy_optimizer_state_size(const sy_optimizer *opt) { return opt->n; }

sy_status sy_optimizer_anchor(const sy_optimizer *opt, float *out)
{
    if (!opt || !out) return sy_fail(SY_ERR_ARG, "optimizer anchor: NULL argument");
    memset(out, 0, opt->n * sizeof(float));
    for (int k = 0; k < opt->n_tseg; k++) {
        const sy_segment *s = &opt->tseg[k];
        if (opt->anchor && (s->mode == SEG_ANCHOR || s->mode == SEG_ANCHOR_D || is_syre(opt, s->tensor)))
            memcpy(out + s->begin, opt->anchor + s->begin, (s->end - s->begin) * sizeof(float));
        else if (is_syre(opt, s->tensor))
            for (size_t i = s->begin; i < s->end; i++)
                out[i] = sy_anchor_value(opt->key_anchor, s->tensor, i - s->base, s->sigma);
    }
    return SY_OK;
}

sy_status sy_optimizer_decay_coef(const sy_optimizer *opt, float *out)
{
    if (!opt || !out) return sy_fail(SY_ERR_ARG, "optimizer decay coef: NULL argument");
    memset(out, 0, opt->n * sizeof(float));
    for (int k = 0; k < opt->n_tseg; k++) {
        const sy_segment *s = &opt->tseg[k];
        for (size_t i = s->begin; i < s->end; i++) {
            if (s->mode == SEG_NONE || sy_optimizer_is_fixed(opt, i)) continue;
            float d = s->mode == SEG_ANCHOR_D   ? opt->dd[i]
                      : s->mode == SEG_REGEN_D ? sy_d_value(opt->key_d, s->tensor, i - s->base, s->eps)
                                               : 1.0f;
            out[i] = s->wd * d;
        }
    }
    return SY_OK;
}

const sy_decay *sy_optimizer_rule_of(const sy_optimizer *opt, int index)
{
    return index >= 0 && index < opt->n_tensors && opt->has_rule[index] ? &opt->rule[index] : NULL;
}

const sy_optim_opts *sy_optimizer_opts(const sy_optimizer *opt) { return &opt->o; }

size_t sy_optimizer_num_fixed(const sy_optimizer *opt) { return opt->n_fix; }

int sy_optimizer_is_fixed(const sy_optimizer *opt, size_t i)
{
    return opt->n_fix && bsearch(&i, opt->fix_idx, opt->n_fix, sizeof(size_t), cmp_size) != NULL;
}
