/* Evaluating a classifier over a whole dataset through a graph whose batch
 * is fixed: the chunking, the padding and the two numbers every classifier
 * reports. */
#include <math.h>
#include <string.h>

#include "syre/trainer.h"

sy_status sy_eval_classifier(sy_graph *g, sy_var x, sy_var logits, const sy_dataset *d,
                             void (*prepare)(void *ctx, float *x, size_t n), void *ctx, double *loss, double *acc)
{
    sy_shape xs = sy_graph_shape(g, x), zs = sy_graph_shape(g, logits);
    size_t batch = (size_t)xs.dim[0], numel = sy_dataset_numel(d), k = (size_t)zs.dim[zs.ndim - 1];
    if (sy_shape_numel(xs) != batch * numel || zs.dim[0] != xs.dim[0] || d->n == 0)
        return sy_fail(SY_ERR_SHAPE, "evaluation of %s: the graph's input holds %zu values per sample, the data %zu",
                       d->name, batch ? sy_shape_numel(xs) / batch : 0, numel);
    float *in = sy_graph_data(g, x);
    double ls = 0;
    size_t correct = 0;
    for (size_t off = 0; off < d->n; off += batch) {
        size_t m = d->n - off < batch ? d->n - off : batch;
        memcpy(in, d->x + off * numel, m * numel * sizeof *in);
        if (m < batch) memset(in + m * numel, 0, (batch - m) * numel * sizeof *in);
        if (prepare) prepare(ctx, in, m);
        sy_status s = sy_graph_forward(g);
        if (s != SY_OK) return s;
        const float *z = sy_graph_data(g, logits);
        for (size_t i = 0; i < m; i++) {
            const float *zi = z + i * k;
            size_t best = 0;
            double mx = zi[0], se = 0;
            for (size_t j = 1; j < k; j++)
                if (zi[j] > mx) mx = zi[j], best = j;
            for (size_t j = 0; j < k; j++) se += exp((double)zi[j] - mx);
            ls += mx + log(se) - zi[d->y[off + i]];
            correct += best == (size_t)d->y[off + i];
        }
    }
    if (loss) *loss = ls / (double)d->n;
    if (acc) *acc = (double)correct / (double)d->n;
    if (!isfinite(ls)) return sy_fail(SY_ERR_NUMERIC, "evaluation loss on %s is not finite", d->name);
    return SY_OK;
}
