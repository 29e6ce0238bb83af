/* Run-time settings of the CPU backend: thread counts and BLAS identity. */
#ifndef SYRE_RUNTIME_H
#define SYRE_RUNTIME_H

#include "syre/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Threads of the CPU engine: n OpenMP threads, inside which OpenBLAS runs
 * single-threaded on syre's own split of each product (one pool, no two
 * pools spinning against each other). n <= 0 means the number of cores.
 * Results do not depend on n. */
void sy_set_threads(int n);
int sy_get_threads(void);
/* How syre's OpenMP threads should wait between parallel regions, as the
 * VAR=VALUE a launcher puts in a new process's environment (libgomp reads it
 * once, when it loads; the `syre` command re-executes itself with it unless
 * OMP_WAIT_POLICY or GOMP_SPINCOUNT is set). With a CPU free for each of its
 * `threads` (0 = all cores) besides what else is running now:
 * GOMP_SPINCOUNT=SY_GOMP_SPINCOUNT, a short spin (~0.2 ms) that keeps the
 * threads awake across a training step; on a busy machine
 * OMP_WAIT_POLICY=PASSIVE, since a spinning thread there holds a CPU its
 * partner needs (docs/bench.md, "Threads and small GEMMs"). */
#define SY_GOMP_SPINCOUNT "10000"
const char *sy_omp_wait_env(int threads);
/* "OpenBLAS 0.3.21 ... kernel Haswell; 2 OpenMP threads ...": what actually runs. */
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

/* ---- Precision of matmul and convolution on a device (docs/cuda.md) -------
 *   SY_PRECISION_FP32 (default): FP32 everywhere.
 *   SY_PRECISION_TF32: GEMMs and convolutions on TF32 tensor cores (inputs
 *     rounded to 10 mantissa bits, FP32 accumulation and outputs).
 *   SY_PRECISION_BF16: autocast-style bf16: every matmul and convolution
 *     GEMM (forward and both backward products) takes bf16-rounded operands
 *     and accumulates and writes FP32; everything else, the parameters
 *     (master weights) and the optimizer stay FP32.
 * Applies to device graphs only (cuda; sim emulates the rounding exactly
 * with round-to-nearest-even): compiling a CPU graph with tf32 or bf16 is
 * refused. Process-wide; `--precision`, else $SYRE_PRECISION, else
 * SYRE_TF32=1 (older spelling of tf32), else fp32. Fixed once a device graph
 * has been compiled. */
typedef enum { SY_PRECISION_FP32 = 0, SY_PRECISION_TF32, SY_PRECISION_BF16 } sy_precision;
/* "fp32", "tf32", "bf16"; SY_ERR_ARG for anything else, SY_ERR_STATE once a
 * device graph was compiled with another precision. */
sy_status sy_set_precision(const char *name);
sy_precision sy_get_precision(void);
const char *sy_precision_name(sy_precision p);

/* ---- Numerical faults (docs/reliability.md) --------------------------------
 * What training does when the loss, a gradient or a parameter is NaN or Inf.
 * The checks sit in the two places every training step passes through:
 * sy_graph_forward (the loss) and sy_optimizer_step (every gradient before
 * the update, every parameter after it).
 *   SY_NAN_STOP (default): fail with SY_ERR_NUMERIC and a message naming the
 *     step, the tensor and the last good checkpoint; parameters are left as
 *     they were before the faulty update.
 *   SY_NAN_SKIP_BATCH: a non-finite loss or gradient skips that batch's
 *     update (counted, reported on stderr); a parameter that becomes
 *     non-finite from finite gradients still stops, as it cannot be undone.
 * Process-wide, like the thread count; `--on-nan stop|skip-batch`. */
typedef enum { SY_NAN_STOP = 0, SY_NAN_SKIP_BATCH } sy_nan_policy;
void sy_set_nan_policy(sy_nan_policy p);
sy_nan_policy sy_get_nan_policy(void);
/* "stop" / "skip-batch" -> policy; -1 for anything else. */
int sy_nan_policy_parse(const char *s);
/* Batches skipped so far under SY_NAN_SKIP_BATCH (this thread). */
long sy_nan_skipped(void);
/* " (last good checkpoint: PATH, step N)" or " (no checkpoint written yet)":
 * the tail of every numerical-fault message; sy_train_save records it. */
const char *sy_last_checkpoint_note(void);

#ifdef __cplusplus
}
#endif
#endif
