/* "Nothing is allocated in a training step": the library's calls to the
 * allocator are intercepted (linked with -Wl,--wrap, see CMakeLists.txt) and
 * counted over many forward/backward/update steps of an MLP and a CNN after
 * compile. OpenBLAS and OpenMP are shared libraries and are not counted: only
 * syre's own code is. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>

#include "syre/syre.h"

static int counting;
static long allocations;

void *__real_malloc(size_t n);
void *__real_calloc(size_t n, size_t s);
void *__real_realloc(void *p, size_t n);
void *__real_aligned_alloc(size_t a, size_t n);
void *__wrap_malloc(size_t n) { allocations += counting; return __real_malloc(n); }
void *__wrap_calloc(size_t n, size_t s) { allocations += counting; return __real_calloc(n, s); }
void *__wrap_realloc(void *p, size_t n) { allocations += counting; return __real_realloc(p, n); }
void *__wrap_aligned_alloc(size_t a, size_t n) { allocations += counting; return __real_aligned_alloc(a, n); }

static void train_steps(sy_graph *g, sy_params *ps, sy_var x, sy_var lab, sy_var loss, int steps)
{
    float *xd = sy_graph_data(g, x), *ld = sy_graph_data(g, lab);
    size_t nx = sy_shape_numel(sy_graph_shape(g, x)), nl = sy_shape_numel(sy_graph_shape(g, lab));
    for (int s = 0; s < steps; s++) {
        for (size_t i = 0; i < nx; i++) xd[i] = (float)((i * 7 + s) % 13) / 13.0f;
        for (size_t i = 0; i < nl; i++) ld[i] = (float)((i + s) % 10);
        assert_int_equal(sy_graph_forward(g), SY_OK);
        assert_int_equal(sy_graph_backward(g, loss), SY_OK);
        float *p = sy_params_data(ps), *gr = sy_params_grad(ps);
        for (size_t i = 0; i < sy_params_trainable_size(ps); i++) p[i] -= 0.01f * gr[i];
    }
}

static void test_no_allocation_after_compile(void **state)
{
    sy_set_threads(2);
    /* The interception itself works: creating a store allocates. */
    counting = 1;
    sy_params *ps = sy_params_new();
    counting = 0;
    assert_true(allocations > 0);
    allocations = 0;
    sy_graph *mlp = sy_graph_new(ps), *cnn = sy_graph_new(ps);
    int sizes[5] = {784, 300, 300, 300, 10};
    sy_var x1 = sy_input(mlp, "x", sy_shape_of(2, 64, 784)), l1 = sy_input(mlp, "y", sy_shape_of(1, 64));
    sy_var loss1 = sy_softmax_ce(mlp, sy_mlp(mlp, x1, "mlp", sizes, 5, SY_ACT_RELU), l1);
    sy_var x2 = sy_input(cnn, "x", sy_shape_of(4, 64, 1, 28, 28)), l2 = sy_input(cnn, "y", sy_shape_of(1, 64));
    sy_var h = sy_relu(cnn, sy_maxpool2d(cnn, sy_conv2d_layer(cnn, x2, "c1", 10, 5, 1, 0, 1), 2, 2));
    h = sy_relu(cnn, sy_maxpool2d(cnn, sy_conv2d_layer(cnn, h, "c2", 20, 5, 1, 0, 1), 2, 2));
    h = sy_dropout(cnn, sy_flatten(cnn, h), 0.2f);
    h = sy_linear(cnn, sy_relu(cnn, sy_linear(cnn, h, "fc1", 50)), "fc2", 10);
    sy_var loss2 = sy_softmax_ce(cnn, h, l2);
    assert_int_equal(sy_graph_compile(mlp), SY_OK);
    assert_int_equal(sy_graph_compile(cnn), SY_OK);
    assert_int_equal(sy_params_init(ps, 1), SY_OK);
    train_steps(mlp, ps, x1, l1, loss1, 2); /* warm-up: BLAS and OpenMP set up their pools */
    train_steps(cnn, ps, x2, l2, loss2, 2);
    counting = 1;
    train_steps(mlp, ps, x1, l1, loss1, 100);
    train_steps(cnn, ps, x2, l2, loss2, 30);
    counting = 0;
    assert_int_equal(allocations, 0);
    sy_graph_free(mlp);
    sy_graph_free(cnn);
    sy_params_free(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_no_allocation_after_compile)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
