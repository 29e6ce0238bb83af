/* Reinforcement-learning environments: a four-legged MuJoCo Ant (the model is
 * written for this project, in the spirit of the standard Ant locomotion
 * task) stepped as a batch of environments, and its continual "slippery"
 * variant whose floor friction changes every fixed number of steps to values
 * drawn log-uniformly from [friction_lo, friction_hi] (paper Appendix C.6,
 * after Dohare et al. 2023).
 *
 * Observation (27 floats per env): torso height, torso orientation quaternion
 * (4), the 8 joint angles, torso linear and angular velocity (6) and the 8
 * joint velocities; the torso's x-y position is left out, as usual.
 * Action (8 floats): motor commands, clipped to [-1, 1] (gear 150).
 * Reward per step: forward (+x) velocity of the torso - ctrl_cost * |a|^2 +
 * healthy_reward. An episode terminates when the torso height leaves
 * [z_min, z_max] or the simulation goes unstable, and is truncated after
 * max_episode_steps. Environments reset themselves when their episode ends.
 *
 * The rl component (libsyre_rl; CMake syre::rl, pkg-config syre-rl):
 * libsyre itself never links MuJoCo. MuJoCo is optional at build time
 * (Debian libmujoco-dev): without it the component still builds, every Ant
 * constructor fails with SY_ERR_UNSUPPORTED and sy_rl_have_mujoco() is 0. */
#ifndef SYRE_RL_H
#define SYRE_RL_H

#include <stdint.h>

#include "syre/core.h"
#include "syre/experiment.h"
#include "syre/optim.h"
#include "syre/params.h"
#include "syre/trainer.h"

#ifdef __cplusplus
extern "C" {
#endif

/* 1 if this build has MuJoCo; its version string ("2.2.2") or "none". */
int sy_rl_have_mujoco(void);
const char *sy_rl_mujoco_version(void);

#define SY_ANT_OBS_DIM 27 /* floats per observation, as listed above */
#define SY_ANT_ACT_DIM 8  /* floats per action: one motor command per joint */

/* Options of sy_ant_new; defaults (sy_ant_defaults) in parentheses. */
typedef struct {
    int n_envs;               /* environments stepped together (default 8) */
    int threads;              /* threads stepping them (OpenMP); <= 1: serial */
    int frame_skip;           /* physics steps of 0.01 s per env step (5: dt = 0.05 s) */
    int max_episode_steps;    /* truncation (1000) */
    double ctrl_cost;         /* weight of |a|^2 (0.5) */
    double healthy_reward;    /* survival bonus per step (1) */
    double z_min, z_max;      /* healthy torso height range (0.2, 1.0) */
    double reset_noise;       /* qpos += U(-r, r), qvel += r N(0, 1) at reset (0.1) */
    double friction;          /* floor sliding friction when friction_every = 0 (1) */
    int64_t friction_every;   /* slippery: total env steps (all envs) between changes; 0 = off */
    double friction_lo, friction_hi; /* slippery draws, log-uniform (0.02, 2) */
    uint64_t seed;            /* resets and friction draws */
    int env_offset;           /* index of the first env in the whole job's numbering (data parallelism: rank r of
                                 N holds envs [r n_envs, (r + 1) n_envs)); keys each env's reset noise (0) */
    int job_envs;             /* envs of the whole job, all ranks: the steps one sy_ant_step adds to the friction
                                 schedule's count; 0: n_envs */
} sy_ant_opts;

/* The defaults listed in the struct; threads 1, seed 1. */
sy_ant_opts sy_ant_defaults(void);
/* This rank's share of a job of job->n_envs environments (docs/distributed.md):
 * under N ranks rank r steps n_envs / N of them, env_offset = r n_envs / N,
 * job_envs = n_envs (one rank: *job unchanged). Fails with SY_ERR_ARG, naming
 * both numbers, when N does not divide n_envs. */
sy_status sy_ant_rank_opts(const sy_ant_opts *job, sy_ant_opts *mine);

/* A batch of Ant environments (opaque): sy_ant_new, sy_ant_free. */
typedef struct sy_ant sy_ant;

/* Build the model and n_envs simulations; NULL-safe free. Does not reset. */
sy_status sy_ant_new(const sy_ant_opts *o, sy_ant **out);
void sy_ant_free(sy_ant *e);
/* Environments in the batch (its options' n_envs). */
int sy_ant_num_envs(const sy_ant *e);
/* The options it was made with (owned by it; NULL in a build without MuJoCo). */
const sy_ant_opts *sy_ant_options(const sy_ant *e);
/* The MJCF text of the model (for inspection and docs). */
const char *sy_ant_xml(void);

/* Reset every environment; obs [n_envs, 27]. */
sy_status sy_ant_reset(sy_ant *e, float *obs);
/* Step every environment with act [n_envs, 8]. Outputs per env: obs [n, 27]
 * (after an episode end: the first observation of the next episode), reward
 * [n], done [n] (1 = terminated, 2 = truncated, 0 = running) and, if
 * final_obs is not NULL, the last observation of an episode that just ended
 * (rows of running envs untouched), for bootstrapping truncated episodes.
 * The friction schedule advances by n_envs steps per call. */
sy_status sy_ant_step(sy_ant *e, const float *act, float *obs, float *reward, unsigned char *done,
                      float *final_obs);

/* Slippery schedule: total env steps so far, the friction now, and the
 * friction of phase k (a pure function of seed and k). */
int64_t sy_ant_total_steps(const sy_ant *e);
double sy_ant_friction(const sy_ant *e);
double sy_ant_friction_of_phase(const sy_ant_opts *o, int64_t k);

/* Whole state (every simulation, episode counters, schedule position) as
 * doubles, for checkpoints: size, save into buf, restore from buf. */
size_t sy_ant_state_size(const sy_ant *e);
void sy_ant_get_state(const sy_ant *e, double *buf);
sy_status sy_ant_set_state(sy_ant *e, const double *buf);

/* ---- PPO (Schulman et al. 2017) on the Ant --------------------------------
 * Gaussian policy: mean = MLP(obs) (two ReLU hidden layers "pi.0", "pi.1",
 * output "pi.2"), state-independent log std "pi.log_std" (init 0); value =
 * MLP(obs) ("vf.0", "vf.1", "vf.2"), a separate network. Per iteration: a
 * rollout of `rollout` steps of every env (actions a = mean + std * N(0, 1),
 * sent clipped to [-1, 1]), GAE(discount, gae_lambda) advantages normalised
 * over the batch, truncated episodes bootstrapped with the value of their
 * last observation, then `epochs` passes of shuffled minibatches on
 * -mean(min(r A, clamp(r, 1-clip, 1+clip) A)) + vf_coef * mean((V - R)^2),
 * r = pi(a|s) / pi_old(a|s), with Adam and a decay rule (none, weight decay
 * toward 0, syre, ...). Observations are normalised by running mean and
 * variance (clipped to +-10) before both networks; rewards (for learning,
 * not for the returns reported) are divided by the running standard
 * deviation of each env's discounted return, as in common PPO code, so the
 * value targets stay O(1) whatever the reward's scale. After each iteration, the
 * policy's last hidden layer ("pi.1" after ReLU) on the first rank_n
 * observations of the rollout gives the effective rank, the stable rank
 * (99% cover) and the dead units. */

/* Options of sy_ppo_new; defaults (sy_ppo_defaults) in parentheses. */
typedef struct {
    int hidden1, hidden2;      /* hidden widths of both networks (256, 256) */
    int rollout;               /* steps per env per iteration (256: 2048 with 8 envs) */
    int epochs, minibatch;     /* passes over the rollout per update, samples per minibatch (10, 128) */
    double lr, beta1, beta2, adam_eps; /* Adam's lr, betas, eps (1e-4, 0.99, 0.99, 1e-8: Dohare et al.) */
    double discount, gae_lambda, clip, vf_coef; /* GAE's, the ratio clip, the value weight (0.99, 0.95, 0.2, 0.5) */
    int obs_norm;              /* 1: normalise observations */
    int reward_scale;          /* 1: divide rewards by the running std of the discounted return */
    int rank_n;                /* observations for the rank measures (2048; <= rollout * envs) */
    sy_decay decay;            /* decay rule of every tensor (sy_decay_parse) */
    uint64_t seed;             /* init, anchors, action noise, minibatch order */
    sy_unit_reset_opts units;  /* a unit reset (CBP, ReDo) of both networks' two hidden layers after every
                                  minibatch step (kind SY_UNIT_RESET_NONE: none; its seed is set to seed) */
} sy_ppo_opts;

/* The defaults listed in the struct; decay none, seed 1. */
sy_ppo_opts sy_ppo_defaults(void);

/* What one iteration did (sy_ppo_iterate). */
typedef struct {
    int64_t iteration, steps;  /* iterations done and env steps so far */
    int episodes;              /* episodes that ended in this iteration */
    double return_mean, length_mean; /* their mean return and length; NaN if none */
    double reward_mean;        /* mean reward per env step over the rollout */
    double explained_var;      /* 1 - Var(R - V) / Var(R) over the rollout (value fit) */
    double friction;           /* floor friction at the end of the rollout */
    double policy_loss, value_loss, approx_kl, clip_frac; /* means over the update's minibatches */
    double std_mean;           /* mean policy std */
    double erank;              /* effective rank of the last hidden layer */
    int srank, dead;           /* stable rank (99%), dead units (never positive) */
    double dormant0, dormant;  /* tau-dormant ratios of the policy's last hidden layer at tau 0 and 0.1 */
    long units_reset;          /* units a unit reset replaced so far (0 without one) */
    double weight_norm;        /* Frobenius norm of all trainable parameters */
    double sim_s, policy_s, update_s; /* wall seconds in the simulator, in acting, in the update */
} sy_ppo_stats;

/* A PPO learner (opaque): its networks, optimizer and rollout buffers. */
typedef struct sy_ppo sy_ppo;

/* A learner on env (not owned; used by every iteration). Under N > 1 MPI
 * ranks env must be this rank's share of the job's envs (sy_ant_rank_opts):
 * the learner then learns from the rollout of all of them, and minibatch must
 * be a multiple of N (docs/distributed.md). */
sy_status sy_ppo_new(sy_ant *env, const sy_ppo_opts *o, sy_ppo **out);
/* Frees the learner, not its env; NULL is a no-op. */
void sy_ppo_free(sy_ppo *p);
/* One rollout and one update. */
sy_status sy_ppo_iterate(sy_ppo *p, sy_ppo_stats *st);
/* Policy mean for obs [n_envs, 27] (raw; normalised inside with the current
 * statistics, not updated) into act [n_envs, 8]: acting without learning. */
sy_status sy_ppo_act_mean(sy_ppo *p, const float *obs, float *act);
/* The learner's parameter store and optimizer (owned by it). */
sy_params *sy_ppo_params(sy_ppo *p);
sy_optimizer *sy_ppo_optimizer(sy_ppo *p);
/* Checkpoint: parameters and optimizer to ckpt_path (sy_train_save, epoch =
 * iterations), the environments, observation statistics and episode
 * accumulators to state_path; load restores both (bit-identical resume).
 * Load fails with SY_ERR_IO if ckpt_path does not exist. */
sy_status sy_ppo_save(sy_ppo *p, const char *ckpt_path, const char *state_path);
sy_status sy_ppo_load(sy_ppo *p, const char *ckpt_path, const char *state_path);
/* Iterations done (restored by sy_ppo_load). */
int64_t sy_ppo_iterations(const sy_ppo *p);

/* ---- Training one method within a run ------------------------------------
 * A history holds one row of SY_PPO_NCOLS doubles per iteration: the
 * columns below, named as in the run's records (sy_ppo_col_names). */
enum {
    SY_PPO_COL_STEPS, SY_PPO_COL_RETURN, SY_PPO_COL_REWARD, SY_PPO_COL_EV, SY_PPO_COL_EPISODES, SY_PPO_COL_LENGTH,
    SY_PPO_COL_FRICTION, SY_PPO_COL_ERANK, SY_PPO_COL_SRANK, SY_PPO_COL_DEAD, SY_PPO_COL_PLOSS, SY_PPO_COL_VLOSS,
    SY_PPO_COL_KL, SY_PPO_COL_CLIP, SY_PPO_COL_STD, SY_PPO_COL_WNORM, SY_PPO_NCOLS
};
/* "env_steps", "return", "reward_per_step", "explained_variance", "episodes",
 * "episode_length", "friction", "effective_rank", "stable_rank",
 * "dead_units", "policy_loss", "value_loss", "approx_kl", "clip_frac",
 * "policy_std", "weight_norm". */
extern const char *const sy_ppo_col_names[SY_PPO_NCOLS];

/* One iteration's statistics as a history row [SY_PPO_NCOLS]. */
void sy_ppo_stats_row(const sy_ppo_stats *st, double *row);
/* Mean of the finite values of column col over iterations [a, b) of a
 * history; NaN if there is none (sy_history_mean, syre/history.h). */
double sy_ppo_history_mean(const double *h, int64_t a, int64_t b, int col);
/* The iterations [*a, *b) of a history whose env steps fall in friction
 * phase k (steps in (k * every, (k + 1) * every], every >= 1): 1, or 0 if
 * none does. */
int sy_ppo_history_phase(const double *h, int64_t iters, int64_t every, int64_t k, int64_t *a, int64_t *b);
/* The first iters rows as raw doubles (atomic write); load reads them back:
 * SY_ERR_IO if the file is missing, SY_ERR_FORMAT if it holds fewer rows. */
sy_status sy_ppo_history_save(const char *path, const double *h, int64_t iters);
sy_status sy_ppo_history_load(const char *path, double *h, int64_t iters);

/* How sy_ppo_train records, checkpoints and resumes one method. */
typedef struct {
    sy_run *run;        /* the records: one row per iteration (step = env steps) */
    const char *rec;    /* the rows' method and the files' name: ckpt-<rec>.safetensors,
                           envstate-<rec>.bin, history-<rec>.bin in the run directory */
    int64_t iters;      /* iterations to reach */
    int ckpt_every;     /* iterations between checkpoints (and one at the end); 0: only at the end */
    int resume;         /* continue from the checkpoint, if there is one */
    int dormant;        /* 1: also a row of dormant.csv per iteration (dormant ratios, units replaced) */
} sy_ppo_train_opts;

/* Train PPO (po) on a new batch of Ants (eo) for o->iters iterations, or the
 * rest of them after a checkpoint. hist [iters * SY_PPO_NCOLS] gets every
 * iteration's row (the ones before a resume read back from the history file;
 * NaN where none was reached); *seconds (may be NULL) the wall time of this
 * call's iterations scaled to all iters (0 when none was left). */
sy_status sy_ppo_train(const sy_ant_opts *eo, const sy_ppo_opts *po, const sy_ppo_train_opts *o, double *hist,
                       double *seconds);

#ifdef __cplusplus
}
#endif
#endif
