/* Shared by the CIFAR-10 experiments (resnet.c, simclr.c): loading a
 * class-balanced subset and argmax. Static functions only; built from the
 * public API like the experiments. */
#ifndef SYRE_EXPERIMENTS_CIFAR_COMMON_H
#define SYRE_EXPERIMENTS_CIFAR_COMMON_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "syre/syre.h"

static int cifar_is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* CIFAR-100 `split` (needs the official binaries, docs/data.md); n > 0 keeps
 * the first n/100 images of each fine class. */
static inline sy_status cifar100_load(const char *dir, const char *split, long n, sy_dataset **out)
{
    sy_dataset *full = NULL;
    sy_status s = sy_dataset_load(dir, "cifar100", split, &full);
    if (s != SY_OK) return s;
    if (n <= 0 || (size_t)n >= full->n) {
        *out = full;
        return SY_OK;
    }
    s = sy_dataset_subset(full, (size_t)(n / 100), 1, out);
    sy_dataset_free(full);
    return s;
}

/* CIFAR-10 `split` ("train"/"test") from data directory `dir`; n > 0 keeps
 * the first n/10 images of each class (class-balanced, the same images from
 * the official binaries and the JPEG folder), n = 0 keeps all. With only the
 * JPEG copy present, a subset decodes just the images it keeps. */
static sy_status cifar_load(const char *dir, const char *split, long n, sy_dataset **out)
{
    char bin[4200], jpg[4200], name[64];
    snprintf(bin, sizeof bin, "%s/cifar-10-batches-bin", dir);
    snprintf(jpg, sizeof jpg, "%s/cifar10-jpeg/%s", dir, split);
    snprintf(name, sizeof name, "cifar10/%s", split);
    if (n > 0 && !cifar_is_dir(bin) && cifar_is_dir(jpg))
        return sy_imagefolder_load(jpg, 3, (size_t)(n / 10), name, out);
    sy_dataset *full = NULL;
    sy_status s = sy_dataset_load(dir, "cifar10", split, &full);
    if (s != SY_OK) return s;
    if (n <= 0 || (size_t)n >= full->n) {
        *out = full;
        return SY_OK;
    }
    s = sy_dataset_subset(full, (size_t)(n / 10), 1, out);
    sy_dataset_free(full);
    return s;
}

static int argmax_row(const float *z, int k)
{
    int b = 0;
    for (int j = 1; j < k; j++)
        if (z[j] > z[b]) b = j;
    return b;
}

#endif
