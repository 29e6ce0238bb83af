/* Histories: what a comparison keeps in memory of each method it trains. A
 * history is a table of `rows` rows of `cols` numbers, row-major: a row per
 * epoch, task or iteration, column k one measure, NaN where no row was
 * reached. A set of histories holds one per trained method, or per method
 * and setting of a sweep ("syre@lr0.2", "none@seed3"). The summary reads its
 * final numbers from a history (sy_run_summary_history), the figures their
 * curves (sy_plot_history_new, syre/plot.h). */
#ifndef SYRE_HISTORY_H
#define SYRE_HISTORY_H

#include <stddef.h>
#include <stdint.h>

#include "syre/core.h"
#include "syre/experiment.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The mean of the finite values of column col over rows [a, b) of a history
 * of cols columns: their sum in row order over their count; NaN if there is
 * none. */
double sy_history_mean(const double *h, int cols, int64_t a, int64_t b, int col);
/* out[i] = the mean of the finite values among h[0][i], ..., h[n - 1][i] for
 * i < len (summed in that order, then divided by their count), NaN where none
 * is finite: e.g. the histories of several seeds averaged row by row. */
void sy_history_mean_over(double *out, const double *const *h, int n, size_t len);

/* How a summary number is read from a history's column (sy_run_summary_history). */
typedef enum {
    SY_HIST_FIRST, /* the first row's value */
    SY_HIST_LAST,  /* the last row's value */
    SY_HIST_MIN,   /* the least value, NaN skipped (+inf if every value is NaN) */
    SY_HIST_MEAN,  /* the mean of the finite values of every row (sy_history_mean) */
    SY_HIST_HEAD,  /* the mean of the finite values of the first `tail` rows */
    SY_HIST_TAIL   /* the mean of the finite values of the last `tail` rows */
} sy_history_at;

/* One summary number: key, read from column col as `at` says. */
typedef struct {
    const char *key;  /* the summary's key (sy_run_summary) */
    int col;          /* the history's column it is read from (0 <= col < cols) */
    sy_history_at at; /* which rows' value: first, last, least, or a mean */
} sy_history_key;

/* Record keys[0..n) in the summary of method (sy_run_summary, in that order),
 * each read from history h (rows >= 1 rows of cols columns); tail (0 to
 * rows) is the rows of SY_HIST_HEAD and SY_HIST_TAIL (0: NaN). */
sy_status sy_run_summary_history(sy_run *run, const char *method, const double *h, int64_t rows, int cols,
                                 int64_t tail, const sy_history_key *keys, int n);

/* Column col's value in every row as a key of its own, "<prefix> <row>" with
 * rows numbered from 1 ("test_acc task 3"), in row order. */
sy_status sy_run_summary_rows(sy_run *run, const char *method, const double *h, int64_t rows, int cols, int col,
                              const char *prefix);

/* ---- A set of histories ------------------------------------------------------ */

/* Histories of one shape, each with its name (the records' method). Start
 * from sy_histories_make, free with sy_histories_free. */
typedef struct {
    int64_t rows;      /* rows of every history */
    int cols;          /* numbers per row */
    int n;             /* histories so far */
    const char **name; /* history k's name */
    double **h;        /* history k: rows * cols numbers */
    int cap;           /* room in name and h; sy_histories_add doubles it when full */
} sy_histories;

/* An empty set of histories of rows x cols. */
sy_histories sy_histories_make(int64_t rows, int cols);
/* Add a history, NaN everywhere, named as printf formats fmt; *h gets it
 * (NULL on failure: SY_ERR_NOMEM). */
sy_status sy_histories_add(sy_histories *hs, double **h, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;
/* The index of the history named name, or -1. */
int sy_histories_find(const sy_histories *hs, const char *name);
/* Free every history and name; the set is empty again. */
void sy_histories_free(sy_histories *hs);

#ifdef __cplusplus
}
#endif
#endif
