/* sy_omp_wait_reexec: a program gets its OpenMP wait setting by re-executing
 * itself once with it in the environment (libgomp reads it only at load);
 * the command's choice (sy_env_omp_wait, cli/env_options.h) leaves a setting
 * the user made alone, and the library does what its arguments say. The re-executed program here is
 * this test itself, run with --probe: it prints the two variables. */
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

#include "syre/syre.h"
#include "../cli/env_options.h"

/* Runs sy_omp_wait_reexec(setting, {self, "--probe"}) in a child with the
 * given OMP_WAIT_POLICY (NULL: unset, as GOMP_SPINCOUNT always is); the
 * setting is sy_env_omp_wait(threads) when `setting` is NULL and `threads`
 * >= 0, else `setting` as given; its output into out. */
static void probe(const char *policy, int threads, const char *setting, char *out, size_t size)
{
    int fd[2];
    assert_int_equal(pipe(fd), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(fd[0]);
        dup2(fd[1], STDOUT_FILENO);
        unsetenv("GOMP_SPINCOUNT");
        if (policy) setenv("OMP_WAIT_POLICY", policy, 1);
        else unsetenv("OMP_WAIT_POLICY");
        char self[] = "test_omp_wait", arg[] = "--probe";
        char *argv[] = {self, arg, NULL};
        int rc = sy_omp_wait_reexec(!setting && threads >= 0 ? sy_env_omp_wait(threads) : setting, argv);
        /* not re-executed: say so */
        printf("not re-executed (%d)", rc);
        fflush(stdout);
        _exit(0);
    }
    close(fd[1]);
    size_t n = 0;
    ssize_t k;
    while (n + 1 < size && (k = read(fd[0], out + n, size - 1 - n)) > 0) n += (size_t)k;
    out[n] = '\0';
    close(fd[0]);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

static void test_reexec_sets_spin(void **state)
{
    char out[256];
    /* one thread: never a parallel region, so always the short spin */
    probe(NULL, 1, NULL, out, sizeof out);
    assert_string_equal(out, "OMP_WAIT_POLICY=(unset) GOMP_SPINCOUNT=" SY_GOMP_SPINCOUNT);
}

/* The library reads no environment: given a setting it re-executes with it
 * whatever the environment holds, and given none it does nothing. */
static void test_library_follows_arguments(void **state)
{
    char out[256];
    probe("ACTIVE", -1, "GOMP_SPINCOUNT=77", out, sizeof out);
    assert_string_equal(out, "OMP_WAIT_POLICY=ACTIVE GOMP_SPINCOUNT=77");
    probe(NULL, -1, NULL, out, sizeof out);
    assert_string_equal(out, "not re-executed (0)");
    probe(NULL, -1, "no-equals-sign", out, sizeof out);
    assert_string_equal(out, "not re-executed (0)");
}

static void test_user_setting_wins(void **state)
{
    char out[256];
    probe("ACTIVE", 1, NULL, out, sizeof out);
    assert_string_equal(out, "not re-executed (0)");
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--probe") == 0) {
        const char *p = getenv("OMP_WAIT_POLICY"), *s = getenv("GOMP_SPINCOUNT");
        printf("OMP_WAIT_POLICY=%s GOMP_SPINCOUNT=%s", p ? p : "(unset)", s ? s : "(unset)");
        return 0;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reexec_sets_spin),
        cmocka_unit_test(test_user_setting_wins),
        cmocka_unit_test(test_library_follows_arguments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
