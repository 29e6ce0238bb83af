/* The continual experiment's two halves (private to them): continual_tasks.c
 * trains one method through the permuted-MNIST tasks and measures each;
 * continual.c compares the methods (Fig. 9), summarises and draws them. */
#ifndef SYRE_EXPERIMENTS_CONTINUAL_H
#define SYRE_EXPERIMENTS_CONTINUAL_H

#include "syre/syre.h"

#define SP_NAME "shrink-perturb"

/* Metrics of one task, in this order in a history's row, then the task's row
 * of the accuracy matrix (tasks numbers: NaN for the tasks not seen yet). */
enum {
    R_TRAIN_LOSS, R_TRAIN_ACC, R_ACC, R_ACC_SEEN, R_ACC_FIRST, R_RANK2, R_RANK1CH, R_RANK2CH, R_ERANK2, R_DEAD2,
    R_DEADFC, R_WNORM, NREC
};

/* Columns of dormant.csv: tau-dormant ratios at tau 0 and 0.1 of conv1,
 * conv2 and fc1, and the units a reset replaced so far. */
#define CONT_NDORM 7

typedef struct {
    int tasks, epochs, batch, rank_n;
    double lr, momentum, gamma, sigma0, eps, sp_lambda, sp_noise;
    uint64_t seed;
    sy_run *run;
    const char *rec; /* the method in training: its records' name */
    sy_dataset *train, *test;
    int *perm; /* [tasks][784]: the pixel permutation of each task */
    sy_classifier m;      /* training graph (batch), evaluation graph (rank_n) */
    sy_mnist_cnn_taps et; /* the evaluation graph's features */
    sy_mnist_cnn_taps tt; /* the training graph's: what a unit reset (cbp, redo) watches */
    int dormant;          /* 1: dormant.csv and the dormant summaries are written */
    sy_unit_reset *units; /* the method in training's unit reset (NULL: none) */
    double dorm[CONT_NDORM]; /* the last task's row of dormant.csv */
    float *tmp;
} cont_ctx;

/* Read the settings, load and normalise the data, draw the permutations,
 * build the model. */
sy_status cont_setup(sy_run *run, cont_ctx *c);
void cont_free(cont_ctx *c);
/* Train method meth through all tasks at c's settings into a new history
 * of hs, *hist [tasks][NREC + tasks], named "<meth><tag>": the name of its
 * records, also c->rec. */
sy_status cont_train(cont_ctx *c, sy_histories *hs, const char *meth, const char *tag, double **hist);

#endif
