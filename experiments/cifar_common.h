/* Shared by the CIFAR experiments: class-balanced loading (the data layer's
 * sy_dataset_load_balanced) and argmax. Static functions only; built from
 * the public API like the experiments. */
#ifndef SYRE_EXPERIMENTS_CIFAR_COMMON_H
#define SYRE_EXPERIMENTS_CIFAR_COMMON_H

#include "syre/syre.h"

/* CIFAR-10 `split` ("train"/"test"); n > 0 keeps the first n/10 images of each class, n = 0 all. */
static inline sy_status cifar_load(const char *dir, const char *split, long n, sy_dataset **out)
{
    return sy_dataset_load_balanced(dir, "cifar10", split, n, NULL, out);
}

/* CIFAR-100 `split` (the official binaries, docs/data.md); n > 0 keeps the
 * first n/100 images of each fine class. */
static inline sy_status cifar100_load(const char *dir, const char *split, long n, sy_dataset **out)
{
    return sy_dataset_load_balanced(dir, "cifar100", split, n, NULL, out);
}

static inline int argmax_row(const float *z, int k)
{
    int b = 0;
    for (int j = 1; j < k; j++)
        if (z[j] > z[b]) b = j;
    return b;
}

#endif
