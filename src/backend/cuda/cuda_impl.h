/* Launchers of the CUDA kernels (kernels.cu), callable from C: plain
 * pointers (device memory), sizes and the stream. Every launcher enqueues
 * on `s` and returns at once. Not a public interface. */
#ifndef SYRE_CUDA_IMPL_H
#define SYRE_CUDA_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include <cuda_runtime_api.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Where kernels report a data error (a label out of range): mapped host
 * memory, read after each sync. code 0 = none; 1 = bad label. */
typedef struct {
    int code, node, sample, classes;
    float value;
} syk_error;

cudaError_t syk_set_error_slot(syk_error *device_ptr);

/* A CUDA call that failed (cuda_backend.c): the first one since the last
 * sync is kept, with its name and place, and reported by that sync. 1 if e
 * is cudaSuccess. syc_note_launch: the same for a kernel launch. */
int syc_note_cuda(cudaError_t e, const char *call, const char *file, int line);
int syc_note_launch(cudaError_t e, const char *kernel, const char *file, int line);

void syk_fill(cudaStream_t s, float *p, size_t n, float v);
/* Unary ops by op id (SY_OP_SCALE ... SY_OP_SQUARE). */
void syk_unary_fwd(cudaStream_t s, int op, const float *x, float *y, size_t n, float c);
void syk_unary_bwd(cudaStream_t s, int op, const float *x, const float *y, const float *dy, float *dx, size_t n,
                   float c);
/* Clipped objectives: clamp to [lo, hi] and the elementwise minimum (same shapes);
 * gradients as the reference kernels in src/ops/clip.c. */
void syk_clamp_fwd(cudaStream_t s, const float *x, float *y, size_t n, float lo, float hi);
void syk_clamp_bwd(cudaStream_t s, const float *x, const float *dy, float *dx, size_t n, float lo, float hi);
void syk_minimum_fwd(cudaStream_t s, const float *a, const float *b, float *y, size_t n);
void syk_minimum_bwd(cudaStream_t s, const float *a, const float *b, const float *dy, float *da, float *db, size_t n);
/* a (dims d[4]) op b (strides bs[4], 0 where b broadcasts); op 0 add, 1 sub, 2 mul. */
void syk_binary_fwd(cudaStream_t s, int op, const float *a, const float *b, float *y, const int d[4],
                    const size_t bs[4], size_t n);
void syk_binary_bwd(cudaStream_t s, int op, const float *a, const float *b, const float *dy, float *da, float *db,
                    const int d[4], const size_t bs[4], size_t n, int same);
void syk_bias_add_fwd(cudaStream_t s, const float *x, const float *b, float *y, size_t outer, size_t C, size_t inner);
void syk_bias_add_bwd(cudaStream_t s, const float *dy, float *dx, float *db, size_t outer, size_t C, size_t inner);
/* y[0] = scale * sum(x); dx += scale * dy[0]. */
void syk_sum_fwd(cudaStream_t s, const float *x, float *y, size_t n, double scale);
void syk_sum_bwd(cudaStream_t s, const float *dy, float *dx, size_t n, float scale);
void syk_axis_fwd(cudaStream_t s, const float *x, float *y, size_t outer, size_t len, size_t inner, int mean);
void syk_axis_bwd(cudaStream_t s, const float *dy, float *dx, size_t outer, size_t len, size_t inner, int mean);
/* Rows of width wa, wb (in floats) into rows of wa + wb; backward adds. */
void syk_concat_fwd(cudaStream_t s, const float *a, const float *b, float *y, size_t outer, size_t wa, size_t wb);
void syk_concat_bwd(cudaStream_t s, const float *dy, float *da, float *db, size_t outer, size_t wa, size_t wb);
void syk_slice_fwd(cudaStream_t s, const float *x, float *y, size_t outer, size_t wx, size_t wy, size_t off);
void syk_slice_bwd(cudaStream_t s, const float *dy, float *dx, size_t outer, size_t wx, size_t wy, size_t off);
/* Convolution helpers: col [C*KH*KW, N*HO*WO]; ybuf [O, N*HO*WO] <-> y [N, O, HO*WO]. */
void syk_im2col(cudaStream_t s, const float *x, float *col, int N, int C, int H, int W, int KH, int KW, int S,
                int P, int HO, int WO);
void syk_col2im_add(cudaStream_t s, const float *col, float *dx, int N, int C, int H, int W, int KH, int KW, int S,
                    int P, int HO, int WO);
void syk_nchw_from_cn(cudaStream_t s, const float *ybuf, float *y, int N, int O, size_t hw);
void syk_cn_from_nchw(cudaStream_t s, const float *y, float *ybuf, int N, int O, size_t hw);
void syk_maxpool_fwd(cudaStream_t s, const float *x, float *y, int32_t *arg, int NC, int H, int W, int HO, int WO,
                     int k, int st);
void syk_maxpool_bwd(cudaStream_t s, const float *dy, const int32_t *arg, float *dx, int NC, int H, int W, int HO,
                     int WO, int k, int st);
void syk_avgpool_fwd(cudaStream_t s, const float *x, float *y, size_t planes, size_t plane);
void syk_avgpool_bwd(cudaStream_t s, const float *dy, float *dx, size_t planes, size_t plane);
void syk_batchnorm_fwd(cudaStream_t s, const float *x, const float *gam, const float *bet, float *rm, float *rv,
                       float *mean, float *istd, float *y, size_t N, size_t C, size_t inner, float mom, float eps,
                       int training);
void syk_batchnorm_bwd(cudaStream_t s, const float *x, const float *gam, const float *dy, const float *mean,
                       const float *istd, float *dx, float *dg, float *db, size_t N, size_t C, size_t inner,
                       int training);
/* dstep (device, or NULL: step): the graph's step, read when the kernel runs. */
void syk_dropout_fwd(cudaStream_t s, const float *x, float *mask, float *y, size_t n, uint64_t key, uint64_t step,
                     const uint64_t *dstep, float p, int training);
void syk_mul_bwd_same(cudaStream_t s, const float *dy, const float *m, float *dx, size_t n);
void syk_l2norm_fwd(cudaStream_t s, const float *x, float *y, float *r, int N, int F, float eps);
void syk_l2norm_bwd(cudaStream_t s, const float *y, const float *dy, const float *r, float *dx, int N, int F,
                    float eps);
void syk_softmax_ce_fwd(cudaStream_t s, const float *x, const float *lab, float *p, float *loss, int N, int K,
                        int node);
void syk_softmax_ce_bwd(cudaStream_t s, const float *p, const float *lab, const float *dy, float *dx, int N, int K);
/* Pair losses: kind 0 mse, 1 bce_logits, 2 kl_gauss (s2 = prior variance). */
void syk_pair_fwd(cudaStream_t s, int kind, const float *a, const float *b, float *loss, size_t n, double scale,
                  float s2);
void syk_pair_bwd(cudaStream_t s, int kind, const float *a, const float *b, const float *dy, float *da, float *db,
                  size_t n, float scale, float s2);

/* Optimizer: one range (fields of sy_segment and sy_step_scalars). */
typedef struct {
    size_t begin, end, base;
    int tensor, mode;
    float wd, sigma, eps;
} syk_segment;
typedef struct {
    float lr, clip;
    int clipping, first;
    float momentum, damp1;
    int has_momentum, nesterov;
    float b1c, b2, b2c, eps, step_size, bc2_sqrt;
    int kind;
    uint64_t key_a, key_d;
} syk_scalars;
/* dev_c (device memory, or NULL): the scalars to use instead of *c, read
 * by the kernels when they run (a recorded step updates them every step);
 * c->kind still picks the kernel. */
void syk_optim_range(cudaStream_t s, const syk_scalars *c, const syk_segment *seg, float *p, const float *g,
                     float *m1, float *m2, const float *anchor, const float *dd, const size_t *skip,
                     const syk_scalars *dev_c);
void syk_grad_sq_blocks(cudaStream_t s, const float *g, size_t n, double *out, size_t n_blocks, size_t block);
/* Clipping on the device: blocks <- sums of squares per 4096 (SY_OPTIM_NORM_BLOCK),
 * *norm <- the L2 norm less the W-fix entries, *clip and *clipping as the
 * CPU step computes them (all device memory). */
void syk_clip_norm(cudaStream_t s, const float *g, size_t n, double *blocks, size_t n_blocks, const size_t *fix_idx,
                   size_t n_fix, float max_norm, float *clip, int *clipping, double *norm);
/* skip (device, or NULL): when *skip != (size_t)-1 the update kernels do nothing
 * (the NaN guard's flag, checked on the device so a captured step needs no host
 * decision between scan and update). */
void syk_wfix(cudaStream_t s, float *p, float *m1, float *m2, const size_t *idx, const float *val, size_t n,
              const size_t *skip);
/* *slot <- the first i with x[i] not finite, (size_t)-1 if none (slot: device). */
void syk_scan_nonfinite(cudaStream_t s, const float *x, size_t n, size_t *slot);
/* *slot <- `vetoed` if a kernel wrote the error slot or any x[0..n) (x may
 * be NULL) is not finite; otherwise unchanged. */
void syk_veto(cudaStream_t s, const float *x, size_t n, size_t *slot, size_t vetoed);

#ifdef __cplusplus
}
#endif
#endif
