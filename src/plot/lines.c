/* The one-series-per-method figure, left open (include/syre/plot.h). */
#include "syre/plot.h"

sy_plot *sy_plot_methods_new(const char *title, const char *xlabel, const char *ylabel, const double *x, int n, int nm,
                             const char *const *labels, const double *const *y, sy_plot_style style)
{
    sy_plot *p = sy_plot_new(title, xlabel, ylabel);
    if (!p) {
        sy_fail(SY_ERR_NOMEM, "out of memory drawing %s", title ? title : "a figure");
        return NULL;
    }
    for (int m = 0; m < nm; m++)
        if (sy_plot_series(p, labels[m], x, y[m], n, style) != SY_OK) {
            sy_plot_free(p);
            return NULL;
        }
    return p;
}
