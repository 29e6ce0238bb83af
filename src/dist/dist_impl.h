/* Internal hooks of the data-parallel layer: the transport that the MPI
 * component registers (src/mpi/mpi.c), and the device all-reduce's
 * (backend/device.c, backend/cuda/nccl.c). Not a public interface. */
#ifndef SYRE_DIST_IMPL_H
#define SYRE_DIST_IMPL_H

#include <stddef.h>

#include "syre/core.h"

/* Where this process stands in the job. */
typedef struct {
    int rank, size, local_size, local_rank;
    char info[160]; /* "MPI (Open MPI v4.1.4), 2 ranks, 2 on this machine" */
} sy_dist_world;

/* How ranks talk (MPI, in the syre_mpi component). libsyre itself links no
 * MPI: without a transport it is one rank. Counts fit an int: the callers
 * split larger buffers. */
typedef struct {
    /* Start or join MPI (launched: the launcher's rank count) and fill w. */
    sy_status (*init)(int launched, sy_dist_world *w);
    void (*finalize)(void); /* ends MPI if init started it */
    void (*abort)(int code);
    sy_status (*sum_float)(float *buf, int n); /* in place, over all ranks */
    sy_status (*sum_double)(double *v, int n);
    sy_status (*bcast)(void *buf, int bytes);  /* from rank 0 */
    sy_status (*barrier)(void);
} sy_dist_transport;

/* Use t from the next sy_dist_init on (NULL: one rank). */
void sy_dist_set_transport(const sy_dist_transport *t);

/* Run fn in sy_dist_finalize, before MPI_Finalize (one hook: NCCL's). */
void sy_dist_at_finalize(void (*fn)(void));
/* Count one device all-reduce of n floats in sy_dist_get_stats;
 * count_total: also in calls/floats/seconds (NCCL; the staged path's
 * MPI_Allreduce counts itself). */
void sy_dist_note_device(size_t n, double seconds, int count_total);

#endif
