/* Tests of src/data: the readers on the real MNIST, Fashion-MNIST and CIFAR-10
 * files and on damaged copies of them, the batcher's per-epoch orders, pixel
 * permutations, augmentations, normalisation, subsets and synthetic data. */
#define _XOPEN_SOURCE 700 /* mkdtemp, nftw, setenv */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "syre/core.h"
#include "syre/data.h"
#include "../cli/env_options.h"

/* Set when the CIFAR-10 checks were skipped: main() then exits 77 after the
 * other tests passed, so CTest reports "skipped" rather than a pass. */
static int cifar_missing;
static char g_tmp[256];   /* scratch directory for damaged copies */
static char g_data[4096]; /* the data directory under test */

/* |a - b| <= tol. */
#define assert_near(a, b, tol)                                                        \
    do {                                                                              \
        double a_ = (a), b_ = (b), t_ = (tol);                                        \
        if (!(fabs(a_ - b_) <= t_))                                                   \
            fail_msg("%s = %.17g, expected %.17g (tol %g)", #a, a_, b_, t_);          \
    } while (0)

/* A failing load must return `code`, leave *out NULL, and name `file`. */
#define assert_load_fails(code, call, out, file)                                      \
    do {                                                                              \
        sy_clear_error();                                                             \
        out = (sy_dataset *)1;                                                        \
        sy_status s_ = (call);                                                        \
        if (s_ != (code))                                                             \
            fail_msg("%s returned %d (%s), expected %d", #call, s_, sy_last_error(),  \
                     code);                                                           \
        assert_null(out);                                                             \
        if (!strstr(sy_last_error(), (file)))                                         \
            fail_msg("message \"%s\" does not name %s", sy_last_error(), (file));     \
        print_message("  expected failure: %s\n", sy_last_error());                  \
    } while (0)

static void path_of(char *buf, size_t cap, const char *a, const char *b)
{
    snprintf(buf, cap, "%s/%s", a, b);
}

static unsigned char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        fail_msg("cannot read %s", path);
    fseek(f, 0, SEEK_END);
    *len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*len + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *len, f), *len);
    fclose(f);
    return b;
}

static void write_all(const char *path, const void *b, size_t len)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        fail_msg("cannot write %s", path);
    assert_int_equal(fwrite(b, 1, len, f), len);
    fclose(f);
}

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    return remove(p);
}

static int setup_all(void **state)
{
    snprintf(g_data, sizeof g_data, "%s", sy_data_dir(NULL));
    snprintf(g_tmp, sizeof g_tmp, "/tmp/syre_test_data_XXXXXX");
    if (!mkdtemp(g_tmp))
        return -1;
    return 0;
}

static int teardown_all(void **state)
{
    nftw(g_tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    return 0;
}

/* The real data must be installed: a missing MNIST is a setup error, not a skip. */
static void require_mnist(void)
{
    char p[4200];
    path_of(p, sizeof p, g_data, "mnist/train-labels-idx1-ubyte");
    struct stat st;
    if (stat(p, &st) != 0)
        fail_msg("MNIST not found at %s: run scripts/setup.sh (or scripts/get-data.sh) "
                 "to install the data, or set SYRE_DATA", p);
}

static void test_data_dir(void **state)
{
    (void)state;
    assert_string_equal(sy_data_dir("/x/y"), "/x/y");
    sy_runtime_opts saved = *sy_runtime(), o = saved;
    char saved_dir[4096];
    snprintf(saved_dir, sizeof saved_dir, "%s", saved.data_dir ? saved.data_dir : "");
    saved.data_dir = saved_dir[0] ? saved_dir : NULL;
    o.data_dir = "/from/settings";
    assert_int_equal(sy_runtime_configure(&o), SY_OK);
    assert_string_equal(sy_data_dir(NULL), "/from/settings");
    assert_string_equal(sy_data_dir("/flag"), "/flag");
    /* SYRE_DATA reaches the setting through the command's mapping. */
    const char *env = getenv("SYRE_DATA");
    char saved_env[4096];
    snprintf(saved_env, sizeof saved_env, "%s", env ? env : "");
    setenv("SYRE_DATA", "/from/env", 1);
    o = sy_env_runtime_opts();
    assert_string_equal(o.data_dir, "/from/env");
    if (env) setenv("SYRE_DATA", saved_env, 1);
    else unsetenv("SYRE_DATA");
    assert_int_equal(sy_runtime_configure(&saved), SY_OK);
    assert_string_equal(sy_data_dir("/flag"), "/flag");
}

static void check_labels(const sy_dataset *d, int n_classes)
{
    int seen[256] = {0};
    for (size_t i = 0; i < d->n; i++) {
        assert_true(d->y[i] >= 0 && d->y[i] < n_classes);
        seen[d->y[i]] = 1;
    }
    for (int c = 0; c < n_classes; c++)
        assert_true(seen[c]);
    for (size_t i = 0; i < d->n * sy_dataset_numel(d); i += 997)
        assert_true(d->x[i] >= 0.0f && d->x[i] <= 1.0f);
}

static void test_mnist(void **state)
{
    require_mnist();
    sy_dataset *d;
    assert_int_equal(sy_dataset_load(g_data, "mnist", "train", &d), SY_OK);
    assert_int_equal(d->n, 60000);
    assert_true(sy_shape_equal(d->sample, sy_shape_of(3, 1, 28, 28)));
    assert_int_equal(d->n_classes, 10);
    assert_null(d->y_coarse);
    const int first[5] = {5, 0, 4, 1, 9};
    for (int i = 0; i < 5; i++)
        assert_int_equal(d->y[i], first[i]);
    check_labels(d, 10);
    /* MNIST's mean pixel is 0.1307 (the usual normalisation constant). */
    float mean, std;
    sy_dataset_channel_stats(d, &mean, &std);
    assert_near(mean, 0.1307, 1e-3);
    assert_near(std, 0.3081, 1e-3);
    sy_dataset_free(d);

    assert_int_equal(sy_dataset_load(g_data, "mnist", "test", &d), SY_OK);
    assert_int_equal(d->n, 10000);
    const int tfirst[5] = {7, 2, 1, 0, 4};
    for (int i = 0; i < 5; i++)
        assert_int_equal(d->y[i], tfirst[i]);
    check_labels(d, 10);
    sy_dataset_free(d);
}

/* sy_dataset_load_n: the contract is checked, n keeps the first samples or
 * the first n / 10 of each class, n <= 0 or beyond the split keeps all. */
static void test_load_n(void **state)
{
    require_mnist();
    sy_dataset *d;
    const sy_data_contract ok = {"test", 1, 28, 28, 10, 1}, wrong = {"test", 3, 32, 32, 10, 1};
    assert_int_equal(sy_dataset_load_n(g_data, "mnist", "test", 500, 0, &ok, &d), SY_OK);
    assert_int_equal(d->n, 500);
    assert_int_equal(d->y[0], 7);
    sy_dataset_free(d);
    assert_int_equal(sy_dataset_load_n(g_data, "mnist", "test", 100, 1, NULL, &d), SY_OK);
    assert_int_equal(d->n, 100);
    int count[10] = {0};
    for (size_t i = 0; i < d->n; i++) count[d->y[i]]++;
    for (int c = 0; c < 10; c++) assert_int_equal(count[c], 10);
    sy_dataset_free(d);
    assert_int_equal(sy_dataset_load_n(g_data, "mnist", "test", 0, 0, NULL, &d), SY_OK);
    assert_int_equal(d->n, 10000);
    sy_dataset_free(d);
    assert_int_equal(sy_dataset_load_n(g_data, "mnist", "test", 20000, 0, NULL, &d), SY_OK);
    assert_int_equal(d->n, 10000);
    sy_dataset_free(d);
    d = (sy_dataset *)0x1;
    assert_int_equal(sy_dataset_load_n(g_data, "mnist", "test", 500, 0, &wrong, &d), SY_ERR_FORMAT);
    assert_null(d);
}

static void test_fashion_mnist_gz(void **state)
{
    sy_dataset *d;
    if (sy_dataset_load(g_data, "fashion-mnist", "train", &d) != SY_OK)
        fail_msg("%s", sy_last_error());
    assert_int_equal(d->n, 60000);
    assert_true(sy_shape_equal(d->sample, sy_shape_of(3, 1, 28, 28)));
    const int first[5] = {9, 0, 0, 3, 0};
    for (int i = 0; i < 5; i++)
        assert_int_equal(d->y[i], first[i]);
    check_labels(d, 10);
    sy_dataset_free(d);
    assert_int_equal(sy_dataset_load(g_data, "fashion-mnist", "test", &d), SY_OK);
    assert_int_equal(d->n, 10000);
    sy_dataset_free(d);
}

static void test_cifar10_imagefolder(void **state)
{
    char dir[4200];
    path_of(dir, sizeof dir, g_data, "cifar10-jpeg/train");
    struct stat st;
    if (stat(dir, &st) != 0) {
        /* get-data.sh installs it only where ../shared/data has the tarball. */
        print_message("SKIPPED: cifar10-jpeg not installed at %s; CIFAR-10 checks skipped\n", dir);
        cifar_missing = 1;
        skip();
    }
    sy_dataset *d;
    assert_int_equal(sy_imagefolder_load(dir, 3, 20, "cifar10/train[20]", &d), SY_OK);
    assert_int_equal(d->n, 200);
    assert_int_equal(d->n_classes, 10);
    assert_true(sy_shape_equal(d->sample, sy_shape_of(3, 3, 32, 32)));
    /* Sorted classes: airplane first, truck last, 20 each. */
    assert_int_equal(d->y[0], 0);
    assert_int_equal(d->y[19], 0);
    assert_int_equal(d->y[20], 1);
    assert_int_equal(d->y[199], 9);
    check_labels(d, 10);
    /* Deterministic: a second load gives identical pixels. */
    sy_dataset *e;
    assert_int_equal(sy_imagefolder_load(dir, 3, 20, "again", &e), SY_OK);
    assert_memory_equal(d->x, e->x, d->n * sy_dataset_numel(d) * sizeof(float));
    sy_dataset_free(e);
    sy_dataset_free(d);

    /* The whole test split through the high-level loader. */
    assert_int_equal(sy_dataset_load(g_data, "cifar10", "test", &d), SY_OK);
    assert_int_equal(d->n, 10000);
    check_labels(d, 10);
    sy_dataset_free(d);
}

static void test_damaged_idx(void **state)
{
    require_mnist();
    char img[4200], lab[4200], timg[4200], p[4200], q[4200];
    path_of(img, sizeof img, g_data, "mnist/train-images-idx3-ubyte");
    path_of(lab, sizeof lab, g_data, "mnist/train-labels-idx1-ubyte");
    path_of(timg, sizeof timg, g_data, "mnist/t10k-images-idx3-ubyte");
    sy_dataset *d;
    size_t len;
    unsigned char *b = read_all(img, &len);

    /* Truncated: the header promises 60000 images, the file holds ~1. */
    path_of(p, sizeof p, g_tmp, "trunc-images-idx3-ubyte");
    write_all(p, b, 16 + 1000);
    assert_load_fails(SY_ERR_FORMAT, sy_idx_load(p, lab, "t", &d), d, p);
    assert_non_null(strstr(sy_last_error(), "truncated"));
    /* Truncated inside the header. */
    write_all(p, b, 10);
    assert_load_fails(SY_ERR_FORMAT, sy_idx_load(p, lab, "t", &d), d, p);

    /* Wrong magic: a label file where images are expected, and vice versa. */
    assert_load_fails(SY_ERR_FORMAT, sy_idx_load(lab, lab, "t", &d), d, lab);
    assert_non_null(strstr(sy_last_error(), "magic"));
    assert_load_fails(SY_ERR_FORMAT, sy_idx_load(img, img, "t", &d), d, img);

    /* Count mismatch: 10000 test images against 60000 train labels. */
    assert_load_fails(SY_ERR_FORMAT, sy_idx_load(timg, lab, "t", &d), d, timg);
    assert_non_null(strstr(sy_last_error(), lab));
    assert_non_null(strstr(sy_last_error(), "mismatch"));

    /* Missing file. */
    path_of(q, sizeof q, g_tmp, "no-such-file-idx3-ubyte");
    assert_load_fails(SY_ERR_IO, sy_idx_load(q, lab, "t", &d), d, q);
    assert_load_fails(SY_ERR_IO, sy_idx_load(img, q, "t", &d), d, q);
    free(b);
}

/* A well-formed gzip IDX pair of its own (100 random 28x28 images), so the
 * damage checks do not depend on how the data directory stores its files
 * (get-data.sh keeps the .gz; a user may have gunzipped them). */
static void write_gzip_idx(const char *img, const char *lab)
{
    enum { N = 100 };
    static unsigned char b[16 + N * 784];
    const unsigned char head[16] = {0, 0, 8, 3, 0, 0, 0, N, 0, 0, 0, 28, 0, 0, 0, 28};
    memcpy(b, head, 16);
    uint32_t x = 12345;
    for (size_t i = 16; i < sizeof b; i++) b[i] = (unsigned char)((x = x * 1664525u + 1013904223u) >> 24);
    gzFile z = gzopen(img, "wb");
    assert_non_null(z);
    assert_int_equal(gzwrite(z, b, sizeof b), (int)sizeof b);
    assert_int_equal(gzclose(z), Z_OK);
    unsigned char l[8 + N] = {0, 0, 8, 1, 0, 0, 0, N};
    for (int i = 0; i < N; i++) l[8 + i] = (unsigned char)(i % 10);
    write_all(lab, l, sizeof l);
}

static void test_damaged_gzip(void **state)
{
    char src[4200], lab[4200], p[4200];
    path_of(src, sizeof src, g_tmp, "good-images-idx3-ubyte.gz");
    path_of(lab, sizeof lab, g_tmp, "good-labels-idx1-ubyte");
    write_gzip_idx(src, lab);
    sy_dataset *d;
    assert_int_equal(sy_idx_load(src, lab, "t", &d), SY_OK); /* intact, it loads */
    assert_int_equal(d->n, 100);
    sy_dataset_free(d);
    size_t len;
    unsigned char *b = read_all(src, &len);

    /* Corrupt deflate data in the middle of the stream. */
    unsigned char *c = malloc(len);
    assert_non_null(c);
    memcpy(c, b, len);
    for (size_t i = len / 2; i < len / 2 + 64; i++)
        c[i] ^= 0x5a;
    path_of(p, sizeof p, g_tmp, "corrupt-images-idx3-ubyte.gz");
    write_all(p, c, len);
    assert_load_fails(SY_ERR_FORMAT, sy_idx_load(p, lab, "t", &d), d, p);
    assert_non_null(strstr(sy_last_error(), "gzip"));

    /* Damaged CRC trailer: every pixel decodes, the check at the end fails. */
    memcpy(c, b, len);
    c[len - 6] ^= 0xff;
    write_all(p, c, len);
    assert_load_fails(SY_ERR_FORMAT, sy_idx_load(p, lab, "t", &d), d, p);

    /* A gzip file cut short. */
    path_of(p, sizeof p, g_tmp, "short-images-idx3-ubyte.gz");
    write_all(p, b, len / 3);
    assert_load_fails(SY_ERR_FORMAT, sy_idx_load(p, lab, "t", &d), d, p);
    assert_non_null(strstr(sy_last_error(), "truncated"));
    free(c);
    free(b);
}

static void test_damaged_images_and_cifar(void **state)
{
    char dir[1024], cls[2048], p[4200];
    sy_dataset *d;
    /* Image folder with a JPEG that is not one. */
    path_of(dir, sizeof dir, g_tmp, "folder");
    mkdir(dir, 0755);
    path_of(cls, sizeof cls, dir, "cat");
    mkdir(cls, 0755);
    path_of(p, sizeof p, cls, "0001.jpg");
    write_all(p, "this is not a jpeg", 18);
    assert_load_fails(SY_ERR_FORMAT, sy_imagefolder_load(dir, 3, 0, "t", &d), d, p);
    assert_non_null(strstr(sy_last_error(), "unreadable"));
    /* Missing folder and the high-level loader on an empty data directory. */
    path_of(p, sizeof p, g_tmp, "nowhere");
    assert_load_fails(SY_ERR_IO, sy_imagefolder_load(p, 3, 0, "t", &d), d, p);
    assert_load_fails(SY_ERR_IO, sy_dataset_load(g_tmp, "mnist", "train", &d), d, "mnist");
    assert_non_null(strstr(sy_last_error(), "scripts/setup.sh"));
    assert_load_fails(SY_ERR_IO, sy_dataset_load(g_tmp, "cifar10", "train", &d), d,
                      "cifar-10-batches-bin");
    assert_load_fails(SY_ERR_ARG, sy_dataset_load(g_tmp, "mnist", "valid", &d), d, "valid");
    assert_load_fails(SY_ERR_ARG, sy_dataset_load(g_tmp, "imagenet", "train", &d), d,
                      "imagenet");

    /* CIFAR binaries: synthetic records, then truncated and bad-label copies. */
    size_t rec = 3073, n = 3;
    unsigned char *b = calloc(n * rec + 1, 1);
    assert_non_null(b);
    for (size_t i = 0; i < n; i++) {
        b[i * rec] = (unsigned char)(i + 2);
        b[i * rec + 1] = 255; /* first red pixel */
    }
    path_of(p, sizeof p, g_tmp, "data_batch_1.bin");
    write_all(p, b, n * rec);
    const char *paths[2] = {p, p};
    assert_int_equal(sy_cifar10_load(paths, 2, "c10", &d), SY_OK);
    assert_int_equal(d->n, 6);
    assert_int_equal(d->y[1], 3);
    assert_near(d->x[3072 * 4], 1.0, 0);
    sy_dataset_free(d);
    write_all(p, b, n * rec - 100);
    assert_load_fails(SY_ERR_FORMAT, sy_cifar10_load(paths, 1, "c10", &d), d, p);
    b[0] = 10;
    write_all(p, b, n * rec);
    assert_load_fails(SY_ERR_FORMAT, sy_cifar10_load(paths, 1, "c10", &d), d, p);
    path_of(p, sizeof p, g_tmp, "missing_batch.bin");
    assert_load_fails(SY_ERR_IO, sy_cifar10_load(paths, 1, "c10", &d), d, p);
    /* CIFAR-100: 3074-byte records with a coarse and a fine label. */
    path_of(p, sizeof p, g_tmp, "train.bin");
    memset(b, 0, n * rec);
    b[0] = 19;
    b[1] = 99;
    write_all(p, b, 3074);
    assert_int_equal(sy_cifar100_load(p, "c100", &d), SY_OK);
    assert_int_equal(d->n, 1);
    assert_int_equal(d->y[0], 99);
    assert_int_equal(d->y_coarse[0], 19);
    assert_int_equal(d->n_classes, 100);
    sy_dataset_free(d);
    b[0] = 20;
    write_all(p, b, 3074);
    assert_load_fails(SY_ERR_FORMAT, sy_cifar100_load(p, "c100", &d), d, p);
    free(b);
}

/* A tiny dataset whose pixel values encode the sample index. */
static sy_dataset *toy(size_t n, int n_classes)
{
    sy_dataset *d;
    assert_int_equal(sy_dataset_new(n, sy_shape_of(3, 1, 2, 2), n_classes, 0, "toy", &d), SY_OK);
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < 4; k++)
            d->x[i * 4 + k] = (float)i + 0.25f * k;
        d->y[i] = (int)(i % (size_t)n_classes);
    }
    return d;
}

static void epoch_order(sy_batcher *b, uint64_t epoch, size_t n, int *order)
{
    float x[10 * 4], y[10];
    size_t got, pos = 0;
    sy_batcher_epoch(b, epoch);
    while ((got = sy_batcher_next(b, x, y)) > 0) {
        const int *idx = sy_batcher_indices(b);
        for (size_t i = 0; i < got; i++) {
            assert_near(x[i * 4 + 1], idx[i] + 0.25, 0);
            assert_near(y[i], idx[i] % 7, 0);
            order[pos++] = idx[i];
        }
    }
    assert_int_equal(pos, n);
}

static void test_batcher(void **state)
{
    const size_t n = 103;
    sy_dataset *d = toy(n, 7);
    sy_batcher_opts o = sy_batcher_opts_default();
    o.batch = 10;
    o.seed = 42;
    sy_batcher *b, *b2;
    assert_int_equal(sy_batcher_new(d, o, &b), SY_OK);
    assert_int_equal(sy_batcher_new(d, o, &b2), SY_OK);
    assert_int_equal(sy_batcher_num_batches(b), 11);
    int o0[103], o1[103], again[103];
    epoch_order(b, 0, n, o0);
    epoch_order(b, 1, n, o1);
    /* Each epoch visits every sample exactly once. */
    int seen[103] = {0};
    for (size_t i = 0; i < n; i++)
        seen[o0[i]]++;
    for (size_t i = 0; i < n; i++)
        assert_int_equal(seen[i], 1);
    assert_true(memcmp(o0, o1, sizeof o0) != 0);
    /* Epoch 1 replayed alone, by another batcher with the same seed. */
    epoch_order(b2, 1, n, again);
    assert_memory_equal(o1, again, sizeof o1);
    sy_batcher_free(b2);
    /* Another seed, another order. */
    o.seed = 43;
    assert_int_equal(sy_batcher_new(d, o, &b2), SY_OK);
    epoch_order(b2, 0, n, again);
    assert_true(memcmp(o0, again, sizeof o0) != 0);
    sy_batcher_free(b2);
    /* drop_last: 10 full batches, the 3 left over are skipped. */
    o.drop_last = 1;
    assert_int_equal(sy_batcher_new(d, o, &b2), SY_OK);
    assert_int_equal(sy_batcher_num_batches(b2), 10);
    float x[40], y[10];
    size_t batches = 0, got;
    while ((got = sy_batcher_next(b2, x, y)) > 0) {
        assert_int_equal(got, 10);
        batches++;
    }
    assert_int_equal(batches, 10);
    sy_batcher_free(b2);
    /* shuffle = 0: dataset order. */
    o.shuffle = 0;
    o.drop_last = 0;
    assert_int_equal(sy_batcher_new(d, o, &b2), SY_OK);
    epoch_order(b2, 5, n, again);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(again[i], (int)i);
    sy_batcher_free(b2);
    sy_batcher_free(b);
    sy_dataset_free(d);
}

static void test_permutations(void **state)
{
    enum { N = 784 };
    int p0[N], p1[N], p2[N], p1b[N], seen[N];
    sy_pixel_permutation(N, 7, 0, p0);
    sy_pixel_permutation(N, 7, 1, p1);
    sy_pixel_permutation(N, 7, 2, p2);
    sy_pixel_permutation(N, 7, 1, p1b);
    for (int i = 0; i < N; i++)
        assert_int_equal(p0[i], i);
    for (int t = 0; t < 2; t++) {
        const int *p = t ? p2 : p1;
        memset(seen, 0, sizeof seen);
        for (int i = 0; i < N; i++) {
            assert_true(p[i] >= 0 && p[i] < N);
            seen[p[i]]++;
        }
        for (int i = 0; i < N; i++)
            assert_int_equal(seen[i], 1);
    }
    assert_memory_equal(p1, p1b, sizeof p1);
    assert_true(memcmp(p1, p2, sizeof p1) != 0);
    assert_true(memcmp(p0, p1, sizeof p1) != 0);
    /* Applying it moves pixels as stated: x'[i] = x[perm[i]]. */
    float x[2 * N], tmp[N];
    for (int i = 0; i < 2 * N; i++)
        x[i] = (float)i;
    sy_permute_pixels(x, 2, N, p1, tmp);
    for (int i = 0; i < N; i++) {
        assert_near(x[i], p1[i], 0);
        assert_near(x[N + i], N + p1[i], 0);
    }
}

static void test_crop_flip(void **state)
{
    enum { C = 3, H = 8, W = 8, B = 16 };
    sy_shape s = sy_shape_of(3, C, H, W);
    float x[B * C * H * W], orig[B * C * H * W], tmp[C * H * W];
    for (int i = 0; i < B * C * H * W; i++)
        orig[i] = x[i] = 1.0f + (float)(i % (C * H * W)); /* nonzero, distinct */
    sy_rng r = sy_rng_make(1, SY_STREAM_AUGMENT, 0);
    /* pad 0: each sample is itself or its mirror, and both occur. */
    sy_augment_crop_flip(x, B, s, 0, &r, tmp);
    int flips = 0;
    for (int b = 0; b < B; b++) {
        const float *p = x + b * C * H * W, *o = orig + b * C * H * W;
        int same = !memcmp(p, o, sizeof tmp), mirror = 1;
        for (int c = 0; c < C; c++)
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++)
                    if (p[(c * H + i) * W + j] != o[(c * H + i) * W + W - 1 - j])
                        mirror = 0;
        assert_true(same || mirror);
        flips += !same;
    }
    assert_true(flips > 0 && flips < B);
    /* pad 4: every value comes from the image or the zero border, and at least
     * some samples were shifted (some zeros appear). */
    memcpy(x, orig, sizeof x);
    sy_augment_crop_flip(x, B, s, 4, &r, tmp);
    int zeros = 0;
    for (int i = 0; i < B * C * H * W; i++) {
        assert_true(x[i] == 0.0f || (x[i] >= 1.0f && x[i] <= C * H * W));
        zeros += x[i] == 0.0f;
    }
    assert_true(zeros > 0);
}

static void test_simclr(void **state)
{
    enum { C = 3, H = 32, W = 32, B = 8, N = C * H * W };
    sy_shape s = sy_shape_of(3, C, H, W);
    static float src[B * N], v1[B * N], v2[B * N];
    sy_rng g = sy_rng_make(3, SY_STREAM_USER, 0);
    for (int i = 0; i < B * N; i++)
        src[i] = sy_rng_uniform(&g);
    sy_rng r1 = sy_rng_make(9, SY_STREAM_AUGMENT, 0), r2 = r1;
    sy_augment_simclr(src, v1, B, s, &r1);
    sy_augment_simclr(src, v2, B, s, &r2);
    assert_memory_equal(v1, v2, sizeof v1); /* same stream, same views */
    sy_augment_simclr(src, v2, B, s, &r1);
    assert_true(memcmp(v1, v2, sizeof v1) != 0); /* next draws, new views */
    for (int i = 0; i < B * N; i++)
        assert_true(v1[i] >= 0.0f && v1[i] <= 1.0f && isfinite(v1[i]));
    /* A constant-colour image stays constant under crop, flip and grayscale. */
    for (int i = 0; i < N; i++)
        src[i] = 0.5f;
    sy_augment_simclr(src, v1, 1, s, &r1);
    for (int i = 1; i < H * W; i++)
        assert_near(v1[i], v1[0], 1e-5);
    /* Single-channel input is accepted. */
    sy_augment_simclr(src, v1, 3, sy_shape_of(3, 1, H, W), &r1);
}

static void test_normalize_subset_scale(void **state)
{
    sy_dataset *d = toy(50, 5), *s;
    float mean, std;
    sy_dataset_channel_stats(d, &mean, &std);
    assert_int_equal(sy_data_normalize(d->x, d->n, d->sample, &mean, &std), SY_OK);
    sy_dataset_channel_stats(d, &mean, &std);
    assert_near(mean, 0, 1e-5);
    assert_near(std, 1, 1e-4);
    float zero = 0;
    assert_int_equal(sy_data_normalize(d->x, d->n, d->sample, &mean, &zero), SY_ERR_ARG);
    assert_int_equal(sy_dataset_subset(d, 3, 1, &s), SY_OK);
    assert_int_equal(s->n, 15);
    int count[5] = {0};
    for (size_t i = 0; i < s->n; i++)
        count[s->y[i]]++;
    for (int c = 0; c < 5; c++)
        assert_int_equal(count[c], 3);
    assert_memory_equal(s->x, d->x, 4 * sizeof(float)); /* first sample kept first */
    sy_dataset_free(s);
    assert_int_equal(sy_dataset_subset(d, 7, 0, &s), SY_OK);
    assert_int_equal(s->n, 7);
    assert_memory_equal(s->x, d->x, 7 * 4 * sizeof(float));
    sy_data_scale(s->x, 7 * 4, 2.0f);
    assert_near(s->x[5], 2.0 * d->x[5], 1e-6);
    sy_dataset_free(s);
    sy_dataset_free(d);
}

static void test_synthetic(void **state)
{
    enum { D = 50, K = 5, N = 200 };
    float w[D], w2[D], x[N * D], y[N], y2[N];
    assert_int_equal(sy_synth_sparse_teacher(D, K, 11, w), SY_OK);
    int nz = 0;
    for (int i = 0; i < D; i++)
        nz += w[i] != 0.0f;
    assert_int_equal(nz, K);
    assert_int_equal(sy_synth_sparse_teacher(D, K, 11, w2), SY_OK);
    assert_memory_equal(w, w2, sizeof w);
    assert_int_equal(sy_synth_sparse_teacher(D, D + 1, 11, w2), SY_ERR_ARG);
    /* Noise-free labels are exactly w^T x. */
    assert_int_equal(sy_synth_linear(w, D, N, 0.0f, 11, 1, x, y), SY_OK);
    double sx = 0, sxx = 0;
    for (int i = 0; i < N; i++) {
        double dot = 0;
        for (int j = 0; j < D; j++) {
            dot += (double)w[j] * x[i * D + j];
            sx += x[i * D + j];
            sxx += (double)x[i * D + j] * x[i * D + j];
        }
        assert_near(y[i], dot, 1e-4);
    }
    assert_near(sx / (N * D), 0, 0.05);
    assert_near(sxx / (N * D), 1, 0.05);
    /* With noise: the same inputs, labels off by about noise_std. */
    assert_int_equal(sy_synth_linear(w, D, N, 0.5f, 11, 1, x, y2), SY_OK);
    double r2 = 0;
    for (int i = 0; i < N; i++)
        r2 += (double)(y2[i] - y[i]) * (y2[i] - y[i]);
    assert_near(sqrt(r2 / N), 0.5, 0.1);
    assert_int_equal(sy_synth_linear(w, D, N, 0.0f, 11, 0, x, y), SY_ERR_ARG);

    /* Quartic matrices: symmetric; off-diagonal variance 2/d; diagonal variant. */
    enum { Q = 64 };
    static float B[Q * Q];
    assert_int_equal(sy_synth_quartic_matrix(Q, 0, 5, B), SY_OK);
    double ss = 0;
    for (int i = 0; i < Q; i++)
        for (int j = 0; j < Q; j++) {
            assert_true(B[i * Q + j] == B[j * Q + i]);
            if (i != j)
                ss += (double)B[i * Q + j] * B[i * Q + j];
        }
    assert_near(ss / (Q * (Q - 1)), 2.0 / Q, 0.3 * 2.0 / Q);
    assert_int_equal(sy_synth_quartic_matrix(Q, 1, 5, B), SY_OK);
    for (int i = 0; i < Q; i++)
        for (int j = 0; j < Q; j++)
            if (i != j)
                assert_true(B[i * Q + j] == 0.0f);
}

int main(void)
{
    if (sy_env_apply_runtime() != SY_OK) { /* SYRE_DATA, as the command reads it */
        fprintf(stderr, "%s\n", sy_last_error());
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_data_dir),
        cmocka_unit_test(test_mnist),
        cmocka_unit_test(test_load_n),
        cmocka_unit_test(test_fashion_mnist_gz),
        cmocka_unit_test(test_cifar10_imagefolder),
        cmocka_unit_test(test_damaged_idx),
        cmocka_unit_test(test_damaged_gzip),
        cmocka_unit_test(test_damaged_images_and_cifar),
        cmocka_unit_test(test_batcher),
        cmocka_unit_test(test_permutations),
        cmocka_unit_test(test_crop_flip),
        cmocka_unit_test(test_simclr),
        cmocka_unit_test(test_normalize_subset_scale),
        cmocka_unit_test(test_synthetic),
    };
    int failed = cmocka_run_group_tests(tests, setup_all, teardown_all);
    return failed ? failed : cifar_missing ? 77 : 0;
}
