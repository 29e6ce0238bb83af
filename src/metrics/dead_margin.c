/* How far a layer's units are from the dead state of sy_dead_units_param:
 * the smallest threshold at which one of them would count as dead. */
#include "syre/metrics.h"

#include <math.h>

sy_status sy_dead_units_margin(const float *W_in, int f, int in, const float *b, const float *W_out, int out,
                               double *margin)
{
    static const char fn[] = "sy_dead_units_margin";
    if (!margin || !W_in)
        return sy_fail(SY_ERR_ARG, "%s: %s is NULL", fn, !margin ? "margin" : "W_in");
    if (f < 1 || in < 1 || (W_out && out < 1))
        return sy_fail(SY_ERR_ARG, "%s: need f >= 1 units, in >= 1 and out >= 1 (got %d, %d, %d)", fn, f, in, out);
    double m = INFINITY;
    for (int i = 0; i < f; i++) {
        double u = 0; /* the largest |parameter| of unit i */
        for (int j = 0; j < in; j++)
            u = fmax(u, fabs(W_in[(size_t)i * in + j]));
        if (b)
            u = fmax(u, fabs(b[i]));
        for (int o = 0; W_out && o < out; o++)
            u = fmax(u, fabs(W_out[(size_t)o * f + i]));
        int bad = !isfinite(b ? b[i] : 0.0f);
        for (int j = 0; j < in && !bad; j++)
            bad = !isfinite(W_in[(size_t)i * in + j]);
        for (int o = 0; W_out && o < out && !bad; o++)
            bad = !isfinite(W_out[(size_t)o * f + i]);
        if (bad) /* fmax would drop a NaN */
            return sy_fail(SY_ERR_NUMERIC, "%s: a parameter of unit %d is not finite", fn, i);
        m = fmin(m, u);
    }
    *margin = m;
    return SY_OK;
}
