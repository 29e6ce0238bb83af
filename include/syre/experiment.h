/* Experiments as data, and the run record they write. An experiment is a
 * const sy_experiment (name, paper figure, flag specs, run and reproduce
 * functions). A program keeps its own table of them (the `syre` command's
 * is experiments/registry.h), dispatches on it and generates its help from
 * the flag specs. A sy_run holds the
 * resolved options of one invocation and writes runs/<exp>/<name>/:
 * config.json, metrics*.csv, summary.json (plus whatever plots and
 * checkpoints the experiment saves there). */
#ifndef SYRE_EXPERIMENT_H
#define SYRE_EXPERIMENT_H

#include <stdint.h>
#include <stdio.h>

#include "syre/core.h"
#include "syre/trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Flags ------------------------------------------------------------- */

/* The kind of value a flag takes. */
typedef enum {
    SY_FLAG_BOOL,     /* "--quick" (no value) or "--quick=0|1|true|false" */
    SY_FLAG_INT,      /* strict integer, range-checked when min < max */
    SY_FLAG_DOUBLE,   /* strict finite number, range-checked when min < max */
    SY_FLAG_STRING,   /* any text */
    SY_FLAG_METHODS   /* repeatable and/or comma-separated list of methods */
} sy_flag_type;

/* One option. A list of them ends with an entry whose name is NULL. An
 * experiment flag with the name of a common flag (e.g. "lr", "method",
 * "epochs") overrides that flag's default, help and range. */
typedef struct {
    const char *name;    /* without "--" */
    const char *help;    /* one line for `syre help EXP`; NULL or "" in an override: the common flag's */
    const char *defval;  /* default as text ("" = empty string / unset) */
    sy_flag_type type;   /* kind of value */
    double min, max;     /* allowed range for numbers; ignored if min >= max */
} sy_flag_spec;

/* The flags every experiment accepts (seed, data-dir, out, threads, quick,
 * method, gamma, sigma0, eps, lr, epochs, batch, name, resume). */
const sy_flag_spec *sy_common_flags(void);

/* The methods --method accepts: a decay rule, a unit reset (cbp, redo: weight
 * decay with continual backprop or ReDo), or a decay rule + a unit reset. */
#define SY_METHOD_NAMES "vanilla|syre|syre-ar|l2init|wfix|dropout|none|cbp|redo, or a rule + cbp|redo (syre+cbp)"

/* ---- Experiments ------------------------------------------------------- */

/* One invocation of an experiment (opaque): its resolved options, run
 * directory and records. sy_run_parse makes it, sy_run_free frees it. */
typedef struct sy_run sy_run;

/* An experiment: what `syre` lists, runs and reproduces. */
typedef struct {
    const char *name;          /* "toy": the `syre run` target */
    const char *figure;        /* "Fig. 3 right", or "none (demo)" */
    const char *summary;       /* one line for `syre list` */
    const sy_flag_spec *flags; /* own flags and overrides; may be NULL */
    sy_status (*run)(sy_run *run); /* one run, called after sy_run_start (sy_run_finish follows if it succeeds) */
    const char *reproduce_id;  /* "fig3-right" (or a list, "fig4,fig5"): `syre reproduce` targets; may be NULL */
    sy_status (*reproduce)(sy_run *run); /* paper sweep + plot; may be NULL */
    int data_parallel;         /* 1: runs under `mpirun -np N` (its training graphs
                                  take the local batch --batch/N, its batchers shard;
                                  docs/distributed.md); 0: refused with more than one rank */
    int no_checkpoint;         /* 1: keeps no checkpoint, so --resume is refused */
    const char *ignores;       /* common flags it does not use, comma-separated
                                  ("epochs,batch"): giving one is refused; may be NULL */
    const char *quick;         /* --quick's defaults, "flag=value;flag=value": the
                                  parser applies them to the flags left alone, so
                                  config.json records what the run uses; may be NULL */
    int stops;                 /* 1: its training loops poll sy_run_ckpt_due after every
                                  step, so SIGTERM/SIGINT/SIGUSR1 stop it gracefully;
                                  0: signals end it as they would any program */
} sy_experiment;

/* Print an experiment's flags (its own, then the common ones, with
 * defaults and ranges) as `syre help EXP` shows them. */
void sy_experiment_print_help(const sy_experiment *exp, FILE *f);

/* ---- A run: options --------------------------------------------------- */

/* Parse argv (flags only: "--flag value" or "--flag=value") against the
 * experiment's flags and the common ones. Unknown flags, missing values,
 * malformed or out-of-range numbers and unknown methods fail with
 * SY_ERR_ARG and a message naming the flag and the experiment. Creates
 * nothing on disk. Free with sy_run_free. */
sy_status sy_run_parse(sy_run **out, const sy_experiment *exp, int argc, char **argv);
/* Create <out>/<exp>/<name>/ (recursively; an existing one only with
 * --resume), set the thread count, write config.json and print the resolved
 * configuration to stderr. With --resume, every option that can change the
 * results must equal the run's config.json unless --override lists it. A
 * directory this call created and that holds nothing but config.json when
 * the run is freed (the run failed before recording anything) is removed. In a distributed run rank 0 does the writing and
 * printing and every rank gets its directory (and its failure); an experiment
 * without data_parallel, or a --batch the ranks do not divide, fails on
 * every rank. Records (logs, summary, table) are rank 0's alone. */
sy_status sy_run_start(sy_run *run);
/* Flush the metrics files, write summary.json and print the side-by-side
 * table (rows = metrics, columns = methods) to stdout. */
sy_status sy_run_finish(sy_run *run);
/* Closes the run's files and frees it, first removing a directory that
 * sy_run_start created if it holds nothing but config.json; NULL is a no-op. */
void sy_run_free(sy_run *run);

/* Resolved option values by flag name (without "--"). Asking for a flag the
 * experiment did not declare is a programmer error: it prints a message to
 * stderr and returns 0 / NULL. */
double sy_run_get_double(const sy_run *run, const char *name);
long sy_run_get_int(const sy_run *run, const char *name);
const char *sy_run_get_str(const sy_run *run, const char *name);
int sy_run_get_bool(const sy_run *run, const char *name);
/* A flag holding comma-separated numbers ("0.1,0.5,1"): up to max of them
 * into v, *n how many, each in [lo, hi] ((lo, hi] with lo_open; hi may be
 * HUGE_VAL). An empty list, a value out of range or more than max fail with
 * SY_ERR_ARG naming the experiment, the flag and the range. */
sy_status sy_run_get_numbers(const sy_run *run, const char *flag, double lo, int lo_open, double hi, double *v,
                             int max, int *n);
/* The methods to compare (sy_run_methods: *methods, *count; either may be NULL), each one that `allowed` lists
 * (comma-separated: "vanilla, syre, none"); another fails with SY_ERR_ARG,
 * "<exp>: --method <m> is not supported here (<allowed>)". (src/io/run_methods.c) */
sy_status sy_run_methods_among(const sy_run *run, const char *allowed, const char *const **methods, int *count);
/* 1 if the user gave the flag on the command line (so --quick can change
 * only the defaults the user left alone). */
int sy_run_is_set(const sy_run *run, const char *name);
/* The methods to compare (from --method or the experiment's default). */
const char *const *sy_run_methods(const sy_run *run, int *count);
/* The value of --seed; the experiment the run was parsed for. */
uint64_t sy_run_seed(const sy_run *run);
const sy_experiment *sy_run_experiment(const sy_run *run);
/* The run directory "<out>/<exp>/<name>" (valid after sy_run_start). */
const char *sy_run_dir(const sy_run *run);
/* "<run dir>/<file>" into buf; returns buf (truncated paths fail loudly in
 * the writer that uses them). */
const char *sy_run_path(const sy_run *run, const char *file, char *buf, size_t size);
/* A method's checkpoint, "<run dir>/ckpt-<tag>-<method>.safetensors" ("ckpt-<method>..." when tag is NULL or
 * empty): one name per trained (point, method) of a sweep; a '/' or ' ' in tag or method becomes '_' (record
 * "sigma0=0.1/seed1": ckpt-sigma0=0.1_seed1.safetensors). Returns buf. */
const char *sy_run_ckpt_path(const sy_run *run, const char *tag, const char *method, char *buf, size_t size);
/* The data directory the run reads: --data-dir, which sy_run_parse resolves (sy_data_dir). */
const char *sy_run_data_dir(const sy_run *run);

/* ---- A run: records ----------------------------------------------------- */

/* Append one row to <run dir>/<file> (file NULL = "metrics.csv"): columns
 * `method,step,<names...>`. The first call for a file fixes its columns;
 * later calls may give any subset of them in any order (the others are left
 * empty), a name not among them fails with SY_ERR_ARG. */
sy_status sy_run_log_to(sy_run *run, const char *file, const char *method, int64_t step,
                        int n, const char *const *names, const double *values);
sy_status sy_run_log(sy_run *run, const char *method, int64_t step,
                     int n, const char *const *names, const double *values);
/* On --resume, a method that finds no checkpoint starts afresh: the rows it
 * logged to file (NULL = "metrics.csv") before it was stopped, the file's
 * last rows if they are the method's, are cut so they are not logged twice. */
sy_status sy_run_forget_rows(sy_run *run, const char *file, const char *method);
/* Start <run dir>/<file> afresh (closed, forgotten, removed; its next row writes the header again): a file
 * an experiment writes whole after its sweep, so that a --resume that writes it again does not repeat its
 * rows. Rank 0's, as every record. */
sy_status sy_run_log_afresh(sy_run *run, const char *file);
/* Read back what a run logged to file (NULL = "metrics.csv") for method, e.g. a resumed method's per-epoch
 * curves: of the rows whose columns match[k] equal match_val[k] (to 1e-9 relative; nmatch may be 0), the value
 * of column cols[c] goes to out[c][i - 1], where i is the row's index_col value (1-based: "epoch") and
 * 1 <= i <= nout. Entries of rows not found are left as they were. A missing file, or a file without one of
 * the columns, reads nothing (SY_OK): rows still buffered when a run was killed are lost anyway. */
sy_status sy_run_read_rows(const sy_run *run, const char *file, const char *method, int nmatch,
                           const char *const *match, const double *match_val, const char *index_col, int ncols,
                           const char *const *cols, double *const *out, long nout);
/* A final metric of a method, for summary.json and the stdout table (rows in
 * the order first given, columns in method order). Setting it again
 * replaces the value. */
sy_status sy_run_summary(sy_run *run, const char *method, const char *key, double value);
/* A final metric recorded with sy_run_summary, NaN if there is none (tests
 * and sweeps read results back with it). */
double sy_run_summary_value(const sy_run *run, const char *method, const char *key);
/* A setting of a method (e.g. its gamma), recorded in summary.json only. */
sy_status sy_run_summary_setting(sy_run *run, const char *method, const char *key,
                                 const char *value);
/* The same with the value formatted as printf does ("%g", lr). */
sy_status sy_run_summary_settingf(sy_run *run, const char *method, const char *key, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* The side-by-side table of summary metrics (what sy_run_finish prints). */
void sy_run_print_table(const sy_run *run, FILE *f);

/* ---- Stopping and checkpoint cadence (docs/reliability.md) -----------------
 * SIGTERM, SIGINT and SIGUSR1 (what Slurm sends before preempting or at a
 * time limit) ask a run to stop: the training loop finishes its step, writes
 * its checkpoint and returns sy_run_stopped's status; `syre` then exits with
 * SY_EXIT_RESUMABLE. A second signal, or a stop that takes longer than
 * SY_STOP_GRACE_S seconds, ends the process as the signal would. The
 * handlers are installed by sy_run_start for experiments with `stops` set
 * (others keep the default behaviour); a SIGINT that was ignored when the
 * process started (a background job) stays ignored. */
#define SY_EXIT_RESUMABLE 75 /* EX_TEMPFAIL: try again (--resume) */
#define SY_STOP_GRACE_S 60 /* seconds a stop may take */
/* Called after every optimizer step with the run's step count: SY_CKPT_STOP
 * when a stop was requested (checkpoint, then return sy_run_stopped),
 * SY_CKPT_NOW at multiples of --ckpt-every N steps or when N minutes passed
 * since the last checkpoint point, else SY_CKPT_NO. Under mpirun it is
 * collective (one all-reduce of a number): rank 0's clock sets the cadence,
 * a signal to any rank stops every rank at the same step. */
int sy_run_ckpt_due(sy_run *run, long step);
/* The signal that asked for a stop, 0 if none. */
int sy_stop_signal(void);
/* SY_ERR_STOPPED with "stopped by SIGTERM at step N of M (checkpoint
 * written); continue with: syre run EXP ... --name X --resume". */
sy_status sy_run_stopped(sy_run *run, long step, long total);
/* The run as a training loop's control (sy_fit_opts.control and the other
 * loops'): sy_run_ckpt_due, sy_run_stopped, sy_run_log_to and
 * sy_run_forget_rows of run. run NULL gives a zeroed control (none). */
sy_fit_control sy_run_control(sy_run *run);

/* Check a run record in dir: config and summary JSON parse, every CSV row
 * has its header's columns and none repeats, every checkpoint passes the
 * safetensors checks and its crc32s. One verdict line per file to out, then
 * the overall one. Returns the number of problems (0: sound), -1 if dir is
 * not a readable directory. */
int sy_run_verify(const char *dir, FILE *out);

/* ---- A run: choices, summaries and curves in one call (src/io/run_choice.c, run_summaries.c, run_files.c) ---- */

/* A flag whose value must be one of names[0..n) ("gd", "closed"): *index gets its position. Any other value
 * fails with SY_ERR_ARG, "<exp>: --<flag> must be 'gd' or 'closed', got '<value>'". */
sy_status sy_run_get_choice(const sy_run *run, const char *flag, int n, const char *const *names, int *index);
/* sy_run_summary(run, method, keys[k], values[k]) for k < n, in order: a method's final metrics in one call.
 * Stops at the first failure and returns it. */
sy_status sy_run_summaries(sy_run *run, const char *method, int n, const char *const *keys, const double *values);
/* sy_run_summary with the key formatted as printf does, e.g. a point of a sweep:
 * sy_run_summaryf(run, "syre", dead, "dead_units gamma=%g", gamma). A key longer than 1023 characters fails
 * with SY_ERR_ARG. */
sy_status sy_run_summaryf(sy_run *run, const char *method, double value, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;
/* A curve read back from the run's records: column ycol against column xcol of the rows method logged to file
 * (NULL = "metrics.csv"), in the order they were logged (rows lacking either value skipped), as *n points in *x
 * and *y (malloc'ed; free both). A missing file, or one without these columns, gives none (SY_OK, NULL arrays).
 * What a figure of the run draws, so that an experiment keeps no copy of its curves, and a resumed run draws
 * the points logged before it stopped. */
sy_status sy_run_read_curve(const sy_run *run, const char *file, const char *method, const char *xcol,
                            const char *ycol, double **x, double **y, int *n);

/* ---- Rows and summaries picked by name (src/io/run_rows.c) ------------------
 * What a method measured, kept once as named values (names[n], values[n]),
 * goes to several records, each with its own columns in its own order:
 * cols lists them, comma-separated ("gamma,alpha,test_acc"), at most
 * SY_PICK_MAX. A column not among names fails with SY_ERR_ARG naming it. */
/* The most columns cols may name (sy_run_log_pick, sy_run_summary_pick) and
 * the most arrays, ncols, of sy_run_log_columns. */
#define SY_PICK_MAX 64
/* sy_run_log_to of the columns cols, each value looked up in names. */
sy_status sy_run_log_pick(sy_run *run, const char *file, const char *method, int64_t step, const char *cols, int n,
                          const char *const *names, const double *values);
/* sy_run_summary of each of cols under the key "<prefix><column>" (prefix
 * may be NULL), in the order of cols. */
sy_status sy_run_summary_pick(sy_run *run, const char *method, const char *prefix, const char *cols, int n,
                              const char *const *names, const double *values);
/* Arrays as rows: for i < rows, the row (y[0][i], ..., y[ncols - 1][i])
 * under names[ncols] at step first + i (e.g. a spectrum, one row per
 * eigenvalue). ncols at most SY_PICK_MAX. */
sy_status sy_run_log_columns(sy_run *run, const char *file, const char *method, int64_t first, long rows,
                             int ncols, const char *const *names, const double *const *y);

/* ---- A run file by pattern (src/io/run_pathf.c) ---------------------------------- */

/* sy_run_path of the file named as printf formats fmt ("curve-%s.txt", tag):
 * "<run dir>/<file>" into buf; returns buf. */
const char *sy_run_pathf(const sy_run *run, char *buf, size_t size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 4, 5)))
#endif
    ;

/* ---- Sweeps with an override (src/io/run_flags.c) ------------------------------ */

/* A sweep's values where a single-value flag may replace its list: the value
 * of the number flag `one` alone (*n = 1) when the user gave it, else the
 * list flag `list` as sy_run_get_numbers reads it (lo, lo_open, hi, max). */
sy_status sy_run_get_numbers_or(const sy_run *run, const char *one, const char *list, double lo, int lo_open,
                                double hi, double *v, int max, int *n);

/* ---- A comparison's results kept in memory (src/io/results.c) ---------------------
 * ncols named columns (metrics) of ns series (methods, settings, points) at
 * np points (epochs, or the values of a swept setting), NaN until set (NaN
 * points are not drawn): a run sets each epoch's values as it logs them and,
 * on resume, reads back the ones logged before (sy_results_read_rows); a
 * sweep sets one point per configuration. Column c's curves are laid out as
 * the figures of syre/plot.h take them (sy_results_col: y[s][0..np), against
 * x), e.g. sy_plot_sweep(run, name, &o, c.x, c.np, c.ns, labels,
 * sy_results_col(&c, 0), sy_results_col(&c, 1)). A zeroed sy_results is
 * empty. */
/* The table, as above: from sy_results_new, freed by sy_results_free. */
typedef struct {
    int ns, np, ncols;       /* series, points per series, columns */
    const char *const *cols; /* the columns' names (borrowed): what sy_results_read_rows reads */
    double *x;               /* [np]: 1, 2, ..., np (epochs) unless the caller sets other points */
    double *v;               /* [ncols][ns][np]: the values, NaN where unset */
    const double **y;        /* [ncols][ns]: the curve of each (column, series), pointers into v */
} sy_results;

/* Allocate the table (x = 1..np, every value NaN). On failure c is left
 * empty (sy_results_free is safe). */
sy_status sy_results_new(sy_results *c, int ns, int np, int ncols, const char *const *cols);
/* Free the table; c is left empty (safe to call twice). */
void sy_results_free(sy_results *c);
/* Column col of series s: its np values, writable. */
double *sy_results_at(const sy_results *c, int col, int s);
/* Column col of every series, y[s][0..np) (sy_plot_methods' y); y + k are
 * the curves of the series from k on. */
const double *const *sy_results_col(const sy_results *c, int col);
/* Every column of series s at point p (0-based): vals[0..ncols). */
void sy_results_set(sy_results *c, int s, int p, const double *vals);
/* The same from a row of named values (what a method measured, kept once):
 * column k takes the value named cols[k] among names[n]. A point or series
 * out of range, or a column missing from names (named in the message),
 * fails with SY_ERR_ARG and sets nothing. */
sy_status sy_results_set_pick(sy_results *c, int s, int p, int n, const char *const *names, const double *values);
/* On resume: the values of series s from the rows of file (NULL:
 * metrics.csv) that the run logged for `method` whose columns match[k]
 * equal match_val[k] (nmatch may be 0: every row of method; a method logged
 * at several settings), point i - 1 from the row whose index_col ("step"
 * for sy_run_log's epochs, or "epoch") is i (sy_run_read_rows: points with
 * no row are left as they were). */
sy_status sy_results_read_rows(sy_results *c, const sy_run *run, const char *file, const char *method, int nmatch,
                               const char *const *match, const double *match_val, int s, const char *index_col);
/* A sweep's results in the summary: for each point p, the first ncols
 * columns of series s as the metrics "<column> <point>" of `method`, the
 * point being x[p] formatted by point_fmt (one double conversion, e.g.
 * "f=%.2f": "train_loss f=0.50"). Returns the first failure, after trying
 * every metric. */
sy_status sy_results_summary(const sy_results *c, sy_run *run, int s, const char *method, int ncols,
                            const char *point_fmt);

/* ---- The compared methods (src/io/run_methods.c) ----------------------------- */


/* One series of a comparison: a method at one value of a setting. */
typedef struct {
    const char *method; /* the --method entry (the run's string) */
    double value;       /* its value of the setting (e.g. syre's sigma0) */
    char name[64];      /* "<method>", or "<method>-<tag><value>": records, checkpoints, files */
    char label[96];     /* "<method>", or "<method> <key>=<value>": legends */
} sy_series;

/* The series of a comparison where a setting is swept for some methods only:
 * each method of --method once, at value dflt; with values (nv > 0), each
 * method whose name begins with `swept` ("syre": syre and syre-ar) once per
 * value instead, named and labelled with it (%g). *n of them into out; more
 * than max fail with SY_ERR_ARG. */
sy_status sy_run_series(const sy_run *run, const char *swept, const char *tag, const char *key, const double *values,
                        int nv, double dflt, sy_series *out, int max, int *n);

/* ---- A flag of words from a set (src/io/run_choice_list.c); a method's
 * measured metrics at once (src/io/run_summaries_measured.c) ------------------ */

/* A flag holding comma-separated words from `choices` (also comma-separated,
 * at most 32: "head,all"): *mask gets bit i for each word equal to choice i,
 * whatever their order ("all,head" = 3). An empty flag gives 0. A word not
 * among the choices (an empty one included) fails with SY_ERR_ARG naming the
 * experiment, the flag and the choices. */
sy_status sy_run_get_choice_list(const sy_run *run, const char *flag, const char *choices, unsigned *mask);
/* sy_run_summary of keys[i] = values[i] for i < n, in order, leaving out the
 * NaN values (a metric not measured: an untrained record's training loss,
 * a resumed finished run's). Stops at the first failure. */
sy_status sy_run_summaries_measured(sy_run *run, const char *method, int n, const char *const *keys,
                                    const double *values);

/* ---- A run's class-balanced datasets (src/io/run_splits.c) -------------------
 * Both splits ("train", "test") of dataset `name` from the run's data
 * directory, each the first n / want->n_classes samples of every class
 * (sy_dataset_load_balanced, checked against want), n the value of the
 * run's integer flag train_flag or test_flag (0: the whole split; NULL:
 * 0). Both counts must be multiples of the classes, and with batch > 0 the
 * training set must hold at least batch samples. Failures name the
 * experiment and the flags ("resnet: --train-n (25) and --test-n (200) must
 * be multiples of 10 (n/10 per class)", "resnet: --batch (128) exceeds the
 * 100 training images") and leave both NULL. */
/* Both splits into *train and *test (the caller frees them with
 * sy_dataset_free), as above; SY_ERR_ARG without want's n_classes. */
sy_status sy_run_load_balanced_splits(const sy_run *run, const char *name, const char *train_flag,
                                      const char *test_flag, const sy_data_contract *want, long batch,
                                      sy_dataset **train, sy_dataset **test);


/* ---- A sweep of training points (src/io/run_sweep.c) --------------------------
 * What every `reproduce` does: a list of points (settings x seeds x methods),
 * each trained from its own start and yielding ncols values, recorded, and
 * the figures drawn from all of them. The runner keeps the list, its order,
 * which points this process trains (rank, size: one place), a progress line
 * per point with the time left, and, with `keep`, each trained point's values
 * in <run dir>/points/<i>.csv so that --resume trains only the points not yet
 * done.
 *
 * Under `mpirun -np N` (size N > 1, the default there) the points are the
 * ranks' to share: rank r trains the points i with i % N == r, each as a
 * single process would, in a local scope (syre/dist.h: no gradient exchange,
 * whole batches) with the run's records pointed at points/<i>/ (the rows it
 * logs, its checkpoints). Then every rank reads every point record back and
 * records the points in order, and rank 0 copies each point's rows into the
 * run's files of the same names, point by point: metrics, summary and table
 * read as a single process's. Those files are the sweep's: rank 0 writes them
 * whole, so the experiment logs nothing to them before the sweep. A rank that
 * dies loses the point it was training; --resume trains the missing points
 * (resume a run as it was launched, one process or several ranks; the number
 * of ranks may change). docs/distributed.md. */
/* A sweep, as above (sy_sweep_defaults, then set n, ncols and the callbacks). */
typedef struct {
    int n;                   /* points, in training order */
    int ncols;               /* values of each point */
    const char *const *cols; /* their names (the point records' header); NULL: "v0", "v1", ... */
    void *ctx;               /* handed to every callback */
    /* Point i's name into buf ("sigma0=0.1/seed2"): its progress line and its point record. */
    void (*name)(void *ctx, int i, char *buf, size_t size);
    /* Train point i (named `name`) from its own start and fill vals[0..ncols); it logs the rows it keeps. */
    sy_status (*train)(void *ctx, int i, const char *name, double *vals);
    /* After point i is trained or read back (may be NULL): its summary entries. all is the
     * sweep's table (point j's values at all + j * ncols, filled for the points before i). */
    sy_status (*record)(void *ctx, int i, const char *name, const double *all);
    /* Build what training needs (models, whose graphs take the whole batch), may be NULL: called once,
     * before the first point this process trains, in that point's scope; never if it trains none. */
    sy_status (*prepare)(void *ctx);
    int rank, size; /* this process trains the points i with i % size == rank (sy_sweep_defaults: the
                       job's, sy_dist_job_rank and sy_dist_job_size: 0, 1 for a single process) */
    int keep;       /* 1: keep each trained point's values (points/<i>.csv, written atomically); on
                       --resume a point with a record is read back, not trained (unless --override
                       changed an option: then every point is trained again, from its checkpoint);
                       0: no file (a size above 1 needs it) */
} sy_sweep;

/* A sweep of no points on the job's rank of its size, keeping nothing. */
sy_sweep sy_sweep_defaults(void);
/* Run sweep w: for each point i in order, one of this process's (i % size == rank) is read back
 * (keep, --resume, a record present) or trained; with size 1 it is recorded at once, with more
 * (as above) every rank then waits for the others (a barrier), reads every point record there
 * is and records those points in order. vals[n * ncols] gets every point's values, NaN for a
 * point neither trained nor read. A point record that names another point or other columns, or
 * that does not parse, fails with SY_ERR_IO naming the file; a point read back that was
 * trained by the other kind of launch with SY_ERR_STATE; bad options with SY_ERR_ARG. */
sy_status sy_sweep_run(sy_run *run, const sy_sweep *w, double *vals);

#ifdef __cplusplus
}
#endif
#endif
