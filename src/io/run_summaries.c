/* Several final metrics of a method in one call: the summary block an
 * experiment writes per record, with the metrics it did not measure left
 * out. */
#include <math.h>

#include "syre/experiment.h"

sy_status sy_run_summaries(sy_run *run, const char *method, int n, const char *const *keys, const double *values)
{
    sy_status s = SY_OK;
    for (int i = 0; i < n && s == SY_OK; i++)
        if (!isnan(values[i])) s = sy_run_summary(run, method, keys[i], values[i]);
    return s;
}
