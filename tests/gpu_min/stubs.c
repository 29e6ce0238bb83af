/* What scripts/gpu-min-build.sh leaves out (OpenBLAS/OpenMP CPU kernels,
 * thread control): the "cpu" backend is then the reference kernels, which
 * is what test_cuda compares against anyway. */
#include "backend/cpu/cpu_kernels.h"
#include "syre/data.h"
#include "syre/runtime.h"

void sy_cpu_register_fast(sy_backend *be) { (void)be; }
void sy_set_threads(int n) { (void)n; }
void sy_cpu_threads_init(void) {} /* src/backend/cpu/threads.c (OpenBLAS) */
int sy_get_threads(void) { return 1; }
const char *sy_blas_info(void) { return "none (gpu-min build: CPU side uses the reference kernels)"; }
/* The reference convolution needs no scratch (src/ops/conv.c). */
size_t sy_cpu_conv2d_scratch(int N, int C, int H, int W, int O, int KH, int KW, int HO, int WO, int S, int P)
{
    (void)N, (void)C, (void)H, (void)W, (void)O, (void)KH, (void)KW, (void)HO, (void)WO, (void)S, (void)P;
    return 0;
}
/* src/data/dataset.c (with its loaders) is left out; the batcher needs this. */
size_t sy_dataset_numel(const sy_dataset *d) { return sy_shape_numel(d->sample); }
