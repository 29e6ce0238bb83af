/* Engine speed benchmark (issue 2): training throughput of the graph engine on
 * the two reference models, to compare with PyTorch (bench/torch_engine.py,
 * the same models, batch and update; bench/run_engine.sh runs both).
 *
 *   MLP 784-300-300-300-10 ReLU, batch 64
 *   CNN conv(1->10,k5)-maxpool2-relu-conv(10->20,k5)-maxpool2-relu-flatten-
 *       fc(320->50)-relu-fc(50->10), batch 64
 *
 * Data: synthetic MNIST-shaped batches (uniform [0,1) pixels, random labels),
 * a fixed pool of POOL batches cycled in order, so no data loading is timed.
 * One training step = feed the batch, forward, backward, plain SGD
 * p -= lr * grad over the flat parameter buffer. Each timed repeat runs
 * --steps steps after --warmup untimed ones; the reported figure is the median
 * samples/s over --repeats repeats.
 *
 * Output: the BLAS info line, then one line per configuration:
 *   RESULT engine=syre model=mlp threads=1 batch=64 samples_per_s=... min=... max=...
 * Not here: accuracy (random labels), data loading, the optimizer library. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "syre/syre.h"

#define BATCH 64
#define POOL 64
#define LR 0.05f

typedef struct {
    sy_graph *g;
    sy_params *ps;
    sy_var x, y, loss;
    size_t xn; /* elements of one input batch */
} model_t;

static int build(model_t *m, const char *model)
{
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    sy_graph *g = m->g;
    sy_var h;
    if (!strcmp(model, "mlp")) {
        m->x = sy_input(g, "x", sy_shape_of(2, BATCH, 784));
        h = sy_relu(g, sy_linear(g, m->x, "fc1", 300));
        h = sy_relu(g, sy_linear(g, h, "fc2", 300));
        h = sy_relu(g, sy_linear(g, h, "fc3", 300));
        h = sy_linear(g, h, "fc4", 10);
    } else {
        m->x = sy_input(g, "x", sy_shape_of(4, BATCH, 1, 28, 28));
        h = sy_mnist_cnn(g, m->x, NULL);
    }
    m->y = sy_input(g, "y", sy_shape_of(1, BATCH));
    m->loss = sy_softmax_ce(g, h, m->y);
    if (sy_graph_compile(g) != SY_OK || sy_params_init(m->ps, 1) != SY_OK) {
        fprintf(stderr, "bench_engine: %s: %s\n", model, sy_last_error());
        return -1;
    }
    m->xn = sy_shape_numel(sy_graph_shape(g, m->x));
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + 1e-9 * t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* One SGD step on pool batch b. */
static int step(model_t *m, const float *xs, const float *ys, int b)
{
    if (sy_graph_feed(m->g, m->x, xs + (size_t)b * m->xn, m->xn) != SY_OK) return -1;
    if (sy_graph_feed(m->g, m->y, ys + (size_t)b * BATCH, BATCH) != SY_OK) return -1;
    if (sy_graph_forward(m->g) != SY_OK || sy_graph_backward(m->g, m->loss) != SY_OK) return -1;
    float *p = sy_params_data(m->ps);
    const float *gr = sy_params_grad(m->ps);
    size_t n = sy_params_trainable_size(m->ps);
    for (size_t k = 0; k < n; k++) p[k] -= LR * gr[k];
    return 0;
}

static int run(const char *model, int threads, int warmup, int steps, int repeats)
{
    sy_set_threads(threads);
    model_t m;
    if (build(&m, model)) return -1;
    /* (POOL, BATCH, ...) inputs and (POOL, BATCH) labels. */
    float *xs = malloc(sizeof(float) * m.xn * POOL), *ys = malloc(sizeof(float) * BATCH * POOL);
    double *rate = malloc(sizeof(double) * repeats);
    if (!xs || !ys || !rate) return -1;
    sy_rng r = sy_rng_make(7, SY_STREAM_USER, 0);
    for (size_t i = 0; i < m.xn * POOL; i++) xs[i] = sy_rng_uniform(&r);
    for (size_t i = 0; i < (size_t)BATCH * POOL; i++) ys[i] = (float)sy_rng_below(&r, 10);

    int b = 0;
    for (int s = 0; s < warmup; s++, b = (b + 1) % POOL)
        if (step(&m, xs, ys, b)) goto fail;
    for (int rep = 0; rep < repeats; rep++) {
        double t0 = now();
        for (int s = 0; s < steps; s++, b = (b + 1) % POOL)
            if (step(&m, xs, ys, b)) goto fail;
        rate[rep] = (double)steps * BATCH / (now() - t0);
    }
    float last = sy_graph_scalar(m.g, m.loss);
    qsort(rate, repeats, sizeof(double), cmp_double);
    printf("RESULT engine=syre model=%s threads=%d batch=%d samples_per_s=%.1f min=%.1f max=%.1f loss=%.4f\n",
           model, threads, BATCH, rate[repeats / 2], rate[0], rate[repeats - 1], last);
    fflush(stdout);
    free(xs);
    free(ys);
    free(rate);
    sy_graph_free(m.g);
    sy_params_free(m.ps);
    return 0;
fail:
    fprintf(stderr, "bench_engine: %s: step failed: %s\n", model, sy_last_error());
    return -1;
}

static void usage(void)
{
    fprintf(stderr,
            "usage: bench_engine [--model mlp|cnn|all] [--threads N[,N...]] [--warmup S] [--steps S]\n"
            "                    [--repeats R]\n"
            "defaults: --model all --threads 1,2 --warmup 20 --steps 64 --repeats 7\n");
}

int main(int argc, char **argv)
{
    const char *model = "all", *threads = "1,2";
    int warmup = 20, steps = 64, repeats = 7;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        if (!v) { usage(); return 2; }
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--threads")) threads = v;
        else if (!strcmp(a, "--warmup")) warmup = atoi(v);
        else if (!strcmp(a, "--steps")) steps = atoi(v);
        else if (!strcmp(a, "--repeats")) repeats = atoi(v);
        else { usage(); return 2; }
        i++;
    }
    if (strcmp(model, "mlp") && strcmp(model, "cnn") && strcmp(model, "all")) { usage(); return 2; }
    if (steps < 1 || repeats < 1 || warmup < 0) { usage(); return 2; }
    const char *models[2] = {"mlp", "cnn"};
    char tl[64];
    snprintf(tl, sizeof tl, "%s", threads);
    for (char *t = strtok(tl, ","); t; t = strtok(NULL, ",")) {
        int nt = atoi(t);
        sy_set_threads(nt);
        printf("# syre BLAS: %s\n", sy_blas_info());
        for (int k = 0; k < 2; k++) {
            if (strcmp(model, "all") && strcmp(model, models[k])) continue;
            if (run(models[k], nt, warmup, steps, repeats)) return 1;
        }
    }
    return 0;
}
