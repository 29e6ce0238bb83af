/* Curves kept in memory (sy_curves: per epoch, per swept value) drawn as a
 * sweep figure: one curve of each group solid, optionally one of another
 * group's dashed beside it, without gathering pointer arrays by hand. */
#include "syre/plot.h"

#include <stdlib.h>

sy_status sy_plot_curves(const sy_run *run, const char *name, const sy_plot_opts *o, const double *x, int ng,
                         const char *const *labels, const sy_curves *a, int ka, const sy_curves *b, int kb)
{
    if (ng < 1 || !a) return sy_fail(SY_ERR_ARG, "plot: curves figure '%s' without curves", name ? name : "");
    long len = a[0].len;
    for (int g = 0; g < ng; g++)
        if (a[g].len != len || ka < 0 || ka >= a[g].n || (b && (b[g].len != len || kb < 0 || kb >= b[g].n)))
            return sy_fail(SY_ERR_ARG, "plot: curves figure '%s': group %d has no curve %d (or %d) of %ld points",
                           name ? name : "", g, ka, kb, len);
    const double **y = malloc(2 * (size_t)ng * sizeof *y);
    double *ix = x ? NULL : malloc((size_t)(len > 0 ? len : 1) * sizeof *ix);
    if (!y || (!x && !ix)) {
        free(y);
        free(ix);
        return sy_fail(SY_ERR_NOMEM, "plot: out of memory");
    }
    for (long i = 0; !x && i < len; i++) ix[i] = (double)(i + 1);
    for (int g = 0; g < ng; g++) {
        y[g] = a[g].v + ka * a[g].len;
        y[ng + g] = b ? b[g].v + kb * b[g].len : NULL;
    }
    sy_status s = sy_plot_sweep(run, name, o, x ? x : ix, (int)len, ng, labels, y, b ? y + ng : NULL);
    free(y);
    free(ix);
    return s;
}
