/* Flat and repeated eigenvalues of a spectrum: how a continuous symmetry of
 * a loss shows in its Hessian at a minimum. An exact symmetry moves the
 * minimum along its orbit at no cost (zero eigenvalues); where a decay term
 * lifts the orbit but is itself invariant under a subgroup, the eigenvalues
 * of the directions that subgroup mixes stay equal (a multiplet). */
#include "syre/metrics.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

sy_status sy_spectrum_degeneracy(const double *eig, int n, double tol, int *flat, int *multiplicity)
{
    if (!eig || !flat || !multiplicity || n < 1)
        return sy_fail(SY_ERR_ARG, "sy_spectrum_degeneracy: NULL argument or n = %d < 1", n);
    if (!(tol >= 0 && tol < 1)) return sy_fail(SY_ERR_ARG, "sy_spectrum_degeneracy: tol %g outside [0, 1)", tol);
    double top = 0;
    for (int i = 0; i < n; i++) {
        if (!isfinite(eig[i])) return sy_fail(SY_ERR_NUMERIC, "sy_spectrum_degeneracy: eigenvalue %d is %g", i, eig[i]);
        if (fabs(eig[i]) > top) top = fabs(eig[i]);
    }
    double *v = malloc(sizeof(double) * (size_t)n);
    if (!v) return sy_fail(SY_ERR_NOMEM, "sy_spectrum_degeneracy: out of memory");
    double gap = tol * top;
    int nf = 0, m = 0;
    for (int i = 0; i < n; i++) {
        if (fabs(eig[i]) <= gap) nf++;
        else v[m++] = eig[i];
    }
    qsort(v, (size_t)m, sizeof(double), cmp_double);
    int best = m > 0, run = 1;
    for (int i = 1; i < m; i++) {
        run = v[i] - v[i - 1] <= gap ? run + 1 : 1;
        if (run > best) best = run;
    }
    free(v);
    *flat = nf;
    *multiplicity = best;
    return SY_OK;
}
