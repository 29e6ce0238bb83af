/* libFuzzer target: the image-folder reader (sy_imagefolder_load) on one
 * class folder holding the input as a single image, decoded by content:
 * PNG with the system libpng, JPEG with the system libjpeg-turbo. Those are
 * not instrumented here (they are fuzzed upstream, in OSS-Fuzz); this target
 * covers our reading, bounds, error handling and pixel conversion, and a
 * crash or leak inside them still shows. Input: one byte (bit 0: 1 or 3
 * channels), then the file. Seeds (fuzz/corpus/image) are small PNG and
 * JPEG files. */
#include "fuzz_util.h"
#include "syre/data.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    static int made;
    char dir[256], cls[256], img[256];
    fz_path(dir, sizeof dir, "images");
    fz_path(cls, sizeof cls, "images/c0");
    fz_path(img, sizeof img, "images/c0/a.png");
    if (!made) {
        mkdir(dir, 0700);
        mkdir(cls, 0700);
        made = 1;
    }
    fz_write(img, data + 1, size - 1);
    sy_dataset *d = NULL;
    if (sy_imagefolder_load(dir, data[0] & 1 ? 1 : 3, 0, "fuzz", &d) == SY_OK) {
        size_t numel = sy_dataset_numel(d);
        float acc = 0;
        for (size_t i = 0; i < d->n * numel; i++) acc += d->x[i];
        if (!(acc >= 0)) abort();
        sy_dataset_free(d);
    } else if (d) {
        abort();
    }
    return 0;
}
