/* sy_fit_steps (syre/trainer.h), the loop of hand-computed steps: where it
 * logs (every log_every steps and after the last), the checkpoint cadence and
 * the final checkpoint, divergence from a step or from a log point, and a
 * resume that continues from the last checkpoint to the same parameters, bit
 * for bit, or only measures again when the loop had finished. */
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

static char dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/syre-test-fit-steps-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/* f(w) = |w - 3|^2 / 2 by SGD; the log points and replays are counted. */
typedef struct {
    sy_params *ps;
    sy_optimizer *opt;
    long fail_at;     /* a step that fails with SY_ERR_NUMERIC (-1: none) */
    long stop_at;     /* a log point that reports divergence (-1: none) */
    long logged[32];
    int nlog, replays, steps;
} model;

static void model_new(model *m)
{
    memset(m, 0, sizeof *m);
    m->ps = sy_params_new();
    assert_int_not_equal(sy_params_add(m->ps, "w", sy_shape_of(1, 4), 4, (sy_init){SY_INIT_NORMAL_FANIN, 1}, 1), -1);
    assert_int_equal(sy_params_init(m->ps, 7), SY_OK);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.1f;
    o.decay = sy_decay_none();
    m->opt = sy_optimizer_new(m->ps, &o);
    assert_non_null(m->opt);
    m->fail_at = m->stop_at = -1;
}

static void model_free(model *m)
{
    sy_optimizer_free(m->opt);
    sy_params_free(m->ps);
}

static sy_status step(void *ctx, long t)
{
    model *m = ctx;
    if (t == m->fail_at) return sy_fail(SY_ERR_NUMERIC, "step %ld blew up", t);
    float *w = sy_params_data(m->ps), *g = sy_params_grad(m->ps);
    for (int i = 0; i < 4; i++) g[i] = w[i] - 3;
    m->steps++;
    return sy_optimizer_step(m->opt);
}

static sy_status on_log(void *ctx, long t, int replay, int *stop, char *note, size_t note_size)
{
    model *m = ctx;
    if (m->nlog < 32) m->logged[m->nlog++] = t;
    m->replays += replay;
    *stop = t == m->stop_at;
    snprintf(note, note_size, "t %ld", t);
    return SY_OK;
}

static sy_fit_steps_opts opts(model *m, const char *ckpt, long steps, int resume)
{
    return (sy_fit_steps_opts){.params = m->ps, .opt = m->opt, .steps = steps, .log_every = 4, .ckpt_every = 3,
                               .ckpt = ckpt, .resume = resume, .label = "test", .ctx = m, .step = step,
                               .on_log = on_log};
}

static void test_logs_checkpoints_and_resume(void **state)
{
    (void)state;
    char full[300], part[300];
    snprintf(full, sizeof full, "%s/ckpt-full.safetensors", dir);
    snprintf(part, sizeof part, "%s/ckpt-part.safetensors", dir);
    int diverged = -1;
    /* 10 steps: log points 0, 4, 8 and 10; a finished checkpoint */
    model a;
    model_new(&a);
    sy_fit_steps_opts o = opts(&a, full, 10, 0);
    assert_int_equal(sy_fit_steps(&o, &diverged), SY_OK);
    assert_int_equal(diverged, 0);
    assert_int_equal(a.nlog, 4);
    assert_true(a.logged[0] == 0 && a.logged[1] == 4 && a.logged[2] == 8 && a.logged[3] == 10);
    assert_int_equal(a.steps, 10);
    sy_train_pos pos;
    model chk;
    model_new(&chk);
    assert_int_equal(sy_train_load(full, chk.ps, chk.opt, &pos), SY_OK);
    assert_true(pos.done == 1 && pos.epoch == 10);
    model_free(&chk);
    /* resumed when finished: one replayed log point, no step */
    model r;
    model_new(&r);
    o = opts(&r, full, 10, 1);
    assert_int_equal(sy_fit_steps(&o, &diverged), SY_OK);
    assert_true(r.nlog == 1 && r.logged[0] == 10 && r.replays == 1 && r.steps == 0);
    assert_memory_equal(sy_params_data(r.ps), sy_params_data(a.ps), 4 * sizeof(float));
    model_free(&r);

    /* a step that fails at t = 7: diverged, the last checkpoint at 6 kept */
    model b;
    model_new(&b);
    b.fail_at = 7;
    o = opts(&b, part, 10, 0);
    assert_int_equal(sy_fit_steps(&o, &diverged), SY_OK);
    assert_int_equal(diverged, 1);
    model_free(&b);
    model_new(&chk);
    assert_int_equal(sy_train_load(part, chk.ps, chk.opt, &pos), SY_OK);
    assert_true(pos.done == 0 && pos.epoch == 6);
    model_free(&chk);
    /* resumed: steps 6..9, log points 8 and 10, the uninterrupted result */
    model c;
    model_new(&c);
    o = opts(&c, part, 10, 1);
    assert_int_equal(sy_fit_steps(&o, &diverged), SY_OK);
    assert_int_equal(diverged, 0);
    assert_true(c.steps == 4 && c.nlog == 2 && c.logged[0] == 8 && c.logged[1] == 10 && c.replays == 0);
    assert_memory_equal(sy_params_data(c.ps), sy_params_data(a.ps), 4 * sizeof(float));
    model_free(&c);
    model_free(&a);
}

static void test_log_point_divergence_and_bad_options(void **state)
{
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/ckpt-stop.safetensors", dir);
    model m;
    model_new(&m);
    m.stop_at = 4;
    sy_fit_steps_opts o = opts(&m, path, 10, 0);
    int diverged = 0;
    assert_int_equal(sy_fit_steps(&o, &diverged), SY_OK);
    assert_int_equal(diverged, 1);
    assert_int_equal(m.steps, 4);
    /* a fresh start with resume and no checkpoint is not an error */
    model f;
    model_new(&f);
    snprintf(path, sizeof path, "%s/ckpt-none.safetensors", dir);
    o = opts(&f, path, 2, 1);
    assert_int_equal(sy_fit_steps(&o, &diverged), SY_OK);
    assert_int_equal(f.steps, 2);
    o.log_every = 0;
    assert_int_equal(sy_fit_steps(&o, &diverged), SY_ERR_ARG);
    o = opts(&f, path, 2, 0);
    o.step = NULL;
    assert_int_equal(sy_fit_steps(&o, &diverged), SY_ERR_ARG);
    model_free(&f);
    model_free(&m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_logs_checkpoints_and_resume),
        cmocka_unit_test(test_log_point_divergence_and_bad_options),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
