/* What the numerical-fault guard costs per training step: the two scans the
 * optimizer step makes (every gradient before the update, every parameter
 * after it; src/optim/nan_guard.c) timed on their own, against a whole step
 * (forward + backward + guarded update) of the 784-300-300-300-10 ReLU MLP,
 * batch 64, Adam with syre, random data, one thread. Medians over repeats,
 * the two timed interleaved. Not a test. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "core/numeric.h"
#include "syre/syre.h"

#include "bench_clock.h"

enum { BATCH = 64, REPEATS = 21, STEPS = 10 };

int main(void)
{
    sy_set_threads(1);
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    int sizes[5] = {784, 300, 300, 300, 10};
    sy_var x = sy_input(g, "x", sy_shape_of(2, BATCH, 784));
    sy_var y = sy_input(g, "y", sy_shape_of(1, BATCH));
    sy_var loss = sy_softmax_ce(g, sy_mlp(g, x, "mlp", sizes, 5, SY_ACT_RELU), y);
    if (sy_graph_compile(g) || sy_params_init(ps, 1)) return 1;
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAM);
    o.decay = sy_decay_syre(1e-2f, 0.01f);
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    if (!opt) return 1;
    float *xd = sy_graph_data(g, x), *yd = sy_graph_data(g, y);
    sy_rng r = sy_rng_make(1, SY_STREAM_DATA, 0);
    for (int i = 0; i < BATCH * 784; i++) xd[i] = sy_rng_uniform(&r);
    for (int i = 0; i < BATCH; i++) yd[i] = (float)(i % 10);
    size_t n = sy_params_trainable_size(ps);
    double step_ms[REPEATS], scan_ms[REPEATS];
    size_t sink = 0;
    for (int rep = 0; rep < REPEATS; rep++) {
        double t0 = 1e3 * now();
        for (int s = 0; s < STEPS; s++)
            if (sy_graph_forward(g) || sy_graph_backward(g, loss) || sy_optimizer_step(opt)) return 1;
        double t1 = 1e3 * now();
        for (int s = 0; s < STEPS; s++) {
            sink += sy_first_nonfinite(sy_params_grad(ps), n);
            sink += sy_first_nonfinite(sy_params_data(ps), n);
        }
        double t2 = 1e3 * now();
        step_ms[rep] = (t1 - t0) / STEPS;
        scan_ms[rep] = (t2 - t1) / STEPS;
    }
    qsort(step_ms, REPEATS, sizeof(double), cmp_double);
    qsort(scan_ms, REPEATS, sizeof(double), cmp_double);
    double st = step_ms[REPEATS / 2], sc = scan_ms[REPEATS / 2];
    printf("nan guard, MLP 784-300-300-300-10, batch %d, Adam + syre, %zu parameters, 1 thread\n", BATCH, n);
    printf("  whole step (guard included) %.3f ms, guard scans %.4f ms: %.2f%% of the step (median of %d)\n", st, sc,
           100 * sc / st, REPEATS);
    return sink == 0; /* keeps the scans from being optimised away */
}
