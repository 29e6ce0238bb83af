/* Paper Appendix C.2, Fig. 3 right, reproduced (`syre reproduce fig3-right`):
 * the figure of every method on the run's seed (reparam.c), then the claim
 * over seeds 1..5 and a sweep of gamma: each method's final dead neurons and
 * losses, a row of sweep.csv per setting and their summary. */
#include <math.h>
#include <stdio.h>

#include "reparam.h"

sy_status reparam_reproduce(sy_run *run)
{
    sy_status s = reparam_run(run); /* the figure: every method, one seed */
    if (s != SY_OK) return s;
    rp_cfg c0;
    rp_config(run, &c0);
    int nm;
    const char *const *methods = sy_run_methods(run, &nm);
    /* Seeds 1..5 (data, teacher, init and anchors all change) at the figure's
     * settings, and a gamma sweep at the run's seed (gammas below the
     * figure's train for steps * gamma_fig / gamma): final dead neurons. */
    enum { NSEEDS = 5 };
    const double gammas[] = {0.01, 0.03, 0.1, 0.3};
    const int ngam = (int)(sizeof gammas / sizeof gammas[0]);
    printf("reparam reproduce: final dead neurons (of %d) and training loss\n", c0.d);
    printf("%-12s %-10s %8s %8s %12s %12s %8s\n", "sweep", "method", "dead", "max_dead", "train_loss", "test_loss",
           "steps");
    for (int m = 0; m < nm && s == SY_OK; m++) {
        double dsum = 0, dmax = 0, lsum = 0;
        for (int k = 0; k < NSEEDS + ngam && s == SY_OK; k++) {
            rp_cfg c = c0;
            char sweep[32], label[96];
            if (k < NSEEDS) {
                c.seed = (uint64_t)(k + 1);
                snprintf(sweep, sizeof sweep, "seed=%d", k + 1);
            } else {
                /* the decay acts on the time scale 1/(lr gamma): below the
                 * figure's gamma, train proportionally longer (same lr*gamma*steps) */
                c.gamma = gammas[k - NSEEDS];
                if (c.gamma > 0 && c.gamma < c0.gamma) c.steps = (long)ceil(c0.steps * c0.gamma / c.gamma);
                snprintf(sweep, sizeof sweep, "gamma=%g", c.gamma);
            }
            sy_regression *D = NULL;
            snprintf(label, sizeof label, "%s %s", methods[m], sweep);
            s = rp_data(&c, &D);
            rp_method R = {.label = label, .c = &c, .D = D};
            if (s == SY_OK) s = rp_train(&R, methods[m]);
            if (s != SY_OK) {
                rp_method_free(&R);
                sy_regression_free(D);
                break;
            }
            printf("%-12s %-10s %8d %8d %12.4g %12.4g %8ld\n", sweep, methods[m], R.dead_units, R.max_dead,
                   R.train_loss, R.test_loss, c.steps);
            const char *names[8] = {"seed", "gamma", "steps", "dead_units", "max_dead_over_time", "train_loss",
                                    "test_loss", "dead_off_support"};
            double vals[8] = {(double)c.seed, c.gamma, (double)c.steps, R.dead_units, R.max_dead, R.train_loss,
                              R.test_loss, R.dead_off};
            s = sy_run_log_to(run, "sweep.csv", methods[m], k, 8, names, vals);
            if (k < NSEEDS) dsum += R.dead_units, dmax = fmax(dmax, R.dead_units), lsum += R.train_loss;
            else sy_run_summaryf(run, methods[m], R.dead_units, "dead_units gamma=%g", c.gamma);
            rp_method_free(&R);
            sy_regression_free(D);
        }
        if (s != SY_OK) break;
        sy_run_summary(run, methods[m], "dead_units (mean of 5 seeds)", dsum / NSEEDS);
        sy_run_summary(run, methods[m], "dead_units (max of 5 seeds)", dmax);
        sy_run_summary(run, methods[m], "train_loss (mean of 5 seeds)", lsum / NSEEDS);
    }
    return s;
}

