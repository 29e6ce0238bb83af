/* Tests of sy_plot_methods_styled_new (src/plot/methods_styled.c): the
 * figure it draws is, pixel for pixel (the PNG's bytes), the one drawn
 * series by series with sy_plot_series in each series' own style, and
 * differs from the figure drawn in one style; bad arguments are refused with
 * NULL and a message. */
#define _POSIX_C_SOURCE 200809L /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    (void)state;
    snprintf(tmpdir, sizeof tmpdir, "/tmp/syre-test-styled-XXXXXX");
    return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown_dir(void **state)
{
    (void)state;
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static char *read_all(const char *path, size_t *n)
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

/* Save p as <tmpdir>/<name>.png (and .svg), then free it. */
static void save(sy_plot *p, const char *name)
{
    assert_non_null(p);
    char base[600];
    snprintf(base, sizeof base, "%s/%s", tmpdir, name);
    assert_int_equal(sy_plot_save(p, base), SY_OK);
    sy_plot_free(p);
}

static int same_png(const char *a, const char *b)
{
    char pa[600], pb[600];
    snprintf(pa, sizeof pa, "%s/%s.png", tmpdir, a);
    snprintf(pb, sizeof pb, "%s/%s.png", tmpdir, b);
    size_t na, nb;
    char *x = read_all(pa, &na), *y = read_all(pb, &nb);
    int same = na == nb && !memcmp(x, y, na);
    free(x);
    free(y);
    return same;
}

static void test_styled(void **state)
{
    (void)state;
    const double x[4] = {1, 2, 5, 10};
    const double a[4] = {1.0, 0.5, 0.3, 0.2}, b[4] = {1.0, 0.52, 0.31, 0.2}, c[4] = {2.0, 1.5, 1.2, 1.1};
    const char *const labels[3] = {"ridge", "syre", "least squares"};
    const double *const y[3] = {a, b, c};
    const sy_plot_style st[3] = {SY_PLOT_LINE, SY_PLOT_POINTS, SY_PLOT_DASHED};

    sy_plot *p = sy_plot_methods_styled_new("test loss", "d/N", "loss", x, 4, 3, labels, y, st);
    assert_non_null(p);
    sy_plot_log_axes(p, 1, 1);
    save(p, "styled");
    p = sy_plot_new("test loss", "d/N", "loss");
    for (int m = 0; m < 3; m++) assert_int_equal(sy_plot_series(p, labels[m], x, y[m], 4, st[m]), SY_OK);
    sy_plot_log_axes(p, 1, 1);
    save(p, "ref");
    assert_true(same_png("styled", "ref"));

    /* the styles are seen: every series as a line is another figure */
    p = sy_plot_methods_new("test loss", "d/N", "loss", x, 4, 3, labels, y, SY_PLOT_LINE);
    sy_plot_log_axes(p, 1, 1);
    save(p, "lines");
    assert_false(same_png("styled", "lines"));

    /* x NULL: 0..n-1, as sy_plot_series; no series: an empty figure */
    save(sy_plot_methods_styled_new("t", "i", "v", NULL, 4, 3, labels, y, st), "indexed");
    p = sy_plot_new("t", "i", "v");
    for (int m = 0; m < 3; m++) assert_int_equal(sy_plot_series(p, labels[m], NULL, y[m], 4, st[m]), SY_OK);
    save(p, "indexed-ref");
    assert_true(same_png("indexed", "indexed-ref"));
    save(sy_plot_methods_styled_new("t", "i", "v", x, 4, 0, NULL, NULL, NULL), "empty");

    /* refused: curves without styles, labels or values; a series without y */
    assert_null(sy_plot_methods_styled_new("bad", "x", "y", x, 4, 3, labels, y, NULL));
    assert_non_null(strstr(sy_last_error(), "bad"));
    assert_null(sy_plot_methods_styled_new("bad", "x", "y", x, 4, 3, NULL, y, st));
    assert_null(sy_plot_methods_styled_new("bad", "x", "y", x, 4, -1, labels, y, st));
    const double *const holes[3] = {a, NULL, c};
    assert_null(sy_plot_methods_styled_new("bad", "x", "y", x, 4, 3, labels, holes, st));
    assert_non_null(strstr(sy_last_error(), "syre"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_styled, setup_dir, teardown_dir),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
