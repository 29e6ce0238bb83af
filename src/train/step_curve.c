/* A training-loss curve over steps, for a figure of how a loss falls: the
 * mean of every N steps' losses (and the first step's alone), in memory
 * while a loop runs, in a small file beside its checkpoint so that a
 * resumed loop still has the points of the steps before. */
#include <stdlib.h>
#include <string.h>

#include "syre/dist.h"
#include "syre/io.h"
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
