/* sy_fit's options for a classifier's training graph (sy_classifier_new):
 * the model and data fields every classifier's loop sets the same way. */
#include "syre/trainer.h"

sy_fit_opts sy_fit_classifier(const sy_classifier *m, sy_optimizer *opt, sy_batcher *b, long epochs)
{
    sy_fit_opts o = sy_fit_defaults();
    o.graph = m->train, o.loss = m->loss, o.params = m->ps, o.opt = opt;
    o.batcher = b, o.x = m->x, o.y = m->y, o.epochs = epochs;
    return o;
}
