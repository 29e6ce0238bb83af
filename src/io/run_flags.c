/* A sweep whose single-value flag overrides its list (--fraction over
 * --fractions), read the same way in every experiment. */
#include "syre/experiment.h"

sy_status sy_run_get_numbers_or(const sy_run *run, const char *one, const char *list, double lo, int lo_open,
                                double hi, double *v, int max, int *n)
{
    if (!sy_run_is_set(run, one)) return sy_run_get_numbers(run, list, lo, lo_open, hi, v, max, n);
    *n = 1;
    v[0] = sy_run_get_double(run, one);
    return SY_OK;
}
