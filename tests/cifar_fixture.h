/* A small CIFAR-10 written by the tests themselves, so that the resnet and
 * simclr pipelines are checked wherever the suite runs, including where the
 * real set is absent (no package registry ships it; docs/data.md says how a
 * user gets it). The same images in both of the formats syre reads:
 *   ROOT/bin/cifar-10-batches-bin/   data_batch_1..5.bin, test_batch.bin
 *   ROOT/folder/cifar10-jpeg/        {train,test}/<class>/NNNN.png (lossless)
 * in the same order (class by class, the images of a class in file-name
 * order, which is how the folder loader sorts them), so a run on either
 * must give the same records. Each class has its own colour and stripe
 * frequency plus noise: learnable, far from the real set. */
#ifndef SYRE_TEST_CIFAR_FIXTURE_H
#define SYRE_TEST_CIFAR_FIXTURE_H

#include <errno.h>
#include <math.h>
#include <png.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static const char *const cifar_fixture_classes[10] = {"airplane", "automobile", "bird",  "cat",  "deer",
                                                      "dog",      "frog",       "horse", "ship", "truck"};

/* Image k of class c, interleaved RGB (32 x 32 x 3). */
static void cifar_fixture_image(int c, int k, int test, unsigned char *rgb)
{
    uint32_t x = 2654435761u * (uint32_t)(c * 7919 + k * 31 + test * 104729 + 1);
    for (int i = 0; i < 32; i++)
        for (int j = 0; j < 32; j++)
            for (int ch = 0; ch < 3; ch++) {
                x = x * 1664525u + 1013904223u;
                double base = 128 + 80 * sin(0.6 * c + 2.1 * ch) * cos((c + 1) * 0.35 * i);
                int v = (int)base + (int)(x >> 27) - 16;
                rgb[(i * 32 + j) * 3 + ch] = (unsigned char)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
}

static void cifar_fixture_mkdir(const char *path)
{
    if (mkdir(path, 0755) != 0 && errno != EEXIST) fail_msg("mkdir %s: %s", path, strerror(errno));
}

/* Writes both formats under root: per_class training and test_per_class test
 * images of each class. The training records are spread over the five
 * batches in order (batch b holds the b-th fifth). */
static void cifar_fixture_write(const char *root, int per_class, int test_per_class)
{
    char p[1024];
    unsigned char rgb[3072], rec[1 + 3072];
    cifar_fixture_mkdir(root);
    snprintf(p, sizeof p, "%s/bin", root), cifar_fixture_mkdir(p);
    snprintf(p, sizeof p, "%s/bin/cifar-10-batches-bin", root), cifar_fixture_mkdir(p);
    snprintf(p, sizeof p, "%s/folder", root), cifar_fixture_mkdir(p);
    snprintf(p, sizeof p, "%s/folder/cifar10-jpeg", root), cifar_fixture_mkdir(p);
    for (int test = 0; test < 2; test++) {
        const char *split = test ? "test" : "train";
        int n = test ? test_per_class : per_class, total = 10 * n, written = 0;
        snprintf(p, sizeof p, "%s/folder/cifar10-jpeg/%s", root, split), cifar_fixture_mkdir(p);
        FILE *bin = NULL;
        int batch = 0;
        for (int c = 0; c < 10; c++) {
            snprintf(p, sizeof p, "%s/folder/cifar10-jpeg/%s/%s", root, split, cifar_fixture_classes[c]);
            cifar_fixture_mkdir(p);
            for (int k = 0; k < n; k++, written++) {
                cifar_fixture_image(c, k, test, rgb);
                png_image img;
                memset(&img, 0, sizeof img);
                img.version = PNG_IMAGE_VERSION, img.width = 32, img.height = 32, img.format = PNG_FORMAT_RGB;
                snprintf(p, sizeof p, "%s/folder/cifar10-jpeg/%s/%s/%04d.png", root, split,
                         cifar_fixture_classes[c], k);
                if (!png_image_write_to_file(&img, p, 0, rgb, 0, NULL)) fail_msg("%s: %s", p, img.message);
                /* binary record: label, then the R, G and B planes */
                rec[0] = (unsigned char)c;
                for (int px = 0; px < 1024; px++)
                    for (int ch = 0; ch < 3; ch++) rec[1 + ch * 1024 + px] = rgb[px * 3 + ch];
                int want = test ? 0 : (int)((long)written * 5 / total);
                if (!bin || want != batch) {
                    if (bin) fclose(bin);
                    batch = want;
                    if (test)
                        snprintf(p, sizeof p, "%s/bin/cifar-10-batches-bin/test_batch.bin", root);
                    else
                        snprintf(p, sizeof p, "%s/bin/cifar-10-batches-bin/data_batch_%d.bin", root, batch + 1);
                    bin = fopen(p, "wb");
                    if (!bin) fail_msg("%s: %s", p, strerror(errno));
                }
                if (fwrite(rec, 1, sizeof rec, bin) != sizeof rec) fail_msg("%s: short write", p);
            }
        }
        if (bin && fclose(bin) != 0) fail_msg("closing a fixture batch: %s", strerror(errno));
    }
}

/* Set when a test was skipped for want of the real set: main() then exits
 * 77 after the other tests passed, so CTest reports the program "skipped"
 * rather than a pass (cmocka alone counts a skip as a pass). */
static int cifar_real_skipped;

/* Whether the real CIFAR-10 (binary batches or the JPEG folder) is in the
 * data directory; if not, says so visibly and skips the calling test. */
#define SKIP_WITHOUT_REAL_CIFAR10()                                                                           \
    do {                                                                                                      \
        char bin_[4200], jpg_[4200];                                                                          \
        struct stat st_;                                                                                      \
        snprintf(bin_, sizeof bin_, "%s/cifar-10-batches-bin", sy_data_dir(NULL));                            \
        snprintf(jpg_, sizeof jpg_, "%s/cifar10-jpeg/train", sy_data_dir(NULL));                              \
        if (stat(bin_, &st_) != 0 && stat(jpg_, &st_) != 0) {                                                 \
            print_message("SKIPPED: the real CIFAR-10 is not in %s (docs/data.md says how to get it); "      \
                          "the fixture pipeline test ran instead\n",                                          \
                          sy_data_dir(NULL));                                                                 \
            cifar_real_skipped = 1;                                                                           \
            skip();                                                                                           \
        }                                                                                                     \
    } while (0)

/* main()'s exit status: the failures, else 77 if the real set was missing. */
static int cifar_exit_status(int failed) { return failed ? failed : cifar_real_skipped ? 77 : 0; }

#endif
