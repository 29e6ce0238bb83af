/* Figures drawn in one call from arrays, saved in a run directory: metric
 * curves of several methods (or settings) against one shared x, a swept
 * variable or the epochs, each with an optional dashed companion curve (test
 * beside train, post-activation beside pre) and a dashed reference level
 * (chance accuracy); and the eigenvalue spectra of several methods with a
 * threshold. Each call builds, saves and frees its figure, so that an
 * experiment states only what is particular to it. */
#include "plot_internal.h"
#include "syre/plot.h"

#include <stdio.h>
#include <stdlib.h>

/* "<label> <suffix>", or the label alone without a suffix. */
static const char *series_label(const char *label, const char *suffix, char *buf, size_t size)
{
    if (!suffix || !*suffix) return label ? label : "";
    snprintf(buf, size, "%s %s", label ? label : "", suffix);
    return buf;
}

sy_status sy_plot_sweep(const sy_run *run, const char *name, const sy_plot_opts *o, const double *x, int n,
                        int ng, const char *const *labels, const double *const *y, const double *const *y2)
{
    if (!run || !name || !o || !x || n < 1 || ng < 0 || (ng > 0 && (!labels || !y)))
        return sy_fail(SY_ERR_ARG, "plot: sweep figure '%s' without data", name ? name : "");
    sy_plot *p = sy_plot_new(o->title, o->xlabel, o->ylabel);
    if (!p) return sy_fail(SY_ERR_NOMEM, "plot: out of memory");
    /* One point draws no line: markers only. */
    sy_plot_style solid = n > 1 ? SY_PLOT_LINE_POINTS : SY_PLOT_POINTS;
    sy_plot_style dashed = n > 1 ? SY_PLOT_DASHED : SY_PLOT_POINTS;
    const char *const *labels2 = o->labels2 ? o->labels2 : labels;
    char lab[256];
    sy_status s = SY_OK;
    for (int g = 0; g < ng && s == SY_OK; g++) {
        s = sy_plot_series(p, series_label(labels[g], o->suffix, lab, sizeof lab), x, y[g], n, solid);
        if (s == SY_OK && y2)
            s = sy_plot_series(p, series_label(labels2[g], o->suffix2, lab, sizeof lab), x, y2[g], n, dashed);
    }
    if (s == SY_OK && o->ref_label) {
        double xs[2] = {x[0], x[n - 1]}, ys[2] = {o->ref, o->ref};
        s = sy_plot_series(p, o->ref_label, xs, ys, 2, SY_PLOT_DASHED);
    }
    return plot_finish_run(p, s, o, run, name);
}

sy_status sy_plot_spectra(const sy_run *run, const char *name, const sy_plot_opts *o, int n, int nm,
                          const char *const *labels, const double *const *eig)
{
    if (!run || !name || !o || n < 1 || nm < 0 || (nm > 0 && (!labels || !eig)))
        return sy_fail(SY_ERR_ARG, "plot: spectra figure '%s' without data", name ? name : "");
    sy_plot *p = sy_plot_new(o->title, o->xlabel, o->ylabel);
    float *v = malloc(2 * (size_t)n * sizeof *v); /* a spectrum, then the indices */
    sy_status s = p && v ? SY_OK : sy_fail(SY_ERR_NOMEM, "plot: out of memory");
    for (int m = 0; m < nm && s == SY_OK; m++) {
        for (int i = 0; i < n; i++) v[i] = (float)eig[m][i];
        s = sy_plot_spectrum(p, labels[m], v, n, 1e-12);
    }
    if (s == SY_OK && o->ref_label) {
        /* a level at every index, as a spectrum is drawn (the legend avoids it alike) */
        float *idx = v + n;
        for (int i = 0; i < n; i++) idx[i] = (float)(i + 1), v[i] = (float)o->ref;
        s = sy_plot_series_f(p, o->ref_label, idx, v, n, SY_PLOT_DASHED);
    }
    free(v);
    if (s != SY_OK) {
        sy_plot_free(p);
        return s;
    }
    return sy_plot_save_run(p, run, name);
}
