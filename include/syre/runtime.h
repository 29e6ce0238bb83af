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
 * once, when it loads; the `syre` command re-executes itself with it,
 * sy_omp_wait_reexec, unless OMP_WAIT_POLICY or GOMP_SPINCOUNT is set). With a CPU free for each of its
 * `threads` (0 = all cores) besides what else is running now:
 * GOMP_SPINCOUNT=SY_GOMP_SPINCOUNT, a short spin (~0.2 ms) that keeps the
 * threads awake across a training step; on a busy machine
 * OMP_WAIT_POLICY=PASSIVE, since a spinning thread there holds a CPU its
 * partner needs (docs/bench.md, "Threads and small GEMMs"). */
#define SY_GOMP_SPINCOUNT "10000"
const char *sy_omp_wait_env(int threads);
/* Gives this program an OpenMP wait setting the only way libgomp takes one:
 * it puts `setting` ("VAR=VALUE", e.g. sy_omp_wait_env(threads)) in the
 * environment and re-executes the program once (execv of /proc/self/exe
 * with argv), so that libgomp reads it when it loads. libgomp reads
 * OMP_WAIT_POLICY and GOMP_SPINCOUNT only then, in its own initialiser, which
 * runs before any of syre's or the program's code, and has no call to change
 * them afterwards (omp_set_* covers thread counts and schedules, not
 * waiting). Call it first thing in main, before any thread or file is
 * opened. The library reads no environment variable: whether to re-execute
 * is the caller's choice (the `syre` command passes NULL when the user set
 * OMP_WAIT_POLICY or GOMP_SPINCOUNT, or under valgrind: cli/env_options.h,
 * sy_env_omp_wait). Does nothing, and returns 0, for a NULL setting or one
 * without '='. Returns -1 only if execv failed: the program then runs on
 * with libgomp's default (spin ~300000 iterations, a few ms). */
int sy_omp_wait_reexec(const char *setting, char **argv);
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
/* The default: as set (sy_set_default_device, sy_runtime_configure), else "cpu". */
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
 * refused. Process-wide (sy_set_precision or sy_runtime_configure; the
 * `syre` command: `--precision`, else $SYRE_PRECISION), fp32 by default.
 * Fixed once a device graph has been compiled. */
/* The precision of device GEMMs and convolutions, as above. */
typedef enum { SY_PRECISION_FP32 = 0, SY_PRECISION_TF32, SY_PRECISION_BF16 } sy_precision;
/* "fp32", "tf32", "bf16"; SY_ERR_ARG for anything else, SY_ERR_STATE once a
 * device graph was compiled with another precision. */
sy_status sy_set_precision(const char *name);
/* The precision in force; its name as sy_set_precision takes it. */
sy_precision sy_get_precision(void);
const char *sy_precision_name(sy_precision p);

/* ---- Process settings --------------------------------------------------------
 * The library reads no environment variable. A program chooses these once,
 * before its first graph (sy_runtime_opts_default, change fields,
 * sy_runtime_configure); the `syre` command maps its SYRE_* variables onto
 * them (cli/env_options.h, docs/cli.md). The device, CUDA Graphs and
 * prefetch are the defaults of new graphs, each of which keeps its own
 * (sy_graph_opts, syre/graph.h); the precision holds for every device graph.
 * The first four have their own setters too (sy_set_default_device,
 * sy_set_precision, sy_set_cuda_graphs, sy_set_prefetch). */
/* The process settings; each field's default follows its colon. */
typedef struct {
    const char *device;      /* device of graphs made by sy_graph_new: "cpu"; checked when a graph is made */
    sy_precision precision;  /* of device graphs: fp32 */
    int cuda_graphs;         /* record the training step on cuda (syre/train.h): 0 */
    int prefetch;            /* overlap the next batch's fill with a device step (syre/train.h): 1 */
    int cuda_sync;           /* cuda: wait for and check every kernel, naming a failing node: 0 */
    int cudnn;               /* cuda: convolutions through cuDNN where built with it: 1 */
    const char *cuda_module; /* file of the CUDA backend module; NULL: searched (docs/cuda.md) */
    int nccl;                /* the device all-reduce even with one rank (tests NCCL): 0 */
    int own_gemm;            /* CPU: syre's own sgemm (AVX-512 or AVX2, by cpuid) on a CPU with FMA, the same bits
                              * on every such CPU; 0: OpenBLAS (docs/bench.md): 1 */
    const char *cpu_isa;     /* CPU: the highest kernel variant to run, "base", "avx2" or "avx512" (one the CPU
                              * lacks: its best); NULL: the best it has. No effect in a SYRE_NATIVE=ON build */
    const char *data_dir;    /* datasets (sy_data_dir); NULL: the build's data directory */
    const char *omp_wait;    /* how OpenMP threads wait as the process was started ("OMP_WAIT_POLICY=PASSIVE"),
                              * for sy_blas_info: libgomp reads it at load and cannot be asked; NULL: its default */
} sy_runtime_opts;
/* The defaults listed in the struct (NULL strings where none is given). */
sy_runtime_opts sy_runtime_opts_default(void);
/* Apply o (strings are copied). SY_ERR_ARG for a device other than cpu, cuda
 * or sim or a cpu_isa other than base, avx2 or avx512, SY_ERR_STATE for a precision other than that of compiled device
 * graphs; nothing changes then. cuda_sync, cudnn and cuda_module act when the
 * cuda device starts, at its first use. */
sy_status sy_runtime_configure(const sy_runtime_opts *o);
/* The settings in force. */
const sy_runtime_opts *sy_runtime(void);
/* Recording the training step with CUDA Graphs, and prefetching: the
 * defaults for graphs made from now on (sy_graph_opts_default; a graph keeps
 * what it was made with, syre/graph.h, syre/train.h). */
void sy_set_cuda_graphs(int on);
int sy_get_cuda_graphs(void);
void sy_set_prefetch(int on);
int sy_get_prefetch(void);

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
 * This is the process's policy (`--on-nan stop|skip-batch`); a graph
 * (sy_graph_opts.nan_policy) or an optimizer (sy_optim_opts.nan_policy) may
 * set its own, which then wins over it. */
/* A policy as above; SY_NAN_PROCESS (for a graph or an optimizer): follow
 * the process's. */
typedef enum { SY_NAN_PROCESS = -1, SY_NAN_STOP = 0, SY_NAN_SKIP_BATCH } sy_nan_policy;
/* Set and read the process's policy: SY_NAN_STOP (the default) or
 * SY_NAN_SKIP_BATCH; anything else (SY_NAN_PROCESS among them) is refused
 * with SY_ERR_ARG and leaves the policy as it was. */
sy_status sy_set_nan_policy(sy_nan_policy p);
sy_nan_policy sy_get_nan_policy(void);
/* "stop" / "skip-batch" -> *out; SY_ERR_ARG naming the text for anything
 * else (*out untouched). */
sy_status sy_nan_policy_parse(const char *s, sy_nan_policy *out);
/* Batches skipped so far under SY_NAN_SKIP_BATCH (this thread). */
long sy_nan_skipped(void);
/* " (last good checkpoint: PATH, step N)" or " (no checkpoint written yet)":
 * the tail of every numerical-fault message; sy_train_save records it. */
const char *sy_last_checkpoint_note(void);

#ifdef __cplusplus
}
#endif
#endif
