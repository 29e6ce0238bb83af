/* Mini-batching: a per-epoch order drawn from the SY_STREAM_DATA sub-stream
 * numbered by the epoch, so epoch k is reproducible without replaying epochs
 * 0..k-1; batches are copied into caller buffers and nothing is allocated.
 * In a distributed run (syre/dist.h) every rank walks the same global order
 * and copies only its contiguous shard of each global batch. */
#include "syre/data.h"
#include "syre/dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct sy_batcher {
    const sy_dataset *d;
    sy_batcher_opts opts;
    int *order;     /* (n) dataset indices in this epoch's order */
    size_t pos;     /* next position in order */
    size_t last;    /* start of the batch last returned */
    size_t last_n;  /* its size */
    size_t rank, nranks; /* shard of every global batch (nranks 1: all of it) */
    size_t last_global, last_begin; /* the last global batch's size, this rank's first row in it */
};

sy_batcher_opts sy_batcher_opts_default(void)
{
    sy_batcher_opts o = {.batch = 128, .shuffle = 1, .drop_last = 0, .seed = 0};
    return o;
}

sy_status sy_batcher_new(const sy_dataset *d, sy_batcher_opts opts, sy_batcher **out)
{
    *out = NULL;
    if (!d || opts.batch == 0)
        return sy_fail(SY_ERR_ARG, "batcher: need a dataset and batch size > 0");
    if (d->n > (size_t)0x7fffffff)
        return sy_fail(SY_ERR_ARG, "batcher: %s has %zu samples, more than an int index holds",
                       d->name, d->n);
    size_t nr = opts.replicate ? 1 : (size_t)sy_dist_size();
    if (nr > 1) {
        size_t local;
        if (sy_dist_local_batch(opts.batch, &local) != SY_OK) {
            char why[512];
            snprintf(why, sizeof why, "%s", sy_last_error());
            return sy_fail(SY_ERR_ARG, "batcher over %s: %s", d->name, why);
        }
        size_t tail = d->n % opts.batch;
        if (!opts.drop_last && tail % nr != 0)
            return sy_fail(SY_ERR_ARG,
                           "batcher over %s: the last batch of an epoch has %zu samples, which do not split "
                           "evenly over %zu ranks: set drop_last, or a batch size that divides %zu",
                           d->name, tail, nr, d->n);
    }
    sy_batcher *b = calloc(1, sizeof *b);
    if (!b || !(b->order = malloc((d->n + 1) * sizeof *b->order))) {
        free(b);
        return sy_fail(SY_ERR_NOMEM, "batcher: out of memory for %zu indices", d->n);
    }
    b->d = d;
    b->opts = opts;
    b->nranks = nr;
    b->rank = nr > 1 ? (size_t)sy_dist_rank() : 0;
    sy_batcher_epoch(b, 0);
    *out = b;
    return SY_OK;
}

void sy_batcher_free(sy_batcher *b)
{
    if (!b)
        return;
    free(b->order);
    free(b);
}

void sy_batcher_epoch(sy_batcher *b, uint64_t epoch)
{
    for (size_t i = 0; i < b->d->n; i++)
        b->order[i] = (int)i;
    if (b->opts.shuffle) {
        sy_rng r = sy_rng_make(b->opts.seed, SY_STREAM_DATA, epoch);
        sy_rng_shuffle(&r, b->order, b->d->n);
    }
    b->pos = 0;
    b->last = 0;
    b->last_n = 0;
}

size_t sy_batcher_num_batches(const sy_batcher *b)
{
    size_t n = b->d->n, B = b->opts.batch;
    return b->opts.drop_last ? n / B : (n + B - 1) / B;
}

size_t sy_batcher_next(sy_batcher *b, float *x, float *y)
{
    size_t n = b->d->n, left = n - b->pos;
    size_t cnt = left < b->opts.batch ? left : b->opts.batch;
    if (cnt == 0 || (b->opts.drop_last && cnt < b->opts.batch)) {
        b->last_n = 0;
        return 0;
    }
    /* This rank's slice of the global batch [pos, pos + cnt). */
    size_t lo = b->rank * cnt / b->nranks, hi = (b->rank + 1) * cnt / b->nranks;
    size_t numel = sy_dataset_numel(b->d);
    for (size_t i = 0; i < hi - lo; i++) {
        int k = b->order[b->pos + lo + i];
        if (x)
            memcpy(x + i * numel, b->d->x + (size_t)k * numel, numel * sizeof(float));
        if (y)
            y[i] = (float)b->d->y[k];
    }
    b->last = b->pos + lo;
    b->last_n = hi - lo;
    b->last_global = cnt;
    b->last_begin = lo;
    b->pos += cnt;
    return hi - lo;
}

size_t sy_batcher_local_batch(const sy_batcher *b) { return b->opts.batch / b->nranks; }

void sy_batcher_last_shard(const sy_batcher *b, size_t *begin, size_t *global)
{
    *begin = b->last_n ? b->last_begin : 0;
    *global = b->last_n ? b->last_global : 0;
}

const int *sy_batcher_indices(const sy_batcher *b) { return b->order + b->last; }
