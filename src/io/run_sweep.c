/* A sweep of training points: the loop every `reproduce` writes (points in
 * order, each trained and recorded, the figures drawn from the gathered
 * values), with the share of points this process trains in one place and,
 * on request, each point's values kept so that --resume skips it. Across
 * ranks each point is one process's training in a local scope of its own
 * (syre/dist.h), its rows kept in points/<i>/ until rank 0 copies them into
 * the run's files in point order. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"
#include "syre/dist.h"
#include "syre/experiment.h"
#include "syre/format.h"

sy_sweep sy_sweep_defaults(void)
{
    sy_sweep w;
    memset(&w, 0, sizeof w);
    w.rank = sy_dist_job_rank();
    w.size = sy_dist_job_size();
    return w;
}

static void point_name(const sy_sweep *w, int i, char *buf, size_t size)
{
    if (w->name) w->name(w->ctx, i, buf, size);
    else snprintf(buf, size, "point %d", i);
}

static void col_name(const sy_sweep *w, int c, char *buf, size_t size)
{
    if (w->cols) snprintf(buf, size, "%s", w->cols[c]);
    else snprintf(buf, size, "v%d", c);
}

/* The point record: a header "name,<cols>" and one row, the values to 17 digits (exact on reading). */
static sy_status write_point(sy_run *run, const sy_sweep *w, int i, const char *name, const double *v)
{
    char path[4200], col[256];
    sy_run_pathf(run, path, sizeof path, "points");
    sy_status s = sy_mkdir_p(path);
    size_t cap = 64 + strlen(name) + (size_t)w->ncols * 280, len = 0;
    char *buf = s == SY_OK ? malloc(cap) : NULL;
    if (s == SY_OK && !buf) s = sy_fail(SY_ERR_NOMEM, "sweep: out of memory");
    if (s != SY_OK) return s;
    len += (size_t)snprintf(buf + len, cap - len, "name");
    for (int c = 0; c < w->ncols; c++) {
        col_name(w, c, col, sizeof col);
        len += (size_t)snprintf(buf + len, cap - len, ",%s", col);
    }
    len += (size_t)snprintf(buf + len, cap - len, "\n%s", name);
    for (int c = 0; c < w->ncols; c++) len += (size_t)snprintf(buf + len, cap - len, ",%.17g", v[c]);
    len += (size_t)snprintf(buf + len, cap - len, "\n");
    s = sy_write_file_atomic(sy_run_pathf(run, path, sizeof path, "points/%d.csv", i), buf, len);
    free(buf);
    return s;
}

/* Point i's record into v: 1 if read, 0 if there is none. */
static sy_status read_point(const sy_run *run, const sy_sweep *w, int i, const char *name, double *v, int *found)
{
    char path[4200], col[256];
    *found = 0;
    FILE *f = fopen(sy_run_pathf(run, path, sizeof path, "points/%d.csv", i), "r");
    if (!f) return SY_OK;
    size_t cap = 64 + strlen(name) + (size_t)w->ncols * 280;
    char *head = malloc(cap), *row = malloc(cap), *p;
    sy_status s = head && row ? SY_OK : sy_fail(SY_ERR_NOMEM, "sweep: out of memory");
    if (s == SY_OK && (!fgets(head, (int)cap, f) || !fgets(row, (int)cap, f)))
        s = sy_fail(SY_ERR_IO, "sweep: %s: not a point record (a header and a row)", path);
    /* the header: exactly name and the columns */
    p = head + 4;
    if (s == SY_OK && strncmp(head, "name", 4) != 0) s = sy_fail(SY_ERR_IO, "sweep: %s: no 'name' column", path);
    for (int c = 0; c < w->ncols && s == SY_OK; c++) {
        col_name(w, c, col, sizeof col);
        size_t n = strlen(col);
        if (*p != ',' || strncmp(p + 1, col, n) != 0 || (p[1 + n] != ',' && p[1 + n] != '\n'))
            s = sy_fail(SY_ERR_IO, "sweep: %s: column %d is not '%s'", path, c + 1, col);
        else p += 1 + n;
    }
    if (s == SY_OK && *p != '\n') s = sy_fail(SY_ERR_IO, "sweep: %s: more columns than the sweep's %d", path, w->ncols);
    /* the row: this point's name, then the values */
    size_t nn = strlen(name);
    if (s == SY_OK && (strncmp(row, name, nn) != 0 || row[nn] != ','))
        s = sy_fail(SY_ERR_IO, "sweep: %s is not the record of point '%s' (were the settings changed?)", path, name);
    p = row + nn;
    for (int c = 0; c < w->ncols && s == SY_OK; c++) {
        char *end;
        v[c] = strtod(p + 1, &end);
        if (*p != ',' || end == p + 1) s = sy_fail(SY_ERR_IO, "sweep: %s: value %d does not parse", path, c + 1);
        p = end;
    }
    if (s == SY_OK && *p != '\n') s = sy_fail(SY_ERR_IO, "sweep: %s: more values than the sweep's %d", path, w->ncols);
    free(head);
    free(row);
    fclose(f);
    if (s == SY_OK) *found = 1;
    return s;
}

/* Point i's own directory when the points are spread over ranks: its rows, checkpoints and marks. */
static const char *point_dir(const sy_run *run, int i, char *buf, size_t size)
{
    return sy_run_pathf(run, buf, size, "points/%d", i);
}

static int is_dir(const char *path)
{
    DIR *d = opendir(path);
    if (d) closedir(d);
    return d != NULL;
}

/* Train point i into v and keep its record (w->keep). spread: the point is a single process's training, as if
 * alone: in a local scope (no gradient exchange with the other ranks) with the run's records pointed at
 * points/<i>/ (the rows it logs, its checkpoints), which the gather copies into the run's files. w->prepare runs
 * once, before the first point, in that scope. */
static sy_status train_point(sy_run *run, const sy_sweep *w, int i, const char *name, double *v, int spread,
                             int *prepared)
{
    char path[4200];
    char *dir = run->dir;
    sy_csv *csv = run->csv;
    int ncsv = run->ncsv;
    sy_status s = SY_OK;
    if (spread) {
        sy_dist_local_enter();
        char *own = strdup(point_dir(run, i, path, sizeof path));
        s = own ? sy_mkdir_p(own) : sy_fail(SY_ERR_NOMEM, "sweep: out of memory");
        if (s == SY_OK) run->dir = own, run->csv = NULL, run->ncsv = 0;
        else free(own);
    }
    if (s == SY_OK && w->prepare && !*prepared) {
        s = w->prepare(w->ctx);
        *prepared = s == SY_OK;
    }
    if (s == SY_OK) s = w->train(w->ctx, i, name, v);
    if (run->dir != dir) {
        sy_run_csv_close_all(run); /* rows are flushed as they are logged */
        free(run->dir);
        run->dir = dir, run->csv = csv, run->ncsv = ncsv;
    }
    if (s == SY_OK && w->keep) s = write_point(run, w, i, name, v); /* in the scope: every rank writes its own */
    if (spread) sy_dist_local_leave();
    return s;
}

/* One field of a CSV line at *p (quoted as the run's writer quotes) into buf; *p moves past its comma. 0 at the
 * end of the line. */
static int csv_next(const char **p, char *buf, size_t size)
{
    const char *q = *p;
    size_t n = 0;
    if (!*q || *q == '\n' || *q == '\r') return 0;
    if (*q == '"') {
        for (q++; *q && !(*q == '"' && q[1] != '"'); q++) {
            if (*q == '"') q++;
            if (n + 1 < size) buf[n++] = *q;
        }
        if (*q == '"') q++;
    } else {
        for (; *q && *q != ',' && *q != '\n' && *q != '\r'; q++)
            if (n + 1 < size) buf[n++] = *q;
    }
    buf[n] = '\0';
    if (*q == ',') q++;
    *p = q;
    return 1;
}

/* The rows point i logged (points/<i>/<file>.csv) appended to the run's own <file>.csv through sy_run_log_to, so
 * they read as a single process's (the values were written to 9 digits and print back the same); a file is
 * started afresh at its first point (*started lists those), so a gather repeated by --resume writes it whole. */
static sy_status copy_rows(sy_run *run, int i, char ***started, int *nstarted)
{
    char dir[4200], path[4400];
    DIR *d = opendir(point_dir(run, i, dir, sizeof dir));
    if (!d) return SY_OK;
    sy_status s = SY_OK;
    char *line = NULL, field[512], method[512];
    size_t cap = 0;
    char **names = NULL;
    double *vals = NULL;
    const char **given = NULL;
    for (struct dirent *e; s == SY_OK && (e = readdir(d));) {
        size_t len = strlen(e->d_name);
        if (len < 5 || strcmp(e->d_name + len - 4, ".csv") != 0) continue;
        int seen = 0;
        for (int k = 0; k < *nstarted && !seen; k++) seen = strcmp((*started)[k], e->d_name) == 0;
        if (!seen) {
            char **grown = realloc(*started, sizeof *grown * (size_t)(*nstarted + 1));
            char *copy = strdup(e->d_name);
            if (grown) *started = grown;
            if (!grown || !copy) {
                free(copy);
                s = sy_fail(SY_ERR_NOMEM, "sweep: out of memory");
                break;
            }
            grown[(*nstarted)++] = copy;
            if ((s = sy_run_log_afresh(run, e->d_name)) != SY_OK) break;
        }
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "r");
        if (!f) {
            s = sy_fail(SY_ERR_IO, "sweep: cannot read %s", path);
            break;
        }
        int ncols = 0;
        if (getline(&line, &cap, f) > 0) { /* the header: method,step,<columns> */
            const char *p = line;
            for (int k = 0; s == SY_OK && csv_next(&p, field, sizeof field); k++) {
                if (k < 2) continue;
                char **gn = realloc(names, sizeof *gn * (size_t)(ncols + 1));
                if (gn) names = gn;
                if (!gn || !(names[ncols] = strdup(field))) s = sy_fail(SY_ERR_NOMEM, "sweep: out of memory");
                else ncols++;
            }
        }
        free(vals);
        free(given);
        vals = malloc(sizeof *vals * (size_t)(ncols + 1));
        given = malloc(sizeof *given * (size_t)(ncols + 1));
        if (s == SY_OK && (!vals || !given)) s = sy_fail(SY_ERR_NOMEM, "sweep: out of memory");
        while (s == SY_OK && getline(&line, &cap, f) > 0) {
            const char *p = line;
            long long step = 0;
            int n = 0;
            if (!csv_next(&p, method, sizeof method) || !csv_next(&p, field, sizeof field)) continue;
            step = strtoll(field, NULL, 10);
            for (int k = 0; k < ncols && csv_next(&p, field, sizeof field); k++)
                if (field[0]) given[n] = names[k], vals[n++] = strtod(field, NULL); /* empty: not logged */
            s = sy_run_log_to(run, e->d_name, method, step, n, given, vals);
        }
        fclose(f);
        for (int k = 0; k < ncols; k++) free(names[k]);
    }
    closedir(d);
    free(line);
    free(names);
    free(vals);
    free(given);
    return s;
}

static void progress(const char *exp, int i, const sy_sweep *w, const char *name, int found, double t, int togo,
                     double trained_s, int trained)
{
    fprintf(stderr, "%s: point %d of %d (%s) %s in %.0f s; %d to go", exp, i + 1, w->n, name,
            found ? "read back" : "trained", sy_io_now() - t, togo);
    if (trained && togo > 0) fprintf(stderr, ", about %.0f s", trained_s / trained * togo);
    fputc('\n', stderr);
}

sy_status sy_sweep_run(sy_run *run, const sy_sweep *w, double *vals)
{
    if (!w || !vals || w->n < 0 || w->ncols < 1 || !w->train)
        return sy_fail(SY_ERR_ARG, "sweep: needs points (n >= 0), ncols >= 1, a train function and vals");
    if (w->size < 1 || w->rank < 0 || w->rank >= w->size)
        return sy_fail(SY_ERR_ARG, "sweep: rank %d of size %d is not a process of the sweep", w->rank, w->size);
    if (w->size > 1 && !w->keep)
        return sy_fail(SY_ERR_ARG, "sweep: %d processes need keep (the point records carry the values)", w->size);
    for (size_t k = 0; k < (size_t)w->n * (size_t)w->ncols; k++) vals[k] = NAN;
    const char *exp = sy_run_experiment(run)->name;
    /* an option --override changed can change every point: then none is read back (each is trained, which
     * continues or re-evaluates it from its checkpoint) */
    int resume = w->keep && sy_run_get_bool(run, "resume") && !*sy_run_get_str(run, "override");
    int spread = w->size > 1, mine = 0, done = 0, prepared = 0;
    for (int i = w->rank; i < w->n; i += w->size) mine++;
    double trained_s = 0;
    int trained = 0;
    char name[512], path[4200];
    sy_status s = SY_OK;
    for (int i = w->rank; i < w->n && s == SY_OK; i += w->size) {
        double *v = vals + (size_t)i * (size_t)w->ncols, t = sy_io_now();
        int found = 0;
        point_name(w, i, name, sizeof name);
        if (resume) s = read_point(run, w, i, name, v, &found);
        /* a point's rows are where its kind of launch put them: the gather copies only points/<i>/ */
        if (s == SY_OK && found && spread != is_dir(point_dir(run, i, path, sizeof path)))
            s = sy_fail(SY_ERR_STATE,
                        "sweep: point %d (%s) was trained %s: resume the run as it was launched (one process, or "
                        "several ranks; their number may change)",
                        i + 1, name, spread ? "by a single process, its rows in the run's own files"
                                            : "across ranks, its rows in points/<i>/");
        if (s == SY_OK && !found) {
            s = train_point(run, w, i, name, v, spread, &prepared);
            trained_s += sy_io_now() - t, trained++;
        }
        if (s == SY_OK && w->record && !spread) s = w->record(w->ctx, i, name, vals);
        if (s != SY_OK) break;
        progress(exp, i, w, name, found, t, mine - ++done, trained_s, trained);
    }
    if (!spread || (s != SY_OK && s != SY_ERR_STOPPED)) return s; /* a failure ends every rank (sy_dist_abort) */
    /* The ranks meet when each has trained its points or was stopped (a signal to the job: every rank returns
     * stopped, so that none waits alone; --resume trains the points left). */
    double stopped = s == SY_ERR_STOPPED;
    sy_status ms = sy_dist_sum(&stopped, 1);
    if (ms != SY_OK || s != SY_OK) return ms != SY_OK ? ms : s;
    if (stopped > 0) return sy_fail(SY_ERR_STOPPED, "%s: another rank of the sweep was stopped", exp);
    /* the gather: every point's values, rows and summary in point order, as a single process has them */
    char **started = NULL;
    int nstarted = 0;
    for (int i = 0; i < w->n && s == SY_OK; i++) {
        int found = 0;
        point_name(w, i, name, sizeof name);
        s = read_point(run, w, i, name, vals + (size_t)i * (size_t)w->ncols, &found);
        if (s == SY_OK && found && sy_dist_is_root()) s = copy_rows(run, i, &started, &nstarted);
        if (s == SY_OK && found && w->record) s = w->record(w->ctx, i, name, vals);
    }
    for (int k = 0; k < nstarted; k++) free(started[k]);
    free(started);
    return s;
}
