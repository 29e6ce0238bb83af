/* The `syre` command: a table of subcommands (list, run, reproduce, bench,
 * help) from which the usage text is generated. Experiments and their flags
 * come from the registry (experiments/registry.h); the environment
 * variables syre honours are mapped onto options in env_options.h. Exit status: 0 ok,
 * 1 a run or benchmark failed, 2 bad command line, 75 (SY_EXIT_RESUMABLE) a
 * run stopped by a signal after writing its checkpoint: continue it with
 * --resume. */
#define _POSIX_C_SOURCE 200809L
#include "syre/dist.h"
#include "registry.h" /* experiments/ */
#include "syre/experiment.h"
#include "syre/mpi.h"
#include "syre/syre.h"
#include "env_options.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

typedef struct {
    const char *name;
    int (*fn)(int argc, char **argv);
    const char *args;
    const char *help;
} command;

static int cmd_list(int argc, char **argv);
static int cmd_run(int argc, char **argv);
static int cmd_reproduce(int argc, char **argv);
static int cmd_bench(int argc, char **argv);
static int cmd_help(int argc, char **argv);
static int cmd_verify(int argc, char **argv);

static const command commands[] = {
    {"list", cmd_list, "", "every experiment with the paper figure it reproduces"},
    {"run", cmd_run, "EXP [flags]", "run one experiment; writes <out>/EXP/<name>/ and prints a results table"},
    {"reproduce", cmd_reproduce, "FIG|EXP [flags]", "run the paper's sweep for a figure (e.g. fig3-right) and draw it"},
    {"verify", cmd_verify, "RUN_DIR", "check a run's records and checkpoints (structure, crc32s); exit 0 only if all is sound"},
    {"bench", cmd_bench, "[--bench-dir DIR]", "run the bench_* programs next to this binary (or in DIR)"},
    {"help", cmd_help, "[EXP|COMMAND]", "this text, or an experiment's flags with defaults"},
};
#define NCOMMANDS (int)(sizeof commands / sizeof commands[0])

static void usage(FILE *f)
{
    fprintf(f, "syre %s: symmetry removal (weight decay toward a fixed random anchor)\n\n", sy_version());
    fprintf(f, "usage: syre COMMAND [args]\n       syre --version | --help\n\ncommands:\n");
    for (int i = 0; i < NCOMMANDS; i++) {
        char lhs[64];
        snprintf(lhs, sizeof lhs, "%s %s", commands[i].name, commands[i].args);
        fprintf(f, "  %-28s %s\n", lhs, commands[i].help);
    }
    fprintf(f, "\ncommon flags of run and reproduce (an experiment may change the defaults):\n");
    for (const sy_flag_spec *s = sy_common_flags(); s->name; s++) {
        char lhs[64];
        snprintf(lhs, sizeof lhs, "--%s", s->name);
        fprintf(f, "  %-16s %s", lhs, s->help);
        if (s->type == SY_FLAG_BOOL)
            fprintf(f, " (flag)\n");
        else if (s->defval[0])
            fprintf(f, " (default %s)\n", s->defval);
        else
            fputc('\n', f);
    }
    fprintf(f, "\nSee `syre list` for experiments and `syre help EXP` for their flags.\n");
    fprintf(f, "Data-parallel over MPI: mpirun -np N syre run EXP --batch B (B a multiple of N; docs/distributed.md).\n");
}

static int fail_status(sy_status s)
{
    return s == SY_ERR_ARG ? 2 : s == SY_ERR_STOPPED ? SY_EXIT_RESUMABLE : 1;
}

static int cmd_list(int argc, char **argv)
{
    if (argc > 0) {
        fprintf(stderr, "syre list: unexpected argument '%s'\n", argv[0]);
        return 2;
    }
    int n;
    const sy_experiment *const *e = sy_experiments(&n);
    int wn = 10, wf = 6;
    for (int i = 0; i < n; i++) {
        if ((int)strlen(e[i]->name) > wn) wn = (int)strlen(e[i]->name);
        if (e[i]->figure && (int)strlen(e[i]->figure) > wf) wf = (int)strlen(e[i]->figure);
    }
    printf("%-*s  %-*s  %s\n", wn, "experiment", wf, "figure", "what it shows");
    for (int i = 0; i < n; i++)
        printf("%-*s  %-*s  %s\n", wn, e[i]->name, wf, e[i]->figure ? e[i]->figure : "-",
               e[i]->summary ? e[i]->summary : "");
    return 0;
}

static int wants_help(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) return 1;
    return 0;
}

/* Under `mpirun -np N` (syre/dist.h) ranks other than 0 print nothing
 * (SYRE_DIST_VERBOSE=1 keeps their output) except their own errors, which go
 * to the real stderr kept here. */
static int rank_err_fd = -1;

static void quiet_other_ranks(void)
{
    if (sy_dist_is_root() || (getenv("SYRE_DIST_VERBOSE") && strcmp(getenv("SYRE_DIST_VERBOSE"), "1") == 0))
        return;
    fflush(stdout);
    fflush(stderr);
    int null = open("/dev/null", O_WRONLY);
    if (null < 0) return;
    rank_err_fd = dup(STDERR_FILENO);
    dup2(null, STDOUT_FILENO);
    dup2(null, STDERR_FILENO);
    close(null);
}

static void rank_error(const char *what, const char *msg)
{
    char rank[48] = "";
    if (sy_dist_size() > 1) snprintf(rank, sizeof rank, " (rank %d of %d)", sy_dist_rank(), sy_dist_size());
    dprintf(rank_err_fd >= 0 ? rank_err_fd : STDERR_FILENO, "%s%s: %s\n", what, rank, msg);
}

/* Parse, start, run (or reproduce), finish: the shared path of run and
 * reproduce. Under mpirun every rank comes here: a failure that all ranks
 * share (options, the run directory) ends them all normally; a failure of a
 * training run may strike one rank while the others wait in a collective,
 * so it ends the whole job (MPI_Abort). */
static int execute(const sy_experiment *exp, int reproduce, int argc, char **argv)
{
    if (wants_help(argc, argv)) {
        sy_experiment_print_help(exp, stdout);
        return 0;
    }
    sy_status es = sy_env_apply_runtime();
    if (es != SY_OK) {
        fprintf(stderr, "syre %s: environment: %s\n", exp->name, sy_last_error());
        return fail_status(es);
    }
#ifdef SYRE_HAVE_MPI
    sy_dist_use_mpi();
#endif
    sy_dist_opts dist = sy_env_dist_opts();
    if (sy_dist_init(&dist) != SY_OK) {
        fprintf(stderr, "syre: %s\n", sy_last_error());
        return 1;
    }
    quiet_other_ranks();
    sy_run *run;
    sy_status s = sy_run_parse(&run, exp, argc, argv);
    if (s == SY_OK && (s = sy_run_start(run)) != SY_OK) sy_run_free(run);
    if (s != SY_OK) { /* the same on every rank: rank 0 says it */
        if (sy_dist_is_root()) fprintf(stderr, "syre %s: %s\n", exp->name, sy_last_error());
        sy_dist_finalize();
        return fail_status(s);
    }
    s = reproduce ? exp->reproduce(run) : exp->run(run);
    if (s == SY_OK) s = sy_run_finish(run);
    if (s == SY_ERR_STOPPED) { /* every rank stopped at the same step: no abort */
        if (sy_dist_is_root()) fprintf(stderr, "syre %s: %s\n", exp->name, sy_last_error());
    } else if (s != SY_OK) {
        char what[96];
        snprintf(what, sizeof what, "syre %s", exp->name);
        rank_error(what, sy_last_error());
        if (sy_dist_size() > 1) sy_dist_abort(fail_status(s));
    }
    sy_run_free(run);
    sy_dist_finalize();
    return s == SY_OK ? 0 : fail_status(s);
}

static int cmd_run(int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-') {
        fprintf(stderr, "syre run: name an experiment (see `syre list`)\n");
        return 2;
    }
    const sy_experiment *exp = sy_experiment_find(argv[0]);
    if (!exp) {
        fprintf(stderr, "syre run: unknown experiment '%s' (see `syre list`)\n", argv[0]);
        return 2;
    }
    return execute(exp, 0, argc - 1, argv + 1);
}

static int cmd_reproduce(int argc, char **argv)
{
    if (argc < 1 || argv[0][0] == '-') {
        fprintf(stderr, "syre reproduce: name a figure or experiment (see `syre list`)\n");
        return 2;
    }
    const sy_experiment *exp = sy_experiment_find_reproduce(argv[0]);
    if (!exp) {
        fprintf(stderr, "syre reproduce: no experiment reproduces '%s' (see `syre list`)\n", argv[0]);
        return 2;
    }
    if (!exp->reproduce) {
        fprintf(stderr, "syre reproduce: experiment '%s' has no reproduce sweep yet (try `syre run %s`)\n",
                exp->name, exp->name);
        return 2;
    }
    return execute(exp, 1, argc - 1, argv + 1);
}

static int cmp_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int cmd_bench(int argc, char **argv)
{
    char dir[4096] = "";
    for (int i = 0; i < argc; i++) {
        if (strncmp(argv[i], "--bench-dir=", 12) == 0) {
            snprintf(dir, sizeof dir, "%s", argv[i] + 12);
        } else if (strcmp(argv[i], "--bench-dir") == 0 && i + 1 < argc) {
            snprintf(dir, sizeof dir, "%s", argv[++i]);
        } else {
            fprintf(stderr, "syre bench: unknown or incomplete flag '%s' (usage: syre bench [--bench-dir DIR])\n", argv[i]);
            return 2;
        }
    }
    if (!dir[0]) {
        char self[4096];
        ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
        if (n <= 0) {
            fprintf(stderr, "syre bench: cannot find this binary's directory; give --bench-dir\n");
            return 2;
        }
        self[n] = '\0';
        snprintf(dir, sizeof dir, "%s", dirname(self));
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "syre bench: cannot open %s: %s\n", dir, strerror(errno));
        return 2;
    }
    char **progs = NULL;
    int np = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (strncmp(e->d_name, "bench_", 6) != 0) continue;
        char path[8200];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || access(path, X_OK) != 0) continue;
        char **p = realloc(progs, sizeof *p * (size_t)(np + 1));
        if (!p) break;
        progs = p;
        progs[np++] = strdup(path);
    }
    closedir(d);
    if (np == 0) {
        fprintf(stderr, "syre bench: no bench_* programs in %s (add bench/*.c and build)\n", dir);
        free(progs);
        return 1;
    }
    qsort(progs, (size_t)np, sizeof *progs, cmp_str);
    int failed = 0;
    for (int i = 0; i < np; i++) {
        printf("== running %s\n", progs[i]);
        fflush(stdout);
        pid_t pid;
        char *args[] = {progs[i], NULL};
        int rc = posix_spawn(&pid, progs[i], NULL, NULL, args, environ), status = 0;
        if (rc != 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            fprintf(stderr, "syre bench: %s failed\n", progs[i]);
            failed++;
        }
        free(progs[i]);
    }
    free(progs);
    printf("== %d benchmark program(s) run, %d failed\n", np, failed);
    return failed ? 1 : 0;
}

static int cmd_verify(int argc, char **argv)
{
    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "syre verify: give one run directory (usage: syre verify RUN_DIR)\n");
        return 2;
    }
    int problems = sy_run_verify(argv[0], stdout);
    return problems < 0 ? 2 : problems > 0 ? 1 : 0;
}

static int cmd_help(int argc, char **argv)
{
    if (argc == 0) {
        usage(stdout);
        return 0;
    }
    const sy_experiment *exp = sy_experiment_find(argv[0]);
    if (exp) {
        sy_experiment_print_help(exp, stdout);
        return 0;
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, argv[0]) == 0) {
            printf("syre %s %s\n  %s\n", commands[i].name, commands[i].args, commands[i].help);
            return 0;
        }
    fprintf(stderr, "syre help: no experiment or command '%s' (see `syre list`)\n", argv[0]);
    return 2;
}

/* libgomp reads its wait policy once, when it is loaded. syre runs one pool
 * (OpenMP; OpenBLAS single-threaded inside it), whose threads meet at a
 * barrier after every split matrix product: threads that sleep there at once
 * (PASSIVE) are woken a dozen times a step, which cost the MLP at batch 64
 * a third of its 2-thread speed; threads that spin for libgomp's default
 * ~3 ms hold their cores while a partner is preempted on a loaded machine,
 * and steps became several times slower there. So unless the user chose a
 * policy or a spin count, re-execute once with sy_omp_wait_env's choice: a
 * short spin when the machine has a CPU free for each thread, PASSIVE when
 * it is busy. */
static void choose_omp_wait(int argc, char **argv)
{
    int threads = 0;
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], "--threads") == 0) threads = atoi(argv[i + 1]);
    sy_omp_wait_reexec(sy_env_omp_wait(threads), argv); /* returns only if it did not re-execute: then run as we are */
}

int main(int argc, char **argv)
{
    /* Past `ulimit -f` a write fails with EFBIG through the error path that
     * names the file, instead of the signal killing the run silently. */
    signal(SIGXFSZ, SIG_IGN);
    choose_omp_wait(argc, argv);
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0) {
        printf("syre %s\n", sy_version());
        return 0;
    }
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        usage(stdout);
        return 0;
    }
    for (int i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, argv[1]) == 0) return commands[i].fn(argc - 2, argv + 2);
    fprintf(stderr, "syre: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
