/* The mpi component (libsyre_mpi; CMake syre::mpi, pkg-config syre-mpi):
 * data-parallel training over MPI for syre/dist.h. Built where CMake finds
 * an MPI; libsyre itself never links MPI. */
#ifndef SYRE_MPI_H
#define SYRE_MPI_H

#ifdef __cplusplus
extern "C" {
#endif

/* Let sy_dist_init start MPI when launched by an MPI launcher (or with
 * SYRE_DIST=1); call it before sy_dist_init. Without this call a program is
 * one rank, and refuses to run when launched as several. */
void sy_dist_use_mpi(void);

#ifdef __cplusplus
}
#endif
#endif
