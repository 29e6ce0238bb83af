/* libFuzzer target: the CIFAR-10 and CIFAR-100 binary readers. Input: one
 * byte choosing the format (even: CIFAR-10, odd: CIFAR-100), then the file.
 * Seeds (fuzz/corpus/cifar) are a few records built from real images. */
#include "fuzz_util.h"
#include "syre/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    char path[256];
    fz_write(fz_path(path, sizeof path, "batch.bin"), data + 1, size - 1);
    sy_dataset *d = NULL;
    const char *paths[1] = {path};
    sy_status s = data[0] & 1 ? sy_cifar100_load(path, "fuzz", &d) : sy_cifar10_load(paths, 1, "fuzz", &d);
    if (s == SY_OK) {
        for (size_t i = 0; i < d->n; i++) {
            if (d->y[i] < 0 || d->y[i] >= d->n_classes) abort();
            if (d->y_coarse && (d->y_coarse[i] < 0 || d->y_coarse[i] >= d->n_coarse)) abort();
        }
        sy_dataset_free(d);
    } else if (d) {
        abort();
    }
    return 0;
}
