/* Progress on stderr: a redrawn bar with rate and time left on a terminal;
 * in logs and CI (stderr not a terminal) one plain line per ~10% or 30 s,
 * so the output stays readable and never fills with carriage returns. */
#define _POSIX_C_SOURCE 200809L
#include "syre/dist.h"
#include "syre/trainer.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

struct sy_progress {
    char label[64];
    int64_t total, done;
    int tty;
    double t0, last_print;
    int last_decile;
    int quiet;      /* a distributed run's other ranks: rank 0 reports */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void fmt_time(double s, char *buf, size_t n)
{
    if (!(s >= 0) || s > 1e7) {
        snprintf(buf, n, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ldh%02ldm", t / 3600, (t / 60) % 60);
    else
        snprintf(buf, n, "%ldm%02lds", t / 60, t % 60);
}

sy_progress *sy_progress_start(const char *label, int64_t total)
{
    sy_progress *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    snprintf(p->label, sizeof p->label, "%s", label ? label : "");
    p->total = total > 0 ? total : 1;
    p->tty = isatty(STDERR_FILENO);
    p->t0 = p->last_print = now_s();
    p->last_decile = 0;
    p->quiet = !sy_dist_is_root();
    if (p->quiet) return p;
    if (!p->tty) fprintf(stderr, "%s: started, %lld units\n", p->label, (long long)p->total);
    return p;
}

void sy_progress_update(sy_progress *p, int64_t done, const char *note)
{
    if (!p || p->quiet) return;
    p->done = done < 0 ? 0 : done > p->total ? p->total : done;
    double now = now_s(), el = now - p->t0;
    double frac = (double)p->done / (double)p->total;
    double rate = el > 0 ? (double)p->done / el : 0;
    char left[32];
    fmt_time(rate > 0 ? (double)(p->total - p->done) / rate : -1, left, sizeof left);
    if (p->tty) {
        if (now - p->last_print < 0.1 && p->done < p->total) return; /* at most 10 redraws a second */
        p->last_print = now;
        char bar[31];
        int filled = (int)(frac * 30);
        for (int i = 0; i < 30; i++) bar[i] = i < filled ? '#' : '.';
        bar[30] = '\0';
        fprintf(stderr, "\r%s [%s] %3.0f%% %lld/%lld %.3g/s left %s%s%s\033[K", p->label, bar, 100 * frac,
                (long long)p->done, (long long)p->total, rate, left, note ? "  " : "", note ? note : "");
        fflush(stderr);
    } else {
        int decile = (int)(frac * 10);
        if (decile > p->last_decile || now - p->last_print >= 30) {
            p->last_decile = decile;
            p->last_print = now;
            fprintf(stderr, "%s: %3.0f%% (%lld/%lld), %.3g/s, left %s%s%s\n", p->label, 100 * frac,
                    (long long)p->done, (long long)p->total, rate, left, note ? ", " : "", note ? note : "");
        }
    }
}

void sy_progress_finish(sy_progress *p)
{
    if (!p) return;
    if (p->quiet) {
        free(p);
        return;
    }
    char el[32];
    fmt_time(now_s() - p->t0, el, sizeof el);
    if (p->tty) fputs("\r\033[K", stderr);
    fprintf(stderr, "%s: done, %lld units in %s\n", p->label, (long long)p->done, el);
    free(p);
}
