/* A small table of doubles as text, written atomically: the histories an
 * experiment keeps beside its checkpoint, read back on --resume. Each value
 * is printed with 17 significant digits, so that it reads back bit for bit. */
#include <stdio.h>
#include <stdlib.h>

#include "syre/format.h"

sy_status sy_table_save(const char *path, int rows, int cols, const double *v)
{
    if (rows < 0 || cols < 0) return sy_fail(SY_ERR_ARG, "sy_table_save: %d x %d values", rows, cols);
    size_t cap = (size_t)rows * (size_t)cols * 26 + 64, len = 0; /* "%.17g " takes at most 25 */
    char *buf = malloc(cap);
    if (!buf) return sy_fail(SY_ERR_NOMEM, "sy_table_save: out of memory");
    for (int r = 0; r < rows; r++) {
        for (int k = 0; k < cols; k++) len += (size_t)snprintf(buf + len, cap - len, "%.17g ", v[(size_t)r * cols + k]);
        len += (size_t)snprintf(buf + len, cap - len, "\n");
    }
    sy_status s = sy_write_file_atomic(path, buf, len);
    free(buf);
    return s;
}

sy_status sy_table_load(const char *path, int rows, int cols, double *v)
{
    FILE *f = fopen(path, "r");
    if (!f) return sy_fail(SY_ERR_IO, "cannot read %s", path);
    sy_status s = SY_OK;
    for (size_t i = 0; i < (size_t)rows * (size_t)cols && s == SY_OK; i++) {
        char w[64];
        if (fscanf(f, "%63s", w) != 1)
            s = sy_fail(SY_ERR_FORMAT, "%s ends before row %zu", path, i / (size_t)cols + 1);
        else
            v[i] = strtod(w, NULL);
    }
    fclose(f);
    return s;
}
