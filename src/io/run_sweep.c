/* A sweep of training points: the loop every `reproduce` writes (points in
 * order, each trained and recorded, the figures drawn from the gathered
 * values), with the share of points this process trains in one place and,
 * on request, each point's values kept so that --resume skips it. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io_internal.h"
#include "syre/experiment.h"
#include "syre/format.h"

sy_sweep sy_sweep_defaults(void)
{
    sy_sweep w;
    memset(&w, 0, sizeof w);
    w.size = 1;
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

sy_status sy_sweep_run(sy_run *run, const sy_sweep *w, double *vals)
{
    if (!w || !vals || w->n < 0 || w->ncols < 1 || !w->train)
        return sy_fail(SY_ERR_ARG, "sweep: needs points (n >= 0), ncols >= 1, a train function and vals");
    if (w->size < 1 || w->rank < 0 || w->rank >= w->size)
        return sy_fail(SY_ERR_ARG, "sweep: rank %d of size %d is not a process of the sweep", w->rank, w->size);
    for (size_t k = 0; k < (size_t)w->n * (size_t)w->ncols; k++) vals[k] = NAN;
    const char *exp = sy_run_experiment(run)->name;
    int resume = w->keep && sy_run_get_bool(run, "resume"), mine = 0, done = 0;
    for (int i = w->rank; i < w->n; i += w->size) mine++;
    double trained_s = 0;
    int trained = 0;
    char name[512];
    sy_status s = SY_OK;
    for (int i = w->rank; i < w->n && s == SY_OK; i += w->size) {
        double *v = vals + (size_t)i * (size_t)w->ncols, t = sy_io_now();
        int found = 0;
        point_name(w, i, name, sizeof name);
        if (resume) s = read_point(run, w, i, name, v, &found);
        if (s == SY_OK && !found) {
            s = w->train(w->ctx, i, name, v);
            if (s == SY_OK && w->keep) s = write_point(run, w, i, name, v);
            trained_s += sy_io_now() - t, trained++;
        }
        if (s == SY_OK && w->record) s = w->record(w->ctx, i, name, vals);
        if (s != SY_OK) break;
        done++;
        double left = trained ? trained_s / trained * (mine - done) : 0;
        fprintf(stderr, "%s: point %d of %d (%s) %s in %.0f s; %d to go", exp, i + 1, w->n, name,
                found ? "read back" : "trained", sy_io_now() - t, mine - done);
        if (trained && mine > done) fprintf(stderr, ", about %.0f s", left);
        fputc('\n', stderr);
    }
    /* the other processes' points, where their records exist */
    for (int i = 0; i < w->n && s == SY_OK && w->size > 1 && w->keep; i++) {
        if (i % w->size == w->rank) continue;
        int found = 0;
        point_name(w, i, name, sizeof name);
        s = read_point(run, w, i, name, vals + (size_t)i * (size_t)w->ncols, &found);
        if (s == SY_OK && found && w->record) s = w->record(w->ctx, i, name, vals);
    }
    return s;
}
