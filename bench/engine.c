/* Engine benchmark: training throughput of syre's engine against
 * PyTorch 1.13 (bench/torch_engine.py) on the paper's models, alternating in
 * the same run, with GFLOP/s, the share of cblas_sgemm's own rate on the same
 * matrix shapes, and peak resident memory of both sides.
 *
 *   mlp       784-300-300-300-10 ReLU, batch 64, SGD (lr 0.05)
 *   mlp1000   the same at batch 1000
 *   mlp2adam  784-256-10 ReLU, batch 64, Adam (lr 1e-3)
 *   cnn       the continual experiment's CNN (sy_mnist_cnn), batch 64, SGD (lr 0.05)
 *   vae       the vae experiment's model (784-200 SiLU encoder, 200 latents with fixed
 *             variance 0.01, 200-784 SiLU decoder, BCE + 10 KL), batch 128, Adam
 *   resnet18  the resnet experiment's CIFAR ResNet18 (width 64, batch norm in training
 *             mode), 3x32x32 inputs, batch 128, SGD (lr 0.05); resnet18b32 at batch 32.
 *             A step is ~0.2 TFLOP at batch 128, so these run a sixteenth of the steps
 *
 * One step = feed a batch (a fixed pool of synthetic MNIST-shaped batches,
 * cycled; the VAE also draws fresh noise), forward, backward, optimizer step
 * (sy_optimizer; torch.optim on the other side). Every measurement runs in a
 * fresh process (this program re-executed with --worker, or the PyTorch
 * script), so peak RSS is that run's own; for each (threads, model) the two
 * engines alternate --rounds times and the table gives medians over rounds.
 * Both sides get OPENBLAS_NUM_THREADS = OMP_NUM_THREADS = threads and each
 * its own best OpenMP wait setting (--syre-omp, --torch-omp): syre what its
 * CLI picks (sy_omp_wait_env: a short spin, GOMP_SPINCOUNT=10000, when the
 * machine has a CPU free per thread, else PASSIVE); PyTorch
 * OMP_WAIT_POLICY=PASSIVE (its OpenMP pool otherwise spins against
 * OpenBLAS's own threads). OPENBLAS_CORETYPE is left as the environment has
 * it unless --coretype is given.
 *
 * FLOPs count the multiply-adds of matmuls and convolutions only (forward,
 * and each gradient the step needs); "sgemm" is the rate cblas_sgemm reaches
 * on exactly the products of one step (convolutions as their im2col
 * products), timed alone in the syre worker after its run. Not timed
 * assertions: nothing here fails on a slow machine. */
#define _POSIX_C_SOURCE 200809L
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "../cli/env_options.h"
#include "fma_peak.h"
#include "bench_models.h"

extern char *openblas_get_corename(void); /* OpenBLAS; not in every cblas.h */

#ifndef SYRE_SOURCE_DIR
#define SYRE_SOURCE_DIR "."
#endif

enum { POOL = 8 };

static const char *const all_models[] = {"mlp", "mlp1000", "mlp2adam", "cnn", "vae", "resnet18", "resnet18b32"};
enum { NMODELS = 7 };

/* Steps per timed repeat: fewer for the models whose step is long. */
static int model_steps(const char *name, int steps)
{
    int div = !strcmp(name, "mlp1000") ? 4 : is_resnet(name) ? 16 : 1;
    return (steps + div - 1) / div;
}

/* Current resident set from /proc/self/statm, in KiB. */
static long rss_now_kb(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return 0;
    if (fscanf(f, "%ld %ld", &pages, &res) != 2) res = 0;
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static long rss_peak_kb(void)
{
    struct rusage u;
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}

/* One measurement in this process: prints a RESULT line. */
static int worker(const char *name, int threads, int warmup, int steps, int repeats, int sgemm)
{
    long rss0 = rss_now_kb();
    sy_set_threads(threads);
    model_t m;
    if (build(&m, name)) {
        fprintf(stderr, "bench_engine: %s: %s\n", name, sy_last_error());
        return 1;
    }
    int B = m.batch;
    float *xs = malloc(sizeof(float) * m.xn * POOL), *ys = malloc(sizeof(float) * B * POOL);
    float *eps = m.vae ? sy_graph_data(m.g, m.eps) : NULL;
    double *rate = malloc(sizeof(double) * repeats), *cpu = malloc(sizeof(double) * repeats);
    if (!xs || !ys || !rate || !cpu) return 1;
    sy_rng r = sy_rng_make(7, SY_STREAM_USER, 0);
    for (size_t i = 0; i < m.xn * POOL; i++) xs[i] = sy_rng_uniform(&r);
    for (int i = 0; i < B * POOL; i++) ys[i] = (float)sy_rng_below(&r, 10);
    int b = 0;
    for (int s = -warmup; s < repeats * steps; s++, b = (b + 1) % POOL) {
        int rep = s >= 0 ? s / steps : -1;
        static double t0, c0;
        if (s >= 0 && s % steps == 0) t0 = now(), c0 = cpu_now();
        if (sy_graph_feed(m.g, m.x, xs + (size_t)b * m.xn, m.xn) != SY_OK) goto fail;
        if (m.vae) {
            sy_rng_normal_fill(&r, eps, (size_t)B * 200); /* as experiments/vae.c */
        } else if (sy_graph_feed(m.g, m.y, ys + (size_t)b * B, B) != SY_OK) {
            goto fail;
        }
        if (sy_graph_forward(m.g) || sy_graph_backward(m.g, m.loss) || sy_optimizer_step(m.opt)) goto fail;
        if (rep >= 0 && s % steps == steps - 1) {
            rate[rep] = (double)steps * B / (now() - t0);
            cpu[rep] = (double)steps * B / (cpu_now() - c0);
        }
    }
    long peak = rss_peak_kb();
    gemm_t gm[MAX_GEMMS];
    int ng = step_gemms(m.g, gm);
    double scpu = NAN, flops = gemm_flops(gm, ng), srate = sgemm ? sgemm_rate(gm, ng, 5, &scpu) : NAN;
    double sps = median(rate, repeats);
    printf("RESULT engine=syre model=%s threads=%d batch=%d samples_per_s=%.1f cpu_samples_per_s=%.1f "
           "ms_per_step=%.4f gflop_per_step=%.6f gflops=%.3f sgemm_gflops=%.3f sgemm_cpu_gflops=%.3f rss_start_kb=%ld rss_peak_kb=%ld "
           "loss=%.4f kernel=%s\n",
           name, threads, B, sps, median(cpu, repeats), 1e3 * B / sps, flops * 1e-9, flops * sps / B * 1e-9, srate,
           scpu, rss0, peak, sy_graph_scalar(m.g, m.loss), openblas_get_corename());
    fflush(stdout);
    free(xs), free(ys), free(rate), free(cpu);
    destroy(&m);
    return 0;
fail:
    fprintf(stderr, "bench_engine: %s: step failed: %s\n", name, sy_last_error());
    return 1;
}

/* ---- the driver: alternate the two engines, one process per measurement ---- */

typedef struct {
    double sps, cpu, ms, gflop, sgemm, sgemm_cpu, rss, rss0;
    char kernel[32];
} meas_t;

static double field(const char *line, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, " %s=", key);
    const char *p = strstr(line, k);
    return p ? atof(p + strlen(k)) : NAN;
}

/* Run a shell command, parse its RESULT line; 0 on success. */
static int measure(const char *cmd, meas_t *out)
{
    FILE *f = popen(cmd, "r");
    if (!f) return -1;
    char line[1024];
    int got = 0;
    while (fgets(line, sizeof line, f))
        if (!strncmp(line, "RESULT ", 7)) {
            out->sps = field(line, "samples_per_s"), out->cpu = field(line, "cpu_samples_per_s");
            out->ms = field(line, "ms_per_step"), out->gflop = field(line, "gflop_per_step");
            out->sgemm = field(line, "sgemm_gflops"), out->sgemm_cpu = field(line, "sgemm_cpu_gflops");
            out->rss = field(line, "rss_peak_kb") / 1024.0, out->rss0 = field(line, "rss_start_kb") / 1024.0;
            const char *k = strstr(line, " kernel=");
            if (k) sscanf(k + 8, "%31s", out->kernel);
            got = 1;
        }
    int rc = pclose(f);
    return got && rc == 0 ? 0 : -1;
}

static void usage(FILE *f)
{
    fprintf(f,
            "usage: bench_engine [--models LIST] [--threads LIST] [--rounds R] [--torch on|off]\n"
            "                    [--python PATH] [--coretype NAME] [--warmup S] [--steps S] [--repeats R]\n"
            "                    [--syre-omp ENV] [--torch-omp ENV]\n"
            "  LIST: comma-separated; models mlp,mlp1000,mlp2adam,cnn,vae,resnet18,resnet18b32 (default all),\n"
            "        threads 1,2\n"
            "  --rounds R    alternations of syre and PyTorch per configuration (default 3)\n"
            "  --torch off   syre only; default: PyTorch too when PYTHON can import torch\n"
            "  --python      interpreter with torch (default /usr/bin/python3)\n"
            "  --coretype    set OPENBLAS_CORETYPE for both sides (e.g. Haswell: the AVX2 kernel)\n"
            "  --warmup/--steps/--repeats: per run: S untimed steps, then R timed repeats of S steps\n"
            "       (defaults 10, 32, 5; batch 1000 runs a quarter of the steps, resnet18 a sixteenth\n"
            "       and a fifth of the warm-up)\n"
            "  --syre-omp, --torch-omp: OpenMP wait settings (VAR=VALUE) of each side's runs\n"
            "       (defaults: syre as its CLI chooses per run, GOMP_SPINCOUNT=" SY_GOMP_SPINCOUNT " with a CPU free\n"
            "       per thread, else OMP_WAIT_POLICY=PASSIVE; PyTorch OMP_WAIT_POLICY=PASSIVE)\n"
            "Worker mode (one measurement, used by the driver): bench_engine --worker MODEL --threads T ...\n");
}

int main(int argc, char **argv)
{
    const char *models = "mlp,mlp1000,mlp2adam,cnn,vae,resnet18,resnet18b32", *threads = "1,2", *wmodel = NULL;
    const char *python = "/usr/bin/python3", *coretype = NULL, *torch = "on";
    const char *syre_omp = NULL, *torch_omp = "OMP_WAIT_POLICY=PASSIVE"; /* syre: NULL = as its CLI, per run */
    int rounds = 3, warmup = 10, steps = 32, repeats = 5, sgemm = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--no-sgemm")) {
            sgemm = 0;
            continue;
        }
        if (!v) {
            fprintf(stderr, "bench_engine: %s needs a value\n", a);
            usage(stderr);
            return 2;
        }
        if (!strcmp(a, "--models")) models = v;
        else if (!strcmp(a, "--model")) models = v;
        else if (!strcmp(a, "--worker")) wmodel = v;
        else if (!strcmp(a, "--threads")) threads = v;
        else if (!strcmp(a, "--rounds")) rounds = atoi(v);
        else if (!strcmp(a, "--torch")) torch = v;
        else if (!strcmp(a, "--python")) python = v;
        else if (!strcmp(a, "--coretype")) coretype = v;
        else if (!strcmp(a, "--warmup")) warmup = atoi(v);
        else if (!strcmp(a, "--steps")) steps = atoi(v);
        else if (!strcmp(a, "--repeats")) repeats = atoi(v);
        else if (!strcmp(a, "--syre-omp")) syre_omp = v;
        else if (!strcmp(a, "--torch-omp")) torch_omp = v;
        else {
            fprintf(stderr, "bench_engine: unknown flag '%s'\n", a);
            usage(stderr);
            return 2;
        }
        i++;
    }
    if (steps < 1 || repeats < 1 || warmup < 0 || rounds < 1) {
        fprintf(stderr, "bench_engine: --steps, --repeats, --rounds must be >= 1 and --warmup >= 0\n");
        return 2;
    }
    if (wmodel && sy_env_apply_runtime() != SY_OK) { /* SYRE_GEMM=own, as the command reads it */
        fprintf(stderr, "bench_engine: %s\n", sy_last_error());
        return 2;
    }
    if (wmodel) return worker(wmodel, atoi(threads), warmup, steps, repeats, sgemm);

    char ml[256], tl[64];
    snprintf(ml, sizeof ml, "%s", models);
    for (char *sv, *t = strtok_r(ml, ",", &sv); t; t = strtok_r(NULL, ",", &sv)) {
        int ok = 0;
        for (int k = 0; k < NMODELS; k++) ok |= !strcmp(t, all_models[k]);
        if (!ok) {
            fprintf(stderr, "bench_engine: unknown model '%s' (mlp, mlp1000, mlp2adam, cnn, vae, resnet18, "
                    "resnet18b32)\n", t);
            return 2;
        }
    }
    char self[4096];
    ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
    if (sl <= 0) return 1;
    self[sl] = '\0';
    char script[4200], cmd[9000];
    snprintf(script, sizeof script, "%s/bench/torch_engine.py", SYRE_SOURCE_DIR);
    int use_torch = strcmp(torch, "off") != 0;
    if (use_torch) {
        snprintf(cmd, sizeof cmd, "'%s' -c 'import torch' >/dev/null 2>&1", python);
        if (system(cmd) != 0 || access(script, R_OK) != 0) {
            printf("# PyTorch comparison skipped: %s cannot import torch or %s is missing\n", python, script);
            use_torch = 0;
        }
    }
    double load[3] = {0};
    FILE *lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = NAN;
        fclose(lf);
    }
    sy_set_threads(1);
    printf("# engine benchmark: syre vs %s, %d round(s) alternating, one process per run\n",
           use_torch ? "PyTorch" : "(no PyTorch)", rounds);
    printf("# %s; OPENBLAS_CORETYPE=%s; syre runs with %s, PyTorch with %s\n", sy_blas_info(),
           coretype ? coretype : getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "<unset>",
           syre_omp ? syre_omp : "its CLI's choice per run (sy_omp_wait_env)",
           torch_omp);
    printf("# load average before: %.2f %.2f %.2f (on %ld CPUs)\n", load[0], load[1], load[2],
           sysconf(_SC_NPROCESSORS_ONLN));
    fflush(stdout);

    /* The core's own limit, measured in this run: the best ISA's FMA peak
     * at each thread count is what peak_share is taken against. */
    double peak[65] = {0};
    snprintf(tl, sizeof tl, "%s", threads);
    for (char *sv1, *t = strtok_r(tl, ",", &sv1); t; t = strtok_r(NULL, ",", &sv1)) {
        int nt = atoi(t);
        if (nt < 1 || nt > 64) continue;
        printf("# fp32 FMA peak, %d thread(s):", nt);
        for (int isa = FMA_NISA - 1; isa >= 0; isa--) {
            double g = fma_peak_gflops(isa, nt);
            if (!isnan(g)) printf(" %s %.1f GFLOP/s", fma_isa_name[isa], g);
            if (g > peak[nt]) peak[nt] = g;
        }
        printf("\n");
    }
    fflush(stdout);

    char table[64][512];
    char results[64][256];
    int nrows = 0;
    snprintf(tl, sizeof tl, "%s", threads);
    for (char *sv1, *t = strtok_r(tl, ",", &sv1); t; t = strtok_r(NULL, ",", &sv1)) {
        int nt = atoi(t);
        snprintf(ml, sizeof ml, "%s", models);
        for (char *sv2, *m = strtok_r(ml, ",", &sv2); m; m = strtok_r(NULL, ",", &sv2)) {
            int st = model_steps(m, steps), wu = is_resnet(m) ? (warmup + 4) / 5 : warmup;
            char env[512], tenv[512];
            snprintf(tenv, sizeof tenv, "env OPENBLAS_NUM_THREADS=%d OMP_NUM_THREADS=%d %s%s%s", nt, nt, torch_omp,
                     coretype ? " OPENBLAS_CORETYPE=" : "", coretype ? coretype : "");
            double s_sps[32], s_cpu[32], s_rss[32], s_sg[32], s_sgc[32], s_grow[32], p_sps[32], p_cpu[32], p_rss[32], p_grow[32];
            double gflop = NAN;
            int ns = 0, np = 0;
            for (int r = 0; r < rounds && r < 32; r++) {
                meas_t a = {0}, p = {0};
                const char *somp = syre_omp ? syre_omp : sy_omp_wait_env(nt);
                snprintf(env, sizeof env, "env OPENBLAS_NUM_THREADS=%d OMP_NUM_THREADS=%d %s%s%s", nt, nt, somp,
                         coretype ? " OPENBLAS_CORETYPE=" : "", coretype ? coretype : "");
                snprintf(cmd, sizeof cmd, "%s '%s' --worker %s --threads %d --warmup %d --steps %d --repeats %d%s",
                         env, self, m, nt, wu, st, repeats, sgemm ? "" : " --no-sgemm");
                if (measure(cmd, &a) == 0) {
                    s_sps[ns] = a.sps, s_cpu[ns] = a.cpu, s_rss[ns] = a.rss, gflop = a.gflop;
                    s_sg[ns] = a.sgemm, s_sgc[ns] = a.sgemm_cpu, s_grow[ns] = a.rss - a.rss0;
                    ns++;
                } else {
                    fprintf(stderr, "bench_engine: syre run failed: %s\n", cmd);
                    return 1;
                }
                if (use_torch) {
                    snprintf(cmd, sizeof cmd,
                             "%s '%s' '%s' --model %s --threads %d --warmup %d --steps %d --repeats %d", tenv, python,
                             script, m, nt, wu, st, repeats);
                    if (measure(cmd, &p) == 0) {
                        p_sps[np] = p.sps, p_cpu[np] = p.cpu, p_rss[np] = p.rss, p_grow[np] = p.rss - p.rss0;
                        np++;
                    } else {
                        fprintf(stderr, "bench_engine: PyTorch run failed: %s\n", cmd);
                    }
                }
                printf("# %-8s threads=%d round %d: syre %8.0f samples/s (cpu-time %8.0f, %5.1f MiB, kernel %s, %s)", m,
                       nt, r + 1, a.sps, a.cpu, a.rss, a.kernel, somp);
                if (use_torch) printf("   torch %8.0f (cpu-time %8.0f, %5.1f MiB)", p.sps, p.cpu, p.rss);
                printf("\n");
                fflush(stdout);
            }
            double ss = median(s_sps, ns), sc = median(s_cpu, ns), sr = median(s_rss, ns), sgm = median(s_sg, ns), sgc = median(s_sgc, ns);
            double ps = median(p_sps, np), pc = median(p_cpu, np), pr = median(p_rss, np);
            double sgr = median(s_grow, ns), pgr = median(p_grow, np);
            int B = model_batch(m);
            double sg = ss / B * gflop, tg = ps / B * gflop, sgcpu = sc / B * gflop, tgcpu = pc / B * gflop;
            double share = nt >= 1 && nt <= 64 && peak[nt] > 0 ? sg / peak[nt] : NAN;
            if (nrows < 64) {
                snprintf(results[nrows], sizeof results[0],
                         "RESULT model=%s threads=%d batch=%d samples_per_s=%.1f gflops=%.2f peak_share=%.3f "
                         "torch_ratio=%.3f",
                         m, nt, B, ss, sg, share, ss / ps);
                snprintf(table[nrows++], sizeof table[0],
                         "| %-8s | %5d | %2d | %8.0f | %8.0f | **%5.2f** | %5.2f | %7.3f | %7.3f | %6.1f | %4.0f%% | %6.1f | "
                         "%6.1f | %4.0f%% | %4.0f%% | %4.0f%% | %4.0f%% | %6.1f | %6.1f | %4.2f | %6.1f | %6.1f |",
                         m, B, nt, ss, ps, ss / ps, sc / pc, 1e3 * B / ss, 1e3 * B / ps, sg, 100 * share, tg, sgm,
                         100 * sg / sgm, 100 * tg / sgm, 100 * sgcpu / sgc, 100 * tgcpu / sgc, sr, pr, sr / pr, sgr,
                         pgr);
            }
        }
    }
    lf = fopen("/proc/loadavg", "r");
    if (lf) {
        if (fscanf(lf, "%lf %lf %lf", &load[0], &load[1], &load[2]) != 3) load[0] = NAN;
        fclose(lf);
    }
    printf("# load average after: %.2f %.2f %.2f\n\n", load[0], load[1], load[2]);
    printf("Medians over rounds. ratio: samples/s syre / PyTorch (wall clock); cpu ratio: the same from CPU time,\n"
           "less sensitive to other load. GFLOP/s counts matmul and convolution multiply-adds; sgemm: cblas_sgemm\n"
           "alone on the same products (median over rounds); sgemm shares by wall clock and by CPU time (GFLOP/s\n"
           "from each side's CPU-time rate over cblas_sgemm's CPU-time rate); syre/peak: syre's GFLOP/s over the\n"
           "best ISA's fp32 FMA peak measured in this run at that thread count; MiB: peak resident memory of the whole process;\n"
           "+MiB: its growth during the run (peak minus the resident size when the run started, i.e. after\n"
           "loading the libraries; for PyTorch after `import torch`).\n\n");
    printf("| model | batch | thr | syre samples/s | torch samples/s | ratio | cpu ratio | syre ms/step | torch "
           "ms/step | syre GFLOP/s | syre/peak | torch GFLOP/s | sgemm GFLOP/s | syre/sgemm | torch/sgemm | syre/sgemm cpu | torch/sgemm cpu | syre MiB | torch MiB "
           "| mem ratio | syre +MiB | torch +MiB |\n");
    printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
    for (int i = 0; i < nrows; i++) printf("%s\n", table[i]);
    printf("\n");
    for (int i = 0; i < nrows; i++) printf("%s\n", results[i]);
    return 0;
}
