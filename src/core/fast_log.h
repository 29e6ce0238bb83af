/* Private to the library: the odd series of the branch-free float logs
 * (the normal generator in rng.c, the BCE kernel in backend/cpu).
 * ln m = 2 atanh(s) with s = (m - 1)/(m + 1), m in [sqrt(1/2), sqrt(2)):
 * returns s * P(s^2), P = 2 + 2/3 s^2 + ... + 2/11 s^10, |s| < 0.172. Each
 * caller compiles it with its own flags (the kernels fuse multiply-adds,
 * rng.c keeps them separate so its stream is the same on every build). */
#ifndef SYRE_CORE_FAST_LOG_H
#define SYRE_CORE_FAST_LOG_H

static inline float sy_log_mantissa_series(float s)
{
    float s2 = s * s;
    float p = 2.0f / 11.0f;
    p = p * s2 + 2.0f / 9.0f;
    p = p * s2 + 2.0f / 7.0f;
    p = p * s2 + 2.0f / 5.0f;
    p = p * s2 + 2.0f / 3.0f;
    p = p * s2 + 2.0f;
    return s * p;
}

#endif
