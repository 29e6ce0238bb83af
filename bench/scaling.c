/* How syre's time per training step grows with batch size and with width, on
 * the paper's 4-layer ReLU MLP 784-W-W-W-10 with plain SGD:
 *   batch 1, 2, 4, ..., 4096 at width 300, and
 *   width 100 ... 3000 at batch 64.
 * For each point: median ms per step (forward, backward, update), samples/s,
 * GFLOP/s (matmul multiply-adds), and cblas_sgemm's own time and rate on the
 * same products (the floor a GEMM-based engine cannot beat). Writes a
 * Markdown table to stdout and two figures, <out>/scaling_batch.{png,svg} and
 * <out>/scaling_width.{png,svg}. Timing only: nothing here fails on a slow
 * machine.
 *
 * Usage: bench_scaling [--threads N] [--out DIR] [--quick]   (default 1 thread, DIR bench-results) */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bench_util.h"
#include "syre/plot.h"

typedef struct {
    double ms, sgemm_ms, gflops, sgemm_gflops;   /* by the wall clock */
    double cpu_ms, sgemm_cpu_ms;                 /* by process CPU time */
} point_t;

/* Median ms per step of the MLP at (batch, width), each repeat at least ~0.15 s. */
static int measure(int batch, int width, int repeats, point_t *pt)
{
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(2, batch, 784)), y = sy_input(g, "y", sy_shape_of(1, batch));
    const int sizes[5] = {784, width, width, width, 10};
    sy_var loss = sy_softmax_ce(g, sy_mlp(g, x, "mlp", sizes, 5, SY_ACT_RELU), y);
    if (sy_graph_compile(g) != SY_OK || sy_params_init(ps, 1) != SY_OK) {
        fprintf(stderr, "bench_scaling: batch %d width %d: %s\n", batch, width, sy_last_error());
        return -1;
    }
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.01f;
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    float *xd = sy_graph_data(g, x), *yd = sy_graph_data(g, y);
    sy_rng r = sy_rng_make(9, SY_STREAM_USER, 0);
    for (size_t i = 0; i < (size_t)batch * 784; i++) xd[i] = sy_rng_uniform(&r);
    for (int i = 0; i < batch; i++) yd[i] = (float)sy_rng_below(&r, 10);
    gemm_t gm[MAX_GEMMS];
    int ng = step_gemms(g, gm);
    double flops = gemm_flops(gm, ng);
    /* steps per repeat: ~0.15 s at an assumed 30 GFLOP/s, at least 2 */
    int steps = (int)(0.15 * 30e9 / flops);
    steps = steps < 2 ? 2 : steps > 2000 ? 2000 : steps;
    double t[16], c[16], sg[16], sgc[16];
    int rc = 0;
    for (int rep = -1; rep < repeats && !rc; rep++) { /* the engine and sgemm alone, alternating */
        double t0 = now(), c0 = cpu_now();
        for (int s = 0; s < steps && !rc; s++)
            rc = sy_graph_forward(g) || sy_graph_backward(g, loss) || sy_optimizer_step(opt);
        if (rep >= 0) {
            t[rep] = (now() - t0) / steps, c[rep] = (cpu_now() - c0) / steps;
            sg[rep] = sgemm_rate(gm, ng, 3, &sgc[rep]);
        }
    }
    if (rc) {
        fprintf(stderr, "bench_scaling: step failed: %s\n", sy_last_error());
        return -1;
    }
    pt->ms = 1e3 * median(t, repeats);
    pt->gflops = flops / pt->ms * 1e-6;
    pt->sgemm_gflops = median(sg, repeats);
    pt->sgemm_ms = flops / pt->sgemm_gflops * 1e-6;
    pt->cpu_ms = 1e3 * median(c, repeats);
    pt->sgemm_cpu_ms = flops / median(sgc, repeats) * 1e-6;
    sy_optimizer_free(opt);
    sy_graph_free(g);
    sy_params_free(ps);
    return 0;
}

static void row(const char *label, int v, const point_t *p, int batch)
{
    printf("| %s %5d | %9.3f | %9.0f | %7.1f | %9.3f | %7.1f | %4.0f%% | %9.3f | %9.3f | %4.0f%% |\n", label, v,
           p->ms, batch * 1e3 / p->ms, p->gflops, p->sgemm_ms, p->sgemm_gflops, 100 * p->gflops / p->sgemm_gflops,
           p->cpu_ms, p->sgemm_cpu_ms, 100 * p->sgemm_cpu_ms / p->cpu_ms);
    fflush(stdout);
}

static int figure(const char *out, const char *name, const char *title, const char *xl, const double *xs,
                  const point_t *p, int n)
{
    double a[32], b[32];
    for (int i = 0; i < n; i++) a[i] = p[i].cpu_ms, b[i] = p[i].sgemm_cpu_ms;
    sy_plot *pl = sy_plot_new(title, xl, "CPU ms per training step");
    if (!pl) return -1;
    sy_plot_series(pl, "syre step (forward + backward + SGD)", xs, a, n, SY_PLOT_LINE_POINTS);
    sy_plot_series(pl, "cblas_sgemm alone on the same products", xs, b, n, SY_PLOT_DASHED);
    sy_plot_log_axes(pl, 1, 1);
    char base[4200];
    snprintf(base, sizeof base, "%s/%s", out, name);
    sy_status st = sy_plot_save(pl, base);
    sy_plot_free(pl);
    if (st == SY_OK) printf("\nfigure: %s.png (.svg)\n", base);
    return st == SY_OK ? 0 : -1;
}

int main(int argc, char **argv)
{
    int threads = 1, quick = 0;
    const char *out = "bench-results";
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = atoi(argv[++i]);
        else if (!strcmp(argv[i], "--out") && i + 1 < argc) out = argv[++i];
        else if (!strcmp(argv[i], "--quick")) quick = 1;
        else {
            fprintf(stderr, "usage: bench_scaling [--threads N] [--out DIR] [--quick]\n");
            return 2;
        }
    }
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "bench_scaling: cannot create %s: %s\n", out, strerror(errno));
        return 1;
    }
    sy_set_threads(threads);
    int repeats = quick ? 1 : 3;
    printf("# scaling: MLP 784-W-W-W-10 ReLU, SGD; %s\n", sy_blas_info());
    printf("# median of %d repeats; sgemm: cblas_sgemm alone on the step's products; share: sgemm time / step time\n"
           "# (wall clock, then process CPU time: on a shared machine CPU time is the steadier measure)\n\n", repeats);
    printf("| point | ms/step | samples/s | GFLOP/s | sgemm ms | sgemm GFLOP/s | share | CPU ms/step | sgemm CPU ms | CPU share |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    double xb[16], xw[16];
    point_t pb[16], pw[16];
    int nb = 0, nw = 0;
    for (int b = 1; b <= 4096; b *= 2) {
        if (quick && b > 256) break;
        if (measure(b, 300, repeats, &pb[nb])) return 1;
        row("batch", b, &pb[nb], b);
        xb[nb++] = b;
    }
    const int widths[] = {100, 200, 300, 500, 1000, 2000, 3000};
    for (int i = 0; i < 7; i++) {
        if (quick && widths[i] > 500) break;
        if (measure(64, widths[i], repeats, &pw[nw])) return 1;
        row("width", widths[i], &pw[nw], 64);
        xw[nw++] = widths[i];
    }
    if (figure(out, "scaling_batch", "MLP 784-300-300-300-10: time per step vs batch", "batch size", xb, pb, nb) ||
        figure(out, "scaling_width", "MLP 784-W-W-W-10, batch 64: time per step vs width", "width W", xw, pw, nw))
        return 1;
    return 0;
}
