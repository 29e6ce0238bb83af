/* The methods an experiment compares, restricted to those it implements:
 * one check and one message for every experiment. */
#include <string.h>

#include "syre/experiment.h"

/* 1 if the comma-separated list names m (spaces around names ignored). */
static int listed(const char *list, const char *m)
{
    size_t len = strlen(m);
    for (const char *p = list; *p;) {
        while (*p == ' ') p++;
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        while (n > 0 && p[n - 1] == ' ') n--;
        if (n == len && strncmp(p, m, len) == 0) return 1;
        if (!end) break;
        p = end + 1;
    }
    return 0;
}

sy_status sy_run_methods_among(const sy_run *run, const char *allowed, const char *const **methods, int *count)
{
    const char *const *m = sy_run_methods(run, count);
    *methods = m;
    for (int i = 0; i < *count; i++)
        if (!listed(allowed, m[i]))
            return sy_fail(SY_ERR_ARG, "%s: --method %s is not supported here (%s)", sy_run_experiment(run)->name, m[i],
                           allowed);
    return SY_OK;
}
