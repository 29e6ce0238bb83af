/* Private: the loops' calls through a sy_fit_control, each a no-op (or the
 * plain answer) where the control leaves the member NULL. */
#ifndef SYRE_TRAIN_CONTROL_H
#define SYRE_TRAIN_CONTROL_H

#include "syre/trainer.h"

static inline int control_ckpt_due(const sy_fit_control *c, long step)
{
    return c->ckpt_due ? c->ckpt_due(c->ctx, step) : SY_CKPT_NO;
}

static inline sy_status control_stopped(const sy_fit_control *c, const char *label, long step, long total)
{
    if (c->stopped) return c->stopped(c->ctx, step, total);
    return sy_fail(SY_ERR_STOPPED, "%s: stopped at step %ld of %ld (checkpoint written)", label, step, total);
}

#endif
