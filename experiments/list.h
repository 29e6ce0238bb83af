/* The registered experiments: one X(name) line per experiments/<file>.c that
 * defines `const sy_experiment sy_exp_<name>`. To add an experiment, add its
 * line above the end marker (keep the trailing backslash). The registry in
 * experiments/registry.c expands this list; `syre list` shows it in this order. */
#ifndef SYRE_EXPERIMENTS_LIST_H
#define SYRE_EXPERIMENTS_LIST_H

#define SY_EXPERIMENTS(X) \
    X(lowcap) \
    X(quartic) \
    X(ridge) \
    X(reparam) \
    X(collapse) \
    X(vae) \
    X(continual) \
    X(resnet) \
    X(simclr) \
    X(ant) \
    X(rotation) \
    X(toy) \
    /* end of list: add new experiments above this line */

#endif
