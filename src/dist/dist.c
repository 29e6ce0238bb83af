/* Data parallelism over MPI (include/syre/dist.h): process-wide state (rank,
 * size), the gradient allreduce, and the few collectives the run record and
 * tests need. Compiled with or without MPI (SYRE_HAVE_MPI); without it, or
 * when not launched by mpirun, every call is the one-rank no-op. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "syre/dist.h"
#include "dist/dist_impl.h"
#include "backend/cuda_module.h"

#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifdef SYRE_HAVE_MPI
#include <mpi.h>
#endif

static struct {
    int started;      /* sy_dist_init ran */
    int own_mpi;      /* we called MPI_Init (so we finalize) */
    int active;       /* MPI in use with size > 1 */
    int rank, size, local_size, local_rank;
    int launcher_local_rank; /* the launcher's word before MPI runs (sy_dist_opts), -1 unknown */
    char info[160];
    sy_dist_stats stats;
    void (*at_finalize)(void); /* the NCCL communicator's destructor */
} D = {0, 0, 0, 0, 1, 1, 0, -1, "single process", {0, 0, 0, 0}, NULL};

#ifdef SYRE_HAVE_MPI
static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
#endif

int sy_dist_compiled(void)
{
#ifdef SYRE_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

sy_dist_opts sy_dist_opts_default(void) { return (sy_dist_opts){.launched_size = 0, .local_rank = -1, .force = 0}; }

sy_status sy_dist_init(const sy_dist_opts *opts)
{
    if (D.started) return SY_OK;
    sy_dist_opts o = opts ? *opts : sy_dist_opts_default();
    int launched = o.launched_size;
    int want = launched > 1 || o.force;
    D.launcher_local_rank = o.local_rank;
#ifdef SYRE_HAVE_MPI
    if (want) {
        int inited = 0;
        MPI_Initialized(&inited);
        if (!inited) {
            int provided = 0;
            /* Only the main thread calls MPI; OpenMP threads never do. */
            if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
                return sy_fail(SY_ERR_STATE, "MPI_Init failed (launched as one of %d ranks)", launched);
            D.own_mpi = 1;
        }
        MPI_Comm_rank(MPI_COMM_WORLD, &D.rank);
        MPI_Comm_size(MPI_COMM_WORLD, &D.size);
        MPI_Comm local;
        if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
            MPI_Comm_size(local, &D.local_size);
            MPI_Comm_rank(local, &D.local_rank);
            MPI_Comm_free(&local);
        } else {
            D.local_size = 1;
        }
        D.active = D.size > 1;
        char lib[MPI_MAX_LIBRARY_VERSION_STRING];
        int len = 0;
        MPI_Get_library_version(lib, &len);
        lib[strcspn(lib, ",\n")] = '\0';
        snprintf(D.info, sizeof D.info, "MPI (%.80s), %d rank%s, %d on this machine", lib, D.size,
                 D.size == 1 ? "" : "s", D.local_size);
    }
#else
    if (launched > 1)
        return sy_fail(SY_ERR_UNSUPPORTED,
                       "launched as one of %d ranks, but this syre was built without MPI: install an MPI "
                       "(Debian: libopenmpi-dev openmpi-bin) and rebuild, or run it as a single process",
                       launched);
    if (want) fprintf(stderr, "syre: starting MPI was asked for (SYRE_DIST=1), but this build has no MPI\n");
#endif
    D.started = 1;
    return SY_OK;
}

void sy_dist_at_finalize(void (*fn)(void)) { D.at_finalize = fn; }

void sy_dist_note_device(size_t n, double seconds, int count_total)
{
    D.stats.device_calls++;
    if (!count_total) return;
    D.stats.calls++;
    D.stats.floats += (double)n;
    D.stats.seconds += seconds;
}

void sy_dist_finalize(void)
{
    if (D.at_finalize) { /* before MPI goes: NCCL may use it */
        D.at_finalize();
        D.at_finalize = NULL;
    }
#ifdef SYRE_HAVE_MPI
    if (D.own_mpi) {
        int fin = 0;
        MPI_Finalized(&fin);
        if (!fin) MPI_Finalize();
    }
#endif
    D.own_mpi = 0;
    D.active = 0;
    D.started = 0;
    D.rank = D.local_rank = 0;
    D.size = D.local_size = 1;
}

void sy_dist_abort(int code)
{
    fflush(stdout);
    fflush(stderr);
#ifdef SYRE_HAVE_MPI
    if (D.active) MPI_Abort(MPI_COMM_WORLD, code);
#endif
    exit(code);
}

int sy_dist_rank(void) { return D.rank; }
int sy_dist_size(void) { return D.size; }
int sy_dist_is_root(void) { return D.rank == 0; }
int sy_dist_local_size(void) { return D.local_size; }

int sy_dist_local_rank(void)
{
    if (D.active) return D.local_rank;
    return D.launcher_local_rank >= 0 ? D.launcher_local_rank : 0;
}
const char *sy_dist_info(void) { return D.info; }

int sy_dist_default_threads(void)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int cpus = (int)(online > 0 ? online : 1);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
        int bound = CPU_COUNT(&set);
        if (bound < cpus) return bound; /* the launcher bound us: use what we were given */
    }
    int n = cpus / (D.local_size > 0 ? D.local_size : 1);
    return n > 0 ? n : 1;
}

sy_status sy_dist_local_batch(size_t global, size_t *local)
{
    size_t n = (size_t)D.size;
    if (global % n != 0)
        return sy_fail(SY_ERR_ARG,
                       "batch %zu does not split evenly over %zu ranks: use a multiple of %zu (each rank takes "
                       "batch/%zu samples of every global batch)",
                       global, n, n, n);
    *local = global / n;
    return SY_OK;
}

void sy_dist_shard(size_t global, size_t *begin, size_t *count)
{
    size_t r = (size_t)D.rank, n = (size_t)D.size;
    size_t lo = r * global / n, hi = (r + 1) * global / n;
    *begin = lo;
    *count = hi - lo;
}

sy_status sy_dist_allreduce_mean(float *buf, size_t n)
{
    if (!D.active || n == 0) return SY_OK;
#ifdef SYRE_HAVE_MPI
    double t0 = now();
    for (size_t off = 0; off < n; off += SY_DIST_BUCKET) {
        size_t cnt = n - off < SY_DIST_BUCKET ? n - off : SY_DIST_BUCKET;
        if (MPI_Allreduce(MPI_IN_PLACE, buf + off, (int)cnt, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
            return sy_fail(SY_ERR_STATE, "MPI_Allreduce of %zu gradient floats failed", cnt);
    }
    const float inv = 1.0f / (float)D.size;
    for (size_t i = 0; i < n; i++) buf[i] *= inv;
    D.stats.calls++;
    D.stats.floats += (double)n;
    D.stats.seconds += now() - t0;
    return SY_OK;
#else
    (void)buf;
    return SY_OK;
#endif
}

sy_status sy_dist_sum(double *v, size_t n)
{
    if (!D.active || n == 0) return SY_OK;
#ifdef SYRE_HAVE_MPI
    if (n > (size_t)0x7fffffff) return sy_fail(SY_ERR_ARG, "sy_dist_sum: %zu values is too many", n);
    if (MPI_Allreduce(MPI_IN_PLACE, v, (int)n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
        return sy_fail(SY_ERR_STATE, "MPI_Allreduce of %zu doubles failed", n);
#else
    (void)v;
#endif
    return SY_OK;
}

double sy_dist_mean(double x)
{
    if (!D.active) return x;
    if (sy_dist_sum(&x, 1) != SY_OK) return x;
    return x / (double)D.size;
}

sy_status sy_dist_bcast(void *buf, size_t bytes)
{
    if (!D.active || bytes == 0) return SY_OK;
#ifdef SYRE_HAVE_MPI
    unsigned char *p = buf;
    for (size_t off = 0; off < bytes; off += (size_t)1 << 30) {
        size_t cnt = bytes - off < ((size_t)1 << 30) ? bytes - off : ((size_t)1 << 30);
        if (MPI_Bcast(p + off, (int)cnt, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
            return sy_fail(SY_ERR_STATE, "MPI_Bcast of %zu bytes failed", cnt);
    }
#else
    (void)buf;
#endif
    return SY_OK;
}

sy_status sy_dist_barrier(void)
{
#ifdef SYRE_HAVE_MPI
    if (D.active && MPI_Barrier(MPI_COMM_WORLD) != MPI_SUCCESS) return sy_fail(SY_ERR_STATE, "MPI_Barrier failed");
#endif
    return SY_OK;
}

int sy_dist_identical(const float *buf, size_t n)
{
    if (!D.active) return 1;
    float *root = malloc((n ? n : 1) * sizeof *root);
    double same = 1;
    if (!root) same = 0;
    else memcpy(root, buf, n * sizeof *root);
    /* Every rank must take part in the broadcast, even one out of memory. */
    double ok = root ? 1 : 0;
    sy_dist_sum(&ok, 1);
    if (ok == (double)D.size) {
        sy_dist_bcast(root, n * sizeof *root);
        same = memcmp(root, buf, n * sizeof *root) == 0;
    } else {
        same = 0;
    }
    free(root);
    sy_dist_sum(&same, 1);
    return same == (double)D.size;
}

sy_dist_stats sy_dist_get_stats(void) { return D.stats; }

/* NCCL lives in the CUDA backend module (src/backend/cuda/nccl.c). */
int sy_dist_nccl_compiled(void)
{
#ifdef SYRE_HAVE_NCCL
    return 1;
#else
    return 0;
#endif
}

const char *sy_dist_nccl_info(void)
{
    const sy_cuda_module *m = sy_cuda_module_loaded();
    return m && m->nccl_info ? m->nccl_info() : NULL;
}

sy_status sy_dist_allreduce_mean_device(void *device_buf, size_t n, void *stream)
{
    if (!sy_dist_nccl_compiled())
        return sy_fail(SY_ERR_UNSUPPORTED,
                       "device all-reduce: this syre was built without NCCL (CMake found no CUDA toolkit with "
                       "nccl.h and libnccl; see docs/distributed.md)");
    const sy_cuda_module *m = sy_cuda_module_get();
    if (!m) return SY_ERR_UNSUPPORTED;
    if (!m->allreduce_mean_device)
        return sy_fail(SY_ERR_UNSUPPORTED, "device all-reduce: the loaded CUDA backend module has no NCCL");
    return m->allreduce_mean_device(device_buf, n, stream);
}
