/* sy_train_step (syre/train.h): forward, backward and the optimizer step in
 * one call, so that a device can record the step (graph_device.c). */
#include <stdlib.h>
#include <string.h>

#include "backend/device.h"
#include "syre/train.h"

sy_status sy_train_step(sy_graph *g, sy_var loss, sy_optimizer *opt)
{
    if (!g || !opt) return sy_fail(SY_ERR_ARG, "train step: NULL graph or optimizer");
    if (!g->compiled) return sy_fail(SY_ERR_STATE, "train step: compile the graph first");
    if (loss < 0 || loss >= g->n_nodes) return sy_fail(SY_ERR_ARG, "train step: no node %d", (int)loss);
    sy_node *l = &g->nodes[loss];
    if (g->gdev && l->numel == 1 && l->needs_grad) return sy_gdev_train_step(g, loss, opt, g->opts.cuda_graphs);
    sy_status st = sy_graph_forward(g); /* the CPU, and the messages for a bad loss */
    if (!st) st = sy_graph_backward(g, loss);
    if (!st) st = sy_optimizer_step(opt);
    return st;
}
