/* SimCLR's training batches (include/syre/data.h): two augmented views of
 * each image of a batch, normalised, in the form sy_prefetch fills. */
#include "syre/data.h"

sy_status sy_simclr_views_fill(void *ctx, float *const *in, size_t *count)
{
    sy_simclr_views *v = ctx;
    if (sy_batcher_next(v->b, v->x, v->y) == 0) return SY_OK;
    size_t B = v->batch, r0, G;
    /* Each view's draws run over the global batch: skip the rows before and
     * after this rank's (none unsharded). */
    sy_batcher_last_shard(v->b, &r0, &G);
    for (int view = 0; view < 2; view++) {
        sy_augment_simclr_skip(&v->aug, r0, v->sample);
        sy_augment_simclr(v->x, in[0] + (size_t)view * B * sy_shape_numel(v->sample), B, v->sample, &v->aug);
        sy_augment_simclr_skip(&v->aug, G - r0 - B, v->sample);
    }
    sy_status s = sy_data_normalize(in[0], 2 * B, v->sample, v->mean, v->std);
    if (s == SY_OK) *count = B;
    return s;
}
