/* PPO training of one method within a run: one history row and one record
 * row per iteration, checkpoints (parameters, optimizer, environments and
 * history) at a cadence and at the end, and a bit-identical resume. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "syre/experiment.h"
#include "syre/history.h"
#include "syre/format.h"
#include "syre/rl.h"

const char *const sy_ppo_col_names[SY_PPO_NCOLS] = {
    "env_steps",    "return",      "reward_per_step", "explained_variance", "episodes",  "episode_length",
    "friction",     "effective_rank", "stable_rank",  "dead_units",         "policy_loss", "value_loss",
    "approx_kl",    "clip_frac",   "policy_std",      "weight_norm",
};

void sy_ppo_stats_row(const sy_ppo_stats *st, double *r)
{
    r[SY_PPO_COL_STEPS] = (double)st->steps;
    r[SY_PPO_COL_RETURN] = st->return_mean;
    r[SY_PPO_COL_REWARD] = st->reward_mean;
    r[SY_PPO_COL_EV] = st->explained_var;
    r[SY_PPO_COL_EPISODES] = st->episodes;
    r[SY_PPO_COL_LENGTH] = st->length_mean;
    r[SY_PPO_COL_FRICTION] = st->friction;
    r[SY_PPO_COL_ERANK] = st->erank;
    r[SY_PPO_COL_SRANK] = st->srank;
    r[SY_PPO_COL_DEAD] = st->dead;
    r[SY_PPO_COL_PLOSS] = st->policy_loss;
    r[SY_PPO_COL_VLOSS] = st->value_loss;
    r[SY_PPO_COL_KL] = st->approx_kl;
    r[SY_PPO_COL_CLIP] = st->clip_frac;
    r[SY_PPO_COL_STD] = st->std_mean;
    r[SY_PPO_COL_WNORM] = st->weight_norm;
}

double sy_ppo_history_mean(const double *h, int64_t a, int64_t b, int col)
{
    return sy_history_mean(h, SY_PPO_NCOLS, a, b, col);
}

int sy_ppo_history_phase(const double *h, int64_t iters, int64_t every, int64_t k, int64_t *a, int64_t *b)
{
    *a = *b = -1;
    for (int64_t i = 0; i < iters; i++) {
        int64_t ph = ((int64_t)h[i * SY_PPO_NCOLS + SY_PPO_COL_STEPS] - 1) / every;
        if (ph == k && *a < 0) *a = i;
        if (ph == k) *b = i + 1;
    }
    return *a >= 0;
}

sy_status sy_ppo_history_save(const char *path, const double *h, int64_t iters)
{
    return sy_write_file_atomic(path, h, sizeof(double) * SY_PPO_NCOLS * (size_t)iters);
}

sy_status sy_ppo_history_load(const char *path, double *h, int64_t iters)
{
    FILE *f = fopen(path, "rb");
    if (!f) return sy_fail(SY_ERR_IO, "sy_ppo_history_load: cannot open %s", path);
    size_t got = fread(h, sizeof(double) * SY_PPO_NCOLS, (size_t)iters, f);
    fclose(f);
    return got == (size_t)iters ? SY_OK
                                : sy_fail(SY_ERR_FORMAT, "sy_ppo_history_load: %s holds %zu iterations, not %lld",
                                          path, got, (long long)iters);
}

static int file_exists(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (f) fclose(f);
    return f != NULL;
}

sy_status sy_ppo_train(const sy_ant_opts *eo, const sy_ppo_opts *po, const sy_ppo_train_opts *o, double *hist,
                       double *seconds)
{
    if (!eo || !po || !o || !o->run || !o->rec || !hist || o->iters < 1)
        return sy_fail(SY_ERR_ARG, "sy_ppo_train: NULL argument or no iteration");
    /* data parallelism: eo->n_envs are the job's envs; this rank steps its share */
    sy_ant_opts le;
    sy_status s = sy_ant_rank_opts(eo, &le);
    if (s != SY_OK) return s;
    sy_ant *env = NULL;
    sy_ppo *p = NULL;
    s = sy_ant_new(&le, &env);
    if (s != SY_OK) return s;
    if ((s = sy_ppo_new(env, po, &p)) != SY_OK) {
        sy_ant_free(env);
        return s;
    }
    char ckpt[4200], state[4200], hpath[4200], file[160];
    sy_run_ckpt_path(o->run, NULL, o->rec, ckpt, sizeof ckpt);
    snprintf(file, sizeof file, "envstate-%s.bin", o->rec);
    sy_run_path(o->run, file, state, sizeof state);
    snprintf(file, sizeof file, "history-%s.bin", o->rec);
    sy_run_path(o->run, file, hpath, sizeof hpath);
    for (int64_t i = 0; i < o->iters * SY_PPO_NCOLS; i++) hist[i] = NAN;
    int64_t start = 0;
    if (o->resume) {
        s = sy_ppo_load(p, ckpt, state);
        if (s == SY_OK) {
            start = sy_ppo_iterations(p);
            if (start > o->iters)
                s = sy_fail(SY_ERR_ARG, "sy_ppo_train: resuming %s: it is at iteration %lld, beyond the %lld asked",
                            o->rec, (long long)start, (long long)o->iters);
            else if (!file_exists(hpath))
                s = sy_fail(SY_ERR_IO, "sy_ppo_train: resuming %s: its checkpoint has %lld iterations but no %s",
                            o->rec, (long long)start, hpath);
            else
                s = sy_ppo_history_load(hpath, hist, start);
            if (s == SY_OK) fprintf(stderr, "ant %s: resumed at iteration %lld\n", o->rec, (long long)start);
        } else if (s == SY_ERR_IO && !file_exists(ckpt)) {
            s = SY_OK; /* nothing saved yet for this method: start it */
        }
    }
    char label[200];
    snprintf(label, sizeof label, "ant %s", o->rec);
    sy_progress *pr = s == SY_OK ? sy_progress_start(label, o->iters) : NULL;
    struct timespec ts0, ts1;
    clock_gettime(CLOCK_MONOTONIC, &ts0);
    for (int64_t it = start; it < o->iters && s == SY_OK; it++) {
        sy_ppo_stats st;
        if ((s = sy_ppo_iterate(p, &st)) != SY_OK) break;
        double *r = hist + it * SY_PPO_NCOLS;
        sy_ppo_stats_row(&st, r);
        /* env_steps is the row's step */
        if ((s = sy_run_log(o->run, o->rec, st.steps, SY_PPO_NCOLS - 1, sy_ppo_col_names + 1, r + 1)) != SY_OK) break;
        static const char *const dn[3] = {"dormant0_pi1", "dormant_pi1", "units_reset"};
        const double dv[3] = {st.dormant0, st.dormant, (double)st.units_reset};
        if (o->dormant && (s = sy_run_log_to(o->run, "dormant.csv", o->rec, st.steps, 3, dn, dv)) != SY_OK) break;
        char note[160];
        snprintf(note, sizeof note, "return %.1f  erank %.1f  srank %d  friction %.3f", st.return_mean, st.erank,
                 st.srank, st.friction);
        sy_progress_update(pr, it + 1, note);
        int last = it + 1 == o->iters;
        if (last || (o->ckpt_every > 0 && (it + 1) % o->ckpt_every == 0)) {
            if ((s = sy_ppo_history_save(hpath, hist, it + 1)) != SY_OK) break;
            s = sy_ppo_save(p, ckpt, state);
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &ts1);
    double wall = (ts1.tv_sec - ts0.tv_sec) + 1e-9 * (ts1.tv_nsec - ts0.tv_nsec);
    /* the rate of this call's iterations only (none when resuming a finished run) */
    if (seconds) *seconds = o->iters > start ? wall * (double)o->iters / (double)(o->iters - start) : 0;
    sy_progress_finish(pr);
    sy_ppo_free(p);
    sy_ant_free(env);
    return s;
}
