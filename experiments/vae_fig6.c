/* syre reproduce fig6 (paper Appendix C.4, Fig. 6): the beta-VAE's rank of mu
 * and test reconstruction loss against the encoder's weight decay gamma, one
 * figure pair per beta, one curve per method (syre's once per --sigma0s).
 * Each configuration trains as `syre run vae` does (experiments/vae.c) and
 * is recorded in sweep.csv as "<curve>-b<beta>-g<gamma>". */
#include <math.h>
#include <stdio.h>

#include "vae_exp.h"

sy_status vae_reproduce(sy_run *run)
{
    vae_cfg c;
    sy_status s = vae_config(run, &c);
    if (s != SY_OK) return s;
    double betas[VAE_MAXSWEEP], gammas[VAE_MAXSWEEP], sig[VAE_MAXSWEEP];
    int nbeta, ngamma, nsig, nc = 0;
    if ((s = sy_run_get_numbers(run, "betas", 0, 0, HUGE_VAL, betas, VAE_MAXSWEEP, &nbeta)) != SY_OK) return s;
    if ((s = sy_run_get_numbers(run, "gammas", 0, 0, HUGE_VAL, gammas, VAE_MAXSWEEP, &ngamma)) != SY_OK) return s;
    if ((s = sy_run_get_numbers(run, "sigma0s", 0, 0, HUGE_VAL, sig, VAE_MAXSWEEP, &nsig)) != SY_OK) return s;
    sy_series cv[VAE_MAXCURVES];
    const char *labels[VAE_MAXCURVES];
    sy_results fin = {0};
    if ((s = vae_curves(run, &c, sig, nsig, cv, &nc)) == SY_OK)
        s = sy_results_new(&fin, nbeta * nc, ngamma, 2, vae_cols);
    if (s == SY_OK) s = vae_configs(run, &c, cv, nc, betas, nbeta, gammas, ngamma, &fin, NULL);
    /* Fig. 6: rank and reconstruction loss against gamma; gamma = 0 drawn at log10 = -1. */
    for (int gi = 0; gi < fin.np; gi++) fin.x[gi] = gammas[gi] > 0 ? log10(gammas[gi]) : -1.0;
    for (int m = 0; m < nc; m++) labels[m] = cv[m].label;
    const char *var = c.vo.learned_var ? "learned var" : "fixed var";
    char title[200], f[64];
    sy_plot_opts rank = {.title = title, .xlabel = "log10 gamma (gamma = 0 drawn at -1)",
                         .ylabel = "rank of Cov(mu), 1000 test images, eig > 1e-6", .ymin = 0, .ymax = VAE_Z + 5};
    sy_plot_opts rec = rank;
    rec.ylabel = c.vo.gaussian ? "test reconstruction loss (sq. err / 2 eta_dec)"
                               : "test reconstruction loss (BCE, nats per image)";
    rec.ymax = 0;
    for (int bi = 0; bi < nbeta && s == SY_OK; bi++) {
        snprintf(title, sizeof title, "Fig. 6 left: rank of mu, beta = %g (%s, eta_enc = %g)", betas[bi], var,
                 c.vo.eta_enc);
        snprintf(f, sizeof f, "fig6-rank-b%g", betas[bi]);
        s = sy_plot_sweep(run, f, &rank, fin.x, ngamma, nc, labels, sy_results_col(&fin, 0) + bi * nc, NULL);
        snprintf(title, sizeof title, "Fig. 6 right: reconstruction, beta = %g (%s, eta_enc = %g)", betas[bi], var,
                 c.vo.eta_enc);
        snprintf(f, sizeof f, "fig6-rec-b%g", betas[bi]);
        if (s == SY_OK)
            s = sy_plot_sweep(run, f, &rec, fin.x, ngamma, nc, labels, sy_results_col(&fin, 1) + bi * nc, NULL);
    }
    sy_results_free(&fin);
    return s;
}

