/* Final metrics several at a time, and under keys built from a sweep's
 * setting ("dead_units gamma=0.1"): the summary.json bookkeeping an
 * experiment otherwise repeats a line per key. Both go through
 * sy_run_summary, so their records are its records. */
#include <stdarg.h>
#include <stdio.h>

#include "syre/experiment.h"

sy_status sy_run_summaries(sy_run *run, const char *method, int n, const char *const *keys, const double *values)
{
    sy_status s = SY_OK;
    for (int k = 0; k < n && s == SY_OK; k++) s = sy_run_summary(run, method, keys[k], values[k]);
    return s;
}

sy_status sy_run_summaryf(sy_run *run, const char *method, double value, const char *fmt, ...)
{
    char key[1024];
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(key, sizeof key, fmt, ap);
    va_end(ap);
    if (len < 0 || (size_t)len >= sizeof key)
        return sy_fail(SY_ERR_ARG, "summary key of %s longer than %zu characters: '%.40s...'", method,
                       sizeof key - 1, key);
    return sy_run_summary(run, method, key, value);
}
