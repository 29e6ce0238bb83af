/* Tests of the VAE in the library (syre/vae.h) and of sy_active_units: the
 * builders' parameters, the evaluation against the graph's own losses and
 * the metrics on its mu, prior samples, the anchor's rank with the store
 * restored, and sy_vae_fit against sy_fit with the noise fed by hand. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"
#include "syre/vae.h"

static const sy_vae_opts small = {.in = 6, .hidden = 5, .latent = 3, .eta_enc = 0.01, .eta_dec = 1, .beta = 2};

static float *data(size_t n, size_t d, uint64_t seed)
{
    float *x = malloc(sizeof(float) * n * d);
    assert_non_null(x);
    sy_rng r = sy_rng_make(seed, SY_STREAM_USER, 0);
    for (size_t i = 0; i < n * d; i++) x[i] = sy_rng_uniform(&r);
    return x;
}

static void test_active_units(void **state)
{
    (void)state;
    /* columns: constant (variance 0), 0/2 (variance 1), 0/0.2 (variance 0.01) */
    const float X[4 * 3] = {1, 0, 0, 1, 2, 0.2f, 1, 0, 0, 1, 2, 0.2f};
    int count = -1;
    double vmax = -1;
    assert_int_equal(sy_active_units(X, 4, 3, 0.005, &count, &vmax), SY_OK);
    assert_int_equal(count, 2);
    assert_true(fabs(vmax - 1.0) < 1e-12);
    assert_int_equal(sy_active_units(X, 4, 3, 1.0, &count, NULL), SY_OK); /* strictly above */
    assert_int_equal(count, 0);
    const float bad[2] = {1, NAN};
    assert_int_equal(sy_active_units(bad, 2, 1, 0.1, &count, NULL), SY_ERR_NUMERIC);
    assert_int_equal(sy_active_units(X, 0, 3, 0.1, &count, NULL), SY_ERR_ARG);
}

static void test_build_names_and_logvar(void **state)
{
    (void)state;
    sy_params *ps = sy_params_new();
    sy_vae v;
    assert_int_equal(sy_vae_build(&v, ps, 4, &small), SY_OK);
    const char *names[] = {"enc.0.weight", "enc.mu.weight", "dec.0.weight", "dec.1.weight", "dec.1.bias"};
    for (int i = 0; i < 5; i++) assert_true(sy_params_find(ps, names[i]) >= 0);
    assert_true(sy_params_find(ps, "enc.logvar.weight") < 0);
    assert_int_equal(sy_params_info(ps, sy_params_find(ps, "dec.1.weight"))->shape.dim[0], 6);
    const float *lv = sy_graph_data(v.g, v.lv_const);
    for (int i = 0; i < 4 * 3; i++) assert_true(fabsf(lv[i] - logf(0.01f)) < 1e-6f);
    sy_vae_free(&v);
    sy_params_free(ps);

    sy_vae_opts lo = small;
    lo.learned_var = 1;
    ps = sy_params_new();
    assert_int_equal(sy_vae_build(&v, ps, 4, &lo), SY_OK);
    assert_true(sy_params_find(ps, "enc.logvar.weight") >= 0);
    sy_vae_free(&v);
    sy_params_free(ps);

    sy_vae_opts g = small;
    g.gaussian = 1;
    assert_true(fabsf(sy_vae_pixel(&small, 0.0f) - 0.5f) < 1e-7f);
    assert_true(sy_vae_pixel(&g, 1.5f) == 1.0f && sy_vae_pixel(&g, -1.0f) == 0.0f && sy_vae_pixel(&g, 0.25f) == 0.25f);
}

static void test_evaluate_matches_graph(void **state)
{
    (void)state;
    sy_vae_model m;
    assert_int_equal(sy_vae_model_new(&m, &small, 4, 8, 5, 3), SY_OK);
    float *x = data(16, 6, 1);
    sy_vae_eval r, r2;
    float recon[2 * 6];
    assert_int_equal(sy_vae_evaluate(&m.eval, x, 16, 7, 1e-6, &r, recon, 2), SY_OK);
    /* by hand: chunk k with the noise of sub-stream 2^40 + k */
    double rec = 0, kl = 0;
    float mu0[8 * 3];
    for (int k = 0; k < 2; k++) {
        memcpy(sy_graph_data(m.eval.g, m.eval.x), x + k * 8 * 6, sizeof(float) * 8 * 6);
        sy_rng nr = sy_rng_make(7, SY_STREAM_NOISE, (1ULL << 40) + k);
        sy_rng_normal_fill(&nr, sy_graph_data(m.eval.g, m.eval.eps), 8 * 3);
        assert_int_equal(sy_graph_forward(m.eval.g), SY_OK);
        rec += sy_graph_scalar(m.eval.g, m.eval.rec) / 2.0;
        kl += sy_graph_scalar(m.eval.g, m.eval.kl) / 2.0;
        if (k == 0) {
            memcpy(mu0, sy_graph_data(m.eval.g, m.eval.mu), sizeof mu0);
            const float *o = sy_graph_data(m.eval.g, m.eval.logits);
            for (int i = 0; i < 12; i++) assert_true(recon[i] == 1.0f / (1.0f + expf(-o[i])));
        }
    }
    assert_true(r.rec == rec && r.kl == kl && r.loss == rec + 2 * kl);
    int rank, active;
    double vmax;
    assert_int_equal(sy_cov_rank(mu0, 8, 3, 1e-6, &rank), SY_OK);
    assert_int_equal(sy_active_units(mu0, 8, 3, 0.01, &active, &vmax), SY_OK);
    assert_int_equal(r.rank, rank);
    assert_int_equal(r.active, active);
    assert_true(r.mu_var_max == vmax);
    /* the same noise every call */
    assert_int_equal(sy_vae_evaluate(&m.eval, x, 16, 7, 1e-6, &r2, NULL, 0), SY_OK);
    assert_true(r2.rec == r.rec && r2.kl == r.kl);
    assert_int_equal(sy_vae_evaluate(&m.eval, x, 12, 7, 1e-6, &r2, NULL, 0), SY_ERR_ARG);

    /* prior samples: the decoder on z ~ N(0, I), as pixels */
    float pix[5 * 6], want[5 * 6];
    sy_rng a = sy_rng_make(9, SY_STREAM_NOISE, 1), b = a;
    assert_int_equal(sy_vae_sample(&m.dec, &a, pix), SY_OK);
    sy_rng_normal_fill(&b, sy_graph_data(m.dec.g, m.dec.z), 5 * 3);
    assert_int_equal(sy_graph_forward(m.dec.g), SY_OK);
    for (int i = 0; i < 30; i++) want[i] = sy_vae_pixel(&small, sy_graph_data(m.dec.g, m.dec.logits)[i]);
    assert_memory_equal(pix, want, sizeof pix);
    free(x);
    sy_vae_model_free(&m);
}

static void test_anchor_rank_restores(void **state)
{
    (void)state;
    sy_vae_model m;
    assert_int_equal(sy_vae_model_new(&m, &small, 4, 8, 5, 3), SY_OK);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAM);
    o.decay = sy_decay_none();
    assert_int_equal(sy_optim_add_rule(&o, "enc.*", sy_decay_syre(1.0f, 1.0f)), SY_OK);
    sy_optimizer *opt = sy_optimizer_new(m.ps, &o);
    assert_non_null(opt);
    float *x = data(8, 6, 2);
    size_t n = sy_params_trainable_size(m.ps);
    float *before = malloc(n * sizeof(float));
    memcpy(before, sy_params_data(m.ps), n * sizeof(float));
    int rank = -1;
    assert_int_equal(sy_vae_anchor_rank(&m.eval, m.ps, opt, x, 8, 1, 1e-6, &rank), SY_OK);
    assert_memory_equal(before, sy_params_data(m.ps), n * sizeof(float));
    /* the same rank with the encoder set to the anchor by hand */
    float *a = malloc(n * sizeof(float)), *p = sy_params_data(m.ps);
    assert_int_equal(sy_optimizer_anchor(opt, a), SY_OK);
    for (int t = 0; t < sy_params_count(m.ps); t++) {
        const sy_param_info *pi = sy_params_info(m.ps, t);
        if (!strncmp(pi->name, "enc.", 4)) memcpy(p + pi->offset, a + pi->offset, pi->numel * sizeof(float));
    }
    sy_vae_eval r;
    assert_int_equal(sy_vae_evaluate(&m.eval, x, 8, 1, 1e-6, &r, NULL, 0), SY_OK);
    assert_int_equal(rank, r.rank);
    free(a);
    free(before);
    free(x);
    sy_optimizer_free(opt);
    sy_vae_model_free(&m);
}

/* The loop sy_vae_fit replaces: sy_fit with the noise filled in on_batch. */
typedef struct {
    sy_vae *t;
    sy_rng r;
    double losses[4];
} hand;

static sy_status hand_epoch_start(void *ctx, long e)
{
    ((hand *)ctx)->r = sy_rng_make(5, SY_STREAM_NOISE, (uint64_t)e);
    return SY_OK;
}

static sy_status hand_batch(void *ctx, size_t n)
{
    hand *h = ctx;
    sy_rng_normal_fill(&h->r, sy_graph_data(h->t->g, h->t->eps), n * 3);
    return SY_OK;
}

static sy_status hand_epoch(void *ctx, long e, double loss)
{
    ((hand *)ctx)->losses[e - 1] = loss;
    return SY_OK;
}

static void fit_once(int by_hand, float *params, double *losses)
{
    sy_vae_model m;
    assert_int_equal(sy_vae_model_new(&m, &small, 4, 8, 5, 3), SY_OK);
    sy_dataset *d = NULL;
    assert_int_equal(sy_dataset_new(20, sy_shape_of(1, 6), 0, 0, "x", &d), SY_OK);
    float *x = data(20, 6, 4);
    memcpy(d->x, x, sizeof(float) * 120);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAM);
    sy_optimizer *opt = sy_optimizer_new(m.ps, &o);
    sy_batcher_opts bo = sy_batcher_opts_default();
    bo.batch = 4, bo.drop_last = 1, bo.seed = 5;
    sy_batcher *b = NULL;
    assert_int_equal(sy_batcher_new(d, bo, &b), SY_OK);
    hand h = {.t = &m.train};
    sy_fit_opts fo = sy_fit_defaults();
    fo.params = m.ps, fo.opt = opt, fo.batcher = b, fo.epochs = 3, fo.ctx = &h, fo.on_epoch = hand_epoch;
    if (by_hand) {
        fo.graph = m.train.g, fo.loss = m.train.loss, fo.x = m.train.x;
        fo.on_epoch_start = hand_epoch_start, fo.on_batch = hand_batch;
        assert_int_equal(sy_fit(&fo, NULL), SY_OK);
    } else {
        assert_int_equal(sy_vae_fit(&m.train, 4, 5, &fo, NULL), SY_OK);
    }
    assert_true(sy_params_trainable_size(m.ps) <= 512);
    memcpy(params, sy_params_data(m.ps), sizeof(float) * sy_params_trainable_size(m.ps));
    memcpy(losses, h.losses, sizeof h.losses);
    free(x);
    sy_batcher_free(b);
    sy_optimizer_free(opt);
    sy_dataset_free(d);
    sy_vae_model_free(&m);
}

static void test_fit_is_sy_fit_with_noise(void **state)
{
    (void)state;
    float p1[512] = {0}, p2[512] = {0};
    double l1[4] = {0}, l2[4] = {0};
    fit_once(1, p1, l1);
    fit_once(0, p2, l2);
    assert_memory_equal(p1, p2, sizeof p1);
    assert_memory_equal(l1, l2, sizeof l1);
    assert_true(isfinite(l1[2]) && l1[2] != 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_active_units),
        cmocka_unit_test(test_build_names_and_logvar),
        cmocka_unit_test(test_evaluate_matches_graph),
        cmocka_unit_test(test_anchor_rank_restores),
        cmocka_unit_test(test_fit_is_sy_fit_with_noise),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
