/* Experiment `collapse` (Figs. 4-5) in two files: its flags, settings, model,
 * first-layer probe and the training of one point (experiments/collapse.c),
 * and what `run` and `reproduce` train, record and draw with them
 * (experiments/collapse_figures.c). Private to those two files. */
#ifndef SYRE_EXP_COLLAPSE_H
#define SYRE_EXP_COLLAPSE_H

#include "syre/syre.h"

#define COL_IN 784
#define COL_H 300
#define COL_OUT 10
#define COL_MAX_SWEEP 32
#define COL_MAX_METHODS 8
#define COL_MAX_SEEDS 32

typedef struct {
    double lr, sigma0, eps, thr;
    long epochs, batch;
    int rank_n;
    int scale_mode; /* --cov-scale: 0 1/alpha^2, 1 alpha^2, 2 1 */
    uint64_t seed;
    int nm;
    const char *const *methods;
    sy_dataset *train, *test; /* the slices actually used */
    double gammas[COL_MAX_SWEEP], alphas[COL_MAX_SWEEP], sigma0s[COL_MAX_SWEEP]; /* reproduce's sweeps */
    int ng, na, ns;                                                             /* ns = 0: --sigma0s none */
    int nseeds; /* reproduce: seeds per setting, seed, seed + 1, ... */
} col_cfg;

/* What a (gamma, alpha, sigma0, method) point measured, v[] under the names
 * col_names gives them in the records: a row of metrics.csv (the last
 * epoch's; its columns up to V_DEAD) and, for syre, the anchor network's own
 * ranks (NaN for the other methods). Each record picks its columns by name. */
enum { V_GAMMA, V_ALPHA, V_SIGMA0, V_EPOCH, V_LOSS, V_TRAIN_LOSS, V_TRAIN_ACC, V_TEST_LOSS, V_TEST_ACC, V_RANK_PRE,
       V_RANK_POST, V_DEAD, V_ANCHOR_PRE, V_ANCHOR_POST, COL_NV };
extern const char *const col_names[COL_NV];
/* The curves drawn per epoch and per sweep point: train_acc, test_acc, rank_pre, rank_post. */
enum { COL_NH = 4 };
extern const char *const col_curves[COL_NH];

typedef struct {
    double v[COL_NV];
    double eig_pre[COL_H], eig_post[COL_H]; /* final spectra, descending */
} col_result;

typedef struct {
    sy_classifier k; /* evaluation graph: batch --rank-n */
    sy_var taps[2];  /* evaluation graph: the first layer's output before and after its ReLU */
} col_model;

/* Resolves the flags (checks those sy_run_parse cannot) and loads the data slices. */
sy_status col_cfg_load(sy_run *run, col_cfg *c);
void col_cfg_free(col_cfg *c);
sy_status col_model_new(col_model *m, const col_cfg *c);
/* One training: a method at (gamma, alpha, sigma0) from a seed's start. */
typedef struct {
    double gamma, alpha, sigma0;
    const char *method;
    uint64_t seed;
    const char *label; /* its rows' method column (NULL: method) */
    const char *tag;   /* names its checkpoint and progress (NULL: none) */
} col_point;
/* Trains point p into r and, where h is not NULL, its col_curves per epoch
 * into series hs of h (NaN for epochs not trained here, refilled on resume). */
sy_status col_train_point(sy_run *run, const col_cfg *c, col_model *m, const col_point *p, col_result *r,
                          sy_results *h, int hs);
/* `run` and `reproduce`, their records and figures (experiments/collapse_figures.c). */
sy_status col_run(sy_run *run);
sy_status col_reproduce(sy_run *run);

#endif
