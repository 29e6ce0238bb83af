/* Reading a trained network through linear classifiers on its frozen
 * features: features of a dataset from an evaluation graph, their scaling,
 * a softmax-regression probe, and both on every output of a graph
 * (src/train/probe.c). */
#ifndef SYRE_PROBE_H
#define SYRE_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include "syre/core.h"
#include "syre/data.h"
#include "syre/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Run g over the first n samples of x (rows of `sample` floats) in chunks
 * of the batch of its input xin (its first dimension), the last chunk
 * zero-padded; prepare (may be NULL) transforms each chunk's k real rows
 * after the copy (e.g. sy_data_normalize). After each forward, the rows of
 * output node outs[j] for the chunk's real samples are copied into dst[j]
 * (row-major, n rows; a NULL dst[j] is skipped). */
sy_status sy_graph_features(sy_graph *g, sy_var xin, const float *x, size_t n, size_t sample,
                            sy_status (*prepare)(void *ctx, float *x, size_t k), void *ctx, int nout,
                            const sy_var *outs, float *const *dst);

/* Centre features by the training mean of each feature and divide both sets
 * by one scalar, the training features' total standard deviation
 * sqrt(trace(C) / F) (means and variance in double): a probe then sees O(1)
 * inputs whatever the network's scale, while the covariance keeps its shape
 * (unlike per-feature standardising, which would blow a collapsed direction
 * back up to unit variance). Ftr [ntr, F], Fte [nte, F] in place. */
sy_status sy_probe_scale(float *Ftr, size_t ntr, float *Fte, size_t nte, int F);

/* A linear probe: softmax regression (a linear layer "probe", initialised
 * from seed) trained with Adam at lr for `epochs` epochs of batches of
 * min(ntr, 256) (the last short batch dropped; order from seed) on Ftr
 * [ntr, F] with labels ytr in [0, ncls); *acc_test and *acc_train (either
 * may be NULL) get the argmax accuracy on Fte [nte, F] and on Ftr. */
sy_status sy_linear_probe(const float *Ftr, const int *ytr, size_t ntr, const float *Fte, const int *yte, size_t nte,
                          int F, int ncls, int epochs, double lr, uint64_t seed, double *acc_test, double *acc_train);

/* The linear evaluation of a representation: how each probe is fed and trained. */
typedef struct {
    sy_status (*prepare)(void *ctx, float *x, size_t k); /* as sy_graph_features (may be NULL) */
    void *ctx;     /* passed to prepare */
    int epochs;    /* sy_linear_probe's */
    double lr;     /* sy_linear_probe's Adam learning rate */
    uint64_t seed; /* sy_linear_probe's seed (every probe gets the same) */
} sy_probe_opts;

/* For each output node outs[j] of g (input xin): its features on all of
 * train and of test (sy_graph_features, one pass per set for all outputs),
 * the first n_raw test rows copied to raw[j] before scaling (a NULL raw or
 * raw[j]: none), then sy_probe_scale and sy_linear_probe with train's
 * classes: acc_test[j] and acc_train[j] (either array may be NULL). */
sy_status sy_probe_outputs(sy_graph *g, sy_var xin, int nout, const sy_var *outs, const sy_dataset *train,
                           const sy_dataset *test, const sy_probe_opts *o, size_t n_raw, float *const *raw,
                           double *acc_test, double *acc_train);

#ifdef __cplusplus
}
#endif
#endif
