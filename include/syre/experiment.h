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

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Flags ------------------------------------------------------------- */

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
    const char *help;
    const char *defval;  /* default as text ("" = empty string / unset) */
    sy_flag_type type;
    double min, max;     /* allowed range for numbers; ignored if min >= max */
} sy_flag_spec;

/* The flags every experiment accepts (seed, data-dir, out, threads, quick,
 * method, gamma, sigma0, eps, lr, epochs, batch, name, resume). */
const sy_flag_spec *sy_common_flags(void);

/* The methods --method accepts. */
#define SY_METHOD_NAMES "vanilla|syre|syre-ar|l2init|wfix|dropout|none"

/* ---- Experiments ------------------------------------------------------- */

typedef struct sy_run sy_run;

typedef struct {
    const char *name;          /* "toy": the `syre run` target */
    const char *figure;        /* "Fig. 3 right", or "none (demo)" */
    const char *summary;       /* one line for `syre list` */
    const sy_flag_spec *flags; /* own flags and overrides; may be NULL */
    sy_status (*run)(sy_run *run);
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
/* The methods to compare (sy_run_methods), each one that `allowed` lists
 * (comma-separated: "vanilla, syre, none"); another fails with SY_ERR_ARG,
 * "<exp>: --method <m> is not supported here (<allowed>)". (src/io/run_methods.c) */
sy_status sy_run_methods_among(const sy_run *run, const char *allowed, const char *const **methods, int *count);
/* 1 if the user gave the flag on the command line (so --quick can change
 * only the defaults the user left alone). */
int sy_run_is_set(const sy_run *run, const char *name);
/* The methods to compare (from --method or the experiment's default). */
const char *const *sy_run_methods(const sy_run *run, int *count);
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
#define SY_STOP_GRACE_S 60
enum { SY_CKPT_NO = 0, SY_CKPT_NOW = 1, SY_CKPT_STOP = 2 };
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

/* Check a run record in dir: config and summary JSON parse, every CSV row
 * has its header's columns and none repeats, every checkpoint passes the
 * safetensors checks and its crc32s. One verdict line per file to out, then
 * the overall one. Returns the number of problems (0: sound), -1 if dir is
 * not a readable directory. */
int sy_run_verify(const char *dir, FILE *out);

/* ---- Progress ------------------------------------------------------------- */

typedef struct sy_progress sy_progress;

/* A progress report on stderr for `total` units: a bar with rate and time
 * left when stderr is a terminal, otherwise a plain line every ~10% or 30 s. */
sy_progress *sy_progress_start(const char *label, int64_t total);
/* Units done so far; note (may be NULL) is shown after the bar, e.g. "loss 0.12". */
void sy_progress_update(sy_progress *p, int64_t done, const char *note);
/* Final line with the elapsed time; frees p (NULL is fine). */
void sy_progress_finish(sy_progress *p);

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

#ifdef __cplusplus
}
#endif
#endif
