/* Internal thread settings of the CPU backend (threads.c). */
#ifndef SYRE_CPU_THREADS_H
#define SYRE_CPU_THREADS_H

/* OpenBLAS single-threaded (syre splits products itself); called once when
 * the CPU backend's tables are built, and by sy_set_threads. */
void sy_cpu_threads_init(void);
/* Around a few large BLAS/LAPACK calls made outside syre's parallel regions
 * (spectra): let OpenBLAS use sy_get_threads() threads, then back to one. */
void sy_blas_threads_begin(void);
void sy_blas_threads_end(void);

#endif
