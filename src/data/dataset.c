/* The in-memory dataset: allocation, the data directory, loading a dataset by
 * name (which files, where), subsets and per-channel normalisation. The file
 * formats themselves live in idx.c, cifar.c and imagefolder.c. */
#define _POSIX_C_SOURCE 200809L /* strdup, opendir, stat */
#include "syre/data.h"
#include "syre/runtime.h"
#include "data/data_internal.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifndef SYRE_DEFAULT_DATA_DIR
#define SYRE_DEFAULT_DATA_DIR "data"
#endif

sy_status sy_dataset_new(size_t n, sy_shape sample, int n_classes, int n_coarse,
                         const char *name, sy_dataset **out)
{
    *out = NULL;
    size_t numel = sy_shape_numel(sample);
    if (numel == 0 || sample.ndim < 1)
        return sy_fail(SY_ERR_SHAPE, "dataset %s: empty sample shape", name ? name : "");
    if (n > SIZE_MAX / sizeof(float) / numel)
        return sy_fail(SY_ERR_NOMEM, "dataset %s: %zu samples of %zu values is too large",
                       name ? name : "", n, numel);
    sy_dataset *d = calloc(1, sizeof *d);
    if (!d)
        return sy_fail(SY_ERR_NOMEM, "dataset %s: out of memory", name ? name : "");
    d->n = n;
    d->sample = sample;
    d->n_classes = n_classes;
    d->n_coarse = n_coarse;
    snprintf(d->name, sizeof d->name, "%s", name ? name : "");
    /* +1 so that n = 0 still yields distinct non-NULL buffers. */
    d->x = calloc(n * numel + 1, sizeof(float));
    d->y = calloc(n + 1, sizeof(int));
    if (n_coarse > 0)
        d->y_coarse = calloc(n + 1, sizeof(int));
    if (!d->x || !d->y || (n_coarse > 0 && !d->y_coarse)) {
        sy_dataset_free(d);
        return sy_fail(SY_ERR_NOMEM, "dataset %s: out of memory for %zu samples",
                       name ? name : "", n);
    }
    *out = d;
    return SY_OK;
}

void sy_dataset_free(sy_dataset *d)
{
    if (!d)
        return;
    free(d->x);
    free(d->y);
    free(d->y_coarse);
    free(d);
}

size_t sy_dataset_numel(const sy_dataset *d) { return sy_shape_numel(d->sample); }

const char *sy_data_dir(const char *flag_value)
{
    if (flag_value)
        return flag_value;
    const char *dir = sy_runtime()->data_dir;
    return dir && dir[0] ? dir : SYRE_DEFAULT_DATA_DIR;
}

int sy__is_dir(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

int sy__is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Path of an IDX file that may be stored raw or gzipped: the raw name if it
 * exists, else name.gz if that exists, else the raw name (so the reader's
 * "cannot open" message names what was expected). */
static void idx_path(char *buf, size_t cap, const char *dir, const char *base)
{
    snprintf(buf, cap, "%s/%s", dir, base);
    if (sy__is_file(buf))
        return;
    snprintf(buf, cap, "%s/%s.gz", dir, base);
    if (sy__is_file(buf))
        return;
    snprintf(buf, cap, "%s/%s", dir, base);
}

static const char *not_found(const char *path)
{
    static _Thread_local char buf[4200];
    snprintf(buf, sizeof buf, "%s not found", path);
    return buf;
}

static sy_status missing_dataset(const char *name, const char *what)
{
    return sy_fail(SY_ERR_IO,
                   "%s: %s; run scripts/setup.sh (or scripts/get-data.sh) to "
                   "install the data, or point --data-dir / SYRE_DATA at a directory "
                   "laid out as in docs/data.md", name, what);
}

static sy_status load_idx_pair(const char *data_dir, const char *name, const char *sub,
                               int train, sy_dataset **out)
{
    char dir[4096], img[4200], lab[4200], label[96];
    snprintf(dir, sizeof dir, "%s/%s", data_dir, sub);
    if (!sy__is_dir(dir))
        return missing_dataset(name, not_found(dir));
    const char *pre = train ? "train" : "t10k";
    char base[64];
    snprintf(base, sizeof base, "%s-images-idx3-ubyte", pre);
    idx_path(img, sizeof img, dir, base);
    snprintf(base, sizeof base, "%s-labels-idx1-ubyte", pre);
    idx_path(lab, sizeof lab, dir, base);
    snprintf(label, sizeof label, "%s/%s", name, train ? "train" : "test");
    sy_status s = sy_idx_load(img, lab, label, out);
    if (s == SY_OK)
        (*out)->n_classes = 10;
    return s;
}

sy_status sy_dataset_load(const char *data_dir, const char *name, const char *split,
                          sy_dataset **out)
{
    *out = NULL;
    if (!data_dir || !name || !split)
        return sy_fail(SY_ERR_ARG, "sy_dataset_load: NULL argument");
    int train;
    if (strcmp(split, "train") == 0)
        train = 1;
    else if (strcmp(split, "test") == 0)
        train = 0;
    else
        return sy_fail(SY_ERR_ARG, "dataset split \"%s\": expected \"train\" or \"test\"", split);
    char label[96];
    snprintf(label, sizeof label, "%s/%s", name, split);

    if (strcmp(name, "mnist") == 0)
        return load_idx_pair(data_dir, name, "mnist", train, out);
    if (strcmp(name, "fashion-mnist") == 0)
        return load_idx_pair(data_dir, name, "fashion-mnist", train, out);

    if (strcmp(name, "cifar10") == 0) {
        char bin[4096], jpg[4096];
        snprintf(bin, sizeof bin, "%s/cifar-10-batches-bin", data_dir);
        snprintf(jpg, sizeof jpg, "%s/cifar10-jpeg/%s", data_dir, split);
        if (sy__is_dir(bin)) {
            /* The official binaries win: they are the exact published pixels. */
            char paths[5][4200];
            const char *p[5];
            int np = train ? 5 : 1;
            for (int i = 0; i < np; i++) {
                if (train)
                    snprintf(paths[i], sizeof paths[i], "%s/data_batch_%d.bin", bin, i + 1);
                else
                    snprintf(paths[i], sizeof paths[i], "%s/test_batch.bin", bin);
                p[i] = paths[i];
            }
            return sy_cifar10_load(p, np, label, out);
        }
        if (sy__is_dir(jpg)) {
            sy_status s = sy_imagefolder_load(jpg, 3, 0, label, out);
            if (s == SY_OK && (*out)->n_classes != 10) {
                int k = (*out)->n_classes;
                sy_dataset_free(*out);
                *out = NULL;
                return sy_fail(SY_ERR_FORMAT, "%s: %d class folders, CIFAR-10 has 10", jpg, k);
            }
            return s;
        }
        char what[8400];
        snprintf(what, sizeof what, "neither %s nor %s exists", bin, jpg);
        return missing_dataset(name, what);
    }

    if (strcmp(name, "cifar100") == 0) {
        char path[4200], dir[4096];
        snprintf(dir, sizeof dir, "%s/cifar-100-binary", data_dir);
        if (!sy__is_dir(dir))
            return missing_dataset(name, not_found(dir));
        snprintf(path, sizeof path, "%s/%s.bin", dir, split);
        return sy_cifar100_load(path, label, out);
    }
    return sy_fail(SY_ERR_ARG,
                   "unknown dataset \"%s\": expected mnist, fashion-mnist, cifar10 or cifar100",
                   name);
}

static const char *source_of(const sy_dataset *d, int labels)
{
    const char *f = labels && d->label_source[0] ? d->label_source : d->source;
    return f[0] ? f : d->name;
}

sy_status sy_dataset_check(const sy_dataset *d, const sy_data_contract *want)
{
    const char *user = want->user ? want->user : "model";
    const int need[3] = {want->channels, want->height, want->width};
    int have[3] = {0, 0, 0}, ok = d->sample.ndim == 3;
    for (int i = 0; i < 3 && d->sample.ndim == 3; i++) {
        have[i] = d->sample.dim[i];
        ok = ok && (need[i] <= 0 || need[i] == have[i]);
    }
    if (!ok) {
        char nw[64];
        size_t k = 0;
        for (int i = 0; i < 3; i++) { /* an unconstrained dimension reads "*" */
            k += (size_t)snprintf(nw + k, sizeof nw - k, i ? "x" : "");
            k += need[i] > 0 ? (size_t)snprintf(nw + k, sizeof nw - k, "%d", need[i])
                             : (size_t)snprintf(nw + k, sizeof nw - k, "*");
        }
        if (d->sample.ndim != 3)
            return sy_fail(SY_ERR_FORMAT, "%s: samples have %d dimensions, %s needs CxHxW %s", source_of(d, 0),
                           d->sample.ndim, user, nw);
        return sy_fail(SY_ERR_FORMAT, "%s: images are %dx%dx%d (channels x height x width), %s needs %s",
                       source_of(d, 0), have[0], have[1], have[2], user, nw);
    }
    if (d->n < want->min_n)
        return sy_fail(SY_ERR_FORMAT, "%s: holds %zu samples, %s needs at least %zu", source_of(d, 0), d->n, user,
                       want->min_n);
    if (want->n_classes > 0)
        for (size_t i = 0; i < d->n; i++)
            if (d->y[i] < 0 || d->y[i] >= want->n_classes)
                return sy_fail(SY_ERR_FORMAT, "%s: label %d of sample %zu is outside [0, %d), the classes %s has",
                               source_of(d, 1), d->y[i], i, want->n_classes, user);
    return SY_OK;
}

sy_status sy_dataset_subset(const sy_dataset *d, size_t n, int per_class, sy_dataset **out)
{
    *out = NULL;
    size_t numel = sy_dataset_numel(d);
    size_t count = 0;
    int *taken = NULL;
    char name[64];
    snprintf(name, sizeof name, "%.40s[subset]", d->name);
    if (per_class) {
        if (d->n_classes <= 0)
            return sy_fail(SY_ERR_ARG, "%s: per-class subset needs n_classes > 0", d->name);
        taken = calloc((size_t)d->n_classes, sizeof *taken);
        if (!taken)
            return sy_fail(SY_ERR_NOMEM, "%s: out of memory", d->name);
        for (size_t i = 0; i < d->n; i++)
            if (d->y[i] >= 0 && d->y[i] < d->n_classes && (size_t)taken[d->y[i]] < n) {
                taken[d->y[i]]++;
                count++;
            }
        memset(taken, 0, (size_t)d->n_classes * sizeof *taken);
    } else {
        count = n < d->n ? n : d->n;
    }
    sy_status s = sy_dataset_new(count, d->sample, d->n_classes, d->n_coarse, name, out);
    if (s != SY_OK) {
        free(taken);
        return s;
    }
    memcpy((*out)->source, d->source, sizeof d->source);
    memcpy((*out)->label_source, d->label_source, sizeof d->label_source);
    size_t j = 0;
    for (size_t i = 0; i < d->n && j < count; i++) {
        if (per_class) {
            int c = d->y[i];
            if (c < 0 || c >= d->n_classes || (size_t)taken[c] >= n)
                continue;
            taken[c]++;
        }
        memcpy((*out)->x + j * numel, d->x + i * numel, numel * sizeof(float));
        (*out)->y[j] = d->y[i];
        if (d->y_coarse && (*out)->y_coarse)
            (*out)->y_coarse[j] = d->y_coarse[i];
        j++;
    }
    free(taken);
    return SY_OK;
}

void sy_dataset_channel_stats(const sy_dataset *d, float *mean, float *std)
{
    int C = d->sample.dim[0];
    size_t plane = sy_dataset_numel(d) / (size_t)C;
    for (int c = 0; c < C; c++) {
        /* Double accumulators: 60000*784 floats lose digits in float sums. */
        double s = 0, ss = 0;
        for (size_t i = 0; i < d->n; i++) {
            const float *p = d->x + (i * (size_t)C + (size_t)c) * plane;
            for (size_t k = 0; k < plane; k++) {
                s += p[k];
                ss += (double)p[k] * p[k];
            }
        }
        double cnt = (double)d->n * (double)plane;
        double m = cnt > 0 ? s / cnt : 0;
        double v = cnt > 0 ? ss / cnt - m * m : 0;
        mean[c] = (float)m;
        std[c] = (float)sqrt(v > 0 ? v : 0);
    }
}

sy_status sy_data_normalize(float *x, size_t batch, sy_shape sample, const float *mean,
                       const float *std)
{
    int C = sample.dim[0];
    size_t plane = sy_shape_numel(sample) / (size_t)C;
    for (int c = 0; c < C; c++)
        if (!(std[c] > 0) || !isfinite(std[c]) || !isfinite(mean[c]))
            return sy_fail(SY_ERR_ARG, "normalise: channel %d has mean %g, std %g "
                           "(std must be finite and > 0)", c, mean[c], std[c]);
    for (size_t i = 0; i < batch; i++)
        for (int c = 0; c < C; c++) {
            float *p = x + (i * (size_t)C + (size_t)c) * plane;
            float m = mean[c], inv = 1.0f / std[c];
            for (size_t k = 0; k < plane; k++)
                p[k] = (p[k] - m) * inv;
        }
    return SY_OK;
}

void sy_data_scale(float *x, size_t n, float alpha)
{
    for (size_t i = 0; i < n; i++)
        x[i] *= alpha;
}

sy_status sy_dataset_load_n(const char *data_dir, const char *name, const char *split, long n, int per_class,
                            const sy_data_contract *want, sy_dataset **out)
{
    sy_dataset *full = NULL;
    *out = NULL;
    sy_status s = sy_dataset_load(data_dir, name, split, &full);
    if (s == SY_OK && want) s = sy_dataset_check(full, want);
    if (s != SY_OK || n <= 0 || (size_t)n >= full->n) {
        if (s == SY_OK) *out = full;
        else sy_dataset_free(full);
        return s;
    }
    size_t keep = per_class ? (size_t)n / (size_t)(full->n_classes > 0 ? full->n_classes : 1) : (size_t)n;
    s = sy_dataset_subset(full, keep, per_class, out);
    sy_dataset_free(full);
    return s;
}
