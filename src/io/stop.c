/* Cluster life around a run: a graceful stop on SIGTERM, SIGINT or SIGUSR1
 * (finish the step, checkpoint, exit resumable), the --ckpt-every cadence,
 * and the exclusive lock that keeps a second process off a run directory.
 * The training loops only poll (sy_run_ckpt_due); nothing here writes a
 * checkpoint. */
#define _GNU_SOURCE
#include "io_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "syre/dist.h"

static volatile sig_atomic_t stop_signal;
static int handlers_installed;
static unsigned grace_s = SY_STOP_GRACE_S;

void sy_stop_set_grace(unsigned seconds) { grace_s = seconds; }

/* A second signal, or a stop that has not finished within SY_STOP_GRACE_S,
 * ends the process the way the signal would have without syre. */
static void die_now(int sig)
{
    int s = stop_signal ? (int)stop_signal : sig;
    signal(s, SIG_DFL);
    /* inside its own handler the signal is blocked: let it through */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, s);
    sigprocmask(SIG_UNBLOCK, &set, NULL);
    raise(s);
    _exit(128 + s);
}

static void on_stop(int sig)
{
    if (stop_signal) die_now(sig);
    stop_signal = sig;
    signal(SIGALRM, die_now);
    alarm(grace_s);
}

void sy_stop_install(void)
{
    if (handlers_installed) return;
    handlers_installed = 1;
    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;
    const int sigs[3] = {SIGTERM, SIGINT, SIGUSR1};
    for (int i = 0; i < 3; i++) {
        /* A shell starts background jobs with SIGINT ignored: keep it so. */
        if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN) continue;
        sigaction(sigs[i], &sa, NULL);
    }
}

int sy_stop_signal(void) { return (int)stop_signal; }

/* One answer on every rank (one small all-reduce): rank 0's clock decides
 * the cadence, and a stop asked of any rank (a launcher may signal only
 * some) stops them all at the same step. */
static int agree(int cadence, int stop)
{
    if (sy_dist_size() <= 1) return stop ? SY_CKPT_STOP : cadence;
    double v = (sy_dist_is_root() && cadence ? 1.0 : 0.0) + (stop ? 2.0 : 0.0);
    if (sy_dist_sum(&v, 1) != SY_OK) return stop ? SY_CKPT_STOP : cadence;
    return v >= 2.0 ? SY_CKPT_STOP : v >= 1.0 ? SY_CKPT_NOW : SY_CKPT_NO;
}

/* "500" (optimizer steps) or "10m" / "10min" (minutes); 0 = off. */
static int parse_every(const char *t, long *steps, double *minutes)
{
    *steps = 0;
    *minutes = 0;
    if (!t || !*t) return 1;
    char *end;
    double v = strtod(t, &end);
    if (end == t || !(v >= 0) || v > 1e12) return 0;
    if (!*end) {
        if (v != (double)(long)v) return 0;
        *steps = (long)v;
        return 1;
    }
    if (!strcmp(end, "m") || !strcmp(end, "min")) {
        *minutes = v;
        return 1;
    }
    return 0;
}

sy_status sy_run_check_ckpt_every(const sy_run *run)
{
    long st;
    double mi;
    const char *t = sy_run_get_str(run, "ckpt-every");
    if (!parse_every(t, &st, &mi))
        return sy_fail(SY_ERR_ARG, "%s: --ckpt-every must be a number of steps (500) or minutes (10m), got '%s'",
                       run->exp->name, t);
    return SY_OK;
}

int sy_run_ckpt_due(sy_run *run, long step)
{
    int due = SY_CKPT_NO;
    if (sy_dist_is_root()) {
        long every = 0;
        double minutes = 0;
        parse_every(sy_run_get_str(run, "ckpt-every"), &every, &minutes);
        if (run->ckpt_time <= 0) run->ckpt_time = run->start_mono;
        /* multiples of N, so that a resumed run checkpoints where the first did */
        if (every > 0 && step > 0 && step % every == 0) due = SY_CKPT_NOW;
        if (minutes > 0 && sy_io_now() - run->ckpt_time >= 60.0 * minutes) due = SY_CKPT_NOW;
    }
    due = agree(due, stop_signal != 0);
    if (due != SY_CKPT_NO) run->ckpt_time = sy_io_now();
    return due;
}

sy_status sy_run_stopped(sy_run *run, long step, long total)
{
    /* The command that continues the run: this one, with --name and --resume. */
    char cmd[2048];
    int n = sy_dist_size() > 1 ? snprintf(cmd, sizeof cmd, "mpirun -np %d ", sy_dist_size()) : 0;
    n += snprintf(cmd + n, sizeof cmd - (size_t)n, "syre run %s", run->exp->name);
    int has_name = 0, has_resume = 0;
    for (int i = 0; i < run->argc && n < (int)sizeof cmd; i++) {
        const char *a = run->argv[i];
        if (!strncmp(a, "--name", 6)) has_name = 1;
        if (!strcmp(a, "--resume") || !strncmp(a, "--resume=", 9)) has_resume = 1;
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, strpbrk(a, " \t'\"$") ? " '%s'" : " %s", a);
    }
    if (!has_name && n < (int)sizeof cmd) {
        const char *base = strrchr(sy_run_dir(run), '/');
        n += snprintf(cmd + n, sizeof cmd - (size_t)n, " --name %s", base ? base + 1 : sy_run_dir(run));
    }
    if (!has_resume && n < (int)sizeof cmd) snprintf(cmd + n, sizeof cmd - (size_t)n, " --resume");
    int sig = (int)stop_signal;
    const char *by = sig == SIGTERM ? " by SIGTERM" : sig == SIGINT ? " by SIGINT" : sig == SIGUSR1 ? " by SIGUSR1" : "";
    return sy_fail(SY_ERR_STOPPED, "stopped%s at step %ld of %ld (checkpoint written); continue with: %s", by, step,
                   total, cmd);
}

/* ---- One writer per run directory ------------------------------------------ */

sy_status sy_run_lock(sy_run *run)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/run.lock", sy_run_dir(run));
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
    if (fd < 0) return sy_fail(SY_ERR_IO, "cannot open lock file %s: %s", path, strerror(errno));
    /* A POSIX record lock: NFSv4 honours it and the kernel drops it when the
     * holder dies, so a kill -9 leaves nothing stale to clean up. */
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    if (fcntl(fd, F_SETLK, &fl) != 0) {
        int e = errno;
        char holder[256] = "";
        ssize_t got = pread(fd, holder, sizeof holder - 1, 0);
        close(fd);
        if (e != EACCES && e != EAGAIN)
            return sy_fail(SY_ERR_IO, "cannot lock %s: %s", path, strerror(e));
        long pid = 0;
        char host[200] = "?";
        if (got <= 0 || sscanf(holder, "%ld %199s", &pid, host) < 1) pid = 0;
        const char *name = strrchr(sy_run_dir(run), '/');
        name = name ? name + 1 : sy_run_dir(run);
        if (pid > 0)
            return sy_fail(SY_ERR_STATE, "run %s is in use by pid %ld on host %s; wait for it or stop it", name, pid,
                           host);
        return sy_fail(SY_ERR_STATE, "run %s is in use by another process (%s is locked); wait for it or stop it",
                       name, path);
    }
    char host[256] = "unknown", line[320];
    gethostname(host, sizeof host - 1);
    int len = snprintf(line, sizeof line, "%ld %s\n", (long)getpid(), host);
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)len, 0) != len) {
        int e = errno;
        close(fd);
        return sy_fail(SY_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    run->lock_fd = fd;
    return SY_OK;
}

/* ---- The run as a loop's control ------------------------------------------ */

static int ctl_ckpt_due(void *run, long step) { return sy_run_ckpt_due(run, step); }

static sy_status ctl_stopped(void *run, long step, long total) { return sy_run_stopped(run, step, total); }

static sy_status ctl_log(void *run, const char *file, const char *method, int64_t step, int n,
                         const char *const *names, const double *values)
{
    return sy_run_log_to(run, file, method, step, n, names, values);
}

static sy_status ctl_forget(void *run, const char *file, const char *method)
{
    return sy_run_forget_rows(run, file, method);
}

sy_fit_control sy_run_control(sy_run *run)
{
    sy_fit_control c = {0};
    if (run) c = (sy_fit_control){run, ctl_ckpt_due, ctl_stopped, ctl_log, ctl_forget};
    return c;
}
