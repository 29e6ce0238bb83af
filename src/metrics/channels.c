/* The channel covariance of a convolution's output: every (image, position)
 * a sample of the C channels (paper Fig. 9's per-layer ranks). */
#include <stdlib.h>

#include "syre/metrics.h"

sy_status sy_channel_cov_rank(const float *X, int n, int C, int HW, double thr, int *rank)
{
    if (n < 1 || C < 1 || HW < 1 || (long)n * HW < 2)
        return sy_fail(SY_ERR_ARG, "sy_channel_cov_rank: need n, C, HW >= 1 and n * HW >= 2 (got %d, %d, %d)", n, C,
                       HW);
    size_t rows = (size_t)n * HW;
    float *T = malloc(rows * C * sizeof(float));
    if (!T) return sy_fail(SY_ERR_NOMEM, "sy_channel_cov_rank: out of memory");
    /* NCHW -> [n * HW, C]: row (i, p) holds the C channels at position p of image i */
    for (int i = 0; i < n; i++)
        for (int ch = 0; ch < C; ch++)
            for (int p = 0; p < HW; p++) T[((size_t)i * HW + p) * C + ch] = X[((size_t)i * C + ch) * HW + p];
    sy_status s = sy_cov_rank(T, (int)rows, C, thr, rank);
    free(T);
    return s;
}
