/* What syre costs per training step: plain weight decay vs syre with stored
 * anchors vs memory-free syre (anchors regenerated inside the update), for
 * SGD (momentum 0.9) and Adam on the 784-300-300-300-10 ReLU MLP and the
 * LeNet-style CNN, batch 64, random data. Prints the median time of a whole
 * step (forward + backward + update) and of the update alone, the overhead
 * against plain decay, and the extra bytes each variant holds. Variants are
 * timed interleaved so machine noise hits them alike. Not a test. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "syre/core.h"
#include "syre/graph.h"
#include "syre/nn.h"
#include "syre/optim.h"
#include "syre/params.h"
#include "syre/runtime.h"

#include "bench_clock.h"

enum { BATCH = 64, REPEATS = 15, STEPS = 5, NVAR = 3 };

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_var loss;
    sy_optimizer *opt;
} model;

static int build(model *m, int cnn)
{
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    sy_graph *g = m->g;
    sy_var x = cnn ? sy_input(g, "x", sy_shape_of(4, BATCH, 1, 28, 28)) : sy_input(g, "x", sy_shape_of(2, BATCH, 784));
    sy_var y = sy_input(g, "y", sy_shape_of(1, BATCH));
    sy_var out;
    if (cnn) {
        sy_var h = sy_relu(g, sy_maxpool2d(g, sy_conv2d_layer(g, x, "conv1", 10, 5, 1, 0, 1), 2, 2));
        h = sy_relu(g, sy_maxpool2d(g, sy_conv2d_layer(g, h, "conv2", 20, 5, 1, 0, 1), 2, 2));
        h = sy_relu(g, sy_linear(g, sy_flatten(g, h), "fc1", 50));
        out = sy_linear(g, h, "fc2", 10);
    } else {
        const int sizes[5] = {784, 300, 300, 300, 10};
        out = sy_mlp(g, x, "mlp", sizes, 5, SY_ACT_RELU);
    }
    m->loss = sy_softmax_ce(g, out, y);
    if (sy_graph_compile(g) || sy_params_init(m->ps, 1)) return -1;
    size_t nx = (size_t)BATCH * 784;
    float *xs = malloc(nx * sizeof *xs), ys[BATCH];
    sy_rng r = sy_rng_make(7, SY_STREAM_USER, 0);
    for (size_t i = 0; i < nx; i++) xs[i] = sy_rng_normal(&r);
    for (int i = 0; i < BATCH; i++) ys[i] = (float)sy_rng_below(&r, 10);
    int bad = sy_graph_feed(g, x, xs, nx) || sy_graph_feed(g, y, ys, BATCH);
    free(xs);
    return bad ? -1 : 0;
}

static int one_step(model *m, double *t_update)
{
    if (sy_graph_forward(m->g) || sy_graph_backward(m->g, m->loss)) return -1;
    double t0 = 1e3 * now();
    if (sy_optimizer_step(m->opt)) return -1;
    *t_update += 1e3 * now() - t0;
    return 0;
}

/* Usage: bench_syre_overhead [threads]   (default: all cores) */
int main(int argc, char **argv)
{
    sy_set_threads(argc > 1 ? atoi(argv[1]) : 0);
    printf("syre overhead: batch %d, %d repeats x %d steps, %s\n", BATCH, REPEATS, STEPS, sy_blas_info());
    const char *var_name[NVAR] = {"plain wd", "syre stored", "syre memory-free"};
    printf("%-5s %-5s %-17s %10s %12s %9s %12s %9s %12s\n", "model", "optim", "variant", "params",
           "step ms", "overhead", "update ms", "overhead", "extra bytes");
    for (int cnn = 0; cnn <= 1; cnn++)
        for (int k = 0; k < 2; k++) {
            sy_optim_kind kind = k ? SY_OPTIM_ADAM : SY_OPTIM_SGD;
            model m[NVAR];
            for (int v = 0; v < NVAR; v++) {
                if (build(&m[v], cnn)) {
                    fprintf(stderr, "build failed: %s\n", sy_last_error());
                    return 1;
                }
                sy_optim_opts o = sy_optim_defaults(kind);
                o.momentum = kind == SY_OPTIM_SGD ? 0.9f : 0.0f;
                o.decay = v == 0 ? sy_decay_l2(5e-4f) : sy_decay_syre(5e-4f, 0.01f);
                o.anchor_storage = v == 2 ? SY_ANCHOR_REGENERATE : SY_ANCHOR_STORED;
                m[v].opt = sy_optimizer_new(m[v].ps, &o);
                if (!m[v].opt) {
                    fprintf(stderr, "optimizer failed: %s\n", sy_last_error());
                    return 1;
                }
            }
            double step[NVAR][REPEATS], upd[NVAR][REPEATS], dummy = 0;
            for (int v = 0; v < NVAR; v++)
                for (int w = 0; w < 3; w++) one_step(&m[v], &dummy);
            for (int r = 0; r < REPEATS; r++)
                for (int v = 0; v < NVAR; v++) {
                    double tu = 0, t0 = 1e3 * now();
                    for (int s = 0; s < STEPS; s++)
                        if (one_step(&m[v], &tu)) {
                            fprintf(stderr, "step failed: %s\n", sy_last_error());
                            return 1;
                        }
                    step[v][r] = (1e3 * now() - t0) / STEPS;
                    upd[v][r] = tu / STEPS;
                }
            double ms[NVAR], us[NVAR];
            for (int v = 0; v < NVAR; v++) {
                ms[v] = median(step[v], REPEATS);
                us[v] = median(upd[v], REPEATS);
            }
            for (int v = 0; v < NVAR; v++) {
                printf("%-5s %-5s %-17s %10zu %12.3f %8.1f%% %12.3f %8.1f%% %12zu\n", cnn ? "cnn" : "mlp",
                       k ? "adam" : "sgd", var_name[v], sy_params_num_trainable(m[v].ps), ms[v],
                       100.0 * (ms[v] / ms[0] - 1), us[v], 100.0 * (us[v] / us[0] - 1),
                       sy_optimizer_decay_bytes(m[v].opt));
            }
            for (int v = 0; v < NVAR; v++) {
                sy_optimizer_free(m[v].opt);
                sy_graph_free(m[v].g);
                sy_params_free(m[v].ps);
            }
        }
    return 0;
}
