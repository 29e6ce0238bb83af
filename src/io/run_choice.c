/* Flags read the same way in every experiment: a string flag that names one
 * of a few choices, and a sweep whose single-value flag overrides its list.
 * One message each, naming the experiment and the flag. */
#include <string.h>

#include "syre/experiment.h"

sy_status sy_run_get_choice(const sy_run *run, const char *flag, const char *choices, int *index)
{
    const char *exp = sy_run_experiment(run)->name, *v = sy_run_get_str(run, flag);
    size_t len = v ? strlen(v) : 0;
    int i = 0;
    for (const char *p = choices; p && *p; i++) {
        size_t n = strcspn(p, ",");
        if (v && n == len && strncmp(p, v, n) == 0) {
            *index = i;
            return SY_OK;
        }
        p += p[n] ? n + 1 : n;
    }
    return sy_fail(SY_ERR_ARG, "%s: --%s must be one of %s, not '%s'", exp, flag, choices ? choices : "",
                   v ? v : "");
}

sy_status sy_run_get_numbers_or(const sy_run *run, const char *one, const char *list, double lo, int lo_open,
                                double hi, double *v, int max, int *n)
{
    if (!sy_run_is_set(run, one)) return sy_run_get_numbers(run, list, lo, lo_open, hi, v, max, n);
    *n = 1;
    v[0] = sy_run_get_double(run, one);
    return SY_OK;
}
