/* The CPU backends. "cpu-ref" is every op's plain reference kernel (the
 * oracle); "cpu" starts from it and replaces the kernels that matter for speed
 * with OpenBLAS and OpenMP versions (backend/cpu/kernels_*.c). */
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/threads.h"

#include <pthread.h>

static sy_backend ref_backend, fast_backend;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void build_tables(void)
{
    ref_backend.name = "cpu-ref";
#define SY_OP_REF(E, nm, a)                                   \
    ref_backend.forward[SY_OP_##E] = sy_ref_fwd_##nm;         \
    ref_backend.backward[SY_OP_##E] = sy_ref_bwd_##nm;
    SY_OP_LIST(SY_OP_REF)
#undef SY_OP_REF
    fast_backend = ref_backend;
    fast_backend.name = "cpu";
    sy_cpu_register_fast(&fast_backend);
    sy_cpu_threads_init();
}

const sy_backend *sy_backend_cpu_ref(void)
{
    pthread_once(&once, build_tables);
    return &ref_backend;
}

const sy_backend *sy_backend_cpu(void)
{
    pthread_once(&once, build_tables);
    return &fast_backend;
}
