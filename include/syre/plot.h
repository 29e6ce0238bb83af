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

/* A figure being built (opaque): sy_plot_new, series, sy_plot_save, sy_plot_free. */
typedef struct sy_plot sy_plot;

/* How a series is drawn. */
typedef enum {
    SY_PLOT_LINE = 0,     /* solid line */
    SY_PLOT_POINTS,       /* markers only (scatter) */
    SY_PLOT_LINE_POINTS,  /* line with markers */
    SY_PLOT_DASHED        /* dashed line (reference curves) */
} sy_plot_style;

/* A new empty figure; NULL only when out of memory. */
sy_plot *sy_plot_new(const char *title, const char *xlabel, const char *ylabel);
/* Frees the figure and its copied series; NULL is a no-op. */
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
/* Log scale on the x and y axis where logx, logy are non-zero (default linear). */
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
    const char *title, *xlabel, *ylabel; /* as sy_plot_new's (NULL: empty) */
    const char *suffix, *suffix2;  /* appended with a space to the labels of the y and y2 curves */
    const char *const *labels2;    /* labels of the y2 curves (NULL: the labels of y) */
    int logx;                      /* log x axis */
    double ymin, ymax;             /* fixed y range where ymin < ymax, else fitted to the data */
    const char *ref_label;         /* not NULL: a dashed level at ref from x[0] to x[n-1], drawn last */
    double ref;                    /* y of that level */
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

/* sy_plot_methods_new with a style per series, styles[m] for y[m]: e.g. syre dashed or as markers over the
 * vanilla line it lies on, which then stays visible. Not saved; NULL on failure (the reason in
 * sy_last_error; sy_plot_save_run then fails with SY_ERR_NOMEM). (src/plot/methods_styled.c) */
sy_plot *sy_plot_methods_styled_new(const char *title, const char *xlabel, const char *ylabel, const double *x,
                                    int n, int nm, const char *const *labels, const double *const *y,
                                    const sy_plot_style *styles);

/* One curve per method read back from the run's records (sy_run_read_curve): column ycol against column xcol
 * of the rows methods[m] logged to file (NULL = metrics.csv), in the order logged, labelled labels[m] (labels
 * NULL: the method) in styles[m] (styles NULL: lines). Of o, the title, axis labels, logx and a fixed y range
 * (ymin < ymax) are used. Not saved: set more, then sy_plot_save_run. NULL on failure (the reason in
 * sy_last_error; sy_plot_save_run then fails with SY_ERR_NOMEM). (src/plot/run_curves.c) */
sy_plot *sy_plot_run_curves_new(const sy_run *run, const sy_plot_opts *o, const char *file, const char *xcol,
                                const char *ycol, int nm, const char *const *methods, const char *const *labels,
                                const sy_plot_style *styles);

/* ---- Figures of histories (src/plot/history_figure.c) ---------------------------- */

/* The curves of a comparison's figures (syre/history.h): one per history
 * h[m] (rows x cols, row-major), labelled labels[m], against column xcol of
 * h[0] (xcol < 0: the row number 1, 2, ..., rows); each point is the mean of
 * the finite values of its column over the `smooth` rows up to it
 * (sy_history_mean: a moving average; 0 or 1: the values themselves). */
typedef struct {
    int64_t rows;              /* rows of every history (>= 1) */
    int cols, xcol, smooth;    /* numbers per row; the x column (< 0: row number); rows per mean (as above) */
    int n;                     /* histories, one curve each (>= 1) */
    const char *const *labels; /* labels[m]: history m's name in the legend */
    const double *const *h;    /* h[m]: history m, rows x cols, row-major */
    const char *xlabel;        /* the x axis's label (NULL: none) */
    double xmin, xmax;         /* a fixed x range where xmin < xmax, else fitted to the data */
    sy_plot_style style;       /* how every curve is drawn */
} sy_history_curves;

/* One figure of them: column col of every history. */
typedef struct {
    const char *name;           /* saved as <run dir>/<name>.png and .svg */
    int col;                    /* the column drawn (0 <= col < cols) */
    const char *title, *ylabel; /* the figure's title and y axis label (NULL: none) */
    double ymin, ymax;          /* a fixed y range where ymin < ymax, else fitted to the data */
} sy_history_figure;

/* Draw each figure figs[0..n) of the curves c and save it in the run's
 * directory (sy_plot_save_run), in order; the first failure is returned. */
sy_status sy_plot_histories(const sy_run *run, const sy_history_curves *c, const sy_history_figure *figs, int n);

/* ---- Series with x of their own (src/plot/xy.c) ------------------------------ */

/* One figure of ns series, each with its own points: (x[s][i], y[s][i]) for
 * i < n[s], labelled labels[s], in `style` (curves logged at different steps,
 * a metric against a measured x). o's title, axis labels, logx, logy and y
 * range apply (its suffixes and reference do not). Saved as
 * <run dir>/<name>.png and .svg. */
sy_status sy_plot_xy(const sy_run *run, const char *name, const sy_plot_opts *o, int ns, const char *const *labels,
                     const double *const *x, const double *const *y, const int *n, sy_plot_style style);
/* Extend [*lo, *hi] by the positive finite values of y[0..n) (start from
 * INFINITY, -INFINITY; lo < hi afterwards only where they span a range): one
 * log-axis range for several figures, so that they compare. */
void sy_plot_range(const double *y, int n, double *lo, double *hi);

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
