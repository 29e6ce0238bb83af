/* The README's example: a two-layer network on MNIST, trained with SGD and
 * syre, then evaluated on the test set. Build: part of the normal build
 * (build/example_mnist_two_layer). Run: build/example_mnist_two_layer */
#include <stdio.h>
#include <stdlib.h>

#include "syre/syre.h"

#define CHECK(call)                                                          \
    do {                                                                     \
        if ((call) != SY_OK) {                                               \
            fprintf(stderr, "error: %s\n", sy_last_error());                 \
            return 1;                                                        \
        }                                                                    \
    } while (0)

int main(int argc, char **argv)
{
    (void)argc;
    /* libgomp takes its wait policy only from the environment, at load:
     * re-execute once with the one that suits this machine now (unless the
     * user set OMP_WAIT_POLICY or GOMP_SPINCOUNT). */
    if (!getenv("OMP_WAIT_POLICY") && !getenv("GOMP_SPINCOUNT")) sy_omp_wait_reexec(sy_omp_wait_env(0), argv);
    const int B = 64, EVAL = 1000;
    sy_dataset *train, *test;
    CHECK(sy_dataset_load(sy_data_dir(NULL), "mnist", "train", &train));
    CHECK(sy_dataset_load(sy_data_dir(NULL), "mnist", "test", &test));

    /* Two graphs, one parameter store: a training graph (batch 64) and an
     * evaluation graph (batch 1000, in evaluation mode: dropout off, batch
     * norm on running statistics) built from the same layer names. */
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps), *ev = sy_graph_eval_new(ps);
    int sizes[3] = {784, 256, 10};
    sy_var x = sy_input(g, "x", sy_shape_of(2, B, 784)), y = sy_input(g, "y", sy_shape_of(1, B));
    sy_var loss = sy_softmax_ce(g, sy_mlp(g, x, "mlp", sizes, 3, SY_ACT_RELU), y);
    sy_var ex = sy_input(ev, "x", sy_shape_of(2, EVAL, 784));
    sy_var logits = sy_mlp(ev, ex, "mlp", sizes, 3, SY_ACT_RELU);
    CHECK(sy_graph_compile(g));
    CHECK(sy_graph_compile(ev));
    CHECK(sy_params_init(ps, 1));

    /* SGD with momentum and syre: weight decay toward a random anchor. */
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.05f;
    o.momentum = 0.9f;
    o.decay = sy_decay_syre(1e-4f, 0.01f); /* weight decay, sigma0: the one line */
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    if (!opt) CHECK(SY_ERR_STATE);

    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = B;
    bo.drop_last = 1;
    bo.seed = 1;
    sy_batcher *bt;
    CHECK(sy_batcher_new(train, bo, &bt));
    for (int epoch = 0; epoch < 2; epoch++) {
        sy_batcher_epoch(bt, epoch);
        double sum = 0;
        int n = 0;
        while (sy_batcher_next(bt, sy_graph_data(g, x), sy_graph_data(g, y))) {
            CHECK(sy_graph_forward(g));
            CHECK(sy_graph_backward(g, loss));
            CHECK(sy_optimizer_step(opt));
            sum += sy_graph_scalar(g, loss);
            n++;
        }
        printf("epoch %d: train loss %.4f\n", epoch + 1, sum / n);
    }

    /* Test accuracy over the first 10 batches of 1000. */
    int correct = 0;
    for (int b = 0; b < 10; b++) {
        CHECK(sy_graph_feed(ev, ex, test->x + (size_t)b * EVAL * 784, (size_t)EVAL * 784));
        CHECK(sy_graph_forward(ev));
        const float *z = sy_graph_data(ev, logits);
        for (int i = 0; i < EVAL; i++) {
            int best = 0;
            for (int k = 1; k < 10; k++) best = z[i * 10 + k] > z[i * 10 + best] ? k : best;
            correct += best == test->y[b * EVAL + i];
        }
    }
    printf("test accuracy: %.2f%%\n", 100.0 * correct / (10 * EVAL));

    sy_batcher_free(bt);
    sy_optimizer_free(opt);
    sy_graph_free(g);
    sy_graph_free(ev);
    sy_params_free(ps);
    sy_dataset_free(train);
    sy_dataset_free(test);
    return 0;
}
