/* The device registry and the process default device, plus "sim": a device
 * whose memory is separate host memory and whose kernels are the CPU ones.
 * sim exists to test, on machines without a GPU, everything of the device
 * path except the CUDA kernels themselves: the arena on the device, inputs
 * uploaded, values and gradients downloaded on demand, parameters and
 * optimizer state kept coherent between host and device. A missing copy
 * shows on sim as a wrong number, exactly as it would on a GPU. The cuda
 * device lives in a module loaded here on first use (backend/cuda_module.h). */
#define _GNU_SOURCE /* dladdr */
#include "backend/cuda_module.h"
#include "backend/device.h"
#include "backend/cpu/isa.h"
#include "ops/op_kernels.h"
#include "syre/runtime.h"
#include "syre/dist.h"
#include "dist/dist_impl.h"
#include "core/numeric.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#ifdef SYRE_HAVE_CUDA
#include <dlfcn.h>
#endif

/* ---- Process settings (syre/runtime.h; set and read below) ---- */

/* The settings in force; rt's strings point into the buffers beside it. */
static sy_runtime_opts rt = {.device = "cpu", .precision = SY_PRECISION_FP32, .prefetch = 1, .cudnn = 1, .own_gemm = 1};
static char rt_device[16] = "cpu", rt_cuda_module[4096], rt_data_dir[4096], rt_omp_wait[96], rt_cpu_isa[8];
static int precision_fixed; /* device graphs compiled with rt.precision and not freed */

/* ---- sim ------------------------------------------------------------------- */

/* Capture on sim, as a CUDA Graph captures a stream: while a tape is open,
 * every stream-ordered call is recorded with its arguments (pointers,
 * segments and scalars by value) instead of run, and a launch runs the tape
 * as recorded. So a replay reads live values only through memory, exactly
 * as a replayed CUDA Graph does, and a recording that outlives what it
 * points to shows on sim as wrong numbers (or under ASan as a use after
 * free). Calls a capture forbids on CUDA (allocation, waits) break the
 * capture here too. */
typedef enum {
    SIM_COPY, SIM_ZERO, SIM_SET_FLOAT, SIM_KERNEL, SIM_OPTIM, SIM_WFIX, SIM_SCAN, SIM_CLIP, SIM_VETO
} sim_cmd_kind;
typedef struct {
    sim_cmd_kind kind;
    void *dst;
    const void *src;
    size_t n;
    float v;
    sy_exec *ex;
    sy_node *node;
    int bwd, training;
    sy_step_scalars sc;
    sy_step_ptrs p;
    sy_segment seg;
    const size_t *idx;
    const float *val;
    double *blocks, *norm;
    size_t nb, n_fix;
    sy_step_scalars *dsc;
} sim_cmd;
typedef struct {
    sim_cmd *cmd;
    size_t n, cap;
    char broken[256]; /* why the capture is invalid ("" while it is not) */
} sim_tape;
static sim_tape *sim_capturing;
/* A kernel raised an error (its context's fault) since the last sync: sim's
 * counterpart of the CUDA error slot, read by the veto. */
static int sim_kernel_failed;

static sim_cmd *sim_rec(sim_cmd_kind kind)
{
    sim_tape *t = sim_capturing;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 64;
        sim_cmd *c = realloc(t->cmd, cap * sizeof *c);
        if (!c) {
            if (!t->broken[0]) snprintf(t->broken, sizeof t->broken, "out of memory while capturing");
            return NULL;
        }
        t->cmd = c;
        t->cap = cap;
    }
    sim_cmd *c = &t->cmd[t->n++];
    memset(c, 0, sizeof *c);
    c->kind = kind;
    return c;
}

/* A call that a capture forbids: the capture fails at its end. */
static int sim_forbidden(const char *what)
{
    if (!sim_capturing) return 0;
    if (!sim_capturing->broken[0])
        snprintf(sim_capturing->broken, sizeof sim_capturing->broken, "%s while the stream is captured", what);
    return 1;
}

static void *sim_alloc(sy_device *d, size_t bytes)
{
    if (sim_forbidden("an allocation")) {
        sy_fail(SY_ERR_STATE, "sim device: allocation while the stream is captured");
        return NULL;
    }
    void *p = calloc(1, bytes ? bytes : 1);
    if (!p) sy_fail(SY_ERR_NOMEM, "sim device: cannot allocate %zu bytes", bytes);
    return p;
}
static void sim_free(sy_device *d, void *p)
{
    sim_forbidden("a free");
    free(p);
}
static void sim_upload(sy_device *d, void *dst, const void *src, size_t n)
{
    if (sim_capturing) {
        sim_cmd *c = sim_rec(SIM_COPY);
        if (c) c->dst = dst, c->src = src, c->n = n;
        return;
    }
    memmove(dst, src, n);
}
/* A failed copy on the copy stream (the break_stage_upload hook), reported
 * by the next sync as CUDA's would be; the helper thread writes it. */
static char sim_copy_error[128];
static pthread_mutex_t sim_copy_lock = PTHREAD_MUTEX_INITIALIZER;

/* The copy stream is never captured (the helper thread's uploads). */
static void sim_stage_upload(sy_device *d, void *dst, const void *src, size_t n, void *ev)
{
    if (d->break_stage_upload) {
        pthread_mutex_lock(&sim_copy_lock);
        snprintf(sim_copy_error, sizeof sim_copy_error, "a staged upload failed (test hook)");
        pthread_mutex_unlock(&sim_copy_lock);
        return;
    }
    memcpy(dst, src, n);
}
static void sim_stage_wait(sy_device *d, void *ev) {}
static void *sim_event_new(sy_device *d)
{
    void *ev = malloc(1); /* a distinct token; the copy is done at once */
    if (!ev) sy_fail(SY_ERR_NOMEM, "sim device: out of memory");
    return ev;
}
static void sim_event_free(sy_device *d, void *ev) { free(ev); }
static void sim_zero(sy_device *d, void *dst, size_t n)
{
    if (sim_capturing) {
        sim_cmd *c = sim_rec(SIM_ZERO);
        if (c) c->dst = dst, c->n = n;
        return;
    }
    memset(dst, 0, n);
}
static sy_status sim_sync(sy_device *d)
{
    if (sim_forbidden("a wait")) return sy_fail(SY_ERR_STATE, "sim device: wait while the stream is captured");
    sim_kernel_failed = 0; /* reported by the graph (its context's fault), as CUDA's slot by its sync */
    pthread_mutex_lock(&sim_copy_lock);
    d->error_node = -1;
    snprintf(d->error, sizeof d->error, "%s", sim_copy_error);
    sim_copy_error[0] = '\0';
    pthread_mutex_unlock(&sim_copy_lock);
    if (d->error[0]) return sy_fail(SY_ERR_STATE, "sim device: %s", d->error);
    return SY_OK;
}
/* The sim runs the CPU kernels: their scratch. */
static size_t sim_scratch(sy_exec *ex, const sy_node *n) { return sy_backend_cpu()->node_scratch(ex, n); }
static size_t sim_ws(sy_exec *ex, const sy_node *n) { return 0; }
static void sim_optim_range(sy_device *d, const sy_step_scalars *s, const sy_step_ptrs *p, const sy_segment *seg)
{
    if (sim_capturing) {
        sim_cmd *c = sim_rec(SIM_OPTIM);
        if (c) c->sc = *s, c->p = *p, c->seg = *seg;
        return;
    }
    if (p->skip && *p->skip != (size_t)-1) return;
    sy_update_segment(p->dev_scalars ? p->dev_scalars : s, p, seg);
}
static void sim_scan(sy_device *d, const float *x, size_t n, size_t *slot)
{
    if (sim_capturing) {
        sim_cmd *c = sim_rec(SIM_SCAN);
        if (c) c->src = x, c->n = n, c->dst = slot;
        return;
    }
    *slot = sy_first_nonfinite(x, n);
}
static sy_status sim_grad_sq(sy_device *d, const float *g, size_t n, double *out, size_t nb)
{
    if (sim_forbidden("a synchronous gradient norm"))
        return sy_fail(SY_ERR_STATE, "sim device: synchronous call while the stream is captured");
    for (size_t b = 0; b < nb; b++) {
        size_t lo = b * SY_OPTIM_NORM_BLOCK, hi = lo + SY_OPTIM_NORM_BLOCK < n ? lo + SY_OPTIM_NORM_BLOCK : n;
        double s = 0;
        for (size_t i = lo; i < hi; i++) s += (double)g[i] * g[i];
        out[b] = s;
    }
    return SY_OK;
}
static void sim_clip_norm(sy_device *d, const float *g, size_t n, double *blocks, size_t nb, const size_t *fix_idx,
                          size_t n_fix, float max_norm, sy_step_scalars *sc, double *norm)
{
    if (sim_capturing) {
        sim_cmd *c = sim_rec(SIM_CLIP);
        if (c)
            c->src = g, c->n = n, c->blocks = blocks, c->nb = nb, c->idx = fix_idx, c->n_fix = n_fix, c->v = max_norm,
            c->dsc = sc, c->norm = norm;
        return;
    }
    sim_grad_sq(d, g, n, blocks, nb);
    double s = 0; /* as step.c's grad_norm and sy_optimizer_step */
    for (size_t b = 0; b < nb; b++) s += blocks[b];
    for (size_t k = 0; k < n_fix; k++) s -= (double)g[fix_idx[k]] * g[fix_idx[k]];
    double nrm = isfinite(s) ? sqrt(s > 0 ? s : 0) : s;
    *norm = nrm;
    double coef = (double)max_norm / (nrm + 1e-6);
    sc->clip = coef < 1.0 ? (float)coef : 1.0f;
    sc->clipping = sc->clip < 1.0f;
}
static void sim_wfix(sy_device *d, const sy_step_ptrs *p, const size_t *idx, const float *val, size_t n)
{
    if (sim_capturing) {
        sim_cmd *c = sim_rec(SIM_WFIX);
        if (c) c->p = *p, c->idx = idx, c->val = val, c->n = n;
        return;
    }
    if (p->skip && *p->skip != (size_t)-1) return;
    for (size_t k = 0; k < n; k++) {
        p->p[idx[k]] = val[k];
        if (p->m1) p->m1[idx[k]] = 0.0f;
        if (p->m2) p->m2[idx[k]] = 0.0f;
    }
}
static void sim_veto(sy_device *d, const float *x, size_t n, size_t *slot)
{
    if (sim_capturing) {
        sim_cmd *c = sim_rec(SIM_VETO);
        if (c) c->src = x, c->n = n, c->dst = slot;
        return;
    }
    if (sim_kernel_failed || (x && sy_first_nonfinite(x, n) != (size_t)-1)) *slot = SY_STEP_VETOED;
}
static void sim_set_float(sy_device *d, float *dst, float v)
{
    if (sim_capturing) {
        sim_cmd *c = sim_rec(SIM_SET_FLOAT);
        if (c) c->dst = dst, c->v = v;
        return;
    }
    *dst = v;
}

/* Reduced precision on sim: the operands of every matmul and convolution
 * GEMM rounded (round-to-nearest-even) to bf16 (8 mantissa bits) or TF32
 * (10 bits), then the FP32 CPU kernels; outputs and gradients stay FP32.
 * Forward rounds the inputs; backward rounds the inputs and the incoming
 * gradient (the operands of both backward GEMMs). */
static float round_bits(float x, int drop)
{
    uint32_t u;
    memcpy(&u, &x, 4);
    if ((u & 0x7f800000u) == 0x7f800000u) return x; /* NaN, Inf */
    uint32_t half = (1u << (drop - 1)) - 1u + ((u >> drop) & 1u);
    u = (u + half) & ~((1u << drop) - 1u);
    memcpy(&x, &u, 4);
    return x;
}

static float *rounded(const float *x, size_t n, int drop)
{
    float *r = malloc((n ? n : 1) * sizeof *r);
    if (!r) return NULL;
    for (size_t i = 0; i < n; i++) r[i] = round_bits(x[i], drop);
    return r;
}

/* sim_impl: the kernels that run (CPU, with sim's precision and dropout);
 * sim_table: what graphs call, which records them while capturing. */
static sy_backend sim_impl, sim_table;

static void sim_lowp(sy_exec *ex, sy_node *n, int bwd)
{
    sy_kernel k = bwd ? sy_backend_cpu()->backward[n->op] : sy_backend_cpu()->forward[n->op];
    sy_precision p = sy_get_precision();
    if (p == SY_PRECISION_FP32) {
        k(ex, n);
        return;
    }
    int drop = p == SY_PRECISION_BF16 ? 16 : 13;
    float *save[2] = {NULL, NULL}, *tmp[3] = {NULL, NULL, NULL}, *gsave = n->grad;
    for (int i = 0; i < 2 && i < n->n_in; i++) {
        sy_node *x = sy_in(ex, n, i);
        save[i] = x->val;
        tmp[i] = rounded(x->val, x->numel, drop);
        x->val = tmp[i] ? tmp[i] : save[i];
    }
    if (bwd && n->grad) {
        tmp[2] = rounded(n->grad, n->numel, drop);
        if (tmp[2]) n->grad = tmp[2];
    }
    k(ex, n);
    for (int i = 0; i < 2 && i < n->n_in; i++) sy_in(ex, n, i)->val = save[i];
    n->grad = gsave;
    for (int i = 0; i < 3; i++) free(tmp[i]);
}
static void sim_lowp_fwd(sy_exec *ex, sy_node *n) { sim_lowp(ex, n, 0); }
static void sim_lowp_bwd(sy_exec *ex, sy_node *n) { sim_lowp(ex, n, 1); }

/* Dropout reads its step from the graph's device counter (as the CUDA
 * kernel does), so a recorded step that failed to copy the counter in
 * would show here as another mask. */
static void sim_dropout_fwd(sy_exec *ex, sy_node *n)
{
    const uint64_t *dstep = ex->dev_step;
    sy_dropout_fwd_at(ex, n, dstep ? *dstep : ex->step);
}

/* A kernel as captured: the node, and the training flag its launch
 * arguments took (batch norm, dropout) at capture. */
static void sim_kernel(sy_exec *ex, sy_node *n, int bwd)
{
    if (sim_capturing) {
        sim_cmd *c = sim_rec(SIM_KERNEL);
        if (c) c->ex = ex, c->node = n, c->bwd = bwd, c->training = ex->training;
        return;
    }
    (bwd ? sim_impl.backward : sim_impl.forward)[n->op](ex, n);
    if (ex->fault->status) sim_kernel_failed = 1;
}
static void sim_fwd(sy_exec *ex, sy_node *n) { sim_kernel(ex, n, 0); }
static void sim_bwd(sy_exec *ex, sy_node *n) { sim_kernel(ex, n, 1); }

static sy_status sim_capture_begin(sy_device *d)
{
    if (sim_capturing) return sy_fail(SY_ERR_STATE, "sim device: a capture is under way already");
    if (!(sim_capturing = calloc(1, sizeof *sim_capturing)))
        return sy_fail(SY_ERR_NOMEM, "sim device: cannot start a capture");
    if (d->break_capture) sim_sync(d);
    return SY_OK;
}
static void sim_exec_free(sy_device *d, void *ex)
{
    sim_tape *t = ex;
    if (!t) return;
    free(t->cmd);
    free(t);
}
static void *sim_capture_end(sy_device *d)
{
    sim_tape *t = sim_capturing;
    sim_capturing = NULL;
    if (!t) {
        sy_fail(SY_ERR_STATE, "sim device: no capture under way");
        return NULL;
    }
    if (t->broken[0]) {
        sy_fail(SY_ERR_STATE, "sim capture invalidated: %s", t->broken);
        sim_exec_free(d, t);
        return NULL;
    }
    return t;
}
static sy_status sim_launch(sy_device *d, void *ex)
{
    const sim_tape *t = ex;
    for (size_t i = 0; i < t->n; i++) {
        const sim_cmd *c = &t->cmd[i];
        switch (c->kind) {
        case SIM_COPY: memmove(c->dst, c->src, c->n); break;
        case SIM_ZERO: memset(c->dst, 0, c->n); break;
        case SIM_SET_FLOAT: *(float *)c->dst = c->v; break;
        case SIM_KERNEL: {
            sy_exec ex = *c->ex; /* as at capture; the graph's own context is left as it is */
            ex.training = c->training;
            (c->bwd ? sim_impl.backward : sim_impl.forward)[c->node->op](&ex, c->node);
            if (ex.fault->status) sim_kernel_failed = 1;
            break;
        }
        case SIM_OPTIM: sim_optim_range(d, &c->sc, &c->p, &c->seg); break;
        case SIM_WFIX: sim_wfix(d, &c->p, c->idx, c->val, c->n); break;
        case SIM_SCAN: sim_scan(d, c->src, c->n, c->dst); break;
        case SIM_VETO: sim_veto(d, c->src, c->n, c->dst); break;
        case SIM_CLIP:
            sim_clip_norm(d, c->src, c->n, c->blocks, c->nb, c->idx, c->n_fix, c->v, c->dsc, c->norm);
            break;
        }
    }
    return SY_OK;
}

static sy_device sim_device;
static pthread_once_t sim_once = PTHREAD_ONCE_INIT;

static void sim_init(void)
{
    sy_device *d = &sim_device;
    d->name = "sim";
    snprintf(d->info, sizeof d->info, "sim (test device: separate host memory, CPU kernels)");
    d->alloc = sim_alloc;
    d->free = sim_free;
    d->host_alloc = sim_alloc;
    d->host_free = sim_free;
    d->upload = sim_upload;
    d->download = sim_upload;
    d->zero = sim_zero;
    d->sync = sim_sync;
    sim_impl = *sy_backend_cpu();
    sim_impl.forward[SY_OP_MATMUL] = sim_impl.forward[SY_OP_CONV2D] = sim_lowp_fwd;
    sim_impl.backward[SY_OP_MATMUL] = sim_impl.backward[SY_OP_CONV2D] = sim_lowp_bwd;
    sim_impl.forward[SY_OP_DROPOUT] = sim_dropout_fwd;
    sim_table = sim_impl;
    for (int op = 0; op < SY_OP_COUNT; op++) {
        sim_table.forward[op] = sim_fwd;
        sim_table.backward[op] = sim_bwd;
    }
    d->kernels = &sim_table;
    d->node_scratch = sim_scratch;
    d->shared_workspace = sim_ws;
    d->optim_range = sim_optim_range;
    d->grad_sq_blocks = sim_grad_sq;
    d->wfix = sim_wfix;
    d->clip_norm = sim_clip_norm;
    d->set_float = sim_set_float;
    d->veto = sim_veto;
    d->scan_nonfinite = sim_scan;
    d->copy = sim_upload;
    d->stage_upload = sim_stage_upload;
    d->stage_wait = sim_stage_wait;
    d->event_new = sim_event_new;
    d->event_free = sim_event_free;
    d->capture_begin = sim_capture_begin;
    d->capture_end = sim_capture_end;
    d->launch = sim_launch;
    d->exec_free = sim_exec_free;
}

/* ---- cuda: the backend module, loaded on first use -------------------------- */

#ifdef SYRE_HAVE_CUDA
static const sy_cuda_module *cuda_module;
static char cuda_module_error[1024];
static pthread_once_t cuda_module_once = PTHREAD_ONCE_INIT;

static const sy_core_api core_api = {
    .abi = SY_CUDA_MODULE_ABI,
    .size_device = sizeof(sy_device),
    .size_exec = sizeof(sy_exec),
    .size_node = sizeof(sy_node),
    .size_step_scalars = sizeof(sy_step_scalars),
    .fail = sy_fail,
    .rng_key = sy_rng_key,
    .shape_numel = sy_shape_numel,
    .get_precision = sy_get_precision,
    .runtime = sy_runtime,
    .dist_rank = sy_dist_rank,
    .dist_size = sy_dist_size,
    .dist_local_rank = sy_dist_local_rank,
    .dist_bcast = sy_dist_bcast,
    .dist_at_finalize = sy_dist_at_finalize,
    .dist_note_device = sy_dist_note_device,
};

/* dir (without the trailing file name) of `path` into out. */
static void dir_of(const char *path, char *out, size_t cap)
{
    snprintf(out, cap, "%s", path);
    char *slash = strrchr(out, '/');
    if (slash) *slash = '\0';
    else out[0] = '\0';
}

/* Try one file: 1 = loaded (or failed loudly: the error says why), 0 = absent. */
static int try_module(const char *path, int must_exist)
{
    if (!must_exist && access(path, R_OK) != 0) return 0;
    void *h = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        snprintf(cuda_module_error, sizeof cuda_module_error,
                 "device 'cuda': cannot load the CUDA backend module: %s (the CUDA runtime and the libraries "
                 "the module was built with, cuBLAS and cuDNN or NCCL when found, must be where the dynamic "
                 "loader finds them)",
                 dlerror());
        return 1;
    }
    sy_cuda_module_open_fn open_fn;
    *(void **)&open_fn = dlsym(h, SY_CUDA_MODULE_ENTRY);
    if (!open_fn) {
        snprintf(cuda_module_error, sizeof cuda_module_error,
                 "device 'cuda': %s is not a syre CUDA backend module (no %s)", path, SY_CUDA_MODULE_ENTRY);
        dlclose(h);
        return 1;
    }
    sy_clear_error();
    cuda_module = open_fn(&core_api);
    if (!cuda_module) {
        snprintf(cuda_module_error, sizeof cuda_module_error, "device 'cuda': %s: %s", path,
                 *sy_last_error() ? sy_last_error() : "built for another syre interface version; rebuild it");
        dlclose(h);
    }
    return 1;
}

/* Where the module may be, in order: the cuda_module setting (a file), beside the
 * running program, beside libsyre.so when the core is that library, the
 * build directory it was built in, then the dynamic loader's own search. */
static void load_cuda_module(void)
{
    const char *file = sy_runtime()->cuda_module;
    if (file && *file) {
        try_module(file, 1);
        return;
    }
    char dirs[3][4096] = {{0}};
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        dir_of(exe, dirs[0], sizeof dirs[0]);
    }
    Dl_info info;
    if (dladdr((void *)&core_api, &info) && info.dli_fname) dir_of(info.dli_fname, dirs[1], sizeof dirs[1]);
    snprintf(dirs[2], sizeof dirs[2], "%s", SYRE_CUDA_MODULE_DIR);
    char looked[2048] = "";
    for (int i = 0; i < 3; i++) {
        if (!dirs[i][0]) continue;
        char path[4200];
        snprintf(path, sizeof path, "%s/%s", dirs[i], SY_CUDA_MODULE_FILE);
        if (try_module(path, 0)) return;
        size_t used = strlen(looked);
        snprintf(looked + used, sizeof looked - used, "%s%s", used ? ", " : "", dirs[i]);
    }
    if (try_module(SY_CUDA_MODULE_FILE, 1) && cuda_module) return;
    snprintf(cuda_module_error, sizeof cuda_module_error,
             "device 'cuda': the CUDA backend module %s was not found (looked in %s and the dynamic loader's "
             "path); build it with the library (cmake --build), or give its path (SYRE_CUDA_MODULE)",
             SY_CUDA_MODULE_FILE, looked);
}

const sy_cuda_module *sy_cuda_module_get(void)
{
    pthread_once(&cuda_module_once, load_cuda_module);
    if (!cuda_module) sy_fail(SY_ERR_UNSUPPORTED, "%s", cuda_module_error);
    return cuda_module;
}

const sy_cuda_module *sy_cuda_module_loaded(void) { return cuda_module; }

sy_device *sy_device_cuda(void)
{
    const sy_cuda_module *m = sy_cuda_module_get();
    return m ? m->device() : NULL;
}
#else
const sy_cuda_module *sy_cuda_module_get(void)
{
    sy_fail(SY_ERR_UNSUPPORTED, "device 'cuda': this syre was built without CUDA (no nvcc or cuBLAS when CMake "
            "configured it, or -DSYRE_CUDA=OFF; install the CUDA toolkit and reconfigure)");
    return NULL;
}

const sy_cuda_module *sy_cuda_module_loaded(void) { return NULL; }

sy_device *sy_device_cuda(void)
{
    sy_cuda_module_get();
    return NULL;
}
#endif

/* ---- The parameter store's view of a device's memory ----------------------------- */

static void *mem_alloc(void *o, size_t bytes) { return ((sy_device *)o)->alloc(o, bytes); }
static void mem_free(void *o, void *p) { ((sy_device *)o)->free(o, p); }
static void mem_upload(void *o, void *dst, const void *src, size_t n) { ((sy_device *)o)->upload(o, dst, src, n); }
static void mem_download(void *o, void *dst, const void *src, size_t n) { ((sy_device *)o)->download(o, dst, src, n); }
static void mem_zero(void *o, void *dst, size_t n) { ((sy_device *)o)->zero(o, dst, n); }
static sy_status mem_sync(void *o) { return ((sy_device *)o)->sync(o); }
static const char *mem_error(void *o) { return ((sy_device *)o)->error; }

const sy_devmem *sy_device_mem(sy_device *d)
{
    if (!d->mem.owner)
        d->mem = (sy_devmem){d, d->name, mem_alloc, mem_free, mem_upload, mem_download, mem_zero, mem_sync, mem_error};
    return &d->mem;
}

sy_device *sy_params_device(const sy_params *ps)
{
    const sy_devmem *m = sy_params_devmem(ps);
    return m ? m->owner : NULL;
}

sy_device *sy_device_get(const char *name)
{
    if (!name) {
        sy_fail(SY_ERR_ARG, "device: NULL name");
        return NULL;
    }
    if (strcmp(name, "cuda") == 0) return sy_device_cuda();
    if (strcmp(name, "sim") == 0) {
        pthread_once(&sim_once, sim_init);
        return &sim_device;
    }
    sy_fail(SY_ERR_ARG, "unknown device '%s' (expected cpu, cuda or sim)", name);
    return NULL;
}

/* ---- Data parallelism on a device ---------------------------------------------- */

int sy_device_allreduce_wanted(void) { return sy_dist_size() > 1 || rt.nccl; }

/* The staging buffer of the host path (grown as needed, kept for the process). */
static struct {
    sy_device *d;
    float *buf;
    size_t cap;
} stage;

sy_status sy_device_allreduce_mean(sy_device *d, float *buf, size_t n)
{
    if (d->allreduce_mean) return d->allreduce_mean(d, buf, n);
    if (rt.nccl && sy_dist_size() == 1 && strcmp(d->name, "sim") != 0)
        return sy_fail(SY_ERR_UNSUPPORTED, "nccl (SYRE_NCCL=1): device '%s' has no NCCL all-reduce in this build (CUDA "
                       "without NCCL: install NCCL and reconfigure)", d->name);
    if (n == 0) return SY_OK;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (stage.cap < n || stage.d != d) {
        if (stage.buf) stage.d->host_free(stage.d, stage.buf);
        stage.buf = d->host_alloc(d, n * sizeof(float));
        stage.cap = stage.buf ? n : 0;
        stage.d = d;
        if (!stage.buf)
            return sy_fail(SY_ERR_NOMEM, "device all-reduce: cannot allocate %zu host floats to stage the gradient",
                           n);
    }
    d->download(d, stage.buf, buf, n * sizeof(float));
    sy_status st = d->sync(d);
    if (st == SY_OK) st = sy_dist_allreduce_mean(stage.buf, n);
    if (st != SY_OK) return st;
    d->upload(d, buf, stage.buf, n * sizeof(float)); /* stream order: done before the next download */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    sy_dist_note_device(n, (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec), 0);
    return SY_OK;
}

/* NCCL lives in the CUDA backend module (src/backend/cuda/nccl.c): the
 * entries syre/dist.h declares for it are here, above dist, so that dist
 * itself never reaches into a backend. */
int sy_dist_nccl_compiled(void)
{
#ifdef SYRE_HAVE_NCCL
    return 1;
#else
    return 0;
#endif
}

const char *sy_dist_nccl_info(void)
{
    const sy_cuda_module *m = sy_cuda_module_loaded();
    return m && m->nccl_info ? m->nccl_info() : NULL;
}

sy_status sy_dist_allreduce_mean_device(void *device_buf, size_t n, void *stream)
{
    if (!sy_dist_nccl_compiled())
        return sy_fail(SY_ERR_UNSUPPORTED,
                       "device all-reduce: this syre was built without NCCL (CMake found no CUDA toolkit with "
                       "nccl.h and libnccl; see docs/distributed.md)");
    const sy_cuda_module *m = sy_cuda_module_get();
    if (!m) return SY_ERR_UNSUPPORTED;
    if (!m->allreduce_mean_device)
        return sy_fail(SY_ERR_UNSUPPORTED, "device all-reduce: the loaded CUDA backend module has no NCCL");
    return m->allreduce_mean_device(device_buf, n, stream);
}

/* ---- Process settings (syre/runtime.h) ----------------------------------------- */


sy_runtime_opts sy_runtime_opts_default(void)
{
    return (sy_runtime_opts){.device = "cpu", .precision = SY_PRECISION_FP32, .prefetch = 1, .cudnn = 1, .own_gemm = 1};
}

const sy_runtime_opts *sy_runtime(void) { return &rt; }

static int precision_parse(const char *s)
{
    if (!strcmp(s, "fp32")) return SY_PRECISION_FP32;
    if (!strcmp(s, "tf32")) return SY_PRECISION_TF32;
    if (!strcmp(s, "bf16")) return SY_PRECISION_BF16;
    return -1;
}

static sy_status precision_check(sy_precision p)
{
    if (p != SY_PRECISION_FP32 && p != SY_PRECISION_TF32 && p != SY_PRECISION_BF16)
        return sy_fail(SY_ERR_ARG, "precision: no precision %d", (int)p);
    if (precision_fixed && p != rt.precision)
        return sy_fail(SY_ERR_STATE, "precision: %d device graph(s) compiled with %s exist; choose the precision "
                       "before building them (or free them first)", precision_fixed, sy_precision_name(rt.precision));
    return SY_OK;
}

static sy_status device_name_check(const char *name)
{
    if (!name || (strcmp(name, "cpu") && strcmp(name, "cuda") && strcmp(name, "sim")))
        return sy_fail(SY_ERR_ARG, "unknown device '%s' (expected cpu, cuda or sim)", name ? name : "(null)");
    return SY_OK;
}

/* A copy of `s` into buf (empty for NULL): SY_ERR_ARG when it does not fit. */
static sy_status copy_setting(const char *what, const char *s, char *buf, size_t cap)
{
    if (s && strlen(s) >= cap) return sy_fail(SY_ERR_ARG, "%s: longer than %zu characters", what, cap - 1);
    snprintf(buf, cap, "%s", s ? s : "");
    return SY_OK;
}

sy_status sy_runtime_configure(const sy_runtime_opts *o)
{
    if (!o) return sy_fail(SY_ERR_ARG, "sy_runtime_configure: NULL options");
    sy_status st = device_name_check(o->device);
    if (!st) st = precision_check(o->precision);
    if (!st && o->cpu_isa && *o->cpu_isa && sy_cpu_isa_parse(o->cpu_isa) < 0)
        st = sy_fail(SY_ERR_ARG, "CPU kernel variant '%s' is not one of base, avx2, avx512", o->cpu_isa);
    /* Copied aside first: o may be a copy of rt, pointing into these buffers. */
    char device[sizeof rt_device], module[sizeof rt_cuda_module], data[sizeof rt_data_dir], wait[sizeof rt_omp_wait], isa[sizeof rt_cpu_isa];
    if (!st) st = copy_setting("device", o->device, device, sizeof device);
    if (!st) st = copy_setting("cuda module", o->cuda_module, module, sizeof module);
    if (!st) st = copy_setting("data directory", o->data_dir, data, sizeof data);
    if (!st) st = copy_setting("OpenMP wait", o->omp_wait, wait, sizeof wait);
    if (!st) st = copy_setting("CPU kernel variant", o->cpu_isa, isa, sizeof isa);
    if (st) return st;
    rt = *o;
    memcpy(rt_device, device, sizeof device);
    memcpy(rt_cuda_module, module, sizeof module);
    memcpy(rt_data_dir, data, sizeof data);
    memcpy(rt_omp_wait, wait, sizeof wait);
    memcpy(rt_cpu_isa, isa, sizeof isa);
    rt.device = rt_device;
    rt.cuda_module = rt_cuda_module[0] ? rt_cuda_module : NULL;
    rt.data_dir = rt_data_dir[0] ? rt_data_dir : NULL;
    rt.omp_wait = rt_omp_wait[0] ? rt_omp_wait : NULL;
    rt.cpu_isa = rt_cpu_isa[0] ? rt_cpu_isa : NULL;
    rt.cuda_graphs = !!o->cuda_graphs;
    rt.prefetch = !!o->prefetch;
    rt.cuda_sync = !!o->cuda_sync;
    rt.cudnn = !!o->cudnn;
    rt.nccl = !!o->nccl;
    rt.own_gemm = !!o->own_gemm;
    sy_cpu_isa_force(-1); /* the kernels' variant under the new cap */
    return SY_OK;
}

sy_precision sy_get_precision(void) { return rt.precision; }

const char *sy_precision_name(sy_precision p)
{
    return p == SY_PRECISION_TF32 ? "tf32" : p == SY_PRECISION_BF16 ? "bf16" : "fp32";
}

sy_status sy_set_precision(const char *name)
{
    int p = name ? precision_parse(name) : -1;
    if (p < 0) return sy_fail(SY_ERR_ARG, "precision must be fp32, tf32 or bf16, got '%s'", name ? name : "(null)");
    sy_status st = precision_check((sy_precision)p);
    if (st) return st;
    rt.precision = (sy_precision)p;
    return SY_OK;
}

void sy_precision_hold(int delta) { precision_fixed += delta; }

void sy_set_cuda_graphs(int on) { rt.cuda_graphs = !!on; }
int sy_get_cuda_graphs(void) { return rt.cuda_graphs; }
void sy_set_prefetch(int on) { rt.prefetch = !!on; }
int sy_get_prefetch(void) { return rt.prefetch; }

/* ---- The process default ---------------------------------------------------- */

const char *sy_default_device(void) { return rt.device; }

sy_status sy_device_check(const char *name)
{
    if (!name) return sy_fail(SY_ERR_ARG, "device: NULL name");
    if (strcmp(name, "cpu") == 0) return SY_OK;
    sy_device *d = sy_device_get(name);
    if (!d) {
        char msg[512];
        snprintf(msg, sizeof msg, "%s", sy_last_error());
        return sy_fail(strcmp(name, "cuda") == 0 ? SY_ERR_UNSUPPORTED : SY_ERR_ARG, "%s", msg);
    }
    return SY_OK;
}

sy_status sy_set_default_device(const char *name)
{
    sy_status st = sy_device_check(name);
    if (st) return st;
    snprintf(rt_device, sizeof rt_device, "%s", name);
    rt.device = rt_device;
    return SY_OK;
}

const char *sy_device_info(const char *name)
{
    if (!name || strcmp(name, "cpu") == 0) return sy_blas_info();
    sy_device *d = sy_device_get(name);
    return d ? d->info : "unavailable";
}
