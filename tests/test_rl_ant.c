/* The Ant environment (src/rl/ant.c): shapes and reset, truncation and
 * termination, determinism, bit-identical state save/restore, the slippery
 * friction schedule (log-uniform draws in [0.02, 2], applied at the right
 * step, changing the dynamics); PPO's history rows, phases and file, and training
 * within a run (sy_ppo_train) resuming bit for bit. Skipped (77) in a build
 * without MuJoCo,
 * where the constructor must fail with SY_ERR_UNSUPPORTED. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

#include "exp_harness.h"

#define OD SY_ANT_OBS_DIM
#define AD SY_ANT_ACT_DIM

static sy_ant *make(int n, int64_t every, uint64_t seed)
{
    sy_ant_opts o = sy_ant_defaults();
    o.n_envs = n;
    o.friction_every = every;
    o.seed = seed;
    sy_ant *e = NULL;
    if (sy_ant_new(&o, &e) != SY_OK) fail_msg("sy_ant_new: %s", sy_last_error());
    return e;
}

static void random_actions(float *a, int n, sy_rng *r)
{
    for (int i = 0; i < n * AD; i++) a[i] = 2.0f * sy_rng_uniform(r) - 1.0f;
}

static void test_reset_and_zero_action_truncation(void **state)
{
    (void)state;
    sy_ant_opts o = sy_ant_defaults();
    o.n_envs = 2;
    o.max_episode_steps = 60;
    sy_ant *e = NULL;
    assert_int_equal(sy_ant_new(&o, &e), SY_OK);
    float obs[2 * OD], act[2 * AD] = {0}, rew[2], fin[2 * OD];
    unsigned char done[2];
    assert_int_equal(sy_ant_reset(e, obs), SY_OK);
    for (int i = 0; i < 2; i++) {
        assert_true(fabsf(obs[i * OD] - 0.75f) <= 0.1f + 1e-6f); /* torso height with reset noise */
        float q2 = 0;
        for (int k = 1; k <= 4; k++) q2 += obs[i * OD + k] * obs[i * OD + k];
        assert_true(fabsf(q2 - 1.0f) < 1e-5f); /* unit quaternion */
    }
    /* no torque: the ant settles and stands; the episode is truncated (2) at 60 */
    for (int t = 1; t <= 60; t++) {
        assert_int_equal(sy_ant_step(e, act, obs, rew, done, fin), SY_OK);
        for (int i = 0; i < 2; i++) {
            assert_int_equal(done[i], t == 60 ? 2 : 0);
            /* reward = velocity + 1 (no control cost); standing still: near 1 */
            if (t > 30) assert_true(fabsf(rew[i] - 1.0f) < 0.5f);
        }
    }
    /* the final observation is the standing ant, the new one a fresh reset */
    assert_true(fin[0] > 0.2f && fin[0] < 0.75f);
    assert_int_equal(sy_ant_total_steps(e), 120);
    sy_ant_free(e);
}

static void test_random_policy_terminates(void **state)
{
    (void)state;
    sy_ant *e = make(4, 0, 3);
    float obs[4 * OD], act[4 * AD], rew[4];
    unsigned char done[4];
    sy_rng r = sy_rng_make(5, SY_STREAM_USER, 0);
    sy_ant_reset(e, obs);
    int terminated = 0;
    for (int t = 0; t < 800; t++) {
        random_actions(act, 4, &r);
        assert_int_equal(sy_ant_step(e, act, obs, rew, done, NULL), SY_OK);
        for (int i = 0; i < 4; i++) {
            assert_true(isfinite(rew[i]));
            /* control cost of a uniform action is 0.5 * 8/3 on average: at most 4 + |v| */
            assert_true(rew[i] < 1.0f + 20.0f && rew[i] > -4.0f - 20.0f);
            terminated += done[i] == 1;
        }
        for (int k = 0; k < 4 * OD; k++) assert_true(isfinite(obs[k]));
    }
    /* random torques flip or launch the ant out of [0.2, 1] (measured: dozens) */
    assert_true(terminated >= 4);
    sy_ant_free(e);
}

static void run_steps(sy_ant *e, int n, int steps, uint64_t seed, float *trace)
{
    float obs[8 * OD], act[8 * AD], rew[8];
    unsigned char done[8];
    sy_rng r = sy_rng_make(seed, SY_STREAM_USER, 1);
    for (int t = 0; t < steps; t++) {
        random_actions(act, n, &r);
        assert_int_equal(sy_ant_step(e, act, obs, rew, done, NULL), SY_OK);
        memcpy(trace + (size_t)t * n * OD, obs, sizeof(float) * n * OD);
    }
}

static void test_deterministic_and_state_roundtrip(void **state)
{
    (void)state;
    int n = 3, steps = 150;
    float obs[3 * OD];
    float *a = malloc(sizeof(float) * steps * n * OD), *b = malloc(sizeof(float) * steps * n * OD);
    sy_ant *e1 = make(n, 100, 9), *e2 = make(n, 100, 9);
    sy_ant_reset(e1, obs);
    sy_ant_reset(e2, obs);
    run_steps(e1, n, steps, 1, a);
    run_steps(e2, n, steps, 1, b);
    assert_memory_equal(a, b, sizeof(float) * steps * n * OD); /* same seed, same run */
    /* save e1, continue; restore into e2 (in another state), continue: identical */
    size_t L = sy_ant_state_size(e1);
    double *st = malloc(L * sizeof *st);
    sy_ant_get_state(e1, st);
    run_steps(e1, n, steps, 2, a);
    run_steps(e2, n, 17, 3, b);
    assert_int_equal(sy_ant_set_state(e2, st), SY_OK);
    assert_int_equal(sy_ant_total_steps(e2), (int64_t)steps * n);
    run_steps(e2, n, steps, 2, b);
    assert_memory_equal(a, b, sizeof(float) * steps * n * OD);
    assert_true(sy_ant_friction(e1) == sy_ant_friction(e2));
    free(st);
    free(a);
    free(b);
    sy_ant_free(e1);
    sy_ant_free(e2);
}

static void test_friction_schedule(void **state)
{
    (void)state;
    sy_ant_opts o = sy_ant_defaults();
    o.friction_every = 10;
    o.seed = 4;
    double mlog = 0, lo = 1e9, hi = 0;
    for (int k = 0; k < 2000; k++) {
        double f = sy_ant_friction_of_phase(&o, k);
        assert_true(f >= 0.02 && f <= 2.0);
        mlog += log(f) / 2000;
        lo = fmin(lo, f), hi = fmax(hi, f);
    }
    /* log-uniform on [0.02, 2]: mean log = log 0.2, sd 1.33 (se 0.03 here) */
    assert_true(fabs(mlog - log(0.2)) < 0.12);
    assert_true(lo < 0.03 && hi > 1.5);
    /* the env applies phase k = floor(total steps / every): 2 envs, 5 steps = 10 */
    o.n_envs = 2;
    sy_ant *e = NULL;
    assert_int_equal(sy_ant_new(&o, &e), SY_OK);
    float obs[2 * OD], act[2 * AD] = {0}, rew[2];
    unsigned char done[2];
    sy_ant_reset(e, obs);
    assert_true(sy_ant_friction(e) == sy_ant_friction_of_phase(&o, 0));
    for (int t = 0; t < 4; t++) sy_ant_step(e, act, obs, rew, done, NULL);
    assert_true(sy_ant_friction(e) == sy_ant_friction_of_phase(&o, 0));
    sy_ant_step(e, act, obs, rew, done, NULL);
    assert_true(sy_ant_friction(e) == sy_ant_friction_of_phase(&o, 1));
    assert_true(sy_ant_friction_of_phase(&o, 0) != sy_ant_friction_of_phase(&o, 1));
    sy_ant_free(e);
    /* fixed friction when the schedule is off */
    o.friction_every = 0;
    assert_true(sy_ant_friction_of_phase(&o, 5) == o.friction);
}

/* Friction changes the dynamics: same actions on a slippery and a rough floor. */
static void test_friction_matters(void **state)
{
    (void)state;
    sy_ant_opts o = sy_ant_defaults();
    o.n_envs = 1;
    o.friction = 0.02;
    sy_ant *slip = NULL, *rough = NULL;
    assert_int_equal(sy_ant_new(&o, &slip), SY_OK);
    o.friction = 2.0;
    assert_int_equal(sy_ant_new(&o, &rough), SY_OK);
    float o1[OD], o2[OD], a[AD], r1, r2;
    unsigned char d1, d2;
    sy_ant_reset(slip, o1);
    sy_ant_reset(rough, o2);
    assert_memory_equal(o1, o2, sizeof o1);
    double diff = 0;
    for (int t = 0; t < 40; t++) {
        for (int k = 0; k < AD; k++) a[k] = (float)sin(0.3 * t + k);
        sy_ant_step(slip, a, o1, &r1, &d1, NULL);
        sy_ant_step(rough, a, o2, &r2, &d2, NULL);
        if (d1 || d2) break;
        for (int k = 0; k < OD; k++) diff = fmax(diff, fabs(o1[k] - o2[k]));
    }
    assert_true(diff > 0.05);
    sy_ant_free(slip);
    sy_ant_free(rough);
}

static void test_bad_options(void **state)
{
    (void)state;
    sy_ant_opts o = sy_ant_defaults();
    sy_ant *e = NULL;
    o.n_envs = 0;
    assert_int_equal(sy_ant_new(&o, &e), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "n_envs"));
    o = sy_ant_defaults();
    o.friction_lo = 3;
    assert_int_equal(sy_ant_new(&o, &e), SY_ERR_ARG);
    assert_null(e);
}


static void test_history_rows_and_file(void **state)
{
    (void)state;
    sy_ppo_stats st = {.steps = 512, .return_mean = 3.5, .erank = 7.25, .srank = 4, .weight_norm = 9};
    double h[3 * SY_PPO_NCOLS], back[3 * SY_PPO_NCOLS];
    for (int i = 0; i < 3; i++) sy_ppo_stats_row(&st, h + i * SY_PPO_NCOLS);
    assert_true(h[SY_PPO_COL_STEPS] == 512 && h[SY_PPO_COL_RETURN] == 3.5 && h[SY_PPO_COL_ERANK] == 7.25);
    assert_true(h[SY_PPO_COL_SRANK] == 4 && h[SY_PPO_COL_WNORM] == 9);
    assert_string_equal(sy_ppo_col_names[SY_PPO_COL_ERANK], "effective_rank");
    /* the mean skips NaN (no episode ended) and is NaN over nothing finite */
    h[SY_PPO_NCOLS + SY_PPO_COL_RETURN] = NAN;
    h[2 * SY_PPO_NCOLS + SY_PPO_COL_RETURN] = 5.5;
    assert_true(sy_ppo_history_mean(h, 0, 3, SY_PPO_COL_RETURN) == 4.5);
    assert_true(isnan(sy_ppo_history_mean(h, 1, 2, SY_PPO_COL_RETURN)));
    /* friction phases of 100 steps over rows at 64, 128 and 192 steps */
    int64_t a, b;
    for (int i = 0; i < 3; i++) h[i * SY_PPO_NCOLS + SY_PPO_COL_STEPS] = 64.0 * (i + 1);
    assert_true(sy_ppo_history_phase(h, 3, 100, 0, &a, &b) && a == 0 && b == 1);
    assert_true(sy_ppo_history_phase(h, 3, 100, 1, &a, &b) && a == 1 && b == 3);
    assert_false(sy_ppo_history_phase(h, 3, 100, 2, &a, &b));
    char path[400];
    snprintf(path, sizeof path, "%s/history-test.bin", tmpdir);
    assert_int_equal(sy_ppo_history_save(path, h, 3), SY_OK);
    assert_int_equal(sy_ppo_history_load(path, back, 3), SY_OK);
    assert_memory_equal(h, back, sizeof h);
    assert_int_equal(sy_ppo_history_load(path, back, 4), SY_ERR_FORMAT);
    snprintf(path, sizeof path, "%s/history-none.bin", tmpdir);
    assert_int_equal(sy_ppo_history_load(path, back, 1), SY_ERR_IO);
}

/* A run to hold the records of sy_ppo_train. */
static sy_run *new_run(const char *name)
{
    const char *argv[] = {"--quick", "--out", tmpdir, "--threads", "1", "--name", name};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, sy_experiment_find("ant"), 7, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    return run;
}

static void test_ppo_train_resume(void **state)
{
    (void)state;
    sy_ant_opts eo = sy_ant_defaults();
    eo.n_envs = 2;
    eo.friction_every = 64;
    eo.seed = 4;
    sy_ppo_opts po = sy_ppo_defaults();
    po.hidden1 = po.hidden2 = 16;
    po.rollout = 32;
    po.epochs = 1;
    po.minibatch = 32;
    po.rank_n = 64;
    po.seed = 4;
    double full[3 * SY_PPO_NCOLS], part[3 * SY_PPO_NCOLS], secs = -1;
    sy_run *a = new_run("train-full"), *b = new_run("train-part");
    sy_ppo_train_opts o = {a, "m", 3, 0, 0, 0};
    assert_int_equal(sy_ppo_train(&eo, &po, &o, full, &secs), SY_OK);
    assert_true(secs > 0);
    for (int i = 0; i < 3; i++) assert_true(full[i * SY_PPO_NCOLS + SY_PPO_COL_STEPS] == 64.0 * (i + 1));
    /* two iterations, then a resume to three: the same rows, bit for bit */
    o = (sy_ppo_train_opts){b, "m", 2, 1, 0, 0};
    assert_int_equal(sy_ppo_train(&eo, &po, &o, part, NULL), SY_OK);
    assert_memory_equal(full, part, 2 * SY_PPO_NCOLS * sizeof(double));
    memset(part, 0, sizeof part);
    o = (sy_ppo_train_opts){b, "m", 3, 1, 1, 0};
    assert_int_equal(sy_ppo_train(&eo, &po, &o, part, NULL), SY_OK);
    assert_memory_equal(full, part, sizeof full);
    /* a checkpoint beyond the iterations asked is refused */
    o.iters = 2;
    assert_int_equal(sy_ppo_train(&eo, &po, &o, part, NULL), SY_ERR_ARG);
    sy_run_free(a);
    sy_run_free(b);
}

/* PPO with a unit reset: CBP at rate 0.05 (maturity 2) replaces units of
 * both networks within two iterations of 2 minibatch steps each, where
 * the same learner without one replaces none; the policy's dormant ratios
 * are in [0, 1], tau 0's at most tau 0.1's. A learner saved there and
 * loaded into a fresh one replaces the same units over two more iterations
 * as the one that went on (the hook's state is in the checkpoint). */
static void test_ppo_unit_reset(void **state)
{
    (void)state;
    sy_ant_opts eo = sy_ant_defaults();
    eo.n_envs = 2;
    eo.seed = 5;
    sy_ppo_opts po = sy_ppo_defaults();
    po.hidden1 = po.hidden2 = 16;
    po.rollout = 32;
    po.epochs = 1;
    po.minibatch = 32;
    po.rank_n = 64;
    po.seed = 5;
    for (int k = 0; k < 2; k++) {
        po.units = sy_unit_reset_defaults(k ? SY_UNIT_RESET_CBP : SY_UNIT_RESET_NONE);
        po.units.cbp_rate = 0.05, po.units.cbp_maturity = 2;
        sy_ant *env = NULL;
        sy_ppo *p = NULL;
        assert_int_equal(sy_ant_new(&eo, &env), SY_OK);
        assert_int_equal(sy_ppo_new(env, &po, &p), SY_OK);
        sy_ppo_stats st;
        for (int i = 0; i < 2; i++) assert_int_equal(sy_ppo_iterate(p, &st), SY_OK);
        /* 4 steps, the last 2 with every unit mature: each of the 4 layers owes
         * 2 x 16 x 0.05 = 1.6 units, and replaces 1 */
        if (k) assert_int_equal(st.units_reset, 4);
        else assert_int_equal(st.units_reset, 0);
        assert_true(st.dormant0 >= 0 && st.dormant0 <= st.dormant && st.dormant <= 1);
        if (k) {
            char ck[300], sp[300];
            snprintf(ck, sizeof ck, "%s/ckpt-units.safetensors", tmpdir);
            snprintf(sp, sizeof sp, "%s/state-units.bin", tmpdir);
            assert_int_equal(sy_ppo_save(p, ck, sp), SY_OK);
            sy_ant *env2 = NULL;
            sy_ppo *q = NULL;
            assert_int_equal(sy_ant_new(&eo, &env2), SY_OK);
            assert_int_equal(sy_ppo_new(env2, &po, &q), SY_OK);
            assert_int_equal(sy_ppo_load(q, ck, sp), SY_OK);
            sy_ppo *learners[2] = {p, q};
            sy_ppo_stats sq[2];
            for (int j = 0; j < 2; j++)
                for (int i = 0; i < 2; i++) assert_int_equal(sy_ppo_iterate(learners[j], &sq[j]), SY_OK);
            assert_true(sq[0].units_reset > 4); /* replaced after the save too */
            assert_int_equal(sq[1].units_reset, sq[0].units_reset);
            sy_params *a = sy_ppo_params(p), *b = sy_ppo_params(q);
            assert_memory_equal(sy_params_data(a), sy_params_data(b), sy_params_trainable_size(a) * sizeof(float));
            sy_ppo_free(q);
            sy_ant_free(env2);
        }
        sy_ppo_free(p);
        sy_ant_free(env);
    }
}

int main(void)
{
    if (!sy_rl_have_mujoco()) {
        sy_ant_opts o = sy_ant_defaults();
        sy_ant *e = NULL;
        int st = sy_ant_new(&o, &e);
        printf("# test_rl_ant: skipped, no MuJoCo in this build (sy_ant_new: %s)\n", sy_last_error());
        return st == SY_ERR_UNSUPPORTED && !e ? 77 : 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reset_and_zero_action_truncation),
        cmocka_unit_test(test_random_policy_terminates),
        cmocka_unit_test(test_deterministic_and_state_roundtrip),
        cmocka_unit_test(test_friction_schedule),
        cmocka_unit_test(test_friction_matters),
        cmocka_unit_test(test_bad_options),
        cmocka_unit_test(test_history_rows_and_file),
        cmocka_unit_test(test_ppo_train_resume),
        cmocka_unit_test(test_ppo_unit_reset),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
