/* The one-series-per-method figure with a style of its own per series: a
 * comparison where one method is drawn dashed or as markers, so that the
 * line it lies on stays visible. */
#include "syre/plot.h"

sy_plot *sy_plot_methods_styled_new(const char *title, const char *xlabel, const char *ylabel, const double *x,
                                    int n, int nm, const char *const *labels, const double *const *y,
                                    const sy_plot_style *styles)
{
    if (nm < 0 || (nm > 0 && (!labels || !y || !styles))) {
        sy_fail(SY_ERR_ARG, "plot: figure '%s' without labels, curves or styles", title ? title : "");
        return NULL;
    }
    sy_plot *p = sy_plot_new(title, xlabel, ylabel);
    sy_status s = p ? SY_OK : sy_fail(SY_ERR_NOMEM, "out of memory drawing %s", title ? title : "a figure");
    for (int m = 0; m < nm && s == SY_OK; m++) s = sy_plot_series(p, labels[m], x, y[m], n, styles[m]);
    if (s == SY_OK) return p;
    sy_plot_free(p);
    return NULL;
}
