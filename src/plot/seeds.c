/* A setting swept over repeats (seeds): the mean over the repeats of each
 * point with its one-standard-deviation band and every repeat's value, in
 * one call, saved in a run directory. */
#include <stdlib.h>

#include "syre/metrics.h"
#include "plot_internal.h"
#include "syre/plot.h"

sy_status sy_plot_seeds(const sy_run *run, const char *name, const sy_plot_opts *o, const double *x, int n, int nk,
                        const double *v)
{
    if (!run || !name || !o || !x || !v || n < 1 || nk < 1)
        return sy_fail(SY_ERR_ARG, "plot: seeds figure '%s' without data", name ? name : "");
    /* mean, mean + std, mean - std; then each repeat's (x, value) */
    double *buf = malloc(sizeof *buf * (3 * (size_t)n + 2 * (size_t)n * (size_t)nk));
    sy_plot *p = sy_plot_new(o->title, o->xlabel, o->ylabel);
    if (!buf || !p) {
        free(buf);
        sy_plot_free(p);
        return sy_fail(SY_ERR_NOMEM, "plot: out of memory");
    }
    sy_status s = SY_OK;
    double *mean = buf, *hi = buf + n, *lo = buf + 2 * n, *px = buf + 3 * n, *py = px + (size_t)n * nk;
    for (int i = 0; i < n && s == SY_OK; i++) {
        double sd;
        s = sy_mean_std(v + (size_t)i * nk, nk, &mean[i], &sd);
        hi[i] = mean[i] + sd, lo[i] = mean[i] - sd;
        for (int k = 0; k < nk; k++) px[i * nk + k] = x[i], py[i * nk + k] = v[(size_t)i * nk + k];
    }
    if (s == SY_OK) s = sy_plot_series(p, "mean over seeds", x, mean, n, SY_PLOT_LINE_POINTS);
    if (s == SY_OK) s = sy_plot_series(p, "mean + std", x, hi, n, SY_PLOT_DASHED);
    if (s == SY_OK) s = sy_plot_series(p, "mean - std", x, lo, n, SY_PLOT_DASHED);
    if (s == SY_OK) s = sy_plot_series(p, "each seed", px, py, n * nk, SY_PLOT_POINTS);
    free(buf);
    return plot_finish_run(p, s, o, run, name);
}
