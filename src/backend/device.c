/* The device registry and the process default device, plus "sim": a device
 * whose memory is separate host memory and whose kernels are the CPU ones.
 * sim exists to test, on machines without a GPU, everything of the device
 * path except the CUDA kernels themselves: the arena on the device, inputs
 * uploaded, values and gradients downloaded on demand, parameters and
 * optimizer state kept coherent between host and device. A missing copy
 * shows on sim as a wrong number, exactly as it would on a GPU. */
#define _POSIX_C_SOURCE 200809L
#include "backend/device.h"
#include "syre/runtime.h"
#include "syre/dist.h"
#include "dist/dist_impl.h"
#include "core/numeric.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>



/* ---- sim ------------------------------------------------------------------- */

static void *sim_alloc(sy_device *d, size_t bytes)
{
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p) sy_fail(SY_ERR_NOMEM, "sim device: cannot allocate %zu bytes", bytes);
    return p;
}
static void sim_free(sy_device *d, void *p) { free(p); }
static void sim_upload(sy_device *d, void *dst, const void *src, size_t n) { memmove(dst, src, n); }
static void sim_zero(sy_device *d, void *dst, size_t n) { memset(dst, 0, n); }
static sy_status sim_sync(sy_device *d) { return SY_OK; }
static size_t sim_scratch(sy_graph *g, const sy_node *n) { return n->scratch_n; }
static size_t sim_ws(sy_graph *g, const sy_node *n) { return 0; }
static void sim_optim_range(sy_device *d, const sy_step_scalars *s, const sy_step_ptrs *p, const sy_segment *seg)
{
    if (p->skip && *p->skip != (size_t)-1) return;
    sy_optim_range_host(s, p, seg);
}
static void sim_scan(sy_device *d, const float *x, size_t n, size_t *slot) { *slot = sy_first_nonfinite(x, n); }
static sy_status sim_grad_sq(sy_device *d, const float *g, size_t n, double *out, size_t nb)
{
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b * SY_OPTIM_NORM_BLOCK, hi = lo + SY_OPTIM_NORM_BLOCK < n ? lo + SY_OPTIM_NORM_BLOCK : n;
        double s = 0;
        for (size_t i = lo; i < hi; i++) s += (double)g[i] * g[i];
        out[b] = s;
    }
    return SY_OK;
}
static void sim_wfix(sy_device *d, const sy_step_ptrs *p, const size_t *idx, const float *val, size_t n)
{
    if (p->skip && *p->skip != (size_t)-1) return;
    for (size_t k = 0; k < n; k++) {
        p->p[idx[k]] = val[k];
        if (p->m1) p->m1[idx[k]] = 0.0f;
        if (p->m2) p->m2[idx[k]] = 0.0f;
    }
}
static void sim_set_float(sy_device *d, float *dst, float v) { *dst = v; }

static sy_device sim_device;
static pthread_once_t sim_once = PTHREAD_ONCE_INIT;

static void sim_init(void)
{
    sy_device *d = &sim_device;
    d->name = "sim";
    snprintf(d->info, sizeof d->info, "sim (test device: separate host memory, CPU kernels)");
    d->alloc = sim_alloc;
    d->free = sim_free;
    d->host_alloc = sim_alloc;
    d->host_free = sim_free;
    d->upload = sim_upload;
    d->download = sim_upload;
    d->zero = sim_zero;
    d->sync = sim_sync;
    d->kernels = sy_backend_cpu();
    d->node_scratch = sim_scratch;
    d->shared_workspace = sim_ws;
    d->optim_range = sim_optim_range;
    d->grad_sq_blocks = sim_grad_sq;
    d->wfix = sim_wfix;
    d->set_float = sim_set_float;
    d->scan_nonfinite = sim_scan;
}

#ifndef SYRE_HAVE_CUDA
sy_device *sy_device_cuda(void)
{
    sy_fail(SY_ERR_UNSUPPORTED, "device 'cuda': this syre was built without CUDA (no nvcc or cuBLAS when CMake "
            "configured it, or -DSYRE_CUDA=OFF; install the CUDA toolkit and reconfigure)");
    return NULL;
}
#endif

sy_device *sy_device_get(const char *name)
{
    if (!name) {
        sy_fail(SY_ERR_ARG, "device: NULL name");
        return NULL;
    }
    if (strcmp(name, "cuda") == 0) return sy_device_cuda();
    if (strcmp(name, "sim") == 0) {
        pthread_once(&sim_once, sim_init);
        return &sim_device;
    }
    sy_fail(SY_ERR_ARG, "unknown device '%s' (expected cpu, cuda or sim)", name);
    return NULL;
}

/* ---- Data parallelism on a device ---------------------------------------------- */

static int forced(void)
{
    const char *e = getenv("SYRE_NCCL");
    return e && strcmp(e, "1") == 0;
}

int sy_device_allreduce_wanted(void) { return sy_dist_size() > 1 || forced(); }

/* The staging buffer of the host path (grown as needed, kept for the process). */
static struct {
    sy_device *d;
    float *buf;
    size_t cap;
} stage;

sy_status sy_device_allreduce_mean(sy_device *d, float *buf, size_t n)
{
    if (d->allreduce_mean) return d->allreduce_mean(d, buf, n);
    if (forced() && sy_dist_size() == 1 && strcmp(d->name, "sim") != 0)
        return sy_fail(SY_ERR_UNSUPPORTED, "SYRE_NCCL=1: device '%s' has no NCCL all-reduce in this build (CUDA "
                       "without NCCL: install NCCL and reconfigure)", d->name);
    if (n == 0) return SY_OK;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (stage.cap < n || stage.d != d) {
        if (stage.buf) stage.d->host_free(stage.d, stage.buf);
        stage.buf = d->host_alloc(d, n * sizeof(float));
        stage.cap = stage.buf ? n : 0;
        stage.d = d;
        if (!stage.buf)
            return sy_fail(SY_ERR_NOMEM, "device all-reduce: cannot allocate %zu host floats to stage the gradient",
                           n);
    }
    d->download(d, stage.buf, buf, n * sizeof(float));
    sy_status st = d->sync(d);
    if (st == SY_OK) st = sy_dist_allreduce_mean(stage.buf, n);
    if (st != SY_OK) return st;
    d->upload(d, buf, stage.buf, n * sizeof(float)); /* stream order: done before the next download */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    sy_dist_note_device(n, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), 0);
    return SY_OK;
}

/* ---- The process default ---------------------------------------------------- */

static char default_device[16];

const char *sy_default_device(void)
{
    if (default_device[0]) return default_device;
    const char *e = getenv("SYRE_DEVICE");
    return e && *e ? e : "cpu";
}

sy_status sy_device_check(const char *name)
{
    if (!name) return sy_fail(SY_ERR_ARG, "device: NULL name");
    if (strcmp(name, "cpu") == 0) return SY_OK;
    sy_device *d = sy_device_get(name);
    if (!d) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", sy_last_error());
        return sy_fail(strcmp(name, "cuda") == 0 ? SY_ERR_UNSUPPORTED : SY_ERR_ARG, "%s", msg);
    }
    return SY_OK;
}

sy_status sy_set_default_device(const char *name)
{
    sy_status st = sy_device_check(name);
    if (st) return st;
    snprintf(default_device, sizeof default_device, "%s", name);
    return SY_OK;
}

const char *sy_device_info(const char *name)
{
    if (!name || strcmp(name, "cpu") == 0) return sy_blas_info();
    sy_device *d = sy_device_get(name);
    return d ? d->info : "unavailable";
}
