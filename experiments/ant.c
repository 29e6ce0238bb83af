/* Loss of plasticity in reinforcement learning (paper Appendix C.6, Fig. 8):
 * PPO on the slippery Ant, whose floor friction changes every
 * --friction-every env steps to a value drawn log-uniformly from [0.02, 2]
 * (src/rl/ant.c; the paper uses Dohare et al.'s SlipperyAnt with a change
 * every 5M steps). Methods, all with the same initialisation, action noise
 * and friction sequence:
 *   none     PPO without any decay (the paper's "vanilla PPO");
 *   vanilla  PPO with weight decay toward 0 (the paper's "weight decay");
 *   syre     PPO with the same decay toward a random theta0;
 *   cbp, redo  unit resets (continual backprop, ReDo) with weight decay, or after a rule (syre+cbp).
 * Decay is Adam's coupled weight_decay (--gamma, paper 0.002) on every
 * tensor of both networks. PPO settings follow Dohare et al. (2023), whom
 * the paper borrows from: two hidden layers of 256 ReLU units, 2048 steps
 * per rollout, 10 epochs of minibatches of 128, clip 0.2, Adam lr 1e-4 with
 * betas (0.99, 0.99); here 8 environments x 256 steps make the 2048.
 * Logged every iteration (metrics.csv): mean return of the episodes that
 * ended, their length, the friction, the effective and stable rank and the
 * dead units of the policy's last hidden layer on the rollout's first
 * --rank-n observations, losses, KL, clip fraction, policy std, weight norm.
 *
 * Scales: the default (`syre run ant`) is paper-like: 10 friction phases of
 * 5M steps = 50M steps per method, days of CPU time. --quick (the tests):
 * 4 envs x 256 steps per iteration, 24 iterations (24576 steps), a friction
 * change every 8192 steps, 64-unit layers, 4 epochs.
 *
 * The environment, PPO and its loop with checkpoints and history are the rl component's (sy_ppo_train); what
 * stays here is the paper's comparison: methods and seeds, the summary read from the histories, the figures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"
#include "unit_resets.h"

#define MAX_SEEDS 32
#define METHODS "none, vanilla, syre, syre-ar, l2init, " UNIT_RESET_METHODS /* --method names each once at most */
#define MAX_METHODS 17

static const sy_flag_spec ant_flags[] = {
    {"steps", "env steps per method and seed, all envs together (paper-like: 10 phases x 5M; quick: 24576)",
     "50000000", SY_FLAG_INT, 1, 1e12},
    {"friction-every", "env steps between friction changes (paper: 5M; quick: 8192); 0 = fixed friction 1",
     "5000000", SY_FLAG_INT, 0, 1e12},
    {"envs", "environments stepped together (quick: 4)", "8", SY_FLAG_INT, 1, 4096},
    {"rollout", "steps per env per PPO iteration (8 x 256 = Dohare et al.'s 2048)", "256", SY_FLAG_INT, 1, 1000000},
    {"epochs", "PPO epochs over each rollout (quick: 4)", "10", SY_FLAG_INT, 1, 1000},
    {"batch", "PPO minibatch size", "128", SY_FLAG_INT, 2, 1000000},
    {"hidden", "widths W1,W2 of the hidden layers of both networks (quick: 64,64)", "256,256", SY_FLAG_STRING, 0, 0},
    {"lr", "Adam learning rate", "1e-4", SY_FLAG_DOUBLE, 1e-8, 1},
    {"beta1", "Adam beta1 (Dohare et al.: 0.99)", "0.99", SY_FLAG_DOUBLE, 0, 0.9999},
    {"beta2", "Adam beta2 (Dohare et al.: 0.99)", "0.99", SY_FLAG_DOUBLE, 0, 0.9999},
    {"gamma", "weight decay (Adam's coupled weight_decay) of vanilla and syre (paper: 0.002)", "0.002",
     SY_FLAG_DOUBLE, 0, 100},
    {"method", "none (the paper's vanilla PPO), vanilla (weight decay toward 0), syre, syre-ar, l2init; cbp, redo "
     "(with weight decay), syre+cbp, none+redo, ...", "none,vanilla,syre", SY_FLAG_METHODS, 0, 0},
    UNIT_RESET_FLAGS("10000", "Dohare et al. 2024, Slippery Ant: 10000", "100",
                     "Dohare et al.'s ReDo on Ant: every 100 updates; minibatch steps here"),
    {"clip", "PPO clip range epsilon", "0.2", SY_FLAG_DOUBLE, 0.001, 0.999},
    {"discount", "reward discount", "0.99", SY_FLAG_DOUBLE, 0.001, 1},
    {"gae-lambda", "GAE lambda", "0.95", SY_FLAG_DOUBLE, 0, 1},
    {"vf-coef", "weight of the value loss (separate networks: matters only through Adam's eps)", "0.5",
     SY_FLAG_DOUBLE, 0, 1000},
    {"obs-norm", "normalise observations by running mean and std", "1", SY_FLAG_BOOL, 0, 0},
    {"reward-scale", "learn from rewards / running std of the discounted return (returns reported raw)", "1",
     SY_FLAG_BOOL, 0, 0},
    {"rank-n", "rollout observations for the rank measures (quick: 1024)", "2048", SY_FLAG_INT, 2, 1000000},
    {"ctrl-cost", "control cost weight in the reward", "0.5", SY_FLAG_DOUBLE, 0, 100},
    {"max-episode-steps", "episode truncation", "1000", SY_FLAG_INT, 1, 100000000},
    {"env-threads", "threads stepping the environments (1: serial)", "1", SY_FLAG_INT, 1, 256},
    {"ckpt-every", "iterations between checkpoints (and at the end); 0 = only at the end", "50", SY_FLAG_INT, 0,
     100000000},
    {"smooth", "plots: moving average over this many iterations", "20", SY_FLAG_INT, 1, 100000},
    {"seeds", "reproduce: seeds averaged per method (paper: 5; seed, seed+1, ...)", "5", SY_FLAG_INT, 1, MAX_SEEDS},
    {NULL, NULL, NULL, 0, 0, 0},
};

#define NC SY_PPO_NCOLS

typedef struct {
    sy_ant_opts eo;
    sy_ppo_opts po;
    int64_t steps, iters;
    double gamma, sigma0, eps;
    int ckpt_every, smooth, dormant; /* dormant: log dormant.csv */
} ant_ctx;

/* The methods to run and the settings. */
static sy_status ant_setup(sy_run *run, ant_ctx *c, const char *const **meths, int *nm)
{
    sy_status s = sy_run_methods_among(run, METHODS, meths, nm);
    if (s != SY_OK) return s;
    c->dormant = unit_reset_dormant(run, *meths, *nm);
    if (!sy_rl_have_mujoco())
        return sy_fail(SY_ERR_UNSUPPORTED,
                       "ant: this build has no MuJoCo; install Debian's libmujoco-dev (scripts/setup.sh) and rebuild");
    c->steps = sy_run_get_int(run, "steps");
    c->eo = sy_ant_defaults();
    c->eo.friction_every = sy_run_get_int(run, "friction-every");
    c->eo.n_envs = (int)sy_run_get_int(run, "envs");
    c->eo.threads = (int)sy_run_get_int(run, "env-threads");
    c->eo.ctrl_cost = sy_run_get_double(run, "ctrl-cost");
    c->eo.max_episode_steps = (int)sy_run_get_int(run, "max-episode-steps");
    c->po = sy_ppo_defaults();
    c->po.rollout = (int)sy_run_get_int(run, "rollout");
    c->po.epochs = (int)sy_run_get_int(run, "epochs");
    c->po.minibatch = (int)sy_run_get_int(run, "batch");
    c->po.rank_n = (int)sy_run_get_int(run, "rank-n");
    double hid[2];
    int nh = 0;
    s = sy_run_get_numbers(run, "hidden", 1, 0, 65536, hid, 2, &nh);
    if (s == SY_OK && (nh != 2 || hid[0] != floor(hid[0]) || hid[1] != floor(hid[1])))
        s = sy_fail(SY_ERR_ARG, "ant: --hidden needs two whole widths in [1, 65536] as W1,W2, got '%s'",
                    sy_run_get_str(run, "hidden"));
    if (s != SY_OK) return s;
    c->po.hidden1 = (int)hid[0];
    c->po.hidden2 = (int)hid[1];
    c->po.lr = sy_run_get_double(run, "lr");
    c->po.beta1 = sy_run_get_double(run, "beta1");
    c->po.beta2 = sy_run_get_double(run, "beta2");
    c->po.clip = sy_run_get_double(run, "clip");
    c->po.discount = sy_run_get_double(run, "discount");
    c->po.gae_lambda = sy_run_get_double(run, "gae-lambda");
    c->po.vf_coef = sy_run_get_double(run, "vf-coef");
    c->po.obs_norm = sy_run_get_bool(run, "obs-norm");
    c->po.reward_scale = sy_run_get_bool(run, "reward-scale");
    c->gamma = sy_run_get_double(run, "gamma");
    c->sigma0 = sy_run_get_double(run, "sigma0");
    c->eps = sy_run_get_double(run, "eps");
    c->ckpt_every = (int)sy_run_get_int(run, "ckpt-every");
    c->smooth = (int)sy_run_get_int(run, "smooth");
    int64_t per = (int64_t)c->po.rollout * c->eo.n_envs;
    if ((int64_t)c->po.minibatch > per)
        return sy_fail(SY_ERR_ARG, "ant: --batch (%d) exceeds the rollout batch (--rollout %d x --envs %d = %lld)",
                       c->po.minibatch, c->po.rollout, c->eo.n_envs, (long long)per);
    if ((int64_t)c->po.rank_n > per)
        return sy_fail(SY_ERR_ARG, "ant: --rank-n (%d) exceeds the rollout batch (--rollout %d x --envs %d = %lld)",
                       c->po.rank_n, c->po.rollout, c->eo.n_envs, (long long)per);
    c->iters = (c->steps + per - 1) / per;
    fprintf(stderr,
            "ant: %lld iterations x %lld steps (%d envs x %d) = %lld env steps per method; friction changes every %lld "
            "steps (%lld phases); MLP %d,%d; %d epochs of minibatch %d; Adam lr %g betas (%g, %g); gamma %g\n",
            (long long)c->iters, (long long)per, c->eo.n_envs, c->po.rollout, (long long)(c->iters * per),
            (long long)c->eo.friction_every,
            (long long)(c->eo.friction_every > 0 ? (c->iters * per + c->eo.friction_every - 1) / c->eo.friction_every
                                                 : 1),
            c->po.hidden1, c->po.hidden2, c->po.epochs, c->po.minibatch, c->po.lr, c->po.beta1, c->po.beta2, c->gamma);
    return SY_OK;
}

/* Train one method with one seed; hist gets iters x NC. */
static sy_status run_one(sy_run *run, const ant_ctx *c, const char *meth, const char *rec, uint64_t seed,
                         double *hist, double *seconds)
{
    sy_ant_opts eo = c->eo;
    sy_ppo_opts po = c->po;
    eo.seed = po.seed = seed;
    char decay[64];
    sy_status s = unit_reset_for(run, meth, decay, sizeof decay, &po.units);
    if (s == SY_OK) s = sy_decay_parse(decay, (float)c->gamma, (float)c->sigma0, (float)c->eps, &po.decay);
    if (s != SY_OK) return s;
    sy_ppo_train_opts o = {run, rec, c->iters, c->ckpt_every, sy_run_get_bool(run, "resume"), c->dormant};
    return sy_ppo_train(&eo, &po, &o, hist, seconds);
}

/* The summary: per column, its first value, its mean over the first `tail`
 * iterations ("_start"), over the last `tail` ("_end"), over all of them,
 * its minimum or its last value. */
static const sy_history_key SUMMARY[] = {
    {"env_steps", SY_PPO_COL_STEPS, SY_HIST_LAST},
    {"return_start", SY_PPO_COL_RETURN, SY_HIST_HEAD}, {"return_end", SY_PPO_COL_RETURN, SY_HIST_TAIL},
    {"return_mean", SY_PPO_COL_RETURN, SY_HIST_MEAN},
    {"reward_per_step_start", SY_PPO_COL_REWARD, SY_HIST_HEAD},
    {"reward_per_step_end", SY_PPO_COL_REWARD, SY_HIST_TAIL},
    {"explained_variance_start", SY_PPO_COL_EV, SY_HIST_HEAD}, {"explained_variance_end", SY_PPO_COL_EV, SY_HIST_TAIL},
    {"erank_first", SY_PPO_COL_ERANK, SY_HIST_FIRST}, {"erank_end", SY_PPO_COL_ERANK, SY_HIST_TAIL},
    {"erank_min", SY_PPO_COL_ERANK, SY_HIST_MIN},
    {"srank_first", SY_PPO_COL_SRANK, SY_HIST_FIRST}, {"srank_end", SY_PPO_COL_SRANK, SY_HIST_TAIL},
    {"dead_end", SY_PPO_COL_DEAD, SY_HIST_TAIL},
    {"value_loss_first", SY_PPO_COL_VLOSS, SY_HIST_FIRST}, {"value_loss_end", SY_PPO_COL_VLOSS, SY_HIST_TAIL},
    {"policy_std_last", SY_PPO_COL_STD, SY_HIST_LAST}, {"weight_norm_last", SY_PPO_COL_WNORM, SY_HIST_LAST},
};

static sy_status summarise(sy_run *run, const ant_ctx *c, const char *rec, const double *h, double seconds)
{
    int64_t T = c->iters, per = (int64_t)c->po.rollout * c->eo.n_envs, a, b;
    int64_t tail = T / 4 < 8 ? T / 4 : 8; /* max(T / 10, min(T / 4, 8)) iterations */
    if (T / 10 > tail) tail = T / 10;
    char key[64];
    sy_status s = sy_run_summary_history(run, rec, h, T, NC, tail, SUMMARY, sizeof SUMMARY / sizeof SUMMARY[0]);
    if (s == SY_OK && seconds > 0) s = sy_run_summary(run, rec, "steps_per_s", (double)(T * per) / seconds);
    /* per friction phase: mean return and effective rank */
    int64_t every = c->eo.friction_every, nph = every > 0 ? (T * per + every - 1) / every : 0;
    for (int64_t k = 0; k < nph && k < 100 && s == SY_OK; k++) {
        if (!sy_ppo_history_phase(h, T, every, k, &a, &b)) continue;
        snprintf(key, sizeof key, "return phase %lld", (long long)k + 1);
        s = sy_run_summary(run, rec, key, sy_ppo_history_mean(h, a, b, SY_PPO_COL_RETURN));
        snprintf(key, sizeof key, "erank phase %lld", (long long)k + 1);
        if (s == SY_OK) s = sy_run_summary(run, rec, key, sy_ppo_history_mean(h, a, b, SY_PPO_COL_ERANK));
    }
    return s == SY_OK ? sy_run_summary_settingf(run, rec, "gamma (Adam weight_decay)", "%g", c->gamma) : s;
}

static const char *legend(const char *m)
{
    if (strcmp(m, "none") == 0) return "none (PPO, the paper's vanilla)";
    return strcmp(m, "vanilla") == 0 ? "vanilla (weight decay)" : m;
}

/* The figures: columns of the histories h[0..nm), their moving averages over
 * --smooth iterations, against env steps. */
static sy_status plots(sy_run *run, const ant_ctx *c, const char *const *meths, int nm, double *const *h,
                       const char *tag, int friction)
{
    const char *leg[MAX_METHODS], *fl[1] = {"floor friction"};
    for (int m = 0; m < nm; m++) leg[m] = legend(meths[m]);
    char t[4][256];
    snprintf(t[0], sizeof t[0], "Slippery Ant: episode return%s (moving average over %d iterations)", tag, c->smooth);
    snprintf(t[1], sizeof t[1], "Effective rank of the policy's last hidden layer (%d units)%s", c->po.hidden2, tag);
    snprintf(t[2], sizeof t[2], "Stable rank (99%%) of the policy's last hidden layer%s", tag);
    snprintf(t[3], sizeof t[3], "Dead units of the policy's last hidden layer%s", tag);
    const sy_history_figure figs[] = {
        {"ant-return", SY_PPO_COL_RETURN, t[0], "return", 0, 0},
        {"ant-erank", SY_PPO_COL_ERANK, t[1], "effective rank", 0, 0},
        {"ant-srank", SY_PPO_COL_SRANK, t[2], "stable rank", 0, 0},
        {"ant-dead", SY_PPO_COL_DEAD, t[3], "dead units", 0, 0},
        {"ant-friction", SY_PPO_COL_FRICTION, "Floor friction over training (log-uniform draws)", "friction", 0, 0},
    };
    sy_history_curves hc = {.rows = c->iters, .cols = NC, .xcol = SY_PPO_COL_STEPS, .smooth = c->smooth, .n = nm,
                            .labels = leg, .h = (const double *const *)h, .xlabel = "env steps", .style = SY_PLOT_LINE};
    sy_status s = sy_plot_histories(run, &hc, figs, 4);
    /* friction schedule (identical for every method of one seed) */
    hc.smooth = 1, hc.n = 1, hc.labels = fl;
    return s == SY_OK && friction ? sy_plot_histories(run, &hc, figs + 4, 1) : s;
}

static sy_status ant_run(sy_run *run)
{
    ant_ctx c;
    const char *const *meths;
    int nm;
    sy_status s = ant_setup(run, &c, &meths, &nm);
    if (s != SY_OK) return s;
    sy_histories hs = sy_histories_make(c.iters, NC);
    for (int m = 0; m < nm && s == SY_OK; m++) {
        double *h, secs = 0;
        s = sy_histories_add(&hs, &h, "%s", meths[m]);
        if (s == SY_OK) s = run_one(run, &c, meths[m], meths[m], sy_run_seed(run), h, &secs);
        if (s == SY_OK) s = summarise(run, &c, meths[m], h, secs);
    }
    if (s == SY_OK) s = plots(run, &c, meths, nm, hs.h, "", 1);
    sy_histories_free(&hs);
    return s;
}

/* Fig. 8: every method for --seeds seeds; curves are per-iteration means over
 * the seeds (every seed has the same step grid). */
static sy_status ant_reproduce(sy_run *run)
{
    ant_ctx c;
    const char *const *meths;
    int nm;
    sy_status s = ant_setup(run, &c, &meths, &nm);
    if (s != SY_OK) return s;
    int ns = (int)sy_run_get_int(run, "seeds");
    uint64_t seed0 = sy_run_seed(run);
    sy_histories mean = sy_histories_make(c.iters, NC); /* per method, the mean of its seeds */
    for (int m = 0; m < nm && s == SY_OK; m++) {
        sy_histories seeds = sy_histories_make(c.iters, NC);
        double *h;
        for (int k = 0; k < ns && s == SY_OK; k++) {
            double secs = 0;
            s = sy_histories_add(&seeds, &h, "%s@seed%llu", meths[m], (unsigned long long)(seed0 + k));
            if (s == SY_OK) s = run_one(run, &c, meths[m], seeds.name[k], seed0 + k, h, &secs);
            if (s == SY_OK) s = summarise(run, &c, seeds.name[k], h, secs);
        }
        if (s == SY_OK) s = sy_histories_add(&mean, &h, "%s", meths[m]);
        if (s == SY_OK) sy_history_mean_over(h, (const double *const *)seeds.h, ns, NC * (size_t)c.iters);
        if (s == SY_OK) s = summarise(run, &c, meths[m], h, 0);
        sy_histories_free(&seeds);
    }
    char tag[64];
    snprintf(tag, sizeof tag, ", mean of %d seeds", ns);
    if (s == SY_OK) s = plots(run, &c, meths, nm, mean.h, tag, 0);
    sy_histories_free(&mean);
    return s;
}

const sy_experiment sy_exp_ant = {
    .name = "ant",
    .figure = "Fig. 8",
    .summary = "PPO on a slippery MuJoCo Ant (friction changes): effective rank and return, none vs weight decay vs syre",
    .flags = ant_flags,
    .run = ant_run,
    .reproduce_id = "fig8",
    .reproduce = ant_reproduce,
    .ignores = "data-dir",
    .quick = "steps=24576;friction-every=8192;envs=4;epochs=4;hidden=64,64;rank-n=1024",
    .data_parallel = 1,
};
