/* Batches prepared while the device computes (syre/train.h): a helper
 * thread runs the caller's fill function for batch k+1 into the spare
 * block of the graph's double-buffered inputs (graph_device.c) and uploads
 * it on the device's copy stream, while the caller trains on batch k.
 *
 * Sequencing (batch k in block s):
 *   next():  wait for the helper's batch (block s), make s current, start
 *            the helper on block s^1.
 *   helper:  fill into pin[s^1], then stage_upload(s^1) (copy stream, event).
 *   step k:  the stream waits for the event of s, copies dev[s] into the
 *            inputs, computes; the step ends with a wait.
 * Block s^1 is free when the helper starts on it: batch k-1 lived there, and
 * its step (which read pin/dev[s^1]) finished before next() was called. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "graph/graph_device.h"
#include "syre/train.h"

struct sy_prefetch {
    sy_graph *g;
    int n;
    sy_var *vars;
    sy_fill_fn fill;
    void *ctx;
    int overlap;
    float **in;         /* [n] buffers handed to fill */
    const float **cur;  /* [n] host copies of the current batch */
    int slot;           /* block of the current batch, -1 none yet */
    double fill_s, wait_s;
    /* The helper thread. */
    pthread_t th;
    int started, quit;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int job;            /* block to fill, -1: none */
    int ahead;          /* a batch is ahead (being filled, or done) */
    int busy;
    float **hin;        /* [n] the helper's buffers */
    sy_status st;       /* its result */
    size_t count;
    double t_fill;
    char msg[1024];
};

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* fill into block `slot` and upload it: on the helper, or inline. */
static sy_status fill_block(sy_prefetch *p, int slot, float **in, size_t *count, double *t)
{
    for (int k = 0; k < p->n; k++) in[k] = sy_gdev_stage_host(p->g, slot, k);
    double t0 = now();
    *count = 0;
    sy_status st = p->fill(p->ctx, in, count);
    *t += now() - t0;
    if (!st && *count) sy_gdev_stage_upload(p->g, slot);
    return st;
}

static void *helper(void *arg)
{
    sy_prefetch *p = arg;
    pthread_mutex_lock(&p->mu);
    for (;;) {
        while (p->job < 0 && !p->quit) pthread_cond_wait(&p->cv, &p->mu);
        if (p->quit) break;
        int slot = p->job;
        pthread_mutex_unlock(&p->mu);
        size_t count = 0;
        double t = 0;
        sy_status st = fill_block(p, slot, p->hin, &count, &t);
        pthread_mutex_lock(&p->mu);
        p->st = st;
        p->count = count;
        p->t_fill = t;
        if (st) snprintf(p->msg, sizeof p->msg, "%s", sy_last_error()); /* the message is per thread */
        p->job = -1;
        p->busy = 0;
        pthread_cond_broadcast(&p->cv);
    }
    pthread_mutex_unlock(&p->mu);
    return NULL;
}

sy_status sy_prefetch_new(sy_graph *g, const sy_var *inputs, int n, sy_fill_fn fill, void *ctx, sy_prefetch **out)
{
    *out = NULL;
    if (!g || !fill || n <= 0 || !inputs) return sy_fail(SY_ERR_ARG, "prefetch: need a graph, inputs and a fill function");
    if (!g->compiled) return sy_fail(SY_ERR_STATE, "prefetch: compile the graph first");
    for (int k = 0; k < n; k++)
        if (inputs[k] < 0 || inputs[k] >= g->n_nodes || g->nodes[inputs[k]].op != SY_OP_INPUT)
            return sy_fail(SY_ERR_ARG, "prefetch: node %d is not an input of the graph", (int)inputs[k]);
    sy_prefetch *p = calloc(1, sizeof *p);
    if (!p || !(p->vars = malloc(n * sizeof *p->vars)) || !(p->in = calloc(n, sizeof *p->in)) ||
        !(p->cur = calloc(n, sizeof *p->cur)) || !(p->hin = calloc(n, sizeof *p->hin))) {
        if (p) free(p->vars), free(p->in), free(p->cur), free(p->hin);
        free(p);
        return sy_fail(SY_ERR_NOMEM, "prefetch: out of memory");
    }
    memcpy(p->vars, inputs, n * sizeof *p->vars);
    p->g = g;
    p->n = n;
    p->fill = fill;
    p->ctx = ctx;
    p->slot = -1;
    p->job = -1;
    p->overlap = g->gdev && g->opts.prefetch;
    sy_status st = SY_OK;
    if (p->overlap && (st = sy_gdev_stage_init(g, inputs, n)) == SY_OK) {
        pthread_mutex_init(&p->mu, NULL);
        pthread_cond_init(&p->cv, NULL);
        if (pthread_create(&p->th, NULL, helper, p) != 0) {
            pthread_cond_destroy(&p->cv);
            pthread_mutex_destroy(&p->mu);
            st = sy_fail(SY_ERR_STATE, "prefetch: cannot start its thread");
        } else {
            p->started = 1;
        }
    }
    if (st) {
        sy_prefetch_free(p);
        return st;
    }
    *out = p;
    return SY_OK;
}

int sy_prefetch_overlaps(const sy_prefetch *p) { return p && p->overlap; }

void sy_prefetch_reset(sy_prefetch *p)
{
    if (!p || !p->started) return;
    double t0 = now();
    pthread_mutex_lock(&p->mu);
    while (p->busy) pthread_cond_wait(&p->cv, &p->mu);
    p->ahead = 0;
    pthread_mutex_unlock(&p->mu);
    p->wait_s += now() - t0;
}

sy_status sy_prefetch_next(sy_prefetch *p, size_t *count)
{
    *count = 0;
    if (!p) return sy_fail(SY_ERR_ARG, "prefetch: NULL");
    sy_status st;
    if (!p->overlap) {
        for (int k = 0; k < p->n; k++) p->in[k] = sy_graph_data(p->g, p->vars[k]);
        double t0 = now();
        st = p->fill(p->ctx, p->in, count);
        p->fill_s += now() - t0;
        for (int k = 0; k < p->n; k++) p->cur[k] = p->in[k];
        return st;
    }
    int slot;
    if (p->ahead) { /* the helper's batch */
        double t0 = now();
        pthread_mutex_lock(&p->mu);
        while (p->busy) pthread_cond_wait(&p->cv, &p->mu);
        p->ahead = 0;
        slot = p->slot < 0 ? 0 : p->slot ^ 1;
        st = p->st;
        *count = p->count;
        p->fill_s += p->t_fill;
        if (st) sy_fail(st, "%s", p->msg);
        pthread_mutex_unlock(&p->mu);
        p->wait_s += now() - t0;
    } else { /* the first batch (of an epoch): here */
        slot = p->slot < 0 ? 0 : p->slot ^ 1;
        st = fill_block(p, slot, p->in, count, &p->fill_s);
    }
    if (st || *count == 0) return st;
    sy_gdev_stage_use(p->g, slot);
    p->slot = slot;
    for (int k = 0; k < p->n; k++) p->cur[k] = sy_gdev_stage_host(p->g, slot, k);
    pthread_mutex_lock(&p->mu);
    p->job = slot ^ 1;
    p->busy = p->ahead = 1;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);
    return SY_OK;
}

const float *sy_prefetch_data(const sy_prefetch *p, int k) { return p && k >= 0 && k < p->n ? p->cur[k] : NULL; }

void sy_prefetch_times(const sy_prefetch *p, double *fill_s, double *wait_s)
{
    if (fill_s) *fill_s = p ? p->fill_s : 0;
    if (wait_s) *wait_s = p ? p->wait_s : 0;
}

void sy_prefetch_free(sy_prefetch *p)
{
    if (!p) return;
    if (p->started) {
        pthread_mutex_lock(&p->mu);
        while (p->busy) pthread_cond_wait(&p->cv, &p->mu);
        p->quit = 1;
        pthread_cond_broadcast(&p->cv);
        pthread_mutex_unlock(&p->mu);
        pthread_join(p->th, NULL);
        pthread_cond_destroy(&p->cv);
        pthread_mutex_destroy(&p->mu);
    }
    free(p->vars);
    free(p->in);
    free(p->cur);
    free(p->hin);
    free(p);
}
