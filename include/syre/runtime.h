/* Run-time settings of the CPU backend: thread counts and BLAS identity. */
#ifndef SYRE_RUNTIME_H
#define SYRE_RUNTIME_H

#ifdef __cplusplus
extern "C" {
#endif

/* Set both OpenMP's and OpenBLAS's thread counts (they must agree, or the two
 * pools oversubscribe the cores). n <= 0 means the number of cores. */
void sy_set_threads(int n);
int sy_get_threads(void);
/* "OpenBLAS 0.3.21 ... kernel Haswell, 2 threads": what actually runs. */
const char *sy_blas_info(void);

#ifdef __cplusplus
}
#endif
#endif
