#define _POSIX_C_SOURCE 200809L
/* The trainer (sy_fit) fed by a data source of the caller's (opts.next, the
 * hook for inputs a sy_prefetch fills): a source that hands out the
 * batcher's batches trains bit for bit as the batcher itself does (same
 * parameters, same step losses, same epoch means), its epochs started by
 * on_epoch_start; a resumed run skips the trained batches through the
 * source too; and a source's error ends the loop with that error. A
 * program's own sy_fit_control checkpoints and stops the loop. Also
 * sy_count_correct, a step's correct predictions (first maximum on ties),
 * and sy_fit_tasks: tasks of several epochs, the reset at each boundary but
 * the first, the batch hook told its task, the task rows kept in the history
 * file and read back by a resumed run; with a sy_classifier and a test set,
 * the accuracy matrix: each task's row holds the accuracy on every task so
 * far (its inputs made by the batch hook), logged a row each. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syre/syre.h"

#define B 16
#define NS 80 /* 5 batches an epoch */
#define EPOCHS 3

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_optimizer *opt;
    sy_var x, y, logits, loss;
    sy_batcher *b;
    sy_dataset *d;
    /* what the callbacks saw */
    double step_loss[EPOCHS * NS / B], epoch_loss[EPOCHS];
    int steps, sourced, fail_at;
} model;

static void build(model *m)
{
    memset(m, 0, sizeof *m);
    assert_int_equal(sy_dataset_new(NS, sy_shape_of(3, 1, 3, 4), 4, 0, "toy", &m->d), SY_OK);
    for (size_t i = 0; i < NS * 12; i++) m->d->x[i] = (float)((i * 13) % 17) / 17.0f - 0.5f;
    for (size_t i = 0; i < NS; i++) m->d->y[i] = (int)((i * 7) % 4);
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    int sizes[3] = {12, 8, 4};
    m->x = sy_input(m->g, "x", sy_shape_of(4, B, 1, 3, 4));
    m->y = sy_input(m->g, "y", sy_shape_of(1, B));
    m->logits = sy_mlp(m->g, sy_reshape(m->g, m->x, sy_shape_of(2, B, 12)), "mlp", sizes, 3, SY_ACT_RELU);
    m->loss = sy_softmax_ce(m->g, m->logits, m->y);
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
}

static void drop(model *m)
{
    sy_batcher_free(m->b);
    sy_dataset_free(m->d);
    sy_optimizer_free(m->opt);
    sy_graph_free(m->g);
    sy_params_free(m->ps);
}

static sy_status on_step(void *ctx, sy_fit_state *st)
{
    model *m = ctx;
    m->step_loss[st->step] = st->loss;
    m->steps++;
    return SY_OK;
}

static sy_status on_epoch(void *ctx, long epoch, double loss)
{
    model *m = ctx;
    m->epoch_loss[epoch - 1] = loss;
    return SY_OK;
}

/* The source: the batcher's batches, its epochs started here. */
static sy_status src_epoch_start(void *ctx, long epoch)
{
    model *m = ctx;
    sy_batcher_epoch(m->b, (uint64_t)epoch);
    return SY_OK;
}

static sy_status src_next(void *ctx, size_t *n)
{
    model *m = ctx;
    if (m->fail_at && m->sourced == m->fail_at) return sy_fail(SY_ERR_IO, "test source: read failed");
    m->sourced++;
    *n = sy_batcher_next(m->b, sy_graph_data(m->g, m->x), sy_graph_data(m->g, m->y));
    return SY_OK;
}

static sy_fit_opts fit_opts(model *m, int sourced)
{
    sy_fit_opts o = sy_fit_defaults();
    o.graph = m->g, o.loss = m->loss, o.params = m->ps, o.opt = m->opt;
    o.batcher = m->b, o.x = m->x, o.y = m->y, o.epochs = EPOCHS;
    o.ctx = m, o.on_step = on_step, o.on_epoch = on_epoch;
    if (sourced) o.next = src_next, o.on_epoch_start = src_epoch_start;
    return o;
}

static void test_source_equals_batcher(void **state)
{
    (void)state;
    model a, b;
    build(&a);
    build(&b);
    sy_fit_opts oa = fit_opts(&a, 0), ob = fit_opts(&b, 1);
    sy_fit_result ra, rb;
    assert_int_equal(sy_fit(&oa, &ra), SY_OK);
    assert_int_equal(sy_fit(&ob, &rb), SY_OK);
    assert_int_equal(a.steps, EPOCHS * NS / B);
    assert_int_equal(b.steps, a.steps);
    assert_int_equal(b.sourced, EPOCHS * (NS / B + 1)); /* each epoch ends with a 0 */
    assert_int_equal(rb.epochs_trained, EPOCHS);
    assert_memory_equal(a.step_loss, b.step_loss, sizeof a.step_loss);
    assert_memory_equal(a.epoch_loss, b.epoch_loss, sizeof a.epoch_loss);
    assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), sy_params_trainable_size(a.ps) * sizeof(float));
    drop(&a);
    drop(&b);
}

/* A run resumed two batches into its second epoch draws those two batches
 * from the source again (untrained) and ends where the whole run ends. */
static void test_source_resume(void **state)
{
    (void)state;
    char dir[] = "/tmp/syre-trainer-XXXXXX", ck[200];
    assert_non_null(mkdtemp(dir));
    snprintf(ck, sizeof ck, "%s/ck.safetensors", dir);
    model a, b;
    build(&a);
    sy_fit_opts oa = fit_opts(&a, 1);
    assert_int_equal(sy_fit(&oa, NULL), SY_OK);

    /* the first epoch and two batches of the second, then a checkpoint */
    build(&b);
    sy_fit_opts ob = fit_opts(&b, 1);
    ob.epochs = 1;
    assert_int_equal(sy_fit(&ob, NULL), SY_OK);
    sy_batcher_epoch(b.b, 1);
    for (int k = 0; k < 2; k++) {
        sy_batcher_next(b.b, sy_graph_data(b.g, b.x), sy_graph_data(b.g, b.y));
        assert_int_equal(sy_train_step(b.g, b.loss, b.opt), SY_OK);
    }
    sy_train_pos pos = {.epoch = 1, .batch = 2, .graph_step = (int64_t)sy_graph_step(b.g)};
    assert_int_equal(sy_train_save(ck, b.ps, b.opt, &pos), SY_OK);
    drop(&b);

    build(&b);
    ob = fit_opts(&b, 1);
    ob.ckpt = ck, ob.resume = 1;
    sy_fit_result rb;
    assert_int_equal(sy_fit(&ob, &rb), SY_OK);
    assert_int_equal(rb.start_epoch, 1);
    assert_int_equal(b.steps, (EPOCHS - 1) * NS / B - 2);
    assert_int_equal(b.sourced, (EPOCHS - 1) * (NS / B + 1));
    assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), sy_params_trainable_size(a.ps) * sizeof(float));
    drop(&a);
    drop(&b);
    char prev[300];
    sy_train_prev_path(ck, prev, sizeof prev);
    unlink(prev);
    unlink(ck);
    rmdir(dir);
}

static void test_source_error(void **state)
{
    (void)state;
    model m;
    build(&m);
    m.fail_at = 7; /* the second batch of the second epoch */
    sy_fit_opts o = fit_opts(&m, 1);
    assert_int_equal(sy_fit(&o, NULL), SY_ERR_IO);
    assert_non_null(strstr(sy_last_error(), "read failed"));
    assert_int_equal(m.steps, NS / B + 1);
    sy_clear_error();
    drop(&m);
}

/* A program's own control, no run: it asks for a checkpoint after step 3
 * and a stop after step 7; the loop writes both, returns the control's
 * status, and a resume from the stop's checkpoint ends where an
 * uninterrupted run ends. */
typedef struct {
    long asked[EPOCHS * NS / B + 1];
    int n_asked, stopped_at;
} control_log;

static int ctl_due(void *ctx, long step)
{
    control_log *c = ctx;
    c->asked[c->n_asked++] = step;
    return step == 3 ? SY_CKPT_NOW : step == 7 ? SY_CKPT_STOP : SY_CKPT_NO;
}

static sy_status ctl_stopped(void *ctx, long step, long total)
{
    control_log *c = ctx;
    c->stopped_at = (int)step;
    return sy_fail(SY_ERR_STOPPED, "test control: stopped at %ld of %ld", step, total);
}

static void test_own_control(void **state)
{
    (void)state;
    char dir[] = "/tmp/syre-trainer-XXXXXX", ck[200];
    assert_non_null(mkdtemp(dir));
    snprintf(ck, sizeof ck, "%s/ck.safetensors", dir);
    model a, b;
    build(&a);
    sy_fit_opts oa = fit_opts(&a, 0);
    assert_int_equal(sy_fit(&oa, NULL), SY_OK);

    build(&b);
    control_log c = {0};
    sy_fit_opts ob = fit_opts(&b, 0);
    ob.ckpt = ck;
    ob.control = (sy_fit_control){.ctx = &c, .ckpt_due = ctl_due, .stopped = ctl_stopped};
    assert_int_equal(sy_fit(&ob, NULL), SY_ERR_STOPPED);
    assert_non_null(strstr(sy_last_error(), "stopped at 7 of 15"));
    assert_int_equal(c.stopped_at, 7);
    assert_int_equal(b.steps, 7);
    assert_int_equal(c.n_asked, 7); /* after every step, with the optimizer's count */
    for (int i = 0; i < 7; i++) assert_int_equal(c.asked[i], i + 1);
    sy_train_pos pos;
    assert_int_equal(sy_train_load(ck, b.ps, b.opt, &pos), SY_OK);
    assert_int_equal(pos.epoch, 1); /* 5 batches an epoch: step 7 is batch 2 of the second */
    assert_int_equal(pos.batch, 2);
    drop(&b);

    build(&b);
    ob = fit_opts(&b, 0);
    ob.ckpt = ck, ob.resume = 1; /* a zeroed control: no cadence, no stops */
    assert_int_equal(sy_fit(&ob, NULL), SY_OK);
    assert_int_equal(b.steps, EPOCHS * NS / B - 7);
    assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), sy_params_trainable_size(a.ps) * sizeof(float));
    drop(&a);
    drop(&b);
    char prev[300];
    sy_train_prev_path(ck, prev, sizeof prev);
    unlink(prev);
    unlink(ck);
    rmdir(dir);
}

/* sy_fit_tasks: what the callbacks saw. */
typedef struct {
    int starts[4], batches[4], ends;
    double acc[4];
} tasks_seen;

static sy_status tk_start(void *ctx, int task)
{
    ((tasks_seen *)ctx)->starts[task]++;
    return SY_OK;
}

static sy_status tk_batch(void *ctx, int task, float *x, size_t n)
{
    (void)x;
    ((tasks_seen *)ctx)->batches[task] += (int)n;
    return SY_OK;
}

static sy_status tk_end(void *ctx, int task, double train_loss, double train_acc, double *row)
{
    tasks_seen *t = ctx;
    t->acc[task] = train_acc;
    t->ends++;
    row[0] = task + 1, row[1] = train_loss, row[2] = train_acc;
    return SY_OK;
}

static void test_fit_tasks(void **state)
{
    (void)state;
    char dir[] = "/tmp/syre-tasks-XXXXXX", ck[200], hist_path[200];
    assert_non_null(mkdtemp(dir));
    snprintf(ck, sizeof ck, "%s/ck.safetensors", dir);
    snprintf(hist_path, sizeof hist_path, "%s/history.txt", dir);
    double hist[3 * 3], again[3 * 3];
    for (int pass = 0; pass < 2; pass++) {
        model m;
        build(&m);
        tasks_seen seen;
        memset(&seen, 0, sizeof seen);
        sy_tasks_opts o = {.fit = sy_fit_defaults(), .logits = m.logits, .classes = 4, .tasks = 3, .epochs = 2,
                           .method = "m", .hist = pass ? again : hist, .row = 3, .history = hist_path, .ctx = &seen,
                           .on_task_start = tk_start, .on_batch = tk_batch, .on_task_end = tk_end};
        o.fit.graph = m.g, o.fit.loss = m.loss, o.fit.params = m.ps, o.fit.opt = m.opt;
        o.fit.batcher = m.b, o.fit.x = m.x, o.fit.y = m.y, o.fit.ckpt = ck, o.fit.resume = pass;
        sy_fit_result r;
        assert_int_equal(sy_fit_tasks(&o, &r), SY_OK);
        if (pass == 0) {
            /* reset at the start of tasks 1 and 2 only; every batch of 2 epochs per task */
            assert_int_equal(seen.starts[0], 0);
            assert_int_equal(seen.starts[1], 1);
            assert_int_equal(seen.starts[2], 1);
            for (int t = 0; t < 3; t++) assert_int_equal(seen.batches[t], 2 * NS);
            assert_int_equal(seen.ends, 3);
            assert_int_equal(r.epochs_trained, 6);
            for (int t = 0; t < 3; t++) {
                assert_true(seen.acc[t] >= 0 && seen.acc[t] <= 1);
                assert_true(hist[t * 3] == t + 1);
            }
        } else {
            /* finished: nothing trained, the rows read back bit for bit */
            assert_int_equal(r.epochs_trained, 0);
            assert_int_equal(seen.ends + seen.starts[1] + seen.batches[0], 0);
            assert_memory_equal(hist, again, sizeof hist);
        }
        drop(&m);
    }
    char prev[300];
    sy_train_prev_path(ck, prev, sizeof prev);
    unlink(prev);
    unlink(ck);
    unlink(hist_path);
    rmdir(dir);
}

/* sy_fit_tasks with a sy_classifier and a test set: the accuracy matrix. */
static sy_var mlp_net(void *ctx, sy_graph *g, sy_var x, int eval)
{
    (void)ctx, (void)eval;
    int sizes[3] = {12, 8, 4};
    return sy_mlp(g, sy_reshape(g, x, sy_shape_of(2, sy_graph_shape(g, x).dim[0], 12)), "mlp", sizes, 3, SY_ACT_RELU);
}

/* Task k's inputs: the first k + 1 values of each sample negated. */
static sy_status neg_inputs(void *ctx, int task, float *x, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n; i++)
        for (int j = 0; j <= task; j++) x[i * 12 + j] = -x[i * 12 + j];
    return SY_OK;
}

static int prep_task;
static void prep(void *ctx, float *x, size_t n) { neg_inputs(ctx, prep_task, x, n); }

typedef struct {
    sy_classifier *m;
    const sy_dataset *test;
    int ends;
} acc_seen;

/* At each task's end the row holds the accuracy on every task so far, as
 * sy_eval_classifier gives it with the task's inputs; NaN beyond. */
static sy_status acc_end(void *ctx, int task, double train_loss, double train_acc, double *row)
{
    acc_seen *a = ctx;
    (void)train_loss, (void)train_acc;
    for (int k = 0; k < 3; k++) {
        double acc;
        prep_task = k;
        assert_int_equal(sy_eval_classifier(a->m->eval, a->m->ex, a->m->elogits, a->test, prep, NULL, NULL, &acc),
                         SY_OK);
        if (k <= task)
            assert_memory_equal(&acc, &row[1 + k], sizeof acc);
        else
            assert_true(isnan(row[1 + k]));
    }
    row[0] = task;
    a->ends++;
    return SY_OK;
}

static sy_status acc_run(sy_run *run)
{
    (void)run;
    return SY_OK;
}

static const sy_experiment acc_demo = {.name = "accdemo", .figure = "none", .summary = "a test", .run = acc_run};

static void test_fit_tasks_accuracy_matrix(void **state)
{
    (void)state;
    char dir[] = "/tmp/syre-tasks-acc-XXXXXX", path[300];
    assert_non_null(mkdtemp(dir));
    const char *argv[] = {"--out", dir, "--name", "r"};
    sy_run *run = NULL;
    assert_int_equal(sy_run_parse(&run, &acc_demo, 4, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    sy_dataset *train, *test;
    assert_int_equal(sy_dataset_new(NS, sy_shape_of(3, 1, 3, 4), 4, 0, "toy", &train), SY_OK);
    assert_int_equal(sy_dataset_new(40, sy_shape_of(3, 1, 3, 4), 4, 0, "toy-test", &test), SY_OK);
    for (size_t i = 0; i < NS * 12; i++) train->x[i] = (float)((i * 13) % 17) / 17.0f - 0.5f;
    for (size_t i = 0; i < NS; i++) train->y[i] = (int)((i * 7) % 4);
    for (size_t i = 0; i < 40 * 12; i++) test->x[i] = (float)((i * 5) % 11) / 11.0f - 0.5f;
    for (size_t i = 0; i < 40; i++) test->y[i] = (int)((i * 3) % 4);
    sy_classifier m;
    assert_int_equal(sy_classifier_new(&m, sy_shape_of(3, 1, 3, 4), B, 16, mlp_net, NULL), SY_OK);
    assert_int_equal(sy_params_init(m.ps, 3), SY_OK);
    sy_optim_opts oo = sy_optim_defaults(SY_OPTIM_SGD);
    oo.lr = 0.1f;
    sy_optimizer *opt = sy_optimizer_new(m.ps, &oo);
    assert_non_null(opt);
    sy_batcher_opts bo = {.batch = B, .shuffle = 1, .drop_last = 1, .seed = 5};
    sy_batcher *b = NULL;
    assert_int_equal(sy_batcher_new(train, bo, &b), SY_OK);
    acc_seen seen = {&m, test, 0};
    double hist[3 * 4];
    sy_tasks_opts o = {.fit = sy_fit_defaults(), .classifier = &m, .classes = 4, .tasks = 3, .epochs = 1,
                       .method = "m", .hist = hist, .row = 4, .ctx = &seen, .on_batch = neg_inputs,
                       .on_task_end = acc_end, .test = test, .acc_col = 1, .acc_file = "acc.csv"};
    o.fit.opt = opt, o.fit.batcher = b, o.fit.control = sy_run_control(run), o.fit.label = "acc";
    /* the matrix needs tasks columns from acc_col */
    o.acc_col = 2;
    assert_int_equal(sy_fit_tasks(&o, NULL), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "accuracy matrix"));
    o.acc_col = 1;
    assert_int_equal(sy_fit_tasks(&o, NULL), SY_OK);
    assert_int_equal(seen.ends, 3);
    for (int t = 0; t < 3; t++)
        for (int k = 0; k <= t; k++) assert_true(hist[t * 4 + 1 + k] >= 0 && hist[t * 4 + 1 + k] <= 1);
    assert_true(isnan(hist[0 * 4 + 2]) && isnan(hist[1 * 4 + 3]));
    assert_int_equal(sy_run_finish(run), SY_OK);
    /* acc.csv: after task t (step t + 1) a row per task k <= t, eval_task k + 1 */
    snprintf(path, sizeof path, "%s/accdemo/r/acc.csv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[256];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "method,step,eval_task,test_acc\n");
    int rows = 0;
    for (int t = 0; t < 3; t++)
        for (int k = 0; k <= t; k++, rows++) {
            assert_non_null(fgets(line, sizeof line, f));
            char want[64];
            snprintf(want, sizeof want, "m,%d,%d,", t + 1, k + 1);
            if (strncmp(line, want, strlen(want)) != 0) fail_msg("row %d: '%s', want '%s...'", rows, line, want);
            assert_true(strtod(line + strlen(want), NULL) == hist[t * 4 + 1 + k]);
        }
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
    sy_run_free(run);
    sy_batcher_free(b);
    sy_optimizer_free(opt);
    sy_classifier_free(&m);
    sy_dataset_free(train);
    sy_dataset_free(test);
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_count_correct(void **state)
{
    (void)state;
    const float z[4 * 3] = {0.1f, 0.7f, 0.2f, /* 1 */ 2.0f, -1.0f, 2.0f, /* 0 (tie: the first) */
                            -3.0f, -2.0f, -1.0f, /* 2 */ 0.5f, 0.5f, 0.5f /* 0 */};
    const float y[4] = {1, 2, 2, 0};
    assert_int_equal(sy_count_correct(z, 4, 3, y), 3);
    assert_int_equal(sy_count_correct(z, 1, 3, y), 1);
    assert_int_equal(sy_count_correct(z + 3, 1, 3, y + 1), 0);
    assert_int_equal(sy_count_correct(z, 0, 3, y), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_source_equals_batcher),
        cmocka_unit_test(test_source_resume),
        cmocka_unit_test(test_source_error),
        cmocka_unit_test(test_own_control),
        cmocka_unit_test(test_count_correct),
        cmocka_unit_test(test_fit_tasks),
        cmocka_unit_test(test_fit_tasks_accuracy_matrix),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
