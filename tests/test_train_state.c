#define _GNU_SOURCE
/* Resuming from a training checkpoint continues bit for bit: 20 steps in one
 * go equal 10 steps, save, load into a fresh model and optimizer, 10 steps.
 * Also: a damaged or mismatching checkpoint is refused and changes nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syre/syre.h"

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_optimizer *opt;
    sy_var x, y, loss;
} model;

static void build(model *m, int hidden)
{
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    int sizes[3] = {12, hidden, 4};
    m->x = sy_input(m->g, "x", sy_shape_of(2, 16, 12));
    m->y = sy_input(m->g, "y", sy_shape_of(1, 16));
    sy_var h = sy_dropout(m->g, sy_mlp(m->g, m->x, "mlp", sizes, 3, SY_ACT_RELU), 0.1f);
    m->loss = sy_softmax_ce(m->g, h, m->y);
    assert_int_equal(sy_graph_compile(m->g), SY_OK);
    assert_int_equal(sy_params_init(m->ps, 9), SY_OK);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAM);
    o.lr = 1e-2f;
    o.decay = sy_decay_syre(1e-2f, 0.1f);
    o.seed = 9;
    m->opt = sy_optimizer_new(m->ps, &o);
    assert_non_null(m->opt);
}

static void steps(model *m, int from, int to)
{
    for (int s = from; s < to; s++) {
        float *x = sy_graph_data(m->g, m->x), *y = sy_graph_data(m->g, m->y);
        for (int i = 0; i < 16 * 12; i++) x[i] = (float)((i * 13 + s * 7) % 17) / 17.0f - 0.5f;
        for (int i = 0; i < 16; i++) y[i] = (float)((i + s) % 4);
        assert_int_equal(sy_graph_forward(m->g), SY_OK);
        assert_int_equal(sy_graph_backward(m->g, m->loss), SY_OK);
        assert_int_equal(sy_optimizer_step(m->opt), SY_OK);
    }
}

static void drop(model *m)
{
    sy_optimizer_free(m->opt);
    sy_graph_free(m->g);
    sy_params_free(m->ps);
}

static void test_resume_is_bit_identical(void **state)
{
    char dir[] = "/tmp/syre-train-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);

    model a, b;
    build(&a, 10);
    steps(&a, 0, 10);
    sy_train_pos pos = {3, 10, (int64_t)sy_graph_step(a.g), 0};
    assert_int_equal(sy_train_save(path, a.ps, a.opt, &pos), SY_OK);
    steps(&a, 10, 20);

    build(&b, 10);
    sy_train_pos got;
    assert_int_equal(sy_train_load(path, b.ps, b.opt, &got), SY_OK);
    assert_int_equal(got.epoch, 3);
    assert_int_equal(got.batch, 10);
    sy_graph_set_step(b.g, (uint64_t)got.graph_step);
    steps(&b, 10, 20);
    assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), sy_params_total_size(a.ps) * sizeof(float));
    drop(&b);

    /* Another model's shapes: refused, naming the file; the store is untouched. */
    model c;
    build(&c, 11);
    float before = sy_params_data(c.ps)[0];
    assert_int_equal(sy_train_load(path, c.ps, c.opt, &got), SY_ERR_SHAPE);
    assert_non_null(strstr(sy_last_error(), "ckpt.safetensors"));
    assert_true(sy_params_data(c.ps)[0] == before);
    drop(&c);

    /* A truncated file is refused with the file's name. */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 100), 0);
    fclose(f);
    build(&c, 10);
    assert_int_not_equal(sy_train_load(path, c.ps, c.opt, &got), SY_OK);
    assert_non_null(strstr(sy_last_error(), "ckpt.safetensors"));
    assert_int_equal(sy_train_load("/nonexistent/x.safetensors", c.ps, c.opt, &got), SY_ERR_IO);
    drop(&c);
    drop(&a);
    unlink(path);
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_resume_is_bit_identical)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
