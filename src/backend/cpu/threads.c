/* Thread counts. syre runs one thread pool: OpenMP's. OpenBLAS is kept
 * single-threaded and is called from inside syre's own OpenMP regions, each
 * thread on its slice of a product (kernels_blas.c), so the two libraries'
 * pools never spin against each other on the same cores, and work too small
 * to share stays on the calling thread. Only code outside the training loop
 * that makes a few large LAPACK/BLAS calls (spectra) borrows OpenBLAS's own
 * threads for their duration (sy_blas_threads_begin/end). */
#define _POSIX_C_SOURCE 200809L /* nanosleep, setenv */
#include "syre/runtime.h"
#include "backend/cpu/threads.h"
#include "backend/cpu/cpu_kernels.h"

#include <cblas.h>
#include <pthread.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
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
    static char buf[320];
    const char *wait = sy_runtime()->omp_wait ? sy_runtime()->omp_wait : "libgomp's default wait";
    snprintf(buf, sizeof buf,
             "sgemm %s; %s; kernel %s; %d OpenMP threads (%s), OpenBLAS single-threaded inside them (%d)",
             sy_cpu_sgemm_name(), openblas_get_config(), openblas_get_corename(), sy_get_threads(), wait,
             openblas_get_num_threads());
    return buf;
}

/* Runnable tasks on the machine now, other than the caller: the median of
 * five reads of /proc/loadavg's "running/total" field, 2 ms apart (one read
 * catches a compiler's burst or misses it). -1 if it cannot be read. */
static int others_running(void)
{
    int v[5], n = 0;
    for (int i = 0; i < 5; i++) {
        FILE *f = fopen("/proc/loadavg", "r");
        int run = -1, tot;
        double l1, l5, l15;
        if (f) {
            if (fscanf(f, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &run, &tot) != 5) run = -1;
            fclose(f);
        }
        if (run >= 1) v[n++] = run - 1;
        nanosleep(&(struct timespec){0, 2000000}, NULL);
    }
    if (!n) return -1;
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < n; j++)
            if (v[j] < v[i]) {
                int t = v[i];
                v[i] = v[j], v[j] = t;
            }
    return v[n / 2];
}

const char *sy_omp_wait_env(int threads)
{
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    if (cpus < 1) cpus = 1;
    if (threads <= 0 || threads > cpus) threads = (int)cpus;
    if (threads == 1) return "GOMP_SPINCOUNT=" SY_GOMP_SPINCOUNT; /* no parallel regions: moot */
    int others = others_running();
    return others >= 0 && others + threads <= cpus ? "GOMP_SPINCOUNT=" SY_GOMP_SPINCOUNT : "OMP_WAIT_POLICY=PASSIVE";
}

int sy_omp_wait_reexec(const char *setting, char **argv)
{
    if (!setting || !argv || !argv[0]) return 0;
    char env[64];
    snprintf(env, sizeof env, "%s", setting);
    char *eq = strchr(env, '=');
    if (!eq || eq == env) return 0;
    *eq = '\0';
    if (setenv(env, eq + 1, 1) != 0) return -1;
    execv("/proc/self/exe", argv); /* returns only on failure */
    unsetenv(env);
    return -1;
}

/* ---- Per-thread scratch ---------------------------------------------------- */

typedef struct {
    float *p[SY_SCRATCH_SLOTS];
    size_t n[SY_SCRATCH_SLOTS];
} thread_scratch;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static _Thread_local thread_scratch *scratch_mine; /* this thread's, registered under scratch_key */

static void scratch_free(void *v)
{
    thread_scratch *t = v;
    for (int k = 0; k < SY_SCRATCH_SLOTS; k++) free(t->p[k]);
    free(t);
}

static void scratch_key_make(void) { (void)pthread_key_create(&scratch_key, scratch_free); }

float *sy_thread_scratch(int slot, size_t floats)
{
    thread_scratch *t = scratch_mine;
    if (!t) {
        pthread_once(&scratch_once, scratch_key_make);
        if (!(t = calloc(1, sizeof *t))) return NULL;
        if (pthread_setspecific(scratch_key, t)) {
            free(t);
            return NULL;
        }
        scratch_mine = t;
    }
    if (floats > t->n[slot]) {
        free(t->p[slot]);
        t->p[slot] = aligned_alloc(64, (floats * sizeof(float) + 63) / 64 * 64);
        t->n[slot] = t->p[slot] ? floats : 0;
    }
    return t->p[slot];
}
