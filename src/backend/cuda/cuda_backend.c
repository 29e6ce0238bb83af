/* The CUDA device: memory, one stream, cuBLAS, the error slot, and the
 * "cuda" sy_backend table (one forward and one backward function per op of
 * the op table, on device pointers). GEMMs (matmul, convolution as im2col +
 * GEMM) are cuBLAS calls; the rest are kernels.cu launchers.
 *
 * Written and compiled without a GPU: tests/test_cuda.c compares every op
 * and three training runs with the CPU reference, and scripts/gpu-check.sh
 * runs it on a GPU machine. Convolutions use cuDNN when the build found it
 * (SYRE_CUDNN=0 at run time selects im2col + cuBLAS instead). */
#define _POSIX_C_SOURCE 200809L
#include "backend/cuda/cuda_impl.h"
#include "backend/cuda/gemm_map.h"
#include "backend/cuda_module.h"
#include "backend/device.h"
#include "syre/dist.h"
#include "syre/runtime.h"
#include "ops/op_kernels.h"

#include <cublas_v2.h>
#include <cuda_runtime.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static cudaStream_t S;
static cudaStream_t C;      /* copy stream: staged input uploads (prefetch.c) */
static int gpu_index;         /* this process's GPU (every thread that calls CUDA selects it) */
static cublasHandle_t H;
static syk_error *err_slot; /* mapped host memory */
static double *d_blocks;    /* gradient-norm partial sums */
static size_t d_blocks_n;

/* The first CUDA, cuBLAS, cuDNN call or kernel launch that failed since the
 * last sync, with its name and place: every call is checked where it is
 * made and noted here (the prefetch thread's too, hence the lock), and the
 * next sync (or the end of a capture) reports it. */
static char lib_error[320];
static pthread_mutex_t lib_lock = PTHREAD_MUTEX_INITIALIZER;

static void note_fail(const char *call, const char *file, int line, const char *why)
{
    const char *base = strrchr(file, '/');
    pthread_mutex_lock(&lib_lock);
    if (!lib_error[0])
        snprintf(lib_error, sizeof lib_error, "%s failed (%s:%d): %s", call, base ? base + 1 : file, line, why);
    pthread_mutex_unlock(&lib_lock);
}
/* The noted failure into buf (empty: none), cleared. */
static void take_lib_error(char *buf, size_t cap)
{
    pthread_mutex_lock(&lib_lock);
    snprintf(buf, cap, "%s", lib_error);
    lib_error[0] = '\0';
    pthread_mutex_unlock(&lib_lock);
}
static int lib_failed(void)
{
    pthread_mutex_lock(&lib_lock);
    int f = lib_error[0] != '\0';
    pthread_mutex_unlock(&lib_lock);
    return f;
}
int syc_note_cuda(cudaError_t e, const char *call, const char *file, int line)
{
    if (e == cudaSuccess) return 1;
    note_fail(call, file, line, cudaGetErrorString(e));
    return 0;
}
int syc_note_launch(cudaError_t e, const char *kernel, const char *file, int line)
{
    if (e == cudaSuccess) return 1;
    char what[96];
    snprintf(what, sizeof what, "launch of %s", kernel);
    note_fail(what, file, line, cudaGetErrorString(e));
    return 0;
}
static int blas_note(cublasStatus_t st, const char *call, const char *file, int line)
{
    if (st == CUBLAS_STATUS_SUCCESS) return 1;
    char why[64];
    snprintf(why, sizeof why, "cuBLAS status %d", (int)st);
    note_fail(call, file, line, why);
    return 0;
}
/* CU(cudaFoo, args...): the call, checked, named by its function. */
#define CU(fn, ...) syc_note_cuda(fn(__VA_ARGS__), #fn, __FILE__, __LINE__)
#define CUBLAS(fn, ...) blas_note(fn(__VA_ARGS__), #fn, __FILE__, __LINE__)

/* CUDA's current device is per thread: a thread that did not initialise the
 * backend (the prefetch helper, a caller's own thread) starts on device 0. */
static __thread int thread_bound;
static void bind_thread(void)
{
    if (thread_bound) return;
    if (CU(cudaSetDevice, gpu_index)) thread_bound = 1;
}

/* ---- Device functions ------------------------------------------------------- */

static void *c_alloc(sy_device *d, size_t bytes)
{
    void *p = NULL;
    bind_thread();
    cudaError_t e = cudaMalloc(&p, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        size_t fr = 0, tot = 0;
        int known = cudaMemGetInfo(&fr, &tot) == cudaSuccess;
        sy_fail(SY_ERR_NOMEM, "cudaMalloc of %.1f MiB failed (%s; %.1f of %.1f GiB free%s)", bytes / 1048576.0,
                cudaGetErrorString(e), fr / 1073741824.0, tot / 1073741824.0, known ? "" : ", cudaMemGetInfo failed");
        cudaGetLastError(); /* an allocation failure is not sticky: clear it, it is reported here */
        return NULL;
    }
    /* Zero-filled before any use, whichever stream uses it first: the copy
     * stream (staged inputs) is not ordered after S, so wait here (never in
     * a step: steps allocate nothing). */
    if (!CU(cudaMemsetAsync, p, 0, bytes, S) || !CU(cudaStreamSynchronize, S)) {
        char why[320];
        take_lib_error(why, sizeof why);
        CU(cudaFree, p);
        sy_fail(SY_ERR_STATE, "device allocation of %.1f MiB: %s", bytes / 1048576.0, why);
        return NULL;
    }
    return p;
}
static void c_free(sy_device *d, void *p) { CU(cudaFree, p); }
static void *c_host_alloc(sy_device *d, size_t bytes)
{
    void *p = NULL;
    bind_thread();
    cudaError_t e = cudaMallocHost(&p, bytes ? bytes : 1);
    if (e != cudaSuccess) {
        cudaGetLastError();
        sy_fail(SY_ERR_NOMEM, "cudaMallocHost of %.1f MiB failed: %s", bytes / 1048576.0, cudaGetErrorString(e));
        return NULL;
    }
    memset(p, 0, bytes);
    return p;
}
static void c_host_free(sy_device *d, void *p) { CU(cudaFreeHost, p); }
static void c_upload(sy_device *d, void *dst, const void *src, size_t n)
{
    bind_thread();
    if (n) CU(cudaMemcpyAsync, dst, src, n, cudaMemcpyHostToDevice, S);
}
static void c_download(sy_device *d, void *dst, const void *src, size_t n)
{
    bind_thread();
    if (n) CU(cudaMemcpyAsync, dst, src, n, cudaMemcpyDeviceToHost, S);
}
static void c_copy(sy_device *d, void *dst, const void *src, size_t n)
{
    bind_thread();
    if (n) CU(cudaMemcpyAsync, dst, src, n, cudaMemcpyDeviceToDevice, S);
}
/* May run on the prefetcher's thread while S runs (or is being captured on
 * the main thread: capture is thread-local, C is never captured). A failure
 * is noted (and reported by the next sync), so a batch that did not arrive
 * is never trained on in silence. */
static void c_stage_upload(sy_device *d, void *dst, const void *src, size_t n, void *ev)
{
    bind_thread();
    if (d->break_stage_upload) dst = NULL; /* test hook: a copy that fails */
    if (n) CU(cudaMemcpyAsync, dst, src, n, cudaMemcpyHostToDevice, C);
    CU(cudaEventRecord, (cudaEvent_t)ev, C);
}
static void c_stage_wait(sy_device *d, void *ev) { CU(cudaStreamWaitEvent, S, (cudaEvent_t)ev, 0); }
static void *c_event_new(sy_device *d)
{
    cudaEvent_t ev = NULL;
    bind_thread();
    cudaError_t e = cudaEventCreateWithFlags(&ev, cudaEventDisableTiming);
    if (e != cudaSuccess) {
        cudaGetLastError();
        sy_fail(SY_ERR_STATE, "cudaEventCreateWithFlags failed: %s", cudaGetErrorString(e));
        return NULL;
    }
    return ev;
}
static void c_event_free(sy_device *d, void *ev) { CU(cudaEventDestroy, (cudaEvent_t)ev); }
static void c_zero(sy_device *d, void *dst, size_t n)
{
    bind_thread();
    if (n) CU(cudaMemsetAsync, dst, 0, n, S);
}
static sy_status c_sync(sy_device *d)
{
    bind_thread();
    cudaError_t e;
    const char *what = "cudaStreamSynchronize";
#ifdef SYRE_HAVE_NCCL
    /* With a communicator, wait by polling, reading NCCL's asynchronous
     * error: a dead peer would leave cudaStreamSynchronize waiting forever. */
    if (syc_nccl_info()) {
        struct timespec nap = {0, 20000};
        char why[400];
        while ((e = cudaStreamQuery(S)) == cudaErrorNotReady) {
            if (syc_nccl_poll(why, sizeof why)) {
                d->error_node = -1;
                snprintf(d->error, sizeof d->error, "%s", why);
                return sy_fail(SY_ERR_STATE, "%s", d->error);
            }
            nanosleep(&nap, NULL);
        }
        what = "cudaStreamQuery";
    } else
#endif
        e = cudaStreamSynchronize(S);
    /* The copy stream: not waited for (the helper may be uploading the next
     * batch), but an error it hit is read here. */
    if (e == cudaSuccess && (e = cudaStreamQuery(C)) == cudaErrorNotReady) e = cudaSuccess;
    else if (e == cudaSuccess) what = "cudaStreamQuery (copy stream)";
    if (e == cudaSuccess) {
        e = cudaGetLastError();
        what = "an earlier CUDA call (cudaGetLastError)";
    }
    d->error_node = -1;
    char noted[320];
    take_lib_error(noted, sizeof noted);
    if (e != cudaSuccess) {
        snprintf(d->error, sizeof d->error, "CUDA error: %s: %s%s%s", what, cudaGetErrorString(e),
                 noted[0] ? "; first failed call: " : "", noted);
        return sy_fail(SY_ERR_STATE, "%s", d->error);
    }
    if (noted[0]) {
        snprintf(d->error, sizeof d->error, "%s", noted);
        return sy_fail(SY_ERR_STATE, "%s", d->error);
    }
    if (err_slot && err_slot->code) {
        snprintf(d->error, sizeof d->error, "label %g of sample %d is not a class index in [0, %d)",
                 err_slot->value, err_slot->sample, err_slot->classes);
        d->error_node = err_slot->node;
        memset(err_slot, 0, sizeof *err_slot);
        return sy_fail(SY_ERR_ARG, "%s", d->error);
    }
    return SY_OK;
}
static void c_set_float(sy_device *d, float *dst, float v) { syk_fill(S, dst, 1, v); }

static size_t conv_ld(sy_exec *ex, const sy_node *n) { return (size_t)n->shape.dim[0] * n->shape.dim[2] * n->shape.dim[3]; }
static size_t conv_ckk(sy_exec *ex, const sy_node *n)
{
    sy_shape w = sy_in(ex, n, 1)->shape;
    return (size_t)w.dim[1] * w.dim[2] * w.dim[3];
}
/* ---- cuDNN convolution ---------------------------------------------------------- */
#ifdef SYRE_HAVE_CUDNN
#include <cudnn.h>

static cudnnHandle_t DN;
static int use_cudnn;

/* Descriptors and algorithms of one convolution, cached by the graph's id
 * (never reused, unlike its address), the node's index, the shapes and the
 * precision; a graph's plans go when it is freed (c_forget_graph). One
 * convolution descriptor per direction, each with the math type of the
 * algorithm chosen for it. */
typedef struct {
    uint64_t graph;
    int node;
    int dims[10];
    int precision;
    cudnnTensorDescriptor_t x, y;
    cudnnFilterDescriptor_t w;
    cudnnConvolutionDescriptor_t c, cd, cf; /* forward, backward data, backward filter */
    cudnnConvolutionFwdAlgo_t fwd;
    cudnnConvolutionBwdDataAlgo_t bwd_data;
    cudnnConvolutionBwdFilterAlgo_t bwd_filter;
    size_t ws_bytes;
    int ok;
    char why[160]; /* why not (the node then uses im2col) */
} dn_conv;
static dn_conv *dn_cache;
static int dn_n, dn_cap;
static pthread_mutex_t dn_lock = PTHREAD_MUTEX_INITIALIZER;

/* Building a plan: a failed call leaves the node to im2col (said once on
 * stderr), which is no error of the step. */
#define DN_CHECK(fn, ...)                                                                            \
    do {                                                                                             \
        cudnnStatus_t st_ = fn(__VA_ARGS__);                                                         \
        if (st_ != CUDNN_STATUS_SUCCESS) {                                                           \
            snprintf(e->why, sizeof e->why, "%s: %s", #fn, cudnnGetErrorString(st_));                \
            return e;                                                                                \
        }                                                                                            \
    } while (0)

/* Math types an algorithm may use: FP32 only FMA (cuDNN's default math
 * allows TF32 on Ampere and later), TF32 also tensor cores (not
 * ALLOW_CONVERSION, which may go down to FP16). */
static int dn_math_ok(cudnnMathType_t m)
{
    if (m == CUDNN_FMA_MATH) return 1;
    return sy_get_precision() == SY_PRECISION_TF32 && (m == CUDNN_TENSOR_OP_MATH || m == CUDNN_DEFAULT_MATH);
}
/* k <- the index of the first (fastest) algorithm that succeeded, is
 * deterministic (recorded-versus-eager and run-to-run comparisons need the
 * same bits), fits the workspace limit and uses an allowed math type; -1 if
 * none. */
#define DN_PICK(k, pf, got, limit)                                                                         \
    do {                                                                                                   \
        for (k = 0; k < (got); k++)                                                                        \
            if ((pf)[k].status == CUDNN_STATUS_SUCCESS && (pf)[k].memory <= (limit) &&                      \
                (pf)[k].determinism == CUDNN_DETERMINISTIC && dn_math_ok((pf)[k].mathType))                \
                break;                                                                                     \
        if (k == (got)) k = -1;                                                                            \
    } while (0)

static dn_conv *dn_build(dn_conv *e, sy_exec *ex, const sy_node *n)
{
    sy_shape xs = sy_in(ex, n, 0)->shape, ws = sy_in(ex, n, 1)->shape;
    int S = n->iattr[0], P = n->iattr[1];
    cudnnMathType_t want = sy_get_precision() == SY_PRECISION_TF32 ? CUDNN_TENSOR_OP_MATH : CUDNN_FMA_MATH;
    DN_CHECK(cudnnCreateTensorDescriptor, &e->x);
    DN_CHECK(cudnnCreateTensorDescriptor, &e->y);
    DN_CHECK(cudnnCreateFilterDescriptor, &e->w);
    DN_CHECK(cudnnSetTensor4dDescriptor, e->x, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, xs.dim[0], xs.dim[1], xs.dim[2],
             xs.dim[3]);
    DN_CHECK(cudnnSetTensor4dDescriptor, e->y, CUDNN_TENSOR_NCHW, CUDNN_DATA_FLOAT, n->shape.dim[0], n->shape.dim[1],
             n->shape.dim[2], n->shape.dim[3]);
    DN_CHECK(cudnnSetFilter4dDescriptor, e->w, CUDNN_DATA_FLOAT, CUDNN_TENSOR_NCHW, ws.dim[0], ws.dim[1], ws.dim[2],
             ws.dim[3]);
    cudnnConvolutionDescriptor_t *cs[3] = {&e->c, &e->cd, &e->cf};
    for (int i = 0; i < 3; i++) {
        DN_CHECK(cudnnCreateConvolutionDescriptor, cs[i]);
        DN_CHECK(cudnnSetConvolution2dDescriptor, *cs[i], P, P, S, S, 1, 1, CUDNN_CROSS_CORRELATION,
                 CUDNN_DATA_FLOAT);
        DN_CHECK(cudnnSetConvolutionMathType, *cs[i], want);
    }
    const size_t limit = (size_t)1 << 30; /* workspace an algorithm may take */
    int got = 0, k;
    size_t a, b, c;
    cudnnConvolutionFwdAlgoPerf_t pf[16];
    DN_CHECK(cudnnGetConvolutionForwardAlgorithm_v7, DN, e->x, e->w, e->c, e->y, 16, &got, pf);
    DN_PICK(k, pf, got, limit);
    if (k < 0) {
        snprintf(e->why, sizeof e->why, "no deterministic forward algorithm");
        return e;
    }
    e->fwd = pf[k].algo;
    DN_CHECK(cudnnSetConvolutionMathType, e->c, pf[k].mathType);
    DN_CHECK(cudnnGetConvolutionForwardWorkspaceSize, DN, e->x, e->w, e->c, e->y, e->fwd, &a);
    cudnnConvolutionBwdDataAlgoPerf_t pd[16];
    DN_CHECK(cudnnGetConvolutionBackwardDataAlgorithm_v7, DN, e->w, e->y, e->cd, e->x, 16, &got, pd);
    DN_PICK(k, pd, got, limit);
    if (k < 0) {
        snprintf(e->why, sizeof e->why, "no deterministic backward-data algorithm");
        return e;
    }
    e->bwd_data = pd[k].algo;
    DN_CHECK(cudnnSetConvolutionMathType, e->cd, pd[k].mathType);
    DN_CHECK(cudnnGetConvolutionBackwardDataWorkspaceSize, DN, e->w, e->y, e->cd, e->x, e->bwd_data, &b);
    cudnnConvolutionBwdFilterAlgoPerf_t pw[16];
    DN_CHECK(cudnnGetConvolutionBackwardFilterAlgorithm_v7, DN, e->x, e->y, e->cf, e->w, 16, &got, pw);
    DN_PICK(k, pw, got, limit);
    if (k < 0) {
        snprintf(e->why, sizeof e->why, "no deterministic backward-filter algorithm");
        return e;
    }
    e->bwd_filter = pw[k].algo;
    DN_CHECK(cudnnSetConvolutionMathType, e->cf, pw[k].mathType);
    DN_CHECK(cudnnGetConvolutionBackwardFilterWorkspaceSize, DN, e->x, e->y, e->cf, e->w, e->bwd_filter, &c);
    e->ws_bytes = a > b ? (a > c ? a : c) : (b > c ? b : c);
    e->ok = 1;
    return e;
}

/* Teardown: a failed destroy changes nothing for the run, so it is said on
 * stderr rather than failing the next step. */
static void dn_teardown_check(cudnnStatus_t st, const char *call)
{
    if (st != CUDNN_STATUS_SUCCESS) fprintf(stderr, "syre: %s failed: %s\n", call, cudnnGetErrorString(st));
}
#define DN_TEARDOWN(fn, x) \
    if (x) dn_teardown_check(fn(x), #fn)
static void dn_destroy(dn_conv *e)
{
    DN_TEARDOWN(cudnnDestroyTensorDescriptor, e->x);
    DN_TEARDOWN(cudnnDestroyTensorDescriptor, e->y);
    DN_TEARDOWN(cudnnDestroyFilterDescriptor, e->w);
    DN_TEARDOWN(cudnnDestroyConvolutionDescriptor, e->c);
    DN_TEARDOWN(cudnnDestroyConvolutionDescriptor, e->cd);
    DN_TEARDOWN(cudnnDestroyConvolutionDescriptor, e->cf);
}

/* The node's cuDNN plan (NULL: use im2col for it). */
static dn_conv *dn_get(sy_exec *ex, const sy_node *n)
{
    /* bf16: cuDNN's legacy API wants bf16 tensors, not FP32 ones rounded;
     * convolutions then go through im2col and the bf16 GEMM. */
    if (!use_cudnn || sy_get_precision() == SY_PRECISION_BF16) return NULL;
    sy_shape xs = sy_in(ex, n, 0)->shape, ws = sy_in(ex, n, 1)->shape;
    int dims[10] = {xs.dim[0], xs.dim[1], xs.dim[2], xs.dim[3], ws.dim[0], ws.dim[2], ws.dim[3],
                    n->iattr[0], n->iattr[1], 0};
    int node = (int)(n - ex->nodes), prec = (int)sy_get_precision();
    pthread_mutex_lock(&dn_lock);
    dn_conv *e = NULL;
    for (int i = 0; i < dn_n && !e; i++)
        if (dn_cache[i].graph == ex->graph_id && dn_cache[i].node == node && dn_cache[i].precision == prec &&
            !memcmp(dn_cache[i].dims, dims, sizeof dims))
            e = &dn_cache[i];
    if (!e) {
        if (dn_n == dn_cap) {
            int cap = dn_cap ? 2 * dn_cap : 64;
            dn_conv *p = realloc(dn_cache, cap * sizeof *p);
            if (!p) {
                pthread_mutex_unlock(&dn_lock);
                return NULL;
            }
            dn_cache = p;
            dn_cap = cap;
        }
        e = &dn_cache[dn_n++];
        memset(e, 0, sizeof *e);
        e->graph = ex->graph_id;
        e->node = node;
        e->precision = prec;
        memcpy(e->dims, dims, sizeof dims);
        dn_build(e, ex, n);
        if (!e->ok)
            fprintf(stderr, "syre: cuDNN has no plan for convolution '%s' (%s); it uses im2col + cuBLAS\n", n->name,
                    e->why);
    }
    dn_conv *r = e->ok ? e : NULL;
    pthread_mutex_unlock(&dn_lock);
    return r;
}

/* A graph is freed: its plans go (its id never comes back). */
static void dn_forget(uint64_t graph_id)
{
    pthread_mutex_lock(&dn_lock);
    int k = 0;
    for (int i = 0; i < dn_n; i++) {
        if (dn_cache[i].graph == graph_id) dn_destroy(&dn_cache[i]);
        else dn_cache[k++] = dn_cache[i];
    }
    dn_n = k;
    pthread_mutex_unlock(&dn_lock);
}

static int dn_note(cudnnStatus_t st, const char *call, const char *file, int line)
{
    if (st == CUDNN_STATUS_SUCCESS) return 1;
    note_fail(call, file, line, cudnnGetErrorString(st));
    return 0;
}
/* A cuDNN call of a step, checked where it is made. */
#define DN_RUN(fn, ...) dn_note(fn(__VA_ARGS__), #fn, __FILE__, __LINE__)

static int dn_forward(sy_exec *ex, sy_node *n)
{
    dn_conv *e = dn_get(ex, n);
    if (!e) return 0;
    const float one = 1.0f, zero = 0.0f;
    DN_RUN(cudnnConvolutionForward, DN, &one, e->x, IN(0)->val, e->w, IN(1)->val, e->c, e->fwd, ex->workspace,
           e->ws_bytes, &zero, e->y, n->val);
    return 1;
}

static int dn_backward(sy_exec *ex, sy_node *n)
{
    dn_conv *e = dn_get(ex, n);
    if (!e) return 0;
    const float one = 1.0f; /* beta = 1: gradients accumulate, as on the CPU */
    if (IN(1)->grad)
        DN_RUN(cudnnConvolutionBackwardFilter, DN, &one, e->x, IN(0)->val, e->y, n->grad, e->cf, e->bwd_filter,
               ex->workspace, e->ws_bytes, &one, e->w, IN(1)->grad);
    if (IN(0)->grad)
        DN_RUN(cudnnConvolutionBackwardData, DN, &one, e->w, IN(1)->val, e->y, n->grad, e->cd, e->bwd_data,
               ex->workspace, e->ws_bytes, &one, e->x, IN(0)->grad);
    return 1;
}
#else
static int dn_forward(sy_exec *ex, sy_node *n) { return 0; }
static int dn_backward(sy_exec *ex, sy_node *n) { return 0; }
static void dn_forget(uint64_t graph_id) {}
#endif
static void c_forget_graph(sy_device *d, uint64_t graph_id) { dn_forget(graph_id); }

/* Convolutions recompute their columns in backward from one shared
 * workspace [col (CKK x N*HW) | ybuf (O x N*HW)], instead of the CPU
 * backend's per-node scratch. */
static size_t c_node_scratch(sy_exec *ex, const sy_node *n) { return n->op == SY_OP_CONV2D ? 0 : n->scratch_n; }
static size_t c_shared_ws(sy_exec *ex, const sy_node *n)
{
    if (n->op != SY_OP_CONV2D) return 0;
#ifdef SYRE_HAVE_CUDNN
    dn_conv *e = dn_get(ex, n);
    if (e) return (e->ws_bytes + sizeof(float) - 1) / sizeof(float);
#endif
    return (conv_ckk(ex, n) + (size_t)n->shape.dim[1]) * conv_ld(ex, n);
}

static void c_optim_range(sy_device *d, const sy_step_scalars *s, const sy_step_ptrs *p, const sy_segment *seg)
{
    syk_scalars c = {s->lr, s->clip, s->clipping, s->first, s->momentum, s->damp1, s->has_momentum, s->nesterov,
                     s->b1c, s->b2, s->b2c, s->eps, s->step_size, s->bc2_sqrt, s->kind, s->key_a, s->key_d};
    syk_segment k = {seg->begin, seg->end, seg->base, seg->tensor, (int)seg->mode, seg->wd, seg->sigma, seg->eps};
    /* The device copy of the scalars is a sy_step_scalars read as syk_scalars. */
    _Static_assert(sizeof(syk_scalars) == sizeof(sy_step_scalars) &&
                       offsetof(syk_scalars, bc2_sqrt) == offsetof(sy_step_scalars, bc2_sqrt) &&
                       offsetof(syk_scalars, key_d) == offsetof(sy_step_scalars, key_d),
                   "syk_scalars and sy_step_scalars must have the same layout");
    syk_optim_range(S, &c, &k, p->p, p->g, p->m1, p->m2, p->anchor, p->dd, p->skip,
                    (const syk_scalars *)p->dev_scalars);
}
/* ---- CUDA Graphs: the recorded training step (graph_device.c) ------------------ */
static sy_status c_capture_begin(sy_device *d)
{
    bind_thread();
    cudaError_t e = cudaStreamBeginCapture(S, cudaStreamCaptureModeThreadLocal);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return sy_fail(SY_ERR_STATE, "cudaStreamBeginCapture: %s", cudaGetErrorString(e));
    }
    if (d->break_capture) CU(cudaStreamSynchronize, S); /* test hook: a wait, which invalidates the capture */
    return SY_OK;
}
/* The end of a capture; on failure (NULL, with the first call that failed
 * while capturing) nothing of it ran and no error is left behind: the
 * caller runs the same work eagerly next, and a stale error would fail
 * that run. */
static void *c_capture_end(sy_device *d)
{
    cudaGraph_t gr = NULL;
    cudaGraphExec_t ex = NULL;
    char noted[320], why[400] = "";
    cudaError_t e = cudaStreamEndCapture(S, &gr);
    take_lib_error(noted, sizeof noted); /* what failed inside the capture (it names the call) */
    if (e != cudaSuccess)
        snprintf(why, sizeof why, "cudaStreamEndCapture: %s%s%s", cudaGetErrorString(e),
                 noted[0] ? "; first failed call: " : "", noted);
    else if (noted[0])
        snprintf(why, sizeof why, "%s (while capturing)", noted);
    else if ((e = cudaGraphInstantiate(&ex, gr, 0)) != cudaSuccess)
        snprintf(why, sizeof why, "cudaGraphInstantiate: %s", cudaGetErrorString(e));
    if (gr) CU(cudaGraphDestroy, gr);
    if (why[0]) {
        cudaGetLastError(); /* the capture's own error, reported here and not again */
        take_lib_error(noted, sizeof noted);
        sy_fail(SY_ERR_STATE, "%s", why);
        return NULL;
    }
    return ex;
}
static sy_status c_launch(sy_device *d, void *ex)
{
    bind_thread();
    cudaError_t e = cudaGraphLaunch((cudaGraphExec_t)ex, S);
    if (e != cudaSuccess) {
        cudaGetLastError();
        return sy_fail(SY_ERR_STATE, "cudaGraphLaunch: %s", cudaGetErrorString(e));
    }
    return SY_OK;
}
static void c_exec_free(sy_device *d, void *ex) { CU(cudaGraphExecDestroy, (cudaGraphExec_t)ex); }

static void c_scan_nonfinite(sy_device *d, const float *x, size_t n, size_t *slot) { syk_scan_nonfinite(S, x, n, slot); }
static void c_veto(sy_device *d, const float *x, size_t n, size_t *slot) { syk_veto(S, x, n, slot, SY_STEP_VETOED); }
static sy_status c_grad_sq(sy_device *d, const float *g, size_t n, double *out, size_t nb)
{
    if (!nb) return SY_OK;
    if (d_blocks_n < nb) {
        if (d_blocks) CU(cudaFree, d_blocks);
        d_blocks = NULL;
        d_blocks_n = 0;
        cudaError_t e = cudaMalloc((void **)&d_blocks, nb * sizeof(double));
        if (e != cudaSuccess) {
            cudaGetLastError();
            return sy_fail(SY_ERR_NOMEM, "cudaMalloc of the gradient norm's %zu blocks: %s", nb, cudaGetErrorString(e));
        }
        d_blocks_n = nb;
    }
    syk_grad_sq_blocks(S, g, n, d_blocks, nb, SY_OPTIM_NORM_BLOCK);
    CU(cudaMemcpyAsync, out, d_blocks, nb * sizeof(double), cudaMemcpyDeviceToHost, S);
    return c_sync(d);
}
static void c_clip_norm(sy_device *d, const float *g, size_t n, double *blocks, size_t nb, const size_t *fix_idx,
                        size_t n_fix, float max_norm, sy_step_scalars *sc, double *norm)
{
    _Static_assert(SY_OPTIM_NORM_BLOCK == 4096, "syk_clip_norm sums blocks of 4096");
    syk_clip_norm(S, g, n, blocks, nb, fix_idx, n_fix, max_norm, &sc->clip, &sc->clipping, norm);
}
static void c_wfix(sy_device *d, const sy_step_ptrs *p, const size_t *idx, const float *val, size_t n)
{
    syk_wfix(S, p->p, p->m1, p->m2, idx, val, n, p->skip);
}

/* ---- GEMM: row-major Z[M,N] = alpha op(X)[M,K] op(Y)[K,N] + beta Z --------------
 * X is stored [K,M] when tx, else [M,K]; Y is stored [N,K] when ty, else [K,N].
 * cuBLAS is column-major: compute Z^T = op(Y)^T op(X)^T, i.e. pass Y first. */
static void gemm_rm(int tx, int ty, int M, int N, int K, const float *X, const float *Y, float beta, float *Z)
{
    const float one = 1.0f;
    sy_gemm_args a = sy_gemm_map(tx, ty, M, N, K);
    sy_precision p = sy_get_precision();
    cublasOperation_t o1 = a.trans_first ? CUBLAS_OP_T : CUBLAS_OP_N, o2 = a.trans_second ? CUBLAS_OP_T : CUBLAS_OP_N;
    if (p == SY_PRECISION_FP32) {
        CUBLAS(cublasSgemm, H, o1, o2, a.m, a.n, a.k, &one, Y, a.ld_first, X, a.ld_second, &beta, Z, a.ldc);
        return;
    }
    /* FP32 operands and output; the tensor cores take them rounded to TF32
     * or bf16 and accumulate in FP32 (autocast without bf16 copies). */
    CUBLAS(cublasGemmEx, H, o1, o2, a.m, a.n, a.k, &one, Y, CUDA_R_32F, a.ld_first, X, CUDA_R_32F, a.ld_second, &beta,
           Z, CUDA_R_32F, a.ldc, p == SY_PRECISION_BF16 ? CUBLAS_COMPUTE_32F_FAST_16BF : CUBLAS_COMPUTE_32F_FAST_TF32,
           CUBLAS_GEMM_DEFAULT);
}

/* ---- Op kernels ---------------------------------------------------------------- */

static void f_none(sy_exec *ex, sy_node *n) {}

static void f_matmul(sy_exec *ex, sy_node *n)
{
    sy_shape a = IN(0)->shape, b = IN(1)->shape;
    int ta = n->iattr[0], tb = n->iattr[1];
    int M = ta ? a.dim[1] : a.dim[0], K = ta ? a.dim[0] : a.dim[1], N = tb ? b.dim[0] : b.dim[1];
    gemm_rm(ta, tb, M, N, K, IN(0)->val, IN(1)->val, 0.0f, n->val);
}
static void b_matmul(sy_exec *ex, sy_node *n)
{
    sy_shape a = IN(0)->shape, b = IN(1)->shape;
    int ta = n->iattr[0], tb = n->iattr[1];
    int M = ta ? a.dim[1] : a.dim[0], K = ta ? a.dim[0] : a.dim[1], N = tb ? b.dim[0] : b.dim[1];
    const float *A = IN(0)->val, *B = IN(1)->val, *dC = n->grad;
    float *dA = IN(0)->grad, *dB = IN(1)->grad;
    if (dA) {
        if (!ta) gemm_rm(0, !tb, M, K, N, dC, B, 1.0f, dA);   /* dA = dC op(B)^T */
        else gemm_rm(tb, 1, K, M, N, B, dC, 1.0f, dA);        /* dA = op(B) dC^T */
    }
    if (dB) {
        if (!tb) gemm_rm(!ta, 0, K, N, M, A, dC, 1.0f, dB);   /* dB = op(A)^T dC */
        else gemm_rm(1, ta, N, K, M, dC, A, 1.0f, dB);        /* dB = dC^T op(A) */
    }
}

static void bias_dims(const sy_node *n, size_t *outer, size_t *C, size_t *inner)
{
    *outer = n->shape.dim[0];
    *C = n->shape.dim[1];
    *inner = sy_inner_size(n->shape, 1);
}
static void f_bias_add(sy_exec *ex, sy_node *n)
{
    size_t o, c, k;
    bias_dims(n, &o, &c, &k);
    syk_bias_add_fwd(S, IN(0)->val, IN(1)->val, n->val, o, c, k);
}
static void b_bias_add(sy_exec *ex, sy_node *n)
{
    size_t o, c, k;
    bias_dims(n, &o, &c, &k);
    syk_bias_add_bwd(S, n->grad, IN(0)->grad, IN(1)->grad, o, c, k);
}

/* As elementwise.c: a padded to 4-D, b's strides on it (0 where it broadcasts). */
static void bcast(sy_shape a, sy_shape b, int d[4], size_t bs[4], int *same)
{
    int bd[4];
    for (int i = 0; i < 4; i++) {
        d[i] = i < 4 - a.ndim ? 1 : a.dim[i - (4 - a.ndim)];
        bd[i] = i < 4 - b.ndim ? 1 : b.dim[i - (4 - b.ndim)];
    }
    size_t stride = 1;
    for (int i = 3; i >= 0; i--) {
        bs[i] = bd[i] == 1 ? 0 : stride;
        stride *= (size_t)bd[i];
    }
    *same = sy_shape_numel(a) == sy_shape_numel(b);
}
static void f_binary(sy_exec *ex, sy_node *n, int op)
{
    int d[4], same;
    size_t bs[4];
    bcast(n->shape, IN(1)->shape, d, bs, &same);
    syk_binary_fwd(S, op, IN(0)->val, IN(1)->val, n->val, d, bs, n->numel);
}
static void b_binary(sy_exec *ex, sy_node *n, int op)
{
    int d[4], same;
    size_t bs[4];
    bcast(n->shape, IN(1)->shape, d, bs, &same);
    syk_binary_bwd(S, op, IN(0)->val, IN(1)->val, n->grad, IN(0)->grad, IN(1)->grad, d, bs, n->numel, same);
}
static void f_add(sy_exec *ex, sy_node *n) { f_binary(ex, n, 0); }
static void f_sub(sy_exec *ex, sy_node *n) { f_binary(ex, n, 1); }
static void f_mul(sy_exec *ex, sy_node *n) { f_binary(ex, n, 2); }
static void b_add(sy_exec *ex, sy_node *n) { b_binary(ex, n, 0); }
static void b_sub(sy_exec *ex, sy_node *n) { b_binary(ex, n, 1); }
static void b_mul(sy_exec *ex, sy_node *n) { b_binary(ex, n, 2); }

static void f_unary(sy_exec *ex, sy_node *n) { syk_unary_fwd(S, n->op, IN(0)->val, n->val, n->numel, n->fattr[0]); }
static void b_unary(sy_exec *ex, sy_node *n)
{
    if (IN(0)->grad) syk_unary_bwd(S, n->op, IN(0)->val, n->val, n->grad, IN(0)->grad, n->numel, n->fattr[0]);
}

static void f_clamp(sy_exec *ex, sy_node *n) { syk_clamp_fwd(S, IN(0)->val, n->val, n->numel, n->fattr[0], n->fattr[1]); }
static void b_clamp(sy_exec *ex, sy_node *n)
{
    if (IN(0)->grad) syk_clamp_bwd(S, IN(0)->val, n->grad, IN(0)->grad, n->numel, n->fattr[0], n->fattr[1]);
}
static void f_minimum(sy_exec *ex, sy_node *n) { syk_minimum_fwd(S, IN(0)->val, IN(1)->val, n->val, n->numel); }
static void b_minimum(sy_exec *ex, sy_node *n)
{
    if (IN(0)->grad || IN(1)->grad)
        syk_minimum_bwd(S, IN(0)->val, IN(1)->val, n->grad, IN(0)->grad, IN(1)->grad, n->numel);
}

static void f_sum(sy_exec *ex, sy_node *n) { syk_sum_fwd(S, IN(0)->val, n->val, IN(0)->numel, 1.0); }
static void b_sum(sy_exec *ex, sy_node *n) { syk_sum_bwd(S, n->grad, IN(0)->grad, IN(0)->numel, 1.0f); }
static void f_mean(sy_exec *ex, sy_node *n) { syk_sum_fwd(S, IN(0)->val, n->val, IN(0)->numel, 1.0 / IN(0)->numel); }
static void b_mean(sy_exec *ex, sy_node *n) { syk_sum_bwd(S, n->grad, IN(0)->grad, IN(0)->numel, 1.0f / IN(0)->numel); }

static void axis_dims(sy_exec *ex, sy_node *n, size_t *outer, size_t *len, size_t *inner)
{
    sy_shape x = IN(0)->shape;
    int axis = n->iattr[0];
    *outer = 1;
    for (int i = 0; i < axis; i++) *outer *= (size_t)x.dim[i];
    *len = (size_t)x.dim[axis];
    *inner = sy_inner_size(x, axis);
}
static void f_axis(sy_exec *ex, sy_node *n)
{
    size_t o, l, k;
    axis_dims(ex, n, &o, &l, &k);
    syk_axis_fwd(S, IN(0)->val, n->val, o, l, k, n->op == SY_OP_MEAN_AXIS);
}
static void b_axis(sy_exec *ex, sy_node *n)
{
    size_t o, l, k;
    axis_dims(ex, n, &o, &l, &k);
    syk_axis_bwd(S, n->grad, IN(0)->grad, o, l, k, n->op == SY_OP_MEAN_AXIS);
}

static void f_concat(sy_exec *ex, sy_node *n)
{
    size_t inner = sy_inner_size(n->shape, 1);
    syk_concat_fwd(S, IN(0)->val, IN(1)->val, n->val, n->shape.dim[0], IN(0)->shape.dim[1] * inner,
                   IN(1)->shape.dim[1] * inner);
}
static void b_concat(sy_exec *ex, sy_node *n)
{
    size_t inner = sy_inner_size(n->shape, 1);
    syk_concat_bwd(S, n->grad, IN(0)->grad, IN(1)->grad, n->shape.dim[0], IN(0)->shape.dim[1] * inner,
                   IN(1)->shape.dim[1] * inner);
}
static void f_slice(sy_exec *ex, sy_node *n)
{
    sy_shape x = IN(0)->shape;
    size_t inner = sy_inner_size(x, 1);
    syk_slice_fwd(S, IN(0)->val, n->val, x.dim[0], x.dim[1] * inner, n->shape.dim[1] * inner, n->iattr[0] * inner);
}
static void b_slice(sy_exec *ex, sy_node *n)
{
    sy_shape x = IN(0)->shape;
    size_t inner = sy_inner_size(x, 1);
    syk_slice_bwd(S, n->grad, IN(0)->grad, x.dim[0], x.dim[1] * inner, n->shape.dim[1] * inner, n->iattr[0] * inner);
}

#define CONV_DIMS                                                                        \
    sy_shape xs = IN(0)->shape, ws = IN(1)->shape;                                       \
    int N = xs.dim[0], C = xs.dim[1], Hh = xs.dim[2], W = xs.dim[3];                     \
    int O = ws.dim[0], KH = ws.dim[2], KW = ws.dim[3];                                   \
    int HO = n->shape.dim[2], WO = n->shape.dim[3], St = n->iattr[0], P = n->iattr[1];   \
    size_t hw = (size_t)HO * WO, ld = (size_t)N * hw, ckk = (size_t)C * KH * KW;         \
    float *col = ex->workspace, *ybuf = col + ckk * ld;     

static void f_conv2d(sy_exec *ex, sy_node *n)
{
    if (dn_forward(ex, n)) return;
    CONV_DIMS
    syk_im2col(S, IN(0)->val, col, N, C, Hh, W, KH, KW, St, P, HO, WO);
    gemm_rm(0, 0, O, (int)ld, (int)ckk, IN(1)->val, col, 0.0f, ybuf);
    syk_nchw_from_cn(S, ybuf, n->val, N, O, hw);
}
static void b_conv2d(sy_exec *ex, sy_node *n)
{
    if (dn_backward(ex, n)) return;
    CONV_DIMS
    float *dx = IN(0)->grad, *dw = IN(1)->grad;
    syk_cn_from_nchw(S, n->grad, ybuf, N, O, hw);
    if (dw) { /* dw [O, CKK] += dy [O, N*HW] col^T */
        syk_im2col(S, IN(0)->val, col, N, C, Hh, W, KH, KW, St, P, HO, WO);
        gemm_rm(0, 1, O, (int)ckk, (int)ld, ybuf, col, 1.0f, dw);
    }
    if (dx) { /* dcol [CKK, N*HW] = w^T dy (into col: stream order keeps dw's read first) */
        gemm_rm(1, 0, (int)ckk, (int)ld, O, IN(1)->val, ybuf, 0.0f, col);
        syk_col2im_add(S, col, dx, N, C, Hh, W, KH, KW, St, P, HO, WO);
    }
}

static void f_maxpool2d(sy_exec *ex, sy_node *n)
{
    sy_shape x = IN(0)->shape;
    syk_maxpool_fwd(S, IN(0)->val, n->val, (int32_t *)n->scratch, x.dim[0] * x.dim[1], x.dim[2], x.dim[3],
                    n->shape.dim[2], n->shape.dim[3], n->iattr[0], n->iattr[1]);
}
static void b_maxpool2d(sy_exec *ex, sy_node *n)
{
    sy_shape x = IN(0)->shape;
    syk_maxpool_bwd(S, n->grad, (const int32_t *)n->scratch, IN(0)->grad, x.dim[0] * x.dim[1], x.dim[2], x.dim[3],
                    n->shape.dim[2], n->shape.dim[3], n->iattr[0], n->iattr[1]);
}
static void f_gap(sy_exec *ex, sy_node *n)
{
    syk_avgpool_fwd(S, IN(0)->val, n->val, n->numel, sy_inner_size(IN(0)->shape, 1));
}
static void b_gap(sy_exec *ex, sy_node *n)
{
    syk_avgpool_bwd(S, n->grad, IN(0)->grad, n->numel, sy_inner_size(IN(0)->shape, 1));
}

static void f_batchnorm(sy_exec *ex, sy_node *n)
{
    sy_shape s = n->shape;
    size_t C = s.dim[1];
    syk_batchnorm_fwd(S, IN(0)->val, IN(1)->val, IN(2)->val, IN(3)->val, IN(4)->val, n->scratch, n->scratch + C,
                      n->val, s.dim[0], C, sy_inner_size(s, 1), n->fattr[0], n->fattr[1], ex->training);
}
static void b_batchnorm(sy_exec *ex, sy_node *n)
{
    sy_shape s = n->shape;
    size_t C = s.dim[1];
    syk_batchnorm_bwd(S, IN(0)->val, IN(1)->val, n->grad, n->scratch, n->scratch + C, IN(0)->grad, IN(1)->grad,
                      IN(2)->grad, s.dim[0], C, sy_inner_size(s, 1), ex->training);
}

static void f_dropout(sy_exec *ex, sy_node *n)
{
    uint64_t key = sy_rng_key(ex->seed ^ ((uint64_t)(n - ex->nodes) << 40), SY_STREAM_DROPOUT);
    syk_dropout_fwd(S, IN(0)->val, n->scratch, n->val, n->numel, key, ex->step, ex->dev_step, n->fattr[0],
                    ex->training);
}
static void b_dropout(sy_exec *ex, sy_node *n) { syk_mul_bwd_same(S, n->grad, n->scratch, IN(0)->grad, n->numel); }

static void f_l2normalize(sy_exec *ex, sy_node *n)
{
    syk_l2norm_fwd(S, IN(0)->val, n->val, n->scratch, n->shape.dim[0], n->shape.dim[1], n->fattr[0]);
}
static void b_l2normalize(sy_exec *ex, sy_node *n)
{
    syk_l2norm_bwd(S, n->val, n->grad, n->scratch, IN(0)->grad, n->shape.dim[0], n->shape.dim[1], n->fattr[0]);
}

static void f_softmax_ce(sy_exec *ex, sy_node *n)
{
    syk_softmax_ce_fwd(S, IN(0)->val, IN(1)->val, n->scratch, n->val, IN(0)->shape.dim[0], IN(0)->shape.dim[1],
                       (int)(n - ex->nodes));
}
static void b_softmax_ce(sy_exec *ex, sy_node *n)
{
    if (IN(0)->grad)
        syk_softmax_ce_bwd(S, n->scratch, IN(1)->val, n->grad, IN(0)->grad, IN(0)->shape.dim[0], IN(0)->shape.dim[1]);
}

static int pair_kind(sy_op op) { return op == SY_OP_MSE ? 0 : op == SY_OP_BCE_LOGITS ? 1 : 2; }
static void f_pair(sy_exec *ex, sy_node *n)
{
    syk_pair_fwd(S, pair_kind(n->op), IN(0)->val, IN(1)->val, n->val, IN(0)->numel,
                 sy_reduce_scale(n->iattr[0], IN(0)->shape), n->fattr[0]);
}
static void b_pair(sy_exec *ex, sy_node *n)
{
    syk_pair_bwd(S, pair_kind(n->op), IN(0)->val, IN(1)->val, n->grad, IN(0)->grad, IN(1)->grad, IN(0)->numel,
                 sy_reduce_scale(n->iattr[0], IN(0)->shape), n->fattr[0]);
}

static sy_backend cuda_backend, cuda_checked;

/* SYRE_CUDA_SYNC=1: wait after every kernel and name the node whose kernel
 * failed (slow; for finding a faulty kernel). */
static void check_after(sy_exec *ex, sy_node *n, const char *pass)
{
    cudaError_t e = cudaStreamSynchronize(S);
    if (e == cudaSuccess) e = cudaGetLastError();
    char where[160];
    snprintf(where, sizeof where, "%s of node '%s'", pass, n->name);
    if (e != cudaSuccess) note_fail(where, __FILE__, __LINE__, cudaGetErrorString(e));
    else if (lib_failed()) { /* a call of this node failed: name the node */
        pthread_mutex_lock(&lib_lock);
        size_t k = strlen(lib_error);
        if (!strstr(lib_error, " of node '")) snprintf(lib_error + k, sizeof lib_error - k, " (%s)", where);
        pthread_mutex_unlock(&lib_lock);
    }
}
static void checked_fwd(sy_exec *ex, sy_node *n)
{
    cuda_backend.forward[n->op](ex, n);
    check_after(ex, n, "forward");
}
static void checked_bwd(sy_exec *ex, sy_node *n)
{
    cuda_backend.backward[n->op](ex, n);
    check_after(ex, n, "backward");
}

static void build_table(void)
{
    sy_backend *b = &cuda_backend;
    b->name = "cuda";
#define SET(OP, F, B)          \
    b->forward[SY_OP_##OP] = F; \
    b->backward[SY_OP_##OP] = B;
    SET(INPUT, f_none, f_none)
    SET(PARAM, f_none, f_none)
    SET(MATMUL, f_matmul, b_matmul)
    SET(BIAS_ADD, f_bias_add, b_bias_add)
    SET(ADD, f_add, b_add)
    SET(SUB, f_sub, b_sub)
    SET(MUL, f_mul, b_mul)
    SET(SCALE, f_unary, b_unary)
    SET(RELU, f_unary, b_unary)
    SET(TANH, f_unary, b_unary)
    SET(SIGMOID, f_unary, b_unary)
    SET(SILU, f_unary, b_unary)
    SET(EXP, f_unary, b_unary)
    SET(LOG, f_unary, b_unary)
    SET(SQUARE, f_unary, b_unary)
    SET(SUM, f_sum, b_sum)
    SET(MEAN, f_mean, b_mean)
    SET(SUM_AXIS, f_axis, b_axis)
    SET(MEAN_AXIS, f_axis, b_axis)
    SET(RESHAPE, f_none, f_none)
    SET(CONCAT, f_concat, b_concat)
    SET(SLICE, f_slice, b_slice)
    SET(CONV2D, f_conv2d, b_conv2d)
    SET(MAXPOOL2D, f_maxpool2d, b_maxpool2d)
    SET(GLOBAL_AVGPOOL, f_gap, b_gap)
    SET(BATCHNORM, f_batchnorm, b_batchnorm)
    SET(DROPOUT, f_dropout, b_dropout)
    SET(L2NORMALIZE, f_l2normalize, b_l2normalize)
    SET(SOFTMAX_CE, f_softmax_ce, b_softmax_ce)
    SET(MSE, f_pair, b_pair)
    SET(BCE_LOGITS, f_pair, b_pair)
    SET(KL_GAUSS, f_pair, b_pair)
    SET(CLAMP, f_clamp, b_clamp)
    SET(MINIMUM, f_minimum, b_minimum)
#undef SET
    cuda_checked.name = "cuda";
    for (int op = 0; op < SY_OP_COUNT; op++) {
        cuda_checked.forward[op] = checked_fwd;
        cuda_checked.backward[op] = checked_bwd;
    }
}

/* ---- Initialisation --------------------------------------------------------------- */

#ifdef SYRE_HAVE_NCCL
static int ordinal; /* the GPU this process uses (its local rank's) */
/* Data parallelism: NCCL over the gradient, on this backend's stream. */
static sy_status c_allreduce(sy_device *d, float *buf, size_t n)
{
    bind_thread(); /* NCCL starts on the calling thread's device */
    return syc_nccl_allreduce_mean(buf, n, (void *)S);
}
#endif

static sy_device cuda_dev;
static char init_error[512];
static int init_done;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init(void)
{
    int n = 0;
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess || n == 0) {
        snprintf(init_error, sizeof init_error,
                 "device 'cuda': no CUDA device found (%s); run on a machine with an NVIDIA GPU and driver, "
                 "or use --device cpu",
                 e != cudaSuccess ? cudaGetErrorString(e) : "cudaGetDeviceCount returned 0");
        cudaGetLastError();
        return;
    }
    struct cudaDeviceProp pr;
    /* One GPU per rank of a machine (with one rank, or CUDA_VISIBLE_DEVICES
     * set per rank: device 0). */
    int gpu = sy_dist_local_rank() % n;
    gpu_index = gpu;
    /* Each step checked and named: the message says which call failed. */
#define INIT_CU(fn, ...)                                                                                     \
    do {                                                                                                     \
        cudaError_t e_ = fn(__VA_ARGS__);                                                                    \
        if (e_ != cudaSuccess) {                                                                             \
            snprintf(init_error, sizeof init_error, "device 'cuda': initialisation failed: %s: %s", #fn,     \
                     cudaGetErrorString(e_));                                                                \
            cudaGetLastError();                                                                              \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)
#define INIT_BLAS(fn, ...)                                                                                   \
    do {                                                                                                     \
        cublasStatus_t s_ = fn(__VA_ARGS__);                                                                 \
        if (s_ != CUBLAS_STATUS_SUCCESS) {                                                                   \
            snprintf(init_error, sizeof init_error, "device 'cuda': initialisation failed: %s: cuBLAS status %d", \
                     #fn, (int)s_);                                                                          \
            return;                                                                                          \
        }                                                                                                    \
    } while (0)
    INIT_CU(cudaSetDevice, gpu);
    thread_bound = 1;
    INIT_CU(cudaGetDeviceProperties, &pr, gpu);
    INIT_CU(cudaStreamCreateWithFlags, &S, cudaStreamNonBlocking);
    INIT_CU(cudaStreamCreateWithFlags, &C, cudaStreamNonBlocking);
    INIT_BLAS(cublasCreate, &H);
    INIT_BLAS(cublasSetStream, H, S);
    INIT_CU(cudaHostAlloc, (void **)&err_slot, sizeof *err_slot, cudaHostAllocMapped);
    memset(err_slot, 0, sizeof *err_slot);
    syk_error *dev_slot = NULL;
    INIT_CU(cudaHostGetDevicePointer, (void **)&dev_slot, err_slot, 0);
    INIT_CU(syk_set_error_slot, dev_slot); /* cudaMemcpyToSymbol, synchronous, before any work */
    INIT_BLAS(cublasSetMathMode, H, CUBLAS_DEFAULT_MATH); /* precision per GEMM: gemm_rm */
    /* A workspace of our own, so that cuBLAS allocates nothing while a
     * training step is captured (CUDA Graphs): without it a captured GEMM
     * could fail, so it is required. */
    static void *cublas_ws;
    INIT_CU(cudaMalloc, &cublas_ws, 32u << 20);
    INIT_BLAS(cublasSetWorkspace, H, cublas_ws, 32u << 20);
    char conv[96] = "conv im2col + cuBLAS";
#ifdef SYRE_HAVE_CUDNN
    use_cudnn = sy_runtime()->cudnn;
    cudnnStatus_t ds = CUDNN_STATUS_SUCCESS;
    const char *dcall = "";
    if (use_cudnn && (ds = cudnnCreate(&DN)) != CUDNN_STATUS_SUCCESS) dcall = "cudnnCreate";
    else if (use_cudnn && (ds = cudnnSetStream(DN, S)) != CUDNN_STATUS_SUCCESS) dcall = "cudnnSetStream";
    if (ds != CUDNN_STATUS_SUCCESS) {
        use_cudnn = 0;
        fprintf(stderr, "syre: cuDNN failed to start (%s: %s); convolutions use im2col + cuBLAS\n", dcall,
                cudnnGetErrorString(ds));
    }
    if (use_cudnn) snprintf(conv, sizeof conv, "conv cuDNN %zu", (size_t)cudnnGetVersion());
    else snprintf(conv, sizeof conv, "conv im2col + cuBLAS (cuDNN %s)",
                  sy_runtime()->cudnn ? "failed to start" : "off: the cudnn setting (SYRE_CUDNN=0)");
#endif
    int rt = 0, cbv = 0;
    INIT_CU(cudaRuntimeGetVersion, &rt);
    INIT_BLAS(cublasGetVersion, H, &cbv);
    build_table();
    sy_device *d = &cuda_dev;
    d->name = "cuda";
    snprintf(d->info, sizeof d->info, "%.80s (sm_%d%d, %d SMs, %.1f GiB), CUDA runtime %d.%d, cuBLAS %d, %s %s, %.60s",
             pr.name, pr.major, pr.minor, pr.multiProcessorCount, pr.totalGlobalMem / 1073741824.0, rt / 1000,
             (rt % 1000) / 10, cbv, "matmul", "per --precision", conv);
    d->alloc = c_alloc;
    d->free = c_free;
    d->host_alloc = c_host_alloc;
    d->host_free = c_host_free;
    d->upload = c_upload;
    d->download = c_download;
    d->zero = c_zero;
    d->sync = c_sync;
    d->kernels = sy_runtime()->cuda_sync ? &cuda_checked : &cuda_backend;
    d->node_scratch = c_node_scratch;
    d->shared_workspace = c_shared_ws;
    d->optim_range = c_optim_range;
    d->grad_sq_blocks = c_grad_sq;
    d->wfix = c_wfix;
    d->clip_norm = c_clip_norm;
    d->set_float = c_set_float;
    d->scan_nonfinite = c_scan_nonfinite;
    d->veto = c_veto;
    d->capture_begin = c_capture_begin;
    d->capture_end = c_capture_end;
    d->launch = c_launch;
    d->exec_free = c_exec_free;
    d->forget_graph = c_forget_graph;
    d->copy = c_copy;
    d->stage_upload = c_stage_upload;
    d->stage_wait = c_stage_wait;
    d->event_new = c_event_new;
    d->event_free = c_event_free;
#ifdef SYRE_HAVE_NCCL
    ordinal = gpu;
    d->allreduce_mean = c_allreduce;
#endif
    d->error_node = -1;
    init_done = 1;
}

sy_device *syc_device(void)
{
    pthread_once(&once, init);
    if (!init_done) {
        sy_fail(SY_ERR_UNSUPPORTED, "%s", init_error);
        return NULL;
    }
    return &cuda_dev;
}
