/* Synthetic data of the paper's toy experiments, all from SY_STREAM_DATAGEN:
 * the sparse linear teacher (sub-stream 0) and its samples (caller-chosen
 * sub-stream >= 1), and the quartic objective's matrix B (sub-stream 3). */
#include "syre/data.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SUB_TEACHER 0
#define SUB_QUARTIC 3

sy_status sy_synth_sparse_teacher(size_t d, size_t k, uint64_t seed, float *w)
{
    if (d == 0 || k > d || d > (size_t)0x7fffffff)
        return sy_fail(SY_ERR_ARG, "sparse teacher: need 0 <= k <= d, d > 0 (k = %zu, d = %zu)",
                       k, d);
    int *idx = malloc(d * sizeof *idx);
    if (!idx)
        return sy_fail(SY_ERR_NOMEM, "sparse teacher: out of memory for d = %zu", d);
    for (size_t i = 0; i < d; i++)
        idx[i] = (int)i;
    sy_rng r = sy_rng_make(seed, SY_STREAM_DATAGEN, SUB_TEACHER);
    /* The first k entries of a uniform shuffle: k distinct positions. */
    sy_rng_shuffle(&r, idx, d);
    memset(w, 0, d * sizeof *w);
    for (size_t i = 0; i < k; i++)
        w[idx[i]] = sy_rng_normal(&r);
    free(idx);
    return SY_OK;
}

sy_status sy_synth_linear(const float *w, size_t d, size_t n, float noise_std,
                          uint64_t seed, uint64_t sub, float *x, float *y)
{
    if (sub == SUB_TEACHER || sub == SUB_QUARTIC)
        return sy_fail(SY_ERR_ARG, "linear data: sub-stream %llu is reserved (teacher 0, "
                       "quartic 3); use 1, 2 or >= 4", (unsigned long long)sub);
    sy_rng r = sy_rng_make(seed, SY_STREAM_DATAGEN, sub);
    for (size_t i = 0; i < n; i++) {
        float *xi = x + i * d;
        double dot = 0;
        for (size_t j = 0; j < d; j++) {
            xi[j] = sy_rng_normal(&r);
            dot += (double)w[j] * xi[j];
        }
        y[i] = (float)dot + noise_std * sy_rng_normal(&r);
    }
    return SY_OK;
}

sy_status sy_synth_quartic_matrix(size_t d, int diagonal, uint64_t seed, float *B)
{
    if (d == 0)
        return sy_fail(SY_ERR_ARG, "quartic matrix: d must be > 0");
    sy_rng r = sy_rng_make(seed, SY_STREAM_DATAGEN, SUB_QUARTIC);
    memset(B, 0, d * d * sizeof *B);
    if (diagonal) {
        for (size_t i = 0; i < d; i++)
            B[i * d + i] = sy_rng_normal(&r);
        return SY_OK;
    }
    /* Draw G row by row into B, then symmetrise in place: B = G + G^T. */
    float sd = 1.0f / sqrtf((float)d);
    for (size_t i = 0; i < d * d; i++)
        B[i] = sd * sy_rng_normal(&r);
    for (size_t i = 0; i < d; i++) {
        B[i * d + i] *= 2.0f;
        for (size_t j = i + 1; j < d; j++) {
            float s = B[i * d + j] + B[j * d + i];
            B[i * d + j] = B[j * d + i] = s;
        }
    }
    return SY_OK;
}
