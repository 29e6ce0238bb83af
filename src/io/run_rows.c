/* Rows and summary entries picked by name from a record of named values, and
 * arrays logged as rows: an experiment keeps what it measured once and
 * writes each file's columns, in that file's order, with one call. */
#include <string.h>

#include "syre/experiment.h"

/* The comma-separated columns of cols looked up in names[n]: their names
 * (pointers into names) into nm, their values into v, *count of them. */
static sy_status pick(const char *who, const char *cols, int n, const char *const *names, const double *values,
                      const char **nm, double *v, int *count)
{
    *count = 0;
    if (!cols || !*cols) return sy_fail(SY_ERR_ARG, "%s: no columns", who);
    for (const char *p = cols; *p;) {
        size_t len = strcspn(p, ",");
        int k = 0;
        while (k < n && (strlen(names[k]) != len || strncmp(names[k], p, len) != 0)) k++;
        if (k == n) return sy_fail(SY_ERR_ARG, "%s: column '%.*s' is not among the %d values", who, (int)len, p, n);
        if (*count == SY_PICK_MAX) return sy_fail(SY_ERR_ARG, "%s: more than %d columns", who, SY_PICK_MAX);
        nm[*count] = names[k];
        v[(*count)++] = values[k];
        p += len + (p[len] == ',');
    }
    return SY_OK;
}

sy_status sy_run_log_pick(sy_run *run, const char *file, const char *method, int64_t step, const char *cols, int n,
                          const char *const *names, const double *values)
{
    const char *nm[SY_PICK_MAX];
    double v[SY_PICK_MAX];
    int count;
    sy_status s = pick("sy_run_log_pick", cols, n, names, values, nm, v, &count);
    return s == SY_OK ? sy_run_log_to(run, file, method, step, count, nm, v) : s;
}

sy_status sy_run_summary_pick(sy_run *run, const char *method, const char *prefix, const char *cols, int n,
                              const char *const *names, const double *values)
{
    const char *nm[SY_PICK_MAX];
    double v[SY_PICK_MAX];
    int count;
    sy_status s = pick("sy_run_summary_pick", cols, n, names, values, nm, v, &count);
    for (int i = 0; i < count && s == SY_OK; i++) {
        char key[512];
        snprintf(key, sizeof key, "%s%s", prefix ? prefix : "", nm[i]);
        s = sy_run_summary(run, method, key, v[i]);
    }
    return s;
}

sy_status sy_run_log_columns(sy_run *run, const char *file, const char *method, int64_t first, long rows,
                             int ncols, const char *const *names, const double *const *y)
{
    if (ncols < 1 || ncols > SY_PICK_MAX || rows < 0)
        return sy_fail(SY_ERR_ARG, "sy_run_log_columns: %d columns (1 to %d), %ld rows", ncols, SY_PICK_MAX, rows);
    sy_status s = SY_OK;
    for (long i = 0; i < rows && s == SY_OK; i++) {
        double v[SY_PICK_MAX];
        for (int k = 0; k < ncols; k++) v[k] = y[k][i];
        s = sy_run_log_to(run, file, method, first + i, ncols, names, v);
    }
    return s;
}
