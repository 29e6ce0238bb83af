/* CIFAR-10 / CIFAR-100 binary readers: fixed-size records of label byte(s)
 * followed by 3072 channel-major pixels. A file whose size is not a whole
 * number of records is reported as truncated rather than half-read. */
#include "syre/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CIFAR_PIXELS 3072

/* Opens path and returns its size in *size; names the file on failure. */
static FILE *open_sized(const char *path, long *size)
{
    FILE *f = sy_fopen_regular(path, "rb");
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (*size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        sy_fail(SY_ERR_IO, "%s: cannot determine size (%s)", path, strerror(errno));
        fclose(f);
        return NULL;
    }
    return f;
}

/* Shared reader: `nlab` label bytes per record; the last one is the fine label
 * (CIFAR-100 puts the coarse label first). */
static sy_status load_records(const char *const *paths, int n_paths, int nlab,
                              int n_classes, int n_coarse, const char *name,
                              sy_dataset **out)
{
    *out = NULL;
    const size_t rec = (size_t)nlab + CIFAR_PIXELS;
    size_t total = 0;
    for (int i = 0; i < n_paths; i++) {
        long size;
        FILE *f = open_sized(paths[i], &size);
        if (!f)
            return SY_ERR_IO;
        fclose(f);
        if (size == 0 || (size_t)size % rec != 0)
            return sy_fail(SY_ERR_FORMAT,
                           "%s: truncated or not a CIFAR-%d binary: %ld bytes is not a "
                           "whole number of %zu-byte records", paths[i],
                           nlab == 1 ? 10 : 100, size, rec);
        total += (size_t)size / rec;
    }
    sy_dataset *d;
    sy_status s = sy_dataset_new(total, sy_shape_of(3, 3, 32, 32), n_classes, n_coarse,
                                 name, &d);
    if (s != SY_OK)
        return s;
    unsigned char *buf = malloc(rec);
    if (!buf) {
        sy_dataset_free(d);
        return sy_fail(SY_ERR_NOMEM, "%s: out of memory", name);
    }
    size_t j = 0;
    for (int i = 0; i < n_paths && s == SY_OK; i++) {
        long size;
        FILE *f = open_sized(paths[i], &size);
        if (!f) {
            s = SY_ERR_IO;
            break;
        }
        size_t nrec = (size_t)size / rec;
        for (size_t r = 0; r < nrec; r++, j++) {
            if (fread(buf, 1, rec, f) != rec) {
                s = sy_fail(SY_ERR_IO, "%s: read failed at record %zu", paths[i], r);
                break;
            }
            int fine = buf[nlab - 1];
            if (fine >= n_classes) {
                s = sy_fail(SY_ERR_FORMAT, "%s: record %zu has label %d, expected 0..%d",
                            paths[i], r, fine, n_classes - 1);
                break;
            }
            if (nlab == 2 && buf[0] >= n_coarse) {
                s = sy_fail(SY_ERR_FORMAT, "%s: record %zu has coarse label %d, expected 0..%d",
                            paths[i], r, buf[0], n_coarse - 1);
                break;
            }
            d->y[j] = fine;
            if (nlab == 2)
                d->y_coarse[j] = buf[0];
            float *x = d->x + j * CIFAR_PIXELS;
            for (int k = 0; k < CIFAR_PIXELS; k++)
                x[k] = buf[nlab + k] * (1.0f / 255.0f);
        }
        fclose(f);
    }
    free(buf);
    if (s != SY_OK) {
        sy_dataset_free(d);
        return s;
    }
    snprintf(d->source, sizeof d->source, "%s", paths[0]);
    *out = d;
    return SY_OK;
}

sy_status sy_cifar10_load(const char *const *paths, int n_paths, const char *name,
                          sy_dataset **out)
{
    if (n_paths <= 0)
        return sy_fail(SY_ERR_ARG, "%s: no CIFAR-10 batch files given", name);
    return load_records(paths, n_paths, 1, 10, 0, name, out);
}

sy_status sy_cifar100_load(const char *path, const char *name, sy_dataset **out)
{
    return load_records(&path, 1, 2, 100, 20, name, out);
}
