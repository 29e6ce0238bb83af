/* sy_fit: the shared epoch loop (include/syre/trainer.h). It is the loop the
 * experiments wrote each for themselves, in the same order of calls, so that
 * their records and checkpoints stay what they were: step, loss sum,
 * checkpoint cadence and stop after every step; the distributed mean of the
 * loss sum, the epoch callback and the checkpoint at every epoch end. */
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "syre/dist.h"
#include "syre/trainer.h"

sy_fit_opts sy_fit_defaults(void)
{
    sy_fit_opts o;
    memset(&o, 0, sizeof o);
    o.y = -1;
    o.label = "train";
    return o;
}

/* Resume from o->ckpt into *pos; *pos stays zero and *loaded 0 when there is
 * none (the method starts afresh). */
static sy_status fit_resume(const sy_fit_opts *o, sy_train_pos *pos, int *loaded)
{
    *loaded = 0;
    if (!o->resume || !o->ckpt) return SY_OK;
    sy_train_pos p;
    sy_status s = sy_train_load_units(o->ckpt, o->params, o->opt, o->units, &p);
    if (s == SY_ERR_IO) { /* no checkpoint yet: this method starts afresh */
        sy_clear_error();
        return SY_OK;
    }
    if (s != SY_OK) return s;
    *pos = p, *loaded = 1;
    if (pos->batch == 0) pos->loss_sum = pos->aux_sum = 0;
    sy_graph_set_step(o->graph, (uint64_t)pos->graph_step);
    fprintf(stderr, "%s resumed at epoch %ld (batch %ld) of %ld\n", o->label, (long)pos->epoch, (long)pos->batch,
            o->epochs);
    return o->on_resume ? o->on_resume(o->ctx, pos) : SY_OK;
}

static sy_status fit_save(const sy_fit_opts *o, const sy_train_pos *pos)
{
    sy_status s = o->on_save ? o->on_save(o->ctx) : SY_OK;
    if (s == SY_OK && o->ckpt) s = sy_train_save_units(o->ckpt, o->params, o->opt, o->units, pos);
    return s;
}

/* After a step: the checkpoint cadence and a requested stop. */
static sy_status fit_poll(const sy_fit_opts *o, const sy_fit_state *st, long total)
{
    int due = control_ckpt_due(&o->control, sy_optimizer_steps(o->opt));
    if (due == SY_CKPT_NO) return SY_OK;
    /* the mean over ranks: each rank adds its own rest of the epoch to it */
    sy_train_pos mid = {.epoch = st->epoch, .batch = st->batch, .graph_step = (int64_t)sy_graph_step(o->graph),
                        .loss_sum = sy_dist_mean(st->loss_sum), .aux_sum = sy_dist_mean(st->aux_sum)};
    sy_status s = fit_save(o, &mid);
    if (s == SY_OK && due == SY_CKPT_STOP) s = control_stopped(&o->control, o->label, st->step + 1, total);
    return s;
}

/* The next batch into the inputs x, y (the batcher's, or the caller's
 * source): its samples, 0 at the epoch's end or when the source failed (*s). */
static size_t fit_next(const sy_fit_opts *o, float *x, float *y, sy_status *s)
{
    if (!o->next) return sy_batcher_next(o->batcher, x, y);
    size_t n = 0;
    *s = o->next(o->ctx, &n);
    return *s == SY_OK ? n : 0;
}

/* One epoch from batch st->batch on (the ones before were trained already). */
static sy_status fit_epoch(const sy_fit_opts *o, sy_fit_state *st, long nb, sy_progress *pr)
{
    float *x = NULL, *y = NULL;
    if (!o->next) { /* a source of the caller's fills the inputs itself */
        x = sy_graph_data(o->graph, o->x);
        y = o->y >= 0 ? sy_graph_data(o->graph, o->y) : NULL;
        sy_batcher_epoch(o->batcher, (uint64_t)st->epoch);
    }
    sy_status s = o->on_epoch_start ? o->on_epoch_start(o->ctx, st->epoch) : SY_OK;
    size_t n;
    for (long k = 0; s == SY_OK && k < st->batch && (n = fit_next(o, x, y, &s)) > 0; k++)
        if (o->on_batch) s = o->on_batch(o->ctx, n); /* trained before the stop: only keep streams in step */
    int every = o->progress_every > 0 ? o->progress_every : 50;
    while (s == SY_OK && (n = fit_next(o, x, y, &s)) > 0) {
        if (o->on_batch && (s = o->on_batch(o->ctx, n)) != SY_OK) break;
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
        if (o->units && (s = sy_unit_reset_step(o->units, st->step)) != SY_OK) break;
        if (o->on_step && (s = o->on_step(o->ctx, st)) != SY_OK) break;
        s = fit_poll(o, st, o->epochs * nb);
        if ((st->step + 1) % every == 0) {
            char note[64];
            snprintf(note, sizeof note, "epoch %ld loss %.4g", st->epoch + 1, st->loss_sum / (double)st->batch);
            sy_progress_update(pr, st->step + 1, note);
        }
    }
    return s;
}

sy_status sy_fit(const sy_fit_opts *o, sy_fit_result *out)
{
    sy_train_pos pos = {0};
    int loaded;
    sy_status s = fit_resume(o, &pos, &loaded);
    /* A method that starts afresh checkpoints its position 0 before it logs
     * a row: a kill before its first real checkpoint then resumes from there,
     * and the load cuts the records back to where they stood (no row logged
     * twice). */
    if (s == SY_OK && !loaded) {
        pos.graph_step = (int64_t)sy_graph_step(o->graph);
        s = fit_save(o, &pos);
    }
    if (s != SY_OK) return s;
    long nb = (long)sy_batcher_num_batches(o->batcher);
    long start = (long)pos.epoch < o->epochs ? (long)pos.epoch : o->epochs; /* more epochs: train on */
    if (out) out->start_epoch = start, out->epochs_trained = 0;
    sy_progress *pr = sy_progress_start(o->label, (int64_t)o->epochs * nb);
    sy_fit_state st = {.epoch = start, .batch = (long)pos.batch, .loss_sum = pos.loss_sum, .aux_sum = pos.aux_sum};
    for (; s == SY_OK && st.epoch < o->epochs; st.epoch++) {
        if ((s = fit_epoch(o, &st, nb, pr)) != SY_OK) break;
        double mean = sy_dist_mean(st.loss_sum) / (double)(st.batch ? st.batch : 1); /* the global batches' mean */
        if (o->on_epoch && (s = o->on_epoch(o->ctx, st.epoch + 1, mean)) != SY_OK) break;
        pos = (sy_train_pos){.epoch = st.epoch + 1, .graph_step = (int64_t)sy_graph_step(o->graph),
                             .done = st.epoch + 1 == o->epochs};
        if ((s = fit_save(o, &pos)) != SY_OK) break;
        if (out) out->epochs_trained++;
        st.batch = 0, st.loss_sum = st.aux_sum = 0;
    }
    sy_progress_update(pr, st.epoch * nb + st.batch, NULL);
    sy_progress_finish(pr);
    return s;
}
