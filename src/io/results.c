/* Curves kept in memory: named columns of several series over the points of
 * an axis (epochs, or the values of a swept setting), NaN until set, with
 * every column's curves laid out as the figures take them (y[s][0..np)). A
 * resumed run reads back the points it logged before (sy_run_read_rows), so
 * that a figure drawn at its end still has every epoch. Set from values in
 * column order (sy_results_set) or picked by name from a row of named values
 * (sy_results_set_pick). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/experiment.h"

sy_status sy_results_new(sy_results *c, int ns, int np, int ncols, const char *const *cols)
{
    memset(c, 0, sizeof *c);
    if (ns < 1 || np < 1 || ncols < 1 || !cols)
        return sy_fail(SY_ERR_ARG, "sy_results_new: %d series of %d points in %d named columns", ns, np, ncols);
    size_t nv = (size_t)ncols * (size_t)ns * (size_t)np;
    c->x = malloc(sizeof(double) * (size_t)np);
    c->v = malloc(sizeof(double) * nv);
    c->y = malloc(sizeof(double *) * (size_t)ncols * (size_t)ns);
    if (!c->x || !c->v || !c->y) {
        sy_results_free(c);
        return sy_fail(SY_ERR_NOMEM, "sy_results_new: out of memory for %zu values", nv);
    }
    c->ns = ns, c->np = np, c->ncols = ncols, c->cols = cols;
    for (int p = 0; p < np; p++) c->x[p] = (double)(p + 1);
    for (size_t i = 0; i < nv; i++) c->v[i] = NAN;
    for (size_t k = 0; k < (size_t)ncols * (size_t)ns; k++) c->y[k] = c->v + k * (size_t)np;
    return SY_OK;
}

void sy_results_free(sy_results *c)
{
    if (!c) return;
    free(c->x);
    free(c->v);
    free(c->y);
    memset(c, 0, sizeof *c);
}

double *sy_results_at(const sy_results *c, int col, int s)
{
    return c->v + ((size_t)col * (size_t)c->ns + (size_t)s) * (size_t)c->np;
}

const double *const *sy_results_col(const sy_results *c, int col) { return c->y + (size_t)col * (size_t)c->ns; }

void sy_results_set(sy_results *c, int s, int p, const double *vals)
{
    for (int k = 0; k < c->ncols; k++) sy_results_at(c, k, s)[p] = vals[k];
}

sy_status sy_results_set_pick(sy_results *c, int s, int p, int n, const char *const *names, const double *values)
{
    int at[256];
    if (s < 0 || s >= c->ns || p < 0 || p >= c->np || c->ncols > 256)
        return sy_fail(SY_ERR_ARG, "sy_results_set_pick: series %d point %d of %d x %d (%d columns)", s, p, c->ns,
                       c->np, c->ncols);
    for (int k = 0; k < c->ncols; k++) {
        at[k] = 0;
        while (at[k] < n && strcmp(names[at[k]], c->cols[k]) != 0) at[k]++;
        if (at[k] == n) return sy_fail(SY_ERR_ARG, "sy_results_set_pick: the row has no value '%s'", c->cols[k]);
    }
    for (int k = 0; k < c->ncols; k++) sy_results_at(c, k, s)[p] = values[at[k]];
    return SY_OK;
}

sy_status sy_results_read_rows(sy_results *c, const sy_run *run, const char *file, const char *method, int nmatch,
                               const char *const *match, const double *match_val, int s, const char *index_col)
{
    double *out[256];
    if (c->ncols > 256) return sy_fail(SY_ERR_ARG, "sy_results_read_rows: %d columns (at most 256)", c->ncols);
    if (s < 0 || s >= c->ns) return sy_fail(SY_ERR_ARG, "sy_results_read_rows: series %d of %d", s, c->ns);
    for (int k = 0; k < c->ncols; k++) out[k] = sy_results_at(c, k, s);
    return sy_run_read_rows(run, file, method, nmatch, match, match_val, index_col, c->ncols, c->cols, out, c->np);
}

sy_status sy_results_summary(const sy_results *c, sy_run *run, int s, const char *method, int ncols,
                            const char *point_fmt)
{
    char point[64], key[192];
    sy_status st = SY_OK;
    for (int p = 0; p < c->np; p++) {
        snprintf(point, sizeof point, point_fmt, c->x[p]);
        for (int k = 0; k < ncols && k < c->ncols; k++) {
            snprintf(key, sizeof key, "%s %s", c->cols[k], point);
            sy_status e = sy_run_summary(run, method, key, sy_results_at(c, k, s)[p]);
            if (st == SY_OK) st = e;
        }
    }
    return st;
}
