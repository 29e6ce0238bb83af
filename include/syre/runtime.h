/* Run-time settings of the CPU backend: thread counts and BLAS identity. */
#ifndef SYRE_RUNTIME_H
#define SYRE_RUNTIME_H

#include "syre/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Set both OpenMP's and OpenBLAS's thread counts (they must agree, or the two
 * pools oversubscribe the cores). n <= 0 means the number of cores. */
void sy_set_threads(int n);
int sy_get_threads(void);
/* "OpenBLAS 0.3.21 ... kernel Haswell, 2 threads": what actually runs. */
const char *sy_blas_info(void);

/* Devices. "cpu" (the default), "cuda" (an NVIDIA GPU: arena, parameters
 * and optimizer state live on it; needs a build with CUDA and a GPU), "sim"
 * (a test device: separate memory and the CPU kernels, so the host/device
 * copies are exercised without a GPU). */
/* SY_OK if the device can be used; otherwise a status with a message that
 * says why (e.g. "no CUDA device found", "built without CUDA"). */
sy_status sy_device_check(const char *name);
/* Device of graphs created from now on (sy_graph_new); checked first. */
sy_status sy_set_default_device(const char *name);
/* The default: as set, else $SYRE_DEVICE, else "cpu". */
const char *sy_default_device(void);
/* One line on what runs: GPU model and libraries, or the BLAS for "cpu". */
const char *sy_device_info(const char *name);

#ifdef __cplusplus
}
#endif
#endif
