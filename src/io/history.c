/* Histories of a comparison (include/syre/history.h): the tables of numbers
 * per row that experiments keep of each trained method, their means, the
 * summary numbers read from them, and a set of them with their names. */
#include "syre/history.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

double sy_history_mean(const double *h, int cols, int64_t a, int64_t b, int col)
{
    double sum = 0;
    int64_t n = 0;
    for (int64_t i = a; i < b; i++)
        if (isfinite(h[i * cols + col])) {
            sum += h[i * cols + col];
            n++;
        }
    return n ? sum / (double)n : NAN;
}

void sy_history_mean_over(double *out, const double *const *h, int n, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        double sum = 0;
        int cnt = 0;
        for (int k = 0; k < n; k++)
            if (isfinite(h[k][i])) sum += h[k][i], cnt++;
        out[i] = cnt ? sum / cnt : NAN;
    }
}

static double history_value(const double *h, int64_t rows, int cols, int64_t tail, int col, sy_history_at at)
{
    switch (at) {
    case SY_HIST_FIRST: return h[col];
    case SY_HIST_LAST: return h[(rows - 1) * cols + col];
    case SY_HIST_MEAN: return sy_history_mean(h, cols, 0, rows, col);
    case SY_HIST_HEAD: return sy_history_mean(h, cols, 0, tail, col);
    case SY_HIST_TAIL: return sy_history_mean(h, cols, rows - tail, rows, col);
    case SY_HIST_MIN: break;
    }
    double mn = INFINITY;
    for (int64_t i = 0; i < rows; i++)
        if (h[i * cols + col] < mn) mn = h[i * cols + col];
    return mn;
}

sy_status sy_run_summary_history(sy_run *run, const char *method, const double *h, int64_t rows, int cols,
                                 int64_t tail, const sy_history_key *keys, int n)
{
    if (!h || rows < 1 || cols < 1 || tail < 0 || tail > rows || (n > 0 && !keys))
        return sy_fail(SY_ERR_ARG, "sy_run_summary_history: a history of %lld rows x %d, tail %lld (need rows >= 1, "
                       "0 <= tail <= rows)", (long long)rows, cols, (long long)tail);
    sy_status s = SY_OK;
    for (int k = 0; k < n && s == SY_OK; k++) {
        if (keys[k].col < 0 || keys[k].col >= cols || (unsigned)keys[k].at > SY_HIST_TAIL)
            return sy_fail(SY_ERR_ARG, "sy_run_summary_history: key '%s' reads column %d of %d", keys[k].key,
                           keys[k].col, cols);
        s = sy_run_summary(run, method, keys[k].key, history_value(h, rows, cols, tail, keys[k].col, keys[k].at));
    }
    return s;
}

sy_status sy_run_summary_rows(sy_run *run, const char *method, const double *h, int64_t rows, int cols, int col,
                              const char *prefix)
{
    if (!h || !prefix || col < 0 || col >= cols)
        return sy_fail(SY_ERR_ARG, "sy_run_summary_rows: column %d of a history of %d columns", col, cols);
    sy_status s = SY_OK;
    for (int64_t t = 0; t < rows && s == SY_OK; t++) {
        char key[256];
        snprintf(key, sizeof key, "%s %lld", prefix, (long long)t + 1);
        s = sy_run_summary(run, method, key, h[t * cols + col]);
    }
    return s;
}

sy_histories sy_histories_make(int64_t rows, int cols)
{
    sy_histories hs = {.rows = rows, .cols = cols};
    return hs;
}

sy_status sy_histories_add(sy_histories *hs, double **h, const char *fmt, ...)
{
    *h = NULL;
    char name[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(name, sizeof name, fmt, ap);
    va_end(ap);
    if (hs->n == hs->cap) {
        int cap = hs->cap ? 2 * hs->cap : 8;
        const char **names = realloc(hs->name, sizeof *names * (size_t)cap);
        if (!names) return sy_fail(SY_ERR_NOMEM, "out of memory for the history of %s", name);
        hs->name = names; /* larger, while cap stays until both are */
        double **tables = realloc(hs->h, sizeof *tables * (size_t)cap);
        if (!tables) return sy_fail(SY_ERR_NOMEM, "out of memory for the history of %s", name);
        hs->h = tables, hs->cap = cap;
    }
    size_t len = (size_t)(hs->rows > 0 ? hs->rows : 0) * (size_t)(hs->cols > 0 ? hs->cols : 0);
    double *v = malloc(sizeof(double) * (len ? len : 1));
    char *nm = malloc(strlen(name) + 1);
    if (!v || !nm) {
        free(v);
        free(nm);
        return sy_fail(SY_ERR_NOMEM, "out of memory for the history of %s (%lld x %d)", name, (long long)hs->rows,
                       hs->cols);
    }
    for (size_t i = 0; i < len; i++) v[i] = NAN;
    memcpy(nm, name, strlen(name) + 1);
    hs->name[hs->n] = nm;
    hs->h[hs->n++] = v;
    *h = v;
    return SY_OK;
}

int sy_histories_find(const sy_histories *hs, const char *name)
{
    for (int k = 0; k < hs->n; k++)
        if (strcmp(hs->name[k], name) == 0) return k;
    return -1;
}

void sy_histories_free(sy_histories *hs)
{
    for (int k = 0; k < hs->n; k++) {
        free((void *)hs->name[k]);
        free(hs->h[k]);
    }
    free(hs->name);
    free(hs->h);
    hs->name = NULL, hs->h = NULL, hs->n = hs->cap = 0;
}
