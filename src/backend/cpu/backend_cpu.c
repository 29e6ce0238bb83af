/* The CPU backends. "cpu-ref" is every op's plain reference kernel (the
 * oracle); "cpu" starts from it and replaces the kernels that matter for speed
 * with OpenBLAS and OpenMP versions (backend/cpu/kernels_*.c). */
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/threads.h"

#include <pthread.h>

static sy_backend ref_backend, fast_backend;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* The fast convolution's scratch (direct kernel or batched im2col). */
static size_t fast_node_scratch(sy_exec *ex, const sy_node *n)
{
    if (n->op != SY_OP_CONV2D) return n->scratch_n;
    const sy_shape x = sy_in(ex, n, 0)->shape, w = sy_in(ex, n, 1)->shape;
    return sy_cpu_conv2d_scratch(x.dim[0], x.dim[1], x.dim[2], x.dim[3], w.dim[0], w.dim[2], w.dim[3],
                                 n->shape.dim[2], n->shape.dim[3], n->iattr[0], n->iattr[1]);
}

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
    fast_backend.node_scratch = fast_node_scratch;
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
