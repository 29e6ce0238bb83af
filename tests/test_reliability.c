#define _GNU_SOURCE
/* Reliability regressions: inputs the fuzzers found, each turned into a test
 * of the message a user gets (the raw inputs are also replayed under the
 * sanitizers by test_fuzz_<target>, see tests/fuzz_replay.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <math.h>
#include <unistd.h>

#include "syre/format.h"
#include "syre/syre.h"

static char tmp[256];

static int setup(void **state)
{
    snprintf(tmp, sizeof tmp, "/tmp/syre-rel-XXXXXX");
    return mkdtemp(tmp) ? 0 : -1;
}

static int teardown(void **state)
{
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp);
    return system(cmd) == 0 ? 0 : -1;
}

/* Bytes of a regression input (skipping `skip` leading harness bytes). */
static unsigned char *read_input(const char *target, const char *name, size_t skip, size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/tests/fuzz-regress/%s/%s", SYRE_SOURCE_DIR, target, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc((size_t)len);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    assert_true((size_t)len >= skip);
    memmove(b, b + skip, (size_t)len - skip);
    *n = (size_t)len - skip;
    return b;
}

static void write_file(const char *path, const void *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* One image file in <tmp>/img/c0/, loaded as an image folder. */
static sy_status load_one_image(const char *fname, const void *b, size_t n, sy_dataset **d)
{
    char dir[512], path[600];
    snprintf(dir, sizeof dir, "%s/img", tmp);
    mkdir(dir, 0700);
    snprintf(path, sizeof path, "%s/img/c0", tmp);
    mkdir(path, 0700);
    snprintf(path, sizeof path, "%s/img/c0/%s", tmp, fname);
    write_file(path, b, n);
    sy_status s = sy_imagefolder_load(dir, 3, 0, "t", d);
    unlink(path);
    return s;
}

/* fuzz_image found three JPEGs on which Debian's stb_image 2.27 had
 * undefined behaviour: a Huffman table declaring more than 256 codes (write
 * past the table), the same table cut by the end of the file, and a damaged
 * stream that made stbi__grow_buffer_unsafe shift a 32-bit value by 32. The
 * reader now decodes with libjpeg-turbo, which refuses all three as damaged
 * data (junk between marker segments) with an error naming the file. */
static void check_jpeg_refused(const char *input, const char *fname)
{
    size_t n;
    unsigned char *b = read_input("image", input, 1, &n);
    sy_dataset *d = NULL;
    assert_int_equal(load_one_image(fname, b, n, &d), SY_ERR_FORMAT);
    assert_null(d);
    assert_non_null(strstr(sy_last_error(), fname));
    assert_non_null(strstr(sy_last_error(), "unreadable JPEG (Corrupt JPEG data"));
    free(b);
}

static void test_jpeg_damaged_inputs_refused(void **state)
{
    check_jpeg_refused("jpeg-dht-counts-over-256", "a.jpg");
    check_jpeg_refused("jpeg-dht-truncated-segment", "b.jpg");
    check_jpeg_refused("jpeg-grow-buffer-shift-32", "c.jpg");
}

/* A seed JPEG (CIFAR-10, 32 x 32), without the fuzz input's channel byte. */
static unsigned char *seed_jpeg(size_t *n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/fuzz/corpus/image/cifar-airplane.jpg", SYRE_SOURCE_DIR);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    static unsigned char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf, f);
    fclose(f);
    assert_true(len > 100 && len < sizeof buf);
    unsigned char *b = malloc(len - 1);
    assert_non_null(b);
    memcpy(b, buf + 1, len - 1);
    *n = len - 1;
    return b;
}

/* A JPEG cut short is refused (libjpeg alone would fill the rest with grey);
 * a metadata oddity (unknown JFIF revision) is only a warning and loads. */
static void test_jpeg_cut_refused_metadata_warning_loads(void **state)
{
    size_t n;
    unsigned char *b = seed_jpeg(&n);
    sy_dataset *d = NULL;
    assert_int_equal(load_one_image("d.jpg", b, n, &d), SY_OK);
    assert_int_equal(d->n, 1);
    sy_dataset_free(d);
    d = NULL;
    assert_int_equal(load_one_image("e.jpg", b, n / 2, &d), SY_ERR_FORMAT);
    assert_null(d);
    assert_non_null(strstr(sy_last_error(), "e.jpg"));
    assert_non_null(strstr(sy_last_error(), "Premature end of JPEG file"));
    assert_true(b[6] == 'J' && b[7] == 'F' && b[11] == 1); /* APP0 JFIF, version 1.x */
    b[11] = 3;
    assert_int_equal(load_one_image("f.jpg", b, n, &d), SY_OK);
    sy_dataset_free(d);
    free(b);
}

/* Only PNG and JPEG reach the decoder, whatever the file is called. */
static void test_image_signature_checked(void **state)
{
    const char gif[] = "GIF89a\x01\x00\x01\x00\x00\x00\x00;";
    sy_dataset *d = NULL;
    assert_int_equal(load_one_image("c.png", gif, sizeof gif - 1, &d), SY_ERR_FORMAT);
    assert_non_null(strstr(sy_last_error(), "not a PNG or JPEG"));
}

/* An IDX header may claim up to 2^28 images of 4096 x 4096: the reader must
 * not allocate what the header says before the data is there (a 2^52-byte
 * request failed as "out of memory", and under the fuzzer's allocator it
 * was a crash); it reports the file as truncated. */
static void test_idx_huge_header_is_truncation(void **state)
{
    unsigned char lab[8 + 4] = {0, 0, 8, 1, 0x10, 0, 0, 0, 1, 2, 3, 4};
    unsigned char img[16 + 8] = {0, 0, 8, 3, 0x10, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0x10, 0, 9, 9, 9, 9, 9, 9, 9, 9};
    char lp[512], ip[512];
    snprintf(lp, sizeof lp, "%s/l.idx", tmp);
    snprintf(ip, sizeof ip, "%s/i.idx", tmp);
    write_file(lp, lab, sizeof lab);
    write_file(ip, img, sizeof img);
    sy_dataset *d = NULL;
    assert_int_equal(sy_idx_load(ip, lp, "t", &d), SY_ERR_FORMAT);
    assert_null(d);
    assert_non_null(strstr(sy_last_error(), "truncated"));
}

/* ---- Crash safety of the writer ---------------------------------------- */

/* Content check: the file is n bytes, all equal to v. */
static int file_is(const char *path, size_t n, unsigned char v)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    unsigned char buf[65536];
    size_t total = 0, got;
    int ok = 1;
    while ((got = fread(buf, 1, sizeof buf, f)) > 0) {
        for (size_t i = 0; i < got; i++) ok &= buf[i] == v;
        total += got;
    }
    fclose(f);
    return ok && total == n;
}

/* sy_write_file_atomic killed with SIGKILL in the middle of writing 32 MiB:
 * the file holds the old content or the new, whole, never a mix or a
 * prefix. (The end-to-end test, tests/test_kill_resume.sh, rarely lands a
 * kill inside a small checkpoint write; this one aims at the write.) */
static void test_atomic_write_survives_sigkill(void **state)
{
    char path[512];
    snprintf(path, sizeof path, "%s/state.bin", tmp);
    const size_t old_n = 1 << 20, new_n = 32u << 20;
    unsigned char *b = malloc(new_n);
    assert_non_null(b);
    memset(b, 0xA1, old_n);
    assert_int_equal(sy_write_file_atomic(path, b, old_n), SY_OK);
    memset(b, 0xB2, new_n);
    int mid = 0;
    for (int k = 0; k < 6; k++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) _exit(sy_write_file_atomic(path, b, new_n) == SY_OK ? 0 : 1);
        usleep(1000 + 4000 * (useconds_t)k); /* 1 ms .. 21 ms into the write */
        kill(pid, SIGKILL);
        int status;
        assert_int_equal(waitpid(pid, &status, 0), pid);
        int killed = WIFSIGNALED(status);
        int is_old = file_is(path, old_n, 0xA1), is_new = file_is(path, new_n, 0xB2);
        assert_true(is_old || is_new);
        if (killed && is_old) mid++;
        if (is_new) { /* the write completed: put the old content back */
            memset(b, 0xA1, old_n);
            assert_int_equal(sy_write_file_atomic(path, b, old_n), SY_OK);
            memset(b, 0xB2, new_n);
        }
    }
    print_message("%d of 6 kills landed during the write; the file was whole every time\n", mid);
    assert_true(mid > 0); /* the test aimed at the write at least once */
    free(b);
}

/* ---- Numerical faults ------------------------------------------------- */

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_optimizer *opt;
    sy_var x, y, loss;
} model;

/* policy: the graph's and the optimizer's own NaN policy (SY_NAN_PROCESS: the process's). */
static void build_policy(model *m, float lr, float clip, int policy)
{
    m->ps = sy_params_new();
    sy_graph_opts go = sy_graph_opts_default();
    go.nan_policy = policy;
    m->g = sy_graph_new_opts(m->ps, &go);
    int sizes[3] = {12, 8, 4};
    m->x = sy_input(m->g, "x", sy_shape_of(2, 16, 12));
    m->y = sy_input(m->g, "y", sy_shape_of(1, 16));
    m->loss = sy_softmax_ce(m->g, sy_mlp(m->g, m->x, "mlp", sizes, 3, SY_ACT_RELU), m->y);
    assert_int_equal(sy_graph_compile(m->g), SY_OK);
    assert_int_equal(sy_params_init(m->ps, 3), SY_OK);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAM);
    o.lr = lr;
    o.max_grad_norm = clip;
    o.decay = sy_decay_syre(1e-2f, 0.1f);
    o.nan_policy = policy;
    m->opt = sy_optimizer_new(m->ps, &o);
    assert_non_null(m->opt);
}

static void build(model *m, float lr, float clip) { build_policy(m, lr, clip, SY_NAN_PROCESS); }

static void drop(model *m)
{
    sy_optimizer_free(m->opt);
    sy_graph_free(m->g);
    sy_params_free(m->ps);
}

/* One batch (deterministic in s); poison = 1 puts a NaN in the input. */
static sy_status step(model *m, int s, int poison)
{
    float *x = sy_graph_data(m->g, m->x), *y = sy_graph_data(m->g, m->y);
    for (int i = 0; i < 16 * 12; i++) x[i] = (float)((i * 13 + s * 7) % 17) / 17.0f - 0.5f;
    for (int i = 0; i < 16; i++) y[i] = (float)((i + s) % 4);
    if (poison) x[5] = NAN;
    sy_status st = sy_graph_forward(m->g);
    if (st == SY_OK) st = sy_graph_backward(m->g, m->loss);
    if (st == SY_OK) st = sy_optimizer_step(m->opt);
    return st;
}

/* stop: a NaN in the input or an Inf gradient stops the optimizer step,
 * naming the step, the tensor and the last checkpoint, with the parameters
 * untouched; a diverging lr stops too. (A NaN loss: tests/test_nan_cli.sh.) */
static void test_nan_stop_messages(void **state)
{
    sy_set_nan_policy(SY_NAN_STOP);
    model m;
    build(&m, 1e-2f, 0);
    for (int s = 0; s < 3; s++) assert_int_equal(step(&m, s, 0), SY_OK);
    char ckpt[512];
    snprintf(ckpt, sizeof ckpt, "%s/good.safetensors", tmp);
    sy_train_pos pos = {.epoch = 0, .batch = 3};
    assert_int_equal(sy_train_save(ckpt, m.ps, m.opt, &pos), SY_OK);

    assert_int_equal(step(&m, 3, 1), SY_ERR_NUMERIC);
    const char *e = sy_last_error();
    /* ReLU maps the NaN input to 0, so the loss stays finite: the gradient
     * check is what catches it, in the first layer's weight. */
    assert_non_null(strstr(e, "optimizer step 4: gradient of 'mlp.0.weight'"));
    assert_non_null(strstr(e, "is NaN; update not applied"));
    assert_non_null(strstr(e, ckpt));

    size_t n = sy_params_trainable_size(m.ps);
    float *before = malloc(n * sizeof *before);
    memcpy(before, sy_params_data(m.ps), n * sizeof *before);
    float *x = sy_graph_data(m.g, m.x);
    for (int i = 0; i < 16 * 12; i++) x[i] = 0.1f;
    assert_int_equal(sy_graph_forward(m.g), SY_OK);
    assert_int_equal(sy_graph_backward(m.g, m.loss), SY_OK);
    sy_params_grad(m.ps)[n - 1] = INFINITY; /* the last element: the last tensor */
    assert_int_equal(sy_optimizer_step(m.opt), SY_ERR_NUMERIC);
    e = sy_last_error();
    assert_non_null(strstr(e, "optimizer step 4: gradient of '"));
    assert_non_null(strstr(e, "is +Inf; update not applied"));
    assert_non_null(strstr(e, ckpt));
    assert_memory_equal(before, sy_params_data(m.ps), n * sizeof *before);
    free(before);
    drop(&m);

    build(&m, 1e30f, 0); /* Adam's first step moves every weight by about lr */
    sy_status st = SY_OK;
    for (int s = 0; s < 5 && st == SY_OK; s++) st = step(&m, s, 0);
    assert_int_equal(st, SY_ERR_NUMERIC);
    e = sy_last_error();
    assert_true(strstr(e, "parameter 'mlp") != NULL || strstr(e, "gradient of 'mlp") != NULL ||
                strstr(e, "loss") != NULL);
    drop(&m);
}

/* skip-batch: training on batches 0, 1, poisoned 2, 3 gives exactly the
 * parameters of training on 0, 1, 3 (the step count does not advance), with
 * and without gradient clipping (whose norm would otherwise be NaN). */
static void skip_batch(float clip)
{
    model a, b;
    build(&a, 1e-2f, clip);
    build(&b, 1e-2f, clip);
    sy_set_nan_policy(SY_NAN_SKIP_BATCH);
    long before = sy_nan_skipped();
    for (int s = 0; s < 4; s++) assert_int_equal(step(&a, s, s == 2), SY_OK);
    assert_int_equal(sy_nan_skipped(), before + 1);
    sy_set_nan_policy(SY_NAN_STOP);
    for (int s = 0; s < 4; s++)
        if (s != 2) assert_int_equal(step(&b, s, 0), SY_OK);
    assert_int_equal(sy_optimizer_steps(a.opt), 3);
    size_t n = sy_params_trainable_size(a.ps);
    assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), n * sizeof(float));
    drop(&a);
    drop(&b);
}

/* The process's policy is one of the two; anything else (SY_NAN_PROCESS,
 * which only a graph or an optimizer may follow, or a stray int) is refused
 * and leaves it as it was, and an unknown name does not parse to a policy. */
static void test_nan_process_policy_checked(void **state)
{
    (void)state;
    sy_set_nan_policy(SY_NAN_SKIP_BATCH);
    assert_int_equal(sy_set_nan_policy(SY_NAN_PROCESS), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "policy"));
    assert_int_equal(sy_set_nan_policy((sy_nan_policy)7), SY_ERR_ARG);
    assert_int_equal(sy_get_nan_policy(), SY_NAN_SKIP_BATCH);
    assert_int_equal(sy_set_nan_policy(SY_NAN_STOP), SY_OK);
    assert_int_equal(sy_get_nan_policy(), SY_NAN_STOP);
    sy_nan_policy p = SY_NAN_STOP;
    assert_int_equal(sy_nan_policy_parse("skip-batch", &p), SY_OK);
    assert_int_equal(p, SY_NAN_SKIP_BATCH);
    assert_int_equal(sy_nan_policy_parse("process", &p), SY_ERR_ARG);
    assert_int_equal(p, SY_NAN_SKIP_BATCH);
}

static void test_nan_skip_batch(void **state)
{
    skip_batch(0);
    skip_batch(0.5f);
}

/* Two models of one program with different NaN policies: the one that asks
 * for skip-batch skips the poisoned batch while the process stops; under a
 * process skip-batch, the one that asks to stop stops. */
static void test_nan_policy_per_model(void **state)
{
    model skip, stop, plain;
    sy_set_nan_policy(SY_NAN_STOP);
    build_policy(&skip, 1e-2f, 0, SY_NAN_SKIP_BATCH);
    build(&plain, 1e-2f, 0);
    for (int s = 0; s < 4; s++) assert_int_equal(step(&skip, s, s == 2), SY_OK);
    assert_int_equal(sy_optimizer_steps(skip.opt), 3);
    assert_int_equal(step(&plain, 0, 1), SY_ERR_NUMERIC);
    sy_set_nan_policy(SY_NAN_SKIP_BATCH);
    build_policy(&stop, 1e-2f, 0, SY_NAN_STOP);
    assert_int_equal(step(&stop, 0, 1), SY_ERR_NUMERIC);
    assert_int_equal(step(&plain, 1, 1), SY_OK); /* the process's policy, read at each step */
    sy_set_nan_policy(SY_NAN_STOP);
    sy_graph_opts bad = sy_graph_opts_default();
    bad.nan_policy = 7;
    assert_null(sy_graph_new_opts(plain.ps, &bad));
    assert_non_null(strstr(sy_last_error(), "nan_policy"));
    drop(&skip);
    drop(&stop);
    drop(&plain);
}

/* ---- Limits ------------------------------------------------------------ */

/* A layer 10^9 wide is refused when the store is laid out (at compile),
 * with the memory it would need, before anything is allocated. */
static void test_width_1e9_refused(void **state)
{
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    int sizes[3] = {784, 1000000000, 10};
    sy_var x = sy_input(g, "x", sy_shape_of(2, 64, 784));
    sy_var y = sy_input(g, "y", sy_shape_of(1, 64));
    sy_softmax_ce(g, sy_mlp(g, x, "mlp", sizes, 3, SY_ACT_RELU), y);
    assert_int_equal(sy_graph_compile(g), SY_ERR_NOMEM);
    print_message("%s\n", sy_last_error());
    assert_non_null(strstr(sy_last_error(), "GiB"));
    assert_non_null(strstr(sy_last_error(), "reduce the width"));
    sy_graph_free(g);
    sy_params_free(ps);
}

/* A batch whose activations exceed the available memory is refused at
 * compile with the figure (small parameters, huge batch). */
static void test_batch_beyond_memory_refused(void **state)
{
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    int sizes[3] = {784, 2048, 10};
    const int batch = 50000000; /* 50M x 2048 activations: ~400 GiB */
    sy_var x = sy_input(g, "x", sy_shape_of(2, batch, 784));
    sy_var y = sy_input(g, "y", sy_shape_of(1, batch));
    sy_softmax_ce(g, sy_mlp(g, x, "mlp", sizes, 3, SY_ACT_RELU), y);
    assert_int_equal(sy_graph_compile(g), SY_ERR_NOMEM);
    print_message("%s\n", sy_last_error());
    assert_non_null(strstr(sy_last_error(), "for activations, gradients and scratch"));
    assert_non_null(strstr(sy_last_error(), "GiB available"));
    sy_graph_free(g);
    sy_params_free(ps);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jpeg_damaged_inputs_refused),
        cmocka_unit_test(test_jpeg_cut_refused_metadata_warning_loads),
        cmocka_unit_test(test_image_signature_checked),
        cmocka_unit_test(test_idx_huge_header_is_truncation),
        cmocka_unit_test(test_atomic_write_survives_sigkill),
        cmocka_unit_test(test_nan_stop_messages),
        cmocka_unit_test(test_nan_skip_batch),
        cmocka_unit_test(test_nan_policy_per_model),
        cmocka_unit_test(test_nan_process_policy_checked),
        cmocka_unit_test(test_width_1e9_refused),
        cmocka_unit_test(test_batch_beyond_memory_refused),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
