/* A sparse-teacher linear-regression task held as a dataset: the training
 * inputs as a sy_dataset (so that sy_batcher draws its batches), the float
 * targets beside it (a dataset's labels are class indices), and a test set. */
#include "syre/data.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

void sy_regression_free(sy_regression *r)
{
    if (!r)
        return;
    sy_dataset_free(r->train);
    free(r->w), free(r->y), free(r->x_test), free(r->y_test);
    free(r);
}

sy_status sy_regression_new(size_t d, size_t k, size_t n, size_t n_test, float noise, uint64_t seed,
                            sy_regression **out)
{
    *out = NULL;
    if (k > d)
        return sy_fail(SY_ERR_ARG, "regression: teacher support %zu exceeds the dimension %zu", k, d);
    if (n == 0 || d == 0 || d > INT_MAX)
        return sy_fail(SY_ERR_ARG, "regression: need 1 <= d <= %d and n >= 1 (got d = %zu, n = %zu)", INT_MAX, d, n);
    sy_regression *r = calloc(1, sizeof *r);
    if (!r)
        return sy_fail(SY_ERR_NOMEM, "regression: out of memory");
    r->d = d, r->n = n, r->n_test = n_test;
    sy_status s = sy_dataset_new(n, sy_shape_of(1, (int)d), 0, 0, "regression/train", &r->train);
    if (s != SY_OK) {
        sy_regression_free(r);
        return s;
    }
    r->w = malloc(sizeof(float) * d);
    r->y = malloc(sizeof(float) * n);
    r->x_test = malloc(sizeof(float) * (n_test * d + 1));
    r->y_test = malloc(sizeof(float) * (n_test + 1));
    if (!r->w || !r->y || !r->x_test || !r->y_test) {
        sy_regression_free(r);
        return sy_fail(SY_ERR_NOMEM, "regression: out of memory for %zu x %zu samples", n + n_test, d);
    }
    s = sy_synth_sparse_teacher(d, k, seed, r->w);
    if (s == SY_OK)
        s = sy_synth_linear(r->w, d, n, noise, seed, 1, r->train->x, r->y);
    if (s == SY_OK)
        s = sy_synth_linear(r->w, d, n_test, noise, seed, 2, r->x_test, r->y_test);
    if (s != SY_OK) {
        sy_regression_free(r);
        return s;
    }
    *out = r;
    return SY_OK;
}

void sy_regression_targets(const sy_regression *r, const sy_batcher *b, size_t n, float *y)
{
    const int *idx = sy_batcher_indices(b);
    for (size_t j = 0; j < n; j++)
        y[j] = r->y[idx[j]];
}
