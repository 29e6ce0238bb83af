/* The low-rankness of the SimCLR head's output during training (the
 * experiment's diagnostic beyond Table 1, to locate when collapse begins):
 * every --rank-every epochs, and for the untrained network, the covariance
 * measures of z on the first --rank-n test images, as rows of rank.csv and
 * in memory for two figures: the largest and smallest eigenvalue per epoch,
 * and the share of eigenvalues below 1e-5 x the largest. The training
 * callbacks of experiments/simclr.c call the hooks below that decide when. */
#include <stdlib.h>

#include "simclr.h"

sy_status sc_log_rank(sc_ctx *c, int epoch)
{
    float *Z = malloc((size_t)c->rank_n * c->proj * sizeof(float));
    if (!Z) return sy_fail(SY_ERR_NOMEM, "simclr: out of memory");
    sy_low_rankness r;
    float *dst[1] = {Z};
    sy_status s = sy_graph_features(c->net.feat, c->net.fx, c->test->x, (size_t)c->rank_n, SC_IMG, sc_normalize, c, 1,
                                    &c->net.z, dst);
    if (s == SY_OK) s = sy_low_rankness_measures(Z, c->rank_n, c->proj, SY_LOW_RANKNESS_THR, &r, NULL);
    free(Z);
    if (s != SY_OK) return s;
    const char *n[5] = {"low_rankness", "low_rankness_rel", "eig_max", "eig_min", "effective_rank"};
    double v[5] = {r.share, r.share_rel, r.eig_max, r.eig_min, r.erank};
    double *hist = c->res->hist;
    if (epoch <= c->epochs) {
        hist[epoch] = r.share_rel;
        hist[c->epochs + 1 + epoch] = r.eig_min;
        hist[2 * (c->epochs + 1) + epoch] = r.eig_max;
    }
    return sy_run_log_to(c->run, "rank.csv", c->m->rec, epoch, 5, n, v);
}

sy_status sc_rank_resume(void *ctx, const sy_train_pos *pos)
{
    ((sc_ctx *)ctx)->resumed_batch = (long)pos->batch;
    return SY_OK;
}

sy_status sc_rank_epoch_start(sc_ctx *c, long epoch)
{
    /* The untrained network's row, after position 0's checkpoint: a run
     * resumed later in epoch 0 has it already, one resumed at 0 logs it. */
    if (epoch == 0 && c->resumed_batch == 0 && c->rank_every > 0) return sc_log_rank(c, 0);
    return SY_OK;
}

sy_status sc_rank_epoch_end(sc_ctx *c, long epoch)
{
    if (c->rank_every > 0 && (epoch % c->rank_every == 0 || epoch == c->epochs)) return sc_log_rank(c, (int)epoch);
    return SY_OK;
}

sy_status sc_plot_epochs(sy_run *run, const sc_ctx *c, const sc_method *ms, const sc_result *rs, int n)
{
    if (c->rank_every == 0 || c->epochs == 0) return SY_OK;
    const char *trained[SC_MAX_REC];
    const double *rel[SC_MAX_REC], *lo[SC_MAX_REC], *hi[SC_MAX_REC];
    int E = c->epochs + 1, nt = 0;
    for (int m = 0; m < n; m++) {
        if (!ms[m].trained) continue;
        trained[nt] = ms[m].rec, rel[nt] = rs[m].hist, lo[nt] = rs[m].hist + E, hi[nt++] = rs[m].hist + 2 * E;
    }
    double *ep = malloc(sizeof(double) * (size_t)E);
    if (!ep) return sy_fail(SY_ERR_NOMEM, "simclr: out of memory");
    for (int i = 0; i < E; i++) ep[i] = i;
    const sy_plot_opts oe = {.title = "Head output covariance: largest and smallest eigenvalue per epoch",
                             .xlabel = "epoch", .ylabel = "eigenvalue", .suffix = "max", .suffix2 = "min",
                             .logy = 1, .ref_label = "1e-5 (Table 1 threshold)", .ref = SY_LOW_RANKNESS_THR};
    sy_status s = sy_plot_sweep(run, "simclr-eig-epochs", &oe, ep, E, nt, trained, hi, lo);
    const sy_plot_opts orl = {.title = "Share of eigenvalues below 1e-5 x the largest (relative low-rankness)",
                              .xlabel = "epoch", .ylabel = "share of eigenvalues", .ymin = 0, .ymax = 1};
    if (s == SY_OK) s = sy_plot_sweep(run, "simclr-lowrank-epochs", &orl, ep, E, nt, trained, rel, NULL);
    free(ep);
    return s;
}

