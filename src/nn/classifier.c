/* A classifier's two graphs over one store: the training graph (inputs,
 * labels, logits, cross-entropy) and the evaluation graph of another batch
 * in inference mode. */
#include "syre/nn.h"

sy_status sy_classifier_new(sy_classifier *m, sy_shape sample, int batch, int eval_batch, sy_net_fn net, void *ctx)
{
    m->ps = sy_params_new();
    m->train = sy_graph_new(m->ps);
    m->eval = sy_graph_new(m->ps);
    if (!m->ps || !m->train || !m->eval) return sy_fail(SY_ERR_NOMEM, "classifier: out of memory");
    if (sample.ndim < 1 || sample.ndim >= SY_MAX_DIMS)
        return sy_fail(SY_ERR_SHAPE, "classifier: samples of 1 to %d dimensions, not %d", SY_MAX_DIMS - 1,
                       sample.ndim);
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

void sy_classifier_free(sy_classifier *m)
{
    sy_graph_free(m->train);
    sy_graph_free(m->eval);
    sy_params_free(m->ps);
    m->train = m->eval = NULL;
    m->ps = NULL;
}
