/* The device path without a GPU: the "sim" device keeps the arena, the
 * parameters and the optimizer state in memory of its own and runs the CPU
 * kernels, so every result must equal the CPU's bit for bit. What this
 * checks is everything around the kernels that the CUDA backend shares:
 * inputs uploaded, values and gradients copied back on demand and kept
 * current, parameters and optimizer state coherent across host accesses,
 * checkpoints, device errors. It also runs the equivalence harness that
 * test_cuda.c uses on a GPU, so the harness is tested here. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

#include "device_cases.h"
#include "graph/graph_device.h"
#include "graph/graph_impl.h"
#include "syre/runtime.h"
#include "syre/train.h"

static void test_every_op_has_a_case(void **state)
{
    (void)state;
    for (int op = 0; op < SY_OP_COUNT; op++) {
        if (op == SY_OP_INPUT || op == SY_OP_PARAM) continue;
        int found = 0;
        for (int c = 0; c < DC_N_CASES; c++) found |= !strcmp(dc_op_of(dc_cases[c].name), sy_op_name(op));
        if (!found) fail_msg("op '%s' has no device equivalence case in tests/device_cases.h", sy_op_name(op));
    }
}

static void test_op_cases_equal_cpu(void **state)
{
    (void)state;
    int bad = 0;
    for (int c = 0; c < DC_N_CASES; c++)
        if (!dc_compare(&dc_cases[c], "sim", "cpu", 0.0f, NULL)) {
            fprintf(stderr, "case %s: sim differs from cpu\n", dc_cases[c].name);
            bad++;
        }
    assert_int_equal(bad, 0);
}

/* The harness must be able to fail: a case against a different one. */
static void test_harness_detects_a_difference(void **state)
{
    (void)state;
    dc_result a, b;
    assert_int_equal(dc_run(&dc_cases[0], "cpu", &a), 0);
    assert_int_equal(dc_run(&dc_cases[0], "cpu", &b), 0);
    b.out[3] *= 1.001f;
    assert_false(dc_close("matmul", "forward", a.out, b.out, a.n_out, 1e-5f, 1e-6f, NULL));
    dc_result_free(&a);
    dc_result_free(&b);
}

static void train_pair(dm_kind kind, int which, int batch, int steps)
{
    sy_optim_opts o = dm_opts(which);
    dm_model a, b;
    assert_int_equal(dm_build(&a, kind, "cpu", batch, &o), 0);
    assert_int_equal(dm_build(&b, kind, "sim", batch, &o), 0);
    float la[8], lb[8];
    assert_int_equal(dm_train(&a, steps, la), 0);
    assert_int_equal(dm_train(&b, steps, lb), 0);
    for (int k = 0; k < steps; k++) assert_memory_equal(&la[k], &lb[k], sizeof(float));
    size_t n = sy_params_total_size(a.ps);
    assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), n * sizeof(float));
    assert_memory_equal(sy_params_grad(a.ps), sy_params_grad(b.ps), sy_params_trainable_size(a.ps) * sizeof(float));
    dm_free(&a);
    dm_free(&b);
}

static void test_train_mlp(void **state)
{
    (void)state;
    for (int w = 0; w < 3; w++) train_pair(DM_MLP, w, 16, 5);
}
static void test_train_cnn(void **state)
{
    (void)state;
    train_pair(DM_CNN, 0, 8, 3);
    train_pair(DM_CNN, 1, 8, 3);
}
static void test_train_resnet(void **state)
{
    (void)state;
    train_pair(DM_RESNET, 2, 4, 3);
    train_pair(DM_RESNET, 1, 4, 3);
}

/* Host work between steps: read logits through a pointer taken once, edit
 * parameters on the host, read gradients, evaluate in another graph. */
static void host_mix(const char *backend, float *out_loss, float *out_logit, float *out_p)
{
    sy_optim_opts o = dm_opts(0);
    dm_model m;
    assert_int_equal(dm_build(&m, DM_MLP, backend, 8, &o), 0);
    const float *z = sy_graph_data(m.g, m.logits); /* taken before any forward */
    float logit_sum = 0;
    for (int k = 0; k < 4; k++) {
        dm_batch(&m, k);
        assert_int_equal(sy_graph_forward(m.g), SY_OK);
        logit_sum += z[0] + z[9];
        assert_int_equal(sy_graph_backward(m.g, m.loss), SY_OK);
        const float *gw = sy_params_grad(m.ps);
        logit_sum += gw[1];
        assert_int_equal(sy_optimizer_step(m.opt), SY_OK);
        float *p; /* host edit: must reach the device */
        assert_int_equal(sy_params_write(m.ps, &p), SY_OK);
        p[0] += 0.25f;
        p[5] *= -1.0f;
    }
    /* Evaluation graph on the same store and device. */
    sy_graph *e = sy_graph_new(m.ps);
    assert_non_null(e);
    assert_int_equal(sy_graph_set_backend(e, backend), SY_OK);
    sy_var x = sy_input(e, "x", S2(8, 64));
    int sizes[] = {48, 48, 10};
    sy_var lg = sy_mlp(e, x, "mlp", sizes, 3, SY_ACT_TANH);
    assert_int_equal(sy_graph_compile(e), SY_OK);
    float *xe = sy_graph_data(e, x);
    for (int i = 0; i < 8 * 64; i++) xe[i] = (float)(i % 13) * 0.1f;
    assert_int_equal(sy_graph_forward(e), SY_OK);
    *out_logit = logit_sum + sy_graph_data(e, lg)[3];
    *out_loss = sy_graph_scalar(m.g, m.loss);
    *out_p = sy_params_data(m.ps)[7];
    sy_graph_free(e);
    dm_free(&m);
}

static void test_host_access_between_steps(void **state)
{
    (void)state;
    float a[3], b[3];
    host_mix("cpu", &a[0], &a[1], &a[2]);
    host_mix("sim", &b[0], &b[1], &b[2]);
    assert_memory_equal(a, b, sizeof a);
}

/* The explicit host views: sy_params_read brings the device's values back,
 * and a change made through sy_params_write is what the next device step
 * trains on (as on the CPU), both bit for bit. */
static void test_params_read_write(void **state)
{
    (void)state;
    sy_optim_opts o = dm_opts(0);
    dm_model m[2];
    assert_int_equal(dm_build(&m[0], DM_MLP, "cpu", 8, &o), 0);
    assert_int_equal(dm_build(&m[1], DM_MLP, "sim", 8, &o), 0);
    float loss[2][4];
    const float *r[2];
    for (int k = 0; k < 2; k++) {
        assert_int_equal(dm_train(&m[k], 2, loss[k]), 0);
        float *w;
        assert_int_equal(sy_params_write(m[k].ps, &w), SY_OK);
        for (size_t i = 0; i < sy_params_trainable_size(m[k].ps); i += 3) w[i] *= -0.5f;
        assert_int_equal(dm_train(&m[k], 2, loss[k] + 2), 0);
        assert_int_equal(sy_params_read(m[k].ps, &r[k]), SY_OK);
    }
    assert_memory_equal(loss[0], loss[1], sizeof loss[0]);
    assert_memory_equal(r[0], r[1], sy_params_total_size(m[0].ps) * sizeof(float));
    dm_free(&m[0]);
    dm_free(&m[1]);
}

/* Save mid-run on the device, load into a fresh device model, continue:
 * the same as an uninterrupted CPU run. */
static void test_checkpoint_resume_on_device(void **state)
{
    (void)state;
    char path[] = "/tmp/syre-devsim-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    sy_optim_opts o = dm_opts(1);
    dm_model ref, a, b;
    float lr[6], la[6], lb[6];
    assert_int_equal(dm_build(&ref, DM_MLP, "cpu", 8, &o), 0);
    assert_int_equal(dm_train(&ref, 6, lr), 0);
    assert_int_equal(dm_build(&a, DM_MLP, "sim", 8, &o), 0);
    assert_int_equal(dm_train(&a, 3, la), 0);
    sy_train_pos pos = {.batch = 3, .graph_step = (int64_t)sy_graph_step(a.g)};
    assert_int_equal(sy_train_save(path, a.ps, a.opt, &pos), SY_OK);
    assert_int_equal(dm_build(&b, DM_MLP, "sim", 8, &o), 0);
    sy_train_pos got;
    assert_int_equal(sy_train_load(path, b.ps, b.opt, &got), SY_OK);
    sy_graph_set_step(b.g, (uint64_t)got.graph_step);
    for (int k = 3; k < 6; k++) {
        dm_batch(&b, k);
        assert_int_equal(sy_graph_forward(b.g), SY_OK);
        assert_int_equal(sy_graph_backward(b.g, b.loss), SY_OK);
        assert_int_equal(sy_optimizer_step(b.opt), SY_OK);
        lb[k] = sy_graph_scalar(b.g, b.loss);
        assert_memory_equal(&lb[k], &lr[k], sizeof(float));
    }
    assert_memory_equal(sy_params_data(b.ps), sy_params_data(ref.ps), sy_params_total_size(ref.ps) * sizeof(float));
    dm_free(&ref);
    dm_free(&a);
    dm_free(&b);
    unlink(path);
}

static void test_device_errors(void **state)
{
    (void)state;
    /* A label out of range, found by the kernel, named with its op. */
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    assert_int_equal(sy_graph_set_backend(g, "sim"), SY_OK);
    sy_var x = sy_input(g, "x", S2(2, 3)), y = sy_input(g, "y", S1(2));
    sy_var l = sy_softmax_ce(g, sy_linear(g, x, "l", 3), y);
    (void)l;
    assert_int_equal(sy_graph_compile(g), SY_OK);
    float lab[2] = {1, 7};
    sy_graph_feed(g, y, lab, 2);
    assert_int_equal(sy_graph_forward(g), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "softmax_ce"));
    /* The store is now on the device: a CPU graph of it is refused. */
    sy_graph *c = sy_graph_new(ps);
    sy_var xc = sy_input(c, "x", S2(2, 3));
    sy_linear(c, xc, "l", 3);
    assert_int_equal(sy_graph_compile(c), SY_ERR_STATE);
    assert_non_null(strstr(sy_last_error(), "same device"));
    sy_graph_free(c);
    assert_int_equal(sy_graph_set_backend(g, "cpu"), SY_ERR_STATE);
    sy_graph_free(g);
    sy_params_free(ps);
    /* Unknown devices and the default device. */
    assert_int_equal(sy_device_check("tpu"), SY_ERR_ARG);
    assert_int_equal(sy_set_default_device("sim"), SY_OK);
    assert_string_equal(sy_default_device(), "sim");
    ps = sy_params_new();
    g = sy_graph_new(ps);
    assert_non_null(g);
    assert_int_equal(sy_graph_set_backend(g, "cpu-ref"), SY_ERR_STATE);
    sy_graph_free(g);
    sy_params_free(ps);
    assert_int_equal(sy_set_default_device("cpu"), SY_OK);
    if (sy_device_check("cuda") != SY_OK) {
        assert_non_null(strstr(sy_last_error(), "CUDA"));
        printf("cuda unavailable here, as expected on CI: %s\n", sy_last_error());
    }
}

/* The NaN guard on the device gives the CPU's verdict, message, parameters
 * and step count: NaN gradient, Inf parameter, NaN input; stop and
 * skip-batch; SGD and Adam with clipping (the guard then runs before the
 * norm). */
static void test_nan_guard_like_cpu(void **state)
{
    (void)state;
    for (int what = 0; what < 3; what++)
        for (int pol = 0; pol < 2; pol++)
            for (int opt = 0; opt < 2; opt++) {
                char ma[512], mb[512];
                float *pa, *pb;
                long sa, sb;
                sy_status a = dm_nan_case("cpu", what, opt, (sy_nan_policy)pol, ma, sizeof ma, &pa, &sa);
                sy_status b = dm_nan_case("sim", what, opt, (sy_nan_policy)pol, mb, sizeof mb, &pb, &sb);
                printf("what %d policy %d opt %d: status %d, steps %ld: %s\n", what, pol, opt, (int)b, sb, mb);
                assert_int_equal(a, b);
                assert_string_equal(ma, mb);
                assert_int_equal(sa, sb);
                /* A fault is reported where one was injected, except a skipped batch. */
                if (what == 1 || pol == SY_NAN_STOP) assert_int_equal(b, SY_ERR_NUMERIC);
                else {
                    assert_int_equal(b, SY_OK);
                    assert_int_equal(sb, 4); /* 5 batches, one skipped */
                }
                if (what == 0 && pol == SY_NAN_STOP) assert_non_null(strstr(mb, "gradient of 'mlp"));
                if (what == 1) assert_non_null(strstr(mb, "from finite gradients"));
                assert_memory_equal(pa, pb, sizeof(float) * 64); /* the first layer's weights */
                free(pa);
                free(pb);
            }
}

/* --precision on sim: bf16 and tf32 round the operands of every matmul and
 * convolution GEMM. A training run must differ from fp32 (the option is
 * applied) and stay close to it: losses within 2e-3 relative for bf16 and
 * 2e-4 for TF32 (measured: at most 2.8e-4 and 1.1e-5 over these steps, MLP
 * and CNN), and the CPU refuses both. */
static void test_precision_on_sim(void **state)
{
    (void)state;
    const char *precs[2] = {"bf16", "tf32"};
    const float tol[2] = {2e-3f, 2e-4f};
    for (int kind = 0; kind < 2; kind++) {
        float l32[8], lp[8], *p32, *pp;
        int steps = kind ? 3 : 6;
        assert_int_equal(dm_train_precision((dm_kind)kind, "sim", "fp32", 0, 16, steps, l32, &p32), 0);
        for (int q = 0; q < 2; q++) {
            assert_int_equal(dm_train_precision((dm_kind)kind, "sim", precs[q], 0, 16, steps, lp, &pp), 0);
            double worst = 0;
            int differ = 0;
            for (int k = 0; k < steps; k++) {
                double r = fabs((double)lp[k] - l32[k]) / fabs((double)l32[k]);
                if (r > worst) worst = r;
                differ |= lp[k] != l32[k];
            }
            printf("%s %s vs fp32: %d steps, largest relative loss difference %.2e (final %.6f vs %.6f)\n",
                   kind ? "cnn" : "mlp", precs[q], steps, worst, lp[steps - 1], l32[steps - 1]);
            assert_true(differ);
            assert_true(worst < tol[q]);
            free(pp);
        }
        free(p32);
    }
    /* The CPU backend computes in fp32 and says so. */
    assert_int_equal(sy_set_precision("bf16"), SY_OK);
    sy_optim_opts o = dm_opts(0);
    dm_model m;
    assert_int_equal(dm_build(&m, DM_MLP, "cpu", 4, &o), -1);
    assert_non_null(strstr(sy_last_error(), "device graphs only"));
    dm_free(&m);
    /* The precision cannot change under a live device graph. */
    assert_int_equal(dm_build(&m, DM_MLP, "sim", 4, &o), 0);
    assert_int_equal(sy_set_precision("fp32"), SY_ERR_STATE);
    dm_free(&m);
    assert_int_equal(sy_set_precision("fp32"), SY_OK);
    assert_int_equal(sy_set_precision("fp16"), SY_ERR_ARG);
}

/* sy_train_step with CUDA Graphs on: on sim the recorded step runs the
 * same split (host work before, device work, host work after) with the
 * device work eager. Results equal the CPU's three calls bit for bit; the
 * counts say what was recorded; ineligible steps run eagerly with a note. */
static void test_recorded_step(void **state)
{
    (void)state;
    sy_set_cuda_graphs(1);
    for (int kind = 0; kind < 2; kind++) {
        sy_optim_opts o = dm_opts(0);
        dm_model a, b;
        int steps = kind ? 3 : 8;
        assert_int_equal(dm_build(&a, (dm_kind)kind, "cpu", 8, &o), 0);
        assert_int_equal(dm_build(&b, (dm_kind)kind, "sim", 8, &o), 0);
        float la[8], lb[8];
        assert_int_equal(dm_train(&a, steps, la), 0);
        assert_int_equal(dm_train_steps(&b, steps, lb), 0);
        assert_memory_equal(la, lb, steps * sizeof(float));
        size_t n = sy_params_total_size(a.ps);
        assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), n * sizeof(float));
        sy_train_step_stats st;
        sy_train_step_stats_get(b.g, &st);
        printf("%s: eager %ld, captures %ld, replays %ld %s\n", kind ? "cnn" : "mlp", st.eager, st.captures,
               st.replays, st.note);
        assert_int_equal(st.eager, 1);
        assert_int_equal(st.captures, 1);
        assert_int_equal(st.replays, steps - 1);
        /* Host edits between recorded steps reach the device (parameters, a
         * read-back logit). */
        float *pa, *pb;
        assert_int_equal(sy_params_write(b.ps, &pb), SY_OK);
        assert_int_equal(sy_params_write(a.ps, &pa), SY_OK);
        pb[3] += 0.25f;
        pa[3] += 0.25f;
        dm_batch(&a, 9);
        dm_batch(&b, 9);
        assert_int_equal(sy_graph_forward(a.g), SY_OK);
        assert_int_equal(sy_graph_backward(a.g, a.loss), SY_OK);
        assert_int_equal(sy_optimizer_step(a.opt), SY_OK);
        assert_int_equal(sy_train_step(b.g, b.loss, b.opt), SY_OK);
        assert_memory_equal(sy_graph_data(a.g, a.logits), sy_graph_data(b.g, b.logits), 8 * 10 * sizeof(float));
        assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), n * sizeof(float));
        dm_free(&a);
        dm_free(&b);
    }
    /* AdamW with a cosine schedule (scalars change every step: read from
     * the copy the recorded work takes in) and Adam with clipping (norm and
     * factor on the device) are recorded; both equal the CPU. */
    for (int w = 1; w < 3; w++) {
        sy_optim_opts o = dm_opts(w);
        dm_model a, b;
        assert_int_equal(dm_build(&a, DM_MLP, "cpu", 8, &o), 0);
        assert_int_equal(dm_build(&b, DM_MLP, "sim", 8, &o), 0);
        float la[8], lb[8];
        assert_int_equal(dm_train(&a, 8, la), 0);
        assert_int_equal(dm_train_steps(&b, 8, lb), 0);
        assert_memory_equal(la, lb, sizeof la);
        assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), sy_params_total_size(a.ps) * sizeof(float));
        sy_train_step_stats st;
        sy_train_step_stats_get(b.g, &st);
        printf("opt %d: eager %ld, captures %ld, replays %ld: %s\n", w, st.eager, st.captures, st.replays, st.note);
        assert_int_equal(st.captures, 1);
        assert_int_equal(st.replays, 7);
        dm_free(&a);
        dm_free(&b);
    }
    /* Clipping recorded: Adam + syre-ar (regenerated anchors) and SGD + W-fix
     * (its entries left out of the norm), with a bound the gradients exceed
     * (the factor scales every step) and one they do not: losses, norms
     * (read by the host after the step's wait) and parameters equal the
     * CPU's, eager and recorded. */
    for (int v = 0; v < 4; v++) {
        sy_optim_opts o = dm_clip_opts(v);
        for (int rec = 0; rec < 2; rec++) {
            dm_model a, b;
            sy_set_cuda_graphs(rec);
            assert_int_equal(dm_build(&a, DM_MLP, "cpu", 8, &o), 0);
            assert_int_equal(dm_build(&b, DM_MLP, "sim", 8, &o), 0);
            float na[6], nb[6], la[6], lb[6];
            for (int k = 0; k < 6; k++) {
                dm_batch(&a, k);
                dm_batch(&b, k);
                assert_int_equal(sy_graph_forward(a.g), SY_OK);
                assert_int_equal(sy_graph_backward(a.g, a.loss), SY_OK);
                assert_int_equal(sy_optimizer_step(a.opt), SY_OK);
                assert_int_equal(sy_train_step(b.g, b.loss, b.opt), SY_OK);
                na[k] = sy_optimizer_last_grad_norm(a.opt);
                nb[k] = sy_optimizer_last_grad_norm(b.opt);
                la[k] = sy_graph_scalar(a.g, a.loss);
                lb[k] = sy_graph_scalar(b.g, b.loss);
            }
            sy_train_step_stats st;
            sy_train_step_stats_get(b.g, &st);
            printf("clipping %s max %g %s: norms %.4f..%.4f; eager %ld captures %ld replays %ld %s\n",
                   v < 2 ? "adam+syre-ar" : "sgd+wfix", o.max_grad_norm, rec ? "recorded" : "eager", na[0], na[5],
                   st.eager, st.captures, st.replays, st.note);
            if (v % 2 == 0) assert_true(na[5] > o.max_grad_norm); /* the factor is < 1 */
            else assert_true(na[5] < o.max_grad_norm);
            assert_int_equal(st.captures, rec);
            assert_memory_equal(na, nb, sizeof na);
            assert_memory_equal(la, lb, sizeof la);
            assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps),
                                sy_params_total_size(a.ps) * sizeof(float));
            sy_set_cuda_graphs(1);
            dm_free(&a);
            dm_free(&b);
        }
    }
    /* Dropout recorded: its step comes from the graph's device counter,
     * copied in by the recorded work from pinned memory, so every replay
     * draws that step's masks (the CPU's Philox stream); an evaluation
     * forward (training off: no masks) in between, then training again
     * (the recording stays valid: replayed). */
    {
        sy_optim_opts o = dm_opts(0);
        dm_model a, b;
        float la[8], lb[8];
        /* Eager forwards (sy_graph_forward) read the counter too. */
        assert_int_equal(dm_build(&a, DM_MLP_DROPOUT, "cpu", 8, &o), 0);
        assert_int_equal(dm_build(&b, DM_MLP_DROPOUT, "sim", 8, &o), 0);
        assert_int_equal(dm_train(&a, 4, la), 0);
        assert_int_equal(dm_train(&b, 4, lb), 0);
        assert_memory_equal(la, lb, 4 * sizeof(float));
        dm_free(&a);
        dm_free(&b);
        assert_int_equal(dm_build(&a, DM_MLP_DROPOUT, "cpu", 8, &o), 0);
        assert_int_equal(dm_build(&b, DM_MLP_DROPOUT, "sim", 8, &o), 0);
        assert_int_equal(dm_train(&a, 5, la), 0);
        assert_int_equal(dm_train_steps(&b, 5, lb), 0);
        assert_memory_equal(la, lb, 5 * sizeof(float));
        sy_train_step_stats st;
        sy_train_step_stats_get(b.g, &st);
        printf("dropout: eager %ld, captures %ld, replays %ld %s\n", st.eager, st.captures, st.replays, st.note);
        assert_int_equal(st.captures, 1);
        assert_int_equal(st.replays, 4);
        for (int k = 0; k < 2; k++) {
            sy_graph_set_training(a.g, 0);
            sy_graph_set_training(b.g, 0);
            dm_batch(&a, 20 + k);
            dm_batch(&b, 20 + k);
            assert_int_equal(sy_graph_forward(a.g), SY_OK);
            assert_int_equal(sy_graph_forward(b.g), SY_OK);
            assert_memory_equal(sy_graph_data(a.g, a.logits), sy_graph_data(b.g, b.logits), 8 * 10 * sizeof(float));
            sy_graph_set_training(a.g, 1);
            sy_graph_set_training(b.g, 1);
            for (int j = 0; j < 3; j++) {
                dm_batch(&a, 5 + 3 * k + j);
                dm_batch(&b, 5 + 3 * k + j);
                assert_int_equal(sy_graph_forward(a.g), SY_OK);
                assert_int_equal(sy_graph_backward(a.g, a.loss), SY_OK);
                assert_int_equal(sy_optimizer_step(a.opt), SY_OK);
                assert_int_equal(sy_train_step(b.g, b.loss, b.opt), SY_OK);
                assert_true(sy_graph_scalar(a.g, a.loss) == sy_graph_scalar(b.g, b.loss));
            }
        }
        assert_int_equal(sy_graph_step(a.g), sy_graph_step(b.g));
        assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), sy_params_total_size(a.ps) * sizeof(float));
        sy_train_step_stats_get(b.g, &st);
        printf("dropout after eval forwards: eager %ld, captures %ld, replays %ld %s\n", st.eager, st.captures,
               st.replays, st.note);
        assert_int_equal(st.captures, 1);
        assert_int_equal(st.replays, 10);
        dm_free(&a);
        dm_free(&b);
    }
    /* The NaN guard through the recorded step: as on the CPU. */
    for (int what = 0; what < 3; what += 2)
        for (int pol = 0; pol < 2; pol++) {
            sy_optim_opts o = dm_opts(0);
            dm_model m[2];
            sy_status fault[2];
            char msg[2][512];
            for (int k = 0; k < 2; k++) {
                assert_int_equal(dm_build(&m[k], DM_MLP, k ? "sim" : "cpu", 8, &o), 0);
                sy_set_nan_policy((sy_nan_policy)pol);
                fault[k] = SY_OK;
                msg[k][0] = 0;
                for (int s = 0; s < 5 && !fault[k]; s++) {
                    dm_batch(&m[k], s);
                    if (s == 3) sy_graph_data(m[k].g, m[k].x)[what ? 5 : 0] = what ? NAN : INFINITY;
                    if (k) fault[k] = sy_train_step(m[k].g, m[k].loss, m[k].opt);
                    else {
                        fault[k] = sy_graph_forward(m[k].g);
                        if (!fault[k]) fault[k] = sy_graph_backward(m[k].g, m[k].loss);
                        if (!fault[k]) fault[k] = sy_optimizer_step(m[k].opt);
                    }
                    if (fault[k]) snprintf(msg[k], sizeof msg[k], "%s", sy_last_error());
                }
                sy_set_nan_policy(SY_NAN_STOP);
            }
            printf("recorded step, bad input %d, policy %d: %d %s\n", what, pol, (int)fault[1], msg[1]);
            assert_int_equal(fault[0], fault[1]);
            assert_string_equal(msg[0], msg[1]);
            assert_int_equal(sy_optimizer_steps(m[0].opt), sy_optimizer_steps(m[1].opt));
            assert_memory_equal(sy_params_data(m[0].ps), sy_params_data(m[1].ps),
                                sy_params_total_size(m[0].ps) * sizeof(float));
            dm_free(&m[0]);
            dm_free(&m[1]);
        }
    sy_set_cuda_graphs(0);
}

/* Two optimizers in turn on one graph: the second must not replay the
 * first's recording. The first is freed before the second is made, so the
 * allocator is free to hand the second the first's address; the two differ
 * only in what a recording bakes in (segments, decay rule, learning rate,
 * state pointers), not in the optimizer kind. On sim the recording replays
 * the pointers, segments and scalars it captured, as a CUDA Graph does. */
static void test_recorded_two_optimizers(void **state)
{
    (void)state;
    float la[10], lb[10], *pa, *pb;
    size_t n;
    sy_train_step_stats st;
    int same;
    assert_int_equal(dm_two_optimizers("cpu", la, &pa, &n, &st, &same), 0);
    sy_set_cuda_graphs(1);
    int rc = dm_two_optimizers("sim", lb, &pb, &n, &st, &same);
    sy_set_cuda_graphs(0);
    assert_int_equal(rc, 0);
    printf("two optimizers: the second %s the first's address; eager %ld, captures %ld, replays %ld %s\n",
           same ? "reuses" : "does not reuse", st.eager, st.captures, st.replays, st.note);
    assert_memory_equal(la, lb, sizeof la);
    assert_memory_equal(pa, pb, n * sizeof(float));
    assert_int_equal(st.eager, 2);
    assert_int_equal(st.captures, 2);
    assert_int_equal(st.replays, 8);
    free(pa);
    free(pb);
}

/* A recorded step must not update the parameters when the host is about to
 * stop (dm_stop_case): the CPU stops before its update; so must the
 * recorded work, which runs the update before the host reads anything.
 * Under skip-batch the device must do what the CPU does. */
static void test_recorded_step_stops_before_update(void **state)
{
    (void)state;
    for (int what = 0; what < 3; what++) {
        char msg[2][512];
        long steps[2];
        float *p[2];
        size_t n;
        sy_status fault[2];
        fault[0] = dm_stop_case("cpu", what, msg[0], sizeof msg[0], &steps[0], &p[0], &n);
        sy_set_cuda_graphs(1);
        fault[1] = dm_stop_case("sim", what, msg[1], sizeof msg[1], &steps[1], &p[1], &n);
        sy_set_cuda_graphs(0);
        printf("recorded step, %s: cpu %d '%s', sim %d '%s', steps %ld %ld\n",
               what == 0 ? "bad label" : what == 1 ? "Inf loss, stop" : "Inf loss, skip-batch", (int)fault[0], msg[0],
               (int)fault[1], msg[1], steps[0], steps[1]);
        assert_int_equal(fault[0], fault[1]);
        assert_int_equal(steps[0], steps[1]);
        assert_memory_equal(p[0], p[1], n * sizeof(float));
        free(p[0]);
        free(p[1]);
    }
}

/* A kernel error in an eager forward (a bad label: the forward stops at the
 * op) is reported then and there; it must not linger on the device and
 * veto the next replay of good batches. The same sequence on the CPU and
 * on sim: 3 steps (recorded on sim), one bad eager forward, 3 more. */
static void test_recorded_step_after_eager_error(void **state)
{
    (void)state;
    sy_optim_opts o = dm_opts(0);
    dm_model m[2];
    float l[2][6];
    for (int k = 0; k < 2; k++) {
        sy_set_cuda_graphs(k);
        assert_int_equal(dm_build(&m[k], DM_MLP, k ? "sim" : "cpu", 8, &o), 0);
        int rc = k ? dm_train_steps(&m[k], 3, l[k]) : dm_train(&m[k], 3, l[k]);
        assert_int_equal(rc, 0);
        dm_batch(&m[k], 0);
        sy_graph_data(m[k].g, m[k].y)[1] = 11.0f;
        assert_int_equal(sy_graph_forward(m[k].g), SY_ERR_ARG);
        rc = k ? dm_train_steps(&m[k], 3, l[k] + 3) : dm_train(&m[k], 3, l[k] + 3);
        sy_set_cuda_graphs(0);
        if (rc) fprintf(stderr, "after an eager error on %s: %s\n", k ? "sim" : "cpu", sy_last_error());
        assert_int_equal(rc, 0);
    }
    sy_train_step_stats st;
    sy_train_step_stats_get(m[1].g, &st);
    assert_true(st.replays >= 4);
    assert_memory_equal(l[0], l[1], sizeof l[0]);
    assert_memory_equal(sy_params_data(m[0].ps), sy_params_data(m[1].ps), sy_params_total_size(m[0].ps) * sizeof(float));
    dm_free(&m[0]);
    dm_free(&m[1]);
}

/* Host reads between recorded steps: the gradients (sy_params_grad) and the
 * optimizer's moments (sy_optimizer_state, as a checkpoint reads them)
 * after every step equal the CPU's. A replay changes both on the device
 * without running the host code that marked them changed at capture, so
 * the host work before each launch must mark them. */
static void test_recorded_step_host_reads(void **state)
{
    (void)state;
    sy_optim_opts o = dm_opts(0);
    dm_model a, b;
    sy_set_cuda_graphs(1);
    assert_int_equal(dm_build(&a, DM_MLP, "cpu", 8, &o), 0);
    assert_int_equal(dm_build(&b, DM_MLP, "sim", 8, &o), 0);
    size_t nt = sy_params_trainable_size(a.ps);
    for (int k = 0; k < 6; k++) {
        dm_batch(&a, k);
        dm_batch(&b, k);
        assert_int_equal(sy_graph_forward(a.g), SY_OK);
        assert_int_equal(sy_graph_backward(a.g, a.loss), SY_OK);
        assert_int_equal(sy_optimizer_step(a.opt), SY_OK);
        assert_int_equal(sy_train_step(b.g, b.loss, b.opt), SY_OK);
        assert_memory_equal(sy_params_grad(a.ps), sy_params_grad(b.ps), nt * sizeof(float));
        assert_memory_equal(sy_optimizer_state(a.opt, 0), sy_optimizer_state(b.opt, 0), nt * sizeof(float));
    }
    sy_set_cuda_graphs(0);
    sy_train_step_stats st;
    sy_train_step_stats_get(b.g, &st);
    assert_int_equal(st.replays, 5);
    dm_free(&a);
    dm_free(&b);
}

/* The CUDA Graphs setting belongs to each graph, taken when it is made: two
 * graphs of one program, made before and after the setting changes, keep
 * their own (one records its step, the other runs eagerly), and both equal
 * the CPU's losses. */
static void test_recorded_step_per_graph(void **state)
{
    (void)state;
    sy_optim_opts o = dm_opts(0);
    dm_model a, eager, rec;
    sy_set_cuda_graphs(0);
    assert_int_equal(dm_build(&a, DM_MLP, "cpu", 8, &o), 0);
    assert_int_equal(dm_build(&eager, DM_MLP, "sim", 8, &o), 0);
    sy_set_cuda_graphs(1);
    assert_int_equal(dm_build(&rec, DM_MLP, "sim", 8, &o), 0);
    sy_set_cuda_graphs(0);
    float la[5], le[5], lr[5];
    assert_int_equal(dm_train(&a, 5, la), 0);
    assert_int_equal(dm_train_steps(&eager, 5, le), 0);
    assert_int_equal(dm_train_steps(&rec, 5, lr), 0);
    sy_train_step_stats se, sr;
    sy_train_step_stats_get(eager.g, &se);
    sy_train_step_stats_get(rec.g, &sr);
    assert_int_equal(se.captures, 0);
    assert_int_equal(se.eager, 5);
    assert_int_equal(sr.captures, 1);
    assert_int_equal(sr.replays, 4);
    assert_memory_equal(la, le, sizeof la);
    assert_memory_equal(la, lr, sizeof la);
    dm_free(&a);
    dm_free(&eager);
    dm_free(&rec);
}

/* The next wait on graph g's device fails, as after a bad copy on its copy
 * stream (reported by the wait, as CUDA's would be). */
static void break_next_wait(sy_graph *g)
{
    sy_device *d = sy_gdev_device(g);
    float x = 0, y;
    d->break_stage_upload = 1;
    d->stage_upload(d, &y, &x, sizeof x, NULL);
    d->break_stage_upload = 0;
}

/* Reading the parameters of a device store: sy_params_read copies back what
 * the device changed and returns a failed copy as its error; the next read
 * copies them and they equal the CPU's. */
static void test_params_read(void **state)
{
    (void)state;
    sy_optim_opts o = dm_opts(0);
    dm_model a, b;
    assert_int_equal(dm_build(&a, DM_MLP, "cpu", 8, &o), 0);
    assert_int_equal(dm_build(&b, DM_MLP, "sim", 8, &o), 0);
    float la[3], lb[3];
    assert_int_equal(dm_train(&a, 3, la), 0);
    assert_int_equal(dm_train_steps(&b, 3, lb), 0);
    break_next_wait(b.g);
    const float *p = NULL, *q = NULL;
    assert_int_equal(sy_params_read(b.ps, &p), SY_ERR_STATE);
    assert_non_null(strstr(sy_last_error(), "copying the parameter values from device 'sim'"));
    assert_int_equal(sy_params_read(b.ps, &p), SY_OK);
    assert_int_equal(sy_params_read(a.ps, &q), SY_OK);
    assert_memory_equal(p, q, sy_params_total_size(a.ps) * sizeof(float));
    assert_int_equal(sy_params_read_grad(b.ps, &p), SY_OK);
    assert_int_equal(sy_params_read_grad(a.ps, &q), SY_OK);
    assert_memory_equal(p, q, sy_params_trainable_size(a.ps) * sizeof(float));
    dm_free(&a);
    dm_free(&b);
}

/* A CPU model and a sim model of the same MLP, 2 steps each (losses into
 * la[0..2), lb[0..2)): what the host-access tests below start from. */
static void pair_start(dm_model *a, dm_model *b, float *la, float *lb)
{
    sy_optim_opts o = dm_opts(0);
    assert_int_equal(dm_build(a, DM_MLP, "cpu", 8, &o), 0);
    assert_int_equal(dm_build(b, DM_MLP, "sim", 8, &o), 0);
    assert_int_equal(dm_train(a, 2, la), 0);
    assert_int_equal(dm_train(b, 2, lb), 0);
}

/* 2 more steps each (la[2..4), lb[2..4)): the sim model trained as the CPU's, losses and parameters bit for bit. */
static void pair_finish(dm_model *a, dm_model *b, float *la, float *lb)
{
    assert_int_equal(dm_train(a, 2, la + 2), 0);
    assert_int_equal(dm_train(b, 2, lb + 2), 0);
    assert_memory_equal(la, lb, 4 * sizeof *la);
    assert_memory_equal(sy_params_data(a->ps), sy_params_data(b->ps), sy_params_total_size(a->ps) * sizeof(float));
    dm_free(a);
    dm_free(b);
}

/* A failed copy back is the error of every host access of a device store:
 * the writable views return it and mark nothing (the device's copy stays the
 * one trained on, so what the host buffer holds then is not uploaded), and
 * the getters return NULL with the message. */
static void test_params_failed_copy(void **state)
{
    (void)state;
    dm_model a, b;
    float la[4], lb[4];
    pair_start(&a, &b, la, lb);
    float *w = NULL;
    break_next_wait(b.g);
    assert_int_equal(sy_params_write(b.ps, &w), SY_ERR_STATE);
    assert_non_null(strstr(sy_last_error(), "copying the parameter values from device 'sim'"));
    w[0] += 1.0f; /* the host buffer only: the failed write marked nothing */
    break_next_wait(b.g);
    assert_int_equal(sy_params_write_grad(b.ps, &w), SY_ERR_STATE);
    assert_non_null(strstr(sy_last_error(), "copying the parameter gradients from device 'sim'"));
    break_next_wait(b.g);
    assert_null(sy_params_data(b.ps));
    assert_non_null(strstr(sy_last_error(), "copying the parameter values"));
    break_next_wait(b.g);
    assert_null(sy_params_tensor_grad(b.ps, 0));
    assert_non_null(strstr(sy_last_error(), "copying the parameter gradients"));
    pair_finish(&a, &b, la, lb);
}

/* A look through the getters marks nothing: they bring the host copy up to
 * date, and the device's copy stays the one the next device work uses. A
 * change to the host buffer alone (written here into what a getter returned)
 * is therefore not uploaded, and training goes on as on the CPU; a getter
 * that marked the host copy newer would upload it. */
static void test_getters_do_not_mark(void **state)
{
    (void)state;
    dm_model a, b;
    float la[4], lb[4];
    pair_start(&a, &b, la, lb);
    size_t n = sy_params_total_size(a.ps);
    float *p = sy_params_data(b.ps), *t = sy_params_tensor(b.ps, 1);
    assert_non_null(p);
    assert_ptr_equal(t, p + sy_params_info(b.ps, 1)->offset);
    assert_memory_equal(p, sy_params_data(a.ps), n * sizeof(float)); /* copied back */
    assert_memory_equal(sy_params_grad(b.ps), sy_params_grad(a.ps), sy_params_trainable_size(a.ps) * sizeof(float));
    assert_non_null(sy_params_tensor_grad(b.ps, 1));
    const float *r;
    assert_int_equal(sy_params_read(b.ps, &r), SY_OK);
    p[0] += 1.0f;
    t[0] -= 1.0f;
    pair_finish(&a, &b, la, lb);
}

/* A capture that fails (here: a wait inside it, which a capture forbids)
 * leaves the step to run eagerly, with a note, and no error left behind
 * for that eager run or the steps after. */
static void test_recorded_step_capture_fails(void **state)
{
    (void)state;
    sy_set_cuda_graphs(1);
    sy_optim_opts o = dm_opts(0);
    dm_model a, b;
    assert_int_equal(dm_build(&a, DM_MLP, "cpu", 8, &o), 0);
    assert_int_equal(dm_build(&b, DM_MLP, "sim", 8, &o), 0);
    sy_device *d = sy_gdev_device(b.g);
    d->break_capture = 1;
    float la[6], lb[6];
    assert_int_equal(dm_train(&a, 6, la), 0);
    int rc = dm_train_steps(&b, 6, lb);
    d->break_capture = 0;
    assert_int_equal(rc, 0);
    sy_train_step_stats st;
    sy_train_step_stats_get(b.g, &st);
    printf("capture fails: eager %ld, captures %ld, replays %ld: %s\n", st.eager, st.captures, st.replays, st.note);
    assert_int_equal(st.captures, 0);
    assert_int_equal(st.eager, 6);
    assert_non_null(strstr(st.note, "capture failed"));
    assert_memory_equal(la, lb, sizeof la);
    assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), sy_params_total_size(a.ps) * sizeof(float));
    dm_free(&a);
    dm_free(&b);
    sy_set_cuda_graphs(0);
}

/* On a device every buffer of the arena (value, gradient, scratch) starts
 * on a 256-byte boundary: tensor-core kernels and cuDNN want 16..256-byte
 * aligned pointers, and cuDNN 9 may refuse misaligned ones. The CPU keeps
 * its packed layout. */
static void test_arena_alignment(void **state)
{
    (void)state;
    for (int kind = 0; kind < 3; kind++) {
        sy_optim_opts o = dm_opts(0);
        dm_model m;
        assert_int_equal(dm_build(&m, (dm_kind)kind, "sim", 3, &o), 0);
        sy_graph *g = m.g;
        int bad = 0, checked = 0;
        for (int i = 0; i < g->n_nodes; i++) {
            const sy_node *n = &g->nodes[i];
            const float *p[3] = {n->val, n->grad, n->scratch};
            for (int k = 0; k < 3; k++) {
                if (!p[k] || p[k] < g->arena || p[k] >= g->arena + g->arena_floats) continue;
                checked++;
                if ((size_t)(p[k] - g->arena) % 64) {
                    if (!bad) fprintf(stderr, "node '%s': %s at float offset %zu\n", n->name, k == 0 ? "value" : k == 1 ? "gradient" : "scratch", (size_t)(p[k] - g->arena));
                    bad++;
                }
            }
        }
        printf("arena alignment, model %d: %d buffers, %d not on 256 bytes\n", kind, checked, bad);
        assert_true(checked > 10);
        assert_int_equal(bad, 0);
        dm_free(&m);
    }
}

/* Prefetching (double-buffered inputs, a helper thread filling batch k+1
 * while step k runs): the fill function draws every batch from one running
 * generator (as the batcher and augmentation do), so a batch produced out of
 * order, into the wrong block, or a stale block uploaded, changes the
 * losses. sim with prefetching, eager and recorded, must equal the CPU's
 * plain loop bit for bit, labels read back included. */
static void test_prefetch(void **state)
{
    (void)state;
    for (int kind = 0; kind < 2; kind++) {
        int E = 2, B = kind ? 3 : 5, N = E * B, ov;
        float la[16], lb[16], ya[128], yb[128], *pa, *pb;
        size_t n;
        sy_train_step_stats st;
        assert_int_equal(dm_prefetch_train((dm_kind)kind, "cpu", 0, 1, E, B, la, ya, &pa, &n, &ov, &st), 0);
        assert_int_equal(ov, 0); /* the CPU fills in place, no thread */
        for (int mode = 0; mode < 3; mode++) { /* sim: overlapped eager, overlapped recorded, not overlapped */
            assert_int_equal(dm_prefetch_train((dm_kind)kind, "sim", mode == 1, mode < 2, E, B, lb, yb, &pb, &n, &ov,
                                               &st), 0);
            assert_int_equal(ov, mode < 2);
            if (mode == 1) assert_int_equal(st.captures, 1);
            assert_memory_equal(la, lb, N * sizeof(float));
            assert_memory_equal(ya, yb, 8 * N * sizeof(float));
            assert_memory_equal(pa, pb, n * sizeof(float));
            free(pb);
        }
        free(pa);
    }
}

/* A staged upload that fails (the device's test hook) must stop training
 * with an error at the next step, eager and recorded, not train on the
 * stale block. */
static void test_prefetch_upload_fails(void **state)
{
    (void)state;
    sy_device *d = sy_device_get("sim");
    assert_non_null(d);
    for (int graphs = 0; graphs < 2; graphs++) {
        float l[16], y[128], *p = NULL;
        size_t n;
        int ov;
        sy_train_step_stats st;
        d->break_stage_upload = 1;
        int rc = dm_prefetch_train(DM_MLP, "sim", graphs, 1, 1, 4, l, y, &p, &n, &ov, &st);
        d->break_stage_upload = 0;
        printf("failed staged upload, graphs %d: rc %d: %s\n", graphs, rc, sy_last_error());
        assert_int_not_equal(rc, 0);
        assert_true(strstr(sy_last_error(), "upload") || strstr(sy_last_error(), "cudaMemcpyAsync"));
        free(p);
    }
}

/* Two graphs with staged uploads in flight at once (each staging block has
 * its own event): losses as the CPU's, eager and recorded. */
static void test_prefetch_two_graphs(void **state)
{
    (void)state;
    float ca[6], cb[6], da[6], db[6];
    assert_int_equal(dm_prefetch_pair("cpu", 0, 6, ca, cb), 0);
    for (int graphs = 0; graphs < 2; graphs++) {
        assert_int_equal(dm_prefetch_pair("sim", graphs, 6, da, db), 0);
        int ok = 1;
        for (int k = 0; k < 6; k++)
            ok &= fabsf(ca[k] - da[k]) <= 0.0f * fabsf(ca[k]) + 1e-6f && fabsf(cb[k] - db[k]) <= 0.0f * fabsf(cb[k]) + 1e-6f;
        printf("two prefetching graphs, graphs %d: last losses %.6f %.6f (cpu %.6f %.6f): %s\n", graphs, da[5], db[5],
               ca[5], cb[5], ok ? "ok" : "FAIL");
        assert_true(ok);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_op_has_a_case),
        cmocka_unit_test(test_op_cases_equal_cpu),
        cmocka_unit_test(test_harness_detects_a_difference),
        cmocka_unit_test(test_train_mlp),
        cmocka_unit_test(test_train_cnn),
        cmocka_unit_test(test_train_resnet),
        cmocka_unit_test(test_host_access_between_steps),
        cmocka_unit_test(test_params_read_write),
        cmocka_unit_test(test_checkpoint_resume_on_device),
        cmocka_unit_test(test_device_errors),
        cmocka_unit_test(test_nan_guard_like_cpu),
        cmocka_unit_test(test_precision_on_sim),
        cmocka_unit_test(test_recorded_step),
        cmocka_unit_test(test_recorded_two_optimizers),
        cmocka_unit_test(test_recorded_step_stops_before_update),
        cmocka_unit_test(test_recorded_step_capture_fails),
        cmocka_unit_test(test_recorded_step_after_eager_error),
        cmocka_unit_test(test_recorded_step_host_reads),
        cmocka_unit_test(test_recorded_step_per_graph),
        cmocka_unit_test(test_params_read),
        cmocka_unit_test(test_params_failed_copy),
        cmocka_unit_test(test_getters_do_not_mark),
        cmocka_unit_test(test_prefetch),
        cmocka_unit_test(test_prefetch_upload_fails),
        cmocka_unit_test(test_prefetch_two_graphs),
        cmocka_unit_test(test_arena_alignment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
