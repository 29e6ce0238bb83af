/* Figures of the curves a run logged: each method's column against another
 * (a loss against the step), read back from the run's records, so that an
 * experiment keeps no copy of them and a resumed run draws them whole. */
#include <stdlib.h>

#include "syre/plot.h"

sy_plot *sy_plot_run_curves_new(const sy_run *run, const sy_plot_opts *o, const char *file, const char *xcol,
                                const char *ycol, int nm, const char *const *methods, const char *const *labels,
                                const sy_plot_style *styles)
{
    if (!run || !o || !xcol || !ycol || nm < 0 || (nm > 0 && !methods)) {
        sy_fail(SY_ERR_ARG, "plot: curves figure '%s' without a run, columns or methods",
                o && o->title ? o->title : "");
        return NULL;
    }
    sy_plot *p = sy_plot_new(o->title, o->xlabel, o->ylabel);
    sy_status s = p ? SY_OK : sy_fail(SY_ERR_NOMEM, "out of memory drawing %s", o->title ? o->title : "a figure");
    for (int m = 0; m < nm && s == SY_OK; m++) {
        double *x, *y;
        int n;
        s = sy_run_read_curve(run, file, methods[m], xcol, ycol, &x, &y, &n);
        if (s == SY_OK)
            s = sy_plot_series(p, labels ? labels[m] : methods[m], x, y, n, styles ? styles[m] : SY_PLOT_LINE);
        free(x);
        free(y);
    }
    if (s != SY_OK) {
        sy_plot_free(p);
        return NULL;
    }
    if (o->logx) sy_plot_log_axes(p, 1, 0);
    if (o->ymin < o->ymax) sy_plot_yrange(p, o->ymin, o->ymax);
    return p;
}
