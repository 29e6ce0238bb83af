/* sy_fit_prefetch_classifier (src/train/fit_prefetch.c) against sy_fit with
 * the count done by hand: the same model and batches train to the same
 * bits, and each epoch's correct predictions (what a training accuracy is
 * made of) are those sy_count_correct gives on the steps' own logits, in
 * aux_sum as in *correct. A resumed loop restores the count from the
 * checkpoint, and both prefetched forms refuse a checkpoint of more epochs
 * than they are asked for, naming the loop. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syre/syre.h"

typedef struct {
    int form; /* 0: sy_fit with the count by hand; 1: sy_fit_prefetch_classifier */
    sy_graph *g;
    sy_var y;
    const float *z; /* the training logits */
    sy_batcher *b;
    double correct; /* *correct of sy_fit_prefetch_classifier */
    double by_hand; /* the count of on_step (sy_fit) */
    double aux;     /* aux_sum as on_step last saw it */
    double per_epoch[3];
    int resumed;
} fc_ctx;

static sy_status fc_fill(void *ctx, float *const *in, size_t *count)
{
    *count = sy_batcher_next(((fc_ctx *)ctx)->b, in[0], in[1]);
    return SY_OK;
}

/* sy_fit's form: the count by hand, from the labels in the graph input */
static sy_status fc_step_by_hand(void *ctx, sy_fit_state *st)
{
    fc_ctx *c = ctx;
    st->aux_sum += (double)sy_count_correct(c->z, 8, 2, sy_graph_data(c->g, c->y));
    c->by_hand = c->aux = st->aux_sum;
    return SY_OK;
}

static sy_status fc_step(void *ctx, sy_fit_state *st)
{
    ((fc_ctx *)ctx)->aux = st->aux_sum;
    return SY_OK;
}

static sy_status fc_epoch(void *ctx, long e, double loss)
{
    (void)loss;
    fc_ctx *c = ctx;
    c->per_epoch[e - 1] = c->form ? c->correct : c->by_hand;
    assert_true(c->aux == c->per_epoch[e - 1]); /* *correct is the loop's aux_sum */
    return SY_OK;
}

static sy_status fc_resume(void *ctx, const sy_train_pos *pos)
{
    fc_ctx *c = ctx;
    c->resumed = 1;
    assert_true(c->correct == pos->aux_sum);
    return SY_OK;
}

/* form 0: sy_fit with the count by hand; 1: sy_fit_prefetch_classifier */
static sy_status fit(int form, long epochs, const char *ckpt, int resume, float *params, double *per_epoch)
{
    sy_dataset *d = NULL;
    assert_int_equal(sy_dataset_new(40, sy_shape_of(1, 3), 2, 0, "toy", &d), SY_OK);
    sy_rng r = sy_rng_make(1, SY_STREAM_USER, 0);
    for (int i = 0; i < 120; i++) d->x[i] = sy_rng_uniform(&r);
    for (int i = 0; i < 40; i++) d->y[i] = d->x[3 * i] > 0.5f;
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(2, 8, 3)), y = sy_input(g, "y", sy_shape_of(1, 8));
    sy_var logits = sy_linear(g, x, "fc", 2), loss = sy_softmax_ce(g, logits, y);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    assert_int_equal(sy_params_init(ps, 2), SY_OK);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.5f;
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    fc_ctx c = {.form = form, .g = g, .y = y, .z = sy_graph_data(g, logits), .correct = -1};
    assert_int_equal(sy_batcher_new_full(d, 8, 3, &c.b), SY_OK);
    sy_fit_opts fo = sy_fit_defaults();
    fo.graph = g, fo.loss = loss, fo.params = ps, fo.opt = opt, fo.batcher = c.b, fo.x = x, fo.y = y;
    fo.epochs = epochs, fo.ckpt = ckpt, fo.resume = resume, fo.label = "toy classifier";
    fo.ctx = &c, fo.on_step = form ? fc_step : fc_step_by_hand, fo.on_epoch = fc_epoch;
    fo.on_resume = form ? fc_resume : NULL;
    sy_status s = form ? sy_fit_prefetch_classifier(&fo, logits, 2, &c.correct, fc_fill, &c, NULL) : sy_fit(&fo, NULL);
    if (params) memcpy(params, sy_params_data(ps), sizeof(float) * sy_params_trainable_size(ps));
    if (per_epoch) memcpy(per_epoch, c.per_epoch, sizeof c.per_epoch);
    if (resume && s == SY_OK) assert_true(c.resumed);
    sy_batcher_free(c.b);
    sy_optimizer_free(opt);
    sy_graph_free(g);
    sy_params_free(ps);
    sy_dataset_free(d);
    return s;
}

static void test_counts_as_by_hand(void **state)
{
    (void)state;
    float p1[64] = {0}, p2[64] = {0};
    double c1[3], c2[3];
    assert_int_equal(fit(0, 3, NULL, 0, p1, c1), SY_OK);
    assert_int_equal(fit(1, 3, NULL, 0, p2, c2), SY_OK);
    assert_memory_equal(p1, p2, sizeof p1);
    for (int e = 0; e < 3; e++) {
        assert_true(c1[e] == c2[e]);
        assert_true(c1[e] >= 0 && c1[e] <= 40); /* 5 batches of 8 */
    }
    assert_true(c1[2] > c1[0] || c1[0] == 40); /* it learns */
}

static void test_resume(void **state)
{
    (void)state;
    char dir[] = "/tmp/syre-test-fpc-XXXXXX", ckpt[128];
    assert_non_null(mkdtemp(dir));
    snprintf(ckpt, sizeof ckpt, "%s/ckpt.safetensors", dir);
    float p1[64] = {0}, p2[64] = {0};
    assert_int_equal(fit(1, 2, ckpt, 0, p1, NULL), SY_OK);
    /* two more epochs from the checkpoint: the loop restores the count, then trains on */
    assert_int_equal(fit(1, 3, ckpt, 1, p2, NULL), SY_OK);
    assert_memory_not_equal(p1, p2, sizeof p1);
    /* a checkpoint of 3 epochs for a loop of 2: refused, not taken as finished */
    assert_int_equal(fit(1, 2, ckpt, 1, NULL, NULL), SY_ERR_ARG);
    assert_string_equal(sy_last_error(), "toy classifier: --resume: the checkpoint has 3 epochs, --epochs is 2");
    sy_clear_error();
    char prev[160];
    snprintf(prev, sizeof prev, "%s/ckpt.prev.safetensors", dir);
    unlink(prev);
    unlink(ckpt);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_counts_as_by_hand),
        cmocka_unit_test(test_resume),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
