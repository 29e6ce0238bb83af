/* Paper Section 5, Fig. 2: the degree of symmetry of the quartic toy's
 * solutions against their objective, for each method over the paper's sweep
 * of its hyperparameter (quartic.h), on the unstructured and the structured
 * spectrum: `syre reproduce fig2`; and Theorem 6's scaling, the degree
 * against gamma * sigma0 over syre's series. The model, its training and the single
 * setting's run are in quartic.c. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "quartic.h"

/* syre's anchor scale is not given for Fig. 2; unless --sigma0 is set, the
 * reproduction draws one syre series per sigma0 in this list. */
static const double SWEEP_SIGMA0[] = {0.01, 0.1, 1};
#define SWEEP_NS 3

/* One series of Fig. 2 (syre's at c->sigma0): the method at each value of
 * its sweep, trained from the common init, printed, recorded as
 * "<spectrum> [k] <what>" and drawn as one curve of pl; deg (if not NULL)
 * gets each value's degree of symmetry. */
static sy_status fig2_series(sy_run *run, const qctx *c, const char *method, double fstar, sy_plot *pl, double *deg)
{
    const char *sp = quartic_spectra[c->structured];
    const qmethod *q = quartic_method(method);
    int is_syre = !strncmp(method, "syre", 4), none = !strcmp(method, "none");
    char series[64], logfile[64], lab[96];
    if (is_syre) snprintf(series, sizeof series, "%s s0=%g", method, c->sigma0);
    else snprintf(series, sizeof series, "%s", method);
    snprintf(logfile, sizeof logfile, "metrics-%s.csv", sp);
    double ox[SWEEP_N], oy[SWEEP_N];
    sy_status s = SY_OK;
    for (int k = 0; s == SY_OK && k < q->nsweep; k++) {
        char label[128]; /* names its rows and checkpoint */
        double h = q->sweep[k], gn;
        if (none) snprintf(label, sizeof label, "%s-none", sp);
        else if (is_syre) snprintf(label, sizeof label, "%s-%s-s%g-%s%g", sp, method, c->sigma0, q->hyper, h);
        else snprintf(label, sizeof label, "%s-%s-%s%g", sp, method, q->hyper, h);
        sy_quartic_point r = {0};
        if ((s = quartic_train_one(run, c, method, h, label, logfile, &r, &gn)) != SY_OK) break;
        ox[k] = r.objective - fstar;
        oy[k] = r.diverged ? NAN : r.degree;
        if (deg) deg[k] = oy[k];
        printf("%-16s %-6s %8g %12.5f %12.5g %10d\n", series, q->hyper, h, r.objective, r.objective - fstar,
               r.degree);
        fflush(stdout);
        sy_run_summaryf(run, series, h, "%s [%d] %s", sp, k + 1, none ? "hyper" : q->hyper);
        sy_run_summaryf(run, series, r.objective, "%s [%d] objective", sp, k + 1);
        sy_run_summaryf(run, series, oy[k], "%s [%d] degree_of_symmetry", sp, k + 1);
    }
    if (s != SY_OK) return s;
    if (is_syre) snprintf(lab, sizeof lab, "%s sigma0 %g, gamma 0.1-10", method, c->sigma0);
    else snprintf(lab, sizeof lab, "%s", q->legend ? q->legend : method);
    return sy_plot_series(pl, lab, ox, oy, q->nsweep, q->nsweep > 1 ? SY_PLOT_LINE_POINTS : SY_PLOT_POINTS);
}

/* Theorem 6: syre breaks symmetry with a strength of order gamma * sigma0,
 * so its degree of symmetry against that product should fall on one curve
 * whatever the split, while gamma stays small against the spectrum (a large
 * gamma also pulls w toward 0, a symmetric point). One series per sigma0 of
 * syre's sweep; deg[i][k] at the k-th gamma of the sweep and sigma0 sig[i]. */
static sy_status thm6_figure(sy_run *run, const qctx *c, int nsig, const double *sig, double deg[][SWEEP_N])
{
    const char *sp = quartic_spectra[c->structured];
    const qmethod *q = quartic_method("syre");
    char title[160], name[64], label[64];
    snprintf(title, sizeof title, "Theorem 6, %s B (d = %d): syre's degree of symmetry", sp, c->d);
    sy_plot *pl = sy_plot_new(title, "gamma * sigma0 (symmetry-breaking strength)",
                              "degree of symmetry #{i : |v_i^T w| < c_th}");
    if (pl) sy_plot_log_axes(pl, 1, 0);
    sy_status s = pl ? SY_OK : sy_fail(SY_ERR_NOMEM, "quartic: out of memory");
    for (int i = 0; s == SY_OK && i < nsig; i++) {
        double x[SWEEP_N];
        for (int k = 0; k < q->nsweep; k++) x[k] = q->sweep[k] * sig[i];
        snprintf(label, sizeof label, "sigma0 %g, gamma 0.1-10", sig[i]);
        s = sy_plot_series(pl, label, x, deg[i], q->nsweep, SY_PLOT_LINE_POINTS);
    }
    snprintf(name, sizeof name, "quartic-thm6-%s", sp);
    if (s != SY_OK) {
        sy_plot_free(pl);
        return s;
    }
    return sy_plot_save_run(pl, run, name);
}

sy_status quartic_reproduce(sy_run *run)
{
    int which[2] = {0, 1}, nspec = 2;
    sy_status s = SY_OK;
    if (sy_run_is_set(run, "spectrum")) {
        if ((s = sy_run_get_choice(run, "spectrum", 2, quartic_spectra, &which[0])) != SY_OK) return s;
        nspec = 1;
    }
    int nm;
    const char *const *methods = sy_run_methods(run, &nm);
    int nsig = sy_run_is_set(run, "sigma0") ? 1 : SWEEP_NS;
    for (int si = 0; s == SY_OK && si < nspec; si++) {
        const char *sp = quartic_spectra[which[si]];
        qctx c;
        if ((s = quartic_ctx_init(&c, run, which[si])) != SY_OK) {
            quartic_ctx_free(&c);
            break;
        }
        double fstar = -c.lambda1 * c.lambda1 / 4, sigma0_flag = c.sigma0, lr = sy_run_get_double(run, "lr");
        fprintf(stderr, "quartic fig. 2, %s: d = %d, lambda1 = %.4f (f* = %.4f), c_th = %g, %ld steps/setting\n", sp,
                c.d, c.lambda1, fstar, c.c_th, c.steps);
        char title[200], base[64];
        snprintf(title, sizeof title, "Fig. 2, %s B (d = %d, c_th = %g, %ld GD steps, lr %g)", sp, c.d, c.c_th,
                 c.steps, lr);
        sy_plot *pl = sy_plot_new(title, "objective above the optimum, f(w) - f*  (f* = -lambda1^2/4)",
                                  "degree of symmetry #{i : |v_i^T w| < c_th}");
        if (!pl) s = sy_fail(SY_ERR_NOMEM, "quartic: out of memory");
        else sy_plot_log_axes(pl, 1, 0);
        printf("\nFig. 2, %s B (d = %d, %ld steps, lr %g, c_th %g): optimum f* = %.5f\n", sp, c.d, c.steps, lr,
               c.c_th, fstar);
        printf("%-16s %-6s %8s %12s %12s %10s\n", "series", "hyper", "value", "objective", "f - f*", "sym.degree");
        double deg[SWEEP_NS][SWEEP_N], sig[SWEEP_NS]; /* syre's series, for Theorem 6's figure */
        int nthm = 0;
        for (int m = 0; s == SY_OK && m < nm; m++) {
            int is_syre = !strncmp(methods[m], "syre", 4), thm = !strcmp(methods[m], "syre");
            for (int sg = 0; s == SY_OK && sg < (is_syre ? nsig : 1); sg++) {
                c.sigma0 = is_syre && nsig > 1 ? SWEEP_SIGMA0[sg] : sigma0_flag;
                s = fig2_series(run, &c, methods[m], fstar, pl, thm ? deg[nthm] : NULL);
                if (s == SY_OK && thm) sig[nthm++] = c.sigma0;
            }
        }
        if (s == SY_OK) sy_run_summaryf(run, "none", fstar, "%s f*", sp);
        snprintf(base, sizeof base, "quartic-fig2-%s", sp);
        if (s == SY_OK) s = sy_plot_save_run(pl, run, base);
        else sy_plot_free(pl);
        if (s == SY_OK && nthm > 0) s = thm6_figure(run, &c, nthm, sig, deg);
        quartic_ctx_free(&c);
    }
    return s;
}

