/* Optimizer options of training recipes that several experiments share, so
 * that each states only what it changes (its decay rules). */
#include "syre/optim.h"

sy_optim_opts sy_optim_sgd_cosine(double lr, double momentum, long total_steps, uint64_t seed)
{
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = (float)lr;
    o.momentum = (float)momentum;
    o.schedule.kind = SY_SCHED_COSINE;
    o.schedule.total_steps = total_steps > 0 ? total_steps : 1;
    o.schedule.min_lr = 0;
    o.seed = seed;
    return o;
}
