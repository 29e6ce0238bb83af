/* safetensors data_offsets at the edge of the data section: a tensor that
 * ends on its last byte is read, one that ends a float past it is refused
 * (two tensors, so the section has no gap and only the bound catches it).
 * The damaged-file cases in general are in test_io.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/core.h"
#include "syre/format.h"

static char path[256];

/* 8-byte little-endian header length, the header, 8 bytes of data. */
static void write_st(const char *header)
{
    unsigned char buf[512];
    size_t hn = strlen(header);
    assert_true(8 + hn + 8 <= sizeof buf);
    for (int b = 0; b < 8; b++) buf[b] = (unsigned char)((uint64_t)hn >> (8 * b));
    memcpy(buf + 8, header, hn);
    const float d[2] = {1, 2};
    memcpy(buf + 8 + hn, d, 8);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(buf, 1, 8 + hn + 8, f), 8 + hn + 8);
    assert_int_equal(fclose(f), 0);
}

static void test_end_of_data_section(void **state)
{
    (void)state;
    snprintf(path, sizeof path, "%s/test_st_bounds.safetensors", SYRE_BINARY_DIR);
    sy_safetensors *st = NULL;
    write_st("{\"a\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [0, 4]},"
             " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [4, 8]}}");
    assert_int_equal(sy_safetensors_read(path, &st), SY_OK);
    sy_safetensors_free(st);
    st = NULL;
    write_st("{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
             " \"b\": {\"dtype\": \"F32\", \"shape\": [1], \"data_offsets\": [8, 12]}}");
    assert_int_not_equal(sy_safetensors_read(path, &st), SY_OK);
    assert_null(st);
    if (!strstr(sy_last_error(), "outside the data section")) fail_msg("message: %s", sy_last_error());
    remove(path);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_end_of_data_section)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
