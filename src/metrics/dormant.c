/* The dormant-unit ratio (include/syre/metrics.h): ReDo's tau-dormant
 * fraction of a layer's units (Sokar et al. 2023, Definition 3.1). */
#include <math.h>
#include <stdlib.h>

#include "syre/metrics.h"

sy_status sy_dormant_ratio(const float *X, int n, int f, int hw, double tau, double *ratio, unsigned char *dormant)
{
    if (!X || !ratio || n < 1 || f < 1 || hw < 1)
        return sy_fail(SY_ERR_ARG, "dormant ratio: needs X and ratio and n, f, hw >= 1 (got n %d, f %d, hw %d)", n, f,
                       hw);
    if (!(tau >= 0)) return sy_fail(SY_ERR_ARG, "dormant ratio: tau must be >= 0, got %g", tau);
    double *s = calloc((size_t)f, sizeof(double));
    if (!s) return sy_fail(SY_ERR_NOMEM, "dormant ratio: out of memory (%d doubles)", f);
    size_t row = (size_t)f * (size_t)hw;
    for (int i = 0; i < n; i++)
        for (size_t k = 0; k < row; k++) {
            float v = X[(size_t)i * row + k];
            if (!isfinite(v)) {
                free(s);
                return sy_fail(SY_ERR_NUMERIC, "dormant ratio: X[%d, %zu] is not finite", i, k);
            }
            s[k / (size_t)hw] += fabs((double)v);
        }
    double mean = 0;
    for (int j = 0; j < f; j++) mean += s[j] / ((double)n * hw);
    mean /= f;
    int count = 0;
    for (int j = 0; j < f; j++) {
        int d = mean <= 0 || s[j] / ((double)n * hw) / mean <= tau;
        count += d;
        if (dormant) dormant[j] = (unsigned char)d;
    }
    free(s);
    *ratio = (double)count / f;
    return SY_OK;
}
