/* Graph construction, compilation (gradient flags, one arena for every
 * buffer), and the forward and backward passes. Nodes are created in
 * topological order (an op can only take existing nodes), so creation order is
 * the execution order and reverse creation order is the backward order. */
#include "graph/graph_impl.h"
#include "syre/dist.h"
#include "ops/ops_common.h"
#include "graph/graph_device.h"
#include "syre/runtime.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/numeric.h"
#include "syre/runtime.h"

static const char *const op_names[] = {
#define SY_OP_NAME(E, n, a) #n,
    SY_OP_LIST(SY_OP_NAME)
#undef SY_OP_NAME
};
static const int op_arity[] = {
#define SY_OP_ARITY(E, n, a) a,
    SY_OP_LIST(SY_OP_ARITY)
#undef SY_OP_ARITY
};
_Static_assert(sizeof op_names / sizeof op_names[0] == SY_OP_COUNT, "op name table out of sync");
_Static_assert(sizeof op_arity / sizeof op_arity[0] == SY_OP_COUNT, "op arity table out of sync");

const char *sy_op_name(sy_op op) { return (op >= 0 && op < SY_OP_COUNT) ? op_names[op] : "?"; }
int sy_op_arity(sy_op op) { return (op >= 0 && op < SY_OP_COUNT) ? op_arity[op] : -1; }

sy_graph_opts sy_graph_opts_default(void)
{
    const sy_runtime_opts *rt = sy_runtime();
    return (sy_graph_opts){
        .device = rt->device, .cuda_graphs = rt->cuda_graphs, .prefetch = rt->prefetch, .nan_policy = SY_NAN_PROCESS};
}

sy_graph *sy_graph_new(sy_params *ps)
{
    sy_graph_opts o = sy_graph_opts_default();
    return sy_graph_new_opts(ps, &o);
}

sy_graph *sy_graph_eval_new(sy_params *ps)
{
    sy_graph *g = sy_graph_new(ps);
    if (g) sy_graph_set_training(g, 0);
    return g;
}

sy_graph *sy_graph_new_opts(sy_params *ps, const sy_graph_opts *opts)
{
    sy_graph_opts o = opts ? *opts : sy_graph_opts_default();
    if (!ps) {
        sy_fail(SY_ERR_ARG, "sy_graph_new: parameter store is NULL");
        return NULL;
    }
    if (o.nan_policy < SY_NAN_PROCESS || o.nan_policy > SY_NAN_SKIP_BATCH) {
        sy_fail(SY_ERR_ARG, "sy_graph_new: unknown nan_policy %d (SY_NAN_PROCESS, _STOP or _SKIP_BATCH)", o.nan_policy);
        return NULL;
    }
    sy_graph *g = calloc(1, sizeof *g);
    if (!g) {
        sy_fail(SY_ERR_NOMEM, "cannot allocate graph");
        return NULL;
    }
    static _Atomic uint64_t next_id;
    g->id = atomic_fetch_add(&next_id, 1) + 1;
    g->ps = ps;
    g->be = sy_backend_cpu();
    g->ex.training = 1;
    g->ex.graph_id = g->id;
    g->ex.fault = &g->fault;
    g->opts = o;
    g->opts.device = NULL;
    const char *dev = o.device ? o.device : "cpu";
    if (strcmp(dev, "cpu") != 0 && sy_graph_set_backend(g, dev) != SY_OK) {
        SY_LAST_ERROR_COPY(why);
        sy_fail(SY_ERR_UNSUPPORTED, "device '%s' (--device, SYRE_DEVICE or sy_graph_opts): %s", dev, why);
        sy_graph_free(g);
        return NULL;
    }
    return g;
}

void sy_graph_free(sy_graph *g)
{
    if (!g) return;
    free(g->nodes);
    if (g->gdev) sy_gdev_free(g);
    free(g->arena);
    free(g->param_node);
    free(g);
}

sy_status sy_graph_set_backend(sy_graph *g, const char *name)
{
    if (g->gdev && (!strcmp(name, "cpu") || !strcmp(name, "cpu-ref")))
        return sy_fail(SY_ERR_STATE, "set_backend: the graph is on device '%s' already", sy_gdev_device(g)->name);
    if (strcmp(name, "cpu") == 0) g->be = sy_backend_cpu();
    else if (strcmp(name, "cpu-ref") == 0) g->be = sy_backend_cpu_ref();
    else if (strcmp(name, "cuda") == 0 || strcmp(name, "sim") == 0) { /* a device: graph_device.c */
        sy_device *d = sy_device_get(name);
        return d ? sy_gdev_select(g, d) : SY_ERR_UNSUPPORTED; /* the message says why */
    } else return sy_fail(SY_ERR_ARG, "unknown backend '%s' (expected cpu, cpu-ref, cuda or sim)", name);
    return SY_OK;
}

int sy_graph_error(sy_graph *g, sy_status st, const char *fmt, ...)
{
    if (g->status == SY_OK) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(g->error, sizeof g->error, fmt, ap);
        va_end(ap);
        g->status = st;
    }
    sy_fail(g->status, "%s", g->error);
    return -1;
}

sy_status sy_graph_status(const sy_graph *g)
{
    if (g->status) sy_fail(g->status, "%s", g->error);
    return g->status;
}

static sy_node *new_node(sy_graph *g, sy_op op)
{
    if (g->compiled) {
        sy_graph_error(g, SY_ERR_STATE, "cannot add a '%s' node to a compiled graph", sy_op_name(op));
        return NULL;
    }
    if (g->n_nodes == g->cap) {
        int cap = g->cap ? 2 * g->cap : 64;
        sy_node *p = realloc(g->nodes, cap * sizeof *p);
        if (!p) {
            sy_graph_error(g, SY_ERR_NOMEM, "cannot grow graph to %d nodes", cap);
            return NULL;
        }
        g->nodes = p;
        g->ex.nodes = p; /* the kernels' and scratch rules' view of them */
        g->cap = cap;
    }
    sy_node *n = &g->nodes[g->n_nodes];
    memset(n, 0, sizeof *n);
    n->op = op;
    n->param = -1;
    return n;
}

/* Generic op builder used by every public op function. */
sy_var sy_graph_add_op(sy_graph *g, sy_op op, const int *in, const int *iattr, const float *fattr)
{
    if (!g) return -1;
    int arity = sy_op_arity(op);
    if (arity < 0) return sy_graph_error(g, SY_ERR_ARG, "unknown op id %d", (int)op);
    for (int k = 0; k < arity; k++) {
        if (in[k] < 0 || in[k] >= g->n_nodes) {
            if (g->status) return -1; /* propagate the earlier error silently */
            return sy_graph_error(g, SY_ERR_ARG, "op '%s': input %d is not a node of this graph (%d)",
                                  sy_op_name(op), k, in[k]);
        }
    }
    sy_node *n = new_node(g, op);
    if (!n) return -1;
    n->n_in = arity;
    for (int k = 0; k < arity; k++) n->in[k] = in[k];
    if (iattr) memcpy(n->iattr, iattr, sizeof n->iattr);
    if (fattr) memcpy(n->fattr, fattr, sizeof n->fattr);
    snprintf(n->name, sizeof n->name, "%s#%d", sy_op_name(op), g->n_nodes);
    sy_status st = SY_OK;
    switch (op) {
#define SY_OP_SHAPE(E, nm, a) case SY_OP_##E: st = sy_shape_##nm(g, n); break;
        SY_OP_LIST(SY_OP_SHAPE)
#undef SY_OP_SHAPE
    default: break;
    }
    if (st != SY_OK) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", sy_last_error());
        return sy_graph_error(g, st, "op '%s' (node %d): %s", sy_op_name(op), g->n_nodes, msg);
    }
    n->numel = sy_shape_numel(n->shape);
    return g->n_nodes++;
}

sy_var sy_input(sy_graph *g, const char *name, sy_shape shape)
{
    char b[64];
    if (!g) return -1;
    for (int i = 0; i < shape.ndim; i++)
        if (shape.ndim > SY_MAX_DIMS || shape.dim[i] <= 0)
            return sy_graph_error(g, SY_ERR_SHAPE, "input '%s': invalid shape %s", name,
                                  sy_shape_str(shape, b));
    if (shape.ndim < 1 || shape.ndim > SY_MAX_DIMS)
        return sy_graph_error(g, SY_ERR_SHAPE, "input '%s': rank %d outside 1..%d", name,
                              shape.ndim, SY_MAX_DIMS);
    sy_node *n = new_node(g, SY_OP_INPUT);
    if (!n) return -1;
    n->shape = shape;
    n->numel = sy_shape_numel(shape);
    snprintf(n->name, sizeof n->name, "%s", name);
    return g->n_nodes++;
}

static sy_var param_node(sy_graph *g, int idx)
{
    const sy_param_info *pi = sy_params_info(g->ps, idx);
    for (int i = 0; i < g->n_nodes; i++) /* one node per parameter per graph */
        if (g->nodes[i].op == SY_OP_PARAM && g->nodes[i].param == idx) return i;
    sy_node *n = new_node(g, SY_OP_PARAM);
    if (!n) return -1;
    n->param = idx;
    n->shape = pi->shape;
    n->numel = pi->numel;
    snprintf(n->name, sizeof n->name, "%s", pi->name);
    return g->n_nodes++;
}

sy_var sy_param(sy_graph *g, const char *name)
{
    if (!g) return -1;
    int idx = sy_params_find(g->ps, name);
    if (idx < 0) return sy_graph_error(g, SY_ERR_ARG, "no parameter named '%s' in the store", name);
    return param_node(g, idx);
}

sy_var sy_param_new(sy_graph *g, const char *name, sy_shape shape, int fan_in, sy_init init,
                    int trainable)
{
    if (!g) return -1;
    if (g->status) return -1;
    int idx = sy_params_add(g->ps, name, shape, fan_in, init, trainable);
    if (idx < 0) return sy_graph_error(g, SY_ERR_ARG, "%s", sy_last_error());
    return param_node(g, idx);
}

sy_status sy_graph_requires_grad(sy_graph *g, sy_var v)
{
    if (v < 0 || v >= g->n_nodes) return sy_fail(SY_ERR_ARG, "requires_grad: invalid node %d", v);
    if (g->compiled) return sy_fail(SY_ERR_STATE, "requires_grad must be called before compile");
    g->nodes[v].needs_grad = 1;
    return SY_OK;
}

/* Per parameter, what a run may hold beside the graph: the value, its
 * gradient, two optimizer moments (Adam), the anchor theta0 and its D. */
#define FLOATS_PER_PARAM 6

/* Refuse plans larger than available memory with the figure, from shapes
 * alone and before anything is allocated, instead of filling memory first
 * (or letting the kernel's OOM killer end the process mid-run). `param_floats`
 * are the parameters this compile will lay out (0 when the store exists). */
static sy_status check_memory(size_t floats, size_t param_floats)
{
    double total, avail = sy_mem_available(&total);
    double graph = (double)floats * sizeof(float);
    double params = (double)param_floats * FLOATS_PER_PARAM * sizeof(float);
    if (floats > SIZE_MAX / sizeof(float) || (avail > 0 && graph + params > avail))
        return sy_fail(SY_ERR_NOMEM, "the model needs %.1f GiB (%.1f GiB for activations, gradients and scratch, "
                       "%.1f GiB for %zu parameters with their gradients, optimizer state and anchors); this machine "
                       "has %.1f GiB available (%.1f GiB RAM): reduce %s",
                       (graph + params) / (1 << 30), graph / (1 << 30), params / (1 << 30), param_floats,
                       avail / (1 << 30), total / (1 << 30), params > graph ? "the width" : "the batch size or the width");
    return SY_OK;
}

/* Scratch floats of node n: the device's, else the fast CPU kernels', which
 * cover the reference kernels' too, so the CPU backend may change after
 * compile (sy_graph_set_backend). */
static size_t node_scratch(sy_graph *g, const sy_node *n)
{
    if (g->gdev) return sy_gdev_scratch(g, n);
    const sy_backend *cpu = sy_backend_cpu();
    return cpu->node_scratch ? cpu->node_scratch(&g->ex, n) : n->scratch_n;
}

sy_status sy_graph_compile(sy_graph *g)
{
    if (g->status) return sy_graph_status(g);
    if (g->compiled) return SY_OK;
    if (!g->gdev && sy_get_precision() != SY_PRECISION_FP32)
        return sy_fail(SY_ERR_UNSUPPORTED, "precision %s applies to device graphs only (--device cuda; sim emulates "
                       "it); the CPU backend computes in fp32: use --precision fp32 (or unset SYRE_PRECISION / "
                       "SYRE_TF32) with --device cpu", sy_precision_name(sy_get_precision()));
    /* A device graph lays its store out first, as its plan has always done;
     * a host store waits until the memory check below has passed. */
    if (g->gdev) {
        sy_status lst = sy_params_layout(g->ps);
        if (lst) return lst;
    }
    /* Gradient flags flow forward from trainable parameters and requested inputs. */
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->op == SY_OP_PARAM) n->needs_grad = sy_params_info(g->ps, n->param)->trainable;
        for (int k = 0; k < n->n_in; k++)
            if (g->nodes[n->in[k]].needs_grad) n->needs_grad = 1;
    }
    /* Plan: values, then all node gradients (one region, zeroed per backward), then scratch.
     * On a device every buffer starts on 256 bytes (64 floats): tensor-core
     * kernels want 16..256-byte alignment and cuDNN may refuse less. */
    size_t align = g->gdev ? 64 : 1, vals = 0, grads = 0, scratch = 0;
#define SLOT(k) (((k) + align - 1) / align * align)
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->op == SY_OP_PARAM || n->op == SY_OP_RESHAPE) continue;
        vals += SLOT(n->numel);
        if (n->needs_grad) grads += SLOT(n->numel);
        scratch += SLOT(node_scratch(g, n));
    }
    size_t total = vals + grads + scratch;
    sy_status st;
    if (!g->gdev) {
        size_t param_floats = 0;
        for (int i = 0; !sy_params_is_laid_out(g->ps) && i < sy_params_count(g->ps); i++)
            param_floats += sy_params_info(g->ps, i)->numel;
        if ((st = check_memory(total, param_floats))) return st;
    }
    st = sy_params_layout(g->ps);
    if (!st && !g->gdev) st = sy_params_claim_host(g->ps);
    if (st) return st;
    if (g->gdev) {
        if ((st = sy_gdev_alloc(g, total))) return st;
    } else {
        g->arena = calloc(total ? total : 1, sizeof(float));
    }
    if (!g->arena)
        return sy_fail(SY_ERR_NOMEM, "cannot allocate %.1f MiB for the graph",
                       total * 4.0 / (1 << 20));
    g->arena_floats = total;
    g->grad_region = g->arena + vals;
    g->grad_floats = grads;
    float *pv = g->arena, *pg = g->grad_region, *psc = g->grad_region + grads;
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->op == SY_OP_PARAM) { /* a CPU graph's store stays on the host: the getters are its buffers */
            n->val = g->gdev ? sy_gdev_param_val(g, n->param) : sy_params_tensor(g->ps, n->param);
            n->grad = !n->needs_grad ? NULL
                      : g->gdev      ? sy_gdev_param_grad(g, n->param)
                                     : sy_params_tensor_grad(g->ps, n->param);
            continue;
        }
        if (n->op == SY_OP_RESHAPE) { /* a view: shares its input's buffers */
            n->val = g->nodes[n->in[0]].val;
            n->grad = g->nodes[n->in[0]].grad;
            continue;
        }
        n->val = pv;
        pv += SLOT(n->numel);
        if (n->needs_grad) {
            n->grad = pg;
            pg += SLOT(n->numel);
        }
        size_t sc = node_scratch(g, n);
        if (sc) {
            n->scratch = psc;
            psc += SLOT(sc);
        }
    }
#undef SLOT
    /* Readers of every node (for the overwrite plan of backward). A reshape
     * shares its input's gradient buffer, so neither side of one is planned. */
    for (int i = 0; i < g->n_nodes; i++) g->nodes[i].n_readers = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        for (int k = 0; k < n->n_in; k++) {
            sy_node *in = &g->nodes[n->in[k]];
            in->n_readers += n->op == SY_OP_RESHAPE ? 2 : 1;
            in->reader = i;
            in->reader_slot = k;
        }
        if (n->op == SY_OP_RESHAPE) n->n_readers += 2;
    }
    g->n_param_nodes = sy_params_count(g->ps);
    g->param_node = malloc((g->n_param_nodes ? g->n_param_nodes : 1) * sizeof(int));
    if (!g->param_node) return sy_fail(SY_ERR_NOMEM, "cannot allocate the graph's parameter map");
    for (int k = 0; k < g->n_param_nodes; k++) g->param_node[k] = -1;
    for (int i = 0; i < g->n_nodes; i++)
        if (g->nodes[i].op == SY_OP_PARAM && g->nodes[i].param < g->n_param_nodes) g->param_node[g->nodes[i].param] = i;
    g->plan_be = NULL;
    g->compiled = 1;
    return SY_OK;
}

/* Which gradients backward may leave unzeroed: a node read by exactly one
 * (node, slot) whose backward runs in this pass (index <= loss) and whose
 * kernel can overwrite that slot. Recomputed when the backend or the loss
 * node changes; no allocation. */
static void plan_overwrite(sy_graph *g, int loss)
{
    if (g->plan_be == g->be && g->plan_loss == loss) return;
    for (int i = 0; i < g->n_nodes; i++) g->nodes[i].fresh = g->nodes[i].overwrite = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (!n->needs_grad || n->n_readers != 1 || n->reader > loss) continue;
        sy_node *r = &g->nodes[n->reader];
        if (!r->needs_grad || !(g->be->can_overwrite[r->op] & (1u << n->reader_slot))) continue;
        n->fresh = 1;
        r->overwrite |= (unsigned char)(1u << n->reader_slot);
    }
    g->plan_be = g->be;
    g->plan_loss = loss;
}

/* Zero the gradients no kernel will overwrite: node gradients in contiguous
 * runs, and parameter gradients tensor by tensor (those of parameters this
 * graph does not use too, so every gradient reads as this loss's). */
static void zero_grads(sy_graph *g)
{
    float *run = NULL;
    size_t len = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (!n->needs_grad || n->op == SY_OP_PARAM || n->op == SY_OP_RESHAPE || n->fresh) continue;
        if (run && run + len == n->grad) {
            len += n->numel;
            continue;
        }
        if (run) memset(run, 0, len * sizeof(float));
        run = n->grad, len = n->numel;
    }
    if (run) memset(run, 0, len * sizeof(float));
    int np = sy_params_count(g->ps);
    for (int k = 0; k < np; k++) {
        const sy_param_info *pi = sy_params_info(g->ps, k);
        if (!pi->trainable) continue;
        if (k < g->n_param_nodes && g->param_node[k] >= 0 && g->nodes[g->param_node[k]].fresh) continue;
        float *gp = sy_params_tensor_grad(g->ps, k); /* a host store (a CPU graph's) */
        if (gp) memset(gp, 0, pi->numel * sizeof(float));
    }
}

size_t sy_graph_bytes(const sy_graph *g) { return g->arena_floats * sizeof(float); }

static sy_status check_node(const sy_graph *g, sy_var v, const char *what)
{
    if (!g->compiled) return sy_fail(SY_ERR_STATE, "%s: compile the graph first", what);
    if (v < 0 || v >= g->n_nodes) return sy_fail(SY_ERR_ARG, "%s: invalid node %d", what, v);
    return SY_OK;
}

sy_status sy_graph_feed(sy_graph *g, sy_var v, const float *data, size_t n)
{
    sy_status st = check_node(g, v, "feed");
    if (st) return st;
    sy_node *node = &g->nodes[v];
    char b[64];
    if (node->op != SY_OP_INPUT)
        return sy_fail(SY_ERR_ARG, "feed: node '%s' is not an input", node->name);
    if (n != node->numel)
        return sy_fail(SY_ERR_SHAPE, "feed: input '%s' of shape %s expects %zu values, got %zu",
                       node->name, sy_shape_str(node->shape, b), node->numel, n);
    memcpy(g->gdev ? sy_gdev_host_val(g, node) : node->val, data, n * sizeof(float));
    return SY_OK;
}

sy_status sy_graph_forward(sy_graph *g)
{
    if (!g->compiled) return sy_fail(SY_ERR_STATE, "forward: compile the graph first");
    sy_status st;
    if (g->gdev && (st = sy_gdev_before_forward(g))) return st;
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->op == SY_OP_INPUT || n->op == SY_OP_PARAM || n->op == SY_OP_RESHAPE) continue;
        g->be->forward[n->op](&g->ex, n);
        if (g->fault.status) {
            sy_status st = g->fault.status;
            g->fault.status = SY_OK;
            if (g->gdev) sy_gdev_drain(g); /* the device's record of the error is reported here too */
            return sy_fail(st, "forward: op '%s': %s", n->name, g->fault.msg);
        }
        /* Under --on-nan skip-batch the optimizer step skips the batch. A
         * device checks its loss in sy_gdev_after_forward. */
        if (n->is_loss && !g->gdev && !isfinite(n->val[0]) && sy_graph_nan_policy(g) == SY_NAN_STOP)
            return sy_fail(SY_ERR_NUMERIC, "forward: loss '%s' is %s at graph step %llu; training stopped%s. "
                           "Lower --lr, or pass --on-nan skip-batch to skip such batches", n->name,
                           isnan(n->val[0]) ? "NaN" : "Inf", (unsigned long long)g->ex.step, sy_last_checkpoint_note());
    }
    if (g->gdev && (st = sy_gdev_after_forward(g))) return st;
    if (g->ex.training) g->ex.step++;
    return SY_OK;
}

sy_status sy_graph_backward(sy_graph *g, sy_var loss)
{
    sy_status st = check_node(g, loss, "backward");
    if (st) return st;
    sy_node *l = &g->nodes[loss];
    char b[64];
    if (l->numel != 1)
        return sy_fail(SY_ERR_SHAPE, "backward: loss '%s' must be a scalar, has shape %s", l->name,
                       sy_shape_str(l->shape, b));
    if (!l->needs_grad)
        return sy_fail(SY_ERR_STATE, "backward: loss '%s' depends on no trainable parameter", l->name);
    if (g->gdev) {
        /* A device zeroes every gradient itself; its kernels accumulate. */
        for (int i = 0; i < g->n_nodes; i++) g->nodes[i].overwrite = 0;
        sy_gdev_begin_backward(g, l);
    } else {
        plan_overwrite(g, loss);
        zero_grads(g);
        l->grad[0] = 1.0f;
    }
    for (int i = loss; i >= 0; i--) {
        sy_node *n = &g->nodes[i];
        if (!n->needs_grad || n->n_in == 0 || n->op == SY_OP_RESHAPE) continue;
        g->be->backward[n->op](&g->ex, n);
    }
    return g->gdev ? sy_gdev_after_backward(g) : SY_OK;
}

void sy_graph_set_training(sy_graph *g, int training) { g->ex.training = training; }

sy_status sy_graph_set_sync_bn(sy_graph *g, int on)
{
    if (!g) return sy_fail(SY_ERR_ARG, "sy_graph_set_sync_bn: graph is NULL");
    if (on && g->gdev && sy_dist_size() > 1)
        return sy_fail(SY_ERR_UNSUPPORTED,
                       "synchronised batch norm runs on the CPU only, not on device '%s' (the all-reduce sits "
                       "inside the batch norm kernel)",
                       sy_gdev_device(g)->name);
    g->ex.sync_bn = on != 0;
    return SY_OK;
}
void sy_graph_set_seed(sy_graph *g, uint64_t seed) { g->ex.seed = seed; }
void sy_graph_set_step(sy_graph *g, uint64_t step) { g->ex.step = step; }
uint64_t sy_graph_step(const sy_graph *g) { return g->ex.step; }

float *sy_graph_data(sy_graph *g, sy_var v)
{
    if (check_node(g, v, "data")) return NULL;
    return g->gdev ? sy_gdev_data(g, v, 0) : g->nodes[v].val;
}
float *sy_graph_grad(sy_graph *g, sy_var v)
{
    if (check_node(g, v, "grad")) return NULL;
    return g->gdev ? sy_gdev_data(g, v, 1) : g->nodes[v].grad;
}

sy_shape sy_graph_shape(const sy_graph *g, sy_var v)
{
    sy_shape none = {0, {0, 0, 0, 0}};
    return (v >= 0 && v < g->n_nodes) ? g->nodes[v].shape : none;
}

float sy_graph_scalar(sy_graph *g, sy_var v)
{
    float *d = sy_graph_data(g, v);
    return d ? d[0] : NAN;
}

int sy_graph_num_nodes(const sy_graph *g) { return g->n_nodes; }
const char *sy_graph_op_name(const sy_graph *g, sy_var v)
{
    return (v >= 0 && v < g->n_nodes) ? sy_op_name(g->nodes[v].op) : "?";
}
sy_params *sy_graph_params(sy_graph *g) { return g->ps; }

/* Leaves have no kernels; these exist so every op of the table is complete. */
sy_status sy_shape_input(sy_graph *g, sy_node *n) { return SY_OK; }
sy_status sy_shape_param(sy_graph *g, sy_node *n) { return SY_OK; }
void sy_ref_fwd_input(sy_exec *ex, sy_node *n) {}
void sy_ref_bwd_input(sy_exec *ex, sy_node *n) {}
void sy_ref_fwd_param(sy_exec *ex, sy_node *n) {}
void sy_ref_bwd_param(sy_exec *ex, sy_node *n) {}
