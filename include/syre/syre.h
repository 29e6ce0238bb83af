/* syre: symmetry removal for neural networks. Include this one header. */
#ifndef SYRE_H
#define SYRE_H

#include "syre/core.h"

#endif
