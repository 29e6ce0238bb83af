/* The training-loss curve over steps (src/train/step_curve.c): the windows
 * of every N steps (and the first step alone) restarting each epoch, their
 * means, the cap, the file written before a checkpoint and read back up to
 * a resume position; sy_fit_curve running it inside sy_fit beside the
 * caller's own callbacks, and a finished run's curve read back whole on
 * resume without a step trained. Also sy_fit_classifier's fields
 * (src/train/fit_classifier.c). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
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

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/syre-test-step-curve-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

/* Steps of losses t + 1 over `epochs` epochs of `per` steps, the sums kept as sy_fit keeps them. */
static void feed(sy_step_curve *c, int epochs, int per, int *taken)
{
    for (int e = 0; e < epochs; e++) {
        sy_fit_state st = {.epoch = e};
        for (int b = 0; b < per; b++) {
            st.batch = b + 1, st.step = (long)e * per + b, st.loss = (double)st.step + 1;
            st.loss_sum += st.loss;
            double mean = -1;
            int got = sy_step_curve_step(c, &st, &mean);
            taken[st.step] = got;
            if (got) assert_true(st.loss_sum == 0 && st.aux_sum == 0 && mean > 0);
            else assert_true(mean == -1);
        }
    }
}

static void test_points(void **state)
{
    (void)state;
    char path[400];
    snprintf(path, sizeof path, "%s/curve-a.txt", tmpdir);
    sy_step_curve c;
    assert_int_equal(sy_step_curve_init(&c, path, 3, 5, 2), SY_OK);
    assert_int_equal(c.cap, 10 / 3 + 2);
    int taken[10];
    feed(&c, 2, 5, taken);
    /* step 0 alone, then every 3 steps of an epoch: 1-3, and 5-7 (the window restarts each epoch) */
    const int want[10] = {1, 0, 0, 1, 0, 0, 0, 1, 0, 0};
    for (int t = 0; t < 10; t++) assert_int_equal(taken[t], want[t]);
    assert_int_equal(c.n, 3);
    assert_true(c.step[0] == 0 && c.loss[0] == 1);
    assert_true(c.step[1] == 3 && c.loss[1] == 3);
    assert_true(c.step[2] == 7 && c.loss[2] == 7);

    /* saved, then read back up to a resume position (epoch 1, 2 batches trained: step 7 is past it) */
    assert_int_equal(sy_step_curve_save(&c), SY_OK);
    sy_step_curve r;
    assert_int_equal(sy_step_curve_init(&r, path, 3, 5, 2), SY_OK);
    sy_train_pos pos = {.epoch = 1, .batch = 2};
    assert_int_equal(sy_step_curve_resume(&r, &pos), SY_OK);
    assert_int_equal(r.n, 2);
    assert_true(r.step[1] == 3 && r.loss[1] == 3);
    pos.batch = 3;
    assert_int_equal(sy_step_curve_resume(&r, &pos), SY_OK);
    assert_int_equal(r.n, 3);
    sy_step_curve_free(&r);
    /* no file yet: no points */
    snprintf(path, sizeof path, "%s/curve-none.txt", tmpdir);
    assert_int_equal(sy_step_curve_init(&r, path, 3, 5, 2), SY_OK);
    assert_int_equal(sy_step_curve_resume(&r, &pos), SY_OK);
    assert_int_equal(r.n, 0);
    sy_step_curve_free(&r);
    sy_step_curve_free(&c);
    sy_step_curve_free(&c); /* twice is fine */

    /* room for one epoch's points only: the later ones are dropped, still reported */
    assert_int_equal(sy_step_curve_init(&c, path, 3, 5, 0), SY_OK);
    assert_int_equal(c.cap, 2);
    feed(&c, 2, 5, taken);
    assert_int_equal(taken[7], 1);
    assert_int_equal(c.n, 2);
    sy_step_curve_free(&c);
    assert_int_equal(sy_step_curve_init(&c, path, 0, 5, 2), SY_ERR_ARG);
    assert_int_equal(sy_step_curve_init(&c, NULL, 3, 5, 2), SY_ERR_ARG);
}

/* ---- inside sy_fit ------------------------------------------------------------ */

#define NS 24
#define B 4

static sy_var linear(void *ctx, sy_graph *g, sy_var x, int eval)
{
    (void)ctx, (void)eval;
    return sy_linear(g, x, "fc", 3);
}

typedef struct {
    sy_classifier m;
    sy_dataset *d;
    sy_batcher *b;
    sy_optimizer *opt;
    sy_step_curve c;
    double loss[3 * NS / B];
    int steps, epochs, saves, resumes, points;
} toy;

static void build(toy *t, const char *curve)
{
    memset(t, 0, sizeof *t);
    assert_int_equal(sy_dataset_new(NS, sy_shape_of(1, 4), 3, 0, "toy", &t->d), SY_OK);
    for (size_t i = 0; i < NS * 4; i++) t->d->x[i] = (float)((i * 13) % 17) / 17.0f - 0.5f;
    for (size_t i = 0; i < NS; i++) t->d->y[i] = (int)((i * 7) % 3);
    assert_int_equal(sy_classifier_new(&t->m, sy_shape_of(1, 4), B, B, linear, NULL), SY_OK);
    assert_int_equal(sy_params_init(t->m.ps, 3), SY_OK);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.1f;
    assert_non_null(t->opt = sy_optimizer_new(t->m.ps, &o));
    assert_int_equal(sy_batcher_new_full(t->d, B, 5, &t->b), SY_OK);
    assert_int_equal(sy_step_curve_init(&t->c, curve, 4, (long)sy_batcher_num_batches(t->b), 3), SY_OK);
}

static void drop(toy *t)
{
    sy_step_curve_free(&t->c);
    sy_batcher_free(t->b);
    sy_optimizer_free(t->opt);
    sy_classifier_free(&t->m);
    sy_dataset_free(t->d);
}

static sy_status on_point(void *ctx, long step, double loss)
{
    toy *t = ctx;
    /* the point is in the curve already, and the caller's on_step has not seen this step yet */
    assert_true(t->c.n > 0 && t->c.step[t->c.n - 1] == step && t->c.loss[t->c.n - 1] == loss);
    assert_int_equal(t->steps, step);
    t->points++;
    return SY_OK;
}

static sy_status on_step(void *ctx, sy_fit_state *st)
{
    toy *t = ctx;
    t->loss[st->step] = st->loss;
    t->steps++;
    return SY_OK;
}

static sy_status on_epoch(void *ctx, long epoch, double loss)
{
    (void)epoch, (void)loss;
    ((toy *)ctx)->epochs++;
    return SY_OK;
}

static sy_status on_save(void *ctx)
{
    ((toy *)ctx)->saves++;
    return SY_OK;
}

static sy_status on_resume(void *ctx, const sy_train_pos *pos)
{
    (void)pos;
    ((toy *)ctx)->resumes++;
    return SY_OK;
}

static sy_status no_run(sy_run *run)
{
    (void)run;
    return SY_OK;
}

static const sy_experiment demo = {.name = "curvefit", .figure = "none", .summary = "a test", .run = no_run};

static sy_fit_opts opts(toy *t, sy_run *run, const char *ckpt, int resume)
{
    sy_fit_opts o = sy_fit_classifier(&t->m, t->opt, t->b, 3);
    o.control = sy_run_control(run), o.ckpt = ckpt, o.resume = resume, o.label = "curve test";
    o.ctx = t, o.on_step = on_step, o.on_epoch = on_epoch, o.on_save = on_save, o.on_resume = on_resume;
    return o;
}

static void test_fit_curve(void **state)
{
    (void)state;
    const char *argv[] = {"--out", tmpdir, "--name", "fit"};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &demo, 4, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    char curve[600], ckpt[600];
    sy_run_pathf(run, curve, sizeof curve, "curve-fit.txt");
    sy_run_ckpt_path(run, NULL, "fit", ckpt, sizeof ckpt);

    toy t;
    build(&t, curve);
    sy_fit_opts o = opts(&t, run, ckpt, 0);
    /* sy_fit_classifier: the classifier's training graph, the loop's pieces given */
    assert_true(o.graph == t.m.train && o.params == t.m.ps && o.opt == t.opt && o.batcher == t.b);
    assert_true(o.loss == t.m.loss && o.x == t.m.x && o.y == t.m.y && o.epochs == 3);
    assert_null(o.on_batch);
    sy_fit_result r;
    assert_int_equal(sy_fit_curve(&o, &t.c, on_point, &r), SY_OK);
    assert_int_equal(r.epochs_trained, 3);
    assert_int_equal(t.steps, 3 * NS / B);
    assert_int_equal(t.epochs, 3);
    assert_true(t.saves >= 4); /* position 0 and every epoch end, the caller's on_save after the curve's */
    /* 6 steps an epoch: step 0, then steps 1-4 of epoch 0, 6-9 of epoch 1 and 12-15 of epoch 2 */
    assert_int_equal(t.points, 4);
    assert_int_equal(t.c.n, 4);
    const int at[4] = {0, 4, 9, 15};
    for (int i = 0; i < 4; i++) {
        int first = i == 0 ? 0 : at[i] - 3;
        double sum = 0;
        for (int k = first; k <= at[i]; k++) sum += t.loss[k];
        assert_true(t.c.step[i] == at[i]);
        assert_true(fabs(t.c.loss[i] - sum / (at[i] - first + 1)) <= 1e-12 * fabs(sum));
    }

    /* resumed after the end: no step, the curve read back bit for bit, the caller's on_resume called */
    toy u;
    build(&u, curve);
    sy_fit_opts ou = opts(&u, run, ckpt, 1);
    assert_int_equal(sy_fit_curve(&ou, &u.c, on_point, &r), SY_OK);
    assert_int_equal(r.epochs_trained, 0);
    assert_int_equal(u.steps + u.points, 0);
    assert_int_equal(u.resumes, 1);
    assert_int_equal(u.c.n, t.c.n);
    assert_memory_equal(u.c.loss, t.c.loss, sizeof(double) * (size_t)t.c.n);
    assert_memory_equal(u.c.step, t.c.step, sizeof(double) * (size_t)t.c.n);
    assert_int_equal(sy_fit_curve(&ou, NULL, on_point, &r), SY_ERR_ARG);
    drop(&u);
    drop(&t);
    sy_run_free(run);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_points),
        cmocka_unit_test(test_fit_curve),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
