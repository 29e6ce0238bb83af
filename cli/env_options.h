/* The environment variables syre honours, mapped onto the library's
 * options: the one place that reads them (the library reads none). The
 * `syre` command applies them before parsing a run's flags, so a flag still
 * wins; tests and benchmarks that honour the same variables include this
 * header. docs/cli.md lists the variables. */
#ifndef SYRE_CLI_ENV_OPTIONS_H
#define SYRE_CLI_ENV_OPTIONS_H

#include "syre/dist.h"
#include "syre/runtime.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* $name equals value. */
static inline int sy_env_is(const char *name, const char *value)
{
    const char *v = getenv(name);
    return v && strcmp(v, value) == 0;
}

/* The first of `vars` set to an integer >= min, else fallback. */
static inline int sy_env_first_int(const char *const *vars, int n, int min, int fallback)
{
    for (int i = 0; i < n; i++) {
        const char *v = getenv(vars[i]);
        if (v && *v && atoi(v) >= min) return atoi(v);
    }
    return fallback;
}

/* sy_runtime_opts from SYRE_DEVICE, SYRE_PRECISION (SYRE_TF32=1, its older
 * spelling), SYRE_CUDA_GRAPHS=1, SYRE_PREFETCH=0, SYRE_CUDA_SYNC=1,
 * SYRE_CUDNN=0, SYRE_CUDA_MODULE, SYRE_NCCL=1, SYRE_GEMM (blas: OpenBLAS
 * instead of syre's own sgemm; own: the default), SYRE_DATA, SYRE_CPU_ISA
 * (base, avx2, avx512; another name fails in sy_runtime_configure) and
 * OMP_WAIT_POLICY / GOMP_SPINCOUNT (as libgomp read them). The strings point
 * into the environment. An unknown SYRE_PRECISION is named on stderr and
 * left at fp32. */
static inline sy_runtime_opts sy_env_runtime_opts(void)
{
    sy_runtime_opts o = sy_runtime_opts_default();
    const char *dev = getenv("SYRE_DEVICE");
    if (dev && *dev) o.device = dev;
    const char *p = getenv("SYRE_PRECISION");
    if (p && *p) {
        if (!strcmp(p, "tf32")) o.precision = SY_PRECISION_TF32;
        else if (!strcmp(p, "bf16")) o.precision = SY_PRECISION_BF16;
        else if (strcmp(p, "fp32") != 0) fprintf(stderr, "syre: SYRE_PRECISION='%s' is not fp32, tf32 or bf16; using fp32\n", p);
    } else if (sy_env_is("SYRE_TF32", "1")) {
        o.precision = SY_PRECISION_TF32;
    }
    o.cuda_graphs = sy_env_is("SYRE_CUDA_GRAPHS", "1");
    o.prefetch = !sy_env_is("SYRE_PREFETCH", "0");
    o.cuda_sync = sy_env_is("SYRE_CUDA_SYNC", "1");
    o.cudnn = !sy_env_is("SYRE_CUDNN", "0");
    const char *module = getenv("SYRE_CUDA_MODULE");
    if (module && *module) o.cuda_module = module;
    o.nccl = sy_env_is("SYRE_NCCL", "1");
    const char *gemm = getenv("SYRE_GEMM");
    if (gemm && *gemm) {
        if (!strcmp(gemm, "blas")) o.own_gemm = 0;
        else if (!strcmp(gemm, "own")) o.own_gemm = 1;
        else fprintf(stderr, "syre: SYRE_GEMM='%s' is not own or blas; using own\n", gemm);
    }
    const char *data = getenv("SYRE_DATA");
    if (data && *data) o.data_dir = data;
    const char *isa = getenv("SYRE_CPU_ISA");
    if (isa && *isa) o.cpu_isa = isa;
    static char wait[96];
    const char *spin = getenv("GOMP_SPINCOUNT"), *pol = getenv("OMP_WAIT_POLICY");
    if (spin) snprintf(wait, sizeof wait, "GOMP_SPINCOUNT=%.20s", spin);
    else if (pol) snprintf(wait, sizeof wait, "OMP_WAIT_POLICY=%.20s", pol);
    if (spin || pol) o.omp_wait = wait;
    return o;
}

/* The OpenMP wait setting for sy_omp_wait_reexec: sy_omp_wait_env(threads),
 * or NULL (do not re-execute) when the user set OMP_WAIT_POLICY or
 * GOMP_SPINCOUNT (theirs wins, and the re-executed program finds its own)
 * or the program runs under valgrind (LD_PRELOAD names its vgpreload
 * library: /proc/self/exe would be valgrind's tool, which refuses to run). */
static inline const char *sy_env_omp_wait(int threads)
{
    if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT")) return NULL;
    const char *pre = getenv("LD_PRELOAD");
    if (pre && strstr(pre, "vgpreload")) return NULL;
    return sy_omp_wait_env(threads);
}

/* sy_dist_opts from the launcher: the ranks it started (Open MPI's mpirun,
 * MPICH and Intel MPI's Hydra, MVAPICH), this process's index on its machine
 * (those and Slurm), and SYRE_DIST=1, which starts MPI even for one rank. */
static inline sy_dist_opts sy_env_dist_opts(void)
{
    static const char *const size_vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "MV2_COMM_WORLD_SIZE"};
    static const char *const local_vars[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID",
                                             "MV2_COMM_WORLD_LOCAL_RANK", "SLURM_LOCALID"};
    sy_dist_opts o = sy_dist_opts_default();
    o.launched_size = sy_env_first_int(size_vars, 3, 1, 0);
    o.local_rank = sy_env_first_int(local_vars, 4, 0, -1);
    o.force = sy_env_is("SYRE_DIST", "1");
    return o;
}

/* sy_env_runtime_opts applied: SY_OK, or the status of sy_runtime_configure
 * (an unknown SYRE_DEVICE) with its message. */
static inline sy_status sy_env_apply_runtime(void)
{
    sy_runtime_opts o = sy_env_runtime_opts();
    return sy_runtime_configure(&o);
}

#endif
