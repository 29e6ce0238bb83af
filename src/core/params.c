/* Parameter store: a table of named tensors laid out in one flat buffer
 * (trainable first, so optimizers and decay rules run over one contiguous
 * range), plus a gradient buffer of the same layout. */
#include "syre/params.h"
#include "core/devmem.h"
#include "core/numeric.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ALIGN_FLOATS 16 /* 64 bytes: whole cache lines, aligned SIMD loads */

struct sy_params {
    sy_param_info *info;
    int count, cap;
    float *data, *grad;
    size_t trainable_size, total_size;
    int laid_out;
    /* On a device (a device graph was compiled on the store): device copies
     * and which side is current. CPU graphs compiled on it: host_users. */
    const sy_devmem *dev;
    float *d_data, *d_grad;
    int data_state, grad_state;
    int host_users;
};

enum { SYNCED = 0, HOST_NEWER, DEV_NEWER };

/* The host copy of data (grad) brought up to date. A writer makes the device
 * copy stale (uploaded before the next device use); a reader leaves both
 * current. After a failed copy a reader leaves the device copy the current
 * one. */
static sy_status host_view(sy_params *ps, int grad, int write)
{
    if (!ps->dev) return SY_OK;
    int *st = grad ? &ps->grad_state : &ps->data_state;
    sy_status s = SY_OK;
    if (*st == DEV_NEWER) {
        ps->dev->download(ps->dev->owner, grad ? ps->grad : ps->data, grad ? ps->d_grad : ps->d_data,
                          ps->total_size * sizeof(float));
        if ((s = ps->dev->sync(ps->dev->owner)))
            sy_fail(s, "copying the parameter %s from device '%s': %s", grad ? "gradients" : "values",
                    ps->dev->name, ps->dev->error(ps->dev->owner));
        else *st = SYNCED;
    }
    if (write && !s) *st = HOST_NEWER; /* what the caller writes wins */
    return s;
}

static float *dev_view(sy_params *ps, int grad, int write)
{
    int *st = grad ? &ps->grad_state : &ps->data_state;
    float *d = grad ? ps->d_grad : ps->d_data;
    if (*st == HOST_NEWER) {
        ps->dev->upload(ps->dev->owner, d, grad ? ps->grad : ps->data, ps->total_size * sizeof(float));
        *st = SYNCED;
    }
    if (write) *st = DEV_NEWER;
    return d;
}

float *sy_params_dev_data(sy_params *ps, int write) { return ps->dev ? dev_view(ps, 0, write) : NULL; }
float *sy_params_dev_grad(sy_params *ps, int write) { return ps->dev ? dev_view(ps, 1, write) : NULL; }
const sy_devmem *sy_params_devmem(const sy_params *ps) { return ps->dev; }
size_t sy_params_offset(const sy_params *ps, int idx) { return ps->info[idx].offset; }

sy_status sy_params_attach(sy_params *ps, const sy_devmem *d)
{
    if (ps->dev == d) return SY_OK;
    if (ps->dev)
        return sy_fail(SY_ERR_STATE, "the parameter store is on device '%s'; it cannot also be used on '%s' "
                       "(build every graph of one store for the same device)", ps->dev->name, d->name);
    if (ps->host_users)
        return sy_fail(SY_ERR_STATE, "the parameter store is used by a CPU graph; it cannot move to device '%s' "
                       "(build every graph of one store for the same device)", d->name);
    sy_status st = sy_params_layout(ps);
    if (st) return st;
    size_t bytes = (ps->total_size ? ps->total_size : 1) * sizeof(float);
    ps->d_data = d->alloc(d->owner, bytes);
    ps->d_grad = ps->d_data ? d->alloc(d->owner, bytes) : NULL;
    if (!ps->d_data || !ps->d_grad) {
        char why[512];
        snprintf(why, sizeof why, "%s", sy_last_error());
        if (ps->d_data) d->free(d->owner, ps->d_data);
        ps->d_data = NULL;
        return sy_fail(SY_ERR_NOMEM, "cannot allocate %.1f MiB for parameters on device '%s': %s",
                       2.0 * bytes / (1 << 20), d->name, why);
    }
    ps->dev = d;
    ps->data_state = ps->grad_state = HOST_NEWER;
    return SY_OK;
}

sy_status sy_params_claim_host(sy_params *ps)
{
    if (ps->dev)
        return sy_fail(SY_ERR_STATE, "the parameter store is on device '%s'; a CPU graph cannot use it "
                       "(build every graph of one store for the same device)", ps->dev->name);
    ps->host_users++;
    return SY_OK;
}

sy_params *sy_params_new(void)
{
    sy_params *ps = calloc(1, sizeof *ps);
    if (!ps) sy_fail(SY_ERR_NOMEM, "cannot allocate parameter store");
    return ps;
}

void sy_params_free(sy_params *ps)
{
    if (!ps) return;
    if (ps->dev) {
        ps->dev->sync(ps->dev->owner);
        ps->dev->free(ps->dev->owner, ps->d_data);
        ps->dev->free(ps->dev->owner, ps->d_grad);
    }
    free(ps->info);
    free(ps->data);
    free(ps->grad);
    free(ps);
}

int sy_params_find(const sy_params *ps, const char *name)
{
    for (int i = 0; i < ps->count; i++)
        if (strcmp(ps->info[i].name, name) == 0) return i;
    return -1;
}

int sy_params_add(sy_params *ps, const char *name, sy_shape shape, int fan_in,
                  sy_init init, int trainable)
{
    char b1[64], b2[64];
    int idx = sy_params_find(ps, name);
    if (idx >= 0) {
        if (!sy_shape_equal(ps->info[idx].shape, shape)) {
            sy_fail(SY_ERR_SHAPE, "parameter '%s' exists with shape %s, requested %s", name,
                    sy_shape_str(ps->info[idx].shape, b1), sy_shape_str(shape, b2));
            return -1;
        }
        return idx;
    }
    if (ps->laid_out) {
        sy_fail(SY_ERR_STATE, "cannot add parameter '%s': the store is already laid out "
                "(build every graph's new parameters before the first compile or init)", name);
        return -1;
    }
    if (strlen(name) >= sizeof ps->info[0].name) {
        sy_fail(SY_ERR_ARG, "parameter name '%s' longer than %zu characters", name,
                sizeof ps->info[0].name - 1);
        return -1;
    }
    if (fan_in < 1) {
        sy_fail(SY_ERR_ARG, "parameter '%s': fan_in must be >= 1 (it sets the initialisation's and syre's anchor "
                "scale, sigma0/sqrt(fan_in)), got %d", name, fan_in);
        return -1;
    }
    if (shape.ndim < 1 || shape.ndim > SY_MAX_DIMS || sy_shape_numel(shape) == 0) {
        sy_fail(SY_ERR_SHAPE, "parameter '%s' has invalid shape %s", name, sy_shape_str(shape, b1));
        return -1;
    }
    if (ps->count == ps->cap) {
        int cap = ps->cap ? 2 * ps->cap : 16;
        sy_param_info *p = realloc(ps->info, cap * sizeof *p);
        if (!p) {
            sy_fail(SY_ERR_NOMEM, "cannot grow parameter table");
            return -1;
        }
        ps->info = p;
        ps->cap = cap;
    }
    sy_param_info *pi = &ps->info[ps->count];
    memset(pi, 0, sizeof *pi);
    strcpy(pi->name, name);
    pi->shape = shape;
    pi->numel = sy_shape_numel(shape);
    pi->fan_in = fan_in;
    pi->trainable = trainable;
    pi->init = init;
    return ps->count++;
}

int sy_params_count(const sy_params *ps) { return ps->count; }

const sy_param_info *sy_params_info(const sy_params *ps, int index)
{
    return (index >= 0 && index < ps->count) ? &ps->info[index] : NULL;
}

static size_t round_up(size_t n) { return (n + ALIGN_FLOATS - 1) / ALIGN_FLOATS * ALIGN_FLOATS; }

sy_status sy_params_layout(sy_params *ps)
{
    if (ps->laid_out) return SY_OK;
    size_t off = 0;
    for (int pass = 1; pass >= 0; pass--) { /* trainable (1) first, then buffers (0) */
        for (int i = 0; i < ps->count; i++) {
            if (ps->info[i].trainable != pass) continue;
            ps->info[i].offset = off;
            off += round_up(ps->info[i].numel);
        }
        if (pass == 1) ps->trainable_size = off;
    }
    ps->total_size = off;
    size_t bytes = (off ? off : ALIGN_FLOATS) * sizeof(float);
    double total, avail = sy_mem_available(&total);
    if (avail > 0 && 2.0 * (double)bytes > avail)
        return sy_fail(SY_ERR_NOMEM, "parameters and their gradients need %.1f GiB (%zu parameters); this machine has "
                       "%.1f GiB available (%.1f GiB RAM): reduce the width",
                       2.0 * (double)bytes / (1 << 30), off, avail / (1 << 30), total / (1 << 30));
    ps->data = aligned_alloc(64, bytes);
    ps->grad = aligned_alloc(64, bytes);
    if (!ps->data || !ps->grad) {
        free(ps->data);
        free(ps->grad);
        ps->data = ps->grad = NULL;
        return sy_fail(SY_ERR_NOMEM, "cannot allocate %zu bytes for parameters", 2 * bytes);
    }
    memset(ps->data, 0, bytes);
    memset(ps->grad, 0, bytes);
    ps->laid_out = 1;
    return SY_OK;
}

int sy_params_is_laid_out(const sy_params *ps) { return ps->laid_out; }

sy_status sy_params_init(sy_params *ps, uint64_t seed)
{
    sy_status st = sy_params_layout(ps);
    if (st) return st;
    if ((st = host_view(ps, 0, 1))) return st; /* a device store's other values stay */
    uint64_t key = sy_rng_key(seed, SY_STREAM_INIT);
    for (int i = 0; i < ps->count; i++) {
        sy_param_info *pi = &ps->info[i];
        float *d = ps->data + pi->offset;
        float s = pi->init.scale / sqrtf((float)pi->fan_in);
        for (size_t j = 0; j < pi->numel; j++) {
            switch (pi->init.kind) {
            case SY_INIT_ZERO: d[j] = 0.0f; break;
            case SY_INIT_ONE: d[j] = 1.0f; break;
            case SY_INIT_CONSTANT: d[j] = pi->init.scale; break;
            case SY_INIT_UNIFORM_FANIN:
                d[j] = s * (2.0f * sy_rng_uniform_at(key, (uint64_t)i, j) - 1.0f);
                break;
            case SY_INIT_NORMAL_FANIN: d[j] = s * sy_rng_normal_at(key, (uint64_t)i, j); break;
            }
        }
    }
    return SY_OK;
}

/* The getters are reads (params.h): a device store's host copy is brought up
 * to date and nothing is marked; NULL (with the message) if that copy failed. */
static float *host_read(sy_params *ps, int grad, size_t offset)
{
    float *h = grad ? ps->grad : ps->data;
    return !h || host_view(ps, grad, 0) ? NULL : h + offset;
}
float *sy_params_data(sy_params *ps) { return host_read(ps, 0, 0); }
float *sy_params_grad(sy_params *ps) { return host_read(ps, 1, 0); }
sy_status sy_params_read(sy_params *ps, const float **data)
{
    *data = ps->data;
    return host_view(ps, 0, 0);
}
sy_status sy_params_read_grad(sy_params *ps, const float **grad)
{
    *grad = ps->grad;
    return host_view(ps, 1, 0);
}
sy_status sy_params_write(sy_params *ps, float **data)
{
    *data = ps->data;
    return host_view(ps, 0, 1);
}
sy_status sy_params_write_grad(sy_params *ps, float **grad)
{
    *grad = ps->grad;
    return host_view(ps, 1, 1);
}
size_t sy_params_trainable_size(const sy_params *ps) { return ps->trainable_size; }
size_t sy_params_total_size(const sy_params *ps) { return ps->total_size; }

float *sy_params_tensor(sy_params *ps, int index) { return host_read(ps, 0, ps->info[index].offset); }
float *sy_params_tensor_grad(sy_params *ps, int index) { return host_read(ps, 1, ps->info[index].offset); }

void sy_params_zero_grad(sy_params *ps)
{
    if (ps->dev) {
        /* Backward overwrites every trainable gradient: nothing to upload. */
        ps->grad_state = DEV_NEWER;
        ps->dev->zero(ps->dev->owner, ps->d_grad, ps->trainable_size * sizeof(float));
        return;
    }
    if (ps->grad) memset(ps->grad, 0, ps->trainable_size * sizeof(float));
}

size_t sy_params_num_trainable(const sy_params *ps)
{
    size_t n = 0;
    for (int i = 0; i < ps->count; i++)
        if (ps->info[i].trainable) n += ps->info[i].numel;
    return n;
}
