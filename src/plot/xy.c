/* A figure of series that do not share their x: loss curves logged at the
 * steps of runs of different lengths, or a final metric against a measured
 * quantity (one x per series). Built, saved into the run directory and freed
 * in one call; and the range of values that several figures of a log axis
 * share, so that they compare. */
#include "plot_internal.h"
#include "syre/plot.h"

#include <math.h>

sy_status sy_plot_xy(const sy_run *run, const char *name, const sy_plot_opts *o, int ns, const char *const *labels,
                     const double *const *x, const double *const *y, const int *n, sy_plot_style style)
{
    if (!run || !name || !o || ns < 0 || (ns > 0 && (!labels || !x || !y || !n)))
        return sy_fail(SY_ERR_ARG, "plot: figure '%s' without data", name ? name : "");
    sy_plot *p = sy_plot_new(o->title, o->xlabel, o->ylabel);
    if (!p) return sy_fail(SY_ERR_NOMEM, "plot: out of memory");
    sy_status s = SY_OK;
    for (int k = 0; k < ns && s == SY_OK; k++) s = sy_plot_series(p, labels[k], x[k], y[k], n[k], style);
    return plot_finish_run(p, s, o, run, name);
}

void sy_plot_range(const double *y, int n, double *lo, double *hi)
{
    for (int i = 0; i < n; i++)
        if (y[i] > 0 && isfinite(y[i])) *lo = fmin(*lo, y[i]), *hi = fmax(*hi, y[i]);
}
