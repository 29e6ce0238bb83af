/* PPO with a Gaussian policy on the vectorised Ant (include/syre/rl.h).
 * Three graphs share one parameter store: `act` (batch = envs: policy mean
 * and value for acting and bootstrapping), `train` (batch = minibatch: the
 * clipped surrogate and the value loss) and `rank` (batch = rank_n: the
 * policy's last hidden layer). Log-probabilities leave out the constant
 * -D/2 log(2 pi), which cancels in every ratio. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "syre/dist.h"
#include "syre/graph.h"
#include "syre/metrics.h"
#include "syre/nn.h"
#include "syre/rl.h"
#include "syre/train.h"
#include "syre/format.h"

#define OD SY_ANT_OBS_DIM
#define AD SY_ANT_ACT_DIM
#define OBS_CLIP 10.0f

sy_ppo_opts sy_ppo_defaults(void)
{
    sy_ppo_opts o;
    memset(&o, 0, sizeof o);
    o.hidden1 = 256;
    o.hidden2 = 256;
    o.rollout = 256;
    o.epochs = 10;
    o.minibatch = 128;
    o.lr = 1e-4;
    o.beta1 = 0.99;
    o.beta2 = 0.99;
    o.adam_eps = 1e-8;
    o.discount = 0.99;
    o.gae_lambda = 0.95;
    o.clip = 0.2;
    o.vf_coef = 0.5;
    o.obs_norm = 1;
    o.reward_scale = 1;
    o.rank_n = 2048;
    o.decay = sy_decay_none();
    o.seed = 1;
    return o;
}

struct sy_ppo {
    sy_ppo_opts o;
    sy_ant *env;
    int n;               /* envs this rank steps */
    int ng, base, nr;    /* envs of all ranks, the global index of this rank's first, ranks */
    int mbl;             /* this rank's rows of a minibatch: minibatch / nr */
    size_t B;            /* the global rollout: rollout * ng */
    sy_params *ps;
    sy_optimizer *opt;
    sy_graph *ga, *gt, *gr;
    sy_var a_obs, a_mu, a_v;
    sy_var t_obs, t_act, t_logp, t_adv, t_ret, t_ratio, t_pl, t_vl, t_loss;
    sy_var r_obs, r_h;
    sy_var t_h[4];       /* the training graph's hidden layers: pi.0, pi.1, vf.0, vf.1 after relu */
    sy_unit_reset *units; /* NULL: no unit reset */
    int i_logstd;
    /* the global rollout, time-major: row t*ng + i (i: the env's global index);
     * obs, act, logp, val, rew lie one after another in roll, so that one sum
     * over ranks shares them (each rank fills its envs' rows, zeros elsewhere) */
    float *roll, *obs, *act, *logp, *val, *rew, *adv, *ret;
    unsigned char *done;
    float *cur_obs, *fin_obs, *act_env; /* this rank's envs */
    float *raw_obs, *rew_env;           /* every env's, the same on every rank */
    unsigned char *done_env;            /* every env's */
    float *loc_obs, *loc_rew;           /* nr > 1: this rank's env outputs, before they are shared */
    unsigned char *loc_done;
    float *xbuf;                        /* nr > 1: the per-step exchange, ng * (OD + 2) */
    int *perm;
    /* running observation statistics (Chan et al. parallel update) */
    double ns, mean[OD], m2[OD];
    double *ep_ret, *ep_len;
    /* reward scaling: running variance of the discounted returns disc[] */
    double rn, rmean, rm2, *disc;
    int64_t iter;
    int started;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* obs -> ReLU(pi.0) -> ReLU(pi.1) -> pi.2 = mean; h (may be NULL) gets the hidden layers. */
static sy_var policy(sy_graph *g, sy_var x, const sy_ppo_opts *o, sy_var *h)
{
    sy_var h1 = sy_relu(g, sy_linear(g, x, "pi.0", o->hidden1));
    sy_var h2 = sy_relu(g, sy_linear(g, h1, "pi.1", o->hidden2));
    if (h) h[0] = h1, h[1] = h2;
    return sy_linear(g, h2, "pi.2", AD);
}

/* obs -> ReLU(vf.0) -> ReLU(vf.1) -> vf.2; h (may be NULL) gets the hidden layers. */
static sy_var value(sy_graph *g, sy_var x, const sy_ppo_opts *o, sy_var *h)
{
    sy_var h1 = sy_relu(g, sy_linear(g, x, "vf.0", o->hidden1));
    sy_var h2 = sy_relu(g, sy_linear(g, h1, "vf.1", o->hidden2));
    if (h) h[0] = h1, h[1] = h2;
    return sy_linear(g, h2, "vf.2", 1);
}

static sy_var log_std(sy_graph *g)
{
    sy_init z = {SY_INIT_ZERO, 0};
    return sy_param_new(g, "pi.log_std", sy_shape_of(2, 1, AD), 1, z, 1);
}

static sy_status build(sy_ppo *p)
{
    const sy_ppo_opts *o = &p->o;
    int mb = o->minibatch;
    p->ps = sy_params_new();
    p->ga = sy_graph_new(p->ps);
    p->gt = sy_graph_new(p->ps);
    p->gr = sy_graph_new(p->ps);
    if (!p->ps || !p->ga || !p->gt || !p->gr) return sy_fail(SY_ERR_NOMEM, "ppo: out of memory");
    /* acting: the parameters are created here, in this order */
    p->a_obs = sy_input(p->ga, "obs", sy_shape_of(2, p->n, OD));
    p->a_mu = policy(p->ga, p->a_obs, o, NULL);
    log_std(p->ga);
    p->a_v = value(p->ga, p->a_obs, o, NULL);
    sy_status s = sy_graph_compile(p->ga);
    if (s != SY_OK) return s;
    /* training */
    sy_graph *g = p->gt;
    mb = p->mbl;
    p->t_obs = sy_input(g, "obs", sy_shape_of(2, mb, OD));
    p->t_act = sy_input(g, "act", sy_shape_of(2, mb, AD));
    p->t_logp = sy_input(g, "logp_old", sy_shape_of(1, mb));
    p->t_adv = sy_input(g, "adv", sy_shape_of(1, mb));
    p->t_ret = sy_input(g, "ret", sy_shape_of(1, mb));
    sy_var mu = policy(g, p->t_obs, o, p->t_h), ls = log_std(g);
    sy_var z = sy_mul(g, sy_sub(g, p->t_act, mu), sy_exp(g, sy_scale(g, ls, -1.0f)));
    sy_var logp = sy_sub(g, sy_sum_axis(g, sy_scale(g, sy_square(g, z), -0.5f), 1), sy_sum(g, ls));
    p->t_ratio = sy_exp(g, sy_sub(g, logp, p->t_logp));
    sy_var s1 = sy_mul(g, p->t_ratio, p->t_adv);
    sy_var s2 = sy_mul(g, sy_clamp(g, p->t_ratio, (float)(1 - o->clip), (float)(1 + o->clip)), p->t_adv);
    p->t_pl = sy_scale(g, sy_mean(g, sy_minimum(g, s1, s2)), -1.0f);
    sy_var v = sy_reshape(g, value(g, p->t_obs, o, p->t_h + 2), sy_shape_of(1, mb));
    p->t_vl = sy_mse(g, v, p->t_ret, SY_REDUCE_MEAN);
    p->t_loss = sy_add(g, p->t_pl, sy_scale(g, p->t_vl, (float)o->vf_coef));
    if ((s = sy_graph_compile(g)) != SY_OK) return s;
    /* rank probe */
    p->r_obs = sy_input(p->gr, "obs", sy_shape_of(2, o->rank_n, OD));
    sy_var rh[2];
    policy(p->gr, p->r_obs, o, rh);
    p->r_h = rh[1];
    if ((s = sy_graph_compile(p->gr)) != SY_OK) return s;
    sy_graph_set_training(p->gr, 0);
    sy_graph_set_training(p->ga, 0);
    p->i_logstd = sy_params_find(p->ps, "pi.log_std");
    return SY_OK;
}

sy_status sy_ppo_new(sy_ant *env, const sy_ppo_opts *o, sy_ppo **out)
{
    *out = NULL;
    if (!env) return sy_fail(SY_ERR_ARG, "ppo: no environment");
    int n = sy_ant_num_envs(env);
    if (o->hidden1 < 1 || o->hidden2 < 1) return sy_fail(SY_ERR_ARG, "ppo: hidden widths must be >= 1");
    if (o->rollout < 1 || o->epochs < 1 || o->minibatch < 2)
        return sy_fail(SY_ERR_ARG, "ppo: rollout and epochs must be >= 1, minibatch >= 2");
    int nr = sy_dist_size(), ng = n * nr;
    size_t B = (size_t)o->rollout * ng;
    if ((size_t)o->minibatch > B)
        return sy_fail(SY_ERR_ARG, "ppo: minibatch (%d) exceeds the rollout batch (%d steps x %d envs = %zu)",
                       o->minibatch, o->rollout, ng, B);
    const sy_ant_opts *eo = sy_ant_options(env);
    if (nr > 1 && (eo->job_envs != ng || eo->env_offset != sy_dist_rank() * n))
        return sy_fail(SY_ERR_ARG, "ppo: on %d ranks the environments must be this rank's share of the job's "
                       "(sy_ant_rank_opts): envs from %d of %d, not from %d of %d", nr, sy_dist_rank() * n, ng,
                       eo->env_offset, eo->job_envs);
    if (o->minibatch % nr)
        return sy_fail(SY_ERR_ARG, "ppo: minibatch %d does not split evenly over %d ranks: use a multiple of %d",
                       o->minibatch, nr, nr);
    if (o->rank_n < 2 || (size_t)o->rank_n > B)
        return sy_fail(SY_ERR_ARG, "ppo: rank_n (%d) must be in [2, rollout x envs = %zu]", o->rank_n, B);
    if (!(o->lr > 0) || !(o->clip > 0 && o->clip < 1) || !(o->discount > 0 && o->discount <= 1) ||
        !(o->gae_lambda >= 0 && o->gae_lambda <= 1) || !(o->vf_coef >= 0))
        return sy_fail(SY_ERR_ARG, "ppo: need lr > 0, clip in (0, 1), discount in (0, 1], gae_lambda in [0, 1], vf_coef >= 0");
    sy_ppo *p = calloc(1, sizeof *p);
    if (!p) return sy_fail(SY_ERR_NOMEM, "ppo: out of memory");
    p->o = *o;
    p->env = env;
    p->n = n;
    p->nr = nr;
    p->ng = ng;
    p->base = sy_dist_rank() * n;
    p->mbl = o->minibatch / nr;
    p->B = B;
    sy_status s = build(p);
#define ALLOC(ptr, cnt) (ptr) = calloc((cnt), sizeof *(ptr)), s = (s == SY_OK && !(ptr)) ? SY_ERR_NOMEM : s
    ALLOC(p->roll, B * (OD + AD + 3));
    if (p->roll) {
        p->obs = p->roll;
        p->act = p->obs + B * OD;
        p->logp = p->act + B * AD;
        p->val = p->logp + B;
        p->rew = p->val + B;
    }
    ALLOC(p->adv, B);
    ALLOC(p->ret, B);
    ALLOC(p->done, B);
    ALLOC(p->cur_obs, (size_t)n * OD);
    ALLOC(p->raw_obs, (size_t)ng * OD);
    ALLOC(p->fin_obs, (size_t)n * OD);
    ALLOC(p->act_env, (size_t)n * AD);
    ALLOC(p->rew_env, (size_t)ng);
    ALLOC(p->done_env, (size_t)ng);
    ALLOC(p->perm, B);
    ALLOC(p->ep_ret, (size_t)ng);
    ALLOC(p->ep_len, (size_t)ng);
    ALLOC(p->disc, (size_t)ng);
    if (nr > 1) {
        ALLOC(p->loc_obs, (size_t)n * OD);
        ALLOC(p->loc_rew, (size_t)n);
        ALLOC(p->loc_done, (size_t)n);
        ALLOC(p->xbuf, (size_t)ng * (OD + 2));
    } else { /* one rank: the env writes the global arrays directly */
        p->loc_obs = p->raw_obs, p->loc_rew = p->rew_env, p->loc_done = p->done_env;
    }
#undef ALLOC
    if (s == SY_ERR_NOMEM) sy_fail(s, "ppo: out of memory for the rollout buffers");
    if (s == SY_OK) s = sy_params_init(p->ps, o->seed);
    if (s == SY_OK) {
        sy_optim_opts oo = sy_optim_defaults(SY_OPTIM_ADAM);
        oo.lr = (float)o->lr;
        oo.beta1 = (float)o->beta1;
        oo.beta2 = (float)o->beta2;
        oo.eps = (float)o->adam_eps;
        oo.decay = o->decay;
        oo.seed = o->seed;
        p->opt = sy_optimizer_new(p->ps, &oo);
        if (!p->opt) s = SY_ERR_ARG;
    }
    if (s == SY_OK && o->units.kind != SY_UNIT_RESET_NONE) {
        const sy_unit_layer layers[4] = {{"pi.0", "pi.1", p->t_h[0]},
                                         {"pi.1", "pi.2", p->t_h[1]},
                                         {"vf.0", "vf.1", p->t_h[2]},
                                         {"vf.1", "vf.2", p->t_h[3]}};
        sy_unit_reset_opts uo = o->units;
        uo.seed = o->seed;
        s = sy_unit_reset_new(&uo, p->gt, p->ps, p->opt, layers, 4, &p->units);
    }
    if (s != SY_OK) {
        sy_ppo_free(p);
        return s;
    }
    *out = p;
    return SY_OK;
}

void sy_ppo_free(sy_ppo *p)
{
    if (!p) return;
    sy_unit_reset_free(p->units);
    sy_optimizer_free(p->opt);
    sy_graph_free(p->ga);
    sy_graph_free(p->gt);
    sy_graph_free(p->gr);
    sy_params_free(p->ps);
    if (p->nr > 1) free(p->loc_obs), free(p->loc_rew), free(p->loc_done), free(p->xbuf);
    free(p->roll), free(p->adv), free(p->ret);
    free(p->done), free(p->cur_obs), free(p->raw_obs), free(p->fin_obs), free(p->act_env), free(p->rew_env);
    free(p->done_env), free(p->perm), free(p->ep_ret), free(p->ep_len), free(p->disc);
    free(p);
}

sy_params *sy_ppo_params(sy_ppo *p) { return p->ps; }
sy_optimizer *sy_ppo_optimizer(sy_ppo *p) { return p->opt; }
int64_t sy_ppo_iterations(const sy_ppo *p) { return p->iter; }

/* Fold a batch of raw observations into the running statistics. */
static void obs_stats_update(sy_ppo *p, const float *x, int m)
{
    double bm[OD] = {0}, bv[OD] = {0};
    for (int i = 0; i < m; i++)
        for (int k = 0; k < OD; k++) bm[k] += x[i * OD + k];
    for (int k = 0; k < OD; k++) bm[k] /= m;
    for (int i = 0; i < m; i++)
        for (int k = 0; k < OD; k++) {
            double d = x[i * OD + k] - bm[k];
            bv[k] += d * d;
        }
    double na = p->ns, nb = m, nt = na + nb;
    for (int k = 0; k < OD; k++) {
        double d = bm[k] - p->mean[k];
        p->mean[k] += d * nb / nt;
        p->m2[k] += bv[k] + d * d * na * nb / nt;
    }
    p->ns = nt;
}

static void normalise(const sy_ppo *p, const float *x, float *y, int m)
{
    if (!p->o.obs_norm) {
        memcpy(y, x, sizeof(float) * (size_t)m * OD);
        return;
    }
    for (int k = 0; k < OD; k++) {
        double var = p->ns > 1 ? p->m2[k] / p->ns : 1.0;
        float mu = (float)(p->ns > 0 ? p->mean[k] : 0.0), inv = (float)(1.0 / sqrt(var + 1e-8));
        for (int i = 0; i < m; i++) {
            float v = (x[i * OD + k] - mu) * inv;
            y[i * OD + k] = v < -OBS_CLIP ? -OBS_CLIP : (v > OBS_CLIP ? OBS_CLIP : v);
        }
    }
}

/* Policy mean and value of the normalised observations in p->cur_obs. */
static sy_status act_forward(sy_ppo *p, const float *nobs)
{
    sy_status s = sy_graph_feed(p->ga, p->a_obs, nobs, (size_t)p->n * OD);
    return s == SY_OK ? sy_graph_forward(p->ga) : s;
}

sy_status sy_ppo_act_mean(sy_ppo *p, const float *obs, float *act)
{
    normalise(p, obs, p->cur_obs, p->n);
    sy_status s = act_forward(p, p->cur_obs);
    if (s == SY_OK) memcpy(act, sy_graph_data(p->ga, p->a_mu), sizeof(float) * (size_t)p->n * AD);
    return s;
}

/* Every rank's env outputs (loc_obs, loc_rew, loc_done) into the global
 * raw_obs, rew_env, done_env of every rank: a sum over ranks of blocks that
 * are zero outside each rank's envs, so every value arrives exactly. */
static sy_status share_step(sy_ppo *p, int with_reward)
{
    if (p->nr == 1) return SY_OK;
    int n = p->n, ng = p->ng;
    float *x = p->xbuf;
    memset(x, 0, sizeof(float) * (size_t)ng * (OD + 2));
    memcpy(x + (size_t)p->base * OD, p->loc_obs, sizeof(float) * (size_t)n * OD);
    for (int i = 0; i < n && with_reward; i++) {
        x[(size_t)ng * OD + p->base + i] = p->loc_rew[i];
        x[(size_t)ng * (OD + 1) + p->base + i] = p->loc_done[i];
    }
    sy_status s = sy_dist_sum_float(x, (size_t)ng * (OD + 2));
    if (s != SY_OK) return s;
    memcpy(p->raw_obs, x, sizeof(float) * (size_t)ng * OD);
    for (int i = 0; i < ng && with_reward; i++) {
        p->rew_env[i] = x[(size_t)ng * OD + i];
        p->done_env[i] = (unsigned char)x[(size_t)ng * (OD + 1) + i];
    }
    return SY_OK;
}

/* The policy's log standard deviations, read from the store. */
static sy_status policy_log_std(sy_ppo *p, const float **ls)
{
    const float *w;
    sy_status s = sy_params_read(p->ps, &w);
    *ls = s == SY_OK ? w + sy_params_info(p->ps, p->i_logstd)->offset : NULL;
    return s;
}

static sy_status rollout(sy_ppo *p, sy_ppo_stats *st, double *ep_sum, double *len_sum)
{
    int n = p->n, ng = p->ng, base = p->base;
    /* nr > 1: each rank fills its envs' rows; the other rows must be 0 for the sum */
    if (p->nr > 1) memset(p->roll, 0, sizeof(float) * p->B * (OD + AD + 3));
    const float *ls;
    sy_status s = policy_log_std(p, &ls);
    if (s != SY_OK) return s;
    float sd[AD], sum_ls = 0;
    for (int k = 0; k < AD; k++) sd[k] = expf(ls[k]), sum_ls += ls[k];
    sy_rng r = sy_rng_make(p->o.seed, SY_STREAM_NOISE, (uint64_t)p->iter);
    for (int t = 0; t < p->o.rollout && s == SY_OK; t++) {
        double t0 = now_s();
        /* the statistics of every env's observation, the same on every rank */
        if (p->o.obs_norm) obs_stats_update(p, p->raw_obs, ng);
        normalise(p, p->raw_obs + (size_t)base * OD, p->cur_obs, n);
        if ((s = act_forward(p, p->cur_obs)) != SY_OK) break;
        const float *mu = sy_graph_data(p->ga, p->a_mu), *v = sy_graph_data(p->ga, p->a_v);
        size_t row = (size_t)t * ng;
        memcpy(p->obs + (row + base) * OD, p->cur_obs, sizeof(float) * (size_t)n * OD);
        /* the noise of every env in order (rank r uses its envs' draws), as one process draws it */
        for (int gi = 0; gi < ng; gi++) {
            int i = gi - base;
            if (i < 0 || i >= n) {
                for (int k = 0; k < AD; k++) sy_rng_normal(&r);
                continue;
            }
            double lp = 0;
            for (int k = 0; k < AD; k++) {
                float e = sy_rng_normal(&r);
                float a = mu[i * AD + k] + sd[k] * e;
                p->act[(row + gi) * AD + k] = a;
                p->act_env[i * AD + k] = a;
                lp += -0.5 * (double)e * e;
            }
            p->logp[row + gi] = (float)(lp - sum_ls);
            p->val[row + gi] = v[i];
        }
        double t1 = now_s();
        s = sy_ant_step(p->env, p->act_env, p->loc_obs, p->loc_rew, p->loc_done, p->fin_obs);
        double t2 = now_s();
        st->policy_s += t1 - t0;
        st->sim_s += t2 - t1;
        if (s != SY_OK) break;
        if ((s = share_step(p, 1)) != SY_OK) break;
        int trunc = 0;
        float rscale = 1.0f;
        if (p->o.reward_scale) {
            double bm = 0, bv = 0;
            for (int i = 0; i < ng; i++) p->disc[i] = p->disc[i] * p->o.discount + p->rew_env[i], bm += p->disc[i];
            bm /= ng;
            for (int i = 0; i < ng; i++) bv += (p->disc[i] - bm) * (p->disc[i] - bm);
            double na = p->rn, nt = na + ng, d = bm - p->rmean;
            p->rmean += d * ng / nt;
            p->rm2 += bv + d * d * na * ng / nt;
            p->rn = nt;
            rscale = (float)(1.0 / sqrt(p->rm2 / p->rn + 1e-8));
            for (int i = 0; i < ng; i++)
                if (p->done_env[i]) p->disc[i] = 0;
        }
        /* episode accounting over every env (the same on every rank); the
         * learning rewards only in this rank's rows */
        for (int i = 0; i < ng; i++) {
            if (i >= base && i < base + n) p->rew[row + i] = p->rew_env[i] * rscale;
            st->reward_mean += p->rew_env[i];
            p->done[row + i] = p->done_env[i];
            p->ep_ret[i] += p->rew_env[i];
            p->ep_len[i] += 1;
            if (p->done_env[i]) {
                *ep_sum += p->ep_ret[i];
                *len_sum += p->ep_len[i];
                st->episodes++;
                p->ep_ret[i] = p->ep_len[i] = 0;
            }
            trunc |= p->done_env[i] == 2 && i >= base && i < base + n;
        }
        if (trunc) { /* bootstrap this rank's truncated episodes: r += discount * V(last obs) */
            normalise(p, p->fin_obs, p->cur_obs, n);
            if ((s = act_forward(p, p->cur_obs)) != SY_OK) break;
            const float *vf = sy_graph_data(p->ga, p->a_v);
            for (int i = 0; i < n; i++)
                if (p->done_env[base + i] == 2) p->rew[row + base + i] += (float)(p->o.discount * vf[i]);
        }
        st->policy_s += now_s() - t2;
    }
    if (s != SY_OK) return s;
    /* GAE from the value of the observation after the rollout */
    normalise(p, p->raw_obs + (size_t)base * OD, p->cur_obs, n);
    if ((s = act_forward(p, p->cur_obs)) != SY_OK) return s;
    const float *vlast = sy_graph_data(p->ga, p->a_v);
    if (p->nr > 1) {
        /* the global rollout on every rank (Baselines' MPI PPO all-reduces the
         * advantage statistics; here every rank holds the whole rollout, so
         * GAE, its normalisation and the minibatches are one process's) */
        float *vb = p->xbuf; /* ng floats of it */
        memset(vb, 0, sizeof(float) * (size_t)ng);
        memcpy(vb + base, vlast, sizeof(float) * (size_t)n);
        if ((s = sy_dist_sum_float(p->roll, p->B * (OD + AD + 3))) != SY_OK) return s;
        if ((s = sy_dist_sum_float(vb, (size_t)ng)) != SY_OK) return s;
        vlast = vb;
    }
    double gm = p->o.discount, lam = p->o.gae_lambda;
    for (int i = 0; i < ng; i++) {
        double next_v = vlast[i], a = 0;
        for (int t = p->o.rollout - 1; t >= 0; t--) {
            size_t j = (size_t)t * ng + i;
            double nonterm = p->done[j] ? 0.0 : 1.0;
            double delta = p->rew[j] + gm * next_v * nonterm - p->val[j];
            a = delta + gm * lam * nonterm * a;
            p->adv[j] = (float)a;
            p->ret[j] = (float)(a + p->val[j]);
            next_v = p->val[j];
        }
    }
    double rm = 0, rv = 0, dm = 0, dv = 0;
    for (size_t j = 0; j < p->B; j++) rm += p->ret[j], dm += p->ret[j] - p->val[j];
    rm /= (double)p->B, dm /= (double)p->B;
    for (size_t j = 0; j < p->B; j++) {
        double a = p->ret[j] - rm, b = p->ret[j] - p->val[j] - dm;
        rv += a * a, dv += b * b;
    }
    st->explained_var = rv > 0 ? 1.0 - dv / rv : NAN;
    double m = 0, v2 = 0;
    for (size_t j = 0; j < p->B; j++) m += p->adv[j];
    m /= (double)p->B;
    for (size_t j = 0; j < p->B; j++) v2 += (p->adv[j] - m) * (p->adv[j] - m);
    double inv = 1.0 / (sqrt(v2 / (double)p->B) + 1e-8);
    for (size_t j = 0; j < p->B; j++) p->adv[j] = (float)((p->adv[j] - m) * inv);
    return SY_OK;
}

static sy_status update(sy_ppo *p, sy_ppo_stats *st)
{
    int mb = p->o.minibatch, nmb = (int)(p->B / (size_t)mb), mbl = p->mbl;
    size_t first = (size_t)sy_dist_rank() * (size_t)mbl; /* this rank's rows of each minibatch */
    float *xo = sy_graph_data(p->gt, p->t_obs), *xa = sy_graph_data(p->gt, p->t_act);
    float *xl = sy_graph_data(p->gt, p->t_logp), *xd = sy_graph_data(p->gt, p->t_adv);
    float *xr = sy_graph_data(p->gt, p->t_ret);
    double pl = 0, vl = 0, kl = 0, cf = 0;
    long cnt = 0;
    float lo = (float)(1 - p->o.clip), hi = (float)(1 + p->o.clip);
    sy_status s = SY_OK;
    for (int e = 0; e < p->o.epochs && s == SY_OK; e++) {
        for (size_t j = 0; j < p->B; j++) p->perm[j] = (int)j;
        sy_rng r = sy_rng_make(p->o.seed, SY_STREAM_DATA, (uint64_t)p->iter * (uint64_t)p->o.epochs + (uint64_t)e);
        sy_rng_shuffle(&r, p->perm, p->B);
        for (int b = 0; b < nmb && s == SY_OK; b++) {
            for (int k = 0; k < mbl; k++) {
                size_t j = (size_t)p->perm[(size_t)b * mb + first + k];
                memcpy(xo + (size_t)k * OD, p->obs + j * OD, sizeof(float) * OD);
                memcpy(xa + (size_t)k * AD, p->act + j * AD, sizeof(float) * AD);
                xl[k] = p->logp[j];
                xd[k] = p->adv[j];
                xr[k] = p->ret[j];
            }
            if ((s = sy_graph_forward(p->gt)) != SY_OK) break;
            if ((s = sy_graph_backward(p->gt, p->t_loss)) != SY_OK) break;
            if ((s = sy_optimizer_step(p->opt)) != SY_OK) break;
            if (p->units && (s = sy_unit_reset_step(p->units, sy_optimizer_steps(p->opt) - 1)) != SY_OK) break;
            pl += sy_graph_scalar(p->gt, p->t_pl);
            vl += sy_graph_scalar(p->gt, p->t_vl);
            const float *ratio = sy_graph_data(p->gt, p->t_ratio);
            double k1 = 0, c1 = 0;
            for (int k = 0; k < mbl; k++) {
                double rr = ratio[k];
                k1 += (rr - 1) - log(rr); /* the low-variance KL estimator */
                c1 += rr < lo || rr > hi;
            }
            kl += k1 / mbl;
            cf += c1 / mbl;
            cnt++;
        }
    }
    if (s == SY_OK && p->nr > 1) { /* equal shards: the mean over ranks of the shards' means */
        double m4[4] = {pl, vl, kl, cf};
        if ((s = sy_dist_sum(m4, 4)) != SY_OK) return s;
        pl = m4[0] / p->nr, vl = m4[1] / p->nr, kl = m4[2] / p->nr, cf = m4[3] / p->nr;
    }
    if (cnt) {
        st->policy_loss = pl / cnt;
        st->value_loss = vl / cnt;
        st->approx_kl = kl / cnt;
        st->clip_frac = cf / cnt;
    }
    return s;
}

static sy_status measure(sy_ppo *p, sy_ppo_stats *st)
{
    int rn = p->o.rank_n, h = p->o.hidden2;
    sy_status s = sy_graph_feed(p->gr, p->r_obs, p->obs, (size_t)rn * OD);
    if (s == SY_OK) s = sy_graph_forward(p->gr);
    if (s != SY_OK) return s;
    const float *H = sy_graph_data(p->gr, p->r_h);
    double er = 0;
    int sr = 0, dead = 0;
    if ((s = sy_rank_measures(H, rn, h, SY_STABLE_RANK_COVER, &er, &sr)) != SY_OK) return s;
    if ((s = sy_dead_units_act(H, rn, h, 0.0f, &dead, NULL)) != SY_OK) return s;
    if ((s = sy_dormant_ratio(H, rn, h, 1, 0.0, &st->dormant0, NULL)) != SY_OK) return s;
    if ((s = sy_dormant_ratio(H, rn, h, 1, 0.1, &st->dormant, NULL)) != SY_OK) return s;
    st->units_reset = sy_unit_reset_count(p->units, -1);
    st->erank = er;
    st->srank = sr;
    st->dead = dead;
    const float *w;
    if ((s = sy_params_read(p->ps, &w)) != SY_OK) return s;
    const float *ls = w + sy_params_info(p->ps, p->i_logstd)->offset;
    double sd = 0;
    for (int k = 0; k < AD; k++) sd += exp(ls[k]) / AD;
    st->std_mean = sd;
    return sy_frobenius_norm(w, sy_params_trainable_size(p->ps), &st->weight_norm);
}

sy_status sy_ppo_iterate(sy_ppo *p, sy_ppo_stats *st)
{
    memset(st, 0, sizeof *st);
    sy_status s = SY_OK;
    if (!p->started) {
        s = sy_ant_reset(p->env, p->loc_obs);
        if (s == SY_OK) s = share_step(p, 0);
        if (s != SY_OK) return s;
        p->started = 1;
    }
    double ep_sum = 0, len_sum = 0;
    if ((s = rollout(p, st, &ep_sum, &len_sum)) != SY_OK) return s;
    double t0 = now_s();
    if ((s = update(p, st)) != SY_OK) return s;
    st->update_s = now_s() - t0;
    if ((s = measure(p, st)) != SY_OK) return s;
    p->iter++;
    st->iteration = p->iter;
    st->steps = sy_ant_total_steps(p->env);
    st->friction = sy_ant_friction(p->env);
    st->reward_mean /= (double)p->B;
    st->return_mean = st->episodes ? ep_sum / st->episodes : NAN;
    st->length_mean = st->episodes ? len_sum / st->episodes : NAN;
    return SY_OK;
}

/* Side state: magic, version, iterations, started, obs count, mean, m2,
 * ep_ret, ep_len, reward statistics, disc, raw_obs (as doubles), environment
 * state; every per-env array over the envs of all ranks (the environment
 * state as sy_ant_get_state of all of them: the step count, then one block
 * per env), so the file is that of one process stepping them all. */
#define STATE_MAGIC 5.0710e9
static size_t env_block(const sy_ppo *p) { return (sy_ant_state_size(p->env) - 1) / (size_t)p->n; }
static size_t state_len(const sy_ppo *p)
{
    return 8 + 2 * OD + 3 * (size_t)p->ng + (size_t)p->ng * OD + 1 + (size_t)p->ng * env_block(p);
}

sy_status sy_ppo_save(sy_ppo *p, const char *ckpt_path, const char *state_path)
{
    size_t L = state_len(p);
    double *b = malloc(L * sizeof *b), *q = b;
    if (!b) return sy_fail(SY_ERR_NOMEM, "ppo: out of memory");
    *q++ = STATE_MAGIC;
    *q++ = 1;
    *q++ = (double)p->iter;
    *q++ = p->started;
    *q++ = p->ns;
    memcpy(q, p->mean, sizeof p->mean), q += OD;
    memcpy(q, p->m2, sizeof p->m2), q += OD;
    memcpy(q, p->ep_ret, sizeof(double) * p->ng), q += p->ng;
    memcpy(q, p->ep_len, sizeof(double) * p->ng), q += p->ng;
    *q++ = p->rn;
    *q++ = p->rmean;
    *q++ = p->rm2;
    memcpy(q, p->disc, sizeof(double) * p->ng), q += p->ng;
    for (int i = 0; i < p->ng * OD; i++) *q++ = p->raw_obs[i];
    sy_status s = SY_OK;
    if (p->nr == 1) {
        sy_ant_get_state(p->env, q);
    } else { /* every rank's envs into rank 0's file: a sum of blocks, zero outside each rank's */
        size_t E = sy_ant_state_size(p->env), G = 1 + (size_t)p->ng * env_block(p);
        double *loc = malloc(E * sizeof *loc);
        if (!loc) s = sy_fail(SY_ERR_NOMEM, "ppo: out of memory");
        else {
            sy_ant_get_state(p->env, loc);
            memset(q, 0, G * sizeof *q);
            if (sy_dist_is_root()) q[0] = loc[0]; /* the step count, the same on every rank */
            memcpy(q + 1 + (size_t)p->base * env_block(p), loc + 1, (E - 1) * sizeof *loc);
            free(loc);
        }
        /* every rank takes part in the sum, even one that failed above */
        sy_status s2 = sy_dist_sum(q, G);
        if (s == SY_OK) s = s2;
    }
    if (s == SY_OK) s = sy_write_file_atomic(state_path, b, L * sizeof *b);
    free(b);
    sy_train_pos pos = {.epoch = p->iter, .batch = 0, .graph_step = 0, .done = 0};
    return s == SY_OK ? sy_train_save_units(ckpt_path, p->ps, p->opt, p->units, &pos) : s;
}

sy_status sy_ppo_load(sy_ppo *p, const char *ckpt_path, const char *state_path)
{
    sy_train_pos pos;
    sy_status s = sy_train_load_units(ckpt_path, p->ps, p->opt, p->units, &pos);
    if (s != SY_OK) return s;
    size_t L = state_len(p);
    double *b = malloc((L + 1) * sizeof *b);
    if (!b) return sy_fail(SY_ERR_NOMEM, "ppo: out of memory");
    FILE *f = fopen(state_path, "rb");
    size_t got = f ? fread(b, sizeof *b, L + 1, f) : 0;
    if (f) fclose(f);
    if (!f) s = sy_fail(SY_ERR_IO, "ppo: checkpoint %s has no environment state %s", ckpt_path, state_path);
    else if (got != L || b[0] != STATE_MAGIC || b[1] != 1 || b[2] != (double)pos.epoch)
        s = sy_fail(SY_ERR_FORMAT, "ppo: %s does not match this run (%zu of %zu values, or another iteration than %s)",
                    state_path, got, L, ckpt_path);
    if (s == SY_OK) {
        const double *q = b + 2;
        p->iter = (int64_t)*q++;
        p->started = (int)*q++;
        p->ns = *q++;
        memcpy(p->mean, q, sizeof p->mean), q += OD;
        memcpy(p->m2, q, sizeof p->m2), q += OD;
        memcpy(p->ep_ret, q, sizeof(double) * p->ng), q += p->ng;
        memcpy(p->ep_len, q, sizeof(double) * p->ng), q += p->ng;
        p->rn = *q++;
        p->rmean = *q++;
        p->rm2 = *q++;
        memcpy(p->disc, q, sizeof(double) * p->ng), q += p->ng;
        for (int i = 0; i < p->ng * OD; i++) p->raw_obs[i] = (float)*q++;
        if (p->nr == 1) {
            s = sy_ant_set_state(p->env, q);
        } else { /* the step count and this rank's envs' blocks */
            size_t E = sy_ant_state_size(p->env);
            double *loc = malloc(E * sizeof *loc);
            if (!loc) s = sy_fail(SY_ERR_NOMEM, "ppo: out of memory");
            else {
                loc[0] = q[0];
                memcpy(loc + 1, q + 1 + (size_t)p->base * env_block(p), (E - 1) * sizeof *loc);
                s = sy_ant_set_state(p->env, loc);
                free(loc);
            }
        }
    }
    free(b);
    return s;
}
