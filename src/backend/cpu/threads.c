/* Thread counts for OpenMP and OpenBLAS, set together and reported, so a slow
 * single-thread run (or an oversubscribed one) is never silent. */
#include "syre/runtime.h"

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
    openblas_set_num_threads(n);
}

int sy_get_threads(void) { return threads ? threads : omp_get_max_threads(); }

const char *sy_blas_info(void)
{
    static char buf[256];
    snprintf(buf, sizeof buf, "%s; kernel %s; %d BLAS threads, %d OpenMP threads", openblas_get_config(),
             openblas_get_corename(), openblas_get_num_threads(), omp_get_max_threads());
    return buf;
}
