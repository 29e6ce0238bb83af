/* Data parallelism (include/syre/dist.h): process-wide state (rank, size),
 * the gradient allreduce, and the few collectives the run record and tests
 * need. The messages go through a transport (dist_impl.h) that the MPI
 * component registers (sy_dist_use_mpi, src/mpi/mpi.c); without one, or when
 * not launched by mpirun, every call is the one-rank no-op. */
#define _GNU_SOURCE /* sched_getaffinity, CPU_COUNT */
#include "syre/dist.h"
#include "dist/dist_impl.h"

#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const sy_dist_world one_rank = {0, 1, 1, 0, "single process"};

static struct {
    int started;      /* sy_dist_init ran */
    int joined;       /* the transport's init ran (so its finalize runs) */
    int active;       /* a transport in use with size > 1 */
    int launcher_local_rank; /* the launcher's word before MPI runs (sy_dist_opts), -1 unknown */
    int local;        /* local scopes entered and not left */
    int job_active;   /* in a local scope: `active` outside it */
    sy_dist_world w;  /* in a local scope: rank 0 of 1 */
    sy_dist_world job; /* in a local scope: the world outside it */
    sy_dist_stats stats;
    void (*at_finalize)(void); /* the NCCL communicator's destructor */
} D = {0, 0, 0, -1, 0, 0, {0, 1, 1, 0, "single process"}, {0, 1, 1, 0, "single process"}, {0, 0, 0, 0}, NULL};

static const sy_dist_transport *transport; /* NULL: one rank */

void sy_dist_set_transport(const sy_dist_transport *t) { transport = t; }

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int sy_dist_have_mpi(void) { return transport != NULL; }

sy_dist_opts sy_dist_opts_default(void) { return (sy_dist_opts){.launched_size = 0, .local_rank = -1, .force = 0}; }

sy_status sy_dist_init(const sy_dist_opts *opts)
{
    if (D.started) return SY_OK;
    sy_dist_opts o = opts ? *opts : sy_dist_opts_default();
    int launched = o.launched_size;
    int want = launched > 1 || o.force;
    D.launcher_local_rank = o.local_rank;
    if (want && transport) {
        sy_status s = transport->init(launched, &D.w);
        if (s != SY_OK) return s;
        D.joined = 1;
        D.active = D.w.size > 1;
    } else if (launched > 1) {
        return sy_fail(SY_ERR_UNSUPPORTED,
                       "launched as one of %d ranks, but this program has no MPI: build syre with an MPI (Debian: "
                       "libopenmpi-dev openmpi-bin), link its mpi component and call sy_dist_use_mpi() before "
                       "sy_dist_init, or run it as a single process",
                       launched);
    } else if (want) {
        fprintf(stderr, "syre: starting MPI was asked for (SYRE_DIST=1), but this program has no MPI\n");
    }
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
    while (D.local) sy_dist_local_leave();
    if (D.at_finalize) { /* before MPI goes: NCCL may use it */
        D.at_finalize();
        D.at_finalize = NULL;
    }
    if (D.joined) transport->finalize();
    D.joined = 0;
    D.active = 0;
    D.started = 0;
    D.w = one_rank;
}

void sy_dist_abort(int code)
{
    fflush(stdout);
    fflush(stderr);
    if (D.local ? D.job_active : D.active) transport->abort(code);
    exit(code);
}

int sy_dist_rank(void) { return D.w.rank; }
int sy_dist_size(void) { return D.w.size; }
int sy_dist_is_root(void) { return D.w.rank == 0; }
int sy_dist_local_size(void) { return D.w.local_size; }

int sy_dist_local_rank(void)
{
    if (D.local ? D.job_active : D.active) return D.w.local_rank;
    return D.launcher_local_rank >= 0 ? D.launcher_local_rank : 0;
}
const char *sy_dist_info(void) { return D.w.info; }

void sy_dist_local_enter(void)
{
    if (D.local++) return;
    D.job = D.w;
    D.job_active = D.active;
    D.active = 0; /* no collective leaves this process */
    D.w.rank = 0, D.w.size = 1;
    snprintf(D.w.info, sizeof D.w.info, "single process (rank %d of %d on its own)", D.job.rank, D.job.size);
}

void sy_dist_local_leave(void)
{
    if (D.local == 0 || --D.local) return;
    D.w = D.job;
    D.active = D.job_active;
}

int sy_dist_in_local(void) { return D.local > 0; }
int sy_dist_job_rank(void) { return D.local ? D.job.rank : D.w.rank; }
int sy_dist_job_size(void) { return D.local ? D.job.size : D.w.size; }

int sy_dist_default_threads(void)
{
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    int cpus = (int)(online > 0 ? online : 1);
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) > 0) {
        int bound = CPU_COUNT(&set);
        if (bound < cpus) return bound; /* the launcher bound us: use what we were given */
    }
    int n = cpus / (D.w.local_size > 0 ? D.w.local_size : 1);
    return n > 0 ? n : 1;
}

sy_status sy_dist_local_batch(size_t global, size_t *local)
{
    size_t n = (size_t)D.w.size;
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
    size_t r = (size_t)D.w.rank, n = (size_t)D.w.size;
    size_t lo = r * global / n, hi = (r + 1) * global / n;
    *begin = lo;
    *count = hi - lo;
}

sy_status sy_dist_allreduce_mean(float *buf, size_t n)
{
    if (!D.active || n == 0) return SY_OK;
    double t0 = now();
    for (size_t off = 0; off < n; off += SY_DIST_BUCKET) {
        size_t cnt = n - off < SY_DIST_BUCKET ? n - off : SY_DIST_BUCKET;
        sy_status s = transport->sum_float(buf + off, (int)cnt);
        if (s != SY_OK) return s;
    }
    const float inv = 1.0f / (float)D.w.size;
    for (size_t i = 0; i < n; i++) buf[i] *= inv;
    D.stats.calls++;
    D.stats.floats += (double)n;
    D.stats.seconds += now() - t0;
    return SY_OK;
}

sy_status sy_dist_sum_float(float *buf, size_t n)
{
    if (!D.active || n == 0) return SY_OK;
    for (size_t off = 0; off < n; off += SY_DIST_BUCKET) {
        size_t cnt = n - off < SY_DIST_BUCKET ? n - off : SY_DIST_BUCKET;
        sy_status s = transport->sum_float(buf + off, (int)cnt);
        if (s != SY_OK) return s;
    }
    return SY_OK;
}

sy_status sy_dist_sum(double *v, size_t n)
{
    if (!D.active || n == 0) return SY_OK;
    if (n > (size_t)INT_MAX) return sy_fail(SY_ERR_ARG, "sy_dist_sum: %zu values is too many", n);
    return transport->sum_double(v, (int)n);
}

double sy_dist_mean(double x)
{
    if (!D.active) return x;
    if (sy_dist_sum(&x, 1) != SY_OK) return x;
    return x / (double)D.w.size;
}

sy_status sy_dist_bcast(void *buf, size_t bytes)
{
    if (!D.active || bytes == 0) return SY_OK;
    unsigned char *p = buf;
    for (size_t off = 0; off < bytes; off += (size_t)1 << 30) {
        size_t cnt = bytes - off < ((size_t)1 << 30) ? bytes - off : ((size_t)1 << 30);
        sy_status s = transport->bcast(p + off, (int)cnt);
        if (s != SY_OK) return s;
    }
    return SY_OK;
}

sy_status sy_dist_barrier(void)
{
    return D.active ? transport->barrier() : SY_OK;
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
    if (ok == (double)D.w.size) {
        sy_dist_bcast(root, n * sizeof *root);
        same = memcmp(root, buf, n * sizeof *root) == 0;
    } else {
        same = 0;
    }
    free(root);
    sy_dist_sum(&same, 1);
    return same == (double)D.w.size;
}

sy_dist_stats sy_dist_get_stats(void) { return D.stats; }
