/* Figures with cairo, each saved as PNG and SVG: line and scatter plots with
 * several series and a legend (placed where it hides the fewest points),
 * optional log axes, eigenvalue spectra, and grids of grayscale images.
 * The plot component (libsyre_plot; CMake syre::plot, pkg-config
 * syre-plot), built where CMake finds cairo: libsyre itself never links it. */
#ifndef SYRE_PLOT_H
#define SYRE_PLOT_H

#include "syre/core.h"
#include "syre/experiment.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sy_plot sy_plot;

typedef enum {
    SY_PLOT_LINE = 0,     /* solid line */
    SY_PLOT_POINTS,       /* markers only (scatter) */
    SY_PLOT_LINE_POINTS,  /* line with markers */
    SY_PLOT_DASHED        /* dashed line (reference curves) */
} sy_plot_style;

/* A new empty figure; NULL only when out of memory. */
sy_plot *sy_plot_new(const char *title, const char *xlabel, const char *ylabel);
void sy_plot_free(sy_plot *p);
/* Add a series of n points (copied). x may be NULL: x = 0, 1, ..., n-1.
 * Series get distinct colours and, for points, distinct markers, in order.
 * Non-finite points (and non-positive ones on a log axis) are skipped, and
 * lines break there. */
sy_status sy_plot_series(sy_plot *p, const char *label, const double *x, const double *y,
                         int n, sy_plot_style style);
/* Same from floats (e.g. metrics buffers). */
sy_status sy_plot_series_f(sy_plot *p, const char *label, const float *x, const float *y,
                           int n, sy_plot_style style);
/* Eigenvalue spectrum: values sorted descending, plotted against index
 * 1..n on a log-y axis (values <= floor are drawn at floor, default 1e-12
 * when floor <= 0). */
sy_status sy_plot_spectrum(sy_plot *p, const char *label, const float *eig, int n, double floor);
void sy_plot_log_axes(sy_plot *p, int logx, int logy);
/* Fix an axis range (min < max), otherwise it fits the data. */
void sy_plot_xrange(sy_plot *p, double min, double max);
void sy_plot_yrange(sy_plot *p, double min, double max);
/* Write <base>.png and <base>.svg (base is the path without extension). */
sy_status sy_plot_save(const sy_plot *p, const char *base);

/* Save p into a run's directory as <run dir>/<name>.png and .svg, then free
 * p (also on failure). p NULL (sy_plot_new ran out of memory) fails with
 * SY_ERR_NOMEM. */
sy_status sy_plot_save_run(sy_plot *p, const sy_run *run, const char *name);
/* One figure with a series per label, y[m][0..n) against x (NULL: 0..n-1)
 * in the given style, saved with sy_plot_save_run: the per-method curve of
 * a comparison. */
sy_status sy_plot_methods(const sy_run *run, const char *name, const char *title, const char *xlabel,
                          const char *ylabel, const double *x, int n, int nm, const char *const *labels,
                          const double *const *y, sy_plot_style style);

/* A rows x cols grid of grayscale images (count <= rows*cols, each h x w
 * floats row-major, image i at row i / cols), pixel value v drawn as
 * (v - vmin) / (vmax - vmin) clamped to [0, 1]; row_labels (may be NULL,
 * entries may be NULL) are written left of each row. Writes <base>.png/.svg. */
sy_status sy_plot_image_grid(const char *base, const char *title, const float *images,
                             int count, int h, int w, int rows, int cols,
                             const char *const *row_labels, float vmin, float vmax);

/* ---- Figures in one call, saved in a run directory (src/plot/figures.c) ------- */

/* The look of a figure drawn in one call; zero-initialised fields are off. */
typedef struct {
    const char *title, *xlabel, *ylabel;
    const char *suffix, *suffix2;  /* appended with a space to the labels of the y and y2 curves */
    const char *const *labels2;    /* labels of the y2 curves (NULL: the labels of y) */
    int logx;                      /* log x axis */
    double ymin, ymax;             /* fixed y range where ymin < ymax, else fitted to the data */
    const char *ref_label;         /* not NULL: a dashed level at ref from x[0] to x[n-1], drawn last */
    double ref;
    int logy;                      /* log y axis (sy_plot_sweep, sy_plot_xy) */
} sy_plot_opts;

/* Curves against one x[0..n) (a swept variable, epochs): for g < ng,
 * y[g][0..n) as a line with markers labelled "<labels[g]> <suffix>", then,
 * where y2 is not NULL, y2[g][0..n) dashed labelled "<labels2[g]> <suffix2>";
 * with n = 1 both are markers only. Non-finite values are skipped. Saved as
 * <run dir>/<name>.png and .svg. */
sy_status sy_plot_sweep(const sy_run *run, const char *name, const sy_plot_opts *o, const double *x, int n,
                        int ng, const char *const *labels, const double *const *y, const double *const *y2);
/* Eigenvalue spectra eig[m][0..n) of nm methods (sy_plot_spectrum each,
 * labelled labels[m], values below 1e-12 drawn there), then, where
 * o->ref_label is set, a dashed threshold at o->ref over the indices 1..n.
 * Only o's title, axis labels and reference are used. Saved as
 * <run dir>/<name>.png and .svg. */
sy_status sy_plot_spectra(const sy_run *run, const char *name, const sy_plot_opts *o, int n, int nm,
                          const char *const *labels, const double *const *eig);

/* n images of a above the same n of b, row for row: rows of `cols` images
 * (n a multiple of cols) alternate a's and b's, labelled label_a and label_b
 * (either may be NULL); e.g. test images and their reconstructions. Pixels
 * as sy_plot_image_grid. Writes <base>.png/.svg. */
sy_status sy_plot_image_pairs(const char *base, const char *title, const float *a, const float *b, int n, int h,
                              int w, int cols, const char *label_a, const char *label_b, float vmin, float vmax);

/* The figure of sy_plot_methods, not saved, for a caller that sets a range
 * or log axes first (then sy_plot_save_run); NULL on failure (the reason
 * in sy_last_error; sy_plot_save_run then fails with SY_ERR_NOMEM). */
sy_plot *sy_plot_methods_new(const char *title, const char *xlabel, const char *ylabel, const double *x, int n, int nm,
                             const char *const *labels, const double *const *y, sy_plot_style style);

/* ---- A setting over repeats (src/plot/seeds.c) -------------------------------- */

/* Values v[i * nk + k] of nk repeats (seeds) at each x[i], i < n: the mean
 * over the repeats (sy_mean_std) as a line with markers labelled "mean over
 * seeds", mean + std and mean - std dashed ("mean + std", "mean - std"),
 * then every value as a marker ("each seed"). o's title, axis labels, log
 * axes and y range are used. Saved as <run dir>/<name>.png and .svg. */
sy_status sy_plot_seeds(const sy_run *run, const char *name, const sy_plot_opts *o, const double *x, int n, int nk,
                        const double *v);

#ifdef __cplusplus
}
#endif
#endif
