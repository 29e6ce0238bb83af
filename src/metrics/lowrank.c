/* Low-rankness of a representation in one call (include/syre/metrics.h):
 * the Table 1 share, its relative form, the spectrum's extremes and the
 * effective rank. */
#include "syre/metrics.h"

#include <stdlib.h>

sy_status sy_low_rankness_measures(const float *X, int n, int f, double thr, sy_low_rankness *r, double *eig)
{
    if (!r || f < 1) return sy_fail(SY_ERR_ARG, "sy_low_rankness_measures: r is NULL or f = %d < 1", f);
    double *e = eig ? eig : malloc(sizeof(double) * (size_t)f);
    if (!e) return sy_fail(SY_ERR_NOMEM, "sy_low_rankness_measures: out of memory");
    sy_status s = sy_cov_spectrum(X, n, f, e);
    if (s == SY_OK) {
        r->share = sy_spectrum_share_below(e, f, thr);
        r->eig_max = e[0];
        r->eig_min = e[f - 1];
        r->share_rel = sy_spectrum_share_below(e, f, thr * (e[0] > 0 ? e[0] : 0));
        s = sy_effective_rank(X, n, f, &r->erank);
    }
    if (!eig) free(e);
    return s;
}
