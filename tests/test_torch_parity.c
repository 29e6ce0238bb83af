/* Golden end-to-end parity with PyTorch, llm.c style: the
 * same weights and the same batch go through syre and through torch modules,
 * and the softmax cross-entropy loss, every parameter gradient and the loss
 * curve of 20 plain SGD steps must agree to float32 tolerance.
 *
 * Two models: the 784-300-300-300-10 ReLU MLP and the CNN
 * conv(1->10,k5)-maxpool2-relu-conv(10->20,k5)-maxpool2-relu-flatten-
 * fc(320->50)-relu-fc(50->10), in PyTorch's layout and parameter order.
 *
 * Flow: this test initialises the syre parameters, writes them (name, shape,
 * values) and a batch of 64 random inputs and labels to a temp dir, runs
 * tests/torch_parity.py with /usr/bin/python3 (or $SYRE_PYTHON), which writes
 * back loss, gradients, curve and final parameters computed in float32 and in
 * float64; the float64 run is only reported, to show how far each float32
 * implementation is from exact. If torch cannot be imported the tests are
 * skipped with "SKIPPED: python3-torch not installed".
 *
 * Tolerances (float32, scaled to each tensor's gradient magnitude): every
 * element must satisfy |syre - torch| <= ATOL * max|torch tensor| +
 * RTOL * |torch element|; losses |syre - torch| <= RTOL * |torch|.
 *
 * Not here: the optimizer library (the SGD loop below is the plain
 * p -= lr * grad over the flat buffer), performance (bench/engine.c). */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syre/syre.h"

#define BATCH 64
#define STEPS 20
#define LR 0.05f
#define SEED 1234
#define RTOL 1e-4
#define ATOL 1e-5

enum { MODEL_MLP = 0, MODEL_CNN = 1 };

typedef struct {
    sy_graph *g;
    sy_params *ps;
    sy_var x, y, loss;
} model_t;

static void build(model_t *m, int model)
{
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    sy_graph *g = m->g;
    sy_var h;
    if (model == MODEL_MLP) {
        m->x = sy_input(g, "x", sy_shape_of(2, BATCH, 784));
        h = sy_relu(g, sy_linear(g, m->x, "fc1", 300));
        h = sy_relu(g, sy_linear(g, h, "fc2", 300));
        h = sy_relu(g, sy_linear(g, h, "fc3", 300));
        h = sy_linear(g, h, "fc4", 10);
    } else {
        m->x = sy_input(g, "x", sy_shape_of(4, BATCH, 1, 28, 28));
        h = sy_mnist_cnn(g, m->x, NULL);
    }
    m->y = sy_input(g, "y", sy_shape_of(1, BATCH));
    m->loss = sy_softmax_ce(g, h, m->y);
    sy_status st = sy_graph_compile(g);
    if (st != SY_OK) fail_msg("compile: %s", sy_last_error());
    assert_int_equal(sy_params_init(m->ps, SEED), SY_OK);
}

static void free_model(model_t *m)
{
    sy_graph_free(m->g);
    sy_params_free(m->ps);
}

/* ---- Python side --------------------------------------------------------- */

static const char *python(void)
{
    const char *p = getenv("SYRE_PYTHON");
    return p && *p ? p : "/usr/bin/python3";
}

static const char *script_path(void)
{
    static char buf[1024];
    const char *src = getenv("SYRE_SOURCE_DIR");
#ifdef SYRE_SOURCE_DIR
    if (!src || !*src) src = SYRE_SOURCE_DIR;
#endif
    if (!src || !*src) src = ".";
    snprintf(buf, sizeof buf, "%s/tests/torch_parity.py", src);
    return buf;
}

/* 1 if the interpreter imports torch; checked once. */
static int have_torch(void)
{
    static int state = -1;
    if (state < 0) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "%s -c 'import torch, numpy' >/dev/null 2>&1", python());
        state = system(cmd) == 0;
    }
    if (!state) printf("SKIPPED: python3-torch not installed (%s cannot import torch)\n", python());
    return state;
}

static void put_i32(FILE *f, int32_t v) { fwrite(&v, 4, 1, f); }

/* Write IN.bin as documented in tests/torch_parity.py. */
static void write_input(const char *path, int model, model_t *m, const float *x, size_t xn,
                        const int32_t *labels)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    fwrite("SYPARIN1", 1, 8, f);
    put_i32(f, model);
    put_i32(f, BATCH);
    put_i32(f, STEPS);
    float lr = LR;
    fwrite(&lr, 4, 1, f);
    sy_shape xs = sy_graph_shape(m->g, m->x);
    put_i32(f, xs.ndim);
    for (int i = 0; i < 4; i++) put_i32(f, xs.dim[i]);
    fwrite(x, 4, xn, f);
    fwrite(labels, 4, BATCH, f);
    int np = sy_params_count(m->ps);
    put_i32(f, np);
    for (int i = 0; i < np; i++) {
        const sy_param_info *pi = sy_params_info(m->ps, i);
        put_i32(f, (int32_t)strlen(pi->name));
        fwrite(pi->name, 1, strlen(pi->name), f);
        put_i32(f, pi->shape.ndim);
        for (int d = 0; d < 4; d++) put_i32(f, pi->shape.dim[d]);
        fwrite(sy_params_tensor(m->ps, i), 4, pi->numel, f);
    }
    assert_int_equal(fclose(f), 0);
}

/* One precision's results from OUT.bin. */
typedef struct {
    double loss;
    double *grad[16];
    double curve[STEPS + 1];
    double *final[16];
} ref_t;

static void read_doubles(FILE *f, double *dst, size_t n)
{
    assert_int_equal(fread(dst, sizeof(double), n, f), n);
}

static void read_ref(FILE *f, model_t *m, ref_t *r)
{
    int np = sy_params_count(m->ps);
    assert_true(np <= 16);
    read_doubles(f, &r->loss, 1);
    for (int i = 0; i < np; i++) {
        r->grad[i] = malloc(sizeof(double) * sy_params_info(m->ps, i)->numel);
        read_doubles(f, r->grad[i], sy_params_info(m->ps, i)->numel);
    }
    read_doubles(f, r->curve, STEPS + 1);
    for (int i = 0; i < np; i++) {
        r->final[i] = malloc(sizeof(double) * sy_params_info(m->ps, i)->numel);
        read_doubles(f, r->final[i], sy_params_info(m->ps, i)->numel);
    }
}

static void free_ref(model_t *m, ref_t *r)
{
    for (int i = 0; i < sy_params_count(m->ps); i++) {
        free(r->grad[i]);
        free(r->final[i]);
    }
}

/* ---- Comparison ------------------------------------------------------------ */

typedef struct {
    double max_abs;   /* max |a - ref| */
    double scaled;    /* max |a - ref| / max|ref|: the error relative to the tensor's scale */
    double worst;     /* max |a - ref| / (ATOL max|ref| + RTOL |ref|): <= 1 passes */
} cmp_t;

static cmp_t compare(const float *a, const double *ref, size_t n)
{
    double amax = 0;
    for (size_t i = 0; i < n; i++) amax = fmax(amax, fabs(ref[i]));
    cmp_t c = {0, 0, 0};
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - ref[i]), tol = ATOL * amax + RTOL * fabs(ref[i]);
        c.max_abs = fmax(c.max_abs, d);
        c.worst = fmax(c.worst, tol > 0 ? d / tol : (d > 0 ? INFINITY : 0));
    }
    c.scaled = amax > 0 ? c.max_abs / amax : c.max_abs;
    return c;
}

/* The same for torch float32 against float64 (how exact torch itself is). */
static double scaled_err_d(const double *a, const double *ref, size_t n)
{
    double amax = 0, d = 0;
    for (size_t i = 0; i < n; i++) {
        amax = fmax(amax, fabs(ref[i]));
        d = fmax(d, fabs(a[i] - ref[i]));
    }
    return amax > 0 ? d / amax : d;
}

static void run_parity(int model)
{
    const char *mname = model == MODEL_MLP ? "mlp" : "cnn";
    if (!have_torch()) skip();
    sy_set_threads(1);

    model_t m;
    build(&m, model);
    int np = sy_params_count(m.ps);

    /* The batch: MNIST-like inputs in [0, 1), labels in [0, 10). */
    size_t xn = sy_shape_numel(sy_graph_shape(m.g, m.x));
    float *x = malloc(sizeof(float) * xn);
    int32_t labels[BATCH];
    sy_rng r = sy_rng_make(SEED, SY_STREAM_USER, (uint64_t)model);
    for (size_t i = 0; i < xn; i++) x[i] = sy_rng_uniform(&r);
    for (int i = 0; i < BATCH; i++) labels[i] = (int32_t)sy_rng_below(&r, 10);

    char dir[] = "/tmp/syre_parity_XXXXXX", in[256], out[256], cmd[2048];
    assert_non_null(mkdtemp(dir));
    snprintf(in, sizeof in, "%s/in.bin", dir);
    snprintf(out, sizeof out, "%s/out.bin", dir);
    write_input(in, model, &m, x, xn, labels);
    snprintf(cmd, sizeof cmd, "%s '%s' '%s' '%s'", python(), script_path(), in, out);
    int rc = system(cmd);
    if (!(WIFEXITED(rc) && WEXITSTATUS(rc) == 0)) fail_msg("%s failed (status %d)", cmd, rc);

    FILE *f = fopen(out, "rb");
    assert_non_null(f);
    char magic[8];
    assert_int_equal(fread(magic, 1, 8, f), 8);
    assert_memory_equal(magic, "SYPAROUT", 8);
    ref_t t32, t64;
    read_ref(f, &m, &t32);
    read_ref(f, &m, &t64);
    fclose(f);
    unlink(in);
    unlink(out);
    rmdir(dir);

    /* Loss and gradients at the initial parameters. */
    assert_int_equal(sy_graph_feed(m.g, m.x, x, xn), SY_OK);
    float *yl = sy_graph_data(m.g, m.y);
    for (int i = 0; i < BATCH; i++) yl[i] = (float)labels[i];
    assert_int_equal(sy_graph_forward(m.g), SY_OK);
    assert_int_equal(sy_graph_backward(m.g, m.loss), SY_OK);
    double loss = sy_graph_scalar(m.g, m.loss);
    printf("[%s] loss syre %.8f torch32 %.8f torch64 %.8f  |syre-torch32| %.2e  |syre-torch64| %.2e\n", mname,
           loss, t32.loss, t64.loss, fabs(loss - t32.loss), fabs(loss - t64.loss));
    assert_true(fabs(loss - t32.loss) <= RTOL * fabs(t32.loss));

    printf("[%s] gradients: max|diff| and max|diff|/max|g| per tensor (tolerance: |d| <= %.0e max|g| + %.0e |g|)\n",
           mname, ATOL, RTOL);
    printf("  %-14s %-16s %11s %11s %11s %11s %12s\n", "tensor", "shape", "max|g|", "abs(s-t32)", "scl(s-t32)",
           "scl(s-t64)", "scl(t32-t64)");
    double worst = 0;
    for (int i = 0; i < np; i++) {
        const sy_param_info *pi = sy_params_info(m.ps, i);
        const float *gs = sy_params_tensor_grad(m.ps, i);
        cmp_t c = compare(gs, t32.grad[i], pi->numel), c64 = compare(gs, t64.grad[i], pi->numel);
        double gmax = 0;
        for (size_t k = 0; k < pi->numel; k++) gmax = fmax(gmax, fabs(t32.grad[i][k]));
        char sb[64];
        printf("  %-14s %-16s %11.3e %11.3e %11.3e %11.3e %11.3e\n", pi->name, sy_shape_str(pi->shape, sb), gmax,
               c.max_abs, c.scaled, c64.scaled, scaled_err_d(t32.grad[i], t64.grad[i], pi->numel));
        worst = fmax(worst, c.worst);
    }
    printf("[%s] worst gradient error / tolerance = %.3f (pass <= 1)\n", mname, worst);
    assert_true(worst <= 1.0);

    /* 20 plain SGD steps on the flat buffer: p -= lr * grad. */
    float *p = sy_params_data(m.ps), *gr = sy_params_grad(m.ps);
    size_t n = sy_params_trainable_size(m.ps);
    double curve[STEPS + 1];
    for (int s = 0; s <= STEPS; s++) {
        assert_int_equal(sy_graph_forward(m.g), SY_OK);
        curve[s] = sy_graph_scalar(m.g, m.loss);
        if (s == STEPS) break;
        assert_int_equal(sy_graph_backward(m.g, m.loss), SY_OK);
        for (size_t k = 0; k < n; k++) p[k] -= LR * gr[k];
    }
    double curve_worst = 0;
    printf("[%s] SGD loss curve (lr %g): step, syre, torch32, rel diff, torch64\n", mname, LR);
    for (int s = 0; s <= STEPS; s++) {
        double rel = fabs(curve[s] - t32.curve[s]) / fabs(t32.curve[s]);
        curve_worst = fmax(curve_worst, rel);
        if (s % 5 == 0 || s == STEPS)
            printf("  %2d %.8f %.8f %.2e %.8f\n", s, curve[s], t32.curve[s], rel, t64.curve[s]);
    }
    printf("[%s] loss curve max rel diff %.3e (tolerance %.0e)\n", mname, curve_worst, RTOL);
    assert_true(curve_worst <= RTOL);
    assert_true(t32.curve[STEPS] < t32.curve[0]); /* the steps do train */

    /* Parameters after the steps, same element tolerance as the gradients. */
    double pworst = 0, pscaled = 0;
    for (int i = 0; i < np; i++) {
        cmp_t c = compare(sy_params_tensor(m.ps, i), t32.final[i], sy_params_info(m.ps, i)->numel);
        pworst = fmax(pworst, c.worst);
        pscaled = fmax(pscaled, c.scaled);
    }
    printf("[%s] parameters after %d steps: max scaled diff %.3e, worst error / tolerance %.3f\n", mname, STEPS,
           pscaled, pworst);
    assert_true(pworst <= 1.0);

    free_ref(&m, &t32);
    free_ref(&m, &t64);
    free(x);
    free_model(&m);
}

static void test_mlp(void **state) { run_parity(MODEL_MLP); }
static void test_cnn(void **state) { run_parity(MODEL_CNN); }

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_mlp),
        cmocka_unit_test(test_cnn),
    };
    if (!have_torch()) return 77; /* CTest's SKIP_RETURN_CODE: reported as skipped */
    return cmocka_run_group_tests(tests, NULL, NULL);
}
