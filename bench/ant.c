/* Throughput of the Ant environment (src/rl/ant.c) and of PPO on it:
 *   sim     env steps/s of the simulation alone (fixed random actions), for
 *           1 and 8 environments, stepped by 1 or 2 threads;
 *   policy  env steps/s when the policy mean (MLP 27-W-W-8, W = 64 or 256)
 *           chooses every action (one batched forward per vector step);
 *   ppo     env steps/s of whole PPO iterations (rollout of 8 x 256 steps +
 *           10 epochs of minibatches of 128 + rank measures), the training
 *           rate of `syre run ant`, with the time split into simulation,
 *           acting and update.
 * Each row: median of --repeats timed repeats (after one warm-up). Prints a
 * line and exits 0 when the build has no MuJoCo. Not a test. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "syre/syre.h"

#include "bench_clock.h"

#define MAXR 64

static int fail(const char *what)
{
    fprintf(stderr, "bench_ant: %s: %s\n", what, sy_last_error());
    return 1;
}

/* Simulation alone (policy_w = 0) or with the policy mean acting. */
static int bench_acting(int n_envs, int threads, int policy_w, int steps, int repeats)
{
    sy_ant_opts eo = sy_ant_defaults();
    eo.n_envs = n_envs;
    eo.threads = threads;
    sy_ant *env = NULL;
    sy_ppo *p = NULL;
    if (sy_ant_new(&eo, &env) != SY_OK) return fail("env");
    if (policy_w > 0) {
        sy_ppo_opts po = sy_ppo_defaults();
        po.hidden1 = po.hidden2 = policy_w;
        po.rollout = 256;
        po.rank_n = 2;
        po.minibatch = 2;
        if (sy_ppo_new(env, &po, &p) != SY_OK) return fail("ppo");
    }
    size_t no = (size_t)n_envs * SY_ANT_OBS_DIM, na = (size_t)n_envs * SY_ANT_ACT_DIM;
    float *obs = malloc(no * sizeof *obs), *act = malloc(na * 64 * sizeof *act), *rew = malloc(n_envs * sizeof *rew);
    unsigned char *done = malloc((size_t)n_envs);
    sy_rng r = sy_rng_make(7, SY_STREAM_USER, 0);
    for (size_t i = 0; i < na * 64; i++) act[i] = 2 * sy_rng_uniform(&r) - 1;
    sy_ant_reset(env, obs);
    double rates[MAXR];
    for (int rep = -1; rep < repeats; rep++) {
        double t0 = now();
        for (int t = 0; t < steps; t++) {
            const float *a = act + (size_t)(t % 64) * na;
            if (p) {
                if (sy_ppo_act_mean(p, obs, act) != SY_OK) return fail("act");
                a = act;
            }
            if (sy_ant_step(env, a, obs, rew, done, NULL) != SY_OK) return fail("step");
        }
        if (rep >= 0) rates[rep] = (double)steps * n_envs / (now() - t0);
    }
    double med = median(rates, repeats);
    if (policy_w > 0)
        printf("%-7s %5d %7d %11d %14.0f\n", "policy", n_envs, threads, policy_w, med);
    else
        printf("%-7s %5d %7d %11s %14.0f\n", "sim", n_envs, threads, "-", med);
    free(obs), free(act), free(rew), free(done);
    sy_ppo_free(p);
    sy_ant_free(env);
    return 0;
}

static int bench_ppo(int w, int repeats)
{
    sy_ant_opts eo = sy_ant_defaults();
    eo.friction_every = 5000000;
    sy_ppo_opts po = sy_ppo_defaults();
    po.hidden1 = po.hidden2 = w;
    sy_ant *env = NULL;
    sy_ppo *p = NULL;
    if (sy_ant_new(&eo, &env) != SY_OK) return fail("env");
    if (sy_ppo_new(env, &po, &p) != SY_OK) return fail("ppo");
    double rates[MAXR], sim[MAXR], pol[MAXR], upd[MAXR];
    for (int rep = -1; rep < repeats; rep++) {
        sy_ppo_stats st;
        double t0 = now();
        if (sy_ppo_iterate(p, &st) != SY_OK) return fail("iterate");
        double dt = now() - t0;
        if (rep < 0) continue;
        rates[rep] = (double)po.rollout * eo.n_envs / dt;
        sim[rep] = st.sim_s / dt;
        pol[rep] = st.policy_s / dt;
        upd[rep] = st.update_s / dt;
    }
    double m = median(rates, repeats);
    printf("%-7s %5d %7d %11d %14.0f   (time: sim %.0f%%, acting %.0f%%, update %.0f%%)\n", "ppo", eo.n_envs, 1, w, m,
           100 * median(sim, repeats), 100 * median(pol, repeats), 100 * median(upd, repeats));
    sy_ppo_free(p);
    sy_ant_free(env);
    return 0;
}

int main(int argc, char **argv)
{
    int repeats = 5;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--repeats") == 0 && i + 1 < argc) {
            repeats = atoi(argv[++i]);
        } else {
            fprintf(stderr, "usage: bench_ant [--repeats N (1..%d)]\n", MAXR);
            return 2;
        }
    }
    if (repeats < 1 || repeats > MAXR) {
        fprintf(stderr, "bench_ant: --repeats must be in [1, %d]\n", MAXR);
        return 2;
    }
    if (!sy_rl_have_mujoco()) {
        printf("bench_ant: skipped, this build has no MuJoCo (install libmujoco-dev and rebuild)\n");
        return 0;
    }
    sy_set_threads(1);
    printf("bench_ant: MuJoCo %s, Ant (frame skip 5, RK4), median of %d repeats, %s\n", sy_rl_mujoco_version(),
           repeats, sy_blas_info());
    printf("%-7s %5s %7s %11s %14s\n", "what", "envs", "threads", "hidden", "env steps/s");
    int bad = 0;
    bad |= bench_acting(1, 1, 0, 2000, repeats);
    bad |= bench_acting(8, 1, 0, 250, repeats);
    bad |= bench_acting(8, 2, 0, 250, repeats);
    bad |= bench_acting(8, 1, 64, 250, repeats);
    bad |= bench_acting(8, 1, 256, 250, repeats);
    bad |= bench_ppo(64, repeats > 3 ? 3 : repeats);
    bad |= bench_ppo(256, repeats > 3 ? 3 : repeats);
    return bad;
}
