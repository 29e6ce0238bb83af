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
#include "backend/device.h"
#include "ops/ops_common.h"
#include "syre/runtime.h"

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
};

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
float *sy_gdev_workspace(sy_graph *g) { return g->gdev ? g->gdev->ws : NULL; }

void sy_gdev_free(sy_graph *g)
{
    sy_graph_dev *v = gd(g);
    if (!v) return;
    sy_device *d = v->d;
    d->sync(d);
    if (v->holds_precision) sy_precision_hold(-1);
    if (g->arena) d->free(d, g->arena);
    if (v->ws) d->free(d, v->ws);
    free(v->host);
    if (v->pinned) d->host_free(d, v->pinned);
    free(v->in_host);
    free(v->want);
    free(v->val_pass);
    free(v->grad_pass);
    free(v);
    g->gdev = NULL;
    g->arena = NULL;
}

size_t sy_gdev_scratch(sy_graph *g, const sy_node *n) { return gd(g)->d->node_scratch(g, n); }

sy_status sy_gdev_alloc(sy_graph *g, size_t floats)
{
    sy_graph_dev *v = gd(g);
    sy_device *d = v->d;
    sy_status st = sy_params_attach(g->ps, d);
    if (st) return st;
    sy_precision_hold(+1); /* before the workspace sizes, which depend on it */
    v->holds_precision = 1;
    size_t ws = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        size_t w = d->shared_workspace(g, &g->nodes[i]);
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
    if (ws) {
        v->ws = d->alloc(d, ws * sizeof(float));
        SY_LAST_ERROR_COPY(why2);
        if (!v->ws)
            return sy_fail(SY_ERR_NOMEM, "graph needs a %.1f MiB kernel workspace on device '%s': %s",
                           ws * 4.0 / 1048576.0, d->name, why2);
        v->ws_floats = ws;
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

/* Host address of a device address inside the arena or the store. */
static float *host_of(sy_graph *g, const float *dp, int grad)
{
    if (!dp) return NULL;
    if (dp >= g->arena && dp < g->arena + g->arena_floats) return gd(g)->host + (dp - g->arena);
    const float *base = grad ? sy_params_dev_grad(g->ps, 0) : sy_params_dev_data(g->ps, 0);
    float *h = grad ? sy_params_grad(g->ps) : sy_params_data(g->ps);
    return h + (dp - base);
}

float *sy_gdev_host_val(sy_graph *g, sy_node *n)
{
    return n->op == SY_OP_INPUT ? gd(g)->in_host[n - g->nodes] : host_of(g, n->val, 0);
}

static int in_arena(const sy_graph *g, const float *p) { return p >= g->arena && p < g->arena + g->arena_floats; }

sy_status sy_gdev_before_forward(sy_graph *g)
{
    sy_graph_dev *v = gd(g);
    v->fwd_pass++;
    sy_params_dev_data(g->ps, 1); /* current on the device; forward may write (running statistics) */
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->op == SY_OP_INPUT) v->d->upload(v->d, n->val, v->in_host[i], n->numel * sizeof(float));
    }
    return SY_OK;
}

static void download(sy_graph *g, const float *dp, size_t numel)
{
    if (!dp || !in_arena(g, dp)) return;
    gd(g)->d->download(gd(g)->d, host_of(g, dp, 0), dp, numel * sizeof(float));
}

sy_status sy_gdev_after_forward(sy_graph *g)
{
    sy_graph_dev *v = gd(g);
    int fetched[64], nf = 0; /* nodes copied back (marked fresh once the copy is done) */
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->op != SY_OP_INPUT && ((v->want[i] & 1) || n->is_loss)) {
            download(g, n->val, n->numel);
            if (nf < 64) fetched[nf++] = i;
        }
    }
    sy_status st = v->d->sync(v->d);
    if (!st)
        for (int k = 0; k < nf; k++) v->val_pass[fetched[k]] = v->fwd_pass;
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
    if (sy_get_nan_policy() != SY_NAN_STOP) return SY_OK;
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (!n->is_loss) continue;
        float x = host_of(g, n->val, 0)[0];
        if (!isfinite(x))
            return sy_fail(SY_ERR_NUMERIC, "forward: loss '%s' is %s at graph step %llu; training stopped%s. "
                           "Lower --lr, or pass --on-nan skip-batch to skip such batches", n->name,
                           isnan(x) ? "NaN" : "Inf", (unsigned long long)g->step, sy_last_checkpoint_note());
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
    if (n->op == SY_OP_INPUT && !grad) return w->in_host[v]; /* inputs live on the host */
    w->want[v] |= grad ? 2 : 1;
    unsigned *have = grad ? &w->grad_pass[v] : &w->val_pass[v], pass = grad ? w->bwd_pass : w->fwd_pass;
    if (*have == pass) return host_of(g, dp, 0); /* copied back after this pass already */
    download(g, dp, n->numel);
    if (w->d->sync(w->d)) return NULL;
    *have = pass;
    return host_of(g, dp, 0);
}
