/* Shapes and owning/non-owning float32 tensors. */
#include "syre/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

sy_shape sy_shape_of(int ndim, ...)
{
    sy_shape s = {ndim, {1, 1, 1, 1}};
    va_list ap;
    va_start(ap, ndim);
    for (int i = 0; i < ndim && i < SY_MAX_DIMS; i++) s.dim[i] = va_arg(ap, int);
    va_end(ap);
    return s;
}

size_t sy_shape_numel(sy_shape s)
{
    size_t n = 1;
    for (int i = 0; i < s.ndim; i++) n *= (size_t)(s.dim[i] > 0 ? s.dim[i] : 0);
    return n;
}

int sy_shape_equal(sy_shape a, sy_shape b)
{
    if (a.ndim != b.ndim) return 0;
    for (int i = 0; i < a.ndim; i++)
        if (a.dim[i] != b.dim[i]) return 0;
    return 1;
}

const char *sy_shape_str(sy_shape s, char *buf)
{
    int k = snprintf(buf, 64, "[");
    for (int i = 0; i < s.ndim && k < 60; i++)
        k += snprintf(buf + k, 64 - k, i ? ", %d" : "%d", s.dim[i]);
    snprintf(buf + k, 64 - k, "]");
    return buf;
}

static sy_status check_shape(sy_shape s)
{
    char b[64];
    if (s.ndim < 1 || s.ndim > SY_MAX_DIMS)
        return sy_fail(SY_ERR_SHAPE, "tensor rank %d outside 1..%d", s.ndim, SY_MAX_DIMS);
    for (int i = 0; i < s.ndim; i++)
        if (s.dim[i] <= 0)
            return sy_fail(SY_ERR_SHAPE, "tensor shape %s has a non-positive dimension %d",
                           sy_shape_str(s, b), i);
    return SY_OK;
}

sy_tensor *sy_tensor_new(sy_shape s)
{
    if (check_shape(s) != SY_OK) return NULL;
    sy_tensor *t = malloc(sizeof *t);
    float *d = calloc(sy_shape_numel(s), sizeof(float));
    if (!t || !d) {
        free(t);
        free(d);
        char b[64];
        sy_fail(SY_ERR_NOMEM, "cannot allocate tensor %s", sy_shape_str(s, b));
        return NULL;
    }
    t->shape = s;
    t->data = d;
    t->owns = 1;
    return t;
}

void sy_tensor_free(sy_tensor *t)
{
    if (!t) return;
    if (t->owns) free(t->data);
    free(t);
}

sy_tensor sy_tensor_view(float *data, sy_shape s)
{
    sy_tensor t = {s, data, 0};
    return t;
}
