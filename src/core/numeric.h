/* Private to the library: numerical-fault bookkeeping (src/core/numeric.c). */
#ifndef SYRE_CORE_NUMERIC_H
#define SYRE_CORE_NUMERIC_H

#include <stddef.h>

/* Index of the first Inf or NaN in x[0..n), or (size_t)-1 if none. */
size_t sy_first_nonfinite(const float *x, size_t n);
/* Count one skipped batch. */
void sy_nan_note_skip(void);
/* Record a checkpoint just written whole (sy_train_save). */
void sy_note_checkpoint(const char *path, long step);

/* Bytes the kernel can still give without swapping (MemAvailable, else
 * physical RAM); *total = physical RAM. Used to refuse absurd sizes up front. */
double sy_mem_available(double *total);

#endif
