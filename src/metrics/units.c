/* Unit-level diagnostics of collapse: dead units (from activations or from
 * parameters), the number of distinct (non-identical) units of a layer, and
 * weight norms. Plain loops: every metric here is O(parameters) or close. */
#include "syre/metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* A NaN compares false with everything, so an unchecked NaN unit would count
 * as alive and distinct: report it instead. */
static sy_status check_finite(const char *fn, const char *name, const float *a, int rows,
                              int cols)
{
    for (size_t r = 0; r < (size_t)rows; r++)
        for (int c = 0; c < cols; c++) {
            float v = a[r * (size_t)cols + c];
            if (!isfinite(v))
                return sy_fail(SY_ERR_NUMERIC, "%s: %s[%zu, %d] = %g is not finite", fn, name,
                               r, c, (double)v);
        }
    return SY_OK;
}

/* Shared argument checks of the parameter-based metrics. */
static sy_status check_layer(const char *fn, const float *W_in, int f, int in, const float *b,
                             const float *W_out, int out, float thr, const char *thr_name)
{
    if (!W_in)
        return sy_fail(SY_ERR_ARG, "%s: W_in is NULL", fn);
    if (f < 1 || in < 1)
        return sy_fail(SY_ERR_ARG, "%s: W_in has shape [%d, %d]; need f >= 1 units, in >= 1",
                       fn, f, in);
    if (W_out && out < 1)
        return sy_fail(SY_ERR_ARG, "%s: W_out has shape [%d, %d]; need out >= 1", fn, out, f);
    if (!(thr >= 0) || !isfinite(thr))
        return sy_fail(SY_ERR_ARG, "%s: %s = %g must be >= 0 and finite", fn, thr_name,
                       (double)thr);
    sy_status st = check_finite(fn, "W_in", W_in, f, in);
    if (st == SY_OK && b)
        st = check_finite(fn, "b", b, 1, f);
    if (st == SY_OK && W_out)
        st = check_finite(fn, "W_out", W_out, out, f);
    return st;
}

/* Writes count and the optional per-unit flags from alive [f]. */
static void finish_dead(const unsigned char *alive, int f, int *count, unsigned char *dead)
{
    int c = 0;
    for (int j = 0; j < f; j++) {
        c += !alive[j];
        if (dead)
            dead[j] = !alive[j];
    }
    *count = c;
}

sy_status sy_dead_units_act(const float *X, int n, int f, float thr, int *count,
                            unsigned char *dead)
{
    static const char fn[] = "sy_dead_units_act";
    if (!X || !count)
        return sy_fail(SY_ERR_ARG, "%s: %s is NULL", fn, !X ? "X" : "count");
    if (n < 1 || f < 1)
        return sy_fail(SY_ERR_ARG, "%s: X has shape [%d, %d]; need n >= 1 and f >= 1", fn, n, f);
    if (!isfinite(thr))
        return sy_fail(SY_ERR_ARG, "%s: threshold %g is not finite", fn, (double)thr);
    unsigned char *alive = calloc((size_t)f, 1);
    if (!alive)
        return sy_fail(SY_ERR_NOMEM, "%s: no memory for %d flags", fn, f);
    /* Row by row, so X is read once in memory order. */
    for (size_t s = 0; s < (size_t)n; s++) {
        const float *x = X + s * (size_t)f;
        for (int j = 0; j < f; j++) {
            if (!isfinite(x[j])) {
                free(alive);
                return sy_fail(SY_ERR_NUMERIC, "%s: X[%zu, %d] = %g is not finite", fn, s, j,
                               (double)x[j]);
            }
            alive[j] |= x[j] > thr;
        }
    }
    finish_dead(alive, f, count, dead);
    free(alive);
    return SY_OK;
}

sy_status sy_dead_units_param(const float *W_in, int f, int in, const float *b,
                              const float *W_out, int out, float thr, int *count,
                              unsigned char *dead)
{
    static const char fn[] = "sy_dead_units_param";
    if (!count)
        return sy_fail(SY_ERR_ARG, "%s: count is NULL", fn);
    sy_status st = check_layer(fn, W_in, f, in, b, W_out, out, thr, "threshold");
    if (st != SY_OK)
        return st;
    unsigned char *alive = calloc((size_t)f, 1);
    if (!alive)
        return sy_fail(SY_ERR_NOMEM, "%s: no memory for %d flags", fn, f);
    for (int i = 0; i < f; i++) {
        const float *w = W_in + (size_t)i * in;
        for (int k = 0; k < in && !alive[i]; k++)
            alive[i] = fabsf(w[k]) > thr;
        if (b && fabsf(b[i]) > thr)
            alive[i] = 1;
    }
    if (W_out)
        for (size_t o = 0; o < (size_t)out; o++) {
            const float *w = W_out + o * (size_t)f;
            for (int i = 0; i < f; i++)
                alive[i] |= fabsf(w[i]) > thr;
        }
    finish_dead(alive, f, count, dead);
    free(alive);
    return SY_OK;
}

static int uf_find(int *parent, int i)
{
    while (parent[i] != i) {
        parent[i] = parent[parent[i]];   /* path halving keeps chains short */
        i = parent[i];
    }
    return i;
}

/* max |a - b| <= tol over k entries, stopping at the first that differs. */
static int close_within(const float *a, const float *b, int k, float tol)
{
    for (int i = 0; i < k; i++)
        if (fabsf(a[i] - b[i]) > tol)
            return 0;
    return 1;
}

sy_status sy_distinct_units(const float *W_in, int f, int in, const float *b,
                            const float *W_out, int out, float tol, int *classes)
{
    static const char fn[] = "sy_distinct_units";
    if (!classes)
        return sy_fail(SY_ERR_ARG, "%s: classes is NULL", fn);
    sy_status st = check_layer(fn, W_in, f, in, b, W_out, out, tol, "tol");
    if (st != SY_OK)
        return st;
    int *parent = malloc((size_t)f * sizeof *parent);
    /* Outgoing columns transposed to rows [f, out] so each comparison reads
     * contiguous memory instead of striding by f. */
    float *WoT = W_out ? malloc((size_t)f * (size_t)out * sizeof *WoT) : NULL;
    if (!parent || (W_out && !WoT)) {
        free(parent);
        free(WoT);
        return sy_fail(SY_ERR_NOMEM, "%s: no memory for %d units", fn, f);
    }
    for (int i = 0; i < f; i++)
        parent[i] = i;
    if (W_out)
        for (size_t o = 0; o < (size_t)out; o++)
            for (size_t i = 0; i < (size_t)f; i++)
                WoT[i * out + o] = W_out[o * f + i];
    /* "Within tol" is not transitive, so classes are the connected components
     * of the closeness graph (union-find); pairs already joined are skipped. */
    int n_classes = f;
    for (int i = 0; i < f; i++)
        for (int j = i + 1; j < f; j++) {
            int ri = uf_find(parent, i), rj = uf_find(parent, j);
            if (ri == rj)
                continue;
            if (b && !(fabsf(b[i] - b[j]) <= tol))
                continue;
            if (!close_within(W_in + (size_t)i * in, W_in + (size_t)j * in, in, tol))
                continue;
            if (W_out && !close_within(WoT + (size_t)i * out, WoT + (size_t)j * out, out, tol))
                continue;
            parent[rj] = ri;
            n_classes--;
        }
    *classes = n_classes;
    free(parent);
    free(WoT);
    return SY_OK;
}

sy_status sy_frobenius_norm(const float *W, size_t numel, double *norm)
{
    static const char fn[] = "sy_frobenius_norm";
    if (!norm || (!W && numel > 0))
        return sy_fail(SY_ERR_ARG, "%s: %s is NULL", fn, !norm ? "norm" : "W");
    /* float^2 cannot overflow a double, so no rescaling pass is needed. */
    double acc = 0.0;
    for (size_t i = 0; i < numel; i++) {
        if (!isfinite(W[i]))
            return sy_fail(SY_ERR_NUMERIC, "%s: W[%zu] = %g is not finite", fn, i, (double)W[i]);
        acc += (double)W[i] * W[i];
    }
    *norm = sqrt(acc);
    return SY_OK;
}

sy_status sy_active_units(const float *X, int n, int f, double thr, int *count, double *var_max)
{
    static const char fn[] = "sy_active_units";
    if (!X || !count)
        return sy_fail(SY_ERR_ARG, "%s: X or count is NULL", fn);
    if (n < 1 || f < 1)
        return sy_fail(SY_ERR_ARG, "%s: X has shape [%d, %d]; need n >= 1, f >= 1", fn, n, f);
    sy_status st = check_finite(fn, "X", X, n, f);
    if (st != SY_OK)
        return st;
    int active = 0;
    double vmax = 0;
    for (int j = 0; j < f; j++) {
        double m = 0, v = 0;
        for (int i = 0; i < n; i++)
            m += X[(size_t)i * f + j];
        m /= n;
        for (int i = 0; i < n; i++) {
            double d = X[(size_t)i * f + j] - m;
            v += d * d;
        }
        v /= n;
        if (v > thr)
            active++;
        if (v > vmax)
            vmax = v;
    }
    *count = active;
    if (var_max)
        *var_max = vmax;
    return SY_OK;
}
