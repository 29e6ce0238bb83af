/* Identical units: a layer put into a low-capacity state (units that are
 * exact copies of one another, paper Sec. 3) and how far training has moved
 * the copies apart. Plain loops over the same layout as sy_distinct_units. */
#include "syre/metrics.h"

#include <math.h>
#include <string.h>

static sy_status check_copies(const char *fn, const float *W_in, int f, int in, const float *W_out, int out,
                              int ncopy)
{
    if (!W_in)
        return sy_fail(SY_ERR_ARG, "%s: W_in is NULL", fn);
    if (f < 1 || in < 1)
        return sy_fail(SY_ERR_ARG, "%s: W_in has shape [%d, %d]; need f >= 1 units, in >= 1", fn, f, in);
    if (W_out && out < 1)
        return sy_fail(SY_ERR_ARG, "%s: W_out has shape [%d, %d]; need out >= 1", fn, out, f);
    if (ncopy < 0 || ncopy > f)
        return sy_fail(SY_ERR_ARG, "%s: ncopy = %d must be in [0, %d]", fn, ncopy, f);
    return SY_OK;
}

sy_status sy_units_make_copies(float *W_in, int f, int in, float *b, float *W_out, int out, int ncopy,
                               int split)
{
    sy_status st = check_copies("sy_units_make_copies", W_in, f, in, W_out, out, ncopy);
    if (st != SY_OK)
        return st;
    if (W_out && split && ncopy > 1)
        for (int o = 0; o < out; o++)
            W_out[(size_t)o * f] /= (float)ncopy;
    for (int c = 1; c < ncopy; c++) {
        memcpy(W_in + (size_t)c * in, W_in, sizeof(float) * (size_t)in);
        if (b)
            b[c] = b[0];
        if (W_out)
            for (int o = 0; o < out; o++)
                W_out[(size_t)o * f + c] = W_out[(size_t)o * f];
    }
    return SY_OK;
}

sy_status sy_units_copy_spread(const float *W_in, int f, int in, const float *b, const float *W_out, int out,
                               int ncopy, double *spread)
{
    static const char fn[] = "sy_units_copy_spread";
    if (!spread)
        return sy_fail(SY_ERR_ARG, "%s: spread is NULL", fn);
    sy_status st = check_copies(fn, W_in, f, in, W_out, out, ncopy);
    if (st != SY_OK)
        return st;
    /* Differences of floats, taken in float as the parameters are stored. */
    double d = 0;
    for (int c = 1; c < ncopy; c++) {
        for (int j = 0; j < in; j++)
            d = fmax(d, fabs(W_in[(size_t)c * in + j] - W_in[j]));
        if (b)
            d = fmax(d, fabs(b[c] - b[0]));
        if (W_out)
            for (int o = 0; o < out; o++)
                d = fmax(d, fabs(W_out[(size_t)o * f + c] - W_out[(size_t)o * f]));
    }
    /* fmax drops a NaN, which would read as "still copies": refuse it. */
    for (int c = 0; c < ncopy; c++) {
        int bad = b && !isfinite(b[c]);
        for (int j = 0; j < in && !bad; j++)
            bad = !isfinite(W_in[(size_t)c * in + j]);
        for (int o = 0; W_out && o < out && !bad; o++)
            bad = !isfinite(W_out[(size_t)o * f + c]);
        if (bad)
            return sy_fail(SY_ERR_NUMERIC, "%s: a parameter of unit %d is not finite", fn, c);
    }
    *spread = d;
    return SY_OK;
}
