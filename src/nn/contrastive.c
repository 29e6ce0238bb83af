/* SimCLR's pieces (include/syre/nn.h): the projection head and the NT-Xent
 * loss, built from graph ops. */
#include "syre/nn.h"

#include "syre/dist.h"

#include <stdio.h>
#include <string.h>

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

sy_var sy_nt_xent_ranks(sy_graph *g, sy_var z, sy_var mask, sy_var partner, double tau)
{
    sy_var u = sy_l2normalize(g, z, 1e-8f);
    sy_var sim = sy_scale(g, sy_matmul(g, u, sy_rank_gather(g, u), 0, 1), (float)(1.0 / tau));
    return sy_softmax_ce(g, sy_add(g, sim, mask), partner);
}

void sy_nt_xent_fill_ranks(float *mask, float *partner, int batch, int rank, int nranks)
{
    int R = 2 * batch, G = R * nranks;
    for (int i = 0; i < R; i++) {
        int self = rank * R + i; /* this row's column among the gathered rows */
        for (int j = 0; j < G; j++) mask[(size_t)i * G + j] = j == self ? -1e4f : 0.0f;
        partner[i] = (float)(rank * R + (i + batch) % R);
    }
}

void sy_nt_xent_fill(float *mask, float *partner, int batch)
{
    int R = 2 * batch;
    for (int i = 0; i < R; i++) {
        for (int j = 0; j < R; j++) mask[(size_t)i * R + j] = i == j ? -1e4f : 0.0f;
        partner[i] = (float)((i + batch) % R);
    }
}

sy_status sy_simclr_new(sy_simclr *m, int width, int proj, int batch, int eval_n, double tau)
{
    memset(m, 0, sizeof *m);
    m->hidden = 8 * width, m->proj = proj, m->batch = batch, m->eval_n = eval_n;
    m->ps = sy_params_new();
    m->train = m->ps ? sy_graph_new(m->ps) : NULL;
    m->feat = m->ps ? sy_graph_new(m->ps) : NULL;
    if (!m->ps || !m->train || !m->feat) {
        sy_simclr_free(m);
        return sy_fail(SY_ERR_NOMEM, "simclr: out of memory");
    }
    /* Training graph: 2B rows (view 1 of the batch, then view 2); under
     * mpirun, negatives from every rank's rows. */
    int R = 2 * batch, N = sy_dist_size();
    m->x = sy_input(m->train, "x", sy_shape_of(4, R, 3, 32, 32));
    m->mask = sy_input(m->train, "diag_mask", sy_shape_of(2, R, R * N));
    m->partner = sy_input(m->train, "partner", sy_shape_of(1, R));
    sy_var h = sy_resnet18(m->train, m->x, "encoder.", width, 0, NULL);
    sy_var z = sy_projection_head(m->train, h, "head", m->hidden, proj);
    m->loss = N > 1 ? sy_nt_xent_ranks(m->train, z, m->mask, m->partner, tau)
                    : sy_nt_xent(m->train, z, m->mask, m->partner, tau);
    sy_status s = sy_graph_compile(m->train);
    if (s == SY_OK && N > 1)
        sy_nt_xent_fill_ranks(sy_graph_data(m->train, m->mask), sy_graph_data(m->train, m->partner), batch,
                              sy_dist_rank(), N);
    else if (s == SY_OK)
        sy_nt_xent_fill(sy_graph_data(m->train, m->mask), sy_graph_data(m->train, m->partner), batch);
    /* Feature graph: h and z of eval_n images, evaluation mode. */
    m->fx = sy_input(m->feat, "x", sy_shape_of(4, eval_n, 3, 32, 32));
    m->h = sy_resnet18(m->feat, m->fx, "encoder.", width, 0, NULL);
    m->z = sy_projection_head(m->feat, m->h, "head", m->hidden, proj);
    if (s == SY_OK) s = sy_graph_compile(m->feat);
    if (s == SY_OK) sy_graph_set_training(m->feat, 0);
    if (s != SY_OK) sy_simclr_free(m);
    return s;
}

void sy_simclr_free(sy_simclr *m)
{
    sy_graph_free(m->train);
    sy_graph_free(m->feat);
    sy_params_free(m->ps);
    m->train = m->feat = NULL;
    m->ps = NULL;
}
