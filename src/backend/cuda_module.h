/* The seam between the core and the CUDA backend module, libsyre_cuda.so
 * (src/backend/cuda/). The module is loaded with dlopen by sy_device_cuda()
 * the first time a program asks for the cuda device, so a CPU-only process
 * never maps cudart, cuBLAS, cuDNN or NCCL (their loading alone costs about
 * 215 MiB of resident memory per process).
 *
 * The module links to nothing of the core: the core hands it the few core
 * functions it calls (src/backend/cuda/core_link.c forwards to them), and
 * both sides compare the sizes of the structures they share, so a module
 * left over from another build is refused instead of misreading memory.
 * Not a public interface. */
#ifndef SYRE_CUDA_MODULE_H
#define SYRE_CUDA_MODULE_H

#include "backend/device.h"
#include "syre/runtime.h"

/* Raise when a function pointer is added, removed or changes meaning. */
#define SY_CUDA_MODULE_ABI 5
/* The module's file name, and the one symbol it exports. */
#define SY_CUDA_MODULE_FILE "libsyre_cuda.so"
#define SY_CUDA_MODULE_ENTRY "sy_cuda_module_open"

/* What the core gives the module. */
typedef struct {
    int abi;
    size_t size_device, size_exec, size_node, size_step_scalars;
    sy_status (*fail)(sy_status code, const char *fmt, ...);
    uint64_t (*rng_key)(uint64_t seed, uint32_t stream);
    size_t (*shape_numel)(sy_shape s);
    sy_precision (*get_precision)(void);
    const sy_runtime_opts *(*runtime)(void);
    int (*dist_rank)(void);
    int (*dist_size)(void);
    int (*dist_local_rank)(void);
    sy_status (*dist_bcast)(void *buf, size_t bytes);
    void (*dist_at_finalize)(void (*fn)(void));
    void (*dist_note_device)(size_t n, double seconds, int count_total);
} sy_core_api;

/* What the module gives back. */
typedef struct {
    int abi;
    /* The CUDA device, initialised on first call; NULL with the reason. */
    sy_device *(*device)(void);
    /* NCCL (NULL when the module was built without it): buf <- its mean over
     * ranks, in place on `stream`; a description of the communicator or NULL
     * before the first all-reduce. */
    sy_status (*allreduce_mean_device)(void *buf, size_t n, void *stream);
    const char *(*nccl_info)(void);
} sy_cuda_module;

/* The module's entry point: NULL (with sy_fail through core->fail) when the
 * core's ABI or structure sizes differ from the module's. */
typedef const sy_cuda_module *(*sy_cuda_module_open_fn)(const sy_core_api *core);

/* Inside the module (hidden there): the functions core_link.c hands back. */
sy_device *syc_device(void);                                          /* cuda_backend.c */
sy_status syc_nccl_allreduce_mean(void *buf, size_t n, void *stream); /* nccl.c */
const char *syc_nccl_info(void);                                      /* nccl.c */
int syc_nccl_poll(char *msg, size_t cap);                             /* nccl.c */

/* In the core (backend/device.c): the module, loaded on first call; NULL
 * with the reason (built without CUDA, file not found, libraries missing,
 * another build's module). */
const sy_cuda_module *sy_cuda_module_get(void);
/* The module if something has loaded it already, else NULL (never loads). */
const sy_cuda_module *sy_cuda_module_loaded(void);

#endif
