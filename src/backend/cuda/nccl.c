/* The device all-reduce of data parallelism with NCCL (include/syre/dist.h,
 * docs/distributed.md "GPUs"): one communicator per process, made at the
 * first device step (rank 0's ncclUniqueId broadcast over MPI), the GPU the
 * CUDA backend chose by local rank, ncclAllReduce(ncclAvg) in place on the
 * backend's stream, ncclCommDestroy in sy_dist_finalize. Part of the CUDA
 * module; sy_dist_allreduce_mean_device (src/backend/device.c) forwards
 * here once the module is loaded. */
#ifdef SYRE_HAVE_NCCL
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <cuda_runtime.h>
#include <nccl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend/cuda_module.h"
#include "dist/dist_impl.h"
#include "syre/dist.h"

#if NCCL_VERSION_CODE < NCCL_VERSION(2, 10, 0)
#error "syre needs NCCL 2.10 or newer (ncclAvg)"
#endif
/* ncclGetLastError came with NCCL 2.13: older ones give the status only. */
#if NCCL_VERSION_CODE >= NCCL_VERSION(2, 13, 0)
#define NCCL_LAST(comm) ncclGetLastError(comm)
#else
#define NCCL_LAST(comm) ""
#endif

static ncclComm_t comm;
static int have_comm;
static char info[160];

const char *syc_nccl_info(void) { return have_comm ? info : NULL; }

static void nccl_finalize(void)
{
    if (!have_comm) return;
    ncclResult_t r = ncclCommDestroy(comm);
    if (r != ncclSuccess) fprintf(stderr, "syre: NCCL: ncclCommDestroy failed: %s\n", ncclGetErrorString(r));
    have_comm = 0;
}

/* A communicator's asynchronous error (a peer died, a network fault): 0 if
 * none, else the communicator is aborted (so the stream's wait ends) and
 * the reason is in msg. Without it a wait for an all-reduce whose peer is
 * gone never returns. */
int syc_nccl_poll(char *msg, size_t cap)
{
    if (!have_comm) return 0;
    ncclResult_t async = ncclSuccess;
    ncclResult_t r = ncclCommGetAsyncError(comm, &async);
    if (r == ncclSuccess && async == ncclSuccess) return 0;
    snprintf(msg, cap, "NCCL: %s: %s%s%s", r != ncclSuccess ? "ncclCommGetAsyncError failed" : "asynchronous error",
             ncclGetErrorString(r != ncclSuccess ? r : async), *NCCL_LAST(comm) ? ": " : "", NCCL_LAST(comm));
    ncclResult_t ab = ncclCommAbort(comm);
    if (ab != ncclSuccess) fprintf(stderr, "syre: NCCL: ncclCommAbort failed: %s\n", ncclGetErrorString(ab));
    have_comm = 0;
    return 1;
}

static sy_status nccl_start(void)
{
    int rank = sy_dist_rank(), size = sy_dist_size(), gpu = -1;
    cudaError_t ce = cudaGetDevice(&gpu);
    if (ce != cudaSuccess) return sy_fail(SY_ERR_STATE, "NCCL: cudaGetDevice failed: %s", cudaGetErrorString(ce));
    /* Rank 0's id, and whether it got one, to every rank (no-op on one rank). */
    struct {
        ncclUniqueId id;
        int ok;
        ncclResult_t why;
    } msg;
    memset(&msg, 0, sizeof msg);
    if (rank == 0) {
        msg.why = ncclGetUniqueId(&msg.id);
        msg.ok = msg.why == ncclSuccess;
    }
    sy_status st = sy_dist_bcast(&msg, sizeof msg);
    if (st != SY_OK) return st;
    if (!msg.ok)
        return sy_fail(SY_ERR_STATE, "NCCL: ncclGetUniqueId on rank 0 failed: %s", ncclGetErrorString(msg.why));
    ncclResult_t r = ncclCommInitRank(&comm, size, msg.id, rank);
    if (r != ncclSuccess)
        return sy_fail(SY_ERR_STATE,
                       "NCCL: ncclCommInitRank (rank %d of %d, GPU %d) failed: %s%s%s", rank, size, gpu,
                       ncclGetErrorString(r), *NCCL_LAST(NULL) ? ": " : "", NCCL_LAST(NULL));
    have_comm = 1;
    sy_dist_at_finalize(nccl_finalize);
    int v = 0;
    if (ncclGetVersion(&v) != ncclSuccess) v = 0;
    int major = v >= 10000 ? v / 10000 : v / 1000, minor = v >= 10000 ? v / 100 % 100 : v / 100 % 10;
    snprintf(info, sizeof info, "NCCL %d.%d.%d, rank %d of %d, GPU %d", major, minor, v % 100, rank, size, gpu);
    return SY_OK;
}

sy_status syc_nccl_allreduce_mean(void *device_buf, size_t n, void *stream)
{
    sy_status st;
    if (!have_comm && (st = nccl_start()) != SY_OK) return st;
    if (n == 0) return SY_OK;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ncclResult_t r = ncclAllReduce(device_buf, device_buf, n, ncclFloat32, ncclAvg, comm, (cudaStream_t)stream);
    if (r != ncclSuccess)
        return sy_fail(SY_ERR_STATE, "NCCL: ncclAllReduce of %zu gradient floats failed: %s%s%s", n,
                       ncclGetErrorString(r), *NCCL_LAST(comm) ? ": " : "", NCCL_LAST(comm));
    clock_gettime(CLOCK_MONOTONIC, &t1);
    /* The time to enqueue: the reduction itself runs on the stream. */
    sy_dist_note_device(n, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), 1);
    return SY_OK;
}
#else
typedef int sy_nccl_unused; /* ISO C: no empty translation unit */
#endif
