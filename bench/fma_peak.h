/* The core's own fp32 FMA peak, measured in the benchmark's run: for each
 * vector ISA the CPU has (AVX-512, AVX2), T threads each run 16 independent
 * chains of vector FMAs (enough to cover the FMA latency times the FMA
 * ports on every current x86-64 core) for about 0.2 s. GFLOP/s counts two
 * operations per lane. It is the reference for "close to the limit": a
 * share of it does not depend on which kernel OpenBLAS happens to run. */
#ifndef SYRE_BENCH_FMA_PEAK_H
#define SYRE_BENCH_FMA_PEAK_H

#include <immintrin.h>
#include <omp.h>

#include "bench_clock.h"

enum { FMA_ISA_AVX2, FMA_ISA_AVX512, FMA_NISA };
static const char *const fma_isa_name[FMA_NISA] = {"AVX2", "AVX-512"};

#define FMA_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15)

__attribute__((target("avx512f"))) static float fma_chains_avx512(long iters)
{
    const __m512 m = _mm512_set1_ps(0.999999f), c = _mm512_set1_ps(1e-6f);
#define DECL(i) __m512 a##i = _mm512_set1_ps(1.0f + (i) * 1e-3f);
#define STEP(i) a##i = _mm512_fmadd_ps(a##i, m, c);
#define SUM(i) s = _mm512_add_ps(s, a##i);
    FMA_CHAINS(DECL)
    for (long k = 0; k < iters; k++) { FMA_CHAINS(STEP) }
    __m512 s = _mm512_setzero_ps();
    FMA_CHAINS(SUM)
    return _mm512_reduce_add_ps(s);
}

__attribute__((target("avx2,fma"))) static float fma_chains_avx2(long iters)
{
    const __m256 m = _mm256_set1_ps(0.999999f), c = _mm256_set1_ps(1e-6f);
#undef DECL
#undef STEP
#undef SUM
#define DECL(i) __m256 a##i = _mm256_set1_ps(1.0f + (i) * 1e-3f);
#define STEP(i) a##i = _mm256_fmadd_ps(a##i, m, c);
#define SUM(i) s = _mm256_add_ps(s, a##i);
    FMA_CHAINS(DECL)
    for (long k = 0; k < iters; k++) { FMA_CHAINS(STEP) }
    __m256 s = _mm256_setzero_ps();
    FMA_CHAINS(SUM)
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[1] + out[2] + out[3] + out[4] + out[5] + out[6] + out[7];
#undef DECL
#undef STEP
#undef SUM
}

static int fma_isa_present(int isa)
{
    __builtin_cpu_init();
    return isa == FMA_ISA_AVX512 ? __builtin_cpu_supports("avx512f")
                                 : __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
}

/* GFLOP/s of T threads running the ISA's chains at once (NAN if the CPU
 * lacks it): the best of 3 timings of ~0.2 s each, by the clock given
 * (wall clock, or process CPU time, which other load on a shared machine
 * does not inflate at 1 thread). */
static double fma_peak_gflops_by(int isa, int threads, double (*clk)(void))
{
    if (!fma_isa_present(isa)) return NAN;
    const int lanes = isa == FMA_ISA_AVX512 ? 16 : 8;
    long iters = 1 << 20;
    volatile float sink = 0;
    double best = 0;
    for (int rep = 0; rep < 4; rep++) {
        double t0 = clk();
#pragma omp parallel num_threads(threads)
        {
            float r = isa == FMA_ISA_AVX512 ? fma_chains_avx512(iters) : fma_chains_avx2(iters);
#pragma omp atomic
            sink += r;
        }
        double dt = clk() - t0;
        if (rep == 0) { /* calibrate: about 0.2 s per timing */
            iters = (long)(iters * 0.2 / (dt > 1e-6 ? dt : 1e-6));
            if (iters < 1000) iters = 1000;
            continue;
        }
        double g = 2.0 * lanes * 16 * (double)iters * threads / dt / 1e9;
        if (g > best) best = g;
    }
    (void)sink;
    return best;
}

/* The same by the wall clock. */
__attribute__((unused)) static double fma_peak_gflops(int isa, int threads) { return fma_peak_gflops_by(isa, threads, now); }

#endif
