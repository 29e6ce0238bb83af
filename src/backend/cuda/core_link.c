/* The module's side of the seam (src/backend/cuda_module.h): its one
 * exported function, and the core functions the backend calls, forwarded to
 * the core that loaded it. The module is compiled with hidden visibility, so
 * these definitions bind inside the module only; the process's own core
 * (static or shared) keeps its state (the thread's last error, the MPI
 * layer) in one place. */
#define _POSIX_C_SOURCE 200809L
#include "backend/cuda_module.h"
#include "dist/dist_impl.h"
#include "syre/dist.h"

#include <stdarg.h>
#include <stdio.h>

static const sy_core_api *core;

sy_status sy_fail(sy_status code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return core->fail(code, "%s", msg);
}

uint64_t sy_rng_key(uint64_t seed, uint32_t stream) { return core->rng_key(seed, stream); }
size_t sy_shape_numel(sy_shape s) { return core->shape_numel(s); }
sy_precision sy_get_precision(void) { return core->get_precision(); }
const sy_runtime_opts *sy_runtime(void) { return core->runtime(); }
int sy_dist_rank(void) { return core->dist_rank(); }
int sy_dist_size(void) { return core->dist_size(); }
int sy_dist_local_rank(void) { return core->dist_local_rank(); }
sy_status sy_dist_bcast(void *buf, size_t bytes) { return core->dist_bcast(buf, bytes); }
void sy_dist_at_finalize(void (*fn)(void)) { core->dist_at_finalize(fn); }
void sy_dist_note_device(size_t n, double seconds, int count_total) { core->dist_note_device(n, seconds, count_total); }

static const sy_cuda_module module = {
    .abi = SY_CUDA_MODULE_ABI,
    .device = syc_device,
#ifdef SYRE_HAVE_NCCL
    .allreduce_mean_device = syc_nccl_allreduce_mean,
    .nccl_info = syc_nccl_info,
#endif
};

__attribute__((visibility("default"))) const sy_cuda_module *sy_cuda_module_open(const sy_core_api *c)
{
    if (!c || c->abi != SY_CUDA_MODULE_ABI) return NULL; /* cannot even report: the core says why */
    core = c;
    if (c->size_device != sizeof(sy_device) || c->size_exec != sizeof(sy_exec) ||
        c->size_node != sizeof(sy_node) || c->size_step_scalars != sizeof(sy_step_scalars)) {
        sy_fail(SY_ERR_STATE,
                "the CUDA backend module does not match this program's syre (structure sizes differ: device "
                "%zu/%zu, exec %zu/%zu, node %zu/%zu); rebuild both from one source tree",
                c->size_device, sizeof(sy_device), c->size_exec, sizeof(sy_exec), c->size_node, sizeof(sy_node));
        return NULL;
    }
    return &module;
}
