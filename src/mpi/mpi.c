/* The MPI transport of the data-parallel layer (include/syre/mpi.h): the mpi
 * component, libsyre_mpi, so that libsyre itself never links MPI. Only the
 * main thread calls MPI; OpenMP threads never do. */
#include "syre/mpi.h"
#include "dist/dist_impl.h"

#include <mpi.h>
#include <stdio.h>
#include <string.h>

static int own_mpi; /* we called MPI_Init, so we finalize */

static sy_status mpi_init(int launched, sy_dist_world *w)
{
    int inited = 0;
    MPI_Initialized(&inited);
    if (!inited) {
        int provided = 0;
        if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
            return sy_fail(SY_ERR_STATE, "MPI_Init failed (launched as one of %d ranks)", launched);
        own_mpi = 1;
    }
    MPI_Comm_rank(MPI_COMM_WORLD, &w->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &w->size);
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) == MPI_SUCCESS) {
        MPI_Comm_size(local, &w->local_size);
        MPI_Comm_rank(local, &w->local_rank);
        MPI_Comm_free(&local);
    } else {
        w->local_size = 1;
    }
    char lib[MPI_MAX_LIBRARY_VERSION_STRING];
    int len = 0;
    MPI_Get_library_version(lib, &len);
    lib[strcspn(lib, ",\n")] = '\0';
    snprintf(w->info, sizeof w->info, "MPI (%.80s), %d rank%s, %d on this machine", lib, w->size,
             w->size == 1 ? "" : "s", w->local_size);
    return SY_OK;
}

static void mpi_finalize(void)
{
    if (own_mpi) {
        int fin = 0;
        MPI_Finalized(&fin);
        if (!fin) MPI_Finalize();
    }
    own_mpi = 0;
}

static void mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }

static sy_status mpi_sum_float(float *buf, int n)
{
    if (MPI_Allreduce(MPI_IN_PLACE, buf, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
        return sy_fail(SY_ERR_STATE, "MPI_Allreduce of %d gradient floats failed", n);
    return SY_OK;
}

static sy_status mpi_sum_double(double *v, int n)
{
    if (MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD) != MPI_SUCCESS)
        return sy_fail(SY_ERR_STATE, "MPI_Allreduce of %d doubles failed", n);
    return SY_OK;
}

static sy_status mpi_bcast(void *buf, int bytes)
{
    if (MPI_Bcast(buf, bytes, MPI_BYTE, 0, MPI_COMM_WORLD) != MPI_SUCCESS)
        return sy_fail(SY_ERR_STATE, "MPI_Bcast of %d bytes failed", bytes);
    return SY_OK;
}

static sy_status mpi_barrier(void)
{
    return MPI_Barrier(MPI_COMM_WORLD) == MPI_SUCCESS ? SY_OK : sy_fail(SY_ERR_STATE, "MPI_Barrier failed");
}

static const sy_dist_transport mpi_transport = {mpi_init,       mpi_finalize, mpi_abort,  mpi_sum_float,
                                                mpi_sum_double, mpi_bcast,    mpi_barrier};

void sy_dist_use_mpi(void) { sy_dist_set_transport(&mpi_transport); }
