/* Data-parallel scaling benchmark (bench/run_dist.sh drives it).
 *
 * Launched as `mpirun -np N bench_dist ...` (or alone: one rank), it times
 *   1. the gradient allreduce (sy_dist_allreduce_mean: MPI_Allreduce in place
 *      plus the 1/N scaling) for message sizes from 1 KiB to 64 MiB:
 *        RESULT kind=allreduce ranks=N bytes=B seconds=T algbw_GBs=B/T busbw_GBs=2(N-1)/N*B/T
 *   2. training steps at a fixed GLOBAL batch (strong scaling): each rank runs
 *      forward and backward on its batch/N samples, then sy_optimizer_step
 *      (plain SGD; it allreduces the flat gradient first):
 *        RESULT kind=train model=M ranks=N threads=T batch=B samples_per_s=...
 *               step_ms=... allreduce_ms=... (medians over --repeats)
 * Models are bench_engine's: MLP 784-300-300-300-10 (419,110 parameters,
 * 1.68 MB of gradient) and the paper's MNIST CNN (21,840 parameters, 87 KB);
 * and `resnet`: the resnet experiment's ResNet18 on CIFAR-shaped images
 * (--width, 64 = the standard model: 11.2 M parameters, 44.7 MB of
 * gradient; --sync-bn 1 synchronises its batch norm over the ranks). `all`
 * is mlp and cnn.
 *   3. `--model ant`: PPO iterations on the Ant (syre/rl.h) at a fixed number of
 *      environments for the whole job (--envs, default 4; each rank steps
 *      envs/N), the ant experiment's --quick settings (2 x 64 hidden units,
 *      256 steps per env, 4 epochs of minibatches of --batch 128):
 *        RESULT kind=ppo ranks=N threads=T envs=E env_steps_per_s=... iter_ms=...
 *               sim_ms=... act_ms=... update_ms=... (medians over --repeats of --steps
 *               iterations; sim, act (policy, sharing the step's outputs over the
 *               ranks, waiting for them) and update: rank 0's share). Skipped with a line without MuJoCo.
 * Synthetic MNIST-shaped data (no loading timed). Only rank 0 prints.
 * Scaling efficiency E(N) = samples_per_s(N) / (N * samples_per_s(1)) comes
 * from comparing runs with different N (bench/run_dist.sh). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "syre/mpi.h"
#include "syre/syre.h"
#include "../cli/env_options.h"

#include "bench_clock.h"

static int bench_allreduce(int repeats)
{
    const int N = sy_dist_size();
    size_t maxn = (size_t)16 << 20; /* 64 MiB of floats */
    float *buf = malloc(maxn * sizeof *buf);
    double *t = malloc(sizeof(double) * (size_t)repeats);
    if (!buf || !t) return -1;
    for (size_t i = 0; i < maxn; i++) buf[i] = 1.0f;
    for (size_t n = 256; n <= maxn; n *= 4) {
        int inner = n <= 65536 ? 50 : n <= (1u << 20) ? 10 : 2;
        sy_dist_allreduce_mean(buf, n); /* warm-up */
        for (int r = 0; r < repeats; r++) {
            sy_dist_barrier();
            double t0 = now();
            for (int k = 0; k < inner; k++)
                if (sy_dist_allreduce_mean(buf, n) != SY_OK) return -1;
            t[r] = (now() - t0) / inner;
        }
        /* rank 0's median; the barrier before each repeat keeps ranks in
         * step, and an allreduce ends on all ranks at about the same time */
        double mx = median(t, repeats);
        double bytes = (double)n * sizeof(float);
        if (sy_dist_is_root())
            printf("RESULT kind=allreduce ranks=%d bytes=%.0f seconds=%.3e algbw_GBs=%.3f busbw_GBs=%.3f\n", N, bytes,
                   mx, bytes / mx / 1e9, (N > 1 ? 2.0 * (N - 1) / N : 0.0) * bytes / mx / 1e9);
        fflush(stdout);
    }
    free(buf);
    free(t);
    return 0;
}

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_optimizer *opt;
    sy_var x, y, loss;
    size_t xn, local;
} model_t;

static int resnet_width = 64, sync_bn = 0;

static int build(model_t *m, const char *model, size_t local)
{
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    m->local = local;
    sy_graph *g = m->g;
    sy_var h;
    if (!strcmp(model, "mlp")) {
        m->x = sy_input(g, "x", sy_shape_of(2, (int)local, 784));
        h = sy_relu(g, sy_linear(g, m->x, "fc1", 300));
        h = sy_relu(g, sy_linear(g, h, "fc2", 300));
        h = sy_relu(g, sy_linear(g, h, "fc3", 300));
        h = sy_linear(g, h, "fc4", 10);
    } else if (!strcmp(model, "resnet")) {
        m->x = sy_input(g, "x", sy_shape_of(4, (int)local, 3, 32, 32));
        h = sy_resnet18(g, m->x, NULL, resnet_width, 10, NULL);
    } else {
        m->x = sy_input(g, "x", sy_shape_of(4, (int)local, 1, 28, 28));
        h = sy_mnist_cnn(g, m->x, NULL);
    }
    m->y = sy_input(g, "y", sy_shape_of(1, (int)local));
    m->loss = sy_softmax_ce(g, h, m->y);
    if (sy_graph_compile(g) != SY_OK || sy_params_init(m->ps, 1) != SY_OK) return -1;
    if (sync_bn && sy_graph_set_sync_bn(g, 1) != SY_OK) return -1;
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.05f;
    o.decay = sy_decay_syre(1e-3f, 0.01f);
    m->opt = sy_optimizer_new(m->ps, &o);
    if (!m->opt) return -1;
    m->xn = sy_shape_numel(sy_graph_shape(g, m->x));
    return 0;
}

static int bench_train(const char *model, size_t batch, int threads, int warmup, int steps, int repeats)
{
    size_t local;
    if (sy_dist_local_batch(batch, &local) != SY_OK) return -1;
    sy_set_threads(threads);
    model_t m;
    if (build(&m, model, local)) return -1;
    float *x = sy_graph_data(m.g, m.x), *y = sy_graph_data(m.g, m.y);
    sy_rng r = sy_rng_make(7, SY_STREAM_USER, (uint64_t)sy_dist_rank());
    for (size_t i = 0; i < m.xn; i++) x[i] = sy_rng_uniform(&r);
    for (size_t i = 0; i < local; i++) y[i] = (float)sy_rng_below(&r, 10);
    double *st = malloc(sizeof(double) * (size_t)repeats), *ar = malloc(sizeof(double) * (size_t)repeats);
    if (!st || !ar) return -1;
    for (int s = 0; s < warmup; s++)
        if (sy_graph_forward(m.g) || sy_graph_backward(m.g, m.loss) || sy_optimizer_step(m.opt)) return -1;
    for (int rep = 0; rep < repeats; rep++) {
        sy_dist_barrier();
        sy_dist_stats s0 = sy_dist_get_stats();
        double t0 = now();
        for (int s = 0; s < steps; s++)
            if (sy_graph_forward(m.g) || sy_graph_backward(m.g, m.loss) || sy_optimizer_step(m.opt)) return -1;
        st[rep] = (now() - t0) / steps;
        ar[rep] = (sy_dist_get_stats().seconds - s0.seconds) / steps;
    }
    double step_s = median(st, repeats), ar_s = median(ar, repeats);
    if (sy_dist_is_root())
        printf("RESULT kind=train model=%s ranks=%d threads=%d batch=%zu params=%zu samples_per_s=%.1f step_ms=%.3f "
               "allreduce_ms=%.3f\n",
               model, sy_dist_size(), threads, batch, sy_params_trainable_size(m.ps), (double)batch / step_s,
               1e3 * step_s, 1e3 * ar_s);
    fflush(stdout);
    free(st);
    free(ar);
    sy_optimizer_free(m.opt);
    sy_graph_free(m.g);
    sy_params_free(m.ps);
    return 0;
}

static int bench_ppo(int envs, int batch, int threads, int warmup, int iters, int repeats)
{
    if (!sy_rl_have_mujoco()) {
        if (sy_dist_is_root()) printf("# ant: skipped, this build has no MuJoCo\n");
        return 0;
    }
    sy_set_threads(threads);
    sy_ant_opts job = sy_ant_defaults(), eo;
    job.n_envs = envs;
    job.friction_every = 8192;
    sy_ppo_opts po = sy_ppo_defaults();
    po.hidden1 = po.hidden2 = 64;
    po.epochs = 4;
    po.minibatch = batch;
    po.rank_n = 1024 < 256 * envs ? 1024 : 256 * envs;
    sy_ant *env = NULL;
    sy_ppo *p = NULL;
    if (sy_ant_rank_opts(&job, &eo) != SY_OK || sy_ant_new(&eo, &env) != SY_OK) return -1;
    if (sy_ppo_new(env, &po, &p) != SY_OK) {
        sy_ant_free(env);
        return -1;
    }
    double *it = malloc(sizeof(double) * (size_t)repeats * 4);
    if (!it) return -1;
    double *sim = it + repeats, *upd = sim + repeats, *pol = upd + repeats;
    sy_ppo_stats st;
    int rc = 0;
    for (int s = 0; s < warmup && !rc; s++) rc = sy_ppo_iterate(p, &st) != SY_OK;
    for (int rep = 0; rep < repeats && !rc; rep++) {
        sy_dist_barrier();
        double t0 = now();
        sim[rep] = upd[rep] = pol[rep] = 0;
        for (int s = 0; s < iters && !rc; s++) {
            rc = sy_ppo_iterate(p, &st) != SY_OK;
            sim[rep] += st.sim_s / iters;
            upd[rep] += st.update_s / iters;
            pol[rep] += st.policy_s / iters;
        }
        it[rep] = (now() - t0) / iters;
    }
    if (!rc && sy_dist_is_root()) {
        double t = median(it, repeats);
        printf("RESULT kind=ppo ranks=%d threads=%d envs=%d env_steps_per_s=%.1f iter_ms=%.2f sim_ms=%.2f "
               "act_ms=%.2f update_ms=%.2f\n",
               sy_dist_size(), threads, envs, 256.0 * envs / t, 1e3 * t, 1e3 * median(sim, repeats),
               1e3 * median(pol, repeats), 1e3 * median(upd, repeats));
    }
    fflush(stdout);
    free(it);
    sy_ppo_free(p);
    sy_ant_free(env);
    return rc ? -1 : 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: [mpirun -np N] bench_dist [--model mlp|cnn|resnet|ant|all|none] [--batch B] [--threads T]\n"
                    "                  [--warmup S] [--steps S] [--repeats R] [--allreduce 0|1]\n"
                    "                  [--width W] [--sync-bn 0|1]   (resnet)   [--envs E]   (ant)\n"
                    "defaults: --model all --batch 64 --threads 1 --warmup 5 --steps 20 --repeats 5 --allreduce 1\n"
                    "          --width 64 --sync-bn 0 --envs 4 (ant: --batch is the PPO minibatch, 128 unless given;\n"
                    "          --steps and --warmup count PPO iterations, 3 and 1 unless given)\n");
}

int main(int argc, char **argv)
{
    const char *model = "all";
    int threads = 1, warmup = 5, steps = 20, repeats = 5, allreduce = 1;
    long batch = 0;
    int envs = 4, steps_set = 0, warmup_set = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) { usage(); return 0; }
        if (!v) { usage(); return 2; }
        if (!strcmp(a, "--model")) model = v;
        else if (!strcmp(a, "--batch")) batch = atol(v);
        else if (!strcmp(a, "--threads")) threads = atoi(v);
        else if (!strcmp(a, "--warmup")) warmup = atoi(v), warmup_set = 1;
        else if (!strcmp(a, "--steps")) steps = atoi(v), steps_set = 1;
        else if (!strcmp(a, "--envs")) envs = atoi(v);
        else if (!strcmp(a, "--repeats")) repeats = atoi(v);
        else if (!strcmp(a, "--allreduce")) allreduce = atoi(v);
        else if (!strcmp(a, "--width")) resnet_width = atoi(v);
        else if (!strcmp(a, "--sync-bn")) sync_bn = atoi(v);
        else { usage(); return 2; }
        i++;
    }
    int ant = !strcmp(model, "ant");
    if (!batch) batch = ant ? 128 : 64;
    if (ant && !steps_set) steps = 3;
    if (ant && !warmup_set) warmup = 1;
    if (steps < 1 || repeats < 1 || warmup < 0 || batch < 1 || threads < 1 || resnet_width < 1 || envs < 1) {
        usage();
        return 2;
    }
#ifdef SYRE_HAVE_MPI
    sy_dist_use_mpi();
#endif
    sy_dist_opts dist = sy_env_dist_opts();
    if (sy_dist_init(&dist) != SY_OK) {
        fprintf(stderr, "bench_dist: %s\n", sy_last_error());
        return 1;
    }
    if (sy_dist_is_root()) {
        printf("# bench_dist: %s\n", sy_dist_info());
        if (sy_dist_size() == 1)
            printf("# one rank (compare with `mpirun -np 2 %s`, or run bench/run_dist.sh)\n", argv[0]);
    }
    int rc = 0;
    if (allreduce && sy_dist_size() > 1 && bench_allreduce(repeats)) rc = 1;
    const char *models[3] = {"mlp", "cnn", "resnet"};
    for (int k = 0; k < 3 && !rc; k++) {
        if (strcmp(model, models[k]) && (strcmp(model, "all") || k == 2)) continue;
        if (bench_train(models[k], (size_t)batch, threads, warmup, steps, repeats)) {
            fprintf(stderr, "bench_dist: %s: %s\n", models[k], sy_last_error());
            rc = 1;
        }
    }
    if (ant && !rc && bench_ppo(envs, (int)batch, threads, warmup, steps, repeats)) {
        fprintf(stderr, "bench_dist: ant: %s\n", sy_last_error());
        rc = 1;
    }
    if (rc) sy_dist_abort(1);
    sy_dist_finalize();
    return 0;
}
