/* Figures of a comparison's histories (syre/history.h): a column of every
 * history against another column or the row number, smoothed by a moving
 * average of the finite values, one figure per column asked for. */
#include <stdlib.h>

#include "syre/history.h"
#include "syre/plot.h"

/* Figure f of the curves c, not saved; NULL on failure (the reason in sy_last_error). */
static sy_plot *history_figure(const sy_history_curves *c, const sy_history_figure *f, double *x, double *y,
                               const double **ys)
{
    int smooth = c->smooth > 1 ? c->smooth : 1;
    for (int64_t i = 0; i < c->rows; i++) x[i] = c->xcol < 0 ? (double)(i + 1) : c->h[0][i * c->cols + c->xcol];
    for (int m = 0; m < c->n; m++) {
        double *ym = y + (size_t)m * (size_t)c->rows;
        for (int64_t i = 0; i < c->rows; i++)
            ym[i] = sy_history_mean(c->h[m], c->cols, i + 1 > smooth ? i + 1 - smooth : 0, i + 1, f->col);
        ys[m] = ym;
    }
    sy_plot *p = sy_plot_methods_new(f->title, c->xlabel, f->ylabel, x, (int)c->rows, c->n, c->labels, ys, c->style);
    if (p && c->xmin < c->xmax) sy_plot_xrange(p, c->xmin, c->xmax);
    if (p && f->ymin < f->ymax) sy_plot_yrange(p, f->ymin, f->ymax);
    return p;
}

sy_status sy_plot_histories(const sy_run *run, const sy_history_curves *c, const sy_history_figure *figs, int n)
{
    if (!run || !c || c->rows < 1 || c->rows > 0x7fffffff || c->cols < 1 || c->xcol >= c->cols || c->n < 1 ||
        !c->labels || !c->h || (n > 0 && !figs))
        return sy_fail(SY_ERR_ARG, "sy_plot_histories: %d histories of %lld rows x %d (x: column %d)", c ? c->n : 0,
                       c ? (long long)c->rows : 0LL, c ? c->cols : 0, c ? c->xcol : 0);
    for (int k = 0; k < n; k++)
        if (figs[k].col < 0 || figs[k].col >= c->cols)
            return sy_fail(SY_ERR_ARG, "sy_plot_histories: %s draws column %d of %d", figs[k].name, figs[k].col,
                           c->cols);
    double *x = malloc(sizeof(double) * (size_t)c->rows), *y = malloc(sizeof(double) * (size_t)c->rows * (size_t)c->n);
    const double **ys = malloc(sizeof(double *) * (size_t)c->n);
    sy_status s = x && y && ys ? SY_OK : sy_fail(SY_ERR_NOMEM, "sy_plot_histories: out of memory");
    for (int k = 0; k < n && s == SY_OK; k++)
        s = sy_plot_save_run(history_figure(c, &figs[k], x, y, ys), run, figs[k].name);
    free(x);
    free(y);
    free(ys);
    return s;
}
