/* The `syre` application's table of experiments (experiments/list.h), and
 * lookups by name and by paper figure. Part of the application, not of
 * libsyre: a program of its own defines its own sy_experiment values and
 * hands them to sy_run_parse directly. */
#ifndef SYRE_EXPERIMENTS_REGISTRY_H
#define SYRE_EXPERIMENTS_REGISTRY_H

#include "syre/experiment.h"

/* Every registered experiment, in list order. */
const sy_experiment *const *sy_experiments(int *count);
/* By exact name, NULL if none. */
const sy_experiment *sy_experiment_find(const char *name);
/* By name, reproduce_id or figure, compared ignoring case and punctuation
 * ("Fig. 3 right" == "fig3-right"); NULL if none. */
const sy_experiment *sy_experiment_find_reproduce(const char *what);

#endif
