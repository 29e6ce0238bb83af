/* The few cmocka macros tests/test_cuda.c and tests/test_device_sim.c use,
 * for scripts/gpu-min-build.sh: a build of the device tests on a GPU
 * machine that has the CUDA toolkit and a C compiler but not the project's
 * other build dependencies (cmocka, cairo, OpenBLAS, ...). Not cmocka. */
#ifndef SYRE_GPU_MIN_CMOCKA_H
#define SYRE_GPU_MIN_CMOCKA_H
#include <setjmp.h>
#include <stdio.h>
#include <string.h>

static jmp_buf cm_jmp;
static int cm_failed;
#define fail_msg(...)                                                        \
    do {                                                                     \
        printf("[  ERROR   ] " __VA_ARGS__);                                 \
        printf("\n[   LINE   ] --- %s:%d: Failure!\n", __FILE__, __LINE__); \
        longjmp(cm_jmp, 1);                                                  \
    } while (0)
#define assert_true(c)                                    \
    do {                                                  \
        if (!(c)) fail_msg("--- %s", #c);                 \
    } while (0)
#define assert_false(c) assert_true(!(c))
#define assert_int_equal(a, b)                                                              \
    do {                                                                                    \
        long long a_ = (long long)(a), b_ = (long long)(b);                                 \
        if (a_ != b_) fail_msg("--- %lld != %lld (%s vs %s)", a_, b_, #a, #b);              \
    } while (0)
#define assert_non_null(p) assert_true((p) != NULL)
#define assert_string_equal(a, b) assert_true(strcmp((a), (b)) == 0)
#define assert_memory_equal(a, b, n) assert_true(memcmp((a), (b), (n)) == 0)

struct CMUnitTest {
    const char *name;
    void (*fn)(void **);
};
#define cmocka_unit_test(f) {#f, f}
static int cmocka_run_group_tests(const struct CMUnitTest *t, size_t n_bytes, void *a, void *b)
{
    (void)a, (void)b;
    size_t n = n_bytes / sizeof *t;
    int failed = 0;
    printf("[==========] Running %zu test(s).\n", n);
    for (size_t i = 0; i < n; i++) {
        printf("[ RUN      ] %s\n", t[i].name);
        fflush(stdout);
        if (setjmp(cm_jmp) == 0) {
            t[i].fn(NULL);
            printf("[       OK ] %s\n", t[i].name);
        } else {
            printf("[  FAILED  ] %s\n", t[i].name);
            failed++;
        }
    }
    printf("[==========] %zu test(s) run.\n[  PASSED  ] %zu test(s).\n", n, n - failed);
    if (failed) printf("[  FAILED  ] %d test(s)\n", failed);
    (void)cm_failed;
    return failed;
}
#define cmocka_run_group_tests(t, a, b) cmocka_run_group_tests((t), sizeof(t), (a), (b))
#endif
