/* What the figure tests share: a temporary directory for the group (define
 * FIGURE_TEST, a short name, before including), an experiment that does
 * nothing (a run to save figures in), and the comparison of a figure drawn
 * by a helper with the same figure drawn series by series: their PNGs must
 * have the same bytes. Include after cmocka.h and syre/syre.h. */
#ifndef SYRE_TESTS_FIGURE_HARNESS_H
#define SYRE_TESTS_FIGURE_HARNESS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmpdir[256];

static inline int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/syre-test-%s-XXXXXX", FIGURE_TEST);
    return mkdtemp(tmpdir) ? 0 : -1;
}

static inline int teardown_dir(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static inline sy_status no_run(sy_run *run)
{
    (void)run;
    return SY_OK;
}

static inline char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) fail_msg("no file %s", path);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)len, f), (size_t)len);
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* 1 if <dir>/<a>.png and <dir>/<b>.png have the same bytes */
static inline int same_png(const char *dir, const char *a, const char *b)
{
    char pa[600], pb[600];
    snprintf(pa, sizeof pa, "%s/%s.png", dir, a);
    snprintf(pb, sizeof pb, "%s/%s.png", dir, b);
    size_t na, nb;
    char *x = read_all(pa, &na), *y = read_all(pb, &nb);
    int same = na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

/* The reference figure p, drawn by hand, saved as <dir>/<name>.png and freed. */
static inline void save_ref(sy_plot *p, const char *dir, const char *name)
{
    char base[600];
    snprintf(base, sizeof base, "%s/%s", dir, name);
    assert_int_equal(sy_plot_save(p, base), SY_OK);
    sy_plot_free(p);
}

#endif
