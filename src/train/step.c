/* sy_train_step (syre/train.h): forward, backward and the optimizer step in
 * one call. On a device graph the three are recorded once and replayed: the
 * graph records forward and backward (graph_device.c) with the optimizer's
 * update appended (optim/step_device.c); this layer, above both, joins them. */
#include "graph/graph_device.h"
#include "optim/optim_impl.h"
#include "syre/train.h"

static sy_status eager_step(sy_graph *g, sy_var loss, sy_optimizer *opt)
{
    sy_status st = sy_graph_forward(g);
    if (!st) st = sy_graph_backward(g, loss);
    if (!st) st = sy_optimizer_step(opt);
    return st;
}

typedef struct {
    sy_optimizer *opt;
    const sy_step_scalars *sc;
} update_tail;

static void enqueue_update(void *ctx, void (*veto)(void *, size_t *), void *veto_ctx)
{
    update_tail *t = ctx;
    sy_optim_dev_enqueue_recorded(t->opt, t->sc, veto, veto_ctx);
}

static sy_status device_step(sy_graph *g, sy_var loss, sy_optimizer *opt)
{
    int recorded;
    const char *why = opt->ps != g->ps ? "the optimizer's store is not the graph's" : NULL;
    sy_status st = sy_gdev_rec_plan(g, loss, opt->id, g->opts.cuda_graphs, why, &recorded);
    if (st) return st;
    if (!recorded) {
        st = eager_step(g, loss, opt);
        sy_gdev_rec_eager_done(g, st);
        return st;
    }
    float lr;
    sy_step_scalars sc;
    if ((st = sy_optim_dev_begin_recorded(opt, &lr, &sc))) return st;
    update_tail t = {opt, &sc};
    if ((st = sy_gdev_rec_run(g, loss, (int)sc.kind, enqueue_update, &t))) return st;
    int skip;
    return sy_optim_dev_finish(opt, lr, &skip);
}

sy_status sy_train_step(sy_graph *g, sy_var loss, sy_optimizer *opt)
{
    if (!g || !opt) return sy_fail(SY_ERR_ARG, "train step: NULL graph or optimizer");
    if (!g->compiled) return sy_fail(SY_ERR_STATE, "train step: compile the graph first");
    if (loss < 0 || loss >= g->n_nodes) return sy_fail(SY_ERR_ARG, "train step: no node %d", (int)loss);
    sy_node *l = &g->nodes[loss];
    if (g->gdev && l->numel == 1 && l->needs_grad) return device_step(g, loss, opt);
    return eager_step(g, loss, opt); /* the CPU, and the messages for a bad loss */
}
