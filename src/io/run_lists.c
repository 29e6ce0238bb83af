/* List-valued flags ("0.1,0.5,1"): one parser and one message for every
 * experiment's sweeps. */
#include <math.h>
#include <stdlib.h>

#include "syre/experiment.h"

sy_status sy_run_get_numbers(const sy_run *run, const char *flag, double lo, int lo_open, double hi, double *v,
                             int max, int *n)
{
    const char *exp = sy_run_experiment(run)->name, *text = sy_run_get_str(run, flag);
    *n = 0;
    for (const char *p = text; p && *p;) {
        char *end;
        double x = strtod(p, &end);
        while (*end == ' ') end++;
        if (end == p || !isfinite(x) || x < lo || (lo_open && x == lo) || x > hi || *n == max ||
            (*end && *end != ','))
            return sy_fail(SY_ERR_ARG, "%s: --%s needs up to %d comma-separated numbers in %c%g, %g], got '%s'", exp,
                           flag, max, lo_open ? '(' : '[', lo, hi, text);
        v[(*n)++] = x;
        p = *end ? end + 1 : end;
    }
    if (*n == 0) return sy_fail(SY_ERR_ARG, "%s: --%s is empty", exp, flag);
    return SY_OK;
}
