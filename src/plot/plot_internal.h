/* Private to the plot component: the end every one-call figure shares. */
#ifndef SYRE_PLOT_INTERNAL_H
#define SYRE_PLOT_INTERNAL_H

#include "syre/plot.h"

/* After a figure's series were drawn with status s: on failure free p and
 * return s; else apply o's log axes and fixed y range and save p in the run
 * as <name>.png/.svg (sy_plot_save_run, which frees it). */
static inline sy_status plot_finish_run(sy_plot *p, sy_status s, const sy_plot_opts *o, const sy_run *run,
                                        const char *name)
{
    if (s != SY_OK) {
        sy_plot_free(p);
        return s;
    }
    if (o->logx || o->logy) sy_plot_log_axes(p, o->logx, o->logy);
    if (o->ymin < o->ymax) sy_plot_yrange(p, o->ymin, o->ymax);
    return sy_plot_save_run(p, run, name);
}

#endif
