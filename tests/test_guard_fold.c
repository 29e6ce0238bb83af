/* The parameter guard folded into the update pass (src/optim/step.c) must
 * report exactly what a scan of the whole store after the update reports:
 * the first non-finite index, named by tensor and element, or nothing. Inf
 * and NaN are planted before a step (finite gradients) at the first, a middle
 * and the last element of each tensor, in the alignment gaps, on W-fix
 * entries (which the step resets, so they are no fault) and at two places at
 * once, for SGD with momentum and Adam, with stored and regenerated anchors,
 * at 1 and 2 threads (the large tensor makes the step run in parallel). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/core.h"
#include "syre/optim.h"
#include "syre/params.h"
#include "syre/runtime.h"

/* Three tensors: a [3,5] (one padding float after it), b [7] (nine), c
 * [200,200] with W-fix (over SY_OPTIM_PAR_MIN floats: parallel steps). */
static sy_params *make_store(void)
{
    sy_params *ps = sy_params_new();
    sy_init z = {SY_INIT_ZERO, 0};
    assert_int_equal(sy_params_add(ps, "a", sy_shape_of(2, 3, 5), 5, z, 1), 0);
    assert_int_equal(sy_params_add(ps, "b", sy_shape_of(1, 7), 7, z, 1), 1);
    assert_int_equal(sy_params_add(ps, "c", sy_shape_of(2, 200, 200), 200, z, 1), 2);
    assert_int_equal(sy_params_layout(ps), SY_OK);
    size_t n = sy_params_trainable_size(ps);
    for (size_t i = 0; i < n; i++) sy_params_data(ps)[i] = 0.01f * (float)((i * 37) % 101) - 0.5f;
    /* the gaps hold zeros, as the layout leaves them */
    for (int t = 0; t < 3; t++) {
        const sy_param_info *pi = sy_params_info(ps, t);
        size_t end = pi->offset + pi->numel, next = t < 2 ? sy_params_info(ps, t + 1)->offset : n;
        for (size_t i = end; i < next; i++) sy_params_data(ps)[i] = 0.0f;
    }
    return ps;
}

static void set_grads(sy_params *ps, int k)
{
    size_t n = sy_params_trainable_size(ps);
    for (size_t i = 0; i < n; i++) sy_params_grad(ps)[i] = 0.001f * (float)(((i + (size_t)k) * 13) % 29) - 0.014f;
}

/* What a full scan after the step says: the message fragment, or "" for none. */
static void expected(sy_params *ps, char *out, size_t cap)
{
    size_t n = sy_params_trainable_size(ps);
    const float *p = sy_params_data(ps);
    out[0] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i])) {
            const char *name = "?";
            size_t e = i;
            for (int t = 0; t < sy_params_count(ps); t++) {
                const sy_param_info *pi = sy_params_info(ps, t);
                if (i >= pi->offset && i < pi->offset + pi->numel) name = pi->name, e = i - pi->offset;
            }
            snprintf(out, cap, "parameter '%s' [%zu] became %s", name, e, isnan(p[i]) ? "NaN" : p[i] > 0 ? "+Inf" : "-Inf");
            return;
        }
}

static sy_optim_opts opts_for(int which)
{
    sy_optim_opts o = sy_optim_defaults(which == 0 ? SY_OPTIM_SGD : SY_OPTIM_ADAM);
    o.lr = 0.01f;
    if (which == 0) o.momentum = 0.9f;
    o.decay = which == 2 ? sy_decay_syre(1e-3f, 0.5f) : sy_decay_l2(1e-3f);
    o.anchor_storage = which == 2 ? SY_ANCHOR_REGENERATE : SY_ANCHOR_STORED;
    o.n_rules = 1;
    snprintf(o.rules[0].pattern, sizeof o.rules[0].pattern, "c");
    o.rules[0].decay = sy_decay_wfix(1e-3f, 0.3f, 0.01f);
    return o;
}

static void plant_and_step(int which, int threads, const size_t *at, int n_at, float v)
{
    sy_set_threads(threads);
    sy_set_nan_policy(SY_NAN_STOP);
    sy_params *ps = make_store();
    sy_optim_opts o = opts_for(which);
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    assert_non_null(opt);
    set_grads(ps, 0);
    assert_int_equal(sy_optimizer_step(opt), SY_OK);
    set_grads(ps, 1);
    for (int k = 0; k < n_at; k++) sy_params_data(ps)[at[k]] = v;
    sy_status st = sy_optimizer_step(opt);
    char want[256];
    expected(ps, want, sizeof want);
    if (!want[0]) {
        if (st != SY_OK) fail_msg("which %d threads %d at %zu: %s", which, threads, at[0], sy_last_error());
    } else {
        assert_int_equal(st, SY_ERR_NUMERIC);
        if (!strstr(sy_last_error(), want))
            fail_msg("which %d threads %d at %zu: want \"%s\" in \"%s\"", which, threads, at[0], want, sy_last_error());
    }
    /* the step count advanced (the update was applied) either way */
    assert_int_equal(sy_optimizer_steps(opt), 2);
    sy_optimizer_free(opt);
    sy_params_free(ps);
}

static void test_planted(void **state)
{
    (void)state;
    sy_params *ps = make_store();
    size_t oa = sy_params_info(ps, 0)->offset, ob = sy_params_info(ps, 1)->offset, oc = sy_params_info(ps, 2)->offset;
    size_t n = sy_params_trainable_size(ps);
    sy_optim_opts o = opts_for(0);
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    size_t fixed = 0, fixed2 = 0; /* two W-fix entries of c */
    for (size_t i = oc; i < oc + 40000 && !fixed2; i++)
        if (sy_optimizer_is_fixed(opt, i)) {
            if (!fixed) fixed = i;
            else if (i > oc + 20000) fixed2 = i;
        }
    assert_true(fixed && fixed2);
    sy_optimizer_free(opt);
    sy_params_free(ps);
    assert_true(ob > oa + 15 && oc > ob + 7 && n > oc + 40000 - 1);

    const size_t single[] = {oa, oa + 7, oa + 14, oa + 15, ob, ob + 6, ob + 7, oc - 1, oc, oc + 20001, oc + 39999,
                             fixed, fixed2, n - 1};
    const float vals[] = {INFINITY, -INFINITY, NAN};
    for (int which = 0; which < 3; which++)
        for (int threads = 1; threads <= 2; threads++)
            for (int v = 0; v < 3; v++) {
                for (size_t k = 0; k < sizeof single / sizeof single[0]; k++)
                    if (single[k] < n) plant_and_step(which, threads, &single[k], 1, vals[v]);
                const size_t two[][2] = {{fixed, oc + 39999}, {oa + 15, oc + 5}, {fixed, fixed2}, {ob + 8, oa + 3}};
                for (size_t k = 0; k < 4; k++) plant_and_step(which, threads, two[k], 2, vals[v]);
            }
    sy_set_threads(1);
}

/* A huge finite gradient step (lr 1e30): the update itself writes Inf, found
 * where a scan after the step finds it. */
static void test_diverging(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 2; threads++) {
        sy_set_threads(threads);
        sy_params *ps = make_store();
        sy_optim_opts o = opts_for(0);
        o.lr = 1e38f;
        o.momentum = 0;
        sy_optimizer *opt = sy_optimizer_new(ps, &o);
        set_grads(ps, 0);
        for (size_t i = 0; i < sy_params_trainable_size(ps); i++) sy_params_grad(ps)[i] *= 1e3f;
        assert_int_equal(sy_optimizer_step(opt), SY_ERR_NUMERIC);
        char want[256];
        expected(ps, want, sizeof want);
        assert_true(want[0] != '\0');
        if (!strstr(sy_last_error(), want)) fail_msg("want \"%s\" in \"%s\"", want, sy_last_error());
        sy_optimizer_free(opt);
        sy_params_free(ps);
    }
    sy_set_threads(1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_planted),
        cmocka_unit_test(test_diverging),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
