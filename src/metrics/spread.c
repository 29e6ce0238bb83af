/* The spread of repeated measurements (one setting over several seeds): the
 * mean and the sample standard deviation that a sweep records and draws. */
#include <math.h>

#include "syre/metrics.h"

sy_status sy_mean_std(const double *v, int n, double *mean, double *sd)
{
    if (!v || n < 1) return sy_fail(SY_ERR_ARG, "sy_mean_std: needs n >= 1 values, got %d", n);
    double m = 0, ss = 0;
    for (int k = 0; k < n; k++) {
        if (!isfinite(v[k])) return sy_fail(SY_ERR_NUMERIC, "sy_mean_std: value %d of %d is %g", k, n, v[k]);
        m += v[k] / n;
    }
    for (int k = 0; k < n; k++) ss += (v[k] - m) * (v[k] - m);
    if (mean) *mean = m;
    if (sd) *sd = n > 1 ? sqrt(ss / (n - 1)) : 0;
    return SY_OK;
}
