/* Thread counts. syre runs one thread pool: OpenMP's. OpenBLAS is kept
 * single-threaded and is called from inside syre's own OpenMP regions, each
 * thread on its slice of a product (kernels_blas.c), so the two libraries'
 * pools never spin against each other on the same cores, and work too small
 * to share stays on the calling thread. Only code outside the training loop
 * that makes a few large LAPACK/BLAS calls (spectra) borrows OpenBLAS's own
 * threads for their duration (sy_blas_threads_begin/end). */
#include "syre/runtime.h"
#include "backend/cpu/threads.h"

#include <cblas.h>
#include <omp.h>
#include <stdio.h>
#include <unistd.h>

/* Declared by OpenBLAS; not in every cblas.h. */
extern char *openblas_get_config(void);
extern char *openblas_get_corename(void);
extern void openblas_set_num_threads(int);
extern int openblas_get_num_threads(void);

static int threads;

void sy_set_threads(int n)
{
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0) n = 1;
    threads = n;
    omp_set_num_threads(n);
    openblas_set_num_threads(1);
}

int sy_get_threads(void) { return threads ? threads : omp_get_max_threads(); }

void sy_cpu_threads_init(void) { openblas_set_num_threads(1); }

void sy_blas_threads_begin(void) { openblas_set_num_threads(sy_get_threads()); }

void sy_blas_threads_end(void) { openblas_set_num_threads(1); }

const char *sy_blas_info(void)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s; kernel %s; %d OpenMP threads, OpenBLAS single-threaded inside them (%d)",
             openblas_get_config(), openblas_get_corename(), sy_get_threads(), openblas_get_num_threads());
    return buf;
}
