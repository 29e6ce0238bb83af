/* Training-state checkpoints: everything needed to continue a run bit for bit
 * (parameters, optimizer state and step, the graph's dropout step, and where
 * the data stream stands), in one safetensors file written atomically. */
#ifndef SYRE_TRAIN_H
#define SYRE_TRAIN_H

#include <stdint.h>

#include "syre/graph.h"
#include "syre/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Where a run stands. Data order is a pure function of (seed, epoch), so
 * (epoch, batch) is enough to put the batcher back where it was. */
typedef struct {
    int64_t epoch;        /* epoch in progress (or the number done, with batch = 0) */
    int64_t batch;        /* batches of that epoch already trained */
    int64_t graph_step;   /* sy_graph_step of the training graph (dropout masks) */
    int done;             /* 1 once the method finished training */
} sy_train_pos;

/* Save ps, every optimizer state array ("optim.<name>"), its step count and
 * pos to path atomically (temporary file, fsync, rename). opt may be NULL. */
sy_status sy_train_save(const char *path, sy_params *ps, sy_optimizer *opt, const sy_train_pos *pos);
/* Restore what sy_train_save wrote into an existing store and optimizer of the
 * same model and settings. A missing file fails with SY_ERR_IO (callers
 * treat it as "start from scratch"); a mismatching one fails naming what
 * differs and changes nothing. */
sy_status sy_train_load(const char *path, sy_params *ps, sy_optimizer *opt, sy_train_pos *pos);

#ifdef __cplusplus
}
#endif
#endif
