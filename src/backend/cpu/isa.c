/* Which variant of the CPU kernels runs (backend/cpu/isa.h). */
#include "backend/cpu/isa.h"
#include "syre/runtime.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

static const char *const names[SY_ISA_N] = {"base", "avx2", "avx512"};

const char *sy_cpu_isa_name(int isa) { return isa >= 0 && isa < SY_ISA_N ? names[isa] : "?"; }

/* A multi-ISA build asks the CPU (cpuid, through libgcc, which also checks
 * that the OS saves the vector registers); a single-ISA build has the one
 * variant it was compiled for. */
static int detect(void)
{
#if defined(SY_ISA_MULTI)
    __builtin_cpu_init();
    int v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && __builtin_cpu_supports("bmi") &&
             __builtin_cpu_supports("bmi2");
    int v4 = v3 && __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
             __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
             __builtin_cpu_supports("avx512cd");
    return v4 ? SY_ISA_AVX512 : v3 ? SY_ISA_AVX2 : SY_ISA_BASE;
#elif defined(__AVX512F__)
    return SY_ISA_AVX512;
#elif defined(__AVX2__) && defined(__FMA__)
    return SY_ISA_AVX2;
#else
    return SY_ISA_BASE;
#endif
}

/* Atomic: kernels on OpenMP threads ask; racing first calls store the same value. */
static _Atomic int best = -1, chosen = -1;

int sy_cpu_isa_best(void)
{
    int b = atomic_load_explicit(&best, memory_order_relaxed);
    if (b < 0) atomic_store_explicit(&best, b = detect(), memory_order_relaxed);
    return b;
}

int sy_cpu_isa_parse(const char *name)
{
    for (int i = 0; name && i < SY_ISA_N; i++)
        if (strcmp(name, names[i]) == 0) return i;
    return -1;
}

/* The best variant, lowered by the runtime option cpu_isa. */
static int from_opts(void)
{
    int b = sy_cpu_isa_best();
    const char *v = sy_runtime()->cpu_isa;
    if (!v || !*v) return b;
#if !defined(SY_ISA_MULTI)
    fprintf(stderr, "syre: CPU variant cap '%s' ignored: this build has one variant (%s; SYRE_NATIVE=ON)\n", v, names[b]);
    return b;
#else
    int i = sy_cpu_isa_parse(v); /* checked by sy_runtime_configure */
    return i >= 0 && i < b ? i : b;
#endif
}

int sy_cpu_isa(void)
{
    int c = atomic_load_explicit(&chosen, memory_order_relaxed);
    if (c < 0) atomic_store_explicit(&chosen, c = from_opts(), memory_order_relaxed);
    return c;
}

int sy_cpu_isa_force(int isa)
{
    if (isa < 0) {
        atomic_store_explicit(&chosen, from_opts(), memory_order_relaxed);
        return 0;
    }
#if defined(SY_ISA_MULTI)
    if (isa >= SY_ISA_N || isa > sy_cpu_isa_best()) return -1;
#else
    if (isa != sy_cpu_isa_best()) return -1;
#endif
    atomic_store_explicit(&chosen, isa, memory_order_relaxed);
    return 0;
}
