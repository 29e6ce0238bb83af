/* libFuzzer target: the IDX reader (sy_idx_load), raw and gzip alike (zlib
 * detects which from the content). Input: the labels file's length (2 bytes,
 * little-endian; cut to what is there), its bytes, then the images file.
 * Seeds (fuzz/corpus/idx) hold raw and gzip pairs cut from MNIST and
 * Fashion-MNIST. */
#include "fuzz_util.h"
#include "syre/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) return 0;
    size_t rest = size - 2, split = (size_t)data[0] | (size_t)data[1] << 8;
    if (split > rest) split = rest;
    char lab[256], img[256];
    fz_write(fz_path(lab, sizeof lab, "labels"), data + 2, split);
    fz_write(fz_path(img, sizeof img, "images"), data + 2 + split, rest - split);
    sy_dataset *d = NULL;
    if (sy_idx_load(img, lab, "fuzz", &d) == SY_OK) {
        /* A dataset that loads must be whole: touch every sample and label. */
        size_t numel = sy_dataset_numel(d);
        float acc = 0;
        for (size_t i = 0; i < d->n * numel; i++) acc += d->x[i];
        for (size_t i = 0; i < d->n; i++)
            if (d->y[i] < 0 || d->y[i] >= d->n_classes) abort();
        if (!(acc >= 0)) abort();
        sy_dataset_free(d);
    } else if (d) {
        abort(); /* failure must leave *out NULL */
    }
    return 0;
}
