// CUDA kernels of the op table (everything but the GEMMs, which are cuBLAS
// calls in cuda_backend.c) and of the optimizer step. Each mirrors its CPU
// reference kernel in src/ops/ or src/optim/step.c line for line, with the
// same float/double choices, so results agree to rounding; the file is
// compiled with --fmad=false so that a*b+c is not contracted where the CPU
// code does not contract it. Sums use double accumulators like the
// reference; their order differs (tree reductions) but is fixed: no float
// atomics, so a run gives the same bits every time.
//
// NOTE: written and compiled without a GPU; tests/test_cuda.c and
// scripts/gpu-check.sh are what verify it on one.
#include "cuda_impl.h"

#include "ops/op_table.h"

#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>

#define TPB 256

static unsigned blocks_for(size_t n)
{
    size_t b = (n + TPB - 1) / TPB;
    if (b < 1) b = 1;
    if (b > 65535u * 16u) b = 65535u * 16u;
    return (unsigned)b;
}

// Every launch is checked where it is made (a bad configuration fails at
// once; the error names the kernel): cuda_backend.c keeps the first failure
// and reports it at the next sync.
#define SYK_LAUNCHED(name) syc_note_launch(cudaGetLastError(), name, __FILE__, __LINE__)

#define GRID_STRIDE(i, n) \
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n); i += (size_t)gridDim.x * blockDim.x)

static __device__ syk_error *g_err;

// Synchronous: on the legacy stream, once at initialisation, before any work.
extern "C" cudaError_t syk_set_error_slot(syk_error *p) { return cudaMemcpyToSymbol(g_err, &p, sizeof p); }

// Block-wide sum of one double per thread (blockDim.x a multiple of 32, <= 1024).
__device__ double block_sum(double v)
{
    __shared__ double part[32];
    for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    __syncthreads(); // part[] may still be read by a previous call
    if (lane == 0) part[w] = v;
    __syncthreads();
    int nw = (blockDim.x + 31) >> 5;
    v = threadIdx.x < nw ? part[threadIdx.x] : 0.0;
    if (w == 0)
        for (int o = 16; o > 0; o >>= 1) v += __shfl_down_sync(0xffffffffu, v, o);
    __shared__ double total;
    if (threadIdx.x == 0) total = v;
    __syncthreads();
    return total;
}

__global__ void k_fill(float *p, size_t n, float v) { GRID_STRIDE(i, n) p[i] = v; }
extern "C" void syk_fill(cudaStream_t s, float *p, size_t n, float v)
{
    k_fill<<<blocks_for(n), TPB, 0, s>>>(p, n, v);
    SYK_LAUNCHED("k_fill");
}

// ---- Unary ---------------------------------------------------------------

__device__ inline float sigm(float x) { return 1.0f / (1.0f + expf(-x)); }

__device__ inline float unary_f(int op, float x, float c)
{
    switch (op) {
    case SY_OP_SCALE: return c * x;
    case SY_OP_RELU: return x > 0.0f ? x : 0.0f;
    case SY_OP_TANH: return tanhf(x);
    case SY_OP_SIGMOID: return sigm(x);
    case SY_OP_SILU: return x * sigm(x);
    case SY_OP_EXP: return expf(x);
    case SY_OP_LOG: return logf(x);
    default: return x * x; // SQUARE
    }
}

__device__ inline float unary_b(int op, float x, float y, float dy, float c)
{
    switch (op) {
    case SY_OP_SCALE: return c * dy;
    case SY_OP_RELU: return x > 0.0f ? dy : 0.0f;
    case SY_OP_TANH: return dy * (1.0f - y * y);
    case SY_OP_SIGMOID: return dy * y * (1.0f - y);
    case SY_OP_SILU: return dy * (sigm(x) * (1.0f + x * (1.0f - sigm(x))));
    case SY_OP_EXP: return dy * y;
    case SY_OP_LOG: return dy / x;
    default: return 2.0f * x * dy;
    }
}

template <int OP> __global__ void k_unary_f(const float *__restrict__ x, float *__restrict__ y, size_t n, float c)
{
    GRID_STRIDE(i, n) y[i] = unary_f(OP, x[i], c);
}
template <int OP>
__global__ void k_unary_b(const float *__restrict__ x, const float *__restrict__ y, const float *__restrict__ dy,
                          float *__restrict__ dx, size_t n, float c)
{
    GRID_STRIDE(i, n) dx[i] += unary_b(OP, x[i], y[i], dy[i], c);
}

#define UNARY_CASES(X) X(SY_OP_SCALE) X(SY_OP_RELU) X(SY_OP_TANH) X(SY_OP_SIGMOID) X(SY_OP_SILU) X(SY_OP_EXP) X(SY_OP_LOG) X(SY_OP_SQUARE)

extern "C" void syk_unary_fwd(cudaStream_t s, int op, const float *x, float *y, size_t n, float c)
{
    switch (op) {
#define F(OP) case OP: k_unary_f<OP><<<blocks_for(n), TPB, 0, s>>>(x, y, n, c); break;
        UNARY_CASES(F)
#undef F
    default: break;
    }
    SYK_LAUNCHED("k_unary_f");
}
extern "C" void syk_unary_bwd(cudaStream_t s, int op, const float *x, const float *y, const float *dy, float *dx,
                              size_t n, float c)
{
    switch (op) {
#define B(OP) case OP: k_unary_b<OP><<<blocks_for(n), TPB, 0, s>>>(x, y, dy, dx, n, c); break;
        UNARY_CASES(B)
#undef B
    default: break;
    }
    SYK_LAUNCHED("k_unary_b");
}

// ---- Clamp and minimum (PPO's clipped objective) ---------------------------

__global__ void k_clamp_f(const float *__restrict__ x, float *__restrict__ y, size_t n, float lo, float hi)
{
    GRID_STRIDE(i, n) y[i] = x[i] < lo ? lo : (x[i] > hi ? hi : x[i]);
}
__global__ void k_clamp_b(const float *__restrict__ x, const float *__restrict__ dy, float *__restrict__ dx, size_t n,
                          float lo, float hi)
{
    GRID_STRIDE(i, n) if (x[i] >= lo && x[i] <= hi) dx[i] += dy[i];
}
__global__ void k_minimum_f(const float *__restrict__ a, const float *__restrict__ b, float *__restrict__ y, size_t n)
{
    GRID_STRIDE(i, n) y[i] = a[i] <= b[i] ? a[i] : b[i];
}
__global__ void k_minimum_b(const float *__restrict__ a, const float *__restrict__ b, const float *__restrict__ dy,
                            float *__restrict__ da, float *__restrict__ db, size_t n)
{
    GRID_STRIDE(i, n)
    {
        if (a[i] <= b[i]) {
            if (da) da[i] += dy[i];
        } else if (db) {
            db[i] += dy[i];
        }
    }
}
extern "C" void syk_clamp_fwd(cudaStream_t s, const float *x, float *y, size_t n, float lo, float hi)
{
    k_clamp_f<<<blocks_for(n), TPB, 0, s>>>(x, y, n, lo, hi);
    SYK_LAUNCHED("k_clamp_f");
}
extern "C" void syk_clamp_bwd(cudaStream_t s, const float *x, const float *dy, float *dx, size_t n, float lo, float hi)
{
    k_clamp_b<<<blocks_for(n), TPB, 0, s>>>(x, dy, dx, n, lo, hi);
    SYK_LAUNCHED("k_clamp_b");
}
extern "C" void syk_minimum_fwd(cudaStream_t s, const float *a, const float *b, float *y, size_t n)
{
    k_minimum_f<<<blocks_for(n), TPB, 0, s>>>(a, b, y, n);
    SYK_LAUNCHED("k_minimum_f");
}
extern "C" void syk_minimum_bwd(cudaStream_t s, const float *a, const float *b, const float *dy, float *da, float *db,
                                size_t n)
{
    k_minimum_b<<<blocks_for(n), TPB, 0, s>>>(a, b, dy, da, db, n);
    SYK_LAUNCHED("k_minimum_b");
}

// ---- Broadcast binary ------------------------------------------------------

struct bc4 {
    int d[4];
    size_t bs[4];
};

__device__ inline size_t bidx(const bc4 &b, size_t i)
{
    size_t t = i;
    size_t i3 = t % b.d[3];
    t /= b.d[3];
    size_t i2 = t % b.d[2];
    t /= b.d[2];
    size_t i1 = t % b.d[1];
    size_t i0 = t / b.d[1];
    return i0 * b.bs[0] + i1 * b.bs[1] + i2 * b.bs[2] + i3 * b.bs[3];
}

__global__ void k_binary_f(int op, const float *a, const float *b, float *y, bc4 bc, size_t n)
{
    GRID_STRIDE(i, n)
    {
        size_t j = bidx(bc, i);
        y[i] = op == 0 ? a[i] + b[j] : op == 1 ? a[i] - b[j] : a[i] * b[j];
    }
}

__global__ void k_binary_b(int op, const float *a, const float *b, const float *dy, float *da, float *db, bc4 bc,
                           size_t n, int same)
{
    GRID_STRIDE(i, n)
    {
        size_t j = bidx(bc, i);
        float g = dy[i];
        if (da) da[i] += op == 2 ? g * b[j] : g;
        if (db && same) db[j] += op == 0 ? g : op == 1 ? -g : g * a[i];
    }
}

// db of a broadcast operand, without atomics (whose order, and so whose
// rounding, changes from run to run): one block per element j of b sums,
// in a fixed order, the elements i of dy that j was broadcast to.
__global__ void __launch_bounds__(256) k_binary_db(int op, const float *a, const float *dy, float *db, bc4 bc,
                                                   size_t nb, size_t m)
{
    size_t astride[4], s = 1;
    for (int k = 3; k >= 0; k--) {
        astride[k] = s;
        s *= (size_t)bc.d[k];
    }
    for (size_t j = blockIdx.x; j < nb; j += gridDim.x) {
        size_t base = 0; // j's coordinates along the dimensions b has
        for (int k = 0; k < 4; k++)
            if (bc.bs[k]) base += ((j / bc.bs[k]) % (size_t)bc.d[k]) * astride[k];
        double acc = 0;
        for (size_t t = threadIdx.x; t < m; t += blockDim.x) {
            size_t i = base, r = t; // t enumerates the broadcast dimensions
            for (int k = 3; k >= 0; k--)
                if (!bc.bs[k]) {
                    i += (r % (size_t)bc.d[k]) * astride[k];
                    r /= (size_t)bc.d[k];
                }
            float g = dy[i];
            acc += op == 0 ? g : op == 1 ? -g : g * a[i];
        }
        acc = block_sum(acc);
        if (threadIdx.x == 0) db[j] += (float)acc;
    }
}

static bc4 make_bc(const int d[4], const size_t bs[4])
{
    bc4 b;
    for (int k = 0; k < 4; k++) {
        b.d[k] = d[k];
        b.bs[k] = bs[k];
    }
    return b;
}

extern "C" void syk_binary_fwd(cudaStream_t s, int op, const float *a, const float *b, float *y, const int d[4],
                               const size_t bs[4], size_t n)
{
    k_binary_f<<<blocks_for(n), TPB, 0, s>>>(op, a, b, y, make_bc(d, bs), n);
    SYK_LAUNCHED("k_binary_f");
}
extern "C" void syk_binary_bwd(cudaStream_t s, int op, const float *a, const float *b, const float *dy, float *da,
                               float *db, const int d[4], const size_t bs[4], size_t n, int same)
{
    if (!n) return;
    k_binary_b<<<blocks_for(n), TPB, 0, s>>>(op, a, b, dy, da, db, make_bc(d, bs), n, same);
    SYK_LAUNCHED("k_binary_b");
    if (db && !same) {
        bc4 bc = make_bc(d, bs);
        size_t nb = 1;
        for (int k = 0; k < 4; k++)
            if (bs[k]) nb *= (size_t)d[k];
        k_binary_db<<<(unsigned)(nb < 65535u ? nb : 65535u), 256, 0, s>>>(op, a, dy, db, bc, nb, n / nb);
        SYK_LAUNCHED("k_binary_db");
    }
}

// ---- Bias add, reductions ------------------------------------------------------

__global__ void k_bias_f(const float *x, const float *b, float *y, size_t n, size_t C, size_t inner)
{
    GRID_STRIDE(i, n) y[i] = x[i] + b[(i / inner) % C];
}
__global__ void k_add_to(const float *dy, float *dx, size_t n) { GRID_STRIDE(i, n) dx[i] += dy[i]; }

// One block per channel c: sum over (o, k) of v[(o*C + c)*inner + k].
__global__ void __launch_bounds__(512) k_channel_sum_add(const float *v, float *out, size_t outer, size_t C, size_t inner)
{
    size_t c = blockIdx.x, m = outer * inner;
    double acc = 0;
    for (size_t e = threadIdx.x; e < m; e += blockDim.x) acc += v[((e / inner) * C + c) * inner + e % inner];
    acc = block_sum(acc);
    if (threadIdx.x == 0) out[c] += (float)acc;
}

extern "C" void syk_bias_add_fwd(cudaStream_t s, const float *x, const float *b, float *y, size_t outer, size_t C,
                                 size_t inner)
{
    size_t n = outer * C * inner;
    k_bias_f<<<blocks_for(n), TPB, 0, s>>>(x, b, y, n, C, inner);
    SYK_LAUNCHED("k_bias_f");
}
extern "C" void syk_bias_add_bwd(cudaStream_t s, const float *dy, float *dx, float *db, size_t outer, size_t C,
                                 size_t inner)
{
    size_t n = outer * C * inner;
    if (dx) k_add_to<<<blocks_for(n), TPB, 0, s>>>(dy, dx, n);
    SYK_LAUNCHED("k_add_to");
    if (db && C) k_channel_sum_add<<<(unsigned)C, 512, 0, s>>>(dy, db, outer, C, inner);
    SYK_LAUNCHED("k_channel_sum_add");
}

__global__ void __launch_bounds__(1024) k_sum1(const float *x, float *y, size_t n, double scale)
{
    double acc = 0;
    for (size_t i = threadIdx.x; i < n; i += blockDim.x) acc += x[i];
    acc = block_sum(acc);
    if (threadIdx.x == 0) y[0] = (float)(acc * scale);
}
__global__ void k_bcast_add(const float *dy, float *dx, size_t n, float scale)
{
    float d = dy[0] * scale;
    GRID_STRIDE(i, n) dx[i] += d;
}
extern "C" void syk_sum_fwd(cudaStream_t s, const float *x, float *y, size_t n, double scale)
{
    k_sum1<<<1, 1024, 0, s>>>(x, y, n, scale);
    SYK_LAUNCHED("k_sum1");
}
extern "C" void syk_sum_bwd(cudaStream_t s, const float *dy, float *dx, size_t n, float scale)
{
    k_bcast_add<<<blocks_for(n), TPB, 0, s>>>(dy, dx, n, scale);
    SYK_LAUNCHED("k_bcast_add");
}

__global__ void k_axis_f(const float *x, float *y, size_t outer, size_t len, size_t inner, int mean)
{
    GRID_STRIDE(i, outer * inner)
    {
        size_t o = i / inner, k = i % inner;
        double acc = 0;
        for (size_t l = 0; l < len; l++) acc += x[(o * len + l) * inner + k];
        y[i] = (float)(mean ? acc / len : acc);
    }
}
__global__ void k_axis_b(const float *dy, float *dx, size_t outer, size_t len, size_t inner, float sc)
{
    GRID_STRIDE(i, outer * len * inner)
    {
        size_t k = i % inner, o = i / (len * inner);
        dx[i] += sc * dy[o * inner + k];
    }
}
extern "C" void syk_axis_fwd(cudaStream_t s, const float *x, float *y, size_t outer, size_t len, size_t inner, int mean)
{
    k_axis_f<<<blocks_for(outer * inner), TPB, 0, s>>>(x, y, outer, len, inner, mean);
    SYK_LAUNCHED("k_axis_f");
}
extern "C" void syk_axis_bwd(cudaStream_t s, const float *dy, float *dx, size_t outer, size_t len, size_t inner, int mean)
{
    k_axis_b<<<blocks_for(outer * len * inner), TPB, 0, s>>>(dy, dx, outer, len, inner, mean ? 1.0f / len : 1.0f);
    SYK_LAUNCHED("k_axis_b");
}

// ---- Concat, slice ------------------------------------------------------------

__global__ void k_concat_f(const float *a, const float *b, float *y, size_t outer, size_t wa, size_t wb)
{
    size_t w = wa + wb;
    GRID_STRIDE(i, outer * w)
    {
        size_t o = i / w, r = i % w;
        y[i] = r < wa ? a[o * wa + r] : b[o * wb + r - wa];
    }
}
__global__ void k_concat_b(const float *dy, float *da, float *db, size_t outer, size_t wa, size_t wb)
{
    size_t w = wa + wb;
    GRID_STRIDE(i, outer * w)
    {
        size_t o = i / w, r = i % w;
        if (da == db && da) { // concat(x, x): one thread adds both halves (two would race on one address)
            if (r < wa) da[o * wa + r] += dy[i] + dy[i + wa];
        } else if (r < wa) {
            if (da) da[o * wa + r] += dy[i];
        } else if (db) {
            db[o * wb + r - wa] += dy[i];
        }
    }
}
extern "C" void syk_concat_fwd(cudaStream_t s, const float *a, const float *b, float *y, size_t outer, size_t wa, size_t wb)
{
    k_concat_f<<<blocks_for(outer * (wa + wb)), TPB, 0, s>>>(a, b, y, outer, wa, wb);
    SYK_LAUNCHED("k_concat_f");
}
extern "C" void syk_concat_bwd(cudaStream_t s, const float *dy, float *da, float *db, size_t outer, size_t wa, size_t wb)
{
    k_concat_b<<<blocks_for(outer * (wa + wb)), TPB, 0, s>>>(dy, da, db, outer, wa, wb);
    SYK_LAUNCHED("k_concat_b");
}
__global__ void k_slice_f(const float *x, float *y, size_t outer, size_t wx, size_t wy, size_t off)
{
    GRID_STRIDE(i, outer * wy) y[i] = x[(i / wy) * wx + off + i % wy];
}
__global__ void k_slice_b(const float *dy, float *dx, size_t outer, size_t wx, size_t wy, size_t off)
{
    GRID_STRIDE(i, outer * wy) dx[(i / wy) * wx + off + i % wy] += dy[i];
}
extern "C" void syk_slice_fwd(cudaStream_t s, const float *x, float *y, size_t outer, size_t wx, size_t wy, size_t off)
{
    k_slice_f<<<blocks_for(outer * wy), TPB, 0, s>>>(x, y, outer, wx, wy, off);
    SYK_LAUNCHED("k_slice_f");
}
extern "C" void syk_slice_bwd(cudaStream_t s, const float *dy, float *dx, size_t outer, size_t wx, size_t wy, size_t off)
{
    k_slice_b<<<blocks_for(outer * wy), TPB, 0, s>>>(dy, dx, outer, wx, wy, off);
    SYK_LAUNCHED("k_slice_b");
}

// ---- Convolution helpers ---------------------------------------------------------

// col[(c*KH + kh)*KW + kw][b*HW + oh*WO + ow] = x[b, c, oh*S - P + kh, ow*S - P + kw] (0 outside).
__global__ void k_im2col(const float *x, float *col, int N, int C, int H, int W, int KH, int KW, int S, int P, int HO,
                         int WO)
{
    size_t hw = (size_t)HO * WO, ld = (size_t)N * hw, total = (size_t)C * KH * KW * ld;
    GRID_STRIDE(i, total)
    {
        size_t row = i / ld, q = i % ld;
        int b = (int)(q / hw), p = (int)(q % hw), oh = p / WO, ow = p % WO;
        int kw = (int)(row % KW), kh = (int)((row / KW) % KH), c = (int)(row / ((size_t)KW * KH));
        int ih = oh * S - P + kh, iw = ow * S - P + kw;
        col[i] = (ih >= 0 && ih < H && iw >= 0 && iw < W) ? x[(((size_t)b * C + c) * H + ih) * W + iw] : 0.0f;
    }
}
// dx[b, c, ih, iw] += sum of col entries that read it (gather: no atomics).
__global__ void k_col2im(const float *col, float *dx, int N, int C, int H, int W, int KH, int KW, int S, int P, int HO,
                         int WO)
{
    size_t hw = (size_t)HO * WO, ld = (size_t)N * hw, total = (size_t)N * C * H * W;
    GRID_STRIDE(i, total)
    {
        int iw = (int)(i % W), ih = (int)((i / W) % H), c = (int)((i / ((size_t)W * H)) % C);
        int b = (int)(i / ((size_t)W * H * C));
        float acc = 0.0f;
        for (int kh = 0; kh < KH; kh++) {
            int t = ih + P - kh;
            if (t < 0 || t % S) continue;
            int oh = t / S;
            if (oh >= HO) continue;
            for (int kw = 0; kw < KW; kw++) {
                int u = iw + P - kw;
                if (u < 0 || u % S) continue;
                int ow = u / S;
                if (ow >= WO) continue;
                acc += col[(((size_t)c * KH + kh) * KW + kw) * ld + (size_t)b * hw + (size_t)oh * WO + ow];
            }
        }
        dx[i] += acc;
    }
}
extern "C" void syk_im2col(cudaStream_t s, const float *x, float *col, int N, int C, int H, int W, int KH, int KW,
                           int S, int P, int HO, int WO)
{
    size_t total = (size_t)C * KH * KW * N * HO * WO;
    k_im2col<<<blocks_for(total), TPB, 0, s>>>(x, col, N, C, H, W, KH, KW, S, P, HO, WO);
    SYK_LAUNCHED("k_im2col");
}
extern "C" void syk_col2im_add(cudaStream_t s, const float *col, float *dx, int N, int C, int H, int W, int KH, int KW,
                               int S, int P, int HO, int WO)
{
    size_t total = (size_t)N * C * H * W;
    k_col2im<<<blocks_for(total), TPB, 0, s>>>(col, dx, N, C, H, W, KH, KW, S, P, HO, WO);
    SYK_LAUNCHED("k_col2im");
}
// y[b][o][p] = ybuf[o][b*hw + p] and back.
__global__ void k_nchw_from_cn(const float *ybuf, float *y, int N, int O, size_t hw)
{
    GRID_STRIDE(i, (size_t)N * O * hw)
    {
        size_t p = i % hw, o = (i / hw) % O, b = i / (hw * O);
        y[i] = ybuf[o * ((size_t)N * hw) + b * hw + p];
    }
}
__global__ void k_cn_from_nchw(const float *y, float *ybuf, int N, int O, size_t hw)
{
    GRID_STRIDE(i, (size_t)N * O * hw)
    {
        size_t p = i % hw, o = (i / hw) % O, b = i / (hw * O);
        ybuf[o * ((size_t)N * hw) + b * hw + p] = y[i];
    }
}
extern "C" void syk_nchw_from_cn(cudaStream_t s, const float *ybuf, float *y, int N, int O, size_t hw)
{
    k_nchw_from_cn<<<blocks_for((size_t)N * O * hw), TPB, 0, s>>>(ybuf, y, N, O, hw);
    SYK_LAUNCHED("k_nchw_from_cn");
}
extern "C" void syk_cn_from_nchw(cudaStream_t s, const float *y, float *ybuf, int N, int O, size_t hw)
{
    k_cn_from_nchw<<<blocks_for((size_t)N * O * hw), TPB, 0, s>>>(y, ybuf, N, O, hw);
    SYK_LAUNCHED("k_cn_from_nchw");
}

// ---- Pooling ------------------------------------------------------------------------

__global__ void k_maxpool_f(const float *x, float *y, int32_t *arg, int NC, int H, int W, int HO, int WO, int k, int st)
{
    GRID_STRIDE(i, (size_t)NC * HO * WO)
    {
        int ow = (int)(i % WO), oh = (int)((i / WO) % HO);
        size_t p = i / ((size_t)WO * HO);
        const float *src = x + p * H * W;
        int best = (oh * st) * W + ow * st;
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++) {
                int idx = (oh * st + a) * W + ow * st + b;
                if (src[idx] > src[best]) best = idx;
            }
        y[i] = src[best];
        arg[i] = best;
    }
}
// Each input element sums, in a fixed order, the outputs whose window chose
// it (windows overlap when st < k; atomics would add in a varying order).
__global__ void k_maxpool_b(const float *dy, const int32_t *arg, float *dx, int NC, int H, int W, int HO, int WO,
                            int k, int st)
{
    GRID_STRIDE(i, (size_t)NC * H * W)
    {
        int w = (int)(i % W), h = (int)((i / W) % H);
        size_t p = i / ((size_t)W * H), ob = p * HO * WO;
        int at = h * W + w;
        int oh0 = h - k + 1 > 0 ? (h - k + st) / st : 0, ow0 = w - k + 1 > 0 ? (w - k + st) / st : 0;
        int oh1 = h / st < HO - 1 ? h / st : HO - 1, ow1 = w / st < WO - 1 ? w / st : WO - 1;
        float acc = 0.0f;
        for (int oh = oh0; oh <= oh1; oh++)
            for (int ow = ow0; ow <= ow1; ow++) {
                size_t o = ob + (size_t)oh * WO + ow;
                if (arg[o] == at) acc += dy[o];
            }
        dx[i] += acc;
    }
}
extern "C" void syk_maxpool_fwd(cudaStream_t s, const float *x, float *y, int32_t *arg, int NC, int H, int W, int HO,
                                int WO, int k, int st)
{
    k_maxpool_f<<<blocks_for((size_t)NC * HO * WO), TPB, 0, s>>>(x, y, arg, NC, H, W, HO, WO, k, st);
    SYK_LAUNCHED("k_maxpool_f");
}
extern "C" void syk_maxpool_bwd(cudaStream_t s, const float *dy, const int32_t *arg, float *dx, int NC, int H, int W,
                                int HO, int WO, int k, int st)
{
    if (!((size_t)NC * H * W)) return;
    k_maxpool_b<<<blocks_for((size_t)NC * H * W), TPB, 0, s>>>(dy, arg, dx, NC, H, W, HO, WO, k, st);
    SYK_LAUNCHED("k_maxpool_b");
}

// One warp per plane.
__global__ void k_avgpool_f(const float *x, float *y, size_t planes, size_t plane)
{
    size_t warp = ((size_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int lane = threadIdx.x & 31;
    if (warp >= planes) return;
    double acc = 0;
    for (size_t i = lane; i < plane; i += 32) acc += x[warp * plane + i];
    for (int o = 16; o > 0; o >>= 1) acc += __shfl_down_sync(0xffffffffu, acc, o);
    if (lane == 0) y[warp] = (float)(acc / plane);
}
__global__ void k_avgpool_b(const float *dy, float *dx, size_t planes, size_t plane)
{
    GRID_STRIDE(i, planes * plane) dx[i] += dy[i / plane] / plane;
}
extern "C" void syk_avgpool_fwd(cudaStream_t s, const float *x, float *y, size_t planes, size_t plane)
{
    size_t threads = planes * 32;
    if (!threads) return;
    k_avgpool_f<<<(unsigned)((threads + TPB - 1) / TPB), TPB, 0, s>>>(x, y, planes, plane);
    SYK_LAUNCHED("k_avgpool_f");
}
extern "C" void syk_avgpool_bwd(cudaStream_t s, const float *dy, float *dx, size_t planes, size_t plane)
{
    k_avgpool_b<<<blocks_for(planes * plane), TPB, 0, s>>>(dy, dx, planes, plane);
    SYK_LAUNCHED("k_avgpool_b");
}

// ---- Batch norm: one block per channel for the statistics ---------------------------

#define BN_AT(e) ((((e) / inner) * C + c) * inner + (e) % inner)

__global__ void __launch_bounds__(512) k_bn_stats(const float *x, float *rm, float *rv, float *mean, float *istd, size_t N, size_t C,
                           size_t inner, float mom, float eps, int training)
{
    size_t c = blockIdx.x, cnt = N * inner;
    double m, v;
    if (training) {
        double s1 = 0;
        for (size_t e = threadIdx.x; e < cnt; e += blockDim.x) s1 += x[BN_AT(e)];
        m = block_sum(s1) / cnt;
        double s2 = 0;
        for (size_t e = threadIdx.x; e < cnt; e += blockDim.x) {
            double d = x[BN_AT(e)] - m;
            s2 += d * d;
        }
        v = block_sum(s2) / cnt;
        if (threadIdx.x == 0) {
            rm[c] = (float)((1 - mom) * rm[c] + mom * m);
            rv[c] = (float)((1 - mom) * rv[c] + mom * (cnt > 1 ? v * cnt / (cnt - 1) : v));
        }
    } else {
        m = rm[c];
        v = rv[c];
    }
    if (threadIdx.x == 0) {
        mean[c] = (float)m;
        istd[c] = (float)(1.0 / sqrt(v + eps));
    }
}
__global__ void k_bn_apply(const float *x, const float *gam, const float *bet, const float *mean, const float *istd,
                           float *y, size_t n, size_t C, size_t inner)
{
    GRID_STRIDE(i, n)
    {
        size_t c = (i / inner) % C;
        y[i] = gam[c] * (x[i] - mean[c]) * istd[c] + bet[c];
    }
}
__global__ void __launch_bounds__(512) k_bn_bwd(const float *x, const float *gam, const float *dy, const float *mean, const float *istd,
                         float *dx, float *dg, float *db, size_t N, size_t C, size_t inner, int training)
{
    size_t c = blockIdx.x, cnt = N * inner;
    double sdy = 0, sdyx = 0;
    for (size_t e = threadIdx.x; e < cnt; e += blockDim.x) {
        size_t i = BN_AT(e);
        sdy += dy[i];
        sdyx += dy[i] * (x[i] - mean[c]) * istd[c];
    }
    sdy = block_sum(sdy);
    sdyx = block_sum(sdyx);
    if (threadIdx.x == 0) {
        if (dg) dg[c] += (float)sdyx;
        if (db) db[c] += (float)sdy;
    }
    if (!dx) return;
    for (size_t e = threadIdx.x; e < cnt; e += blockDim.x) {
        size_t i = BN_AT(e);
        if (training) {
            double xh = (x[i] - mean[c]) * istd[c];
            dx[i] += (float)(gam[c] * istd[c] * (dy[i] - sdy / cnt - xh * sdyx / cnt));
        } else {
            dx[i] += gam[c] * istd[c] * dy[i];
        }
    }
}
extern "C" void syk_batchnorm_fwd(cudaStream_t s, const float *x, const float *gam, const float *bet, float *rm,
                                  float *rv, float *mean, float *istd, float *y, size_t N, size_t C, size_t inner,
                                  float mom, float eps, int training)
{
    if (!C) return;
    k_bn_stats<<<(unsigned)C, 512, 0, s>>>(x, rm, rv, mean, istd, N, C, inner, mom, eps, training);
    SYK_LAUNCHED("k_bn_stats");
    size_t n = N * C * inner;
    k_bn_apply<<<blocks_for(n), TPB, 0, s>>>(x, gam, bet, mean, istd, y, n, C, inner);
    SYK_LAUNCHED("k_bn_apply");
}
extern "C" void syk_batchnorm_bwd(cudaStream_t s, const float *x, const float *gam, const float *dy, const float *mean,
                                  const float *istd, float *dx, float *dg, float *db, size_t N, size_t C, size_t inner,
                                  int training)
{
    if (!C) return;
    k_bn_bwd<<<(unsigned)C, 512, 0, s>>>(x, gam, dy, mean, istd, dx, dg, db, N, C, inner, training);
    SYK_LAUNCHED("k_bn_bwd");
}

// ---- Philox4x32-10, as src/core/rng.c ---------------------------------------------------

__device__ inline void philox(uint64_t key, uint64_t c_hi, uint64_t c_lo, uint32_t out[4])
{
    uint32_t c0 = (uint32_t)c_lo, c1 = (uint32_t)(c_lo >> 32);
    uint32_t c2 = (uint32_t)c_hi, c3 = (uint32_t)(c_hi >> 32);
    uint32_t k0 = (uint32_t)key, k1 = (uint32_t)(key >> 32);
    for (int r = 0; r < 10; r++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0;
        uint64_t p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t n0 = (uint32_t)(p1 >> 32) ^ c1 ^ k0;
        uint32_t n2 = (uint32_t)(p0 >> 32) ^ c3 ^ k1;
        c1 = (uint32_t)p1;
        c3 = (uint32_t)p0;
        c0 = n0;
        c2 = n2;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}
__device__ inline float uniform_at(uint64_t key, uint64_t sub, uint64_t idx)
{
    uint32_t o[4];
    philox(key, sub, idx, o);
    return (float)(o[0] >> 8) * (1.0f / 16777216.0f);
}
// Box-Muller in double, as the CPU; CUDA's log/cos are within 1 ulp in
// double, so after rounding to float a rare value may differ in its last bit.
__device__ inline float normal_at(uint64_t key, uint64_t sub, uint64_t idx)
{
    uint32_t o[4];
    philox(key, sub, idx, o);
    double u1 = ((double)(o[0] >> 8) + 1.0) * (1.0 / 16777216.0);
    double u2 = (double)(o[1] >> 8) * (1.0 / 16777216.0);
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

__global__ void k_dropout_f(const float *x, float *mask, float *y, size_t n, uint64_t key, uint64_t step_arg,
                            const uint64_t *dstep, float p, int training)
{
    float keep = 1.0f / (1.0f - p);
    const uint64_t step = dstep ? *dstep : step_arg; // a recorded step reads this step's counter
    GRID_STRIDE(i, n)
    {
        float m = !training ? 1.0f : (uniform_at(key, step, i) >= p ? keep : 0.0f);
        mask[i] = m;
        y[i] = x[i] * m;
    }
}
__global__ void k_mul_same_b(const float *dy, const float *m, float *dx, size_t n) { GRID_STRIDE(i, n) dx[i] += dy[i] * m[i]; }
extern "C" void syk_dropout_fwd(cudaStream_t s, const float *x, float *mask, float *y, size_t n, uint64_t key,
                                uint64_t step, const uint64_t *dstep, float p, int training)
{
    k_dropout_f<<<blocks_for(n), TPB, 0, s>>>(x, mask, y, n, key, step, dstep, p, training);
    SYK_LAUNCHED("k_dropout_f");
}
extern "C" void syk_mul_bwd_same(cudaStream_t s, const float *dy, const float *m, float *dx, size_t n)
{
    k_mul_same_b<<<blocks_for(n), TPB, 0, s>>>(dy, m, dx, n);
    SYK_LAUNCHED("k_mul_same_b");
}

// ---- L2 normalisation: one block per row ----------------------------------------------

__global__ void __launch_bounds__(256) k_l2_f(const float *x, float *y, float *r, int F, float eps)
{
    const float *xr = x + (size_t)blockIdx.x * F;
    double acc = 0;
    for (int j = threadIdx.x; j < F; j += blockDim.x) acc += (double)xr[j] * xr[j];
    acc = block_sum(acc);
    float nrm = (float)sqrt(acc), rr = nrm > eps ? nrm : eps;
    if (threadIdx.x == 0) r[blockIdx.x] = rr;
    for (int j = threadIdx.x; j < F; j += blockDim.x) y[(size_t)blockIdx.x * F + j] = xr[j] / rr;
}
__global__ void __launch_bounds__(256) k_l2_b(const float *y, const float *dy, const float *r, float *dx, int F, float eps)
{
    size_t o = (size_t)blockIdx.x * F;
    float rr = r[blockIdx.x];
    int clamped = rr <= eps;
    double dot = 0;
    if (!clamped)
        for (int j = threadIdx.x; j < F; j += blockDim.x) dot += (double)y[o + j] * dy[o + j];
    dot = block_sum(dot);
    for (int j = threadIdx.x; j < F; j += blockDim.x) dx[o + j] += (float)((dy[o + j] - y[o + j] * dot) / rr);
}
extern "C" void syk_l2norm_fwd(cudaStream_t s, const float *x, float *y, float *r, int N, int F, float eps)
{
    if (N <= 0) return;
    k_l2_f<<<N, 256, 0, s>>>(x, y, r, F, eps);
    SYK_LAUNCHED("k_l2_f");
}
extern "C" void syk_l2norm_bwd(cudaStream_t s, const float *y, const float *dy, const float *r, float *dx, int N, int F,
                               float eps)
{
    if (N <= 0) return;
    k_l2_b<<<N, 256, 0, s>>>(y, dy, r, dx, F, eps);
    SYK_LAUNCHED("k_l2_b");
}

// ---- Losses ------------------------------------------------------------------------------

// One block; warp w takes rows w, w + nwarps, ...
__global__ void __launch_bounds__(1024) k_softmax_ce_f(const float *x, const float *lab, float *p, float *loss, int N, int K, int node)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    double total = 0;
    for (int i = w; i < N; i += nw) {
        const float *row = x + (size_t)i * K;
        float *pr = p + (size_t)i * K;
        float m = -INFINITY;
        for (int k = lane; k < K; k += 32) m = fmaxf(m, row[k]);
        for (int o = 16; o > 0; o >>= 1) m = fmaxf(m, __shfl_xor_sync(0xffffffffu, m, o));
        double z = 0;
        for (int k = lane; k < K; k += 32) z += (pr[k] = expf(row[k] - m));
        for (int o = 16; o > 0; o >>= 1) z += __shfl_xor_sync(0xffffffffu, z, o);
        for (int k = lane; k < K; k += 32) pr[k] = (float)(pr[k] / z);
        float lv = lab[i];
        int c = (int)lv;
        if (!(lv >= 0 && lv < K) || (float)c != lv) {
            if (lane == 0 && g_err && atomicCAS(&g_err->code, 0, 1) == 0) {
                g_err->node = node;
                g_err->sample = i;
                g_err->classes = K;
                g_err->value = lv;
            }
            continue;
        }
        if (lane == 0) total += -(row[c] - m - log(z));
    }
    total = block_sum(total);
    if (threadIdx.x == 0) loss[0] = (float)(total / N);
}
__global__ void k_softmax_ce_b(const float *p, const float *lab, const float *dy, float *dx, int N, int K)
{
    float s = dy[0] / N;
    GRID_STRIDE(i, (size_t)N * K)
    {
        int k = (int)(i % K);
        size_t r = i / K;
        dx[i] += s * (p[i] - (k == (int)lab[r] ? 1.0f : 0.0f));
    }
}
extern "C" void syk_softmax_ce_fwd(cudaStream_t s, const float *x, const float *lab, float *p, float *loss, int N,
                                   int K, int node)
{
    k_softmax_ce_f<<<1, 1024, 0, s>>>(x, lab, p, loss, N, K, node);
    SYK_LAUNCHED("k_softmax_ce_f");
}
extern "C" void syk_softmax_ce_bwd(cudaStream_t s, const float *p, const float *lab, const float *dy, float *dx, int N,
                                   int K)
{
    k_softmax_ce_b<<<blocks_for((size_t)N * K), TPB, 0, s>>>(p, lab, dy, dx, N, K);
    SYK_LAUNCHED("k_softmax_ce_b");
}

__global__ void __launch_bounds__(1024) k_pair_f(int kind, const float *a, const float *b, float *loss, size_t n, double scale, float s2)
{
    double acc = 0, ds2 = s2, ls2 = log(ds2);
    for (size_t i = threadIdx.x; i < n; i += blockDim.x) {
        float x = a[i], t = b[i];
        if (kind == 0) acc += (double)(x - t) * (x - t);
        else if (kind == 1) acc += (x > 0 ? x : 0) - x * t + log1pf(expf(-fabsf(x)));
        else acc += 0.5 * ((exp((double)t) + (double)x * x) / ds2 - 1.0 - t + ls2);
    }
    acc = block_sum(acc);
    if (threadIdx.x == 0) loss[0] = (float)(acc * scale);
}
__global__ void k_pair_b(int kind, const float *a, const float *b, const float *dy, float *da, float *db, size_t n,
                         float scale, float s2)
{
    float g = dy[0];
    GRID_STRIDE(i, n)
    {
        float x = a[i], t = b[i];
        if (kind == 0) {
            float d = (2.0f * g * scale) * (x - t);
            if (da) da[i] += d;
            if (db) db[i] -= d;
        } else if (kind == 1) {
            float s = g * scale;
            if (da) da[i] += s * (1.0f / (1.0f + expf(-x)) - t);
            if (db) db[i] -= s * x;
        } else {
            float s = g * scale;
            if (da) da[i] += s * x / s2;
            if (db) db[i] += s * 0.5f * (expf(t) / s2 - 1.0f);
        }
    }
}
extern "C" void syk_pair_fwd(cudaStream_t s, int kind, const float *a, const float *b, float *loss, size_t n,
                             double scale, float s2)
{
    k_pair_f<<<1, 1024, 0, s>>>(kind, a, b, loss, n, scale, s2);
    SYK_LAUNCHED("k_pair_f");
}
extern "C" void syk_pair_bwd(cudaStream_t s, int kind, const float *a, const float *b, const float *dy, float *da,
                             float *db, size_t n, float scale, float s2)
{
    k_pair_b<<<blocks_for(n), TPB, 0, s>>>(kind, a, b, dy, da, db, n, scale, s2);
    SYK_LAUNCHED("k_pair_b");
}

// ---- Optimizer (src/optim/step.c) ----------------------------------------------------------

enum { M_NONE = 0, M_ZERO, M_ANCHOR, M_ANCHOR_D, M_REGEN, M_REGEN_D };

template <int MODE, int DECOUPLED>
__device__ inline float decay(const syk_scalars &c, const syk_segment &s, size_t i, float *p, const float *anchor,
                              const float *dd)
{
    float a = 0.0f, d = 1.0f;
    switch (MODE) {
    case M_NONE: return 0.0f;
    case M_ZERO:
        if (DECOUPLED) {
            *p = *p * (1.0f - c.lr * s.wd);
            return 0.0f;
        }
        return s.wd * *p;
    case M_ANCHOR: a = anchor[i]; break;
    case M_ANCHOR_D: a = anchor[i]; d = dd[i]; break;
    case M_REGEN: a = s.sigma * normal_at(c.key_a, (uint64_t)s.tensor, i - s.base); break;
    case M_REGEN_D:
        a = s.sigma * normal_at(c.key_a, (uint64_t)s.tensor, i - s.base);
        d = 1.0f + s.eps * (2.0f * uniform_at(c.key_d, (uint64_t)s.tensor, i - s.base) - 1.0f);
        break;
    }
    const bool has_d = MODE == M_ANCHOR_D || MODE == M_REGEN_D;
    if (DECOUPLED) {
        float k = has_d ? (c.lr * s.wd) * d : c.lr * s.wd;
        *p = *p * (1.0f - k) + k * a;
        return 0.0f;
    }
    return (has_d ? s.wd * d : s.wd) * (*p - a);
}

template <int MODE>
__global__ void k_sgd(syk_scalars cv, const syk_scalars *dc, syk_segment s, float *P, const float *G, float *B,
                      const float *anchor, const float *dd, const size_t *skip)
{
    if (skip && *skip != (size_t)-1) return; /* the NaN guard found a non-finite gradient */
    const syk_scalars c = dc ? *dc : cv;      /* a recorded step reads this step's scalars */
    size_t n = s.end - s.begin;
    GRID_STRIDE(k, n)
    {
        size_t i = s.begin + k;
        float p = P[i];
        float g = c.clipping ? G[i] * c.clip : G[i];
        if (MODE != M_NONE) g = g + decay<MODE, 0>(c, s, i, &p, anchor, dd);
        if (c.has_momentum) {
            float b = c.first ? g : B[i] * c.momentum + g * c.damp1;
            B[i] = b;
            g = c.nesterov ? g + c.momentum * b : b;
        }
        P[i] = p - c.lr * g;
    }
}

template <int MODE, int DECOUPLED>
__global__ void k_adam(syk_scalars cv, const syk_scalars *dc, syk_segment s, float *P, const float *G, float *M,
                       float *V, const float *anchor, const float *dd, const size_t *skip)
{
    if (skip && *skip != (size_t)-1) return;
    const syk_scalars c = dc ? *dc : cv;
    size_t n = s.end - s.begin;
    GRID_STRIDE(k, n)
    {
        size_t i = s.begin + k;
        float p = P[i];
        float g = c.clipping ? G[i] * c.clip : G[i];
        if (MODE != M_NONE) {
            float t = decay<MODE, DECOUPLED>(c, s, i, &p, anchor, dd);
            if (!DECOUPLED) g = g + t;
        }
        float m = M[i] + c.b1c * (g - M[i]);
        float v = V[i] * c.b2 + c.b2c * (g * g);
        M[i] = m;
        V[i] = v;
        float denom = sqrtf(v) / c.bc2_sqrt + c.eps;
        P[i] = p - c.step_size * (m / denom);
    }
}

template <int MODE>
static void launch_mode(cudaStream_t st, const syk_scalars *c, const syk_segment *s, float *p, const float *g,
                        float *m1, float *m2, const float *anchor, const float *dd, const size_t *skip,
                        const syk_scalars *dc)
{
    unsigned nb = blocks_for(s->end - s->begin);
    if (c->kind == 0) k_sgd<MODE><<<nb, TPB, 0, st>>>(*c, dc, *s, p, g, m1, anchor, dd, skip);
    else if (c->kind == 1) k_adam<MODE, 0><<<nb, TPB, 0, st>>>(*c, dc, *s, p, g, m1, m2, anchor, dd, skip);
    else k_adam<MODE, 1><<<nb, TPB, 0, st>>>(*c, dc, *s, p, g, m1, m2, anchor, dd, skip);
    SYK_LAUNCHED(c->kind == 0 ? "k_sgd" : "k_adam");
}

extern "C" void syk_optim_range(cudaStream_t st, const syk_scalars *c, const syk_segment *s, float *p, const float *g,
                                float *m1, float *m2, const float *anchor, const float *dd, const size_t *skip,
                                const syk_scalars *dc)
{
    if (s->end <= s->begin) return;
    switch (s->mode) {
    case M_NONE: launch_mode<M_NONE>(st, c, s, p, g, m1, m2, anchor, dd, skip, dc); break;
    case M_ZERO: launch_mode<M_ZERO>(st, c, s, p, g, m1, m2, anchor, dd, skip, dc); break;
    case M_ANCHOR: launch_mode<M_ANCHOR>(st, c, s, p, g, m1, m2, anchor, dd, skip, dc); break;
    case M_ANCHOR_D: launch_mode<M_ANCHOR_D>(st, c, s, p, g, m1, m2, anchor, dd, skip, dc); break;
    case M_REGEN: launch_mode<M_REGEN>(st, c, s, p, g, m1, m2, anchor, dd, skip, dc); break;
    case M_REGEN_D: launch_mode<M_REGEN_D>(st, c, s, p, g, m1, m2, anchor, dd, skip, dc); break;
    default: break;
    }
}

__global__ void __launch_bounds__(256) k_grad_sq(const float *g, size_t n, double *out, size_t block)
{
    size_t lo = (size_t)blockIdx.x * block, hi = lo + block < n ? lo + block : n;
    double acc = 0;
    for (size_t i = lo + threadIdx.x; i < hi; i += blockDim.x) acc += (double)g[i] * g[i];
    acc = block_sum(acc);
    if (threadIdx.x == 0) out[blockIdx.x] = acc;
}
extern "C" void syk_grad_sq_blocks(cudaStream_t s, const float *g, size_t n, double *out, size_t n_blocks, size_t block)
{
    if (n_blocks) k_grad_sq<<<(unsigned)n_blocks, 256, 0, s>>>(g, n, out, block);
    SYK_LAUNCHED("k_grad_sq");
}

// Gradient clipping without a host wait: the block sums in one block of 256
// threads (deterministic from run to run; the order differs from the CPU's
// sequential sum, by rounding only), the W-fix entries taken out, then the
// norm and the factor the update kernels read from the device scalars.
__global__ void __launch_bounds__(256) k_clip_finish(const double *blocks, size_t nb, const float *g,
                                                     const size_t *fix_idx, size_t n_fix, float max_norm,
                                                     float *clip, int *clipping, double *norm)
{
    double acc = 0;
    for (size_t b = threadIdx.x; b < nb; b += blockDim.x) acc += blocks[b];
    acc = block_sum(acc);
    if (threadIdx.x != 0) return;
    for (size_t k = 0; k < n_fix; k++) acc -= (double)g[fix_idx[k]] * g[fix_idx[k]];
    double nrm = isfinite(acc) ? sqrt(acc > 0 ? acc : 0) : acc;
    *norm = nrm;
    double coef = (double)max_norm / (nrm + 1e-6);
    float c = coef < 1.0 ? (float)coef : 1.0f;
    *clip = c;
    *clipping = c < 1.0f;
}
extern "C" void syk_clip_norm(cudaStream_t s, const float *g, size_t n, double *blocks, size_t n_blocks,
                              const size_t *fix_idx, size_t n_fix, float max_norm, float *clip, int *clipping,
                              double *norm)
{
    syk_grad_sq_blocks(s, g, n, blocks, n_blocks, 4096);
    k_clip_finish<<<1, 256, 0, s>>>(blocks, n_blocks, g, fix_idx, n_fix, max_norm, clip, clipping, norm);
    SYK_LAUNCHED("k_clip_finish");
}

__global__ void k_wfix(float *p, float *m1, float *m2, const size_t *idx, const float *val, size_t n,
                       const size_t *skip)
{
    if (skip && *skip != (size_t)-1) return;
    GRID_STRIDE(k, n)
    {
        size_t i = idx[k];
        p[i] = val[k];
        if (m1) m1[i] = 0.0f;
        if (m2) m2[i] = 0.0f;
    }
}
extern "C" void syk_wfix(cudaStream_t s, float *p, float *m1, float *m2, const size_t *idx, const float *val, size_t n,
                         const size_t *skip)
{
    if (n) k_wfix<<<blocks_for(n), TPB, 0, s>>>(p, m1, m2, idx, val, n, skip);
    SYK_LAUNCHED("k_wfix");
}

// ---- NaN guard (src/optim/nan_guard.c): the first non-finite index -------------------------

__global__ void k_scan_nonfinite(const float *x, size_t n, unsigned long long *slot)
{
    GRID_STRIDE(i, n)
    {
        if (!isfinite(x[i])) atomicMin(slot, (unsigned long long)i);
    }
}
// One block: the recorded step's stop (a label error, a non-finite loss).
__global__ void k_veto(const float *x, size_t n, unsigned long long *slot, unsigned long long vetoed)
{
    __shared__ int bad;
    if (threadIdx.x == 0) bad = g_err && g_err->code != 0;
    __syncthreads();
    for (size_t i = threadIdx.x; x && i < n; i += blockDim.x)
        if (!isfinite(x[i])) bad = 1; // benign race: every writer writes 1
    __syncthreads();
    if (threadIdx.x == 0 && bad) *slot = vetoed;
}
extern "C" void syk_veto(cudaStream_t s, const float *x, size_t n, size_t *slot, size_t vetoed)
{
    k_veto<<<1, TPB, 0, s>>>(x, n, (unsigned long long *)slot, (unsigned long long)vetoed);
    SYK_LAUNCHED("k_veto");
}
extern "C" void syk_scan_nonfinite(cudaStream_t s, const float *x, size_t n, size_t *slot)
{
    syc_note_cuda(cudaMemsetAsync(slot, 0xff, sizeof *slot, s), "cudaMemsetAsync", __FILE__, __LINE__); // (size_t)-1: none
    if (n) k_scan_nonfinite<<<blocks_for(n), TPB, 0, s>>>(x, n, (unsigned long long *)slot);
    SYK_LAUNCHED("k_scan_nonfinite");
}
