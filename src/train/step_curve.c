/* A training-loss curve over steps, for a figure of how a loss falls: the
 * mean of every N steps' losses (and the first step's alone), in memory
 * while a loop runs, in a small file beside its checkpoint so that a
 * resumed loop still has the points of the steps before. */
#include <stdlib.h>
#include <string.h>

#include "syre/dist.h"
#include "syre/format.h"
#include "syre/trainer.h"

sy_status sy_step_curve_init(sy_step_curve *c, const char *path, long every, long steps_per_epoch, long epochs)
{
    memset(c, 0, sizeof *c);
    if (!path || every < 1 || steps_per_epoch < 0 || epochs < 0)
        return sy_fail(SY_ERR_ARG, "sy_step_curve_init: need a path and a point every >= 1 steps, not %ld", every);
    size_t len = strlen(path) + 1;
    c->every = every, c->steps_per_epoch = steps_per_epoch;
    c->cap = (int)(steps_per_epoch * epochs / every) + 2;
    c->path = malloc(len);
    c->step = malloc(sizeof(double) * (size_t)c->cap);
    c->loss = malloc(sizeof(double) * (size_t)c->cap);
    if (!c->path || !c->step || !c->loss) {
        sy_step_curve_free(c);
        return sy_fail(SY_ERR_NOMEM, "sy_step_curve_init: out of memory for the curve %s", path);
    }
    memcpy(c->path, path, len);
    return SY_OK;
}

void sy_step_curve_free(sy_step_curve *c)
{
    if (!c) return;
    free(c->path);
    free(c->step);
    free(c->loss);
    memset(c, 0, sizeof *c);
}

int sy_step_curve_step(sy_step_curve *c, sy_fit_state *st, double *mean)
{
    st->aux_sum++;
    if (st->aux_sum != (double)c->every && st->step != 0) return 0;
    *mean = sy_dist_mean(st->loss_sum / st->aux_sum); /* the global batches' loss under mpirun */
    if (c->n < c->cap) {
        c->step[c->n] = (double)st->step;
        c->loss[c->n++] = *mean;
    }
    st->loss_sum = st->aux_sum = 0;
    return 1;
}

sy_status sy_step_curve_save(const sy_step_curve *c) { return sy_curve_write(c->path, c->step, c->loss, c->n); }

sy_status sy_step_curve_resume(sy_step_curve *c, const sy_train_pos *pos)
{
    /* the file is written just before each checkpoint, which commits it: a
     * kill between the two leaves points past the checkpoint, dropped here */
    double upto = (double)(pos->epoch * c->steps_per_epoch + pos->batch);
    return sy_curve_read(c->path, upto, c->cap, c->step, c->loss, &c->n);
}

/* sy_fit_curve: the caller's options with the curve's callbacks in front. */
typedef struct {
    const sy_fit_opts *user;
    sy_step_curve *c;
    sy_status (*on_point)(void *ctx, long step, double loss);
} curve_fit;

static sy_status cf_epoch_start(void *ctx, long epoch)
{
    const sy_fit_opts *u = ((curve_fit *)ctx)->user;
    return u->on_epoch_start(u->ctx, epoch);
}

static sy_status cf_batch(void *ctx, size_t n)
{
    const sy_fit_opts *u = ((curve_fit *)ctx)->user;
    return u->on_batch(u->ctx, n);
}

static sy_status cf_step(void *ctx, sy_fit_state *st)
{
    curve_fit *f = ctx;
    double mean;
    sy_status s = SY_OK;
    if (sy_step_curve_step(f->c, st, &mean) && f->on_point) s = f->on_point(f->user->ctx, st->step, mean);
    return s == SY_OK && f->user->on_step ? f->user->on_step(f->user->ctx, st) : s;
}

static sy_status cf_save(void *ctx)
{
    curve_fit *f = ctx;
    sy_status s = sy_step_curve_save(f->c);
    return s == SY_OK && f->user->on_save ? f->user->on_save(f->user->ctx) : s;
}

static sy_status cf_epoch(void *ctx, long epoch, double loss)
{
    const sy_fit_opts *u = ((curve_fit *)ctx)->user;
    return u->on_epoch(u->ctx, epoch, loss);
}

static sy_status cf_resume(void *ctx, const sy_train_pos *pos)
{
    curve_fit *f = ctx;
    sy_status s = sy_step_curve_resume(f->c, pos);
    return s == SY_OK && f->user->on_resume ? f->user->on_resume(f->user->ctx, pos) : s;
}

static sy_status cf_next(void *ctx, size_t *n)
{
    const sy_fit_opts *u = ((curve_fit *)ctx)->user;
    return u->next(u->ctx, n);
}

sy_status sy_fit_curve(const sy_fit_opts *o, sy_step_curve *c, sy_status (*on_point)(void *ctx, long step, double loss),
                       sy_fit_result *out)
{
    if (!o || !c || !c->path) return sy_fail(SY_ERR_ARG, "sy_fit_curve: need options and an initialised curve");
    curve_fit f = {.user = o, .c = c, .on_point = on_point};
    sy_fit_opts fo = *o;
    fo.ctx = &f, fo.on_step = cf_step, fo.on_save = cf_save, fo.on_resume = cf_resume;
    fo.on_epoch_start = o->on_epoch_start ? cf_epoch_start : NULL;
    fo.on_batch = o->on_batch ? cf_batch : NULL;
    fo.on_epoch = o->on_epoch ? cf_epoch : NULL;
    fo.next = o->next ? cf_next : NULL;
    return sy_fit(&fo, out);
}
