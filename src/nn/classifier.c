/* A classifier's two graphs over one store: the training graph (inputs,
 * labels, logits, cross-entropy) and the evaluation graph of another batch
 * in inference mode, built from the same network so that they share every
 * parameter by name. Features for diagnostics are read from the evaluation
 * graph, whose batch can be the size a metric asks for. */
#include <string.h>

#include "syre/nn.h"

void sy_classifier_free(sy_classifier *m)
{
    if (!m) return;
    sy_graph_free(m->train);
    sy_graph_free(m->eval);
    sy_params_free(m->ps);
    memset(m, 0, sizeof *m);
}

static sy_status build(sy_classifier *m, sy_shape sample, int batch, int eval_batch, sy_net_fn net, void *ctx)
{
    if (!net) return sy_fail(SY_ERR_ARG, "classifier: no network");
    if (sample.ndim < 1 || sample.ndim >= SY_MAX_DIMS)
        return sy_fail(SY_ERR_SHAPE, "classifier: samples of 1 to %d dimensions, not %d", SY_MAX_DIMS - 1,
                       sample.ndim);
    m->ps = sy_params_new();
    m->train = m->ps ? sy_graph_new(m->ps) : NULL;
    m->eval = m->ps ? sy_graph_new(m->ps) : NULL;
    if (!m->ps || !m->train || !m->eval) return sy_fail(SY_ERR_NOMEM, "classifier: out of memory");
    sy_shape xs = {sample.ndim + 1, {batch}}, es = {sample.ndim + 1, {eval_batch}};
    for (int d = 0; d < sample.ndim; d++) xs.dim[d + 1] = es.dim[d + 1] = sample.dim[d];
    m->x = sy_input(m->train, "x", xs);
    m->y = sy_input(m->train, "y", sy_shape_of(1, batch));
    m->logits = net(ctx, m->train, m->x, 0);
    m->loss = sy_softmax_ce(m->train, m->logits, m->y);
    sy_status s = sy_graph_compile(m->train);
    if (s != SY_OK) return s;
    m->ex = sy_input(m->eval, "x", es);
    m->elogits = net(ctx, m->eval, m->ex, 1);
    if ((s = sy_graph_compile(m->eval)) != SY_OK) return s;
    sy_graph_set_training(m->eval, 0);
    return SY_OK;
}

sy_status sy_classifier_new(sy_classifier *m, sy_shape sample, int batch, int eval_batch, sy_net_fn net, void *ctx)
{
    memset(m, 0, sizeof *m);
    sy_status s = build(m, sample, batch, eval_batch, net, ctx);
    if (s != SY_OK) sy_classifier_free(m);
    return s;
}
