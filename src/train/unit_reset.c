/* Unit resets while training (include/syre/trainer.h): continual
 * backpropagation (Dohare et al., Nature 2024) and ReDo (Sokar et al. 2023)
 * as one per-step hook over a network's hidden layers. Written from the
 * papers' descriptions; the defaults are their closest settings. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/dist.h"
#include "syre/trainer.h"
#include "unit_reset_state.h"

typedef struct {
    char name[64];
    int ti_w, ti_b, to_w; /* tensor indices: incoming weight, bias (-1: none), outgoing weight */
    int f;                /* units */
    size_t fan;           /* floats of a unit's incoming row */
    size_t orows, ocols;  /* outgoing weight as [orows, ocols], ocols = f g */
    size_t g;             /* outgoing columns per unit */
    size_t hw;            /* activation positions per unit */
    sy_var act;
    double *util;         /* CBP running utility [f] */
    long *age;            /* steps since made or replaced [f] */
    double acc;           /* CBP: units owed, fractional */
    long count;           /* units replaced so far */
    double *absmean;      /* [f] scratch: mean |h| per unit */
    unsigned char *last;  /* [f] replaced at the last step */
    int *pick;            /* [f] scratch: units to replace */
} ur_layer;

struct sy_unit_reset {
    sy_unit_reset_opts o;
    sy_graph *g;
    sy_params *ps;
    sy_optimizer *opt;
    int n;
    ur_layer *l;
    float *anchor; /* the optimizer's anchors when a watched tensor is under syre (NULL otherwise) */
    uint64_t events; /* resets so far: the fresh weights' sub-stream */
};

sy_unit_reset_opts sy_unit_reset_defaults(sy_unit_reset_kind kind)
{
    sy_unit_reset_opts o = {.kind = kind,
                            .cbp_rate = 1e-4,   /* Dohare et al. 2024, permuted MNIST (their sweep: 1e-4 to 1e-6) */
                            .cbp_decay = 0.99,  /* same */
                            .cbp_maturity = 100, /* same (and continual ImageNet's) */
                            .redo_tau = 0.1,    /* Sokar et al. 2023, Table 1 (0.025 for their default DQN) */
                            .redo_every = 1000, /* same: every 1000 gradient steps (DQN, DrQ) */
                            .seed = 0};
    return o;
}

/* 1 if tensor t is under a syre rule that shifted its start by theta0 (as sy_optimizer_new decides). */
static int is_syre_rule(const sy_unit_reset *r, int t)
{
    const sy_decay *d = sy_optimizer_rule_of(r->opt, t);
    const sy_param_info *pi = sy_params_info(r->ps, t);
    return d && (d->kind == SY_DECAY_SYRE || d->kind == SY_DECAY_SYRE_AR) && !(d->exclude_1d && pi->shape.ndim == 1) &&
           sy_optimizer_opts(r->opt)->shift_init;
}

static sy_status layer_setup(sy_unit_reset *r, ur_layer *L, const sy_unit_layer *u, int k)
{
    char nm[128];
    if (!u->in || !u->out) return sy_fail(SY_ERR_ARG, "unit reset: layer %d has no name for its in or out layer", k);
    snprintf(L->name, sizeof L->name, "%s", u->in);
    snprintf(nm, sizeof nm, "%s.weight", u->in);
    L->ti_w = sy_params_find(r->ps, nm);
    snprintf(nm, sizeof nm, "%s.bias", u->in);
    L->ti_b = sy_params_find(r->ps, nm);
    snprintf(nm, sizeof nm, "%s.weight", u->out);
    L->to_w = sy_params_find(r->ps, nm);
    if (L->ti_w < 0 || L->to_w < 0)
        return sy_fail(SY_ERR_ARG, "unit reset: layer %d needs tensors %s.weight and %s.weight in the store", k, u->in,
                       u->out);
    const sy_param_info *pw = sy_params_info(r->ps, L->ti_w), *po = sy_params_info(r->ps, L->to_w);
    if (!pw->trainable || !po->trainable || pw->shape.ndim < 2 || po->shape.ndim < 2)
        return sy_fail(SY_ERR_SHAPE, "unit reset: %s.weight and %s.weight must be trainable and of rank >= 2", u->in,
                       u->out);
    L->f = (int)pw->shape.dim[0];
    L->fan = pw->numel / (size_t)L->f;
    L->orows = (size_t)po->shape.dim[0];
    L->ocols = po->numel / L->orows;
    if (L->ocols % (size_t)L->f)
        return sy_fail(SY_ERR_SHAPE, "unit reset: %s.weight's rows have %zu columns, not a multiple of %s's %d units",
                       u->out, L->ocols, u->in, L->f);
    L->g = L->ocols / (size_t)L->f;
    if (L->ti_b >= 0) {
        const sy_param_info *pb = sy_params_info(r->ps, L->ti_b);
        if (pb->numel != (size_t)L->f || !pb->trainable)
            return sy_fail(SY_ERR_SHAPE, "unit reset: %s.bias has %zu elements, not %s's %d units", u->in, pb->numel,
                           u->in, L->f);
    }
    sy_shape as = sy_graph_shape(r->g, u->act);
    size_t an = sy_shape_numel(as);
    if (as.ndim < 2 || an == 0 || (an / (size_t)as.dim[0]) % (size_t)L->f)
        return sy_fail(SY_ERR_SHAPE, "unit reset: the activations of %s are not [batch, %d x positions]", u->in, L->f);
    L->hw = an / (size_t)as.dim[0] / (size_t)L->f;
    L->act = u->act;
    L->util = calloc((size_t)L->f, sizeof(double));
    L->absmean = calloc((size_t)L->f, sizeof(double));
    L->age = calloc((size_t)L->f, sizeof(long));
    L->last = calloc((size_t)L->f, 1);
    L->pick = calloc((size_t)L->f, sizeof(int));
    if (!L->util || !L->absmean || !L->age || !L->last || !L->pick)
        return sy_fail(SY_ERR_NOMEM, "unit reset: out of memory");
    return SY_OK;
}

sy_status sy_unit_reset_new(const sy_unit_reset_opts *o, sy_graph *g, sy_params *ps, sy_optimizer *opt,
                            const sy_unit_layer *layers, int n, sy_unit_reset **out)
{
    if (!out) return sy_fail(SY_ERR_ARG, "unit reset: out is NULL");
    *out = NULL;
    if (!o || !g || !ps || !opt || (n > 0 && !layers) || n < 0)
        return sy_fail(SY_ERR_ARG, "unit reset: options, graph, store, optimizer and layers are needed");
    if (o->kind == SY_UNIT_RESET_CBP &&
        (!(o->cbp_rate >= 0 && o->cbp_rate <= 1) || !(o->cbp_decay >= 0 && o->cbp_decay < 1) || o->cbp_maturity < 0))
        return sy_fail(SY_ERR_ARG,
                       "unit reset: CBP needs a replacement rate in [0, 1] (got %g), a decay rate in [0, 1) (got %g) "
                       "and a maturity >= 0 (got %ld)",
                       o->cbp_rate, o->cbp_decay, o->cbp_maturity);
    if (o->kind == SY_UNIT_RESET_REDO && (!(o->redo_tau >= 0) || o->redo_every < 1))
        return sy_fail(SY_ERR_ARG, "unit reset: ReDo needs tau >= 0 (got %g) and a reset interval >= 1 (got %ld)",
                       o->redo_tau, o->redo_every);
    /* Each rank would pick units from its own share of the batch. */
    if (o->kind != SY_UNIT_RESET_NONE && sy_dist_size() > 1)
        return sy_fail(SY_ERR_UNSUPPORTED, "unit resets (cbp, redo) are not data-parallel (each rank would replace "
                       "other units); run them as a single process");
    sy_unit_reset *r = calloc(1, sizeof *r);
    if (!r || (n > 0 && !(r->l = calloc((size_t)n, sizeof *r->l)))) {
        free(r);
        return sy_fail(SY_ERR_NOMEM, "unit reset: out of memory");
    }
    r->o = *o, r->g = g, r->ps = ps, r->opt = opt, r->n = n;
    sy_status s = SY_OK;
    int syre = 0;
    for (int k = 0; k < n && s == SY_OK; k++) {
        s = layer_setup(r, &r->l[k], &layers[k], k);
        if (s == SY_OK) {
            syre |= is_syre_rule(r, r->l[k].ti_w);
            if (r->l[k].ti_b >= 0) syre |= is_syre_rule(r, r->l[k].ti_b);
        }
    }
    if (s == SY_OK && syre) {
        r->anchor = malloc(sy_params_trainable_size(ps) * sizeof(float));
        s = r->anchor ? sy_optimizer_anchor(opt, r->anchor) : sy_fail(SY_ERR_NOMEM, "unit reset: out of memory");
    }
    if (s != SY_OK) {
        sy_unit_reset_free(r);
        return s;
    }
    *out = r;
    return SY_OK;
}

void sy_unit_reset_free(sy_unit_reset *r)
{
    if (!r) return;
    for (int k = 0; k < r->n; k++) {
        free(r->l[k].util);
        free(r->l[k].absmean);
        free(r->l[k].age);
        free(r->l[k].last);
        free(r->l[k].pick);
    }
    free(r->l);
    free(r->anchor);
    free(r);
}

/* One fresh value of a tensor initialised by `init` with fan_in. */
static float fresh_value(const sy_param_info *pi, sy_rng *rng)
{
    float s = pi->init.scale / sqrtf((float)pi->fan_in);
    switch (pi->init.kind) {
    case SY_INIT_ZERO: return 0.0f;
    case SY_INIT_ONE: return 1.0f;
    case SY_INIT_CONSTANT: return pi->init.scale;
    case SY_INIT_UNIFORM_FANIN: return s * (2.0f * sy_rng_uniform(rng) - 1.0f);
    case SY_INIT_NORMAL_FANIN: return s * sy_rng_normal(rng);
    }
    return 0.0f;
}

/* Zero the optimizer's moments of flat entries [off, off + len). */
static void clear_moments(sy_optimizer *opt, size_t off, size_t len)
{
    for (int k = 0; k < sy_optimizer_num_state(opt); k++) {
        const char *nm = sy_optimizer_state_name(opt, k);
        if (strcmp(nm, "momentum_buffer") && strcmp(nm, "exp_avg") && strcmp(nm, "exp_avg_sq")) continue;
        float *st = sy_optimizer_state(opt, k);
        if (st) memset(st + off, 0, len * sizeof(float));
    }
}

/* The value an entry of tensor t at flat index i starts from: v, plus the
 * anchor under a syre rule (the network starts at theta_init + theta0). */
static float start_value(const sy_unit_reset *r, int t, size_t i, float v)
{
    return r->anchor && is_syre_rule(r, t) ? v + r->anchor[i] : v;
}

sy_status sy_unit_reset_units(sy_unit_reset *r, int layer, const int *units, int n)
{
    if (!r || layer < 0 || layer >= r->n || (n > 0 && !units) || n < 0)
        return sy_fail(SY_ERR_ARG, "unit reset: no layer %d (the hook watches %d)", layer, r ? r->n : 0);
    ur_layer *L = &r->l[layer];
    for (int j = 0; j < n; j++)
        if (units[j] < 0 || units[j] >= L->f)
            return sy_fail(SY_ERR_ARG, "unit reset: %s has no unit %d (it has %d)", L->name, units[j], L->f);
    float *data;
    sy_status st = sy_params_write(r->ps, &data);
    if (st) return st;
    const sy_param_info *pw = sy_params_info(r->ps, L->ti_w), *po = sy_params_info(r->ps, L->to_w);
    const sy_param_info *pb = L->ti_b >= 0 ? sy_params_info(r->ps, L->ti_b) : NULL;
    for (int j = 0; j < n; j++) {
        size_t u = (size_t)units[j];
        sy_rng rng = sy_rng_make(r->o.seed, SY_STREAM_UNIT_RESET, r->events++);
        size_t w0 = pw->offset + u * L->fan;
        for (size_t e = 0; e < L->fan; e++)
            if (!sy_optimizer_is_fixed(r->opt, w0 + e))
                data[w0 + e] = start_value(r, L->ti_w, w0 + e, fresh_value(pw, &rng));
        clear_moments(r->opt, w0, L->fan);
        if (pb) {
            size_t b = pb->offset + u;
            if (!sy_optimizer_is_fixed(r->opt, b)) data[b] = start_value(r, L->ti_b, b, 0.0f);
            clear_moments(r->opt, b, 1);
        }
        for (size_t row = 0; row < L->orows; row++) {
            size_t o0 = po->offset + row * L->ocols + u * L->g;
            for (size_t e = 0; e < L->g; e++)
                if (!sy_optimizer_is_fixed(r->opt, o0 + e)) data[o0 + e] = 0.0f;
            clear_moments(r->opt, o0, L->g);
        }
        L->util[u] = 0, L->age[u] = 0, L->last[u] = 1;
    }
    L->count += n;
    return SY_OK;
}

/* Mean |h| of each unit over the batch and its positions, in double. */
static sy_status unit_absmean(sy_unit_reset *r, ur_layer *L)
{
    const float *h = sy_graph_data(r->g, L->act);
    if (!h) return sy_fail(SY_ERR_STATE, "unit reset: the activations of %s cannot be read", L->name);
    size_t rowlen = (size_t)L->f * L->hw;
    size_t b = sy_shape_numel(sy_graph_shape(r->g, L->act)) / rowlen;
    for (int u = 0; u < L->f; u++) L->absmean[u] = 0;
    for (size_t s = 0; s < b; s++)
        for (int u = 0; u < L->f; u++) {
            const float *p = h + s * rowlen + (size_t)u * L->hw;
            double a = 0;
            for (size_t q = 0; q < L->hw; q++) a += fabs((double)p[q]);
            L->absmean[u] += a;
        }
    double norm = (double)b * (double)L->hw;
    for (int u = 0; u < L->f; u++) {
        L->absmean[u] /= norm;
        if (!isfinite(L->absmean[u]))
            return sy_fail(SY_ERR_NUMERIC, "unit reset: unit %d of %s has a non-finite activation", u, L->name);
    }
    return SY_OK;
}

/* CBP's step on one layer: utilities, ages, and the units owed replaced. */
static sy_status cbp_layer(sy_unit_reset *r, int k)
{
    ur_layer *L = &r->l[k];
    const sy_param_info *po = sy_params_info(r->ps, L->to_w);
    const float *data;
    sy_status st = sy_params_read(r->ps, &data);
    if (st) return st;
    double eta = r->o.cbp_decay;
    int eligible = 0;
    for (int u = 0; u < L->f; u++) {
        double m = 0;
        for (size_t row = 0; row < L->orows; row++) {
            const float *w = data + po->offset + row * L->ocols + (size_t)u * L->g;
            for (size_t e = 0; e < L->g; e++) m += fabs((double)w[e]);
        }
        m /= (double)(L->orows * L->g);
        L->age[u]++;
        L->util[u] = eta * L->util[u] + (1 - eta) * L->absmean[u] * m;
        if (L->age[u] > r->o.cbp_maturity) L->pick[eligible++] = u;
    }
    if (eligible == 0) return SY_OK;
    L->acc += r->o.cbp_rate * eligible;
    int take = (int)floor(L->acc);
    if (take <= 0) return SY_OK;
    L->acc -= take;
    if (take > eligible) take = eligible;
    /* the `take` least useful (bias-corrected) eligible units: a partial selection, ties to the lower index */
    for (int i = 0; i < take; i++) {
        int best = i;
        double bu = L->util[L->pick[i]] / (1 - pow(eta, (double)L->age[L->pick[i]]));
        for (int j = i + 1; j < eligible; j++) {
            double v = L->util[L->pick[j]] / (1 - pow(eta, (double)L->age[L->pick[j]]));
            if (v < bu || (v == bu && L->pick[j] < L->pick[best])) best = j, bu = v;
        }
        int t = L->pick[i];
        L->pick[i] = L->pick[best], L->pick[best] = t;
    }
    return sy_unit_reset_units(r, k, L->pick, take);
}

/* ReDo's step on one layer: every tau-dormant unit replaced. */
static sy_status redo_layer(sy_unit_reset *r, int k)
{
    ur_layer *L = &r->l[k];
    double mean = 0;
    for (int u = 0; u < L->f; u++) mean += L->absmean[u];
    mean /= L->f;
    int n = 0;
    for (int u = 0; u < L->f; u++)
        if (mean <= 0 || L->absmean[u] / mean <= r->o.redo_tau) L->pick[n++] = u;
    return sy_unit_reset_units(r, k, L->pick, n);
}

sy_status sy_unit_reset_step(sy_unit_reset *r, long step)
{
    if (!r) return sy_fail(SY_ERR_ARG, "unit reset: NULL hook");
    int redo_now = r->o.kind == SY_UNIT_RESET_REDO && (step + 1) % r->o.redo_every == 0;
    sy_status s = SY_OK;
    for (int k = 0; k < r->n && s == SY_OK; k++) {
        ur_layer *L = &r->l[k];
        memset(L->last, 0, (size_t)L->f);
        if (r->o.kind == SY_UNIT_RESET_CBP) {
            if ((s = unit_absmean(r, L)) == SY_OK) s = cbp_layer(r, k);
        } else if (redo_now) {
            if ((s = unit_absmean(r, L)) == SY_OK) s = redo_layer(r, k);
        } else {
            for (int u = 0; u < L->f; u++) L->age[u]++;
        }
    }
    return s;
}

long sy_unit_reset_count(const sy_unit_reset *r, int layer)
{
    if (!r) return 0;
    long c = 0;
    for (int k = 0; k < r->n; k++)
        if (layer < 0 || k == layer) c += r->l[k].count;
    return c;
}

const unsigned char *sy_unit_reset_last(const sy_unit_reset *r, int layer)
{
    return r && layer >= 0 && layer < r->n ? r->l[layer].last : NULL;
}

const double *sy_unit_reset_utility(const sy_unit_reset *r, int layer)
{
    return r && layer >= 0 && layer < r->n ? r->l[layer].util : NULL;
}

const long *sy_unit_reset_age(const sy_unit_reset *r, int layer)
{
    return r && layer >= 0 && layer < r->n ? r->l[layer].age : NULL;
}

sy_status sy_unit_reset_method(const char *method, char *decay, size_t size, sy_unit_reset_kind *kind)
{
    if (!method || !decay || !kind || size == 0) return sy_fail(SY_ERR_ARG, "unit reset: NULL method or output");
    static const struct {
        const char *name;
        sy_unit_reset_kind kind;
    } resets[] = {{"cbp", SY_UNIT_RESET_CBP}, {"redo", SY_UNIT_RESET_REDO}};
    const char *plus = strrchr(method, '+');
    const char *tail = plus ? plus + 1 : method;
    *kind = SY_UNIT_RESET_NONE;
    for (size_t i = 0; i < sizeof resets / sizeof resets[0]; i++)
        if (strcmp(tail, resets[i].name) == 0) *kind = resets[i].kind;
    const char *d = method;
    size_t len = strlen(method);
    if (*kind != SY_UNIT_RESET_NONE) {
        if (!plus) d = "vanilla", len = strlen(d);
        else len = (size_t)(plus - method);
        if (len == 0) return sy_fail(SY_ERR_ARG, "unit reset: method '%s' has no decay rule before '+'", method);
    }
    if (len >= size) return sy_fail(SY_ERR_ARG, "unit reset: method name '%s' is too long", method);
    memcpy(decay, d, len);
    decay[len] = '\0';
    return SY_OK;
}

/* ---- State in a checkpoint (unit_reset_state.h) ---------------------------- */

const char *unit_reset_kind_name(const sy_unit_reset *r)
{
    return r->o.kind == SY_UNIT_RESET_CBP ? "cbp" : r->o.kind == SY_UNIT_RESET_REDO ? "redo" : "none";
}

static char *layer_key(const ur_layer *L)
{
    size_t n = strlen(UNIT_RESET_META) + strlen(L->name) + 2;
    char *k = malloc(n);
    if (k) snprintf(k, n, "%s.%s", UNIT_RESET_META, L->name);
    return k;
}

static char *layer_text(const ur_layer *L)
{
    size_t size = 160 + (size_t)L->f * 48, n = 0;
    char *b = malloc(size);
    if (!b) return NULL;
    n += (size_t)snprintf(b, size, "units %d count %ld acc %.17g util", L->f, L->count, L->acc);
    for (int u = 0; u < L->f; u++) n += (size_t)snprintf(b + n, size - n, " %.17g", L->util[u]);
    n += (size_t)snprintf(b + n, size - n, " age");
    for (int u = 0; u < L->f; u++) n += (size_t)snprintf(b + n, size - n, " %ld", L->age[u]);
    return b;
}

void unit_reset_meta_free(sy_st_meta *m, int n)
{
    for (int i = 0; m && i < n; i++) {
        free((char *)m[i].key);
        free((char *)m[i].value);
    }
    free(m);
}

sy_status unit_reset_meta(const sy_unit_reset *r, sy_st_meta **out, int *n)
{
    *out = NULL, *n = 0;
    sy_st_meta *m = calloc((size_t)r->n + 1, sizeof *m);
    if (!m) return sy_fail(SY_ERR_NOMEM, "unit reset: no memory for its checkpoint state");
    int ok = 1;
    char head[96];
    snprintf(head, sizeof head, "%s events %" PRIu64 " layers %d", unit_reset_kind_name(r), r->events, r->n);
    m[0].key = strdup(UNIT_RESET_META), m[0].value = strdup(head);
    ok = m[0].key && m[0].value;
    for (int k = 0; k < r->n && ok; k++) {
        m[k + 1].key = layer_key(&r->l[k]), m[k + 1].value = layer_text(&r->l[k]);
        ok = m[k + 1].key && m[k + 1].value;
    }
    if (!ok) {
        unit_reset_meta_free(m, r->n + 1);
        return sy_fail(SY_ERR_NOMEM, "unit reset: no memory for its checkpoint state");
    }
    *out = m, *n = r->n + 1;
    return SY_OK;
}

/* A cursor over one metadata value: words and numbers separated by spaces. */
typedef struct {
    const char *p, *path, *key;
    sy_status s;
} meta_text;

static sy_status text_bad(meta_text *t, const char *what)
{
    if (t->s == SY_OK)
        t->s = sy_fail(SY_ERR_FORMAT, "%s: metadata '%s' is not unit-reset state: %s at '%.40s'", t->path, t->key,
                       what, t->p);
    return t->s;
}

static void text_word(meta_text *t, const char *w)
{
    if (t->s) return;
    while (*t->p == ' ') t->p++;
    size_t n = strlen(w);
    if (strncmp(t->p, w, n) != 0 || (t->p[n] != ' ' && t->p[n] != '\0')) {
        char what[64];
        snprintf(what, sizeof what, "'%s' expected", w);
        text_bad(t, what);
        return;
    }
    t->p += n;
}

/* One number: an integer (>= 0) into *i or, with d set, a double. */
static void text_number(meta_text *t, long long *i, uint64_t *u, double *d)
{
    if (t->s) return;
    while (*t->p == ' ') t->p++;
    char *end;
    errno = 0;
    if (d) *d = strtod(t->p, &end);
    else if (u) *u = strtoull(t->p, &end, 10);
    else *i = strtoll(t->p, &end, 10);
    int neg = !d && *t->p == '-';
    if (end == t->p || errno || neg || (*end != ' ' && *end != '\0') || (d && !isfinite(*d))) {
        text_bad(t, d ? "a finite number expected" : "a count expected");
        return;
    }
    t->p = end;
}

static void text_end(meta_text *t)
{
    while (!t->s && *t->p == ' ') t->p++;
    if (!t->s && *t->p) text_bad(t, "nothing more expected");
}

/* Layer L's entry checked (apply 0) or put into L (apply 1). */
static sy_status restore_layer(ur_layer *L, const sy_safetensors *st, const char *path, int apply)
{
    char *key = layer_key(L);
    if (!key) return sy_fail(SY_ERR_NOMEM, "unit reset: out of memory");
    const char *v = sy_safetensors_meta(st, key);
    sy_status s = SY_OK;
    if (!v) {
        s = sy_fail(SY_ERR_ARG, "%s: holds no unit-reset state of layer %s (metadata '%s'): saved with other layers "
                    "watched", path, L->name, key);
        free(key);
        return s;
    }
    meta_text t = {v, path, key, SY_OK};
    long long f = 0, count = 0, age = 0;
    double acc = 0, util = 0;
    text_word(&t, "units");
    text_number(&t, &f, NULL, NULL);
    if (!t.s && f != L->f)
        t.s = sy_fail(SY_ERR_ARG, "%s: its unit-reset state of %s has %lld units, this network %d", path, L->name, f,
                      L->f);
    text_word(&t, "count");
    text_number(&t, &count, NULL, NULL);
    text_word(&t, "acc");
    text_number(&t, NULL, NULL, &acc);
    if (apply && !t.s) L->count = (long)count, L->acc = acc;
    text_word(&t, "util");
    for (int u = 0; u < L->f && !t.s; u++) {
        text_number(&t, NULL, NULL, &util);
        if (apply && !t.s) L->util[u] = util;
    }
    text_word(&t, "age");
    for (int u = 0; u < L->f && !t.s; u++) {
        text_number(&t, &age, NULL, NULL);
        if (apply && !t.s) L->age[u] = (long)age;
    }
    text_end(&t);
    free(key);
    return t.s;
}

sy_status unit_reset_restore(sy_unit_reset *r, const sy_safetensors *st, const char *path, int apply)
{
    const char *v = sy_safetensors_meta(st, UNIT_RESET_META);
    const char *kind = unit_reset_kind_name(r);
    if (!v)
        return sy_fail(SY_ERR_ARG, "%s: holds no unit-reset state (metadata '%s'): saved by a run without unit resets "
                       "or by an older syre; this run replaces units (%s) and cannot continue it as it was, so start "
                       "it afresh", path, UNIT_RESET_META, kind);
    size_t kn = strcspn(v, " ");
    if (kn != strlen(kind) || strncmp(v, kind, kn) != 0)
        return sy_fail(SY_ERR_ARG, "%s: saved by a run with unit resets (%.*s), this run has %s (another --method)",
                       path, (int)kn, v, kind);
    meta_text t = {v + kn, path, UNIT_RESET_META, SY_OK};
    uint64_t events = 0;
    long long layers = 0;
    text_word(&t, "events");
    text_number(&t, NULL, &events, NULL);
    text_word(&t, "layers");
    text_number(&t, &layers, NULL, NULL);
    text_end(&t);
    if (!t.s && layers != r->n)
        t.s = sy_fail(SY_ERR_ARG, "%s: its unit resets watched %lld layers, this run's %d", path, layers, r->n);
    for (int k = 0; k < r->n && !t.s; k++) t.s = restore_layer(&r->l[k], st, path, apply);
    if (apply && !t.s) {
        r->events = events;
        for (int k = 0; k < r->n; k++) memset(r->l[k].last, 0, (size_t)r->l[k].f);
    }
    return t.s;
}
