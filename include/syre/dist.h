/* Data-parallel training over MPI (docs/distributed.md).
 *
 * One process per rank, each holding the whole model. Under `mpirun -np N`:
 *   - each rank takes its contiguous shard of every global batch
 *     (sy_batcher_next; the global order is still the pure function of
 *     (seed, epoch), so shards never overlap and cover the batch);
 *   - sy_optimizer_step first replaces the flat gradient buffer by its mean
 *     over ranks (MPI_Allreduce, in place, in buckets of at most
 *     SY_DIST_BUCKET floats), so every rank applies the same update to the
 *     same parameters. Each rank's loss is a mean over its shard, so with
 *     equal shards the mean of the ranks' gradients is the gradient of the
 *     global batch's mean loss;
 *   - run records, checkpoints and plots are written by rank 0 only
 *     (sy_write_file_atomic, sy_run_*, sy_train_save, sy_plot_save) and only
 *     rank 0 shows progress;
 *   - syre's anchors, init and W-fix come from named streams keyed by the
 *     seed, so they are identical on every rank without communication.
 * Batch norm normalises with each rank's own shard statistics, as PyTorch's
 * DistributedDataParallel does without SyncBatchNorm, unless the graph asks
 * for the global batch's (sy_graph_set_sync_bn, syre/graph.h).
 *
 * libsyre itself links no MPI: the messages go through the mpi component
 * (libsyre_mpi, syre/mpi.h), which a program links and switches on with
 * sy_dist_use_mpi() before sy_dist_init. Without it, or not launched by an
 * MPI launcher, this is one rank: size 1, rank 0, every call below a no-op,
 * and nothing changes. */
#ifndef SYRE_DIST_H
#define SYRE_DIST_H

#include <stddef.h>

#include "syre/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Largest allreduce message, in floats (64 MiB): bounds MPI's int counts and
 * lets a large model's gradient go in a few buckets. */
#define SY_DIST_BUCKET ((size_t)1 << 24)

/* 1 if this program uses MPI: it called sy_dist_use_mpi() (syre/mpi.h). */
int sy_dist_have_mpi(void);
/* What the launcher said, which the library does not read itself: the
 * program passes it from the launcher's environment (the `syre` command:
 * cli/env_options.h reads Open MPI's, MPICH/Hydra's, MVAPICH's and Slurm's
 * variables, and SYRE_DIST). */
typedef struct {
    int launched_size; /* ranks the launcher started; 0 when not launched by one */
    int local_rank;    /* this process's index on its machine per the launcher; -1 unknown */
    int force;         /* start MPI even for one rank */
} sy_dist_opts;
/* {0, -1, 0}: a single process. */
sy_dist_opts sy_dist_opts_default(void);

/* Start MPI when launched with more than one rank (or forced); otherwise
 * stay a single rank. NULL: sy_dist_opts_default(). Fails with
 * SY_ERR_UNSUPPORTED when launched with several ranks by a program without
 * MPI (every process would think it is alone and write the same files).
 * Calling it again is a no-op. */
sy_status sy_dist_init(const sy_dist_opts *opts);
/* MPI_Finalize if sy_dist_init started MPI. */
void sy_dist_finalize(void);
/* End every rank of the job now (MPI_Abort), e.g. when one rank failed
 * while others wait in a collective; exit(code) when not distributed. */
void sy_dist_abort(int code) __attribute__((noreturn));

int sy_dist_rank(void);        /* 0 .. size-1 */
int sy_dist_size(void);        /* ranks in the job; 1 when not distributed */
int sy_dist_is_root(void);     /* rank 0: the one that writes and prints */
int sy_dist_local_size(void);  /* ranks on this machine */
/* This rank's index among the ranks on its machine (0 when not distributed;
 * otherwise the launcher's word given to sy_dist_init): picks its GPU. */
int sy_dist_local_rank(void);
/* "single process", or e.g. "MPI (Open MPI v4.1.4), 2 ranks". */
const char *sy_dist_info(void);
/* Threads a rank should use when the user left --threads at 0: the CPUs it
 * is bound to, divided among the ranks of this machine when it is unbound. */
int sy_dist_default_threads(void);

/* The local share of a global batch of `global` samples: count global/N.
 * Fails with SY_ERR_ARG, naming both numbers, when N does not divide it
 * (unequal shards would weigh samples unequally in the averaged gradient). */
sy_status sy_dist_local_batch(size_t global, size_t *local);
/* This rank's contiguous slice [begin, begin + count) of `global` items:
 * begin = r*global/N, count = (r+1)*global/N - begin. */
void sy_dist_shard(size_t global, size_t *begin, size_t *count);

/* In place over all ranks: buf <- (sum over ranks of buf) / N. */
sy_status sy_dist_allreduce_mean(float *buf, size_t n);
/* In place over all ranks: buf <- sum over ranks of buf (floats; in buckets
 * of SY_DIST_BUCKET; not counted in sy_dist_get_stats). */
sy_status sy_dist_sum_float(float *buf, size_t n);
/* In place over all ranks: v <- sum over ranks of v (doubles). */
sy_status sy_dist_sum(double *v, size_t n);
/* The mean over ranks of one number (e.g. a shard's loss). */
double sy_dist_mean(double x);
/* Rank 0's bytes to every rank. */
sy_status sy_dist_bcast(void *buf, size_t bytes);
/* Wait until every rank has called it. */
sy_status sy_dist_barrier(void);
/* 1 on every rank if n floats are bitwise the same on every rank, else 0
 * (compares against rank 0's copy; a check for tests and debugging). */
int sy_dist_identical(const float *buf, size_t n);

/* ---- A local scope: single-process work inside a distributed job ----------
 * Between sy_dist_local_enter and sy_dist_local_leave this process is a world
 * of its own: rank 0 of 1, so the collectives above are no-ops (no gradient
 * exchange), batchers hand it whole batches and graphs take the whole batch,
 * and it writes records as rank 0 does (the caller points them somewhere of
 * its own). Its place on the machine stays the job's (sy_dist_local_rank,
 * sy_dist_local_size: its GPU, its threads), and sy_dist_abort still ends
 * every rank. Scopes nest; sy_dist_finalize ends them. The sweep runner
 * enters one around each point it trains (sy_sweep, syre/experiment.h). */
/* Enter a local scope (as above). */
void sy_dist_local_enter(void);
/* Leave it: the job's world again once the outermost scope is left; without one, a no-op. */
void sy_dist_local_leave(void);
/* 1 inside a local scope. */
int sy_dist_in_local(void);
/* The job's rank and rank count, inside a local scope or not. */
int sy_dist_job_rank(void);
int sy_dist_job_size(void);

/* Gradient traffic so far: allreduce calls, floats reduced, seconds spent. */
typedef struct {
    long calls;        /* gradient allreduces over ranks (MPI or NCCL) */
    double floats;     /* floats averaged over ranks, summed over those calls */
    double seconds;    /* wall-clock seconds in them (NCCL: only the time to enqueue) */
    long device_calls; /* of which on device memory (NCCL, or staged through the host) */
} sy_dist_stats;
/* This process's totals since it started (never reset). */
sy_dist_stats sy_dist_get_stats(void);

/* ---- GPUs: NCCL (docs/distributed.md, "GPUs") ------------------------------
 * With --device cuda the gradient lives on the GPU. The optimizer step
 * averages it there: with NCCL (built when CMake finds nccl.h and libnccl
 * next to CUDA) one communicator per process, made at the first device step
 * (rank 0's ncclUniqueId broadcast over MPI, ncclCommInitRank on the GPU
 * picked by the local rank) and destroyed by sy_dist_finalize; then
 * ncclAllReduce(ncclAvg) in place on the backend's stream. Devices without
 * it (the 'sim' test device; CUDA built without NCCL) copy the gradient to
 * the host, MPI_Allreduce it and copy it back.
 * The nccl setting (sy_runtime_opts; the command: SYRE_NCCL=1) takes this
 * device path even with one rank (a one-rank NCCL
 * communicator), so it runs on a single GPU. */

/* In place over all ranks, on the device: device_buf <- mean over ranks,
 * n floats, ordered on `stream` (a cudaStream_t). SY_ERR_UNSUPPORTED in a
 * build without NCCL. */
sy_status sy_dist_allreduce_mean_device(void *device_buf, size_t n, void *stream);
/* 1 if this build has NCCL. */
int sy_dist_nccl_compiled(void);
/* "NCCL 2.28.9, rank 0 of 2, GPU 0" once the communicator exists, else NULL. */
const char *sy_dist_nccl_info(void);

#ifdef __cplusplus
}
#endif
#endif
