/* Preparing a named dataset for a model: a class-balanced subset (from
 * CIFAR-10's image folder, with no official binaries, only the images kept
 * are decoded: the same images, in the same order, as from the binaries) and
 * the per-channel standardisation by the training set's statistics. */
#include <stdio.h>
#include <string.h>

#include "data_internal.h"
#include "syre/data.h"

sy_status sy_dataset_load_balanced(const char *dir, const char *name, const char *split, long n,
                                   const sy_data_contract *want, sy_dataset **out)
{
    if (n > 0 && strcmp(name, "cifar10") == 0) {
        char bin[4200], jpg[4200], label[64];
        snprintf(bin, sizeof bin, "%s/cifar-10-batches-bin", dir);
        snprintf(jpg, sizeof jpg, "%s/cifar10-jpeg/%s", dir, split);
        snprintf(label, sizeof label, "cifar10/%s", split);
        if (!sy__is_dir(bin) && sy__is_dir(jpg)) {
            sy_status s = sy_imagefolder_load(jpg, 3, (size_t)(n / 10), label, out);
            if (s == SY_OK && want && (s = sy_dataset_check(*out, want)) != SY_OK) {
                sy_dataset_free(*out);
                *out = NULL;
            }
            return s;
        }
    }
    return sy_dataset_load_n(dir, name, split, n, 1, want, out);
}

sy_status sy_dataset_standardize(sy_dataset *train, sy_dataset *other)
{
    float mean[SY_STANDARDIZE_MAX_CHANNELS], std[SY_STANDARDIZE_MAX_CHANNELS];
    if (train->sample.ndim < 1 || train->sample.dim[0] < 1 || train->sample.dim[0] > SY_STANDARDIZE_MAX_CHANNELS)
        return sy_fail(SY_ERR_SHAPE, "standardising %s: samples of 1 to %d channels, not [%d, ...]", train->name,
                       SY_STANDARDIZE_MAX_CHANNELS, train->sample.ndim ? train->sample.dim[0] : 0);
    sy_dataset_channel_stats(train, mean, std);
    sy_status s = sy_data_normalize(train->x, train->n, train->sample, mean, std);
    if (s == SY_OK && other) s = sy_data_normalize(other->x, other->n, other->sample, mean, std);
    return s;
}
