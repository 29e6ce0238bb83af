/* The batcher of a training graph whose batch is fixed at build time: full
 * batches only, the epoch's short rest dropped. */
#include "syre/data.h"

sy_status sy_batcher_new_full(const sy_dataset *d, size_t batch, uint64_t seed, sy_batcher **out)
{
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = batch;
    bo.drop_last = 1;
    bo.seed = seed;
    return sy_batcher_new(d, bo, out);
}
