/* Private to src/io: the run structure shared by the option parser
 * (experiment.c) and the record writer (runlog.c). */
#ifndef SYRE_IO_INTERNAL_H
#define SYRE_IO_INTERNAL_H

#include <stdio.h>
#include <time.h>

#include "syre/experiment.h"
#include "syre/format.h"

/* One CSV file of a run: its fixed columns (after method,step). */
typedef struct {
    char *file;
    FILE *f;
    int ncols;
    char **cols;
} sy_csv;

/* One method's summary: settings (text) and metrics (numbers), each as
 * parallel key/value arrays in insertion order. */
typedef struct {
    char *method;
    int nset;
    char **set_keys, **set_values;
    int nmet;
    char **met_keys;
    double *met_values;
} sy_summ;

struct sy_run {
    const sy_experiment *exp;
    sy_flag_spec *flags; /* merged: experiment's then common */
    int nflags;
    char **values;       /* resolved text per flag */
    int *set;            /* given on the command line */
    char **methods;      /* NULL-terminated */
    int nmethods;
    int argc;
    char **argv;
    char *dir;           /* set by sy_run_start */
    time_t start;
    double start_mono;
    int resuming;
    char *made;          /* the first directory sy_run_start created, else NULL */
    int lock_fd;         /* run.lock, held while the run lives (-1: none) */
    double ckpt_time;    /* when the last checkpoint was due (--ckpt-every minutes) */
    sy_csv *csv;
    int ncsv;
    sy_summ *summ;
    int nsumm;
    char **rows;         /* metric keys in first-seen order (table rows) */
    int nrows;
};

/* Take run.lock in the run directory (exclusive, held until sy_run_free). */
sy_status sy_run_lock(sy_run *run);
sy_status sy_run_check_ckpt_every(const sy_run *run);
/* Handlers for SIGTERM, SIGINT and SIGUSR1 that request a graceful stop. */
void sy_stop_install(void);
/* Seconds a stop may take before the process ends anyway (tests shorten it). */
void sy_stop_set_grace(unsigned seconds);
/* Close and forget every CSV the run has open (the next row of a file opens it again). */
void sy_run_csv_close_all(sy_run *run);
int sy_io_merged_flags(const sy_experiment *exp, sy_flag_spec **out, int *nown);
double sy_io_now(void);

#endif
