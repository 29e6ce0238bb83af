/* What the vae experiment's two files share: experiments/vae.c holds the
 * model's settings, the training and records of one configuration and
 * `syre run vae` (the curves over epochs, Fig. 7); experiments/vae_fig6.c
 * holds `syre reproduce fig6`, the sweep over beta, gamma and syre's sigma0
 * (Fig. 6). */
#ifndef SYRE_EXPERIMENTS_VAE_EXP_H
#define SYRE_EXPERIMENTS_VAE_EXP_H

#include "syre/syre.h"
#include "syre/vae.h"

#define VAE_IN 784
#define VAE_H 200
#define VAE_Z 200
#define VAE_EVAL 1000    /* rank batch ("batch size 1000") and eval chunk */
#define VAE_NSAMPLE 64   /* prior samples drawn for the sample grid */
#define VAE_SHOW 16      /* test images shown in the reconstruction grid */
#define VAE_MAXSWEEP 16
#define VAE_MAXCURVES (4 * VAE_MAXSWEEP)

typedef struct {
    sy_vae_opts vo; /* the model; beta is set per configuration */
    double lr, sigma0, eps;
    long epochs, batch;
    size_t train_n, test_n;
    uint64_t seed;
    int resume;
} vae_cfg;

/* The flags, read and checked before any data is loaded. */
sy_status vae_config(sy_run *run, vae_cfg *c);
/* The curves of --method: syre and syre-ar once per sigma0 of sig [nsig]
 * (reproduce), or (sig NULL) every method once at --sigma0 (run). */
sy_status vae_curves(sy_run *run, const vae_cfg *c, const double *sig, int nsig, sy_series *cv, int *nc);
/* Train and record every (beta, gamma, curve), in that nesting, on the first
 * train_n Fashion-MNIST training images and test_n test images. A sweep
 * (fin) labels its records "<name>-b<beta>-g<gamma>" in sweep.csv and keeps
 * each configuration's final rank and rec_loss (vae_cols) at point gi of
 * series bi * nc + m of fin; otherwise (one beta, one gamma) the name, in
 * metrics.csv, with per-epoch curves in ep. */
sy_status vae_configs(sy_run *run, const vae_cfg *c, const sy_series *cv, int nc, const double *betas, int nbeta,
                      const double *gammas, int ngamma, sy_results *fin, sy_results *ep);
/* The columns kept of each configuration: "rank", "rec_loss". */
extern const char *const vae_cols[2];

/* syre reproduce fig6 (experiments/vae_fig6.c). */
sy_status vae_reproduce(sy_run *run);

#endif
