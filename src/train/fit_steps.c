/* sy_fit_steps: the rules of sy_fit (resume, checkpoint cadence, stops, a
 * final checkpoint, progress) for a loop of hand-computed steps. */
#include <stdio.h>
#include <string.h>

#include "control.h"
#include "syre/trainer.h"

sy_status sy_fit_steps(const sy_fit_steps_opts *o, int *diverged)
{
    if (!o || !o->params || !o->opt || !o->ckpt || !o->label || !o->step || !o->on_log || !diverged)
        return sy_fail(SY_ERR_ARG, "sy_fit_steps: NULL argument");
    if (o->steps < 0 || o->log_every < 1 || o->ckpt_every < 1)
        return sy_fail(SY_ERR_ARG, "sy_fit_steps: %s: steps %ld, log_every %ld, ckpt_every %ld out of range",
                       o->label, o->steps, o->log_every, o->ckpt_every);
    *diverged = 0;
    sy_train_pos pos = {0};
    sy_status s = SY_OK;
    if (o->resume) {
        s = sy_train_load(o->ckpt, o->params, o->opt, &pos);
        if (s == SY_ERR_IO) { /* no checkpoint: afresh, without rows of an earlier start */
            memset(&pos, 0, sizeof pos);
            sy_clear_error();
            const sy_fit_control *c = &o->control;
            s = c->forget_rows ? c->forget_rows(c->ctx, o->records, o->label) : SY_OK;
        }
        if (s != SY_OK) return s;
    }
    sy_progress *pr = sy_progress_start(o->label, o->steps);
    int stop_log = 0;
    for (long t = pos.done ? o->steps : (long)pos.epoch; t <= o->steps; t++) {
        if (t % o->log_every == 0 || t == o->steps) {
            char note[64] = "";
            if ((s = o->on_log(o->ctx, t, pos.done, &stop_log, note, sizeof note)) != SY_OK || stop_log) break;
            sy_progress_update(pr, t, note[0] ? note : NULL);
        }
        if (t == o->steps) break;
        if ((s = o->step(o->ctx, t)) != SY_OK) break;
        int stop = control_ckpt_due(&o->control, t + 1) == SY_CKPT_STOP;
        if (((t + 1) % o->ckpt_every == 0 || stop) && t + 1 < o->steps) {
            sy_train_pos p = {.epoch = t + 1};
            if ((s = sy_train_save(o->ckpt, o->params, o->opt, &p)) != SY_OK) break;
            if (stop) {
                s = control_stopped(&o->control, o->label, t + 1, o->steps);
                break;
            }
        }
    }
    sy_progress_finish(pr);
    if (s == SY_ERR_NUMERIC || (s == SY_OK && stop_log)) {
        *diverged = 1;
        return SY_OK;
    }
    if (s != SY_OK) return s;
    sy_train_pos p = {.epoch = o->steps, .done = 1};
    return sy_train_save(o->ckpt, o->params, o->opt, &p);
}
