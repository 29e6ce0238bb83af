#define _GNU_SOURCE
/* The CUDA backend is a module loaded on first use (src/backend/cuda_module.h):
 *   - training on the CPU maps none of the CUDA libraries nor the module
 *     (they cost ~215 MiB of resident memory when libsyre was linked to them);
 *   - asking for the cuda device loads the module, which then reports a GPU
 *     or says there is none; in a build without CUDA it says so instead;
 *   - the cuda_module setting (SYRE_CUDA_MODULE) naming a missing file, a file that is not a shared
 *     library, or a library that is not a syre module is refused with a
 *     message naming what is wrong.
 * The cases that load something run in a child process each (a process
 * loads the module once). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "syre/syre.h"
#include "backend/device.h"

static const char *const cuda_libs[] = {"libsyre_cuda", "libcudart", "libcublas", "libcudnn", "libnccl"};

/* Whether a file whose path contains `name` is mapped into this process. */
static int is_mapped(const char *name)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f) return 0;
    char line[4096];
    int hit = 0;
    while (!hit && fgets(line, sizeof line, f)) hit = strstr(line, name) != NULL;
    fclose(f);
    return hit;
}

static void test_cpu_training_maps_no_cuda(void **state)
{
    (void)state;
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(2, 8, 4)), t = sy_input(g, "t", sy_shape_of(2, 8, 1));
    sy_var loss = sy_mse(g, sy_linear(g, x, "fc", 1), t, SY_REDUCE_MEAN);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    assert_int_equal(sy_params_init(ps, 1), SY_OK);
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_SGD);
    o.decay = sy_decay_syre(1e-3f, 0.1f);
    sy_optimizer *opt = sy_optimizer_new(ps, &o);
    assert_non_null(opt);
    for (int i = 0; i < 8 * 4; i++) sy_graph_data(g, x)[i] = (float)i / 32;
    for (int i = 0; i < 8; i++) sy_graph_data(g, t)[i] = 1;
    for (int s = 0; s < 3; s++) {
        assert_int_equal(sy_graph_forward(g), SY_OK);
        assert_int_equal(sy_graph_backward(g, loss), SY_OK);
        assert_int_equal(sy_optimizer_step(opt), SY_OK);
    }
    for (size_t i = 0; i < sizeof cuda_libs / sizeof *cuda_libs; i++)
        if (is_mapped(cuda_libs[i])) fail_msg("a CPU training run mapped %s", cuda_libs[i]);
    sy_optimizer_free(opt);
    sy_graph_free(g);
    sy_params_free(ps);
}

/* In a child: the cuda_module setting = module (NULL: searched), ask for the cuda
 * device; returns what it said ("OK" when a device came back) and whether
 * the module was mapped afterwards. */
static void ask_cuda(const char *module, char *msg, size_t cap, int *mapped)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        sy_runtime_opts o = sy_runtime_opts_default();
        o.cuda_module = module;
        if (sy_runtime_configure(&o) != SY_OK) _exit(1);
        sy_device *d = sy_device_get("cuda");
        char out[1100];
        int n = snprintf(out, sizeof out, "%d%s", is_mapped("libsyre_cuda"), d ? "OK" : sy_last_error());
        ssize_t w = write(fd[1], out, (size_t)n);
        _exit(w == n ? 0 : 1);
    }
    close(fd[1]);
    char buf[1100];
    size_t got = 0;
    ssize_t r;
    while (got < sizeof buf - 1 && (r = read(fd[0], buf + got, sizeof buf - 1 - got)) > 0) got += (size_t)r;
    buf[got] = '\0';
    close(fd[0]);
    int status;
    waitpid(pid, &status, 0);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0 && got > 0);
    *mapped = buf[0] == '1';
    snprintf(msg, cap, "%s", buf + 1);
}

static int built_with_cuda(void)
{
    char msg[1100];
    int mapped;
    ask_cuda(NULL, msg, sizeof msg, &mapped);
    return strstr(msg, "built without CUDA") == NULL;
}

static void test_cuda_request_loads_module(void **state)
{
    (void)state;
    char msg[1100];
    int mapped;
    ask_cuda(NULL, msg, sizeof msg, &mapped);
    printf("cuda device: %s (module %smapped)\n", msg, mapped ? "" : "not ");
    if (strstr(msg, "built without CUDA")) {
        assert_false(mapped);
        return;
    }
    assert_true(mapped);
    if (strcmp(msg, "OK") != 0 && !strstr(msg, "no CUDA device found")) fail_msg("unexpected: %s", msg);
}

static void expect_refused(const char *module, const char *why)
{
    char msg[1100];
    int mapped;
    ask_cuda(module, msg, sizeof msg, &mapped);
    printf("cuda_module %s: %s\n", module, msg);
    assert_false(mapped);
    if (!strstr(msg, why)) fail_msg("expected '%s' in: %s", why, msg);
}

static void test_module_path_refused(void **state)
{
    (void)state;
    if (!built_with_cuda()) {
        printf("built without CUDA: nothing to load\n");
        return;
    }
    expect_refused("/nonexistent/libsyre_cuda.so", "/nonexistent/libsyre_cuda.so");
    expect_refused("/nonexistent/libsyre_cuda.so", "cannot load the CUDA backend module");
    char text[] = "/tmp/syre-not-a-module-XXXXXX";
    int fd = mkstemp(text);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "hello\n", 6), 6);
    close(fd);
    expect_refused(text, "cannot load the CUDA backend module");
    unlink(text);
    expect_refused("libc.so.6", "is not a syre CUDA backend module");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cpu_training_maps_no_cuda),
        cmocka_unit_test(test_cuda_request_loads_module),
        cmocka_unit_test(test_module_path_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
