/* Fast CPU kernels; each replaces a reference kernel in the "cpu" backend. */
#ifndef SYRE_CPU_KERNELS_H
#define SYRE_CPU_KERNELS_H

#include "ops/ops_common.h"

/* Install every fast kernel into the backend table. */
void sy_cpu_register_fast(sy_backend *be);
/* Cheap ops (bias add, pooling): called by sy_cpu_register_fast. */
void sy_cpu_register_simple(sy_backend *be);

#endif
