/* A run's files by name, and reading its records back: the checkpoint of a
 * method, the data directory, the rows a resumed method logged before, the
 * curves a figure of the run draws. */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/data.h"
#include "syre/experiment.h"

const char *sy_run_ckpt_path(const sy_run *run, const char *tag, const char *method, char *buf, size_t size)
{
    int tagged = tag && tag[0];
    size_t dir = (size_t)snprintf(buf, size, "%s/ckpt-", sy_run_dir(run));
    if (dir >= size) return buf; /* truncated: the writer that uses it fails loudly */
    snprintf(buf + dir, size - dir, "%s%s%s.safetensors", tagged ? tag : "", tagged ? "-" : "", method);
    /* a record's name ("sigma0=0.1/seed1") names one file, not a directory */
    for (char *p = buf + dir; *p; p++)
        if (*p == '/' || *p == ' ') *p = '_';
    return buf;
}

const char *sy_run_data_dir(const sy_run *run)
{
    const char *flag = sy_run_get_str(run, "data-dir");
    return sy_data_dir(flag && flag[0] ? flag : NULL);
}

static int same(double a, double b) { return fabs(a - b) <= 1e-9 * fmax(fabs(a), fabs(b)); }

enum { ROW_MAX_FIELDS = 256 };

/* Split line at commas in place: field pointers into f, their count. */
static int split_fields(char *line, char **f)
{
    int n = 0;
    for (char *p = line; n < ROW_MAX_FIELDS;) {
        f[n++] = p;
        char *q = strchr(p, ',');
        if (!q) break;
        *q = '\0';
        p = q + 1;
    }
    return n;
}

/* The column of every wanted name in the header (-1 if absent); 0 if one is missing. */
static int find_columns(char *header, int n, const char *const *names, int *col)
{
    char *f[ROW_MAX_FIELDS];
    int nf = split_fields(header, f);
    for (int k = 0; k < n; k++) {
        col[k] = -1;
        for (int i = 0; i < nf; i++)
            if (!strcmp(f[i], names[k])) col[k] = i;
        if (col[k] < 0) return 0;
    }
    return 1;
}

sy_status sy_run_read_rows(const sy_run *run, const char *file, const char *method, int nmatch,
                           const char *const *match, const double *match_val, const char *index_col, int ncols,
                           const char *const *cols, double *const *out, long nout)
{
    if (nmatch < 0 || ncols < 0 || nmatch + ncols + 2 > ROW_MAX_FIELDS)
        return sy_fail(SY_ERR_ARG, "sy_run_read_rows: %d match and %d value columns (at most %d in all)", nmatch,
                       ncols, ROW_MAX_FIELDS - 2);
    /* wanted columns: method, index, the matches, the values */
    const char *names[ROW_MAX_FIELDS];
    int col[ROW_MAX_FIELDS], nw = 0;
    names[nw++] = "method";
    names[nw++] = index_col;
    for (int k = 0; k < nmatch; k++) names[nw++] = match[k];
    for (int c = 0; c < ncols; c++) names[nw++] = cols[c];
    char path[4200], line[8192];
    FILE *f = fopen(sy_run_path(run, file ? file : "metrics.csv", path, sizeof path), "r");
    if (!f) return SY_OK;
    int ok = fgets(line, sizeof line, f) != NULL;
    if (ok) {
        line[strcspn(line, "\r\n")] = '\0';
        ok = find_columns(line, nw, names, col);
    }
    while (ok && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *fld[ROW_MAX_FIELDS];
        int nf = split_fields(line, fld), full = 1;
        for (int k = 0; k < nw; k++) full &= col[k] < nf && fld[col[k]][0];
        if (!full || strcmp(fld[col[0]], method) != 0) continue;
        int hit = 1;
        for (int k = 0; k < nmatch; k++) hit &= same(atof(fld[col[2 + k]]), match_val[k]);
        long i = atol(fld[col[1]]);
        if (!hit || i < 1 || i > nout) continue;
        for (int c = 0; c < ncols; c++) out[c][i - 1] = atof(fld[col[2 + nmatch + c]]);
    }
    fclose(f);
    return SY_OK;
}

sy_status sy_run_read_curve(const sy_run *run, const char *file, const char *method, const char *xcol,
                            const char *ycol, double **x, double **y, int *n)
{
    *x = *y = NULL;
    *n = 0;
    const char *names[3] = {"method", xcol, ycol};
    int col[3], cap = 0, nomem = 0;
    char path[4200], line[8192];
    FILE *f = fopen(sy_run_path(run, file ? file : "metrics.csv", path, sizeof path), "r");
    if (!f) return SY_OK;
    int ok = fgets(line, sizeof line, f) != NULL;
    if (ok) {
        line[strcspn(line, "\r\n")] = '\0';
        ok = find_columns(line, 3, names, col);
    }
    while (ok && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *fld[ROW_MAX_FIELDS];
        int nf = split_fields(line, fld), full = 1;
        for (int k = 0; k < 3; k++) full &= col[k] < nf && fld[col[k]][0];
        if (!full || strcmp(fld[col[0]], method) != 0) continue;
        if (*n == cap) { /* room for half as many again */
            cap = cap ? cap + cap / 2 : 64;
            double *nx = realloc(*x, sizeof **x * (size_t)cap);
            if (nx) *x = nx;
            double *ny = nx ? realloc(*y, sizeof **y * (size_t)cap) : NULL;
            if (ny) *y = ny;
            if ((nomem = !nx || !ny)) break;
        }
        (*x)[*n] = atof(fld[col[1]]);
        (*y)[*n] = atof(fld[col[2]]);
        ++*n;
    }
    fclose(f);
    if (nomem) {
        free(*x);
        free(*y);
        *x = *y = NULL;
        *n = 0;
        return sy_fail(SY_ERR_NOMEM, "out of memory reading the curve %s of %s", ycol, path);
    }
    return SY_OK;
}
