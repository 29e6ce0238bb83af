/* CUDA training-step benchmark: ms per training step on the GPU
 * for the models of the targets, with the step as users run it:
 * fill the input in place, forward (loss copied back and checked), backward,
 * SGD with momentum and syre (stored anchors) on the device.
 *
 *   mlp      784-300-300-300-10 ReLU, batch 64
 *   cnn      the paper's MNIST CNN (sy_mnist_cnn), batch 64
 *   resnet18 sy_resnet18: CIFAR ResNet-18 (3x3 stem, 4 stages of 2 basic
 *            blocks, 64..512 channels, global average pool, fc 10), batch 512
 *   resnet18aug  the same, fed as the resnet experiment feeds it: a shuffled
 *            batcher over 16384 synthetic 32x32 images with random crop
 *            (padding 4) and flip, through sy_prefetch: --prefetch 1 (the
 *            default) prepares batch k+1 on a helper thread and uploads it
 *            on the copy stream while step k runs; --prefetch 0 prepares it
 *            between steps. The line adds fill_ms (host preparation per
 *            step) and wait_ms (per step, how long the loop waited for it).
 *
 * Each figure is the median over --repeats timed runs of --steps steps after
 * --warmup untimed ones. For resnet18 it also prints the GEMM TFLOP/s the
 * step achieves (2*M*N*K of every matmul and convolution, times 3 for
 * forward + both backward GEMMs). Matmul precision: --precision (or
 * SYRE_PRECISION), FP32 by default. --graphs 1 records the step with CUDA
 * Graphs (sy_train_step); the line then says how many steps were replays. First it measures the GEMM rate itself: a 4096^3 matmul
 * graph's forward (one cuBLAS sgemm plus the graph's sync), the reference
 * for the TFLOP/s above. Without a GPU it says so and exits 0 (so `syre bench` on a
 * CPU machine is not a failure). Output lines:
 *   RESULT engine=syre-cuda model=mlp batch=64 ms_per_step=... min=... max=... [tflops=...]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tests/device_cases.h"
#include "syre/runtime.h"
#include "syre/train.h"

#include "bench_clock.h"
#include "syre/data.h"
#include "../cli/env_options.h"

typedef struct {
    sy_batcher *b;
    sy_rng aug;
    sy_shape sample;
    float *tmp;
} aug_ctx;

static sy_status aug_fill(void *ctx, float *const *in, size_t *count)
{
    aug_ctx *a = ctx;
    size_t nb = sy_batcher_next(a->b, in[0], in[1]);
    if (nb == 0) { /* a new epoch: the benchmark runs any number of steps */
        sy_batcher_epoch(a->b, a->aug.sub + 1);
        a->aug = sy_rng_make(1, SY_STREAM_AUGMENT, a->aug.sub + 1);
        nb = sy_batcher_next(a->b, in[0], in[1]);
    }
    sy_augment_crop_flip(in[0], nb, a->sample, 4, &a->aug, a->tmp);
    *count = nb;
    return SY_OK;
}

int main(int argc, char **argv)
{
    const char *only = NULL, *dev = "cuda";
    int warmup = 20, steps = 100, repeats = 5, rbatch = 512, rwidth = 64;
    if (sy_env_apply_runtime() != SY_OK) { /* SYRE_PRECISION, SYRE_CUDNN, ... as the command reads them */
        fprintf(stderr, "bench_cuda_step: %s\n", sy_last_error());
        return 2;
    }
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) only = argv[++i];
        else if (!strcmp(argv[i], "--steps") && i + 1 < argc) steps = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--warmup") && i + 1 < argc) warmup = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--repeats") && i + 1 < argc) repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc) rbatch = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--width") && i + 1 < argc) rwidth = atoi(argv[++i]); /* resnet18: 64 */
        else if (!strcmp(argv[i], "--device") && i + 1 < argc) dev = argv[++i]; /* sim: a smoke test */
        else if (!strcmp(argv[i], "--precision") && i + 1 < argc) {
            if (sy_set_precision(argv[++i]) != SY_OK) {
                fprintf(stderr, "bench_cuda_step: %s\n", sy_last_error());
                return 2;
            }
        } else if (!strcmp(argv[i], "--graphs") && i + 1 < argc) sy_set_cuda_graphs(atoi(argv[++i]));
        else if (!strcmp(argv[i], "--prefetch") && i + 1 < argc) sy_set_prefetch(atoi(argv[++i]));
        else {
            fprintf(stderr, "usage: bench_cuda_step [--model mlp|cnn|resnet18|resnet18aug] [--steps N] [--warmup N] "
                            "[--repeats N] [--batch N] [--width W (resnet18)] [--precision fp32|tf32|bf16] [--graphs 0|1] "
                            "[--prefetch 0|1 (resnet18aug)]\n");
            return 2;
        }
    }
    if (sy_device_check(dev) != SY_OK) {
        printf("# bench_cuda_step skipped: %s\n", sy_last_error());
        return 0;
    }
    printf("# device: %s\n", sy_device_info(dev));
    if (!only || !strcmp(only, "sgemm")) { /* the GEMM rate the step is compared with */
        const int M = 4096;
        sy_params *ps = sy_params_new();
        sy_graph *g = sy_graph_new(ps);
        sy_graph_set_backend(g, dev);
        /* Operands are store tensors (uploaded once), so a forward is the GEMM. */
        sy_init u = {SY_INIT_UNIFORM_FANIN, 1.0f};
        sy_var a = sy_param_new(g, "a", S2(M, M), M, u, 0), b = sy_param_new(g, "b", S2(M, M), M, u, 0);
        sy_matmul(g, a, b, 0, 0);
        if (sy_graph_compile(g) != SY_OK || sy_params_init(ps, 3) != SY_OK) {
            fprintf(stderr, "bench_cuda_step: sgemm: %s\n", sy_last_error());
            return 1;
        }
        double best = 1e30;
        for (int r = 0; r < 5; r++) {
            double t0 = now();
            for (int k = 0; k < 5; k++) sy_graph_forward(g);
            double t = (now() - t0) / 5;
            if (r && t < best) best = t;
        }
        printf("RESULT engine=syre-cuda model=sgemm4096 precision=%s ms_per_forward=%.3f tflops=%.2f\n",
               sy_precision_name(sy_get_precision()), best * 1e3,
               2.0 * M * (double)M * M / best / 1e12);
        sy_graph_free(g);
        sy_params_free(ps);
    }
    const char *models[4] = {"mlp", "cnn", "resnet18", "resnet18aug"};
    for (int mi = 0; mi < 4; mi++) {
        const char *model = models[mi];
        if (only ? strcmp(only, model) != 0 : mi == 3) continue; /* resnet18aug only when named */
        int aug = mi == 3;
        if (aug) mi = 2;
        int batch = mi == 2 ? rbatch : 64;
        sy_params *ps = sy_params_new();
        sy_graph *g = sy_graph_new(ps);
        if (!g || sy_graph_set_backend(g, dev) != SY_OK) {
            fprintf(stderr, "bench_cuda_step: %s\n", sy_last_error());
            return 1;
        }
        sy_var x, h;
        size_t xn;
        double flops = 0;
        if (mi == 0) {
            x = sy_input(g, "x", S2(batch, 784));
            xn = (size_t)batch * 784;
            int sizes[] = {300, 300, 300, 10};
            h = sy_mlp(g, x, "mlp", sizes, 4, SY_ACT_RELU);
        } else if (mi == 1) {
            x = sy_input(g, "x", S4(batch, 1, 28, 28));
            xn = (size_t)batch * 784;
            h = sy_mnist_cnn(g, x, NULL);
        } else {
            x = sy_input(g, "x", S4(batch, 3, 32, 32));
            xn = (size_t)batch * 3 * 32 * 32;
            h = sy_resnet18(g, x, "", rwidth, 10, NULL); /* the library's CIFAR ResNet-18 (src/nn/resnet.c) */
        }
        sy_var y = sy_input(g, "y", S1(batch));
        sy_var loss = sy_softmax_ce(g, h, y);
        sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
        o.lr = 0.01f;
        o.momentum = 0.9f;
        o.decay = sy_decay_syre(5e-4f, 0.01f);
        sy_optimizer *opt = NULL;
        if (sy_graph_compile(g) != SY_OK || sy_params_init(ps, 1) != SY_OK || !(opt = sy_optimizer_new(ps, &o))) {
            fprintf(stderr, "bench_cuda_step: %s: %s\n", model, sy_last_error());
            return 1;
        }
        if (mi == 2 && rwidth == 64) {
            /* GEMM FLOPs from the parameter shapes: conv weight [O,C,K,K] on an
             * output of HO*WO per sample; recomputed from the stage layout. */
            int hw[4] = {32, 16, 8, 4}, widths[4] = {64, 128, 256, 512};
            double f = 2.0 * 32 * 32 * 64 * 27; /* stem */
            for (int s = 0; s < 4; s++) {
                double out = (double)hw[s] * hw[s] * widths[s];
                int cin = s ? widths[s - 1] : 64;
                f += 2.0 * out * cin * 9 + 2.0 * out * widths[s] * 9;        /* block 0 */
                if (s) f += 2.0 * out * cin;                                   /* 1x1 shortcut */
                f += 2.0 * 2.0 * out * widths[s] * 9;                          /* block 1 */
            }
            f += 2.0 * 512 * 10;
            flops = 3.0 * f * batch; /* forward + input and weight gradients */
        }
        float *xb = sy_graph_data(g, x);
        float *lab = malloc(batch * sizeof *lab);
        uint64_t key = sy_rng_key(1, SY_STREAM_USER + 3);
        for (size_t i = 0; i < xn; i++) xb[i] = sy_rng_uniform_at(key, 0, i);
        for (int i = 0; i < batch; i++) lab[i] = (float)(i % 10);
        sy_graph_feed(g, y, lab, batch);
        aug_ctx ac = {0};
        sy_dataset *ds = NULL;
        sy_prefetch *pf = NULL;
        if (aug) { /* synthetic CIFAR-sized images, pixels in [0, 1] */
            sy_batcher_opts bo = sy_batcher_opts_default();
            bo.batch = (size_t)batch;
            bo.drop_last = 1;
            bo.seed = 1;
            sy_var ins[2] = {x, y};
            /* built by hand (no sy_dataset_new: the gpu-min build has no loaders) */
            if ((ds = calloc(1, sizeof *ds))) {
                ds->n = 16384;
                ds->sample = S3(3, 32, 32);
                ds->n_classes = 10;
                ds->x = malloc(ds->n * 3072 * sizeof(float));
                ds->y = malloc(ds->n * sizeof(int));
            }
            if (!ds || !ds->x || !ds->y || sy_batcher_new(ds, bo, &ac.b) != SY_OK ||
                !(ac.tmp = malloc(3 * 32 * 32 * sizeof(float)))) {
                fprintf(stderr, "bench_cuda_step: %s\n", sy_last_error());
                return 1;
            }
            for (size_t i = 0; i < ds->n * 3072; i++) ds->x[i] = sy_rng_uniform_at(key, 1, i);
            for (size_t i = 0; i < ds->n; i++) ds->y[i] = (int)(i % 10);
            ac.aug = sy_rng_make(1, SY_STREAM_AUGMENT, 0);
            ac.sample = ds->sample;
            if (sy_prefetch_new(g, ins, 2, aug_fill, &ac, &pf) != SY_OK) {
                fprintf(stderr, "bench_cuda_step: %s\n", sy_last_error());
                return 1;
            }
        }
        double *t = calloc(repeats, sizeof *t);
        float last = 0;
        double fill0 = 0, wait0 = 0;
        for (int r = -1; r < repeats; r++) {
            int n = r < 0 ? warmup : steps;
            if (r == 0) sy_prefetch_times(pf, &fill0, &wait0);
            double t0 = now();
            for (int k = 0; k < n; k++) {
                size_t nb;
                if (pf) {
                    if (sy_prefetch_next(pf, &nb) != SY_OK) {
                        fprintf(stderr, "bench_cuda_step: %s\n", sy_last_error());
                        return 1;
                    }
                } else {
                    xb[k % xn] += 1e-3f; /* the host writes the batch every step */
                }
                if (sy_train_step(g, loss, opt) != SY_OK) { /* forward, backward, step; recorded with --graphs 1 */
                    fprintf(stderr, "bench_cuda_step: %s: %s\n", model, sy_last_error());
                    return 1;
                }
            }
            last = sy_graph_scalar(g, loss); /* waits for the device */
            if (r >= 0) t[r] = (now() - t0) * 1e3 / n;
        }
        qsort(t, repeats, sizeof *t, cmp_double);
        double med = t[repeats / 2];
        sy_train_step_stats ts;
        sy_train_step_stats_get(g, &ts);
        printf("RESULT engine=syre-cuda model=%s batch=%d precision=%s graphs=%d replays=%ld ms_per_step=%.4f min=%.4f "
               "max=%.4f loss=%.6f", model, batch, sy_precision_name(sy_get_precision()), sy_get_cuda_graphs(),
               ts.replays, med, t[0], t[repeats - 1], last);
        if (pf) {
            double fs, ws;
            sy_prefetch_times(pf, &fs, &ws);
            double nstep = (double)steps * repeats;
            printf(" prefetch=%d fill_ms=%.3f wait_ms=%.3f", sy_prefetch_overlaps(pf), (fs - fill0) * 1e3 / nstep,
                   (ws - wait0) * 1e3 / nstep);
        }
        if (flops > 0) printf(" gemm_tflops=%.2f", flops / (med * 1e-3) / 1e12);
        printf("\n");
        fflush(stdout);
        free(t);
        free(lab);
        sy_prefetch_free(pf);
        sy_batcher_free(ac.b);
        if (ds) free(ds->x), free(ds->y), free(ds);
        free(ac.tmp);
        if (aug) mi = 3;
        sy_optimizer_free(opt);
        sy_graph_free(g);
        sy_params_free(ps);
    }
    return 0;
}
