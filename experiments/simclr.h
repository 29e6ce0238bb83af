/* The SimCLR experiment's state, shared by its two files: experiments/simclr.c
 * (data, model, methods, training, the linear probes and spectrum of Table 1)
 * and experiments/simclr_epochs.c (the low-rankness during training:
 * rank.csv and its two figures). Private to them, not part of libsyre. */
#ifndef SYRE_EXPERIMENTS_SIMCLR_H
#define SYRE_EXPERIMENTS_SIMCLR_H

#include "syre/syre.h"

#define SC_IMG 3072 /* floats of one [3, 32, 32] image */
#define SC_MAX_REC 16

/* One method: its name in the records and its decay rules. */
typedef struct {
    char rec[48];
    int trained;          /* 0: the untrained encoder */
    sy_decay base;        /* rule of every tensor */
    int head_only;        /* 1: syre only on head.*, base (vanilla) elsewhere */
    sy_decay head;
} sc_method;

/* What a method ends with. */
typedef struct {
    double loss, loss_first, acc_penult, acc_last, acc_penult_train, acc_last_train;
    sy_low_rankness lr, lr_penult; /* of z (the last layer) and of h (the penultimate) */
    double *eig;  /* [proj] spectrum of z, descending */
    double *hist; /* [3][epochs + 1] after eig: per epoch relative low-rankness, eig_min, eig_max (NaN: not measured) */
} sc_result;

typedef struct {
    int width, hid, proj, epochs, batch, eval_b, rank_n, rank_every, probe_epochs;
    double tau, lr, momentum, gamma, probe_lr;
    uint64_t seed;
    sy_dataset *train, *test; /* pixels in [0,1]: normalised after augmentation */
    float mean[3], std[3];
    sy_simclr net;
    float *xb, *yb; /* one batch of images [B, 3, 32, 32] and its labels */
    /* The method in training, for sy_fit's callbacks. */
    sy_run *run;
    const sc_method *m;
    sc_result *res;
    sy_simclr_views vw; /* its batches (on a device prepared during the previous step) */
    sy_optim_opts o;
    long nbatch, resumed_batch;
    double lr0; /* the lr the epoch began with */
} sc_ctx;

/* The training set's per-channel normalisation of k images (augmented or
 * not), as a prepare of sy_graph_features (ctx: the sc_ctx). */
sy_status sc_normalize(void *ctx, float *x, size_t k);
/* Rank measures of z on the first rank_n test images after `epoch` epochs of
 * the method in training, logged to rank.csv and kept in its hist. */
sy_status sc_log_rank(sc_ctx *c, int epoch);
/* When to measure, from the method's sy_fit callbacks: on_resume (where it
 * resumed); at the start of each epoch (the untrained network's row at 0);
 * at the end of each (every --rank-every epochs and the last). */
sy_status sc_rank_resume(void *ctx, const sy_train_pos *pos);
sy_status sc_rank_epoch_start(sc_ctx *c, long epoch);
sy_status sc_rank_epoch_end(sc_ctx *c, long epoch);
/* The per-epoch figures of the n records' trained methods (their hist):
 * spectrum range and relative low-rankness; none without --rank-every or
 * epochs. */
sy_status sc_plot_epochs(sy_run *run, const sc_ctx *c, const sc_method *ms, const sc_result *rs, int n);

#endif
