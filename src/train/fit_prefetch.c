/* sy_fit_prefetch (include/syre/fit_prefetch.h): sy_fit with its data source
 * (sy_fit_opts.next) a sy_prefetch over the caller's fill. Each epoch drops
 * what the prefetcher prepared ahead and sets the batcher's epoch before the
 * caller's on_epoch_start, as a loop of its own would; the caller's other
 * callbacks are passed through. sy_fit_prefetch_classifier also counts each
 * step's correct predictions from the prefetcher's host copy of the labels. */
#include "syre/fit_prefetch.h"

typedef struct {
    const sy_fit_opts *o; /* the caller's options and callbacks */
    sy_prefetch *pf;
    const float *logits; /* the training graph's [B, classes] (classifier form), or NULL */
    int classes;
    double *correct; /* the caller's copy of the epoch's count, or NULL */
    size_t n;        /* samples of the batch in the inputs */
} fp_ctx;

static sy_status fp_epoch_start(void *ctx, long epoch)
{
    fp_ctx *c = ctx;
    sy_prefetch_reset(c->pf);
    sy_batcher_epoch(c->o->batcher, (uint64_t)epoch);
    return c->o->on_epoch_start ? c->o->on_epoch_start(c->o->ctx, epoch) : SY_OK;
}

static sy_status fp_next(void *ctx, size_t *n)
{
    fp_ctx *c = ctx;
    sy_status s = sy_prefetch_next(c->pf, n);
    c->n = *n;
    return s;
}

static sy_status fp_step(void *ctx, sy_fit_state *st)
{
    const fp_ctx *c = ctx;
    const sy_fit_opts *o = c->o;
    if (c->logits) st->aux_sum += (double)sy_count_correct(c->logits, c->n, c->classes, sy_prefetch_data(c->pf, 1));
    if (c->correct) *c->correct = st->aux_sum;
    return o->on_step ? o->on_step(o->ctx, st) : SY_OK;
}

static sy_status fp_save(void *ctx)
{
    const sy_fit_opts *o = ((fp_ctx *)ctx)->o;
    return o->on_save ? o->on_save(o->ctx) : SY_OK;
}

static sy_status fp_epoch(void *ctx, long epoch, double loss)
{
    const sy_fit_opts *o = ((fp_ctx *)ctx)->o;
    return o->on_epoch ? o->on_epoch(o->ctx, epoch, loss) : SY_OK;
}

static sy_status fp_resume(void *ctx, const sy_train_pos *pos)
{
    const fp_ctx *c = ctx;
    const sy_fit_opts *o = c->o;
    if ((long)pos->epoch > o->epochs) /* sy_fit would take it as finished */
        return sy_fail(SY_ERR_ARG, "%s: --resume: the checkpoint has %ld epochs, --epochs is %ld",
                       o->label ? o->label : "sy_fit_prefetch", (long)pos->epoch, o->epochs);
    if (c->correct) *c->correct = pos->aux_sum;
    return o->on_resume ? o->on_resume(o->ctx, pos) : SY_OK;
}

/* The loop of both forms; logits NULL: no count. */
static sy_status fit_prefetch(const sy_fit_opts *o, const float *logits, int classes, double *correct,
                              sy_fill_fn fill, void *fill_ctx, sy_fit_result *out)
{
    sy_var ins[2] = {o->x, o->y};
    fp_ctx c = {o, NULL, logits, classes, correct, 0};
    sy_status s = sy_prefetch_new(o->graph, ins, o->y >= 0 ? 2 : 1, fill, fill_ctx, &c.pf);
    if (s != SY_OK) return s;
    sy_fit_opts f = *o;
    f.ctx = &c;
    f.next = fp_next;
    f.on_epoch_start = fp_epoch_start;
    f.on_batch = NULL; /* fill does that work */
    f.on_step = fp_step, f.on_save = fp_save, f.on_epoch = fp_epoch, f.on_resume = fp_resume;
    s = sy_fit(&f, out);
    sy_prefetch_free(c.pf);
    return s;
}

sy_status sy_fit_prefetch(const sy_fit_opts *o, sy_fill_fn fill, void *fill_ctx, sy_fit_result *out)
{
    if (!o || !fill || !o->graph || !o->batcher)
        return sy_fail(SY_ERR_ARG, "sy_fit_prefetch: needs options with a graph and a batcher, and a fill");
    return fit_prefetch(o, NULL, 0, NULL, fill, fill_ctx, out);
}

sy_status sy_fit_prefetch_classifier(const sy_fit_opts *o, sy_var logits, int classes, double *correct,
                                     sy_fill_fn fill, void *fill_ctx, sy_fit_result *out)
{
    if (!o || !fill || !o->graph || !o->batcher || o->y < 0 || logits < 0 || classes < 1)
        return sy_fail(SY_ERR_ARG, "sy_fit_prefetch_classifier: needs options with a graph, a batcher and labels, "
                                   "the logits node, classes >= 1 and a fill");
    return fit_prefetch(o, sy_graph_data(o->graph, logits), classes, correct, fill, fill_ctx, out);
}
