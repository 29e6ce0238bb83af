/* The record of a run, <out>/<exp>/<name>/: config.json at start (every
 * resolved option, seed, git revision, BLAS, threads, device, time),
 * metrics CSVs while training, summary.json and a side-by-side table at the
 * end. Options are parsed in experiment.c. */
#define _POSIX_C_SOURCE 200809L
#include "io_internal.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "records.h"
#include "syre/dist.h"
#include "syre/runtime.h"
#include "syre/train.h"
#include "syre/version.h"

#ifndef SYRE_GIT_REV
#define SYRE_GIT_REV "unknown"
#endif

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

double sy_io_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void iso_time(time_t t, char *buf, size_t n)
{
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%S%z", &tm);
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *sy_run_dir(const sy_run *run) { return run->dir ? run->dir : ""; }

const char *sy_run_path(const sy_run *run, const char *file, char *buf, size_t size)
{
    snprintf(buf, size, "%s/%s", sy_run_dir(run), file);
    return buf;
}

/* Write a cJSON document atomically, pretty-printed. */
static sy_status write_json(const char *path, cJSON *doc)
{
    char *text = cJSON_Print(doc);
    if (!text) return sy_fail(SY_ERR_NOMEM, "out of memory writing %s", path);
    size_t n = strlen(text);
    text[n] = '\n'; /* replace the terminator: the file ends with a newline */
    sy_status s = sy_write_file_atomic(path, text, n + 1);
    free(text);
    return s;
}

static void add_option(cJSON *o, const sy_flag_spec *sp, const char *v)
{
    switch (sp->type) {
    case SY_FLAG_BOOL: cJSON_AddBoolToObject(o, sp->name, strcmp(v, "1") == 0); break;
    case SY_FLAG_INT: {
        /* Written as the exact digits: a double would print 2^53-range seeds rounded. */
        char digits[32];
        snprintf(digits, sizeof digits, "%lld", strtoll(v, NULL, 10));
        cJSON_AddRawToObject(o, sp->name, digits);
        break;
    }
    case SY_FLAG_DOUBLE: cJSON_AddNumberToObject(o, sp->name, strtod(v, NULL)); break;
    case SY_FLAG_STRING: cJSON_AddStringToObject(o, sp->name, v); break;
    case SY_FLAG_METHODS: {
        cJSON *a = cJSON_AddArrayToObject(o, sp->name);
        char *copy = xstrdup(v), *save = NULL;
        for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t; t = strtok_r(NULL, ",", &save))
            cJSON_AddItemToArray(a, cJSON_CreateString(t));
        free(copy);
        break;
    }
    }
}

/* Options that cannot change a run's results may differ on --resume. */
static int free_on_resume(const char *flag)
{
    static const char *const names[] = {"threads", "device", "cuda-graphs", "out", "name", "resume", "override",
                                        "ckpt-every"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i], flag) == 0) return 1;
    return 0;
}

static int overridden(const sy_run *run, const char *flag)
{
    for (int i = 0; i < run->nflags; i++) {
        if (strcmp(run->flags[i].name, "override") != 0) continue;
        char *copy = xstrdup(run->values[i]), *save = NULL;
        int hit = 0;
        for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && !hit; t = strtok_r(NULL, ",", &save))
            hit = strcmp(t[0] == '-' && t[1] == '-' ? t + 2 : t, flag) == 0;
        free(copy);
        return hit;
    }
    return 0;
}

/* Whether a value recorded in config.json equals the resolved option v. */
static int same_option(const cJSON *old, const sy_flag_spec *sp, const char *v)
{
    switch (sp->type) {
    case SY_FLAG_BOOL: return cJSON_IsBool(old) && cJSON_IsTrue(old) == (strcmp(v, "1") == 0);
    case SY_FLAG_INT:
    case SY_FLAG_DOUBLE: return cJSON_IsNumber(old) && old->valuedouble == strtod(v, NULL);
    case SY_FLAG_STRING: return cJSON_IsString(old) && strcmp(old->valuestring, v) == 0;
    case SY_FLAG_METHODS: {
        if (!cJSON_IsArray(old)) return 0;
        char *copy = xstrdup(v), *save = NULL;
        int k = 0, same = copy != NULL;
        for (char *t = copy ? strtok_r(copy, ",", &save) : NULL; t && same; t = strtok_r(NULL, ",", &save), k++) {
            const cJSON *m = cJSON_GetArrayItem(old, k);
            same = cJSON_IsString(m) && strcmp(m->valuestring, t) == 0;
        }
        free(copy);
        return same && k == cJSON_GetArraySize(old);
    }
    }
    return 0;
}

/* The checkpoint owner "<experiment> <hash>": FNV-1a over the options that
 * can change results, as config.json records them when the run starts (a
 * resumed run hashes its first config.json, so --override keeps it). */
static void set_owner(const sy_run *run, const cJSON *opts)
{
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < run->nflags; i++) {
        if (free_on_resume(run->flags[i].name)) continue;
        const cJSON *o = cJSON_GetObjectItemCaseSensitive(opts, run->flags[i].name);
        char *v = o ? cJSON_PrintUnformatted(o) : NULL;
        for (const char *p = run->flags[i].name; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        for (const char *p = v ? v : ""; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ull;
        h = (h ^ ';') * 1099511628211ull;
        free(v);
    }
    char owner[128];
    snprintf(owner, sizeof owner, "%s %016llx", run->exp->name, (unsigned long long)h);
    sy_train_set_owner(owner);
    sy_train_set_records(sy_records_mark, sy_records_rewind);
}

/* A whole small text file (a run's config.json); only a regular file, so a
 * FIFO in its place fails instead of blocking. */
static sy_status read_text(const char *path, char **text, size_t *len)
{
    *text = NULL;
    FILE *f = sy_fopen_regular(path, "r");
    if (!f) return SY_ERR_IO;
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    for (size_t got; buf && (got = fread(buf + n, 1, cap - n, f)) > 0;) {
        n += got;
        if (n == cap) {
            char *b = cap < (64u << 20) ? realloc(buf, cap *= 2) : NULL;
            if (!b) free(buf);
            buf = b;
        }
    }
    fclose(f);
    if (!buf) return sy_fail(SY_ERR_NOMEM, "%s: out of memory or larger than 64 MiB", path);
    *text = buf;
    *len = n;
    return SY_OK;
}

/* A resumed run must be the run that was started: compare every option that
 * can change the results with the run's config.json, before anything is
 * written, naming the flag and both values. */
static sy_status check_resume_config(const sy_run *run)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", run->dir);
    char *text = NULL;
    size_t len = 0;
    struct stat st;
    if (stat(path, &st) != 0 && errno == ENOENT)
        return sy_fail(SY_ERR_ARG, "--resume: %s has no config.json: not a syre run record, or not this one's",
                       run->dir);
    sy_status s = read_text(path, &text, &len);
    if (s != SY_OK) return s;
    cJSON *c = cJSON_ParseWithLength(text, len);
    free(text);
    const cJSON *opts = c ? cJSON_GetObjectItemCaseSensitive(c, "options") : NULL;
    const cJSON *exp = c ? cJSON_GetObjectItemCaseSensitive(c, "experiment") : NULL;
    if (!cJSON_IsObject(opts) || !cJSON_IsString(exp)) {
        cJSON_Delete(c);
        return sy_fail(SY_ERR_FORMAT, "--resume: %s is not a syre run record (no experiment and options)", path);
    }
    if (strcmp(exp->valuestring, run->exp->name) != 0) {
        s = sy_fail(SY_ERR_ARG, "--resume: %s records a run of '%s', not '%s'", path, exp->valuestring,
                    run->exp->name);
        cJSON_Delete(c);
        return s;
    }
    for (int i = 0; i < run->nflags && s == SY_OK; i++) {
        const sy_flag_spec *sp = &run->flags[i];
        if (free_on_resume(sp->name) || overridden(run, sp->name)) continue;
        const cJSON *old = cJSON_GetObjectItemCaseSensitive(opts, sp->name);
        if (!old) continue; /* a flag newer than the record */
        if (same_option(old, sp, run->values[i])) continue;
        cJSON *tmp = cJSON_CreateObject();
        if (tmp) add_option(tmp, sp, run->values[i]);
        char *was = cJSON_PrintUnformatted(old), *now = tmp ? cJSON_PrintUnformatted(tmp->child) : NULL;
        s = sy_fail(SY_ERR_ARG, "%s: --resume: --%s was %s when the run started (%s), now %s; resume with the same "
                    "value, or accept the change with --override %s", run->exp->name, sp->name, was ? was : "?", path,
                    now ? now : run->values[i], sp->name);
        free(was);
        free(now);
        cJSON_Delete(tmp);
    }
    if (s == SY_OK) set_owner(run, opts);
    cJSON_Delete(c);
    return s;
}

/* The first missing directory on the way to path (NULL if path exists):
 * what a failed start may remove again. */
static char *first_missing(const char *path)
{
    size_t len = strlen(path);
    char *buf = xstrdup(path);
    if (!buf) return NULL;
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        struct stat st;
        if (stat(buf, &st) != 0) return buf;
        buf[i] = c;
    }
    free(buf);
    return NULL;
}

/* A resumed run's records (*.csv, *.json) must be regular files: a FIFO
 * or a directory in their place is refused at once, not read or appended. */
static sy_status check_record_kinds(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return SY_OK;
    sy_status s = SY_OK;
    for (struct dirent *e; s == SY_OK && (e = readdir(d));) {
        size_t l = strlen(e->d_name);
        if (l < 5 || (strcmp(e->d_name + l - 4, ".csv") != 0 && strcmp(e->d_name + l - 5, ".json") != 0)) continue;
        char path[4200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
            s = sy_fail(SY_ERR_IO, "%s: exists and is not a regular file", path);
    }
    closedir(d);
    return s;
}

/* A resumed run's record is checked first (syre verify): what is wrong is
 * said before training goes on (a damaged checkpoint falls back later). */
static void warn_record(const char *dir)
{
    char *text = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&text, &len);
    if (!m) return;
    int problems = sy_run_verify(dir, m);
    fclose(m);
    if (problems > 0) {
        fprintf(stderr, "syre: --resume: the record in %s has %d problem%s (`syre verify` says):\n", dir, problems,
                problems > 1 ? "s" : "");
        for (char *save = NULL, *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
            if (strstr(l, "DAMAGED") || strstr(l, "MISSING") || strstr(l, "falls back")) fprintf(stderr, "%s\n", l);
    }
    free(text);
}

/* Whether a run directory holds nothing but its lock and the temporary of
 * an atomic write (or nothing): a start stopped between making the
 * directory and renaming config.json into place. */
static int start_cut_short(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return 0;
    int other = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        const char *f = e->d_name;
        if (strcmp(f, ".") && strcmp(f, "..") && strcmp(f, "run.lock") && strcmp(f, "config.json.tmp")) other = 1;
    }
    closedir(d);
    return !other;
}

/* Rank 0's part of sy_run_start: the directory, config.json, the banner. */
static sy_status start_root(sy_run *run)
{
    const char *out = sy_run_get_str(run, "out");
    const char *name = sy_run_get_str(run, "name");
    char stamp[32];
    int auto_name = !name || !*name;
    if (auto_name) {
        struct tm tm;
        localtime_r(&run->start, &tm);
        strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &tm);
        name = stamp;
        if (run->resuming)
            return sy_fail(SY_ERR_ARG, "%s: --resume needs --name of the run to continue", run->exp->name);
    }
    size_t n = strlen(out) + strlen(run->exp->name) + strlen(name) + 16;
    free(run->dir);
    run->dir = malloc(n);
    if (!run->dir) return sy_fail(SY_ERR_NOMEM, "out of memory");
    snprintf(run->dir, n, "%s/%s/%s", out, run->exp->name, name);
    if (is_dir(run->dir)) {
        if (auto_name) {
            /* Two runs in the same second: number the second one. */
            for (int k = 2; k < 1000 && is_dir(run->dir); k++)
                snprintf(run->dir, n, "%s/%s/%s-%d", out, run->exp->name, name, k);
        } else if (!run->resuming) {
            return sy_fail(SY_ERR_ARG, "run directory %s already exists (use --resume to continue it, or another --name)",
                           run->dir);
        }
    } else if (run->resuming) {
        return sy_fail(SY_ERR_ARG, "--resume: no run directory %s to continue", run->dir);
    }
    sy_status s;
    if (run->resuming && start_cut_short(run->dir)) {
        /* Only a lock: a signal came before config.json was written. The lock
         * below still refuses a process that is starting it right now. */
        fprintf(stderr, "%s: --resume: the start of %s was cut short before config.json was written; starting it "
                "afresh\n", run->exp->name, run->dir);
        run->resuming = 0;
    }
    if (run->resuming && (s = check_resume_config(run)) != SY_OK) return s;
    free(run->made);
    run->made = first_missing(run->dir);
    if ((s = sy_mkdir_p(run->dir)) != SY_OK) return s;
    /* Before anything is written: a second process on this run stops here. */
    if ((s = sy_run_lock(run)) != SY_OK) return s;
    if (run->resuming && (s = check_record_kinds(run->dir)) != SY_OK) return s;
    if (run->resuming) warn_record(run->dir);

    cJSON *c = cJSON_CreateObject();
    if (!c) return sy_fail(SY_ERR_NOMEM, "out of memory");
    char when[64];
    iso_time(run->start, when, sizeof when);
    cJSON_AddStringToObject(c, "experiment", run->exp->name);
    cJSON_AddStringToObject(c, "figure", run->exp->figure ? run->exp->figure : "");
    cJSON_AddStringToObject(c, "run_dir", run->dir);
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)sy_run_seed(run));
    cJSON_AddRawToObject(c, "seed", seed);
    cJSON_AddStringToObject(c, "syre_version", sy_version());
    cJSON_AddStringToObject(c, "git_revision", SYRE_GIT_REV);
    cJSON_AddStringToObject(c, "blas", sy_blas_info());
    cJSON_AddNumberToObject(c, "threads", sy_get_threads());
    cJSON_AddStringToObject(c, "device", sy_default_device());
    cJSON_AddStringToObject(c, "precision", sy_precision_name(sy_get_precision()));
    if (strcmp(sy_default_device(), "cpu") != 0) cJSON_AddStringToObject(c, "device_info", sy_device_info(sy_default_device()));
    cJSON_AddNumberToObject(c, "ranks", sy_dist_size());
    cJSON_AddStringToObject(c, "distributed", sy_dist_info());
    cJSON_AddStringToObject(c, "start_time", when);
    cJSON_AddBoolToObject(c, "resumed", run->resuming);
    cJSON *args = cJSON_AddArrayToObject(c, "arguments");
    for (int i = 0; i < run->argc; i++) cJSON_AddItemToArray(args, cJSON_CreateString(run->argv[i]));
    cJSON *opts = cJSON_AddObjectToObject(c, "options");
    for (int i = 0; i < run->nflags; i++) add_option(opts, &run->flags[i], run->values[i]);
    if (!run->resuming) set_owner(run, opts);
    char path[4200];
    /* A resumed run keeps its first config; the new one goes beside it. */
    snprintf(path, sizeof path, "%s/%s", run->dir, run->resuming ? "config-resume.json" : "config.json");
    s = write_json(path, c);
    cJSON_Delete(c);
    if (s != SY_OK) return s;

    fprintf(stderr, "syre %s (%s) -> %s\n", run->exp->name, run->exp->figure ? run->exp->figure : "-", run->dir);
    fprintf(stderr, "  syre %s, git %s, seed %llu, %d threads, device %s\n  BLAS: %s\n  options:",
            sy_version(), SYRE_GIT_REV, (unsigned long long)sy_run_seed(run), sy_get_threads(), sy_default_device(),
            sy_blas_info());
    if (strcmp(sy_default_device(), "cpu") != 0) fprintf(stderr, "\n  device: %s\n  ", sy_device_info(sy_default_device()));
    for (int i = 0; i < run->nflags; i++) fprintf(stderr, " %s=%s", run->flags[i].name, run->values[i]);
    fputc('\n', stderr);
    if (sy_dist_size() > 1)
        fprintf(stderr, "  data-parallel: %s, %d threads each; global batch %ld\n", sy_dist_info(), sy_get_threads(),
                sy_run_get_int(run, "batch"));
    return SY_OK;
}

/* ---- Records and checkpoints ------------------------------------------------ */

static sy_run *records_run; /* the run whose CSVs checkpoints mark, if any */

/* A CSV name the marks can carry: it ends in .csv and has no separator. */
static int markable(const char *name)
{
    size_t l = strlen(name);
    return l >= 5 && l < 256 && strcmp(name + l - 4, ".csv") == 0 && !strpbrk(name, "=;");
}

int sy_records_mark(char *buf, size_t size)
{
    buf[0] = '\0';
    if (!records_run || !records_run->dir || !sy_dist_is_root()) return 0;
    for (int i = 0; i < records_run->ncsv; i++)
        if (records_run->csv[i].f) fflush(records_run->csv[i].f);
    DIR *d = opendir(records_run->dir);
    if (!d) return 0;
    size_t n = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (!markable(e->d_name)) continue;
        char path[4200];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", records_run->dir, e->d_name);
        if (stat(path, &st) != 0) continue;
        int w = snprintf(buf + n, size - n, "%s=%lld;", e->d_name, (long long)st.st_size);
        if (w < 0 || (size_t)w >= size - n - 1) {
            snprintf(buf + n, size - n, "*"); /* cut short: the files past it are not rewound */
            break;
        }
        n += (size_t)w;
    }
    closedir(d);
    return 1;
}

/* Whether marks has an entry "name=...;". */
static int named(const char *marks, const char *name)
{
    size_t l = strlen(name);
    for (const char *p = marks; *p;) {
        if (!strncmp(p, name, l) && p[l] == '=') return 1;
        const char *semi = strchr(p, ';');
        if (!semi) break;
        p = semi + 1;
    }
    return 0;
}

/* Cut the CSV `name` of the run back to len bytes if it is longer. */
static sy_status rewind_one(const char *name, long long len)
{
    char path[4200];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", records_run->dir, name);
    if (strchr(name, '/') || len < 0 || stat(path, &st) != 0 || st.st_size <= len) return SY_OK;
    if (truncate(path, (off_t)len) != 0)
        return sy_fail(SY_ERR_IO, "cannot rewind %s to its checkpoint: %s", path, strerror(errno));
    fprintf(stderr, "syre: %s: %lld bytes of rows logged after the checkpoint dropped (they are logged again)\n", name,
            (long long)st.st_size - len);
    return SY_OK;
}

sy_status sy_records_rewind(const char *marks)
{
    if (!records_run || !records_run->dir || !sy_dist_is_root() || !marks) return SY_OK;
    const char *p = marks;
    sy_status s = SY_OK;
    while (*p && s == SY_OK) {
        const char *eq = strchr(p, '='), *semi = eq ? strchr(eq, ';') : NULL;
        if (!eq || !semi || eq == p || eq - p > 255) break;
        char name[256];
        snprintf(name, sizeof name, "%.*s", (int)(eq - p), p);
        s = rewind_one(name, atoll(eq + 1));
        p = semi + 1;
    }
    if (s != SY_OK || *p) return s; /* a cut list: the files past it are left as they are */
    /* Every CSV was named: one that was not did not exist yet and is emptied
     * (its next row writes the header again). */
    DIR *d = opendir(records_run->dir);
    if (!d) return SY_OK;
    for (struct dirent *e; s == SY_OK && (e = readdir(d));)
        if (markable(e->d_name) && !named(marks, e->d_name)) s = rewind_one(e->d_name, 0);
    closedir(d);
    return s;
}

sy_status sy_run_forget_rows(sy_run *run, const char *file, const char *method)
{
    if (!run->resuming || !run->dir || !sy_dist_is_root()) return SY_OK;
    for (int i = 0; i < run->ncsv; i++)
        if (run->csv[i].f) fflush(run->csv[i].f); /* earlier methods' rows, this process */
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", run->dir, file ? file : "metrics.csv");
    if (access(path, F_OK) != 0) return SY_OK; /* nothing logged yet */
    char *b = NULL;
    size_t n = 0;
    sy_status rs = read_text(path, &b, &n);
    if (rs != SY_OK) return rs;
    /* From the end, while the last row is this method's: cut it. */
    size_t keep = n, mlen = strlen(method);
    while (keep > 0) {
        size_t start = keep - 1; /* the newline ending the row before */
        while (start > 0 && b[start - 1] != '\n') start--;
        if (start == 0 || keep - start <= mlen || strncmp(b + start, method, mlen) != 0 || b[start + mlen] != ',')
            break; /* the header, or another method's row */
        keep = start;
    }
    free(b);
    if (keep < n && truncate(path, (off_t)keep) != 0)
        return sy_fail(SY_ERR_IO, "cannot cut %s's unfinished rows from %s: %s", method, path, strerror(errno));
    if (keep < n)
        fprintf(stderr, "syre: %s: %zu bytes of rows %s logged before it had a checkpoint dropped (logged again)\n",
                file ? file : "metrics.csv", n - keep, method);
    return SY_OK;
}

sy_status sy_run_start(sy_run *run)
{
    run->resuming = sy_run_get_bool(run, "resume");
    if (run->resuming && run->exp->no_checkpoint)
        return sy_fail(SY_ERR_ARG, "%s: --resume: this experiment keeps no checkpoint, so there is nothing to continue "
                       "(run it again under a new --name)", run->exp->name);
    run->start = time(NULL);
    run->start_mono = sy_io_now();
    sy_nan_policy nan_policy;
    if (sy_nan_policy_parse(sy_run_get_str(run, "on-nan"), &nan_policy) != SY_OK)
        return sy_fail(SY_ERR_ARG, "%s: --on-nan must be 'stop' or 'skip-batch', got '%s'", run->exp->name,
                       sy_run_get_str(run, "on-nan"));
    sy_set_nan_policy(nan_policy);
    sy_status cs = sy_run_check_ckpt_every(run);
    if (cs != SY_OK) return cs;
    /* The device (every rank): `--device cuda` without a GPU fails here, saying
     * why, before anything is written. */
    const char *prec = sy_run_get_str(run, "precision");
    sy_status ps_ = prec && *prec ? sy_set_precision(prec) : SY_OK;
    if (ps_ != SY_OK) return ps_;
    if (sy_run_get_bool(run, "cuda-graphs")) sy_set_cuda_graphs(1);
    const char *dev = sy_run_get_str(run, "device");
    sy_status ds = dev && *dev ? sy_set_default_device(dev) : sy_device_check(sy_default_device());
    if (ds != SY_OK) return ds;
    if (!strcmp(sy_default_device(), "cpu") && sy_get_precision() != SY_PRECISION_FP32)
        return sy_fail(SY_ERR_UNSUPPORTED, "%s: --precision %s needs a device (--device cuda; sim emulates it); the "
                       "CPU backend computes in fp32", run->exp->name, sy_precision_name(sy_get_precision()));
    int nranks = sy_dist_size();
    if (nranks > 1) {
        /* Every rank parses the same command line, so these checks agree. */
        if (!run->exp->data_parallel)
            return sy_fail(SY_ERR_UNSUPPORTED,
                           "experiment '%s' has no data-parallel training (see docs/distributed.md); run it "
                           "as a single process (without mpirun, or with -np 1)",
                           run->exp->name);
        size_t local;
        if (sy_dist_local_batch((size_t)sy_run_get_int(run, "batch"), &local) != SY_OK) {
            char why[512];
            snprintf(why, sizeof why, "%s", sy_last_error());
            return sy_fail(SY_ERR_ARG, "--batch: %s", why);
        }
    }
    int threads = (int)sy_run_get_int(run, "threads");
    if (threads == 0 && nranks > 1) threads = sy_dist_default_threads();
    sy_set_threads(threads);
    /* Before the record is made: from its banner on, a stop signal is a
     * graceful stop, never the death of a half-started run. */
    if (run->exp->stops) sy_stop_install();
    sy_status s = sy_dist_is_root() ? start_root(run) : SY_OK;
    if (s == SY_OK && run->exp->stops) records_run = run;
    if (nranks > 1) {
        /* Rank 0 chose the directory (a timestamp, numbered if taken) and
         * may have failed: every rank takes its outcome. */
        static struct {
            int status;
            char msg[1024];
            char dir[4096];
        } m;
        memset(&m, 0, sizeof m);
        if (sy_dist_is_root()) {
            m.status = (int)s;
            snprintf(m.msg, sizeof m.msg, "%s", s != SY_OK ? sy_last_error() : "");
            snprintf(m.dir, sizeof m.dir, "%s", run->dir ? run->dir : "");
        }
        sy_status bs = sy_dist_bcast(&m, sizeof m);
        if (bs != SY_OK) return bs;
        if (!sy_dist_is_root()) {
            if (m.status != SY_OK) return sy_fail((sy_status)m.status, "%s", m.msg);
            free(run->dir);
            if (!(run->dir = xstrdup(m.dir))) return sy_fail(SY_ERR_NOMEM, "out of memory");
        }
    }
    return s;
}

/* ---- Metrics CSV -------------------------------------------------------- */

static void csv_field(FILE *f, const char *s)
{
    if (strpbrk(s, ",\"\n")) {
        fputc('"', f);
        for (; *s; s++) {
            if (*s == '"') fputc('"', f);
            fputc(*s, f);
        }
        fputc('"', f);
    } else {
        fputs(s, f);
    }
}

/* On resume, recover the columns from an existing file's header. */
static int read_header(const char *path, sy_csv *c)
{
    FILE *f = sy_fopen_regular(path, "r");
    if (!f) return 0;
    char line[8192];
    int ok = fgets(line, sizeof line, f) != NULL;
    fclose(f);
    if (!ok) return 0;
    line[strcspn(line, "\r\n")] = '\0';
    char *save = NULL;
    int k = 0;
    for (char *t = strtok_r(line, ",", &save); t; t = strtok_r(NULL, ",", &save), k++) {
        if (k < 2) continue; /* method, step */
        char **cols = realloc(c->cols, sizeof *cols * (size_t)(c->ncols + 1));
        if (!cols) return 0;
        c->cols = cols;
        cols[c->ncols++] = xstrdup(t);
    }
    return 1;
}

sy_status sy_run_log_to(sy_run *run, const char *file, const char *method, int64_t step,
                        int n, const char *const *names, const double *values)
{
    if (!run->dir) return sy_fail(SY_ERR_STATE, "sy_run_log before sy_run_start");
    if (!sy_dist_is_root()) return SY_OK; /* distributed run: rank 0 keeps the record */
    if (!file) file = "metrics.csv";
    sy_csv *c = NULL;
    for (int i = 0; i < run->ncsv; i++)
        if (strcmp(run->csv[i].file, file) == 0) c = &run->csv[i];
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", run->dir, file);
    if (!c) {
        sy_csv *a = realloc(run->csv, sizeof *a * (size_t)(run->ncsv + 1));
        if (!a) return sy_fail(SY_ERR_NOMEM, "out of memory");
        run->csv = a;
        c = &a[run->ncsv];
        memset(c, 0, sizeof *c);
        c->file = xstrdup(file);
        run->ncsv++;
        struct stat st;
        if (stat(path, &st) == 0 && !S_ISREG(st.st_mode))
            return sy_fail(SY_ERR_IO, "%s: exists and is not a regular file", path);
        int have = run->resuming && read_header(path, c);
        if (!have) {
            c->cols = calloc((size_t)n + 1, sizeof *c->cols);
            if (!c->cols) return sy_fail(SY_ERR_NOMEM, "out of memory");
            for (int k = 0; k < n; k++) c->cols[k] = xstrdup(names[k]);
            c->ncols = n;
        }
        c->f = have ? sy_fopen_regular(path, "a") : fopen(path, "w");
        if (!c->f) return sy_fail(SY_ERR_IO, "cannot write %s: %s", path, strerror(errno));
        if (!have) {
            fputs("method,step", c->f);
            for (int k = 0; k < c->ncols; k++) {
                fputc(',', c->f);
                csv_field(c->f, c->cols[k]);
            }
            fputc('\n', c->f);
        }
    }
    if (!c->f) return sy_fail(SY_ERR_IO, "cannot write %s", path);
    /* Map the given names onto the fixed columns before writing anything. */
    int idx[256];
    if (c->ncols > 256) return sy_fail(SY_ERR_ARG, "%s: more than 256 columns", path);
    for (int k = 0; k < c->ncols; k++) idx[k] = -1;
    for (int j = 0; j < n; j++) {
        int found = -1;
        for (int k = 0; k < c->ncols; k++)
            if (strcmp(c->cols[k], names[j]) == 0) found = k;
        if (found < 0)
            return sy_fail(SY_ERR_ARG, "%s: metric '%s' is not one of the columns fixed by the first row", path, names[j]);
        idx[found] = j;
    }
    csv_field(c->f, method ? method : "");
    fprintf(c->f, ",%lld", (long long)step);
    for (int k = 0; k < c->ncols; k++) {
        fputc(',', c->f);
        if (idx[k] >= 0) fprintf(c->f, "%.9g", values[idx[k]]);
    }
    /* Flushed row by row: a killed run keeps every row it logged. */
    if (fputc('\n', c->f) == EOF || fflush(c->f) != 0)
        return sy_fail(SY_ERR_IO, "cannot write %s: %s", path, strerror(errno));
    return SY_OK;
}

static void csv_free(sy_csv *c)
{
    if (c->f) fclose(c->f);
    for (int k = 0; k < c->ncols; k++) free(c->cols[k]);
    free(c->cols);
    free(c->file);
}

void sy_run_csv_close_all(sy_run *run)
{
    for (int i = 0; i < run->ncsv; i++) csv_free(&run->csv[i]);
    free(run->csv);
    run->csv = NULL;
    run->ncsv = 0;
}

sy_status sy_run_log_afresh(sy_run *run, const char *file)
{
    if (!run->dir) return sy_fail(SY_ERR_STATE, "sy_run_log_afresh before sy_run_start");
    if (!sy_dist_is_root()) return SY_OK;
    for (int i = 0; i < run->ncsv; i++)
        if (strcmp(run->csv[i].file, file) == 0) {
            csv_free(&run->csv[i]);
            run->csv[i] = run->csv[--run->ncsv];
            break;
        }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", run->dir, file);
    if (unlink(path) != 0 && errno != ENOENT) return sy_fail(SY_ERR_IO, "cannot remove %s: %s", path, strerror(errno));
    return SY_OK;
}

sy_status sy_run_log(sy_run *run, const char *method, int64_t step,
                     int n, const char *const *names, const double *values)
{
    return sy_run_log_to(run, NULL, method, step, n, names, values);
}

/* ---- Summary -------------------------------------------------------------- */

static sy_summ *summ_for(sy_run *run, const char *method)
{
    for (int i = 0; i < run->nsumm; i++)
        if (strcmp(run->summ[i].method, method) == 0) return &run->summ[i];
    sy_summ *a = realloc(run->summ, sizeof *a * (size_t)(run->nsumm + 1));
    if (!a) return NULL;
    run->summ = a;
    sy_summ *m = &a[run->nsumm];
    memset(m, 0, sizeof *m);
    m->method = xstrdup(method);
    if (!m->method) return NULL;
    run->nsumm++;
    return m;
}

sy_status sy_run_summary(sy_run *run, const char *method, const char *key, double value)
{
    sy_summ *m = summ_for(run, method);
    if (!m) return sy_fail(SY_ERR_NOMEM, "out of memory");
    for (int i = 0; i < m->nmet; i++)
        if (strcmp(m->met_keys[i], key) == 0) return m->met_values[i] = value, SY_OK;
    char **k = realloc(m->met_keys, sizeof *k * (size_t)(m->nmet + 1));
    if (k) m->met_keys = k;
    double *v = realloc(m->met_values, sizeof *v * (size_t)(m->nmet + 1));
    if (v) m->met_values = v;
    if (!k || !v) return sy_fail(SY_ERR_NOMEM, "out of memory");
    k[m->nmet] = xstrdup(key);
    v[m->nmet++] = value;
    int seen = 0;
    for (int i = 0; i < run->nrows; i++) seen |= strcmp(run->rows[i], key) == 0;
    if (!seen) {
        char **r = realloc(run->rows, sizeof *r * (size_t)(run->nrows + 1));
        if (!r) return sy_fail(SY_ERR_NOMEM, "out of memory");
        run->rows = r;
        r[run->nrows++] = xstrdup(key);
    }
    return SY_OK;
}

double sy_run_summary_value(const sy_run *run, const char *method, const char *key)
{
    for (int i = 0; i < run->nsumm; i++) {
        if (strcmp(run->summ[i].method, method) != 0) continue;
        for (int k = 0; k < run->summ[i].nmet; k++)
            if (strcmp(run->summ[i].met_keys[k], key) == 0) return run->summ[i].met_values[k];
    }
    return NAN;
}

sy_status sy_run_summary_setting(sy_run *run, const char *method, const char *key, const char *value)
{
    sy_summ *m = summ_for(run, method);
    if (!m) return sy_fail(SY_ERR_NOMEM, "out of memory");
    for (int i = 0; i < m->nset; i++)
        if (strcmp(m->set_keys[i], key) == 0) {
            free(m->set_values[i]);
            m->set_values[i] = xstrdup(value);
            return SY_OK;
        }
    char **k = realloc(m->set_keys, sizeof *k * (size_t)(m->nset + 1));
    if (k) m->set_keys = k;
    char **v = realloc(m->set_values, sizeof *v * (size_t)(m->nset + 1));
    if (v) m->set_values = v;
    if (!k || !v) return sy_fail(SY_ERR_NOMEM, "out of memory");
    k[m->nset] = xstrdup(key);
    v[m->nset++] = xstrdup(value);
    return SY_OK;
}

sy_status sy_run_summary_settingf(sy_run *run, const char *method, const char *key, const char *fmt, ...)
{
    char value[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(value, sizeof value, fmt, ap);
    va_end(ap);
    return sy_run_summary_setting(run, method, key, value);
}

static void fmt_cell(char *buf, size_t n, const sy_summ *m, const char *key)
{
    snprintf(buf, n, "-");
    for (int i = 0; i < m->nmet; i++)
        if (strcmp(m->met_keys[i], key) == 0) snprintf(buf, n, "%.4g", m->met_values[i]);
}

void sy_run_print_table(const sy_run *run, FILE *f)
{
    if (run->nsumm == 0) return;
    int w0 = 6;
    for (int r = 0; r < run->nrows; r++) {
        int l = (int)strlen(run->rows[r]);
        if (l > w0) w0 = l;
    }
    int *w = calloc((size_t)run->nsumm, sizeof *w);
    if (!w) return;
    char cell[64];
    for (int m = 0; m < run->nsumm; m++) {
        w[m] = (int)strlen(run->summ[m].method);
        for (int r = 0; r < run->nrows; r++) {
            fmt_cell(cell, sizeof cell, &run->summ[m], run->rows[r]);
            if ((int)strlen(cell) > w[m]) w[m] = (int)strlen(cell);
        }
    }
    fprintf(f, "\n%s: final results\n", run->exp->name);
    fprintf(f, "%-*s", w0, "metric");
    for (int m = 0; m < run->nsumm; m++) fprintf(f, "  %*s", w[m], run->summ[m].method);
    fputc('\n', f);
    int total = w0;
    for (int m = 0; m < run->nsumm; m++) total += 2 + w[m];
    for (int i = 0; i < total; i++) fputc('-', f);
    fputc('\n', f);
    for (int r = 0; r < run->nrows; r++) {
        fprintf(f, "%-*s", w0, run->rows[r]);
        for (int m = 0; m < run->nsumm; m++) {
            fmt_cell(cell, sizeof cell, &run->summ[m], run->rows[r]);
            fprintf(f, "  %*s", w[m], cell);
        }
        fputc('\n', f);
    }
    free(w);
}

sy_status sy_run_finish(sy_run *run)
{
    if (!run->dir) return sy_fail(SY_ERR_STATE, "sy_run_finish before sy_run_start");
    sy_status s = SY_OK;
    for (int i = 0; i < run->ncsv; i++)
        if (run->csv[i].f) {
            if (fclose(run->csv[i].f) != 0 && s == SY_OK)
                s = sy_fail(SY_ERR_IO, "cannot write %s/%s: %s", run->dir, run->csv[i].file, strerror(errno));
            run->csv[i].f = NULL;
        }
    if (s != SY_OK || !sy_dist_is_root()) return s;
    cJSON *d = cJSON_CreateObject();
    if (!d) return sy_fail(SY_ERR_NOMEM, "out of memory");
    char when[64];
    iso_time(time(NULL), when, sizeof when);
    cJSON_AddStringToObject(d, "experiment", run->exp->name);
    cJSON_AddStringToObject(d, "run_dir", run->dir);
    cJSON_AddStringToObject(d, "end_time", when);
    cJSON_AddNumberToObject(d, "elapsed_s", sy_io_now() - run->start_mono);
    if (sy_nan_skipped() > 0) {
        cJSON_AddNumberToObject(d, "nan_skipped_batches", (double)sy_nan_skipped());
        fprintf(stderr, "syre: %ld batches skipped for a NaN/Inf loss or gradient (--on-nan skip-batch)\n", sy_nan_skipped());
    }
    cJSON *ms = cJSON_AddObjectToObject(d, "methods");
    for (int i = 0; i < run->nsumm; i++) {
        const sy_summ *m = &run->summ[i];
        cJSON *o = cJSON_AddObjectToObject(ms, m->method);
        cJSON *set = cJSON_AddObjectToObject(o, "settings");
        for (int k = 0; k < m->nset; k++) cJSON_AddStringToObject(set, m->set_keys[k], m->set_values[k]);
        cJSON *met = cJSON_AddObjectToObject(o, "metrics");
        for (int k = 0; k < m->nmet; k++) {
            /* JSON has no NaN/Inf: write null so the file stays valid. */
            if (isfinite(m->met_values[k]))
                cJSON_AddNumberToObject(met, m->met_keys[k], m->met_values[k]);
            else
                cJSON_AddNullToObject(met, m->met_keys[k]);
        }
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/summary.json", run->dir);
    s = write_json(path, d);
    cJSON_Delete(d);
    if (s != SY_OK) return s;
    sy_run_print_table(run, stdout);
    fflush(stdout);
    fprintf(stderr, "record: %s\n", run->dir);
    return SY_OK;
}

/* Remove the directories sy_run_start created if the run recorded nothing
 * but its config.json (it failed before training): a failed start must not
 * leave a name that then "already exists". */
static void remove_unused_dir(sy_run *run)
{
    if (!run->made || !run->dir || !sy_dist_is_root()) return;
    DIR *d = opendir(run->dir);
    if (!d) return;
    int other = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, "config.json") &&
            strcmp(e->d_name, "run.lock"))
            other = 1;
    closedir(d);
    if (other) return;
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", run->dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/run.lock", run->dir); /* still held: dropped when its descriptor closes */
    unlink(path);
    /* From the run directory up to the first one this run created. */
    snprintf(path, sizeof path, "%s", run->dir);
    size_t stop = strlen(run->made);
    while (strlen(path) >= stop && rmdir(path) == 0) {
        char *slash = strrchr(path, '/');
        if (!slash) break;
        *slash = '\0';
    }
}

void sy_run_free(sy_run *run)
{
    if (!run) return;
    remove_unused_dir(run);
    sy_train_set_owner(NULL);
    sy_train_set_records(NULL, NULL);
    free(run->made);
    for (int i = 0; i < run->nflags && run->values; i++) free(run->values[i]);
    free(run->values);
    free(run->set);
    free(run->flags);
    for (int i = 0; i < run->nmethods; i++) free(run->methods[i]);
    free(run->methods);
    if (records_run == run) records_run = NULL;
    free(run->dir);
    if (run->lock_fd >= 0) close(run->lock_fd); /* releases run.lock */
    sy_run_csv_close_all(run);
    for (int i = 0; i < run->nsumm; i++) {
        sy_summ *m = &run->summ[i];
        for (int k = 0; k < m->nset; k++) {
            free(m->set_keys[k]);
            free(m->set_values[k]);
        }
        for (int k = 0; k < m->nmet; k++) free(m->met_keys[k]);
        free(m->set_keys);
        free(m->set_values);
        free(m->met_keys);
        free(m->met_values);
        free(m->method);
    }
    free(run->summ);
    for (int i = 0; i < run->nrows; i++) free(run->rows[i]);
    free(run->rows);
    free(run);
}
