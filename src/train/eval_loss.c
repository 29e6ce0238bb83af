/* A model's loss over a set its evaluation graph holds whole (a regression's
 * training or test set): feed the inputs, run forward, read the loss. */
#include "syre/trainer.h"

sy_status sy_eval_loss(sy_graph *g, sy_var x, const float *xv, sy_var y, const float *yv, sy_var loss, double *out)
{
    sy_status s = sy_graph_feed(g, x, xv, sy_shape_numel(sy_graph_shape(g, x)));
    if (s == SY_OK && yv) s = sy_graph_feed(g, y, yv, sy_shape_numel(sy_graph_shape(g, y)));
    if (s == SY_OK) s = sy_graph_forward(g);
    if (s == SY_OK) *out = sy_graph_scalar(g, loss);
    return s;
}
