/* syre: symmetry removal for neural networks. Include this one header. */
#ifndef SYRE_H
#define SYRE_H

#include "syre/version.h"
#include "syre/core.h"
#include "syre/runtime.h"
#include "syre/params.h"
#include "syre/graph.h"
#include "syre/nn.h"
#include "syre/metrics.h"
#include "syre/data.h"
#include "syre/optim.h"
#include "syre/format.h"
#include "syre/experiment.h"
#include "syre/train.h"
#include "syre/trainer.h"
#include "syre/history.h"
#include "syre/fit_prefetch.h"
#include "syre/probe.h"
#include "syre/vae.h"
#include "syre/dist.h"
/* The optional components' headers: their functions are in libsyre_plot and
 * libsyre_rl (syre/mpi.h, libsyre_mpi's, is included where it is used). */
#include "syre/plot.h"
#include "syre/rl.h"

#endif
