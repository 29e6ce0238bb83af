/* Stride-1 convolution benchmark: the CPU backend's two routes for a
 * stride-1 convolution, its direct kernel (kernels_conv.c) and chunked
 * im2col products on the sgemm (kernels_blas.c; on the own sgemm implicit:
 * the columns packed from the image, dx as dy's convolution), side by side on the shapes
 * of the benchmarked models (ResNet-18's 3x3 convolutions at batch 32, the
 * MNIST CNN's 5x5 ones at batch 64), at 1 thread: forward, then backward
 * (both gradients), as GFLOP/s and share of the core's fp32 FMA peak, by
 * process CPU time (other load on a shared machine does not inflate it),
 * median of repeats. The route the backend picks by shape is marked. One
 * machine-readable line per shape and route: `CONV shape=S route=R
 * gflops=G peak_share=P picked=0|1`.
 *
 *   build/bench_conv [--repeats R] [--batch N]
 *
 * Not timed assertions: nothing here fails on a slow machine. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu/cpu_kernels.h"
#include "fma_peak.h"
#include "syre/syre.h"

typedef struct {
    const char *name;
    int N, C, H, O, K, P;
} conv_shape;

/* Seconds of CPU time per forward + backward of one convolution on the given
 * route (0 direct, 1 chunked im2col), median of repeats. */
static double time_conv(const conv_shape *s, int route, int repeats)
{
    sy_cpu_conv_force_route(route);
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(4, s->N, s->C, s->H, s->H));
    sy_graph_requires_grad(g, x);
    sy_var w = sy_param_new(g, "w", sy_shape_of(4, s->O, s->C, s->K, s->K), s->C * s->K * s->K,
                            (sy_init){SY_INIT_UNIFORM_FANIN, 1.0f}, 1);
    sy_var loss = sy_sum(g, sy_conv2d(g, x, w, 1, s->P));
    if (sy_graph_compile(g) != SY_OK || sy_params_init(ps, 1) != SY_OK) {
        fprintf(stderr, "bench_conv: %s\n", sy_last_error());
        exit(1);
    }
    float *xd = sy_graph_data(g, x);
    for (size_t i = 0; i < sy_shape_numel(sy_graph_shape(g, x)); i++) xd[i] = (float)((i * 7919) % 1000) * 1e-3f - 0.5f;
    double t[64];
    int iters = 1;
    if (repeats > 64) repeats = 64;
    for (int rep = -1; rep < repeats; rep++) {
        double t0 = cpu_now();
        for (int it = 0; it < iters; it++)
            if (sy_graph_forward(g) != SY_OK || sy_graph_backward(g, loss) != SY_OK) exit(1);
        double dt = cpu_now() - t0;
        if (rep < 0) {
            iters = dt > 0 ? (int)(0.1 / dt) + 1 : 1;
            continue;
        }
        t[rep] = dt / iters;
    }
    sy_graph_free(g);
    sy_params_free(ps);
    sy_cpu_conv_force_route(-1);
    return median(t, repeats);
}

int main(int argc, char **argv)
{
    int repeats = 5, batch = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
            batch = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: bench_conv [--repeats R] [--batch N]\n");
            return 2;
        }
    }
    sy_set_threads(1);
    conv_shape shapes[] = {
        {"resnet-stem-c3-64x32", 32, 3, 32, 64, 3, 1},  {"resnet-c64-32x32", 32, 64, 32, 64, 3, 1},
        {"resnet-c128-16x16", 32, 128, 16, 128, 3, 1}, {"resnet-c256-8x8", 32, 256, 8, 256, 3, 1},
        {"resnet-c512-4x4", 32, 512, 4, 512, 3, 1},    {"cnn-conv1-c1-28x28", 64, 1, 28, 10, 5, 0},
        {"cnn-conv2-c10-12x12", 64, 10, 12, 20, 5, 0},
    };
    int ns = sizeof shapes / sizeof shapes[0];
    double peak = fma_peak_gflops_by(FMA_ISA_AVX512, 1, cpu_now);
    if (isnan(peak)) peak = fma_peak_gflops_by(FMA_ISA_AVX2, 1, cpu_now);
    printf("# bench_conv: 1 thread, %s\n# fp32 FMA peak (best ISA, 1 thread, CPU time): %.1f GFLOP/s\n",
           sy_blas_info(), peak);
    for (int i = 0; i < ns; i++) {
        conv_shape *s = &shapes[i];
        if (batch > 0 && strncmp(s->name, "resnet", 6) == 0) s->N = batch;
        int HO = s->H + 2 * s->P - s->K + 1;
        /* forward and both gradients: three products of O x C*K*K x N*HO*HO */
        double flops = 3 * 2.0 * s->O * s->C * s->K * s->K * (double)s->N * HO * HO;
        int pick = sy_cpu_conv_chunked(s->C, s->K, s->K, 1);
        for (int route = 0; route < 2; route++) {
            double g = flops / time_conv(s, route, repeats) * 1e-9;
            printf("  %-22s N%-4d %-7s %7.1f GFLOP/s (%5.1f%% of peak)%s\n", s->name, s->N,
                   route ? "im2col" : "direct", g, 100 * g / peak, route == pick ? "  <- picked" : "");
            printf("CONV shape=%s batch=%d route=%s gflops=%.2f peak_share=%.3f picked=%d\n", s->name, s->N,
                   route ? "im2col" : "direct", g, g / peak, route == pick);
        }
    }
    return 0;
}
