/* Graph construction, compilation (gradient flags, one arena for every
 * buffer), and the forward and backward passes. Nodes are created in
 * topological order (an op can only take existing nodes), so creation order is
 * the execution order and reverse creation order is the backward order. */
#include "graph/graph_impl.h"
#include "ops/ops_common.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
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

sy_graph *sy_graph_new(sy_params *ps)
{
    if (!ps) {
        sy_fail(SY_ERR_ARG, "sy_graph_new: parameter store is NULL");
        return NULL;
    }
    sy_graph *g = calloc(1, sizeof *g);
    if (!g) {
        sy_fail(SY_ERR_NOMEM, "cannot allocate graph");
        return NULL;
    }
    g->ps = ps;
    g->be = sy_backend_cpu();
    g->training = 1;
    return g;
}

void sy_graph_free(sy_graph *g)
{
    if (!g) return;
    free(g->nodes);
    free(g->arena);
    free(g);
}

sy_status sy_graph_set_backend(sy_graph *g, const char *name)
{
    if (strcmp(name, "cpu") == 0) g->be = sy_backend_cpu();
    else if (strcmp(name, "cpu-ref") == 0) g->be = sy_backend_cpu_ref();
    else return sy_fail(SY_ERR_ARG, "unknown backend '%s' (expected cpu or cpu-ref)", name);
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

void sy_graph_runtime_error(sy_graph *g, sy_status st, const char *fmt, ...)
{
    if (g->run_status) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->error, sizeof g->error, fmt, ap);
    va_end(ap);
    g->run_status = st;
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

/* Refuse plans larger than physical memory with the figure, instead of
 * letting the kernel's OOM killer end the process mid-run. */
static sy_status check_memory(size_t floats)
{
    double total, avail = sy_mem_available(&total);
    double need = (double)floats * sizeof(float);
    if (floats > SIZE_MAX / sizeof(float) || (avail > 0 && need > avail))
        return sy_fail(SY_ERR_NOMEM, "graph needs %.1f GiB for activations, gradients and scratch; "
                       "this machine has %.1f GiB available (%.1f GiB RAM): reduce the batch size or the width",
                       need / (1 << 30), avail / (1 << 30), total / (1 << 30));
    return SY_OK;
}

sy_status sy_graph_compile(sy_graph *g)
{
    if (g->status) return sy_graph_status(g);
    if (g->compiled) return SY_OK;
    sy_status st = sy_params_layout(g->ps);
    if (st) return st;
    /* Gradient flags flow forward from trainable parameters and requested inputs. */
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->op == SY_OP_PARAM) n->needs_grad = sy_params_info(g->ps, n->param)->trainable;
        for (int k = 0; k < n->n_in; k++)
            if (g->nodes[n->in[k]].needs_grad) n->needs_grad = 1;
    }
    /* Plan: values, then all node gradients (one region, zeroed per backward), then scratch. */
    size_t vals = 0, grads = 0, scratch = 0;
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->op == SY_OP_PARAM || n->op == SY_OP_RESHAPE) continue;
        vals += n->numel;
        if (n->needs_grad) grads += n->numel;
        scratch += n->scratch_n;
    }
    size_t total = vals + grads + scratch;
    if ((st = check_memory(total))) return st;
    g->arena = calloc(total ? total : 1, sizeof(float));
    if (!g->arena)
        return sy_fail(SY_ERR_NOMEM, "cannot allocate %.1f MiB for the graph",
                       total * 4.0 / (1 << 20));
    g->arena_floats = total;
    g->grad_region = g->arena + vals;
    g->grad_floats = grads;
    float *pv = g->arena, *pg = g->grad_region, *psc = g->grad_region + grads;
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->op == SY_OP_PARAM) {
            n->val = sy_params_tensor(g->ps, n->param);
            n->grad = n->needs_grad ? sy_params_tensor_grad(g->ps, n->param) : NULL;
            continue;
        }
        if (n->op == SY_OP_RESHAPE) { /* a view: shares its input's buffers */
            n->val = g->nodes[n->in[0]].val;
            n->grad = g->nodes[n->in[0]].grad;
            continue;
        }
        n->val = pv;
        pv += n->numel;
        if (n->needs_grad) {
            n->grad = pg;
            pg += n->numel;
        }
        if (n->scratch_n) {
            n->scratch = psc;
            psc += n->scratch_n;
        }
    }
    g->compiled = 1;
    return SY_OK;
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
    memcpy(node->val, data, n * sizeof(float));
    return SY_OK;
}

sy_status sy_graph_forward(sy_graph *g)
{
    if (!g->compiled) return sy_fail(SY_ERR_STATE, "forward: compile the graph first");
    for (int i = 0; i < g->n_nodes; i++) {
        sy_node *n = &g->nodes[i];
        if (n->op == SY_OP_INPUT || n->op == SY_OP_PARAM || n->op == SY_OP_RESHAPE) continue;
        g->be->forward[n->op](g, n);
        if (g->run_status) {
            sy_status st = g->run_status;
            g->run_status = SY_OK;
            return sy_fail(st, "forward: op '%s': %s", n->name, g->error);
        }
        /* Under --on-nan skip-batch the optimizer step skips the batch. */
        if (n->is_loss && !isfinite(n->val[0]) && sy_get_nan_policy() == SY_NAN_STOP)
            return sy_fail(SY_ERR_NUMERIC, "forward: loss '%s' is %s at graph step %llu; training stopped%s. "
                           "Lower --lr, or pass --on-nan skip-batch to skip such batches", n->name,
                           isnan(n->val[0]) ? "NaN" : "Inf", (unsigned long long)g->step, sy_last_checkpoint_note());
    }
    if (g->training) g->step++;
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
    memset(g->grad_region, 0, g->grad_floats * sizeof(float));
    sy_params_zero_grad(g->ps);
    l->grad[0] = 1.0f;
    for (int i = loss; i >= 0; i--) {
        sy_node *n = &g->nodes[i];
        if (!n->needs_grad || n->n_in == 0 || n->op == SY_OP_RESHAPE) continue;
        g->be->backward[n->op](g, n);
    }
    return SY_OK;
}

void sy_graph_set_training(sy_graph *g, int training) { g->training = training; }
void sy_graph_set_seed(sy_graph *g, uint64_t seed) { g->seed = seed; }
void sy_graph_set_step(sy_graph *g, uint64_t step) { g->step = step; }
uint64_t sy_graph_step(const sy_graph *g) { return g->step; }

float *sy_graph_data(sy_graph *g, sy_var v) { return check_node(g, v, "data") ? NULL : g->nodes[v].val; }
float *sy_graph_grad(sy_graph *g, sy_var v) { return check_node(g, v, "grad") ? NULL : g->nodes[v].grad; }

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
void sy_ref_fwd_input(sy_graph *g, sy_node *n) {}
void sy_ref_bwd_input(sy_graph *g, sy_node *n) {}
void sy_ref_fwd_param(sy_graph *g, sy_node *n) {}
void sy_ref_bwd_param(sy_graph *g, sy_node *n) {}
