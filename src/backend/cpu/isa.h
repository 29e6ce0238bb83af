/* Run-time choice of instruction set for the CPU kernels.
 *
 * The portable build (the default, SYRE_NATIVE=OFF) compiles the files whose
 * speed or rounding depends on the instruction set (kernels_conv.c,
 * kernels_math.c, kernels_simple.c, optim_update.c) three times: for plain
 * x86-64, for x86-64-v3 (AVX2 + FMA) and for x86-64-v4 (AVX-512). The
 * variants' public functions get a suffix (SY_ISA_FN), and the plain
 * compilation's functions start by handing over to the best variant the CPU
 * runs (SY_ISA_DISPATCH). A -DSYRE_NATIVE=ON build compiles each file once
 * for the building machine and has no variants.
 *
 * The same bits on every variant that has FMA: a*b+c is fused wherever the
 * source allows it (-ffp-contract=fast on the kernel files) on AVX2 and on
 * AVX-512 alike, nothing is reassociated, and the variants differ only in
 * vector width and register tiling, never in the order of an element's sum.
 * The plain x86-64 variant (a CPU without FMA) rounds a*b+c twice: the
 * results are as good but not bit-identical to the others. */
#ifndef SYRE_CPU_ISA_H
#define SYRE_CPU_ISA_H

enum { SY_ISA_BASE, SY_ISA_AVX2, SY_ISA_AVX512, SY_ISA_N };

/* The variant the dispatched kernels run: the best this CPU and build have,
 * lowered by the runtime option cpu_isa (syre/runtime.h; the command maps
 * SYRE_CPU_ISA onto it), read when first asked and again after each
 * sy_runtime_configure; in a build with one variant (SYRE_NATIVE=ON) a cap
 * is ignored with a warning on stderr. */
int sy_cpu_isa(void);
/* The best variant this CPU and build run, whatever the cap says. */
int sy_cpu_isa_best(void);
/* Tests: run variant isa from now on (-1: back to sy_cpu_isa's choice, the
 * cap read again).
 * Returns -1, changing nothing, for one this CPU or build lacks. Not
 * thread-safe: set it while no graph runs. */
int sy_cpu_isa_force(int isa);
/* "base", "avx2" or "avx512". */
const char *sy_cpu_isa_name(int isa);
/* The variant named "base", "avx2" or "avx512"; -1 for anything else (NULL too). */
int sy_cpu_isa_parse(const char *name);

#define SY_ISA_CAT2(f, s) f##_##s
#define SY_ISA_CAT(f, s) SY_ISA_CAT2(f, s)
#ifdef SY_ISA_VARIANT
/* A variant's compilation (SY_ISA_VARIANT is avx2 or avx512): f_avx2 ... */
#define SY_ISA_FN(f) SY_ISA_CAT(f, SY_ISA_VARIANT)
#else
#define SY_ISA_FN(f) f
#endif

#if defined(SY_ISA_MULTI) && !defined(SY_ISA_VARIANT)
/* Declares the variants of f, with parameters P (in parentheses). */
#define SY_ISA_DECLARE(ret, f, P) ret f##_avx2 P; ret f##_avx512 P;
/* In the plain compilation of a multi-ISA build: return what the best
 * variant returns for the arguments A (in parentheses). */
#define SY_ISA_DISPATCH(f, A)                                  \
    do {                                                       \
        int isa_ = sy_cpu_isa();                               \
        if (isa_ == SY_ISA_AVX512) return f##_avx512 A;        \
        if (isa_ == SY_ISA_AVX2) return f##_avx2 A;            \
    } while (0)
/* The same for a function returning void. */
#define SY_ISA_DISPATCH_VOID(f, A)                             \
    do {                                                       \
        int isa_ = sy_cpu_isa();                               \
        if (isa_ == SY_ISA_AVX512) { f##_avx512 A; return; }   \
        if (isa_ == SY_ISA_AVX2) { f##_avx2 A; return; }       \
    } while (0)
#else
#define SY_ISA_DECLARE(ret, f, P)
#define SY_ISA_DISPATCH(f, A) ((void)0)
#define SY_ISA_DISPATCH_VOID(f, A) ((void)0)
#endif

#endif
