/* The Ant environment on MuJoCo (include/syre/rl.h). The model is generated
 * here as MJCF text: a spherical torso with a free joint and four legs at 45,
 * 135, 225 and 315 degrees, each a hip (vertical axis, +-30 degrees) and an
 * ankle (horizontal axis across the leg, 30..70 degrees, foot down), eight
 * motors with gear 150. The floor has contact priority 1, so its friction
 * alone sets every foot contact's friction: the slippery variant changes one
 * number of the compiled model. All environments share the model (read only
 * while stepping) and own one mjData each. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/dist.h"
#include "syre/rl.h"

sy_ant_opts sy_ant_defaults(void)
{
    sy_ant_opts o;
    memset(&o, 0, sizeof o);
    o.n_envs = 8;
    o.threads = 1;
    o.frame_skip = 5;
    o.max_episode_steps = 1000;
    o.ctrl_cost = 0.5;
    o.healthy_reward = 1.0;
    o.z_min = 0.2;
    o.z_max = 1.0;
    o.reset_noise = 0.1;
    o.friction = 1.0;
    o.friction_every = 0;
    o.friction_lo = 0.02;
    o.friction_hi = 2.0;
    o.seed = 1;
    return o;
}

sy_status sy_ant_rank_opts(const sy_ant_opts *job, sy_ant_opts *mine)
{
    int nr = sy_dist_size();
    *mine = *job;
    if (nr == 1) return SY_OK;
    if (job->n_envs % nr)
        return sy_fail(SY_ERR_ARG, "ant: %d environments do not split evenly over %d ranks: use a multiple of %d",
                       job->n_envs, nr, nr);
    mine->n_envs = job->n_envs / nr;
    mine->env_offset = job->env_offset + sy_dist_rank() * mine->n_envs;
    mine->job_envs = job->n_envs;
    return SY_OK;
}

/* Phase k's friction: exp(U(log lo, log hi)) from element k of the
 * environment stream's sub-stream 1 (resets use other sub-streams). */
double sy_ant_friction_of_phase(const sy_ant_opts *o, int64_t k)
{
    if (o->friction_every <= 0) return o->friction;
    double u = sy_rng_uniform_at(sy_rng_key(o->seed, SY_STREAM_ENV), 1, (uint64_t)k);
    return exp(log(o->friction_lo) + u * (log(o->friction_hi) - log(o->friction_lo)));
}

static char ant_xml_buf[8192];

/* Leg i points along (cos a, sin a), a = 45 + 90 i degrees. */
static void build_xml(void)
{
    if (ant_xml_buf[0]) return;
    static const char *names[4] = {"front_left", "back_left", "back_right", "front_right"};
    static const int sx[4] = {1, -1, -1, 1}, sy[4] = {1, 1, -1, -1};
    char legs[4][1024], motors[1024];
    size_t mlen = 0;
    for (int i = 0; i < 4; i++) {
        double dx = 0.2 * sx[i], dy = 0.2 * sy[i];
        /* ankle axis (-dy, dx, 0): a positive angle turns the foot down */
        snprintf(legs[i], sizeof legs[i],
                 "    <body name=\"%s_hip\" pos=\"0 0 0\">\n"
                 "      <geom type=\"capsule\" fromto=\"0 0 0 %.2f %.2f 0\" size=\"0.08\"/>\n"
                 "      <body pos=\"%.2f %.2f 0\">\n"
                 "        <joint name=\"%s_hip\" type=\"hinge\" pos=\"0 0 0\" axis=\"0 0 1\" range=\"-30 30\"/>\n"
                 "        <geom type=\"capsule\" fromto=\"0 0 0 %.2f %.2f 0\" size=\"0.08\"/>\n"
                 "        <body pos=\"%.2f %.2f 0\">\n"
                 "          <joint name=\"%s_ankle\" type=\"hinge\" pos=\"0 0 0\" axis=\"%d %d 0\" range=\"30 70\"/>\n"
                 "          <geom name=\"%s_foot\" type=\"capsule\" fromto=\"0 0 0 %.2f %.2f 0\" size=\"0.08\"/>\n"
                 "        </body>\n      </body>\n    </body>\n",
                 names[i], dx, dy, dx, dy, names[i], dx, dy, dx, dy, names[i], -sy[i], sx[i], names[i], 2 * dx,
                 2 * dy);
        mlen += (size_t)snprintf(motors + mlen, sizeof motors - mlen,
                                 "    <motor joint=\"%s_hip\" gear=\"150\" ctrlrange=\"-1 1\" ctrllimited=\"true\"/>\n"
                                 "    <motor joint=\"%s_ankle\" gear=\"150\" ctrlrange=\"-1 1\" ctrllimited=\"true\"/>\n",
                                 names[i], names[i]);
    }
    snprintf(ant_xml_buf, sizeof ant_xml_buf,
             "<mujoco model=\"syre-ant\">\n"
             "  <compiler angle=\"degree\" inertiafromgeom=\"true\"/>\n"
             "  <option timestep=\"0.01\" integrator=\"RK4\"/>\n"
             "  <size nconmax=\"100\"/>\n"
             "  <default>\n"
             "    <joint limited=\"true\" armature=\"1\" damping=\"1\"/>\n"
             "    <geom condim=\"3\" contype=\"1\" conaffinity=\"0\" density=\"5\" margin=\"0.01\" "
             "friction=\"1 0.5 0.5\"/>\n"
             "  </default>\n"
             "  <worldbody>\n"
             "    <geom name=\"floor\" type=\"plane\" pos=\"0 0 0\" size=\"40 40 0.1\" conaffinity=\"1\" "
             "priority=\"1\" friction=\"1 0.005 0.0001\"/>\n"
             "    <body name=\"torso\" pos=\"0 0 0.75\">\n"
             "      <joint name=\"root\" type=\"free\" limited=\"false\" armature=\"0\" damping=\"0\"/>\n"
             "      <geom name=\"torso_geom\" type=\"sphere\" pos=\"0 0 0\" size=\"0.25\"/>\n"
             "%s%s%s%s"
             "    </body>\n"
             "  </worldbody>\n"
             "  <actuator>\n%s  </actuator>\n"
             "</mujoco>\n",
             legs[0], legs[1], legs[2], legs[3], motors);
}

const char *sy_ant_xml(void)
{
    build_xml();
    return ant_xml_buf;
}

#if SYRE_HAVE_MUJOCO

#include <mujoco/mujoco.h>

int sy_rl_have_mujoco(void) { return 1; }
const char *sy_rl_mujoco_version(void) { return mj_versionString(); }

struct sy_ant {
    sy_ant_opts o;
    mjModel *m;
    mjData **d;
    int floor;            /* geom id */
    int64_t total;        /* env steps so far, all envs */
    int64_t phase;        /* friction phase applied */
    int *ep_step;         /* steps into the current episode, per env */
    int64_t *resets;      /* resets so far, per env (reset noise sub-stream) */
    int *bad;             /* unstable-simulation warnings seen, per env */
};

/* MuJoCo's default error handler exits the process; ours only records. */
static char mj_err[512];
static void on_mj_error(const char *msg) { snprintf(mj_err, sizeof mj_err, "%s", msg); }
static void on_mj_warning(const char *msg) { (void)msg; }

int sy_ant_num_envs(const sy_ant *e) { return e->o.n_envs; }
const sy_ant_opts *sy_ant_options(const sy_ant *e) { return &e->o; }
int64_t sy_ant_total_steps(const sy_ant *e) { return e->total; }
double sy_ant_friction(const sy_ant *e) { return e->m->geom_friction[3 * e->floor]; }

static void apply_phase(sy_ant *e)
{
    int64_t k = e->o.friction_every > 0 ? e->total / e->o.friction_every : 0;
    if (k == e->phase) return;
    e->phase = k;
    e->m->geom_friction[3 * e->floor] = sy_ant_friction_of_phase(&e->o, k);
}

sy_status sy_ant_new(const sy_ant_opts *o, sy_ant **out)
{
    *out = NULL;
    if (o->n_envs < 1 || o->n_envs > 4096) return sy_fail(SY_ERR_ARG, "ant: n_envs must be in [1, 4096], got %d", o->n_envs);
    if (o->env_offset < 0 || (o->job_envs != 0 && o->env_offset + o->n_envs > o->job_envs))
        return sy_fail(SY_ERR_ARG, "ant: envs [%d, %d) do not lie within the job's %d envs (env_offset, job_envs)",
                       o->env_offset, o->env_offset + o->n_envs, o->job_envs);
    if (o->frame_skip < 1) return sy_fail(SY_ERR_ARG, "ant: frame_skip must be >= 1, got %d", o->frame_skip);
    if (o->max_episode_steps < 1)
        return sy_fail(SY_ERR_ARG, "ant: max_episode_steps must be >= 1, got %d", o->max_episode_steps);
    if (!(o->z_min < o->z_max)) return sy_fail(SY_ERR_ARG, "ant: z_min (%g) must be below z_max (%g)", o->z_min, o->z_max);
    if (!(o->friction > 0) || !(o->friction_lo > 0) || !(o->friction_lo <= o->friction_hi))
        return sy_fail(SY_ERR_ARG, "ant: frictions must be positive with lo <= hi (friction %g, range [%g, %g])",
                       o->friction, o->friction_lo, o->friction_hi);
    if (o->ctrl_cost < 0 || o->reset_noise < 0)
        return sy_fail(SY_ERR_ARG, "ant: ctrl_cost and reset_noise must be >= 0");
    mju_user_error = on_mj_error;
    mju_user_warning = on_mj_warning;
    build_xml();
    mjVFS *vfs = malloc(sizeof *vfs);
    if (!vfs) return sy_fail(SY_ERR_NOMEM, "ant: out of memory");
    mj_defaultVFS(vfs);
    int len = (int)strlen(ant_xml_buf);
    if (mj_makeEmptyFileVFS(vfs, "syre-ant.xml", len) != 0) {
        free(vfs);
        return sy_fail(SY_ERR_STATE, "ant: cannot create the in-memory model file");
    }
    int fi = mj_findFileVFS(vfs, "syre-ant.xml");
    memcpy(vfs->filedata[fi], ant_xml_buf, (size_t)len);
    char err[1000] = "";
    mj_err[0] = 0;
    mjModel *m = mj_loadXML("syre-ant.xml", vfs, err, sizeof err);
    mj_deleteVFS(vfs);
    free(vfs);
    if (!m) return sy_fail(SY_ERR_FORMAT, "ant: MuJoCo rejected the model: %s%s", err, mj_err);
    if (m->nq != 15 || m->nv != 14 || m->nu != SY_ANT_ACT_DIM) {
        mj_deleteModel(m);
        return sy_fail(SY_ERR_STATE, "ant: model has nq %d nv %d nu %d, expected 15 14 8", m->nq, m->nv, m->nu);
    }
    sy_ant *e = calloc(1, sizeof *e);
    if (!e) {
        mj_deleteModel(m);
        return sy_fail(SY_ERR_NOMEM, "ant: out of memory");
    }
    e->o = *o;
    e->m = m;
    e->floor = mj_name2id(m, mjOBJ_GEOM, "floor");
    e->d = calloc((size_t)o->n_envs, sizeof *e->d);
    e->ep_step = calloc((size_t)o->n_envs, sizeof *e->ep_step);
    e->resets = calloc((size_t)o->n_envs, sizeof *e->resets);
    e->bad = calloc((size_t)o->n_envs, sizeof *e->bad);
    int ok = e->d && e->ep_step && e->resets && e->bad;
    for (int i = 0; ok && i < o->n_envs; i++) ok = (e->d[i] = mj_makeData(m)) != NULL;
    if (!ok) {
        sy_ant_free(e);
        return sy_fail(SY_ERR_NOMEM, "ant: out of memory for %d simulations", o->n_envs);
    }
    e->phase = -1;
    apply_phase(e);
    *out = e;
    return SY_OK;
}

void sy_ant_free(sy_ant *e)
{
    if (!e) return;
    if (e->d)
        for (int i = 0; i < e->o.n_envs; i++)
            if (e->d[i]) mj_deleteData(e->d[i]);
    free(e->d);
    free(e->ep_step);
    free(e->resets);
    free(e->bad);
    if (e->m) mj_deleteModel(e->m);
    free(e);
}

static int unstable(const mjData *d)
{
    return d->warning[mjWARN_BADQACC].number + d->warning[mjWARN_BADQPOS].number + d->warning[mjWARN_BADQVEL].number;
}

static void observe(const sy_ant *e, const mjData *d, float *obs)
{
    const mjModel *m = e->m;
    for (int k = 2; k < m->nq; k++) *obs++ = (float)d->qpos[k];
    for (int k = 0; k < m->nv; k++) *obs++ = (float)d->qvel[k];
}

/* Reset env i with noise from sub-stream (2 + i, its reset count). */
static void reset_one(sy_ant *e, int i, float *obs)
{
    const mjModel *m = e->m;
    mjData *d = e->d[i];
    mj_resetData(m, d);
    uint64_t g = (uint64_t)e->o.env_offset + (uint64_t)i; /* the env's index in the whole job */
    sy_rng r = sy_rng_make(e->o.seed, SY_STREAM_ENV, ((g + 2) << 40) + (uint64_t)e->resets[i]++);
    double c = e->o.reset_noise;
    for (int k = 0; k < m->nq; k++) d->qpos[k] = m->qpos0[k] + c * (2.0 * sy_rng_uniform(&r) - 1.0);
    for (int k = 0; k < m->nv; k++) d->qvel[k] = c * sy_rng_normal(&r);
    /* keep the free joint's quaternion a unit quaternion */
    mju_normalize4(d->qpos + 3);
    mj_forward(m, d);
    e->ep_step[i] = 0;
    e->bad[i] = unstable(d);
    observe(e, d, obs);
}

sy_status sy_ant_reset(sy_ant *e, float *obs)
{
    for (int i = 0; i < e->o.n_envs; i++) reset_one(e, i, obs + (size_t)i * SY_ANT_OBS_DIM);
    return SY_OK;
}

sy_status sy_ant_step(sy_ant *e, const float *act, float *obs, float *reward, unsigned char *done, float *final_obs)
{
    const mjModel *m = e->m;
    const sy_ant_opts *o = &e->o;
    int n = o->n_envs;
    mj_err[0] = 0;
#pragma omp parallel for schedule(static) num_threads(o->threads > 1 ? o->threads : 1) if (o->threads > 1 && n > 1)
    for (int i = 0; i < n; i++) {
        mjData *d = e->d[i];
        const float *a = act + (size_t)i * SY_ANT_ACT_DIM;
        double cost = 0;
        for (int k = 0; k < SY_ANT_ACT_DIM; k++) {
            double v = a[k];
            v = v < -1.0 ? -1.0 : (v > 1.0 ? 1.0 : v);
            if (!(v == v)) v = 0; /* NaN action: no torque */
            d->ctrl[k] = v;
            cost += v * v;
        }
        double x0 = d->qpos[0];
        for (int s = 0; s < o->frame_skip; s++) mj_step(m, d);
        double dt = m->opt.timestep * o->frame_skip;
        double vx = (d->qpos[0] - x0) / dt, z = d->qpos[2];
        int bad = unstable(d) != e->bad[i];
        int healthy = !bad && isfinite(z) && z >= o->z_min && z <= o->z_max;
        double r = (bad || !isfinite(vx) ? 0.0 : vx) - o->ctrl_cost * cost + o->healthy_reward;
        reward[i] = (float)r;
        e->ep_step[i]++;
        float *ob = obs + (size_t)i * SY_ANT_OBS_DIM;
        if (!healthy || e->ep_step[i] >= o->max_episode_steps) {
            done[i] = healthy ? 2 : 1;
            if (final_obs) observe(e, d, final_obs + (size_t)i * SY_ANT_OBS_DIM);
            reset_one(e, i, ob);
        } else {
            done[i] = 0;
            observe(e, d, ob);
        }
    }
    e->total += o->job_envs > 0 ? o->job_envs : n;
    apply_phase(e);
    if (mj_err[0]) return sy_fail(SY_ERR_STATE, "ant: MuJoCo error: %s", mj_err);
    return SY_OK;
}

/* State layout: total, then per env: ep_step, resets, qpos (15), qvel (14),
 * qacc_warmstart (14), time. Doubles hold int64 counts exactly below 2^53. */
#define PER_ENV(m) (3 + (size_t)(m)->nq + 2 * (size_t)(m)->nv)

size_t sy_ant_state_size(const sy_ant *e) { return 1 + (size_t)e->o.n_envs * PER_ENV(e->m); }

void sy_ant_get_state(const sy_ant *e, double *buf)
{
    const mjModel *m = e->m;
    *buf++ = (double)e->total;
    for (int i = 0; i < e->o.n_envs; i++) {
        const mjData *d = e->d[i];
        *buf++ = e->ep_step[i];
        *buf++ = (double)e->resets[i];
        memcpy(buf, d->qpos, sizeof(double) * m->nq), buf += m->nq;
        memcpy(buf, d->qvel, sizeof(double) * m->nv), buf += m->nv;
        memcpy(buf, d->qacc_warmstart, sizeof(double) * m->nv), buf += m->nv;
        *buf++ = d->time;
    }
}

sy_status sy_ant_set_state(sy_ant *e, const double *buf)
{
    const mjModel *m = e->m;
    if (!(buf[0] >= 0)) return sy_fail(SY_ERR_FORMAT, "ant: saved state has a bad step count");
    e->total = (int64_t)*buf++;
    for (int i = 0; i < e->o.n_envs; i++) {
        mjData *d = e->d[i];
        mj_resetData(m, d);
        e->ep_step[i] = (int)*buf++;
        e->resets[i] = (int64_t)*buf++;
        memcpy(d->qpos, buf, sizeof(double) * m->nq), buf += m->nq;
        memcpy(d->qvel, buf, sizeof(double) * m->nv), buf += m->nv;
        memcpy(d->qacc_warmstart, buf, sizeof(double) * m->nv), buf += m->nv;
        d->time = *buf++;
        /* no mj_forward here: it would overwrite the warm start; every
         * mj_step begins with one from qpos and qvel anyway */
        e->bad[i] = 0;
    }
    e->phase = -1;
    apply_phase(e);
    return SY_OK;
}

#else /* no MuJoCo in this build */

int sy_rl_have_mujoco(void) { return 0; }
const char *sy_rl_mujoco_version(void) { return "none"; }

struct sy_ant {
    int unused;
};

#define NO_MUJOCO                                                                                                   \
    sy_fail(SY_ERR_UNSUPPORTED, "ant: this build has no MuJoCo (install Debian's libmujoco-dev, e.g. with "        \
                                "scripts/setup.sh, and rebuild)")

sy_status sy_ant_new(const sy_ant_opts *o, sy_ant **out)
{
    (void)o;
    *out = NULL;
    return NO_MUJOCO;
}
void sy_ant_free(sy_ant *e) { (void)e; }
int sy_ant_num_envs(const sy_ant *e) { return 0; }
const sy_ant_opts *sy_ant_options(const sy_ant *e) { return NULL; }
sy_status sy_ant_reset(sy_ant *e, float *obs) { return NO_MUJOCO; }
sy_status sy_ant_step(sy_ant *e, const float *act, float *obs, float *reward, unsigned char *done, float *final_obs)
{
    return NO_MUJOCO;
}
int64_t sy_ant_total_steps(const sy_ant *e) { return 0; }
double sy_ant_friction(const sy_ant *e) { return 0; }
size_t sy_ant_state_size(const sy_ant *e) { return 0; }
void sy_ant_get_state(const sy_ant *e, double *buf) {}
sy_status sy_ant_set_state(sy_ant *e, const double *buf) { return NO_MUJOCO; }

#endif
