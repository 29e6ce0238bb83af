/* A method's final metrics in one call, the ones it did not measure (NaN:
 * an untrained record's training loss, a resumed finished run's) left out:
 * the summary block an experiment writes per record. */
#include <math.h>

#include "syre/experiment.h"

sy_status sy_run_summaries_measured(sy_run *run, const char *method, int n, const char *const *keys,
                                    const double *values)
{
    sy_status s = SY_OK;
    for (int i = 0; i < n && s == SY_OK; i++)
        if (!isnan(values[i])) s = sy_run_summary(run, method, keys[i], values[i]);
    return s;
}
