/* Private to the quartic experiment (Sec. 5): what its single-setting run
 * (quartic.c) and Fig. 2's sweeps (quartic_fig2.c) share: the problem of one
 * spectrum, the methods' hyperparameters, one setting's training. */
#ifndef SYRE_EXPERIMENTS_QUARTIC_H
#define SYRE_EXPERIMENTS_QUARTIC_H

#include "syre/syre.h"

#define SWEEP_N 7

/* Each method's hyperparameter: its flag ("-" for none), the paper's sweep of
 * it (Sec. 5: weight decay 0.1..10, phi 0.001..0.1, p 0.01..0.6) and Fig. 2's
 * legend (NULL: syre's names its sigma0, the others their method). */
typedef struct {
    const char *method, *hyper, *legend;
    int nsweep;
    double sweep[SWEEP_N];
} qmethod;

const qmethod *quartic_method(const char *method);
extern const char *const quartic_spectra[2]; /* --spectrum's names, by B's structure (0, 1) */

/* Everything one spectrum needs, shared by the settings trained on it. */
typedef struct {
    int d, structured;
    long steps, log_every;
    double sigma0;
    float c_th;
    float *B, *V;       /* [d, d]: the matrix and its eigenvectors (rows) */
    double lambda1;     /* top eigenvalue: optimum f* = -lambda1^2 / 4 */
} qctx;

/* The problem of --seed for a spectrum and the run's flags; free with quartic_ctx_free (also on failure). */
sy_status quartic_ctx_init(qctx *c, sy_run *run, int structured);
void quartic_ctx_free(qctx *c);
/* Train one setting of method (hyperparameter h) from the common init; `label` names its records (rows in
 * logfile, NULL: metrics.csv; checkpoint file); *gnorm the norm of grad f at the end (the quartic alone, without
 * the decay). */
sy_status quartic_train_one(sy_run *run, const qctx *c, const char *method, double h, const char *label,
                            const char *logfile, sy_quartic_point *res, double *gnorm);
/* Fig. 2 (quartic_fig2.c). */
sy_status quartic_reproduce(sy_run *run);

#endif
