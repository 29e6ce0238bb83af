/* The CPU kernels' instruction-set variants (src/backend/cpu/isa.h) give the
 * same bits. Each variant runs in its own child process, with SYRE_CPU_ISA set and
 * mapped onto the runtime option cpu_isa as the command maps it, on the ops whose kernels are
 * compiled per instruction set: direct convolution forward and backward
 * (channel counts that take the AVX-512-only tiles and the others), SiLU,
 * sigmoid, BCE with logits, KL, ReLU, bias add, max pooling, then Adam steps
 * with syre's regenerated anchors (the optimizer update); the convolutions
 * once on the direct kernel and once as im2col products on the own sgemm,
 * whose register tile (8x32 AVX-512, 6x16 AVX2) follows the variant. Every output,
 * gradient and updated parameter of the avx2 variant must equal the best
 * variant's bit for bit (the plain x86-64 variant, without FMA, is allowed
 * to differ and is only run). Skipped (77) where the CPU or the build has no
 * second FMA variant. */
#define _POSIX_C_SOURCE 200809L /* setenv, fork */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/isa.h"
#include "syre/syre.h"
#include "../cli/env_options.h"

/* Appends n floats to the buffer (the child's record). */
typedef struct {
    float *v;
    size_t n, cap;
} rec_t;

static void put(rec_t *r, const float *x, size_t n)
{
    if (r->n + n > r->cap) {
        r->cap = (r->n + n) * 2;
        r->v = realloc(r->v, r->cap * sizeof(float));
        if (!r->v) abort();
    }
    memcpy(r->v + r->n, x, n * sizeof(float));
    r->n += n;
}

/* conv (C in, O out, k x k, padding P) -> bias -> relu -> maxpool 2 -> silu,
 * sigmoid, BCE, KL on the result; Adam with syre on every tensor. */
static void run_net(rec_t *r, int N, int C, int O, int k, int P)
{
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    if (sy_graph_set_backend(g, "cpu") != SY_OK) abort();
    sy_var x = sy_input(g, "x", sy_shape_of(4, N, C, 12, 12));
    sy_graph_requires_grad(g, x);
    sy_var w = sy_param_new(g, "conv.w", sy_shape_of(4, O, C, k, k), C * k * k, (sy_init){SY_INIT_UNIFORM_FANIN, 1.0f}, 1);
    sy_var b = sy_param_new(g, "conv.b", sy_shape_of(1, O), C * k * k, (sy_init){SY_INIT_UNIFORM_FANIN, 1.0f}, 1);
    sy_var h = sy_maxpool2d(g, sy_relu(g, sy_bias_add(g, sy_conv2d(g, x, w, 1, P), b)), 2, 2);
    sy_var f = sy_flatten(g, h);
    sy_var a = sy_add(g, sy_silu(g, f), sy_sigmoid(g, f));
    sy_var t = sy_input(g, "t", sy_graph_shape(g, f));
    sy_var loss = sy_add(g, sy_add(g, sy_sum(g, a), sy_bce_logits(g, f, t, SY_REDUCE_BATCH)),
                         sy_scale(g, sy_kl_gauss(g, f, sy_scale(g, f, 0.25f), 0.5f, SY_REDUCE_BATCH), 1e-2f));
    if (sy_graph_compile(g) != SY_OK || sy_params_init(ps, 3) != SY_OK) abort();
    sy_rng rng = sy_rng_make(7, SY_STREAM_USER, 0);
    float *xd = sy_graph_data(g, x), *td = sy_graph_data(g, t);
    for (size_t i = 0; i < sy_shape_numel(sy_graph_shape(g, x)); i++) xd[i] = 2.0f * sy_rng_uniform(&rng) - 1.0f;
    for (size_t i = 0; i < sy_shape_numel(sy_graph_shape(g, t)); i++) td[i] = sy_rng_uniform(&rng) < 0.5f;
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAM);
    o.decay = sy_decay_syre(1e-2f, 0.5f);
    o.anchor_storage = SY_ANCHOR_REGENERATE;
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    if (!opt) abort();
    for (int step = 0; step < 3; step++) {
        if (sy_graph_forward(g) != SY_OK || sy_graph_backward(g, loss) != SY_OK) abort();
        put(r, sy_graph_data(g, a), sy_shape_numel(sy_graph_shape(g, a)));
        put(r, sy_graph_data(g, loss), 1);
        put(r, sy_graph_grad(g, x), sy_shape_numel(sy_graph_shape(g, x)));
        put(r, sy_params_grad(ps), sy_params_trainable_size(ps));
        if (sy_optimizer_step(opt) != SY_OK) abort();
        put(r, sy_params_data(ps), sy_params_trainable_size(ps));
    }
    sy_optimizer_free(opt);
    sy_graph_free(g);
    sy_params_free(ps);
}

/* Runs every case under SYRE_CPU_ISA=isa in a child; its record in *out. */
static size_t record(const char *isa, float **out)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        setenv("SYRE_CPU_ISA", isa, 1);
        if (sy_env_apply_runtime() != SY_OK) _exit(5); /* the cap, as the command applies it */
        if (strcmp(sy_cpu_isa_name(sy_cpu_isa()), isa) != 0) _exit(3);
        /* the own sgemm's register tile of the same instruction set */
        int gemm_isa = !strcmp(isa, "avx512") ? SY_GEMM_AVX512 : !strcmp(isa, "avx2") ? SY_GEMM_AVX2 : SY_GEMM_SCALAR;
        if (sy_cpu_gemm_force_isa(gemm_isa) != 0) _exit(5);
        rec_t r = {0};
        /* O = 10, 20: the 10-channel tiles (AVX-512 only); 8, 5: the others;
         * 5x5 kernels: the 5x5 weight-gradient tile (AVX-512 only); each on
         * the direct kernel, then as chunked im2col products on the sgemm
         * (the route 3x3 kernels take by default) */
        static const int cases[][5] = {{19, 1, 10, 5, 0}, {17, 10, 20, 5, 2}, {33, 8, 8, 3, 1}, {5, 5, 5, 3, 0}};
        for (int route = 0; route < 2; route++) {
            sy_cpu_conv_force_route(route);
            for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++)
                run_net(&r, cases[c][0], cases[c][1], cases[c][2], cases[c][3], cases[c][4]);
        }
        sy_cpu_conv_force_route(-1);
        size_t bytes = r.n * sizeof(float);
        if (write(fd[1], &bytes, sizeof bytes) != (ssize_t)sizeof bytes) _exit(4);
        for (size_t off = 0; off < bytes;) {
            ssize_t k = write(fd[1], (char *)r.v + off, bytes - off);
            if (k <= 0) _exit(4);
            off += (size_t)k;
        }
        _exit(0);
    }
    close(fd[1]);
    size_t bytes = 0;
    assert_int_equal(read(fd[0], &bytes, sizeof bytes), (ssize_t)sizeof bytes);
    float *v = malloc(bytes);
    assert_non_null(v);
    for (size_t off = 0; off < bytes;) {
        ssize_t k = read(fd[0], (char *)v + off, bytes - off);
        assert_true(k > 0);
        off += (size_t)k;
    }
    close(fd[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) fail_msg("the %s child failed (status %d)", isa, st);
    *out = v;
    return bytes / sizeof(float);
}

static void test_variants_same_bits(void **state)
{
    int best = sy_cpu_isa_best();
    if (best < SY_ISA_AVX512 || sy_cpu_isa_force(SY_ISA_AVX2) != 0) {
        printf("SKIP: no AVX-512 and AVX2 variants to compare (best: %s; a SYRE_NATIVE=ON build has one)\n",
               sy_cpu_isa_name(best));
        exit(77);
    }
    assert_int_equal(sy_cpu_isa_force(-1), 0);
    float *a = NULL, *b = NULL, *base = NULL;
    size_t na = record("avx512", &a), nb = record("avx2", &b), nbase = record("base", &base);
    assert_true(na > 1000);
    assert_int_equal(na, nb);
    assert_int_equal(na, nbase);
    for (size_t i = 0; i < na; i++)
        if (memcmp(&a[i], &b[i], sizeof(float)) != 0)
            fail_msg("value %zu of %zu: avx512 %.9g, avx2 %.9g", i, na, a[i], b[i]);
    size_t differ = 0;
    for (size_t i = 0; i < na; i++) differ += memcmp(&a[i], &base[i], sizeof(float)) != 0;
    printf("avx2 = avx512 on all %zu values; the plain x86-64 variant (no FMA) differs on %zu\n", na, differ);
    free(a);
    free(b);
    free(base);
}

/* The runtime option: an unknown name is refused naming it, a cap lowers
 * the variant, and one above the CPU's best leaves the best. */
static void test_option(void **state)
{
    int best = sy_cpu_isa_best();
    sy_runtime_opts o = sy_runtime_opts_default();
    o.cpu_isa = "avx3";
    assert_int_equal(sy_runtime_configure(&o), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "'avx3'"));
    assert_int_equal(sy_cpu_isa(), best);
    int multi = best > SY_ISA_BASE && sy_cpu_isa_force(SY_ISA_BASE) == 0; /* a build with variants */
    assert_int_equal(sy_cpu_isa_force(-1), 0);
    if (multi) {
    o.cpu_isa = "base";
    assert_int_equal(sy_runtime_configure(&o), SY_OK);
    assert_int_equal(sy_cpu_isa(), SY_ISA_BASE);
    o.cpu_isa = "avx512";
    assert_int_equal(sy_runtime_configure(&o), SY_OK);
    assert_int_equal(sy_cpu_isa(), best);
    }
    o.cpu_isa = NULL;
    assert_int_equal(sy_runtime_configure(&o), SY_OK);
    assert_int_equal(sy_cpu_isa(), best);
}

/* Forcing: a variant the CPU lacks is refused; names. */
static void test_force(void **state)
{
    assert_string_equal(sy_cpu_isa_name(SY_ISA_BASE), "base");
    assert_string_equal(sy_cpu_isa_name(SY_ISA_AVX2), "avx2");
    assert_string_equal(sy_cpu_isa_name(SY_ISA_AVX512), "avx512");
    assert_int_equal(sy_cpu_isa_parse("avx2"), SY_ISA_AVX2);
    assert_int_equal(sy_cpu_isa_parse("AVX2"), -1);
    assert_int_equal(sy_cpu_isa_parse(NULL), -1);
    int best = sy_cpu_isa_best();
    assert_int_equal(sy_cpu_isa_force(SY_ISA_N), -1);
    assert_int_equal(sy_cpu_isa_force(best), 0);
    assert_int_equal(sy_cpu_isa(), best);
    if (best < SY_ISA_AVX512) assert_int_equal(sy_cpu_isa_force(SY_ISA_AVX512), -1);
    assert_int_equal(sy_cpu_isa_force(-1), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_force),
        cmocka_unit_test(test_option),
        cmocka_unit_test(test_variants_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
