/* Internal hooks of the data-parallel layer for the device all-reduce
 * (backend/device.c, backend/cuda/nccl.c). Not a public interface. */
#ifndef SYRE_DIST_IMPL_H
#define SYRE_DIST_IMPL_H

#include <stddef.h>

/* Run fn in sy_dist_finalize, before MPI_Finalize (one hook: NCCL's). */
void sy_dist_at_finalize(void (*fn)(void));
/* Count one device all-reduce of n floats in sy_dist_get_stats;
 * count_total: also in calls/floats/seconds (NCCL; the staged path's
 * MPI_Allreduce counts itself). */
void sy_dist_note_device(size_t n, double seconds, int count_total);

#endif
