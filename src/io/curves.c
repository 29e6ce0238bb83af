/* Curves kept in memory for a run's figures (per epoch, per swept value),
 * filled from rows of named values as they are logged and refilled from the
 * run's records on --resume. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "syre/experiment.h"

sy_status sy_curves_init(sy_curves *c, int n, const char *const *names, long len)
{
    memset(c, 0, sizeof *c);
    if (n < 1 || len < 0 || !names) return sy_fail(SY_ERR_ARG, "sy_curves_init: %d curves of %ld points", n, len);
    if (!(c->v = malloc((size_t)n * (size_t)(len > 0 ? len : 1) * sizeof *c->v)))
        return sy_fail(SY_ERR_NOMEM, "sy_curves_init: out of memory for %d curves of %ld points", n, len);
    for (long i = 0; i < n * len; i++) c->v[i] = NAN;
    c->n = n, c->len = len, c->names = names;
    return SY_OK;
}

void sy_curves_free(sy_curves *c)
{
    free(c->v);
    memset(c, 0, sizeof *c);
}

sy_status sy_curves_set(sy_curves *c, long i, int n, const char *const *row_names, const double *row)
{
    if (i < 1 || i > c->len) return sy_fail(SY_ERR_ARG, "sy_curves_set: point %ld of 1..%ld", i, c->len);
    for (int k = 0; k < c->n; k++) {
        int j = 0;
        while (j < n && strcmp(row_names[j], c->names[k]) != 0) j++;
        if (j == n) return sy_fail(SY_ERR_ARG, "sy_curves_set: the row has no value '%s'", c->names[k]);
        c->v[k * c->len + i - 1] = row[j];
    }
    return SY_OK;
}

sy_status sy_curves_read(sy_curves *c, const sy_run *run, const char *file, const char *method, int nmatch,
                         const char *const *match, const double *match_val, const char *index_col)
{
    double **out = malloc((size_t)(c->n > 0 ? c->n : 1) * sizeof *out);
    if (!out) return sy_fail(SY_ERR_NOMEM, "sy_curves_read: out of memory");
    for (int k = 0; k < c->n; k++) out[k] = c->v + k * c->len;
    sy_status s = sy_run_read_rows(run, file, method, nmatch, match, match_val, index_col, c->n, c->names,
                                   (double *const *)out, c->len);
    free(out);
    return s;
}
