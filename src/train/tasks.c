/* sy_fit_tasks: tasks one after another through sy_fit (include/syre/trainer.h).
 * Epoch E of the loop is epoch E % epochs of task E / epochs; the epoch
 * rows, the task rows kept beside the checkpoint and the reset at task
 * boundaries are the same whether a run is whole or resumed. */
#include <math.h>
#include <stdio.h>

#include "syre/dist.h"
#include "syre/format.h"
#include "syre/trainer.h"

typedef struct {
    const sy_tasks_opts *o;
    int task;
    long nbatch, from, from_batch; /* the epoch and batch a resume started at (from -1: none) */
    float *x, *y;
    const float *z;
    double corr; /* the epoch's correct predictions so far (this rank's) */
} tasks_fit;

static sy_status tk_epoch_start(void *ctx, long e)
{
    tasks_fit *f = ctx;
    const sy_tasks_opts *o = f->o;
    f->task = (int)(e / o->epochs);
    if (!o->on_task_start || e % o->epochs || f->task == 0 || (e == f->from && f->from_batch > 0)) return SY_OK;
    return o->on_task_start(o->ctx, f->task); /* a boundary, not into a task resumed midway */
}

static sy_status tk_batch(void *ctx, size_t n)
{
    tasks_fit *f = ctx;
    return f->o->on_batch ? f->o->on_batch(f->o->ctx, f->task, f->x, n) : SY_OK;
}

static sy_status tk_step(void *ctx, sy_fit_state *st)
{
    tasks_fit *f = ctx;
    st->aux_sum += (double)sy_count_correct(f->z, sy_batcher_local_batch(f->o->fit.batcher), f->o->classes, f->y);
    f->corr = st->aux_sum;
    return SY_OK;
}

static sy_status tk_resume(void *ctx, const sy_train_pos *pos)
{
    tasks_fit *f = ctx;
    const sy_tasks_opts *o = f->o;
    int done = (int)(pos->epoch / o->epochs);
    if (pos->epoch > (int64_t)o->tasks * o->epochs)
        return sy_fail(SY_ERR_ARG, "%s: --resume: the checkpoint has %d tasks, --tasks is %d", o->fit.label, done,
                       o->tasks);
    /* A checkpoint inside the first task comes before the first row is kept. */
    sy_status s = done > 0 && o->history ? sy_table_load(o->history, done, o->row, o->hist) : SY_OK;
    if (s != SY_OK)
        return sy_fail(s, "%s: --resume: %s (checkpoint after task %d)", o->fit.label, sy_last_error(), done);
    f->from = (long)pos->epoch, f->from_batch = (long)pos->batch, f->corr = pos->aux_sum;
    fprintf(stderr, "%s resumes after task %d of %d (batch %ld of the next)\n", o->fit.label, done, o->tasks,
            (long)(pos->epoch % o->epochs) * f->nbatch + (long)pos->batch);
    return SY_OK;
}

/* Test inputs made task k's by on_batch; its first failure is kept. */
typedef struct {
    const sy_tasks_opts *o;
    int task;
    sy_status s;
} tasks_test;

static void tk_test_inputs(void *ctx, float *x, size_t n)
{
    tasks_test *p = ctx;
    if (p->s == SY_OK && p->o->on_batch) p->s = p->o->on_batch(p->o->ctx, p->task, x, n);
}

/* Task t's row of the accuracy matrix: the accuracy on every task so far, logged. */
static sy_status tk_accuracies(const sy_tasks_opts *o, int t, double *row)
{
    const sy_classifier *m = o->classifier;
    sy_status s = SY_OK;
    for (int k = 0; k <= t && s == SY_OK; k++) {
        tasks_test p = {o, k, SY_OK};
        s = sy_eval_classifier(m->eval, m->ex, m->elogits, o->test, tk_test_inputs, &p, NULL, &row[o->acc_col + k]);
        if (s == SY_OK) s = p.s;
    }
    const sy_fit_control *c = &o->fit.control;
    for (int k = 0; k <= t && s == SY_OK && o->acc_file && c->log; k++) {
        const char *an[2] = {"eval_task", "test_acc"};
        double av[2] = {k + 1, row[o->acc_col + k]};
        s = c->log(c->ctx, o->acc_file, o->method, t + 1, 2, an, av);
    }
    return s;
}

static sy_status tk_epoch(void *ctx, long e, double loss)
{
    tasks_fit *f = ctx;
    const sy_tasks_opts *o = f->o;
    int t = f->task;
    double corr = f->corr; /* mpirun: every rank's shards */
    sy_status s = sy_dist_sum(&corr, 1);
    const char *en[3] = {"task", "train_loss", "train_acc"};
    long seen = f->nbatch * (long)sy_batcher_local_batch(o->fit.batcher) * sy_dist_size(); /* samples, all ranks */
    double ev[3] = {t + 1, loss, corr / (double)seen};
    const sy_fit_control *c = &o->fit.control;
    if (s == SY_OK && c->log) s = c->log(c->ctx, NULL, o->method, e, 3, en, ev);
    if (s != SY_OK || e % o->epochs) return s;
    if (o->classifier && o->test && (s = tk_accuracies(o, t, o->hist + (size_t)t * o->row)) != SY_OK) return s;
    if (o->on_task_end && (s = o->on_task_end(o->ctx, t, ev[1], ev[2], o->hist + (size_t)t * o->row)) != SY_OK)
        return s;
    return o->history ? sy_table_save(o->history, t + 1, o->row, o->hist) : SY_OK;
}

sy_status sy_fit_tasks(const sy_tasks_opts *opts, sy_fit_result *out)
{
    sy_tasks_opts model = *opts; /* the model's nodes taken from the classifier, if one is given */
    const sy_tasks_opts *o = &model;
    const sy_classifier *m = opts->classifier;
    if (m) {
        model.fit.graph = m->train, model.fit.loss = m->loss, model.fit.params = m->ps;
        model.fit.x = m->x, model.fit.y = m->y, model.logits = m->logits;
    }
    if (m && opts->test && (opts->acc_col < 0 || opts->acc_col + opts->tasks > opts->row))
        return sy_fail(SY_ERR_ARG, "%s: the accuracy matrix needs columns %d to %d of a row of %d", opts->fit.label,
                       opts->acc_col, opts->acc_col + opts->tasks - 1, opts->row);
    for (size_t i = 0; i < (size_t)o->tasks * (size_t)o->row; i++) o->hist[i] = NAN;
    tasks_fit f = {.o = o, .from = -1, .nbatch = (long)sy_batcher_num_batches(o->fit.batcher),
                   .x = sy_graph_data(o->fit.graph, o->fit.x), .y = sy_graph_data(o->fit.graph, o->fit.y),
                   .z = sy_graph_data(o->fit.graph, o->logits)};
    sy_fit_opts fo = o->fit;
    fo.epochs = (long)o->tasks * o->epochs;
    fo.ctx = &f, fo.on_epoch_start = tk_epoch_start, fo.on_batch = tk_batch, fo.on_step = tk_step;
    fo.on_epoch = tk_epoch, fo.on_resume = tk_resume, fo.on_save = NULL, fo.next = NULL;
    return sy_fit(&fo, out);
}
