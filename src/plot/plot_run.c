/* Figures saved into a run's directory: the file names an experiment's
 * plots take, and the one-series-per-method figure most comparisons draw. */
#include "syre/plot.h"

sy_status sy_plot_save_run(sy_plot *p, const sy_run *run, const char *name)
{
    if (!p) return sy_fail(SY_ERR_NOMEM, "out of memory drawing %s", name);
    char base[4200];
    sy_status s = sy_plot_save(p, sy_run_path(run, name, base, sizeof base));
    sy_plot_free(p);
    return s;
}

/* One series per label, y[m][0..n) against x; p NULL (sy_plot_new failed) is out of memory. */
static sy_status add_methods(sy_plot *p, const char *what, const double *x, int n, int nm, const char *const *labels,
                             const double *const *y, sy_plot_style style)
{
    if (!p) return sy_fail(SY_ERR_NOMEM, "out of memory drawing %s", what ? what : "a figure");
    sy_status s = SY_OK;
    for (int m = 0; m < nm && s == SY_OK; m++) s = sy_plot_series(p, labels[m], x, y[m], n, style);
    return s;
}

sy_plot *sy_plot_methods_new(const char *title, const char *xlabel, const char *ylabel, const double *x, int n, int nm,
                             const char *const *labels, const double *const *y, sy_plot_style style)
{
    sy_plot *p = sy_plot_new(title, xlabel, ylabel);
    if (add_methods(p, title, x, n, nm, labels, y, style) == SY_OK) return p;
    sy_plot_free(p);
    return NULL;
}

sy_status sy_plot_methods(const sy_run *run, const char *name, const char *title, const char *xlabel,
                          const char *ylabel, const double *x, int n, int nm, const char *const *labels,
                          const double *const *y, sy_plot_style style)
{
    sy_plot *p = sy_plot_new(title, xlabel, ylabel);
    sy_status s = add_methods(p, name, x, n, nm, labels, y, style);
    if (s != SY_OK) {
        sy_plot_free(p);
        return s;
    }
    return sy_plot_save_run(p, run, name);
}
