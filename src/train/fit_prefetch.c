/* sy_fit_prefetch (include/syre/fit_prefetch.h): sy_fit's loop in the same
 * order of calls, with sy_prefetch_next in place of the batcher, so that a
 * loop moved onto it keeps its records and checkpoints bit for bit. */
#include <stdio.h>
#include <string.h>

#include "syre/dist.h"
#include "syre/fit_prefetch.h"

static sy_status fp_save(const sy_fit_opts *o, const sy_train_pos *pos)
{
    sy_status s = o->on_save ? o->on_save(o->ctx) : SY_OK;
    if (s == SY_OK && o->ckpt) s = sy_train_save(o->ckpt, o->params, o->opt, pos);
    return s;
}

/* Resume from o->ckpt, or checkpoint position 0 of a method that starts
 * afresh (before it logs a row: a kill then resumes there, no row twice). */
static sy_status fp_start(const sy_fit_opts *o, sy_train_pos *pos)
{
    sy_status s = SY_ERR_IO;
    if (o->resume && o->ckpt && (s = sy_train_load(o->ckpt, o->params, o->opt, pos)) == SY_OK) {
        if (pos->batch == 0) pos->loss_sum = pos->aux_sum = 0;
        sy_graph_set_step(o->graph, (uint64_t)pos->graph_step);
        fprintf(stderr, "%s resumed at epoch %ld (batch %ld) of %ld\n", o->label, (long)pos->epoch,
                (long)pos->batch, o->epochs);
        return o->on_resume ? o->on_resume(o->ctx, pos) : SY_OK;
    }
    if (s != SY_ERR_IO) return s;
    if (o->resume && o->ckpt) sy_clear_error(); /* no checkpoint yet: this method starts afresh */
    memset(pos, 0, sizeof *pos);
    pos->graph_step = (int64_t)sy_graph_step(o->graph);
    return fp_save(o, pos);
}

/* After a step: the checkpoint cadence and a requested stop. */
static sy_status fp_poll(const sy_fit_opts *o, const sy_fit_state *st, long total)
{
    if (!o->run) return SY_OK;
    int due = sy_run_ckpt_due(o->run, sy_optimizer_steps(o->opt));
    if (due == SY_CKPT_NO) return SY_OK;
    /* the mean over ranks: each rank adds its own rest of the epoch to it */
    sy_train_pos mid = {.epoch = st->epoch, .batch = st->batch, .graph_step = (int64_t)sy_graph_step(o->graph),
                        .loss_sum = sy_dist_mean(st->loss_sum), .aux_sum = st->aux_sum};
    sy_status s = fp_save(o, &mid);
    if (s == SY_OK && due == SY_CKPT_STOP) s = sy_run_stopped(o->run, st->step + 1, total);
    return s;
}

/* One epoch from batch st->batch on (the ones before were trained already). */
static sy_status fp_epoch(const sy_fit_opts *o, sy_prefetch *pf, sy_fit_state *st, long nb, sy_progress *pr)
{
    sy_prefetch_reset(pf);
    sy_batcher_epoch(o->batcher, (uint64_t)st->epoch);
    sy_status s = o->on_epoch_start ? o->on_epoch_start(o->ctx, st->epoch) : SY_OK;
    size_t n = 0;
    for (long k = 0; s == SY_OK && k < st->batch; k++) /* trained before the stop: keep the fill's streams in step */
        if ((s = sy_prefetch_next(pf, &n)) == SY_OK && n == 0) break;
    int every = o->progress_every > 0 ? o->progress_every : 50;
    while (s == SY_OK && (s = sy_prefetch_next(pf, &n)) == SY_OK && n > 0) {
        st->step = st->epoch * nb + st->batch;
        if ((s = sy_train_step(o->graph, o->loss, o->opt)) != SY_OK) {
            char why[512];
            snprintf(why, sizeof why, "%s", sy_last_error());
            return sy_fail(s, "%s diverged in epoch %ld, step %ld (%s); lower the learning rate", o->label,
                           st->epoch + 1, st->step, why);
        }
        st->loss = sy_graph_scalar(o->graph, o->loss);
        st->loss_sum += st->loss;
        st->batch++;
        if (o->on_step && (s = o->on_step(o->ctx, st)) != SY_OK) break;
        s = fp_poll(o, st, o->epochs * nb);
        if ((st->step + 1) % every == 0) {
            char note[64];
            snprintf(note, sizeof note, "epoch %ld loss %.4g", st->epoch + 1, st->loss_sum / (double)st->batch);
            sy_progress_update(pr, st->step + 1, note);
        }
    }
    return s;
}

sy_status sy_fit_prefetch(const sy_fit_opts *o, sy_fill_fn fill, void *fill_ctx, sy_fit_result *out)
{
    if (!o || !fill || !o->graph || !o->batcher)
        return sy_fail(SY_ERR_ARG, "sy_fit_prefetch: needs options with a graph and a batcher, and a fill");
    sy_train_pos pos;
    sy_status s = fp_start(o, &pos);
    if (s != SY_OK) return s;
    sy_var ins[2] = {o->x, o->y};
    sy_prefetch *pf = NULL;
    if ((s = sy_prefetch_new(o->graph, ins, o->y >= 0 ? 2 : 1, fill, fill_ctx, &pf)) != SY_OK) return s;
    long nb = (long)sy_batcher_num_batches(o->batcher);
    long start = (long)pos.epoch < o->epochs ? (long)pos.epoch : o->epochs; /* more epochs: train on */
    if (out) out->start_epoch = start, out->epochs_trained = 0;
    sy_progress *pr = sy_progress_start(o->label, (int64_t)o->epochs * nb);
    sy_fit_state st = {.epoch = start, .batch = (long)pos.batch, .loss_sum = pos.loss_sum, .aux_sum = pos.aux_sum};
    for (; s == SY_OK && st.epoch < o->epochs; st.epoch++) {
        if ((s = fp_epoch(o, pf, &st, nb, pr)) != SY_OK) break;
        double mean = sy_dist_mean(st.loss_sum) / (double)(st.batch ? st.batch : 1); /* the global batches' mean */
        if (o->on_epoch && (s = o->on_epoch(o->ctx, st.epoch + 1, mean)) != SY_OK) break;
        pos = (sy_train_pos){.epoch = st.epoch + 1, .graph_step = (int64_t)sy_graph_step(o->graph),
                             .done = st.epoch + 1 == o->epochs};
        if ((s = fp_save(o, &pos)) != SY_OK) break;
        if (out) out->epochs_trained++;
        st.batch = 0, st.loss_sum = st.aux_sum = 0;
    }
    sy_progress_update(pr, st.epoch * nb + st.batch, NULL);
    sy_progress_finish(pr);
    sy_prefetch_free(pf);
    return s;
}
