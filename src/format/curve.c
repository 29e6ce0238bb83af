/* A curve as a small text file, one "x y" line per point in %.17g (read
 * back bit for bit): kept beside a checkpoint, it lets a resumed run still
 * draw the points logged before the stop. */
#include "syre/format.h"

#include <stdio.h>
#include <stdlib.h>

#define CURVE_LINE 52 /* two %.17g numbers (at most 24 characters each), a space, a newline */

sy_status sy_curve_write(const char *path, const double *x, const double *y, int n)
{
    if (!path || n < 0 || (n > 0 && (!x || !y)))
        return sy_fail(SY_ERR_ARG, "sy_curve_write: need a path and %d points", n);
    char *buf = malloc((size_t)n * CURVE_LINE + 1);
    if (!buf)
        return sy_fail(SY_ERR_NOMEM, "sy_curve_write: out of memory for %d points of %s", n, path);
    size_t len = 0;
    for (int i = 0; i < n; i++)
        len += (size_t)snprintf(buf + len, CURVE_LINE + 1, "%.17g %.17g\n", x[i], y[i]);
    sy_status s = sy_write_file_atomic(path, buf, len);
    free(buf);
    return s;
}

sy_status sy_curve_read(const char *path, double upto, int cap, double *x, double *y, int *n)
{
    if (!path || !n || cap < 0 || (cap > 0 && (!x || !y)))
        return sy_fail(SY_ERR_ARG, "sy_curve_read: need a path, a count and room for %d points", cap);
    *n = 0;
    FILE *f = fopen(path, "r");
    if (!f)
        return SY_OK; /* no curve yet: nothing was logged */
    while (*n < cap && fscanf(f, "%lf %lf", &x[*n], &y[*n]) == 2 && x[*n] < upto)
        (*n)++;
    fclose(f);
    return SY_OK;
}
