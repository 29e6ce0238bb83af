/* Internal thread settings of the CPU backend (threads.c). */
#ifndef SYRE_CPU_THREADS_H
#define SYRE_CPU_THREADS_H

#include <stddef.h>

/* OpenBLAS single-threaded (syre splits products itself); called once when
 * the CPU backend's tables are built, and by sy_set_threads. */
void sy_cpu_threads_init(void);
/* Around a few large BLAS/LAPACK calls made outside syre's parallel regions
 * (spectra): let OpenBLAS use sy_get_threads() threads, then back to one. */
void sy_blas_threads_begin(void);
void sy_blas_threads_end(void);

/* Scratch of the calling thread: slot's buffer of at least `floats` floats,
 * 64-byte aligned, grown (contents lost) when asked for more, and freed when
 * the thread ends (an OpenMP team that shrinks ends threads, so a buffer held
 * only by a _Thread_local pointer would leak). NULL when out of memory. */
enum { SY_SCRATCH_GEMM_A, SY_SCRATCH_GEMM_B, SY_SCRATCH_CONV, SY_SCRATCH_SLOTS };
float *sy_thread_scratch(int slot, size_t floats);

#endif
