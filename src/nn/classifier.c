/* A classifier's two graphs on one parameter store: one that trains (at the
 * training batch, with the loss) and one that evaluates (at its own batch,
 * in evaluation mode), built from the same network so that they share every
 * parameter by name. Features for diagnostics are read from the evaluation
 * graph, whose batch can be the size a metric asks for. */
#include "syre/nn.h"

#include <string.h>

void sy_classifier_free(sy_classifier *c)
{
    if (!c) return;
    sy_graph_free(c->train);
    sy_graph_free(c->eval);
    sy_params_free(c->ps);
    memset(c, 0, sizeof *c);
}

sy_status sy_classifier_new(sy_classifier *c, sy_shape train_x, sy_shape eval_x,
                            sy_var (*build)(sy_graph *g, sy_var x, int eval, void *ctx), void *ctx)
{
    memset(c, 0, sizeof *c);
    if (!build || train_x.ndim < 1 || eval_x.ndim < 1)
        return sy_fail(SY_ERR_ARG, "classifier: no network or no input shape");
    c->ps = sy_params_new();
    if (c->ps) c->train = sy_graph_new(c->ps), c->eval = sy_graph_eval_new(c->ps);
    if (!c->train || !c->eval) {
        sy_classifier_free(c);
        return sy_fail(SY_ERR_NOMEM, "classifier: out of memory");
    }
    c->x = sy_input(c->train, "x", train_x);
    c->y = sy_input(c->train, "y", sy_shape_of(1, train_x.dim[0]));
    c->loss = sy_softmax_ce(c->train, build(c->train, c->x, 0, ctx), c->y);
    c->ex = sy_input(c->eval, "x", eval_x);
    c->logits = build(c->eval, c->ex, 1, ctx);
    sy_status s = sy_graph_compile(c->train);
    if (s == SY_OK) s = sy_graph_compile(c->eval);
    if (s != SY_OK) sy_classifier_free(c);
    return s;
}
