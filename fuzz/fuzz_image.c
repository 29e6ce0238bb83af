/* libFuzzer target: the image-folder reader (sy_imagefolder_load) on one
 * class folder holding the input as a single image; stb_image decodes PNG
 * and JPEG by content. stb_image's implementation is compiled into this
 * target (below) so that the sanitizers and the coverage instrumentation see
 * the decoder too; the executable's definitions take precedence over the
 * system libstb. Input: one byte (bit 0: 1 or 3 channels), then the file.
 * Seeds (fuzz/corpus/image) are small PNG and JPEG files. */
#include "fuzz_util.h"
#include "syre/data.h"

#define STB_IMAGE_IMPLEMENTATION
#include <stb/stb_image.h>

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
