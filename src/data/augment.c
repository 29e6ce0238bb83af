/* Batch-level transforms applied after sy_batcher_next: fixed pixel
 * permutations (continual tasks), CIFAR random crop + flip, and the SimCLR
 * view generator. They draw from a caller-held sy_rng so the caller decides
 * the stream (SY_STREAM_AUGMENT) and sub-stream (e.g. the epoch). */
#include "syre/data.h"

#include <math.h>
#include <string.h>

void sy_pixel_permutation(size_t numel, uint64_t seed, int task, int *perm)
{
    for (size_t i = 0; i < numel; i++)
        perm[i] = (int)i;
    if (task == 0)
        return;
    sy_rng r = sy_rng_make(seed, SY_STREAM_DATA, (UINT64_C(1) << 32) + (uint64_t)(uint32_t)task);
    sy_rng_shuffle(&r, perm, numel);
}

void sy_permute_pixels(float *x, size_t batch, size_t numel, const int *perm, float *tmp)
{
    for (size_t b = 0; b < batch; b++) {
        float *p = x + b * numel;
        for (size_t i = 0; i < numel; i++)
            tmp[i] = p[perm[i]];
        memcpy(p, tmp, numel * sizeof(float));
    }
}

void sy_augment_crop_flip(float *x, size_t batch, sy_shape sample, int pad, sy_rng *r,
                          float *tmp)
{
    int C = sample.dim[0], H = sample.dim[1], W = sample.dim[2];
    size_t numel = (size_t)C * H * W;
    for (size_t b = 0; b < batch; b++) {
        float *p = x + b * numel;
        /* Offsets into the padded (H+2p)x(W+2p) image, then the flip coin. */
        int dy = (int)sy_rng_below(r, (uint32_t)(2 * pad + 1)) - pad;
        int dx = (int)sy_rng_below(r, (uint32_t)(2 * pad + 1)) - pad;
        int flip = sy_rng_below(r, 2);
        for (int c = 0; c < C; c++)
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++) {
                    int si = i + dy, sj = (flip ? W - 1 - j : j) + dx;
                    tmp[((size_t)c * H + i) * W + j] =
                        (si >= 0 && si < H && sj >= 0 && sj < W)
                            ? p[((size_t)c * H + si) * W + sj] : 0.0f;
                }
        memcpy(p, tmp, numel * sizeof(float));
    }
}

void sy_augment_crop_flip_skip(sy_rng *r, size_t batch, int pad)
{
    for (size_t b = 0; b < batch; b++) { /* the draws of sy_augment_crop_flip, in its order */
        (void)sy_rng_below(r, (uint32_t)(2 * pad + 1));
        (void)sy_rng_below(r, (uint32_t)(2 * pad + 1));
        (void)sy_rng_below(r, 2);
    }
}

void sy_augment_crop_flip_shard(float *x, size_t batch, sy_shape sample, int pad, sy_rng *r, float *tmp,
                                const sy_batcher *b)
{
    size_t r0, global;
    sy_batcher_last_shard(b, &r0, &global);
    sy_augment_crop_flip_skip(r, r0, pad);
    sy_augment_crop_flip(x, batch, sample, pad, r, tmp);
    sy_augment_crop_flip_skip(r, global - r0 - batch, pad);
}

static float clamp01(float v) { return v < 0 ? 0 : v > 1 ? 1 : v; }

static float uniform_in(sy_rng *r, float lo, float hi)
{
    return lo + (hi - lo) * sy_rng_uniform(r);
}

/* torchvision RandomResizedCrop.get_params: ten tries at a box of the drawn
 * area and aspect ratio, then a centre crop with the ratio clamped. */
static void resized_crop_box(sy_rng *r, int H, int W, int *top, int *left, int *h, int *w)
{
    const float area = (float)H * W, lr0 = logf(3.0f / 4.0f), lr1 = logf(4.0f / 3.0f);
    for (int t = 0; t < 10; t++) {
        float target = area * uniform_in(r, 0.08f, 1.0f);
        float ratio = expf(uniform_in(r, lr0, lr1));
        int cw = (int)lroundf(sqrtf(target * ratio)), ch = (int)lroundf(sqrtf(target / ratio));
        if (cw > 0 && cw <= W && ch > 0 && ch <= H) {
            *top = (int)sy_rng_below(r, (uint32_t)(H - ch + 1));
            *left = (int)sy_rng_below(r, (uint32_t)(W - cw + 1));
            *h = ch;
            *w = cw;
            return;
        }
    }
    float in_ratio = (float)W / H;
    if (in_ratio < 3.0f / 4.0f) {
        *w = W;
        *h = (int)lroundf(W / (3.0f / 4.0f));
    } else if (in_ratio > 4.0f / 3.0f) {
        *h = H;
        *w = (int)lroundf(H * (4.0f / 3.0f));
    } else {
        *w = W;
        *h = H;
    }
    *top = (H - *h) / 2;
    *left = (W - *w) / 2;
}

/* Bilinear resize of the box to HxW (half-pixel centres, edge clamped). */
static void crop_resize(const float *src, float *dst, int C, int H, int W, int top,
                        int left, int h, int w, int flip)
{
    for (int oy = 0; oy < H; oy++) {
        float sy = (oy + 0.5f) * h / H - 0.5f;
        if (sy < 0)
            sy = 0;
        int y0 = (int)sy, y1 = y0 + 1 < h ? y0 + 1 : h - 1;
        float fy = sy - y0;
        for (int ox = 0; ox < W; ox++) {
            float sx = (ox + 0.5f) * w / W - 0.5f;
            if (sx < 0)
                sx = 0;
            int x0 = (int)sx, x1 = x0 + 1 < w ? x0 + 1 : w - 1;
            float fx = sx - x0;
            int dx = flip ? W - 1 - ox : ox;
            for (int c = 0; c < C; c++) {
                const float *p = src + (size_t)c * H * W;
                float a = p[(size_t)(top + y0) * W + left + x0];
                float b = p[(size_t)(top + y0) * W + left + x1];
                float cc = p[(size_t)(top + y1) * W + left + x0];
                float d = p[(size_t)(top + y1) * W + left + x1];
                dst[((size_t)c * H + oy) * W + dx] =
                    (1 - fy) * ((1 - fx) * a + fx * b) + fy * ((1 - fx) * cc + fx * d);
            }
        }
    }
}

static float gray(float r, float g, float b) { return 0.299f * r + 0.587f * g + 0.114f * b; }

/* Hue shift through HSV, following torchvision's tensor implementation. */
static void hue_shift(float *R, float *G, float *B, float shift)
{
    float r = *R, g = *G, b = *B;
    float maxc = fmaxf(r, fmaxf(g, b)), minc = fminf(r, fminf(g, b));
    float v = maxc, cr = maxc - minc;
    int eq = maxc == minc;
    float s = cr / (eq ? 1.0f : maxc);
    float crd = eq ? 1.0f : cr;
    float rc = (maxc - r) / crd, gc = (maxc - g) / crd, bc = (maxc - b) / crd;
    float h;
    if (maxc == r)
        h = bc - gc;
    else if (maxc == g)
        h = 2.0f + rc - bc;
    else
        h = 4.0f + gc - rc;
    h = fmodf(h / 6.0f + 1.0f, 1.0f);
    h = fmodf(h + shift + 1.0f, 1.0f);
    float h6 = h * 6.0f, fl = floorf(h6), f = h6 - fl;
    int i = ((int)fl) % 6;
    float p = clamp01(v * (1 - s)), q = clamp01(v * (1 - s * f)), t = clamp01(v * (1 - s * (1 - f)));
    switch (i) {
    case 0: *R = v; *G = t; *B = p; break;
    case 1: *R = q; *G = v; *B = p; break;
    case 2: *R = p; *G = v; *B = t; break;
    case 3: *R = p; *G = q; *B = v; break;
    case 4: *R = t; *G = p; *B = v; break;
    default: *R = v; *G = p; *B = q; break;
    }
}

/* ColorJitter's draws: the four factors, then the order of the ops. */
static void jitter_draws(sy_rng *r, float *fb, float *fc, float *fs, float *fh, int order[4])
{
    *fb = uniform_in(r, 0.6f, 1.4f), *fc = uniform_in(r, 0.6f, 1.4f);
    *fs = uniform_in(r, 0.6f, 1.4f), *fh = uniform_in(r, -0.1f, 0.1f);
    for (int k = 0; k < 4; k++) order[k] = k;
    sy_rng_shuffle(r, order, 4);
}

/* ColorJitter(0.4, 0.4, 0.4, 0.1): factors drawn first, ops in random order. */
static void color_jitter(float *x, int C, size_t plane, sy_rng *r)
{
    float fb, fc, fs, fh;
    int order[4];
    jitter_draws(r, &fb, &fc, &fs, &fh, order);
    float *R = x, *G = C == 3 ? x + plane : x, *B = C == 3 ? x + 2 * plane : x;
    for (int k = 0; k < 4; k++) {
        switch (order[k]) {
        case 0: /* brightness: blend with black */
            for (size_t i = 0; i < plane * (size_t)C; i++)
                x[i] = clamp01(x[i] * fb);
            break;
        case 1: { /* contrast: blend with the mean grey level */
            double m = 0;
            for (size_t i = 0; i < plane; i++)
                m += C == 3 ? gray(R[i], G[i], B[i]) : x[i];
            float mean = (float)(m / (double)plane);
            for (size_t i = 0; i < plane * (size_t)C; i++)
                x[i] = clamp01(fc * x[i] + (1 - fc) * mean);
            break;
        }
        case 2: /* saturation: blend with the grey image (no-op for 1 channel) */
            if (C == 3)
                for (size_t i = 0; i < plane; i++) {
                    float g = gray(R[i], G[i], B[i]);
                    R[i] = clamp01(fs * R[i] + (1 - fs) * g);
                    G[i] = clamp01(fs * G[i] + (1 - fs) * g);
                    B[i] = clamp01(fs * B[i] + (1 - fs) * g);
                }
            break;
        default: /* hue (no-op for 1 channel) */
            if (C == 3)
                for (size_t i = 0; i < plane; i++)
                    hue_shift(&R[i], &G[i], &B[i], fh);
            break;
        }
    }
}

void sy_augment_simclr(const float *src, float *dst, size_t batch, sy_shape sample,
                       sy_rng *r)
{
    int C = sample.dim[0], H = sample.dim[1], W = sample.dim[2];
    size_t plane = (size_t)H * W, numel = plane * (size_t)C;
    for (size_t b = 0; b < batch; b++) {
        const float *s = src + b * numel;
        float *d = dst + b * numel;
        int top, left, h, w;
        resized_crop_box(r, H, W, &top, &left, &h, &w);
        int flip = sy_rng_below(r, 2);
        crop_resize(s, d, C, H, W, top, left, h, w, flip);
        if (sy_rng_uniform(r) < 0.8f)
            color_jitter(d, C, plane, r);
        if (C == 3 && sy_rng_uniform(r) < 0.2f)
            for (size_t i = 0; i < plane; i++) {
                float g = gray(d[i], d[plane + i], d[2 * plane + i]);
                d[i] = d[plane + i] = d[2 * plane + i] = g;
            }
    }
}

void sy_augment_simclr_skip(sy_rng *r, size_t batch, sy_shape sample)
{
    int C = sample.dim[0], H = sample.dim[1], W = sample.dim[2];
    for (size_t b = 0; b < batch; b++) { /* the draws of sy_augment_simclr, in its order */
        int top, left, h, w, order[4];
        float f[4];
        resized_crop_box(r, H, W, &top, &left, &h, &w);
        (void)sy_rng_below(r, 2);
        if (sy_rng_uniform(r) < 0.8f) jitter_draws(r, &f[0], &f[1], &f[2], &f[3], order);
        if (C == 3) (void)sy_rng_uniform(r);
    }
}
