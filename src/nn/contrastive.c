/* SimCLR's pieces (include/syre/nn.h): the projection head and the NT-Xent
 * loss, built from graph ops. */
#include "syre/nn.h"

#include <stdio.h>

sy_var sy_projection_head(sy_graph *g, sy_var h, const char *name, int hidden, int out)
{
    char l0[112], l2[112];
    snprintf(l0, sizeof l0, "%s.0", name);
    snprintf(l2, sizeof l2, "%s.2", name);
    return sy_linear(g, sy_relu(g, sy_linear(g, h, l0, hidden)), l2, out);
}

sy_var sy_nt_xent(sy_graph *g, sy_var z, sy_var mask, sy_var partner, double tau)
{
    sy_var u = sy_l2normalize(g, z, 1e-8f);
    sy_var sim = sy_scale(g, sy_matmul(g, u, u, 0, 1), (float)(1.0 / tau));
    return sy_softmax_ce(g, sy_add(g, sim, mask), partner);
}

void sy_nt_xent_fill(float *mask, float *partner, int batch)
{
    int R = 2 * batch;
    for (int i = 0; i < R; i++) {
        for (int j = 0; j < R; j++) mask[(size_t)i * R + j] = i == j ? -1e4f : 0.0f;
        partner[i] = (float)((i + batch) % R);
    }
}
