/* The unit resets (continual backprop, ReDo) and the dormant-unit ratios as
 * continual and ant offer them (private to those experiments): the flags,
 * the methods, and a method's decay rule and reset read from them. */
#ifndef SYRE_EXPERIMENTS_UNIT_RESETS_H
#define SYRE_EXPERIMENTS_UNIT_RESETS_H

#include "syre/syre.h"

/* The methods with a unit reset: alone (with weight decay) or after a decay rule. */
#define UNIT_RESET_METHODS                                                                                        \
    "cbp, redo, vanilla+cbp, vanilla+redo, syre+cbp, syre+redo, syre-ar+cbp, syre-ar+redo, l2init+cbp, "         \
    "l2init+redo, none+cbp, none+redo"

/* Their flags, each default from the original paper's closest setting; the
 * CBP maturity threshold and ReDo's interval differ by problem, so the
 * experiment gives them (as strings) with their sources. */
#define UNIT_RESET_FLAGS(maturity, maturity_src, every, every_src)                                                \
    {"cbp-rate",                                                                                                  \
     "CBP replacement rate: units replaced per mature unit per step (Dohare et al. 2024: 1e-4 on permuted "       \
     "MNIST, of their 1e-4..1e-6, and on Slippery Ant; 3e-4 for continual ImageNet's CNN)",                       \
     "1e-4", SY_FLAG_DOUBLE, 0, 1},                                                                               \
        {"cbp-decay", "CBP utility decay rate eta (Dohare et al. 2024: 0.99)", "0.99", SY_FLAG_DOUBLE, 0, 0.9999}, \
        {"cbp-maturity", "CBP maturity threshold: steps before a unit may be replaced (" maturity_src ")",        \
         maturity, SY_FLAG_INT, 0, 100000000},                                                                    \
        {"redo-tau", "ReDo dormancy threshold tau (Sokar et al. 2023, Table 1: 0.1; 0.025 for their default DQN)", \
         "0.1", SY_FLAG_DOUBLE, 0, 10},                                                                           \
        {"redo-every", "ReDo: steps between resets (" every_src ")", every, SY_FLAG_INT, 1, 100000000},            \
    {                                                                                                             \
        "dormant", "also log the dormant-unit ratios (tau 0 and 0.1) to dormant.csv; on whenever cbp or redo runs", \
            "0", SY_FLAG_BOOL, 0, 0                                                                               \
    }

/* Method m's decay rule (into decay, size chars: "syre+cbp" -> "syre", "cbp"
 * -> "vanilla") and its unit reset's options from the flags (kind NONE for a
 * method without one). */
sy_status unit_reset_for(const sy_run *run, const char *m, char *decay, size_t size, sy_unit_reset_opts *o);
/* 1 if the dormant ratios are logged: --dormant, or a method of m[0..n) with a unit reset. */
int unit_reset_dormant(const sy_run *run, const char *const *m, int n);

#endif
