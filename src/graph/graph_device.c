/* A graph on a device (sy_graph_set_backend(g, "cuda")): the arena lives in
 * device memory and the node pointers the kernels see are device pointers;
 * a host mirror of the arena (pinned memory for CUDA) holds what the host
 * reads and writes. graph.c calls these hooks and is otherwise unchanged.
 *
 *  - inputs: their host copy (one pinned block for all inputs) is their
 *    home. sy_graph_feed and writes through sy_graph_data land there; every
 *    forward uploads every input first.
 *  - values and gradients of op nodes: copied back when sy_graph_data or
 *    sy_graph_grad asks, and from then on after every forward (backward), so
 *    a pointer taken once stays current, as on the CPU.
 *  - losses: copied back after every forward, which then checks them.
 *  - parameters: the store's own device copy (params.c keeps it coherent). */
#include "graph/graph_device.h"
#include "ops/ops_common.h"
#include "syre/runtime.h"
#include "syre/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sy_graph_dev {
    sy_device *d;
    float *host;               /* mirror of the arena (pageable: pages never read cost nothing) */
    float *pinned;             /* host copies of the inputs, one pinned block */
    float **in_host;           /* per node: its input's host copy, or NULL */
    float *ws;                 /* shared kernel workspace (device) */
    size_t ws_floats;
    unsigned char *want;       /* per node: bit 0 value, bit 1 gradient */
    /* Passes run (forward, backward) and, per node, the pass whose value
     * (gradient) the host copy holds: a read right after the pass that
     * already copied it back needs no copy and no wait. */
    unsigned fwd_pass, bwd_pass;
    unsigned *val_pass, *grad_pass;
    int holds_precision; /* sy_precision_hold(+1) done at allocation */
    float *loss_slot;    /* per node: the loss copied back by a recorded step (pinned) */
    struct sy_rec *rec;  /* the recorded training step, once one ran */
    struct sy_stage *stage; /* double-buffered inputs (prefetch.c), or NULL */
    uint64_t *dstep, *hstep; /* graphs with dropout: the step on the device, its pinned source */
};

/* Double-buffered inputs: two pinned host blocks and two device blocks
 * holding the staged inputs one after another. */
typedef struct sy_stage {
    int n;
    int *node;            /* [n] node index of staged input k */
    size_t *off;          /* [n] its offset in a block (floats) */
    size_t floats;        /* one block */
    float *pin[2], *dev[2];
    void *ev[2];          /* the device's marker of the last upload into each block */
    int cur;              /* the block holding the current batch, -1: none yet */
    unsigned char *dirty; /* [n] written by the host since stage_use: upload its host copy */
    int *of_node;         /* [n_nodes] k, or -1 */
} sy_stage;

/* A recorded training step: the device work of forward + backward + the
 * work the caller appends (the optimizer's update, train/step.c), captured
 * once and replayed (a CUDA Graph on cuda, a tape of the recorded calls on
 * sim). The recording holds the appended work's device pointers as they
 * were at capture, so it is keyed on the caller's key (the optimizer's id),
 * never on an address: a new optimizer may be allocated where a freed one
 * was. */
typedef struct sy_rec {
    void *exec;             /* the device's executable graph */
    uint64_t key;
    sy_var loss;
    int training;
    int nan_policy;         /* the veto depends on it */
    int variant;            /* the appended work's launch arguments (the optimizer kind) at capture */
    int warm;               /* one eager step ran (cuDNN plans, optimizer state) */
    int recaptures, off;
    int staged;             /* the recording leaves the staged inputs out */
    sy_train_step_stats st;
} sy_rec;

static sy_graph_dev *gd(const sy_graph *g) { return g->gdev; }

sy_status sy_gdev_select(sy_graph *g, sy_device *d)
{
    if (g->compiled) return sy_fail(SY_ERR_STATE, "set_backend: the graph is compiled already; choose its device first");
    if (!g->gdev && !(g->gdev = calloc(1, sizeof *g->gdev)))
        return sy_fail(SY_ERR_NOMEM, "cannot allocate a device graph");
    g->gdev->d = d;
    g->be = d->kernels;
    return SY_OK;
}

sy_device *sy_gdev_device(const sy_graph *g) { return g->gdev ? g->gdev->d : NULL; }

/* The step counter to the device (on the stream, from pinned memory: a
 * recorded step copies whatever the host wrote there before the launch). */
static void step_upload(sy_graph *g)
{
    sy_graph_dev *v = gd(g);
    if (v->dstep) v->d->upload(v->d, v->dstep, v->hstep, sizeof *v->hstep);
}

void sy_gdev_free(sy_graph *g)
{
    sy_graph_dev *v = gd(g);
    if (!v) return;
    sy_device *d = v->d;
    d->sync(d);
    if (d->forget_graph) d->forget_graph(d, g->id);
    if (v->holds_precision) sy_precision_hold(-1);
    if (v->rec && v->rec->exec) d->exec_free(d, v->rec->exec);
    free(v->rec);
    if (v->stage) {
        sy_stage *t = v->stage;
        for (int b = 0; b < 2; b++) {
            if (t->pin[b]) d->host_free(d, t->pin[b]);
            if (t->dev[b]) d->free(d, t->dev[b]);
            if (t->ev[b]) d->event_free(d, t->ev[b]);
        }
        free(t->node);
        free(t->off);
        free(t->dirty);
        free(t->of_node);
        free(t);
    }
    if (v->loss_slot) d->host_free(d, v->loss_slot);
    if (v->dstep) d->free(d, v->dstep);
    if (v->hstep) d->host_free(d, v->hstep);
    if (g->arena) d->free(d, g->arena);
    if (v->ws) d->free(d, v->ws);
    free(v->host);
    if (v->pinned) d->host_free(d, v->pinned);
    free(v->in_host);
    free(v->want);
    free(v->val_pass);
    free(v->grad_pass);
    g->ex.workspace = NULL;
    g->ex.dev_step = NULL;
    free(v);
    g->gdev = NULL;
    g->arena = NULL;
}

size_t sy_gdev_scratch(sy_graph *g, const sy_node *n) { return gd(g)->d->node_scratch(&g->ex, n); }

sy_status sy_gdev_alloc(sy_graph *g, size_t floats)
{
    sy_graph_dev *v = gd(g);
    sy_device *d = v->d;
    sy_status st = sy_params_attach(g->ps, sy_device_mem(d));
    if (st) return st;
    sy_precision_hold(+1); /* before the workspace sizes, which depend on it */
    v->holds_precision = 1;
    size_t ws = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        size_t w = d->shared_workspace(&g->ex, &g->nodes[i]);
        if (w > ws) ws = w;
    }
    size_t bytes = (floats ? floats : 1) * sizeof(float);
    g->arena = d->alloc(d, bytes);
    SY_LAST_ERROR_COPY(why);
    if (!g->arena)
        return sy_fail(SY_ERR_NOMEM, "graph needs %.1f MiB on device '%s' for activations, gradients and "
                       "scratch: %s (reduce the batch size or the width)", bytes / 1048576.0, d->name, why);
    v->host = calloc(floats ? floats : 1, sizeof(float));
    v->want = calloc(g->n_nodes ? g->n_nodes : 1, 1);
    v->val_pass = calloc(g->n_nodes ? g->n_nodes : 1, sizeof *v->val_pass);
    v->grad_pass = calloc(g->n_nodes ? g->n_nodes : 1, sizeof *v->grad_pass);
    v->fwd_pass = v->bwd_pass = 1; /* nothing is fresh yet */
    v->in_host = calloc(g->n_nodes ? g->n_nodes : 1, sizeof *v->in_host);
    size_t in_floats = 0;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == SY_OP_INPUT) in_floats += g->nodes[i].numel;
    v->pinned = d->host_alloc(d, (in_floats ? in_floats : 1) * sizeof(float));
    if (!v->host || !v->want || !v->in_host || !v->pinned || !v->val_pass || !v->grad_pass)
        return sy_fail(SY_ERR_NOMEM, "cannot allocate the host copies of a device graph");
    float *q = v->pinned;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == SY_OP_INPUT) {
            v->in_host[i] = q;
            q += g->nodes[i].numel;
        }
    int dropout = 0;
    for (int i = 0; i < g->n_nodes; i++) dropout |= g->nodes[i].op == SY_OP_DROPOUT;
    if (dropout && (!(v->dstep = d->alloc(d, sizeof *v->dstep)) || !(v->hstep = d->host_alloc(d, sizeof *v->hstep))))
        return sy_fail(SY_ERR_NOMEM, "cannot allocate the step counter of a device graph");
    g->ex.dev_step = v->dstep; /* the kernels read it (dropout), also when a recorded step is replayed */
    if (ws) {
        v->ws = d->alloc(d, ws * sizeof(float));
        SY_LAST_ERROR_COPY(why2);
        if (!v->ws)
            return sy_fail(SY_ERR_NOMEM, "graph needs a %.1f MiB kernel workspace on device '%s': %s",
                           ws * 4.0 / 1048576.0, d->name, why2);
        v->ws_floats = ws;
        g->ex.workspace = v->ws;
    }
    return SY_OK;
}

float *sy_gdev_param_val(sy_graph *g, int idx)
{
    return sy_params_dev_data(g->ps, 0) + sy_params_offset(g->ps, idx);
}

float *sy_gdev_param_grad(sy_graph *g, int idx)
{
    return sy_params_dev_grad(g->ps, 0) + sy_params_offset(g->ps, idx);
}

/* Host address of a device address inside the arena or the store. A
 * parameter's is the store's read view: a look at a value uploads nothing
 * again (the store changes through sy_params_write); NULL if the copy back
 * failed, with the message set. */
static float *host_of(sy_graph *g, const float *dp, int grad)
{
    if (!dp) return NULL;
    if (dp >= g->arena && dp < g->arena + g->arena_floats) return gd(g)->host + (dp - g->arena);
    const float *base = grad ? sy_params_dev_grad(g->ps, 0) : sy_params_dev_data(g->ps, 0), *h;
    if (grad ? sy_params_read_grad(g->ps, &h) : sy_params_read(g->ps, &h)) return NULL;
    return (float *)h + (dp - base); /* sy_graph_data's pointer is not const */
}

static void stage_touch(sy_graph *g, int i)
{
    sy_stage *t = gd(g)->stage;
    if (t && t->of_node[i] >= 0) t->dirty[t->of_node[i]] = 1;
}

float *sy_gdev_host_val(sy_graph *g, sy_node *n)
{
    if (n->op == SY_OP_INPUT) stage_touch(g, (int)(n - g->nodes));
    return n->op == SY_OP_INPUT ? gd(g)->in_host[n - g->nodes] : host_of(g, n->val, 0);
}

static int in_arena(const sy_graph *g, const float *p) { return p >= g->arena && p < g->arena + g->arena_floats; }

static int is_staged(const sy_graph *g, int i) { return gd(g)->stage && gd(g)->stage->of_node[i] >= 0; }

/* ---- Staged (double-buffered) inputs ---------------------------------------------- */

sy_status sy_gdev_stage_init(sy_graph *g, const sy_var *vars, int n)
{
    sy_graph_dev *v = gd(g);
    sy_device *d = v->d;
    if (v->stage) { /* a later prefetcher over the same inputs (one per epoch loop) reuses the blocks */
        int same = v->stage->n == n;
        for (int k = 0; same && k < n; k++) same = v->stage->node[k] == vars[k];
        if (same) return SY_OK;
        return sy_fail(SY_ERR_STATE, "prefetch: the graph's inputs are staged with another list of inputs already");
    }
    if (!d->stage_upload || !d->copy || !d->event_new) return sy_fail(SY_ERR_UNSUPPORTED, "prefetch: device '%s' cannot stage inputs", d->name);
    sy_stage *t = calloc(1, sizeof *t);
    if (!t || !(t->node = calloc(n, sizeof *t->node)) || !(t->off = calloc(n, sizeof *t->off)) ||
        !(t->dirty = calloc(n, 1)) || !(t->of_node = malloc(g->n_nodes * sizeof *t->of_node))) {
        if (t) free(t->node), free(t->off), free(t->dirty), free(t->of_node);
        free(t);
        return sy_fail(SY_ERR_NOMEM, "prefetch: out of memory");
    }
    for (int i = 0; i < g->n_nodes; i++) t->of_node[i] = -1;
    t->n = n;
    t->cur = -1;
    v->stage = t;
    for (int k = 0; k < n; k++) {
        if (vars[k] < 0 || vars[k] >= g->n_nodes || g->nodes[vars[k]].op != SY_OP_INPUT)
            return sy_fail(SY_ERR_ARG, "prefetch: node %d is not an input of the graph", (int)vars[k]);
        if (t->of_node[vars[k]] >= 0)
            return sy_fail(SY_ERR_ARG, "prefetch: input '%s' is listed twice", g->nodes[vars[k]].name);
        t->node[k] = vars[k];
        t->off[k] = t->floats;
        t->of_node[vars[k]] = k;
        t->floats += g->nodes[vars[k]].numel;
    }
    size_t bytes = (t->floats ? t->floats : 1) * sizeof(float);
    for (int b = 0; b < 2; b++)
        if (!(t->pin[b] = d->host_alloc(d, bytes)) || !(t->dev[b] = d->alloc(d, bytes)) ||
            !(t->ev[b] = d->event_new(d))) {
            SY_LAST_ERROR_COPY(why);
            return sy_fail(SY_ERR_NOMEM, "prefetch: cannot allocate the staging blocks (2 x %.1f MiB) on '%s': %s",
                           bytes / 1048576.0, d->name, why);
        }
    return SY_OK;
}

float *sy_gdev_stage_host(sy_graph *g, int slot, int k) { return gd(g)->stage->pin[slot] + gd(g)->stage->off[k]; }

void sy_gdev_stage_upload(sy_graph *g, int slot)
{
    sy_stage *t = gd(g)->stage;
    gd(g)->d->stage_upload(gd(g)->d, t->dev[slot], t->pin[slot], t->floats * sizeof(float), t->ev[slot]);
}

void sy_gdev_stage_use(sy_graph *g, int slot)
{
    sy_graph_dev *v = gd(g);
    sy_stage *t = v->stage;
    t->cur = slot;
    for (int k = 0; k < t->n; k++) {
        v->in_host[t->node[k]] = t->pin[slot] + t->off[k];
        t->dirty[k] = 0;
    }
}

/* The staged inputs into the graph, on the stream (before a forward, or
 * before a recorded step: outside the recording, so that the copy lands at
 * the inputs' fixed addresses whichever block holds the batch). */
static void stage_inputs(sy_graph *g)
{
    sy_graph_dev *v = gd(g);
    sy_stage *t = v->stage;
    sy_device *d = v->d;
    if (!t) return;
    int waited = 0;
    for (int k = 0; k < t->n; k++) {
        sy_node *n = &g->nodes[t->node[k]];
        if (t->cur < 0 || t->dirty[k]) {
            d->upload(d, n->val, v->in_host[t->node[k]], n->numel * sizeof(float));
            continue;
        }
        if (!waited) d->stage_wait(d, t->ev[t->cur]);
        waited = 1;
        d->copy(d, n->val, t->dev[t->cur] + t->off[k], n->numel * sizeof(float));
    }
}

sy_status sy_gdev_before_forward(sy_graph *g)
{
    sy_graph_dev *v = gd(g);
    v->fwd_pass++;
    sy_params_dev_data(g->ps, 1); /* current on the device; forward may write (running statistics) */
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->op == SY_OP_INPUT && !is_staged(g, i))
            v->d->upload(v->d, n->val, v->in_host[i], n->numel * sizeof(float));
    }
    stage_inputs(g);
    if (v->hstep) *v->hstep = g->ex.step; /* the previous forward's copy finished: it waited */
    step_upload(g);
    return SY_OK;
}

void sy_gdev_drain(sy_graph *g)
{
    sy_device *d = gd(g)->d;
    if (d->sync(d)) sy_clear_error(); /* the graph's own message is the one to report */
}

static void download(sy_graph *g, const float *dp, size_t numel)
{
    if (!dp || !in_arena(g, dp)) return;
    gd(g)->d->download(gd(g)->d, host_of(g, dp, 0), dp, numel * sizeof(float));
}

/* Whether the forward copies node i's value back to the host. */
static int fetched_after_forward(const sy_graph *g, int i)
{
    const sy_node *n = &g->nodes[i];
    return n->op != SY_OP_INPUT && ((gd(g)->want[i] & 1) || n->is_loss);
}

sy_status sy_gdev_after_forward(sy_graph *g)
{
    sy_graph_dev *v = gd(g);
    for (int i = 0; i < g->n_nodes; i++)
        if (fetched_after_forward(g, i)) download(g, g->nodes[i].val, g->nodes[i].numel);
    sy_status st = v->d->sync(v->d);
    if (!st) /* every copied node is fresh once the copies are done */
        for (int i = 0; i < g->n_nodes; i++)
            if (fetched_after_forward(g, i)) v->val_pass[i] = v->fwd_pass;
    if (st) {
        int k = v->d->error_node;
        if (k >= 0 && k < g->n_nodes) return sy_fail(st, "forward: op '%s': %s", g->nodes[k].name, v->d->error);
        return sy_fail(st, "forward on %s: %s", v->d->name, v->d->error);
    }
    return sy_gdev_check_losses(g);
}

/* As on the CPU (graph.c): a non-finite loss stops the run under --on-nan
 * stop; under skip-batch the optimizer step's guard skips the batch. */
sy_status sy_gdev_check_losses(sy_graph *g)
{
    if (sy_graph_nan_policy(g) != SY_NAN_STOP) return SY_OK;
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (!n->is_loss) continue;
        float x = host_of(g, n->val, 0)[0];
        if (!isfinite(x))
            return sy_fail(SY_ERR_NUMERIC, "forward: loss '%s' is %s at graph step %llu; training stopped%s. "
                           "Lower --lr, or pass --on-nan skip-batch to skip such batches", n->name,
                           isnan(x) ? "NaN" : "Inf", (unsigned long long)g->ex.step, sy_last_checkpoint_note());
    }
    return SY_OK;
}

void sy_gdev_begin_backward(sy_graph *g, sy_node *loss)
{
    sy_device *d = gd(g)->d;
    gd(g)->bwd_pass++;
    sy_params_dev_data(g->ps, 0);
    d->zero(d, g->grad_region, g->grad_floats * sizeof(float));
    sy_params_zero_grad(g->ps);
    d->set_float(d, loss->grad, 1.0f);
}

sy_status sy_gdev_after_backward(sy_graph *g)
{
    sy_graph_dev *v = gd(g);
    int any = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if ((v->want[i] & 2) && n->grad && in_arena(g, n->grad)) {
            download(g, n->grad, n->numel);
            any = 1;
        }
    }
    if (!any) return SY_OK;
    sy_status st = v->d->sync(v->d);
    if (st) return sy_fail(st, "backward on %s: %s", v->d->name, v->d->error);
    for (int i = 0; i < g->n_nodes; i++)
        if ((v->want[i] & 2) && g->nodes[i].grad && in_arena(g, g->nodes[i].grad)) v->grad_pass[i] = v->bwd_pass;
    return SY_OK;
}

float *sy_gdev_data(sy_graph *g, sy_var v, int grad)
{
    sy_graph_dev *w = gd(g);
    sy_node *n = &g->nodes[v];
    const float *dp = grad ? n->grad : n->val;
    if (!dp) return NULL;
    if (!in_arena(g, dp)) return host_of(g, dp, grad); /* a parameter (or a view of one) */
    if (n->op == SY_OP_INPUT && !grad) { /* inputs live on the host */
        stage_touch(g, v);
        return w->in_host[v];
    }
    w->want[v] |= grad ? 2 : 1;
    unsigned *have = grad ? &w->grad_pass[v] : &w->val_pass[v], pass = grad ? w->bwd_pass : w->fwd_pass;
    if (*have == pass) return host_of(g, dp, 0); /* copied back after this pass already */
    download(g, dp, n->numel);
    if (w->d->sync(w->d)) return NULL;
    *have = pass;
    return host_of(g, dp, 0);
}

/* ---- The recorded training step -------------------------------------------------- */

static void rec_off(sy_rec *r, const char *why)
{
    r->off = 1;
    snprintf(r->st.note, sizeof r->st.note, "%s", why);
    fprintf(stderr, "syre: CUDA Graphs off for this graph: %s; the step runs eagerly\n", why);
}

/* What stops the recorded update: a kernel error (a label out of range),
 * and under --on-nan stop a non-finite loss: the CPU stops before its
 * update on both, and the host sees them only after the recorded work. */
static void rec_veto(void *ctx, size_t *slot)
{
    sy_graph *g = ctx;
    sy_device *d = gd(g)->d;
    int any = 0;
    if (sy_graph_nan_policy(g) == SY_NAN_STOP)
        for (int i = 0; i < g->n_nodes; i++)
            if (g->nodes[i].is_loss) {
                d->veto(d, g->nodes[i].val, 1, slot);
                any = 1;
            }
    if (!any) d->veto(d, NULL, 0, slot);
}

/* The device work of one step: no host waits, no pageable copies. */
static void rec_body(sy_graph *g, sy_node *l, sy_gdev_tail tail, void *ctx)
{
    sy_graph_dev *v = gd(g);
    sy_device *d = v->d;
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->op == SY_OP_INPUT && !is_staged(g, i)) d->upload(d, n->val, v->in_host[i], n->numel * sizeof(float));
    }
    step_upload(g); /* dropout reads this step's counter, written to pinned memory before the launch */
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->op == SY_OP_INPUT || n->op == SY_OP_PARAM || n->op == SY_OP_RESHAPE) continue;
        g->be->forward[n->op](&g->ex, n);
    }
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].is_loss) d->download(d, &v->loss_slot[i], g->nodes[i].val, sizeof(float));
    for (int i = 0; i < g->n_nodes; i++) g->nodes[i].overwrite = 0;
    d->zero(d, g->grad_region, g->grad_floats * sizeof(float));
    sy_params_zero_grad(g->ps);
    d->set_float(d, l->grad, 1.0f);
    for (int i = (int)(l - g->nodes); i >= 0; i--) {
        sy_node *n = &g->nodes[i];
        if (!n->needs_grad || n->n_in == 0 || n->op == SY_OP_RESHAPE) continue;
        g->be->backward[n->op](&g->ex, n);
    }
    tail(ctx, rec_veto, g);
}

/* After the device work: errors, the losses and what the host asked for
 * copied back, the loss check, the graph's step. */
static sy_status rec_end(sy_graph *g)
{
    sy_graph_dev *v = gd(g);
    sy_device *d = v->d;
    sy_status st = d->sync(d);
    if (!st && g->fault.status) { /* sim: a CPU kernel's error */
        st = g->fault.status;
        g->fault.status = SY_OK;
        return sy_fail(st, "training step: %s", g->fault.msg);
    }
    if (st) {
        int k = d->error_node;
        if (k >= 0 && k < g->n_nodes) return sy_fail(st, "training step: op '%s': %s", g->nodes[k].name, d->error);
        return sy_fail(st, "training step on %s: %s", d->name, d->error);
    }
    int any = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->is_loss) {
            host_of(g, n->val, 0)[0] = v->loss_slot[i];
            v->val_pass[i] = v->fwd_pass;
        }
        if (n->op != SY_OP_INPUT && !n->is_loss && (v->want[i] & 1)) {
            download(g, n->val, n->numel);
            any = 1;
        }
        if ((v->want[i] & 2) && n->grad && in_arena(g, n->grad)) {
            download(g, n->grad, n->numel);
            any = 1;
        }
    }
    if (any) {
        if ((st = d->sync(d))) return sy_fail(st, "training step on %s: %s", d->name, d->error);
        for (int i = 0; i < g->n_nodes; i++) {
            if (g->nodes[i].op != SY_OP_INPUT && (v->want[i] & 1)) v->val_pass[i] = v->fwd_pass;
            if (v->want[i] & 2) v->grad_pass[i] = v->bwd_pass;
        }
    }
    if ((st = sy_gdev_check_losses(g))) return st;
    if (g->ex.training) g->ex.step++;
    return SY_OK;
}

sy_status sy_gdev_rec_plan(sy_graph *g, sy_var loss, uint64_t key, int record, const char *ineligible, int *recorded)
{
    sy_graph_dev *v = gd(g);
    sy_device *d = v->d;
    *recorded = 0;
    if (!v->rec && !(v->rec = calloc(1, sizeof *v->rec))) return sy_fail(SY_ERR_NOMEM, "training step: out of memory");
    sy_rec *r = v->rec;
    if (r->key != key || r->loss != loss) { /* another step on the same graph: record anew */
        if (r->exec) d->exec_free(d, r->exec);
        r->exec = NULL;
        r->warm = 0;
    }
    r->key = key;
    r->loss = loss;
    if (record && !r->off) {
        const char *why = ineligible                                 ? ineligible
                          : sy_device_allreduce_wanted()             ? "data-parallel all-reduce"
                          : sy_runtime()->cuda_sync ? "cuda_sync (SYRE_CUDA_SYNC=1) waits after every kernel"
                                                                     : NULL;
        if (why) rec_off(r, why);
    }
    /* Eager; the first step also makes cuDNN plans and the appended work's
     * device state, so that nothing allocates while capturing. */
    *recorded = record && !r->off && r->warm;
    return SY_OK;
}

void sy_gdev_rec_eager_done(sy_graph *g, sy_status st)
{
    sy_rec *r = gd(g)->rec;
    r->st.eager++;
    if (!st) r->warm = 1;
}

sy_status sy_gdev_rec_run(sy_graph *g, sy_var loss, int variant, sy_gdev_tail tail, void *ctx)
{
    sy_graph_dev *v = gd(g);
    sy_device *d = v->d;
    sy_rec *r = v->rec;
    /* Host work before: what the host changed goes up (ordered before the
     * launch), the passes the copies refer to. */
    sy_status st;
    if (!v->loss_slot && !(v->loss_slot = d->host_alloc(d, (size_t)g->n_nodes * sizeof(float)))) return SY_ERR_NOMEM;
    v->fwd_pass++;
    v->bwd_pass++;
    /* What the device work writes is marked here, before every launch: a
     * replay does not run the host code that marked it at capture. */
    sy_params_dev_data(g->ps, 1);
    sy_params_dev_grad(g->ps, 1);
    sy_node *l = &g->nodes[loss];
    /* The kernels' launch arguments depend only on the appended work's
     * variant and the training flag (batch norm); this step's scalars were
     * written to pinned memory the recorded work copies in. */
    if (r->exec && (variant != r->variant || r->training != g->ex.training || r->staged != (v->stage != NULL) ||
                    r->nan_policy != sy_graph_nan_policy(g))) {
        d->exec_free(d, r->exec);
        r->exec = NULL;
        if (++r->recaptures > 2) rec_off(r, "the training mode or the optimizer kind keeps changing");
    }
    if (v->hstep) *v->hstep = g->ex.step; /* the dropout masks' step */
    /* Staged inputs: copied in outside the recording (from the block that
     * holds this batch), ordered before the recorded work. */
    stage_inputs(g);
    int eager = r->off;
    if (!r->exec && !eager) {
        r->variant = variant;
        r->training = g->ex.training;
        r->nan_policy = sy_graph_nan_policy(g);
        r->staged = v->stage != NULL;
        if (!d->capture_begin) {
            rec_off(r, "the device cannot record");
            eager = 1;
        } else if ((st = d->capture_begin(d))) {
            SY_LAST_ERROR_COPY(msg);
            char why2[600];
            snprintf(why2, sizeof why2, "capture could not start: %s", msg);
            rec_off(r, why2);
            eager = 1;
        } else {
            rec_body(g, l, tail, ctx);
            r->exec = d->capture_end(d);
            if (!r->exec) {
                SY_LAST_ERROR_COPY(msg);
                char why2[600];
                snprintf(why2, sizeof why2, "capture failed: %s", msg);
                rec_off(r, why2);
                eager = 1;
            }
        }
        if (r->exec) r->st.captures++;
    }
    if (eager) {
        /* Captured work did not run: run it now. */
        rec_body(g, l, tail, ctx);
        r->st.eager++;
    } else {
        if ((st = d->launch(d, r->exec))) return st;
        r->st.replays++;
    }
    return rec_end(g);
}

void sy_train_step_stats_get(const sy_graph *g, sy_train_step_stats *s)
{
    memset(s, 0, sizeof *s);
    if (g && g->gdev && g->gdev->rec) *s = g->gdev->rec->st;
}
