#define _POSIX_C_SOURCE 200809L
/* Unit resets across a checkpoint: a sy_fit run of a tiny MLP (12 -> 8 ->
 * 8 -> 4, both hidden layers watched) with CBP or ReDo, stopped mid-epoch by
 * its control and resumed into fresh objects, ends with the parameters, the
 * units replaced, CBP's utilities and the ages of an uninterrupted run, bit
 * for bit (units were replaced both before and after the stop). A checkpoint
 * without unit-reset state (a run without resets) still resumes a run
 * without resets, and is refused by a run with resets, naming what is
 * missing; a checkpoint of one reset kind is refused by a run of the other
 * kind and by a run without resets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syre/syre.h"

#define B 16
#define NS 80 /* 5 batches an epoch */
#define EPOCHS 4
#define STEPS (EPOCHS * NS / B)
#define STOP 9 /* mid-epoch: batch 4 of the second */
#define H 8

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_optimizer *opt;
    sy_var x, y, h1, h2, loss;
    sy_batcher *b;
    sy_dataset *d;
    sy_unit_reset *units;
    long replaced_at_stop;
} model;

/* CBP replacing often (a unit owed every few steps, mature after 2) and
 * ReDo every 3 steps with a tau that finds units: resets on both sides of
 * the stop. */
static sy_unit_reset_opts reset_opts(sy_unit_reset_kind kind)
{
    sy_unit_reset_opts o = sy_unit_reset_defaults(kind);
    o.cbp_rate = 0.05, o.cbp_maturity = 2;
    o.redo_tau = 0.6, o.redo_every = 3;
    o.seed = 7;
    return o;
}

static void build(model *m, sy_unit_reset_kind kind)
{
    memset(m, 0, sizeof *m);
    assert_int_equal(sy_dataset_new(NS, sy_shape_of(3, 1, 3, 4), 4, 0, "toy", &m->d), SY_OK);
    for (size_t i = 0; i < NS * 12; i++) m->d->x[i] = (float)((i * 13) % 17) / 17.0f - 0.5f;
    for (size_t i = 0; i < NS; i++) m->d->y[i] = (int)((i * 7) % 4);
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    m->x = sy_input(m->g, "x", sy_shape_of(4, B, 1, 3, 4));
    m->y = sy_input(m->g, "y", sy_shape_of(1, B));
    m->h1 = sy_relu(m->g, sy_linear(m->g, sy_reshape(m->g, m->x, sy_shape_of(2, B, 12)), "h1", H));
    m->h2 = sy_relu(m->g, sy_linear(m->g, m->h1, "h2", H));
    m->loss = sy_softmax_ce(m->g, sy_linear(m->g, m->h2, "o", 4), m->y);
    assert_int_equal(sy_graph_compile(m->g), SY_OK);
    assert_int_equal(sy_params_init(m->ps, 3), SY_OK);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.1f;
    o.momentum = 0.9f;
    m->opt = sy_optimizer_new(m->ps, &o);
    assert_non_null(m->opt);
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = B;
    bo.drop_last = 1;
    bo.seed = 5;
    assert_int_equal(sy_batcher_new(m->d, bo, &m->b), SY_OK);
    if (kind != SY_UNIT_RESET_NONE) {
        const sy_unit_layer layers[2] = {{"h1", "h2", m->h1}, {"h2", "o", m->h2}};
        sy_unit_reset_opts ro = reset_opts(kind);
        assert_int_equal(sy_unit_reset_new(&ro, m->g, m->ps, m->opt, layers, 2, &m->units), SY_OK);
    }
}

static void drop(model *m)
{
    sy_unit_reset_free(m->units);
    sy_batcher_free(m->b);
    sy_dataset_free(m->d);
    sy_optimizer_free(m->opt);
    sy_graph_free(m->g);
    sy_params_free(m->ps);
}

static int stop_due(void *ctx, long step)
{
    (void)ctx;
    return step == STOP ? SY_CKPT_STOP : SY_CKPT_NO;
}

static sy_status stopped(void *ctx, long step, long total)
{
    (void)ctx;
    return sy_fail(SY_ERR_STOPPED, "test control: stopped at %ld of %ld", step, total);
}

static sy_fit_opts fit_opts(model *m, const char *ckpt)
{
    sy_fit_opts o = sy_fit_defaults();
    o.graph = m->g, o.loss = m->loss, o.params = m->ps, o.opt = m->opt;
    o.batcher = m->b, o.x = m->x, o.y = m->y, o.epochs = EPOCHS;
    o.units = m->units, o.ckpt = ckpt, o.label = "units";
    return o;
}

/* The run of `kind` stopped after step STOP into ckpt (a checkpoint of
 * what it had done), its objects freed. */
static long run_to_stop(sy_unit_reset_kind kind, const char *ckpt)
{
    model m;
    build(&m, kind);
    sy_fit_opts o = fit_opts(&m, ckpt);
    o.control = (sy_fit_control){.ckpt_due = stop_due, .stopped = stopped};
    assert_int_equal(sy_fit(&o, NULL), SY_ERR_STOPPED);
    long n = sy_unit_reset_count(m.units, -1);
    drop(&m);
    return n;
}

static void tmp_ckpt(char *dir, char *ck, size_t size)
{
    assert_non_null(mkdtemp(dir));
    snprintf(ck, size, "%s/ck.safetensors", dir);
}

static void rm_ckpt(const char *dir, const char *ck)
{
    char prev[300];
    sy_train_prev_path(ck, prev, sizeof prev);
    unlink(prev);
    unlink(ck);
    rmdir(dir);
}

static void resume_equals_uninterrupted(sy_unit_reset_kind kind)
{
    char dir[] = "/tmp/syre-unitckpt-XXXXXX", ck[200];
    tmp_ckpt(dir, ck, sizeof ck);
    model a, b;
    build(&a, kind);
    sy_fit_opts oa = fit_opts(&a, NULL);
    assert_int_equal(sy_fit(&oa, NULL), SY_OK);

    long at_stop = run_to_stop(kind, ck);
    build(&b, kind);
    sy_fit_opts ob = fit_opts(&b, ck);
    ob.resume = 1;
    assert_int_equal(sy_fit(&ob, NULL), SY_OK);

    long na = sy_unit_reset_count(a.units, -1), nb = sy_unit_reset_count(b.units, -1);
    print_message("%s: %ld units replaced by step %d, %ld in all (resumed: %ld)\n",
                  kind == SY_UNIT_RESET_CBP ? "cbp" : "redo", at_stop, STOP, na, nb);
    assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), sy_params_trainable_size(a.ps) * sizeof(float));
    assert_true(at_stop > 0);  /* resets before the stop ... */
    assert_true(na > at_stop); /* ... and after it */
    assert_int_equal(nb, na);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(sy_unit_reset_count(b.units, k), sy_unit_reset_count(a.units, k));
        assert_memory_equal(sy_unit_reset_utility(a.units, k), sy_unit_reset_utility(b.units, k), H * sizeof(double));
        assert_memory_equal(sy_unit_reset_age(a.units, k), sy_unit_reset_age(b.units, k), H * sizeof(long));
    }
    drop(&a);
    drop(&b);
    rm_ckpt(dir, ck);
}

static void test_cbp_resume(void **state)
{
    (void)state;
    resume_equals_uninterrupted(SY_UNIT_RESET_CBP);
}

static void test_redo_resume(void **state)
{
    (void)state;
    resume_equals_uninterrupted(SY_UNIT_RESET_REDO);
}

/* A resume of a run of kind `now` from the stop checkpoint of a run of kind
 * `saved`: its status, the message kept in msg. */
static sy_status resume_across(sy_unit_reset_kind saved, sy_unit_reset_kind now, char *msg, size_t size)
{
    char dir[] = "/tmp/syre-unitckpt-XXXXXX", ck[200];
    tmp_ckpt(dir, ck, sizeof ck);
    run_to_stop(saved, ck);
    model m;
    build(&m, now);
    sy_fit_opts o = fit_opts(&m, ck);
    o.resume = 1;
    sy_status s = sy_fit(&o, NULL);
    snprintf(msg, size, "%s", s == SY_OK ? "" : sy_last_error());
    drop(&m);
    rm_ckpt(dir, ck);
    return s;
}

static void test_missing_or_other_state(void **state)
{
    (void)state;
    char msg[1024];
    /* without resets on both sides: as before */
    assert_int_equal(resume_across(SY_UNIT_RESET_NONE, SY_UNIT_RESET_NONE, msg, sizeof msg), SY_OK);
    /* a run with resets cannot continue bit for bit without their state */
    assert_int_equal(resume_across(SY_UNIT_RESET_NONE, SY_UNIT_RESET_CBP, msg, sizeof msg), SY_ERR_ARG);
    print_message("%s\n", msg);
    assert_non_null(strstr(msg, "no unit-reset state"));
    assert_non_null(strstr(msg, "cbp"));
    /* nor from the other kind's, nor without resets from a run that had them */
    assert_int_equal(resume_across(SY_UNIT_RESET_CBP, SY_UNIT_RESET_REDO, msg, sizeof msg), SY_ERR_ARG);
    print_message("%s\n", msg);
    assert_non_null(strstr(msg, "cbp"));
    assert_non_null(strstr(msg, "redo"));
    assert_int_equal(resume_across(SY_UNIT_RESET_REDO, SY_UNIT_RESET_NONE, msg, sizeof msg), SY_ERR_ARG);
    print_message("%s\n", msg);
    assert_non_null(strstr(msg, "redo"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cbp_resume),
        cmocka_unit_test(test_redo_resume),
        cmocka_unit_test(test_missing_or_other_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
