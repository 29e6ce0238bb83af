#define _GNU_SOURCE
/* Reliability regressions: inputs the fuzzers found, each turned into a test
 * of the message a user gets (the raw inputs are also replayed under the
 * sanitizers by test_fuzz_<target>, see tests/fuzz_replay.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syre/syre.h"

static char tmp[256];

static int setup(void **state)
{
    snprintf(tmp, sizeof tmp, "/tmp/syre-rel-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* Bytes of a regression input (skipping `skip` leading harness bytes). */
static unsigned char *read_input(const char *target, const char *name, size_t skip, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fuzz-regress/%s/%s", SYRE_SOURCE_DIR, target, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    assert_true((size_t)len >= skip);
    memmove(b, b + skip, (size_t)len - skip);
    *n = (size_t)len - skip;
    return b;
}

static void write_file(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* One image file in <tmp>/img/c0/, loaded as an image folder. */
static sy_status load_one_image(const char *fname, const void *b, size_t n, sy_dataset **d)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/img", tmp);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/img/c0", tmp);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/img/c0/%s", tmp, fname);
    write_file(path, b, n);
    sy_status s = sy_imagefolder_load(dir, 3, 0, "t", d);
    unlink(path);
    return s;
}

/* fuzz_image: a JPEG whose Huffman table declares more than 256 codes made
 * stb_image 2.27 write past its table (undefined behaviour); refused now. */
static void test_jpeg_huffman_table_overflow(void **state)
{
    size_t n;
    unsigned char *b = read_input("image", "jpeg-dht-counts-over-256", 1, &n);
    sy_dataset *d = NULL;
    assert_int_equal(load_one_image("a.jpg", b, n, &d), SY_ERR_FORMAT);
    assert_null(d);
    assert_non_null(strstr(sy_last_error(), "Huffman table"));
    assert_non_null(strstr(sy_last_error(), "a.jpg"));
    free(b);
}

/* fuzz_image: the same overflow from a Huffman table cut off by the end of
 * the file (stb reads zeros past the end, the counts already overflow). */
static void test_jpeg_truncated_huffman_table(void **state)
{
    size_t n;
    unsigned char *b = read_input("image", "jpeg-dht-truncated-segment", 1, &n);
    sy_dataset *d = NULL;
    assert_int_equal(load_one_image("b.jpg", b, n, &d), SY_ERR_FORMAT);
    assert_non_null(strstr(sy_last_error(), "Huffman table"));
    free(b);
}

/* Only PNG and JPEG reach the decoder, whatever the file is called. */
static void test_image_signature_checked(void **state)
{
    const char gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    sy_dataset *d = NULL;
    assert_int_equal(load_one_image("c.png", gif, sizeof gif - 1, &d), SY_ERR_FORMAT);
    assert_non_null(strstr(sy_last_error(), "not a PNG or JPEG"));
}

/* An IDX header may claim up to 2^28 images of 4096 x 4096: the reader must
 * not allocate what the header says before the data is there (a 2^52-byte
 * request failed as "out of memory", and under the fuzzer's allocator it
 * was a crash); it reports the file as truncated. */
static void test_idx_huge_header_is_truncation(void **state)
{
    unsigned char lab[8 + 4] = {0, 0, 8, 1, 0x10, 0, 0, 0, 1, 2, 3, 4};
    unsigned char img[16 + 8] = {0, 0, 8, 3, 0x10, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 9, 9, 9, 9, 9, 9, 9, 9};
    char lp[512], ip[512];
    snprintf(lp, sizeof lp, "%s/l.idx", tmp);
    snprintf(ip, sizeof ip, "%s/i.idx", tmp);
    write_file(lp, lab, sizeof lab);
    write_file(ip, img, sizeof img);
    sy_dataset *d = NULL;
    assert_int_equal(sy_idx_load(ip, lp, "t", &d), SY_ERR_FORMAT);
    assert_null(d);
    assert_non_null(strstr(sy_last_error(), "truncated"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jpeg_huffman_table_overflow),
        cmocka_unit_test(test_jpeg_truncated_huffman_table),
        cmocka_unit_test(test_image_signature_checked),
        cmocka_unit_test(test_idx_huge_header_is_truncation),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
