/* The CUDA backend against the CPU reference: every op of the op table
 * forward and backward (tests/device_cases.h, per-op tolerances), and a few
 * training steps of the MLP, the paper's MNIST CNN and a small ResNet with
 * SGD/Adam/AdamW and syre. Exits 77 (skipped, with the reason) where there
 * is no GPU or the build has no CUDA: CI has none; scripts/gpu-check.sh runs
 * it on a GPU machine. SYRE_TEST_DEVICE=sim runs the same comparisons on the
 * sim device (the CPU kernels against the reference), which checks the
 * harness and the tolerances without a GPU. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "device_cases.h"
#include "graph/graph_device.h"
#include "syre/runtime.h"
#include "syre/train.h"
#include "../cli/env_options.h"

static const char *DEV = "cuda";

/* Whether `name` is in the comma-separated list `list` (NULL or empty: all). */
static int listed(const char *list, const char *name)
{
    if (!list || !*list) return 1;
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ',') && (p[n] == ',' || p[n] == '\0')) return 1;
    return 0;
}

/* SYRE_TEST_CASES=a,b limits the op cases (gpu-check.sh reruns only the
 * failing ones under compute-sanitizer). */
static void test_ops_match_cpu_reference(void **state)
{
    (void)state;
    int bad = 0;
    for (int c = 0; c < DC_N_CASES; c++) {
        if (!listed(getenv("SYRE_TEST_CASES"), dc_cases[c].name)) continue;
        if (!strcmp(dc_cases[c].name, "rank_gather")) continue; /* CPU and sim only: refused on cuda */
        double worst = 0;
        int ok = dc_compare(&dc_cases[c], DEV, "cpu-ref", 1.0f, &worst);
        printf("op %-18s %s  worst relative difference %.2e\n", dc_cases[c].name, ok ? "ok  " : "FAIL", worst);
        bad += !ok;
    }
    assert_int_equal(bad, 0);
}

/* Training: losses per step within 1e-3 relative (early steps agree to
 * ~1e-6; differences grow a little through the updates), parameters within
 * 1e-3 of their scale. */
static void train_pair(dm_kind kind, int which, int batch, int steps, const char *label)
{
    sy_optim_opts o = dm_opts(which);
    dm_model a, b;
    assert_int_equal(dm_build(&a, kind, DEV, batch, &o), 0);
    assert_int_equal(dm_build(&b, kind, "cpu", batch, &o), 0);
    float la[8], lb[8];
    assert_int_equal(dm_train(&a, steps, la), 0);
    assert_int_equal(dm_train(&b, steps, lb), 0);
    int ok = 1;
    for (int k = 0; k < steps; k++) {
        printf("  %s step %d: loss %s %.7f cpu %.7f\n", label, k, DEV, la[k], lb[k]);
        ok &= fabsf(la[k] - lb[k]) <= 1e-3f * fabsf(lb[k]) + 1e-5f;
    }
    size_t n = sy_params_total_size(a.ps);
    ok &= dc_close(label, "parameters", sy_params_data(a.ps), sy_params_data(b.ps), n, 1e-3f, 1e-6f, NULL);
    dm_free(&a);
    dm_free(&b);
    assert_true(ok);
}

static void test_train_mlp(void **state)
{
    (void)state;
    train_pair(DM_MLP, 0, 64, 5, "mlp sgd+syre");
    train_pair(DM_MLP, 1, 64, 5, "mlp adam+syre-ar regen+clip");
    train_pair(DM_MLP, 2, 64, 5, "mlp adamw");
}
static void test_train_cnn(void **state)
{
    (void)state;
    train_pair(DM_CNN, 0, 32, 4, "cnn sgd+syre");
    train_pair(DM_CNN, 1, 32, 4, "cnn adam+syre-ar");
}
static void test_train_resnet(void **state)
{
    (void)state;
    train_pair(DM_RESNET, 0, 16, 4, "resnet sgd+syre");
    train_pair(DM_RESNET, 2, 16, 4, "resnet adamw");
}

/* The NaN guard on the device (step_device.c): the CPU's verdict, message
 * and step count for a NaN gradient, an Inf parameter and a NaN input,
 * under --on-nan stop and skip-batch, SGD and Adam with clipping. */
static void test_nan_guard(void **state)
{
    (void)state;
    int ok = 1;
    for (int what = 0; what < 3; what++)
        for (int pol = 0; pol < 2; pol++)
            for (int opt = 0; opt < 2; opt++) {
                char ma[512], mb[512];
                float *pa, *pb;
                long sa, sb;
                sy_status a = dm_nan_case(DEV, what, opt, (sy_nan_policy)pol, ma, sizeof ma, &pa, &sb);
                sy_status b = dm_nan_case("cpu", what, opt, (sy_nan_policy)pol, mb, sizeof mb, &pb, &sa);
                int same = a == b && !strcmp(ma, mb) && sa == sb &&
                           dc_close("nan guard", "parameters", pa, pb, 64, 1e-3f, 1e-6f, NULL);
                printf("nan guard case %d policy %s opt %d: %s status %d steps %ld (cpu %d, %ld) %s%s\n", what,
                       pol ? "skip-batch" : "stop", opt, DEV, (int)a, sb, (int)b, sa, same ? "same: " : "DIFFERENT: ", ma);
                ok &= same;
                free(pa);
                free(pb);
            }
    assert_true(ok);
}

/* --precision tf32 and bf16 on the device against sim's exact emulation
 * (operands rounded to nearest even, FP32 kernels): losses within 1e-3
 * relative (the tensor cores' accumulation order and their own rounding of
 * the operands may differ from the emulation), and different from fp32 on
 * the device (the option is applied). */
static void test_precision(void **state)
{
    (void)state;
    const char *precs[2] = {"tf32", "bf16"};
    int ok = 1;
    for (int kind = 0; kind < 2; kind++) {
        int steps = 4;
        float l32[8], ld[8], ls[8], *p32, *pd, *ps;
        assert_int_equal(dm_train_precision((dm_kind)kind, DEV, "fp32", 0, 32, steps, l32, &p32), 0);
        for (int q = 0; q < 2; q++) {
            assert_int_equal(dm_train_precision((dm_kind)kind, DEV, precs[q], 0, 32, steps, ld, &pd), 0);
            assert_int_equal(dm_train_precision((dm_kind)kind, "sim", precs[q], 0, 32, steps, ls, &ps), 0);
            double worst = 0, vs32 = 0;
            for (int k = 0; k < steps; k++) {
                double r = fabs((double)ld[k] - ls[k]) / fabs((double)ls[k]);
                double r32 = fabs((double)ld[k] - l32[k]) / fabs((double)l32[k]);
                if (r > worst) worst = r;
                if (r32 > vs32) vs32 = r32;
            }
            int good = worst <= 1e-3 && vs32 > 0;
            printf("precision %s %s: loss vs sim emulation %.2e, vs %s fp32 %.2e (final %.6f, fp32 %.6f) %s\n",
                   kind ? "cnn" : "mlp", precs[q], worst, DEV, vs32, ld[steps - 1], l32[steps - 1],
                   good ? "ok" : "FAIL");
            ok &= good;
            free(pd);
            free(ps);
        }
        free(p32);
    }
    assert_true(ok);
}

/* CUDA Graphs (sy_train_step with sy_set_cuda_graphs(1)): the recorded
 * step replays the same kernels, so losses and parameters must equal the
 * eager steps' (reported: the largest difference); the step must have been
 * captured once and replayed. */
static void test_cuda_graphs(void **state)
{
    (void)state;
    int ok = 1;
    for (int kind = 0; kind < 4; kind++) { /* mlp, cnn, resnet with SGD; mlp with AdamW and a schedule */
        sy_optim_opts o = dm_opts(kind == 3 ? 2 : 0);
        int steps = 6, batch = kind == 2 ? 8 : 32;
        float le[8], lg[8];
        dm_model a, b;
        dm_kind mk = kind == 3 ? DM_MLP : (dm_kind)kind;
        assert_int_equal(dm_build(&a, mk, DEV, batch, &o), 0);
        assert_int_equal(dm_train(&a, steps, le), 0);
        sy_set_cuda_graphs(1);
        assert_int_equal(dm_build(&b, mk, DEV, batch, &o), 0);
        int rc = dm_train_steps(&b, steps, lg);
        sy_set_cuda_graphs(0);
        assert_int_equal(rc, 0);
        sy_train_step_stats st;
        sy_train_step_stats_get(b.g, &st);
        double worst = 0;
        for (int k = 0; k < steps; k++) {
            double r = fabs((double)le[k] - lg[k]);
            if (r > worst) worst = r;
        }
        size_t n = sy_params_total_size(a.ps);
        const float *pa = sy_params_data(a.ps), *pb = sy_params_data(b.ps);
        double pw = 0;
        for (size_t i = 0; i < n; i++) {
            double r = fabs((double)pa[i] - pb[i]);
            if (r > pw) pw = r;
        }
        int good = st.captures == 1 && st.replays == steps - 1 && worst <= 1e-6 && pw <= 1e-6;
        printf("cuda graphs %s: eager %ld captures %ld replays %ld%s%s; largest loss difference %.2e, parameter "
               "%.2e: %s\n", kind == 0 ? "mlp" : kind == 1 ? "cnn" : kind == 2 ? "resnet" : "mlp adamw+cosine", st.eager, st.captures, st.replays,
               st.note[0] ? ", off: " : "", st.note, worst, pw, good ? "ok" : "FAIL");
        ok &= good;
        dm_free(&a);
        dm_free(&b);
    }
    assert_true(ok);
}

/* Gradient clipping on the device (norm and factor computed there, read by
 * the update kernels; the host reads the norm after the wait), eager and
 * recorded with CUDA Graphs: Adam + syre-ar and SGD + W-fix (its entries
 * out of the norm), with a bound the gradients exceed and one they do not.
 * Losses within 1e-3 of the CPU's, norms within 1e-5, parameters within
 * 1e-3 of their scale; the recorded step captured once. */
static void test_clipping(void **state)
{
    (void)state;
    int ok = 1;
    for (int v = 0; v < 4; v++) {
        sy_optim_opts o = dm_clip_opts(v);
        for (int rec = 0; rec < 2; rec++) {
            dm_model a, b;
            sy_set_cuda_graphs(rec);
            assert_int_equal(dm_build(&a, DM_MLP, "cpu", 16, &o), 0);
            assert_int_equal(dm_build(&b, DM_MLP, DEV, 16, &o), 0);
            double wl = 0, wn = 0;
            int good = 1;
            for (int k = 0; k < 6; k++) {
                dm_batch(&a, k);
                dm_batch(&b, k);
                good &= sy_graph_forward(a.g) == SY_OK && sy_graph_backward(a.g, a.loss) == SY_OK &&
                        sy_optimizer_step(a.opt) == SY_OK && sy_train_step(b.g, b.loss, b.opt) == SY_OK;
                double na = sy_optimizer_last_grad_norm(a.opt), nb = sy_optimizer_last_grad_norm(b.opt);
                double la = sy_graph_scalar(a.g, a.loss), lb = sy_graph_scalar(b.g, b.loss);
                if (fabs(na - nb) / na > wn) wn = fabs(na - nb) / na;
                if (fabs(la - lb) / fabs(la) > wl) wl = fabs(la - lb) / fabs(la);
            }
            sy_set_cuda_graphs(0);
            sy_train_step_stats st;
            sy_train_step_stats_get(b.g, &st);
            size_t n = sy_params_total_size(a.ps);
            good &= wl <= 1e-3 && wn <= 1e-5 && st.captures == rec &&
                    dc_close("clipping", "parameters", sy_params_data(b.ps), sy_params_data(a.ps), n, 1e-3f, 1e-6f, NULL);
            printf("clipping %s max %g %s: captures %ld replays %ld%s%s; loss vs cpu %.2e, norm %.2e (norm %.4f): %s\n",
                   v < 2 ? "adam+syre-ar" : "sgd+wfix", o.max_grad_norm, rec ? "recorded" : "eager", st.captures,
                   st.replays, st.note[0] ? ", off: " : "", st.note, wl, wn, sy_optimizer_last_grad_norm(a.opt),
                   good ? "ok" : "FAIL");
            ok &= good;
            dm_free(&a);
            dm_free(&b);
        }
    }
    assert_true(ok);
}

/* Dropout on the device, eager and recorded: the kernel reads the step from
 * the graph's device counter (copied in from pinned memory by every forward
 * and by the recorded work), so masks are the CPU's Philox stream at every
 * replay. Losses within 1e-3 of the CPU's, parameters within 1e-3; the
 * recorded run captured once and replayed. */
static void test_dropout(void **state)
{
    (void)state;
    int ok = 1;
    for (int rec = 0; rec < 2; rec++) {
        sy_optim_opts o = dm_opts(0);
        dm_model a, b;
        float la[8], lb[8];
        sy_set_cuda_graphs(rec);
        assert_int_equal(dm_build(&a, DM_MLP_DROPOUT, "cpu", 16, &o), 0);
        assert_int_equal(dm_build(&b, DM_MLP_DROPOUT, DEV, 16, &o), 0);
        assert_int_equal(dm_train(&a, 6, la), 0);
        int rc = rec ? dm_train_steps(&b, 6, lb) : dm_train(&b, 6, lb);
        sy_set_cuda_graphs(0);
        assert_int_equal(rc, 0);
        sy_train_step_stats st;
        sy_train_step_stats_get(b.g, &st);
        double wl = 0;
        for (int k = 0; k < 6; k++)
            if (fabs((double)la[k] - lb[k]) / fabs((double)la[k]) > wl) wl = fabs((double)la[k] - lb[k]) / fabs((double)la[k]);
        size_t n = sy_params_total_size(a.ps);
        int good = wl <= 1e-3 && st.captures == rec && (!rec || st.replays == 5) &&
                   dc_close("dropout", "parameters", sy_params_data(b.ps), sy_params_data(a.ps), n, 1e-3f, 1e-6f, NULL);
        printf("dropout %s: captures %ld replays %ld%s%s; loss vs cpu %.2e: %s\n", rec ? "recorded" : "eager",
               st.captures, st.replays, st.note[0] ? ", off: " : "", st.note, wl, good ? "ok" : "FAIL");
        ok &= good;
        dm_free(&a);
        dm_free(&b);
    }
    assert_true(ok);
}

/* Prefetching (sy_prefetch): batch k+1 prepared on a helper thread into the
 * spare pinned block and uploaded on the copy stream while step k runs,
 * then copied into the inputs after the stream waits for its event (eager
 * and recorded). Losses within the training tolerance of the CPU's, the
 * labels read back equal, and prefetch on vs off within 1e-5 (a batch from
 * the wrong block, or an upload not waited for, gives another batch's loss). */
static void test_prefetch(void **state)
{
    (void)state;
    int ok = 1;
    for (int kind = 0; kind < 2; kind++) {
        int E = 2, B = kind ? 3 : 5, N = E * B, ov;
        float lc[16], yc[128], ld[3][16], yd[3][128], *pc, *pd[3];
        size_t n;
        sy_train_step_stats st;
        assert_int_equal(dm_prefetch_train((dm_kind)kind, "cpu", 0, 1, E, B, lc, yc, &pc, &n, &ov, &st), 0);
        for (int mode = 0; mode < 3; mode++) { /* overlapped eager, overlapped recorded, not overlapped */
            assert_int_equal(dm_prefetch_train((dm_kind)kind, DEV, mode == 1, mode < 2, E, B, ld[mode], yd[mode],
                                               &pd[mode], &n, &ov, &st), 0);
            int good = ov == (mode < 2) && (mode != 1 || (st.captures == 1 && st.replays == N - 1)) &&
                       !memcmp(yc, yd[mode], 8 * N * sizeof(float));
            double worst = 0, vs_off = 0;
            for (int k = 0; k < N; k++) {
                good &= fabsf(ld[mode][k] - lc[k]) <= 1e-3f * fabsf(lc[k]) + 1e-5f;
                double r = fabs((double)ld[mode][k] - lc[k]) / fabs((double)lc[k]);
                if (r > worst) worst = r;
            }
            good &= dc_close("prefetch", "parameters", pd[mode], pc, n, 1e-3f, 1e-6f, NULL);
            if (mode == 2)
                for (int m2 = 0; m2 < 2; m2++)
                    for (int k = 0; k < N; k++) {
                        double r = fabs((double)ld[m2][k] - ld[2][k]) / fabs((double)ld[2][k]);
                        if (r > vs_off) vs_off = r;
                    }
            if (mode == 2) good &= vs_off <= 1e-5;
            printf("prefetch %s %s: overlap %d, captures %ld replays %ld; loss vs cpu %.2e%s: %s\n",
                   kind ? "cnn" : "mlp", mode == 0 ? "eager" : mode == 1 ? "recorded" : "off", ov, st.captures,
                   st.replays, worst, mode == 2 ? "" : "", good ? "ok" : "FAIL");
            if (mode == 2) printf("prefetch %s: on vs off, largest loss difference %.2e\n", kind ? "cnn" : "mlp", vs_off);
            ok &= good;
        }
        for (int m = 0; m < 3; m++) free(pd[m]);
        free(pc);
    }
    assert_true(ok);
}

/* Two optimizers in turn on one graph, recorded (dm_two_optimizers): the
 * second must record anew, not replay the first's freed state; losses and
 * parameters as the CPU's (1e-3). */
static void test_two_optimizers(void **state)
{
    (void)state;
    float la[10], lb[10], *pa, *pb;
    size_t n;
    sy_train_step_stats st;
    int same;
    assert_int_equal(dm_two_optimizers("cpu", la, &pa, &n, &st, &same), 0);
    sy_set_cuda_graphs(1);
    int rc = dm_two_optimizers(DEV, lb, &pb, &n, &st, &same);
    sy_set_cuda_graphs(0);
    assert_int_equal(rc, 0);
    int ok = st.captures == 2;
    for (int k = 0; k < 10; k++) ok &= fabsf(la[k] - lb[k]) <= 1e-3f * fabsf(la[k]) + 1e-5f;
    ok &= dc_close("two optimizers", "parameters", pb, pa, n, 1e-3f, 1e-6f, NULL);
    printf("two optimizers (%s address): eager %ld captures %ld replays %ld, last loss %s %.6f cpu %.6f: %s\n",
           same ? "same" : "another", st.eager, st.captures, st.replays, DEV, lb[9], la[9], ok ? "ok" : "FAIL");
    free(pa);
    free(pb);
    assert_true(ok);
}

/* A recorded step that the host stops (a label out of range; an Inf loss
 * under stop) must leave the parameters as the CPU does (dm_stop_case). */
static void test_stops_before_update(void **state)
{
    (void)state;
    int ok = 1;
    for (int what = 0; what < 3; what++) {
        char m0[512], m1[512];
        long s0, s1;
        float *p0, *p1;
        size_t n;
        sy_status f0 = dm_stop_case("cpu", what, m0, sizeof m0, &s0, &p0, &n);
        sy_set_cuda_graphs(1);
        sy_status f1 = dm_stop_case(DEV, what, m1, sizeof m1, &s1, &p1, &n);
        sy_set_cuda_graphs(0);
        int good = f0 == f1 && s0 == s1 && dc_close("stop", "parameters", p1, p0, n, 1e-3f, 1e-6f, NULL);
        printf("recorded step stops, case %d: cpu %d steps %ld, %s %d steps %ld '%s': %s\n", what, (int)f0, s0, DEV,
               (int)f1, s1, m1, good ? "ok" : "FAIL");
        ok &= good;
        free(p0);
        free(p1);
    }
    assert_true(ok);
}

/* A capture that fails (the device's test hook makes a wait inside it)
 * must leave no error behind: the step runs eagerly, with a note, and the
 * next steps too; losses as the CPU's. */
static void test_capture_fails(void **state)
{
    (void)state;
    sy_optim_opts o = dm_opts(0);
    dm_model a, b;
    sy_set_cuda_graphs(1);
    assert_int_equal(dm_build(&a, DM_MLP, "cpu", 8, &o), 0);
    assert_int_equal(dm_build(&b, DM_MLP, DEV, 8, &o), 0);
    sy_device *d = sy_gdev_device(b.g);
    float la[6], lb[6];
    assert_int_equal(dm_train(&a, 6, la), 0);
    d->break_capture = 1;
    int rc = dm_train_steps(&b, 6, lb);
    d->break_capture = 0;
    sy_set_cuda_graphs(0);
    sy_train_step_stats st;
    sy_train_step_stats_get(b.g, &st);
    int ok = rc == 0 && st.captures == 0 && st.eager == 6;
    for (int k = 0; k < 6; k++) ok &= fabsf(la[k] - lb[k]) <= 1e-3f * fabsf(la[k]) + 1e-5f;
    printf("capture fails: rc %d, eager %ld captures %ld, note '%s': %s\n", rc, st.eager, st.captures, st.note,
           ok ? "ok" : "FAIL");
    dm_free(&a);
    dm_free(&b);
    assert_true(ok);
}

/* The same training twice on the device gives the same bits: no
 * order-dependent float atomics, no non-deterministic cuDNN algorithm (the
 * recorded-versus-eager comparisons rely on it). CNN and ResNet (bias,
 * max-pool, convolution gradients). */
static void test_deterministic(void **state)
{
    (void)state;
    int ok = 1;
    for (int kind = 1; kind < 3; kind++) {
        sy_optim_opts o = dm_opts(0);
        float l[2][4];
        float *p[2];
        size_t n = 0;
        for (int r = 0; r < 2; r++) {
            dm_model m;
            assert_int_equal(dm_build(&m, (dm_kind)kind, DEV, 8, &o), 0);
            assert_int_equal(dm_train(&m, 4, l[r]), 0);
            n = sy_params_total_size(m.ps);
            p[r] = malloc(n * sizeof(float));
            memcpy(p[r], sy_params_data(m.ps), n * sizeof(float));
            dm_free(&m);
        }
        int good = !memcmp(l[0], l[1], sizeof l[0]) && !memcmp(p[0], p[1], n * sizeof(float));
        printf("deterministic %s: %s\n", kind == 1 ? "cnn" : "resnet", good ? "ok" : "FAIL (two runs differ)");
        ok &= good;
        free(p[0]);
        free(p[1]);
    }
    assert_true(ok);
}

/* The cuDNN plan cache is keyed by graph id, node, shapes and precision: a
 * CNN built after a TF32 one (same shapes, the allocator may reuse every
 * address) must compute in FP32 (logits within the convolution cases'
 * 1e-4 of the CPU's; TF32 is ~1e-3 off). */
static void test_plan_cache_precision(void **state)
{
    (void)state;
    sy_optim_opts o = dm_opts(0);
    dm_model a, b, c;
    float l[2];
    assert_int_equal(sy_set_precision("tf32"), SY_OK);
    assert_int_equal(dm_build(&a, DM_CNN, DEV, 8, &o), 0);
    assert_int_equal(dm_train(&a, 1, l), 0);
    dm_free(&a);
    assert_int_equal(sy_set_precision("fp32"), SY_OK);
    assert_int_equal(dm_build(&b, DM_CNN, DEV, 8, &o), 0);
    assert_int_equal(dm_build(&c, DM_CNN, "cpu", 8, &o), 0);
    dm_batch(&b, 0);
    dm_batch(&c, 0);
    assert_int_equal(sy_graph_forward(b.g), SY_OK);
    assert_int_equal(sy_graph_forward(c.g), SY_OK);
    double worst = 0;
    int ok = dc_close("cnn after tf32", "logits", sy_graph_data(b.g, b.logits), sy_graph_data(c.g, c.logits), 8 * 10,
                      1e-4f, 1e-6f, &worst);
    printf("plan cache: fp32 CNN after a tf32 one, logits vs cpu worst relative %.2e: %s\n", worst, ok ? "ok" : "FAIL");
    dm_free(&b);
    dm_free(&c);
    assert_true(ok);
}

/* A staged upload that fails (the device's test hook) must stop training
 * with an error at the next step, eager and recorded, not train on the
 * stale block. */
static void test_prefetch_upload_fails(void **state)
{
    (void)state;
    sy_device *d = sy_device_get(DEV);
    assert_non_null(d);
    for (int graphs = 0; graphs < 2; graphs++) {
        float l[16], y[128], *p = NULL;
        size_t n;
        int ov;
        sy_train_step_stats st;
        d->break_stage_upload = 1;
        int rc = dm_prefetch_train(DM_MLP, DEV, graphs, 1, 1, 4, l, y, &p, &n, &ov, &st);
        d->break_stage_upload = 0;
        printf("failed staged upload, graphs %d: rc %d: %s\n", graphs, rc, sy_last_error());
        assert_true(rc != 0);
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
        assert_int_equal(dm_prefetch_pair(DEV, graphs, 6, da, db), 0);
        int ok = 1;
        for (int k = 0; k < 6; k++)
            ok &= fabsf(ca[k] - da[k]) <= 1e-3f * fabsf(ca[k]) + 1e-6f && fabsf(cb[k] - db[k]) <= 1e-3f * fabsf(cb[k]) + 1e-6f;
        printf("two prefetching graphs, graphs %d: last losses %.6f %.6f (cpu %.6f %.6f): %s\n", graphs, da[5], db[5],
               ca[5], cb[5], ok ? "ok" : "FAIL");
        assert_true(ok);
    }
}

/* Host reads between recorded steps: gradients and the optimizer's moments
 * after every step as the CPU's (1e-3 of their scale). A replay does not
 * run the host code that marked them changed at capture. */
static void test_recorded_host_reads(void **state)
{
    (void)state;
    sy_optim_opts o = dm_opts(0);
    dm_model a, b;
    sy_set_cuda_graphs(1);
    assert_int_equal(dm_build(&a, DM_MLP, "cpu", 8, &o), 0);
    assert_int_equal(dm_build(&b, DM_MLP, DEV, 8, &o), 0);
    size_t nt = sy_params_trainable_size(a.ps);
    int ok = 1;
    for (int k = 0; k < 6; k++) {
        dm_batch(&a, k);
        dm_batch(&b, k);
        assert_int_equal(sy_graph_forward(a.g), SY_OK);
        assert_int_equal(sy_graph_backward(a.g, a.loss), SY_OK);
        assert_int_equal(sy_optimizer_step(a.opt), SY_OK);
        assert_int_equal(sy_train_step(b.g, b.loss, b.opt), SY_OK);
        ok &= dc_close("host reads", "gradients", sy_params_grad(b.ps), sy_params_grad(a.ps), nt, 1e-3f, 1e-6f, NULL);
        ok &= dc_close("host reads", "moments", sy_optimizer_state(b.opt, 0), sy_optimizer_state(a.opt, 0), nt, 1e-3f,
                       1e-6f, NULL);
    }
    sy_set_cuda_graphs(0);
    sy_train_step_stats st;
    sy_train_step_stats_get(b.g, &st);
    printf("host reads between recorded steps: captures %ld replays %ld: %s\n", st.captures, st.replays,
           ok ? "ok" : "FAIL");
    dm_free(&a);
    dm_free(&b);
    assert_true(ok && st.replays == 5);
}

/* gpu-check.sh's first minute: one op case per family against the CPU
 * reference, and an MLP trained 3 steps through the recorded step (eager,
 * captured, replayed) against the CPU's losses (1e-3). */
static void test_smoke(void **state)
{
    (void)state;
    static const char *family[] = {"matmul_nt", "bias_add4", "add_bcast", "tanh", "sum_axis1", "concat_self",
                                   "slice", "conv3x3_s2", "maxpool3s2", "global_avgpool", "batchnorm4_train",
                                   "dropout_train", "l2normalize", "softmax_ce", "kl_gauss", "clamp"};
    int bad = 0;
    for (size_t f = 0; f < sizeof family / sizeof family[0]; f++)
        for (int c = 0; c < DC_N_CASES; c++) {
            if (strcmp(dc_cases[c].name, family[f])) continue;
            double worst = 0;
            int ok = dc_compare(&dc_cases[c], DEV, "cpu-ref", 1.0f, &worst);
            printf("smoke op %-18s %s  worst relative difference %.2e\n", dc_cases[c].name, ok ? "ok  " : "FAIL", worst);
            bad += !ok;
        }
    sy_optim_opts o = dm_opts(0);
    dm_model a, b;
    float la[3], lb[3];
    assert_int_equal(dm_build(&a, DM_MLP, "cpu", 16, &o), 0);
    sy_set_cuda_graphs(1);
    assert_int_equal(dm_build(&b, DM_MLP, DEV, 16, &o), 0);
    assert_int_equal(dm_train(&a, 3, la), 0);
    int rc = dm_train_steps(&b, 3, lb);
    sy_set_cuda_graphs(0);
    sy_train_step_stats st;
    sy_train_step_stats_get(b.g, &st);
    int ok = rc == 0 && st.captures == 1 && st.replays == 2;
    for (int k = 0; k < 3; k++) ok &= fabsf(la[k] - lb[k]) <= 1e-3f * fabsf(la[k]) + 1e-5f;
    printf("smoke recorded mlp step: rc %d, eager %ld captures %ld replays %ld%s%s, losses %s %.6f %.6f %.6f cpu "
           "%.6f %.6f %.6f: %s\n", rc, st.eager, st.captures, st.replays, st.note[0] ? ", off: " : "", st.note, DEV,
           lb[0], lb[1], lb[2], la[0], la[1], la[2], ok ? "ok" : "FAIL");
    dm_free(&a);
    dm_free(&b);
    assert_true(ok);
    assert_int_equal(bad, 0);
}

int main(void)
{
    /* SYRE_CUDNN=0, SYRE_CUDA_SYNC=1 (gpu-check.sh's reruns), as the command reads them. */
    if (sy_env_apply_runtime() != SY_OK) {
        fprintf(stderr, "%s\n", sy_last_error());
        return 1;
    }
    const char *env = getenv("SYRE_TEST_DEVICE");
    if (env && *env) DEV = env;
    if (sy_device_check(DEV) != SY_OK) {
        printf("SKIPPED: %s\n", sy_last_error());
        return 77;
    }
    printf("device: %s\n", sy_device_info(DEV));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smoke),
        cmocka_unit_test(test_ops_match_cpu_reference),
        cmocka_unit_test(test_train_mlp),
        cmocka_unit_test(test_train_cnn),
        cmocka_unit_test(test_train_resnet),
        cmocka_unit_test(test_nan_guard),
        cmocka_unit_test(test_precision),
        cmocka_unit_test(test_cuda_graphs),
        cmocka_unit_test(test_clipping),
        cmocka_unit_test(test_dropout),
        cmocka_unit_test(test_prefetch),
        cmocka_unit_test(test_prefetch_upload_fails),
        cmocka_unit_test(test_prefetch_two_graphs),
        cmocka_unit_test(test_two_optimizers),
        cmocka_unit_test(test_stops_before_update),
        cmocka_unit_test(test_capture_fails),
        cmocka_unit_test(test_recorded_host_reads),
        cmocka_unit_test(test_deterministic),
        cmocka_unit_test(test_plan_cache_precision),
    };
    /* SYRE_TEST_ONLY=a,b runs only those tests (gpu-check.sh: the smoke
     * test first, the rest after; diagnostics on the failing ones); without
     * it every test but the smoke test, which the others cover. */
    const char *only = getenv("SYRE_TEST_ONLY");
    struct CMUnitTest sel[sizeof tests / sizeof tests[0]];
    size_t k = 0;
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (only && *only ? listed(only, tests[i].name) : strcmp(tests[i].name, "test_smoke") != 0) sel[k++] = tests[i];
    if (!k) {
        printf("no test of test_cuda is named in SYRE_TEST_ONLY=%s\n", only);
        return 1;
    }
#ifdef SYRE_GPU_MIN_CMOCKA_H
    return (cmocka_run_group_tests)(sel, k * sizeof sel[0], NULL, NULL);
#else
    return _cmocka_run_group_tests("test_cuda", sel, k, NULL, NULL);
#endif
}
