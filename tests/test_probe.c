/* Tests of the pieces SimCLR and its reading are built from: features from
 * an evaluation graph (sy_graph_features), their scaling and the linear
 * probe (syre/probe.h), the low-rankness measures, the projection head, the
 * NT-Xent loss, the model and its two-view batches, sy_fit_prefetch against
 * sy_fit, and the figures sy_plot_image_pairs and sy_plot_methods_new. */
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
#include <sys/stat.h>
#include <unistd.h>

#include "syre/fit_prefetch.h"
#include "syre/probe.h"
#include "syre/syre.h"

static void test_probe_scale(void **state)
{
    (void)state;
    /* mean (1, 1); total variance (1 + 1 + 1 + 1) / 2 = 2, over F = 2: sd 1 */
    float tr[4] = {0, 0, 2, 2}, te[2] = {1, 3};
    assert_int_equal(sy_probe_scale(tr, 2, te, 1, 2), SY_OK);
    const float want_tr[4] = {-1, -1, 1, 1}, want_te[2] = {0, 2};
    assert_memory_equal(tr, want_tr, sizeof tr);
    assert_memory_equal(te, want_te, sizeof te);
    /* one scalar for all features: a small direction stays small */
    float a[4] = {0, 0, 4, 0.04f};
    assert_int_equal(sy_probe_scale(a, 2, NULL, 0, 2), SY_OK);
    assert_true(fabsf(a[3] / a[2] - 0.01f) < 1e-6f);
}

static void test_linear_probe_separable(void **state)
{
    (void)state;
    /* class = which of the two features is larger */
    enum { N = 64 };
    float F[N * 2];
    int y[N];
    sy_rng r = sy_rng_make(3, SY_STREAM_USER, 0);
    for (int i = 0; i < N; i++) {
        F[2 * i] = sy_rng_uniform(&r) * 2 - 1;
        F[2 * i + 1] = sy_rng_uniform(&r) * 2 - 1;
        y[i] = F[2 * i + 1] > F[2 * i];
    }
    double te = -1, tr = -1;
    assert_int_equal(sy_linear_probe(F, y, 48, F + 96, y + 48, 16, 2, 2, 200, 0.05, 1, &te, &tr), SY_OK);
    assert_true(tr >= 0.95);
    assert_true(te >= 0.9);
    /* labels that ignore the features: chance on a balanced split */
    int z[N];
    for (int i = 0; i < N; i++) z[i] = i % 2;
    assert_int_equal(sy_linear_probe(F, z, 48, F + 96, z + 48, 16, 2, 2, 5, 0.05, 1, &te, NULL), SY_OK);
    assert_true(te < 0.9);
    assert_int_equal(sy_linear_probe(F, y, 48, F, y, 16, 2, 0, 5, 0.05, 1, &te, NULL), SY_ERR_ARG);
}

static sy_status add_one(void *ctx, float *x, size_t k)
{
    (void)ctx;
    for (size_t i = 0; i < k * 2; i++) x[i] += 1;
    return SY_OK;
}

static void test_graph_features(void **state)
{
    (void)state;
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(2, 3, 2));
    sy_var y = sy_scale(g, x, 2.0f), s = sy_sum(g, x);
    (void)s;
    assert_int_equal(sy_graph_compile(g), SY_OK);
    float in[5 * 2], out[5 * 2 + 1];
    for (int i = 0; i < 10; i++) in[i] = (float)i;
    out[10] = -7; /* not written past n rows */
    sy_var outs[1] = {y};
    float *dst[1] = {out};
    assert_int_equal(sy_graph_features(g, x, in, 5, 2, add_one, NULL, 1, outs, dst), SY_OK);
    for (int i = 0; i < 10; i++) assert_true(out[i] == 2.0f * (float)(i + 1));
    assert_true(out[10] == -7);
    /* the padded rows of the last chunk are zero */
    const float *gx = sy_graph_data(g, x);
    assert_true(gx[4] == 0 && gx[5] == 0);
    sy_graph_free(g);
    sy_params_free(ps);
}

/* sy_probe_outputs is features, the raw copy, scaling and probes in order. */
static void test_probe_outputs(void **state)
{
    (void)state;
    sy_dataset *tr = NULL, *te = NULL;
    assert_int_equal(sy_dataset_new(40, sy_shape_of(1, 2), 2, 0, "tr", &tr), SY_OK);
    assert_int_equal(sy_dataset_new(20, sy_shape_of(1, 2), 2, 0, "te", &te), SY_OK);
    sy_rng r = sy_rng_make(5, SY_STREAM_USER, 0);
    for (int i = 0; i < 80; i++) tr->x[i] = sy_rng_uniform(&r) - 0.5f;
    for (int i = 0; i < 40; i++) te->x[i] = sy_rng_uniform(&r) - 0.5f;
    for (int i = 0; i < 40; i++) tr->y[i] = tr->x[2 * i] > tr->x[2 * i + 1];
    for (int i = 0; i < 20; i++) te->y[i] = te->x[2 * i] > te->x[2 * i + 1];
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(2, 8, 2));
    sy_var outs[2] = {sy_scale(g, x, 3.0f), sy_square(g, x)};
    assert_int_equal(sy_graph_compile(g), SY_OK);
    sy_probe_opts o = {add_one, NULL, 30, 0.05, 2};
    float raw0[5 * 2], raw1[5 * 2];
    float *raw[2] = {raw0, raw1};
    double acc[2], acct[2];
    assert_int_equal(sy_probe_outputs(g, x, 2, outs, tr, te, &o, 5, raw, acc, acct), SY_OK);
    /* by hand */
    float Ftr[2][80], Fte[2][40];
    float *dtr[2] = {Ftr[0], Ftr[1]}, *dte[2] = {Fte[0], Fte[1]};
    assert_int_equal(sy_graph_features(g, x, tr->x, 40, 2, add_one, NULL, 2, outs, dtr), SY_OK);
    assert_int_equal(sy_graph_features(g, x, te->x, 20, 2, add_one, NULL, 2, outs, dte), SY_OK);
    assert_memory_equal(raw0, Fte[0], sizeof raw0);
    assert_memory_equal(raw1, Fte[1], sizeof raw1);
    for (int j = 0; j < 2; j++) {
        double a, at;
        assert_int_equal(sy_probe_scale(Ftr[j], 40, Fte[j], 20, 2), SY_OK);
        assert_int_equal(sy_linear_probe(Ftr[j], tr->y, 40, Fte[j], te->y, 20, 2, 2, 30, 0.05, 2, &a, &at), SY_OK);
        assert_true(a == acc[j] && at == acct[j]);
    }
    assert_true(acc[0] >= 0.8); /* a linear map of the inputs: separable */
    assert_int_equal(sy_probe_outputs(g, x, 2, outs, tr, te, &o, 21, raw, acc, NULL), SY_ERR_ARG);
    sy_graph_free(g);
    sy_params_free(ps);
    sy_dataset_free(tr);
    sy_dataset_free(te);
}

static void test_low_rankness_measures(void **state)
{
    (void)state;
    /* feature 2 = 2 x feature 1 + const: eigenvalues 6.25 and 0 */
    const float X[4 * 2] = {1, 5, 2, 7, 3, 9, 4, 11};
    sy_low_rankness r;
    double eig[2], er;
    assert_int_equal(sy_low_rankness_measures(X, 4, 2, SY_LOW_RANKNESS_THR, &r, eig), SY_OK);
    assert_true(fabs(r.eig_max - 6.25) < 1e-12 && fabs(r.eig_min) < 1e-12 && eig[0] == r.eig_max);
    assert_true(r.share == 0.5 && r.share_rel == 0.5);
    assert_int_equal(sy_effective_rank(X, 4, 2, &er), SY_OK);
    assert_true(r.erank == er);
    /* scaled down by 1e-4: the absolute share sees both as small, the relative one does not */
    float Y[8];
    for (int i = 0; i < 8; i++) Y[i] = X[i] * 1e-4f;
    assert_int_equal(sy_low_rankness_measures(Y, 4, 2, SY_LOW_RANKNESS_THR, &r, NULL), SY_OK);
    assert_true(r.share == 1.0 && r.share_rel == 0.5);
}

static void test_head_and_nt_xent(void **state)
{
    (void)state;
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var h = sy_input(g, "h", sy_shape_of(2, 4, 3));
    sy_var z = sy_projection_head(g, h, "head", 5, 2);
    assert_int_equal(sy_graph_shape(g, z).dim[1], 2);
    assert_int_equal(sy_params_info(ps, sy_params_find(ps, "head.0.weight"))->shape.dim[0], 5);
    assert_int_equal(sy_params_info(ps, sy_params_find(ps, "head.2.weight"))->shape.dim[1], 5);
    /* NT-Xent on fed z: rows e1, e2, e1, e2 (B = 2), tau = 0.5: every row's
     * partner has similarity 2, the two others 0, itself masked out */
    sy_var zi = sy_input(g, "z", sy_shape_of(2, 4, 2)), mask = sy_input(g, "mask", sy_shape_of(2, 4, 4));
    sy_var partner = sy_input(g, "partner", sy_shape_of(1, 4));
    sy_var loss = sy_nt_xent(g, zi, mask, partner, 0.5);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    float *m = sy_graph_data(g, mask), *p = sy_graph_data(g, partner);
    sy_nt_xent_fill(m, p, 2);
    assert_true(m[0] == -1e4f && m[1] == 0 && m[5] == -1e4f && p[0] == 2 && p[1] == 3 && p[2] == 0 && p[3] == 1);
    const float zv[8] = {1, 0, 0, 1, 1, 0, 0, 1};
    memcpy(sy_graph_data(g, zi), zv, sizeof zv);
    assert_int_equal(sy_graph_forward(g), SY_OK);
    assert_true(fabs(sy_graph_scalar(g, loss) - log(1 + 2 * exp(-2.0))) < 1e-5);
    sy_graph_free(g);
    sy_params_free(ps);
}

static void test_simclr_model(void **state)
{
    (void)state;
    sy_simclr m;
    assert_int_equal(sy_simclr_new(&m, 1, 2, 2, 3, 0.5), SY_OK);
    assert_int_equal(m.hidden, 8);
    assert_true(sy_params_find(m.ps, "encoder.conv1.weight") >= 0);
    assert_int_equal(sy_params_info(m.ps, sy_params_find(m.ps, "head.0.weight"))->shape.dim[0], 8);
    assert_int_equal(sy_params_info(m.ps, sy_params_find(m.ps, "head.2.weight"))->shape.dim[0], 2);
    assert_int_equal(sy_graph_shape(m.train, m.x).dim[0], 4); /* two views of 2 */
    assert_int_equal(sy_graph_shape(m.feat, m.z).dim[1], 2);
    assert_int_equal(sy_graph_shape(m.feat, m.h).dim[1], 8);
    const float *p = sy_graph_data(m.train, m.partner);
    assert_true(p[0] == 2 && p[3] == 1 && sy_graph_data(m.train, m.mask)[5] == -1e4f);
    assert_int_equal(sy_params_init(m.ps, 1), SY_OK);
    sy_rng r = sy_rng_make(1, SY_STREAM_USER, 0);
    float *x = sy_graph_data(m.train, m.x);
    for (int i = 0; i < 4 * 3 * 32 * 32; i++) x[i] = sy_rng_uniform(&r);
    assert_int_equal(sy_graph_forward(m.train), SY_OK);
    /* NT-Xent over 4 rows lies between 0 and a bit above log(3) for unit vectors at tau 0.5 */
    double loss = sy_graph_scalar(m.train, m.loss);
    assert_true(loss > 0 && loss < log(3.0) + 4);
    /* the feature graph runs in evaluation mode (batch norm on running
     * statistics): a sample's features do not depend on the others' */
    float *fx = sy_graph_data(m.feat, m.fx);
    memcpy(fx, x, sizeof(float) * 3 * 3 * 32 * 32);
    assert_int_equal(sy_graph_forward(m.feat), SY_OK);
    float z1[2];
    memcpy(z1, sy_graph_data(m.feat, m.z), sizeof z1);
    for (int i = 3 * 32 * 32; i < 3 * 3 * 32 * 32; i++) fx[i] = 1 - fx[i];
    assert_int_equal(sy_graph_forward(m.feat), SY_OK);
    assert_memory_equal(z1, sy_graph_data(m.feat, m.z), sizeof z1);
    sy_simclr_free(&m);
}

static void test_simclr_views(void **state)
{
    (void)state;
    sy_dataset *d = NULL;
    assert_int_equal(sy_dataset_new(6, sy_shape_of(3, 3, 8, 8), 2, 0, "img", &d), SY_OK);
    sy_rng r = sy_rng_make(2, SY_STREAM_USER, 0);
    for (size_t i = 0; i < 6 * 192; i++) d->x[i] = sy_rng_uniform(&r);
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = 2, bo.drop_last = 1, bo.seed = 4;
    sy_batcher *b1 = NULL, *b2 = NULL;
    assert_int_equal(sy_batcher_new(d, bo, &b1), SY_OK);
    assert_int_equal(sy_batcher_new(d, bo, &b2), SY_OK);
    const float mean[3] = {0.5f, 0.4f, 0.3f}, sd[3] = {0.2f, 0.25f, 0.3f};
    float x[2 * 192], y[2], out[4 * 192], want[4 * 192], yw[2];
    sy_simclr_views v = {b1, 2, d->sample, mean, sd, sy_rng_make(1, SY_STREAM_AUGMENT, 0), x, y};
    sy_rng a = v.aug;
    float *in[1] = {out};
    for (int k = 0; k < 3; k++) {
        size_t n = 0;
        assert_int_equal(sy_simclr_views_fill(&v, in, &n), SY_OK);
        assert_int_equal(n, 2);
        /* by hand: the batch, its first views, its second views, normalised */
        assert_int_equal(sy_batcher_next(b2, x, yw), 2);
        sy_augment_simclr(x, want, 2, d->sample, &a);
        sy_augment_simclr(x, want + 2 * 192, 2, d->sample, &a);
        assert_int_equal(sy_data_normalize(want, 4, d->sample, mean, sd), SY_OK);
        assert_memory_equal(out, want, sizeof out);
    }
    size_t n = 7;
    assert_int_equal(sy_simclr_views_fill(&v, in, &n), SY_OK);
    assert_int_equal(n, 7); /* the epoch's end: untouched */
    sy_batcher_free(b1);
    sy_batcher_free(b2);
    sy_dataset_free(d);
}

/* sy_fit_prefetch against sy_fit: the same model and batches, fed by a fill
 * that takes them from the batcher, trains to the same bits. */
typedef struct {
    sy_batcher *b;
    double losses[3];
} pf_ctx;

static sy_status pf_fill(void *ctx, float *const *in, size_t *count)
{
    *count = sy_batcher_next(((pf_ctx *)ctx)->b, in[0], in[1]);
    return SY_OK;
}

static sy_status pf_epoch(void *ctx, long e, double loss)
{
    ((pf_ctx *)ctx)->losses[e - 1] = loss;
    return SY_OK;
}

static void fit_classifier(int prefetch, float *params, double *losses)
{
    sy_dataset *d = NULL;
    assert_int_equal(sy_dataset_new(40, sy_shape_of(1, 3), 2, 0, "toy", &d), SY_OK);
    sy_rng r = sy_rng_make(1, SY_STREAM_USER, 0);
    for (int i = 0; i < 120; i++) d->x[i] = sy_rng_uniform(&r);
    for (int i = 0; i < 40; i++) d->y[i] = d->x[3 * i] > 0.5f;
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(2, 8, 3)), y = sy_input(g, "y", sy_shape_of(1, 8));
    sy_var loss = sy_softmax_ce(g, sy_linear(g, x, "fc", 2), y);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    assert_int_equal(sy_params_init(ps, 2), SY_OK);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.lr = 0.5f;
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = 8, bo.drop_last = 1, bo.seed = 3;
    pf_ctx c = {0};
    assert_int_equal(sy_batcher_new(d, bo, &c.b), SY_OK);
    sy_fit_opts fo = sy_fit_defaults();
    fo.graph = g, fo.loss = loss, fo.params = ps, fo.opt = opt, fo.batcher = c.b, fo.x = x, fo.y = y;
    fo.epochs = 3, fo.ctx = &c, fo.on_epoch = pf_epoch;
    assert_int_equal(prefetch ? sy_fit_prefetch(&fo, pf_fill, &c, NULL) : sy_fit(&fo, NULL), SY_OK);
    assert_true(sy_params_trainable_size(ps) <= 64);
    memcpy(params, sy_params_data(ps), sizeof(float) * sy_params_trainable_size(ps));
    memcpy(losses, c.losses, sizeof c.losses);
    sy_batcher_free(c.b);
    sy_optimizer_free(opt);
    sy_graph_free(g);
    sy_params_free(ps);
    sy_dataset_free(d);
}

static void test_fit_prefetch_is_sy_fit(void **state)
{
    (void)state;
    float p1[64] = {0}, p2[64] = {0};
    double l1[3], l2[3];
    fit_classifier(0, p1, l1);
    fit_classifier(1, p2, l2);
    assert_memory_equal(p1, p2, sizeof p1);
    assert_memory_equal(l1, l2, sizeof l1);
    assert_true(l1[2] < l1[0]);
}

static void test_plot_pairs_and_methods(void **state)
{
    (void)state;
    char dir[] = "/tmp/syre-test-probe-XXXXXX", base[128], png[160];
    assert_non_null(mkdtemp(dir));
    float a[4 * 9], b[4 * 9];
    for (int i = 0; i < 36; i++) a[i] = (float)i / 36, b[i] = 1 - a[i];
    snprintf(base, sizeof base, "%s/pairs", dir);
    assert_int_equal(sy_plot_image_pairs(base, "pairs", a, b, 4, 3, 3, 2, "in", "out", 0, 1), SY_OK);
    snprintf(png, sizeof png, "%s.png", base);
    struct stat st;
    assert_true(stat(png, &st) == 0 && st.st_size > 100);
    assert_int_equal(sy_plot_image_pairs(base, "pairs", a, b, 3, 3, 3, 2, "in", "out", 0, 1), SY_ERR_ARG);
    const double x[3] = {1, 2, 3}, y0[3] = {1, 4, 9}, y1[3] = {2, 3, 4};
    const double *ys[2] = {y0, y1};
    const char *labels[2] = {"a", "b"};
    sy_plot *p = sy_plot_methods_new("t", "x", "y", x, 3, 2, labels, ys, SY_PLOT_LINE);
    assert_non_null(p);
    sy_plot_yrange(p, 0, 10);
    snprintf(base, sizeof base, "%s/methods", dir);
    assert_int_equal(sy_plot_save(p, base), SY_OK);
    sy_plot_free(p);
    snprintf(png, sizeof png, "%s.png", base);
    assert_true(stat(png, &st) == 0 && st.st_size > 100);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_probe_scale),
        cmocka_unit_test(test_linear_probe_separable),
        cmocka_unit_test(test_graph_features),
        cmocka_unit_test(test_probe_outputs),
        cmocka_unit_test(test_low_rankness_measures),
        cmocka_unit_test(test_head_and_nt_xent),
        cmocka_unit_test(test_simclr_model),
        cmocka_unit_test(test_simclr_views),
        cmocka_unit_test(test_fit_prefetch_is_sy_fit),
        cmocka_unit_test(test_plot_pairs_and_methods),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
