/* Private to the reparam experiment (C.2, Fig. 3 right): what its run
 * (reparam.c: the model, one method's training, the figure) and its
 * reproduction's sweeps over seeds and gammas (reparam_sweep.c) share. */
#ifndef SYRE_EXPERIMENTS_REPARAM_H
#define SYRE_EXPERIMENTS_REPARAM_H

#include "syre/syre.h"

/* The settings of one training (the sweeps change seed, gamma and steps). */
typedef struct {
    int d, k, n, batch, log_every;
    long steps;
    double noise, init_std, dead_thr, lr, gamma, sigma0, eps, wfix_frac, wfix_kappa;
    uint64_t seed;
} rp_cfg;

void rp_config(sy_run *run, rp_cfg *c);
/* The teacher, training and test sets of c's seed (stream DATAGEN: never
 * touched by the method). */
sy_status rp_data(const rp_cfg *c, sy_regression **D);

/* The model's graph: inputs x [b, d], y [b] and the loss. */
typedef struct {
    sy_graph *g;
    sy_var x, y, loss;
} rp_net;

/* One method's training from the shared initialisation (seed): its model (a
 * training graph of this rank's batch and an evaluation graph of the whole
 * set, on one store, which keeps the trained u and w) and its final state;
 * its curves are its rows. */
typedef struct {
    sy_run *run; /* NULL: no rows logged */
    const char *label;
    const rp_cfg *c;
    const sy_regression *D;
    sy_params *ps;
    rp_net tr, ev;
    sy_batcher *bt;
    sy_optimizer *opt;
    unsigned char *deadmask;
    double train_loss, test_loss, min_pair, min_pair_ever;
    int dead_units, dead_on, dead_off, first_dead_step, max_dead;
} rp_method;

/* Train `method` into M (run, label, c and D set by the caller); free with
 * rp_method_free, also on failure. */
sy_status rp_train(rp_method *M, const char *method);
void rp_method_free(rp_method *M);
/* Every method on the run's seed, its records and its figure (reparam.c). */
sy_status reparam_run(sy_run *run);
/* The figure, then the claim over seeds and gammas (reparam_sweep.c). */
sy_status reparam_reproduce(sy_run *run);

#endif
