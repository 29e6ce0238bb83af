/* Private to the library: numerical-fault bookkeeping (src/core/numeric.c). */
#ifndef SYRE_CORE_NUMERIC_H
#define SYRE_CORE_NUMERIC_H

#include <stddef.h>
#include <stdint.h>

/* The largest |x[i]| bit pattern (sign cleared); > 0x7f7fffff <=> an Inf or
 * NaN in x[0..n). Vectorised; the optimizer's update pass checks each block
 * it wrote with it. */
uint32_t sy_max_abs_bits(const float *x, size_t n);
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
