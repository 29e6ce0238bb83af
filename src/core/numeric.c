/* Numerical-fault policy and its bookkeeping: the process-wide choice
 * between stopping and skipping a batch, the count of skipped batches, the
 * last good checkpoint (for messages), and the scan that finds the first
 * non-finite float. The checks themselves live in sy_graph_forward and
 * sy_optimizer_step (src/optim/step.c). */
#include "syre/core.h"
#include "syre/runtime.h"
#include "core/numeric.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static sy_nan_policy policy = SY_NAN_STOP;
static _Thread_local long skipped;
static _Thread_local char last_ckpt[1200];

sy_status sy_set_nan_policy(sy_nan_policy p)
{
    if (p != SY_NAN_STOP && p != SY_NAN_SKIP_BATCH)
        return sy_fail(SY_ERR_ARG, "NaN policy %d: the process's policy is SY_NAN_STOP or SY_NAN_SKIP_BATCH "
                       "(SY_NAN_PROCESS is for a graph or an optimizer)", (int)p);
    policy = p;
    return SY_OK;
}

sy_nan_policy sy_get_nan_policy(void) { return policy; }

sy_status sy_nan_policy_parse(const char *s, sy_nan_policy *out)
{
    if (!strcmp(s, "stop")) *out = SY_NAN_STOP;
    else if (!strcmp(s, "skip-batch")) *out = SY_NAN_SKIP_BATCH;
    else return sy_fail(SY_ERR_ARG, "NaN policy '%s': expected 'stop' or 'skip-batch'", s);
    return SY_OK;
}

long sy_nan_skipped(void) { return skipped; }
void sy_nan_note_skip(void) { skipped++; }

void sy_note_checkpoint(const char *path, long step)
{
    snprintf(last_ckpt, sizeof last_ckpt, " (last good checkpoint: %s, optimizer step %ld)", path, step);
}

const char *sy_last_checkpoint_note(void)
{
    return last_ckpt[0] ? last_ckpt : " (no checkpoint written yet)";
}

/* The largest bit pattern of |x[i]| (sign cleared), 0 for n = 0: above
 * 0x7f7fffff (FLT_MAX) exactly when some x[i] is Inf or NaN (exponent bits
 * all ones). A max reduction over integers: two vector instructions per 8
 * floats. Plain x86-64 (SSE2) has no unsigned 32-bit max, so a portable
 * build compiles the loop for AVX-512 and AVX2 too and picks by cpuid
 * (integers only: every form gives the same result). Explicit functions,
 * not target_clones: clang's clones are not reachable from other files. */
static inline __attribute__((always_inline)) uint32_t max_abs_bits(const float *x, size_t n)
{
    uint32_t top = 0;
#pragma GCC unroll 4
    for (size_t i = 0; i < n; i++) {
        uint32_t u;
        memcpy(&u, &x[i], sizeof u);
        u &= 0x7fffffffu;
        top = u > top ? u : top;
    }
    return top;
}

#if defined(SY_ISA_MULTI) && (defined(__x86_64__) || defined(__i386__))
__attribute__((target("avx512f"))) static uint32_t max_abs_bits_avx512(const float *x, size_t n)
{
    return max_abs_bits(x, n);
}
__attribute__((target("avx2"))) static uint32_t max_abs_bits_avx2(const float *x, size_t n)
{
    return max_abs_bits(x, n);
}
#endif

uint32_t sy_max_abs_bits(const float *x, size_t n)
{
#if defined(SY_ISA_MULTI) && (defined(__x86_64__) || defined(__i386__))
    if (__builtin_cpu_supports("avx512f")) return max_abs_bits_avx512(x, n);
    if (__builtin_cpu_supports("avx2")) return max_abs_bits_avx2(x, n);
#endif
    return max_abs_bits(x, n);
}

/* By blocks; the exact index is looked for only in a block that has one. */
size_t sy_first_nonfinite(const float *x, size_t n)
{
    const size_t B = 4096;
    for (size_t lo = 0; lo < n; lo += B) {
        size_t hi = lo + B < n ? lo + B : n;
        if (sy_max_abs_bits(x + lo, hi - lo) > 0x7f7fffffu)
            for (size_t i = lo; i < hi; i++) {
                uint32_t u;
                memcpy(&u, &x[i], sizeof u);
                if ((u & 0x7f800000u) == 0x7f800000u) return i;
            }
    }
    return (size_t)-1;
}

/* Memory the kernel can still give without swapping: MemAvailable from
 * /proc/meminfo (Linux), else the physical RAM. Refusing above it, rather
 * than relying on allocation failure, matters: with overcommit a too-large
 * calloc succeeds and the OOM killer ends the run when pages are touched. */
double sy_mem_available(double *total)
{
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    *total = pages > 0 && psize > 0 ? (double)pages * psize : 0;
    double avail = *total;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) {
                avail = (double)kb * 1024;
                break;
            }
        fclose(f);
    }
    return avail;
}

