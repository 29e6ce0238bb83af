/* The identical-unit measures on a hidden layer named by its two linear
 * layers in a parameter store: a low-capacity start made in place, and
 * measured between training steps, without handling the raw tensors. */
#include <stdio.h>

#include "syre/metrics.h"
#include "syre/params.h"

typedef struct {
    float *W_in, *b, *W_out;
    int f, in, out;
} layer_view;

/* The tensors of the layer, fetched afresh: on a device a pointer kept
 * across training steps would be stale. write: the caller changes them (a
 * device store then uploads them before its next use); else it only reads. */
static sy_status find_layer(sy_params *ps, const char *in_layer, const char *out_layer, int write, layer_view *v)
{
    char wn[128], bn[128], on[128];
    snprintf(wn, sizeof wn, "%s.weight", in_layer ? in_layer : "");
    snprintf(bn, sizeof bn, "%s.bias", in_layer ? in_layer : "");
    snprintf(on, sizeof on, "%s.weight", out_layer ? out_layer : "");
    int iw = ps ? sy_params_find(ps, wn) : -1, ib = ps ? sy_params_find(ps, bn) : -1;
    int io = ps ? sy_params_find(ps, on) : -1;
    if (iw < 0 || io < 0) return sy_fail(SY_ERR_ARG, "layer units: no tensors %s and %s in the store", wn, on);
    const sy_shape *w = &sy_params_info(ps, iw)->shape, *o = &sy_params_info(ps, io)->shape;
    if (w->ndim != 2 || o->ndim != 2 || o->dim[1] != w->dim[0] ||
        (ib >= 0 && sy_params_info(ps, ib)->numel != (size_t)w->dim[0]))
        return sy_fail(SY_ERR_SHAPE, "layer units: %s [f, in] and %s [out, f] do not make a hidden layer", wn, on);
    v->f = w->dim[0], v->in = w->dim[1], v->out = o->dim[0];
    float *p;
    const float *r;
    sy_status s = write ? sy_params_write(ps, &p) : sy_params_read(ps, &r);
    if (s) return s;
    if (!write) p = (float *)r; /* the readers below take it as const */
    v->W_in = p + sy_params_info(ps, iw)->offset;
    v->b = ib >= 0 ? p + sy_params_info(ps, ib)->offset : NULL;
    v->W_out = p + sy_params_info(ps, io)->offset;
    return SY_OK;
}

sy_status sy_layer_make_copies(sy_params *ps, const char *in_layer, const char *out_layer, int ncopy, int split)
{
    layer_view v;
    sy_status s = find_layer(ps, in_layer, out_layer, 1, &v);
    return s == SY_OK ? sy_units_make_copies(v.W_in, v.f, v.in, v.b, v.W_out, v.out, ncopy, split) : s;
}

sy_status sy_layer_units(sy_params *ps, const char *in_layer, const char *out_layer, float tol, int ncopy,
                         int *distinct, double *spread)
{
    layer_view v;
    sy_status s = find_layer(ps, in_layer, out_layer, 0, &v);
    if (s == SY_OK) s = sy_distinct_units(v.W_in, v.f, v.in, v.b, v.W_out, v.out, tol, distinct);
    if (s == SY_OK && spread) s = sy_units_copy_spread(v.W_in, v.f, v.in, v.b, v.W_out, v.out, ncopy, spread);
    return s;
}
