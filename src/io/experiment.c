/* The option side of a run: the common flag table, merging an experiment's
 * overrides into it, strict parsing and range checks, and typed getters. Run
 * records live in runlog.c; the table of experiments belongs to the program
 * that has them (syre's: experiments/registry.c). */
#define _POSIX_C_SOURCE 200809L
#include "io_internal.h"
#include "syre/data.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- Flags ------------------------------------------------------------- */

static const sy_flag_spec common_flags[] = {
    {"seed", "random seed of every stream (init, data order, anchors, dropout)", "1", SY_FLAG_INT, 0, 9007199254740992.0},
    {"data-dir", "data directory (empty: $SYRE_DATA, else the build's data/)", "", SY_FLAG_STRING, 0, 0},
    {"out", "root of run records: <out>/<experiment>/<name>/", "runs", SY_FLAG_STRING, 0, 0},
    {"threads", "CPU threads for OpenMP and OpenBLAS (0 = all cores)", "0", SY_FLAG_INT, 0, 4096},
    {"device", "where graphs run: cpu, cuda (an NVIDIA GPU) or sim (test device); empty: $SYRE_DEVICE, else cpu", "", SY_FLAG_STRING, 0, 0},
    {"precision", "device matmul/conv precision: fp32, tf32 or bf16 (autocast-style, fp32 master weights); empty: $SYRE_PRECISION, else fp32", "", SY_FLAG_STRING, 0, 0},
    {"cuda-graphs", "record the training step with CUDA Graphs on cuda (every experiment but quartic, ridge, toy and ant; unverified on a GPU)", "0", SY_FLAG_BOOL, 0, 0},
    {"quick", "small, fast scale (what the test suite runs)", "0", SY_FLAG_BOOL, 0, 0},
    {"method", "methods to compare, repeatable or comma-separated: " SY_METHOD_NAMES, "vanilla,syre", SY_FLAG_METHODS, 0, 0},
    {"gamma", "weight decay, as PyTorch's weight_decay: gradient += gamma (phi - anchor); anchor 0 for vanilla, theta0 for syre", "0.01", SY_FLAG_DOUBLE, 0, 1e6},
    {"sigma0", "anchor scale, relative: std of theta0 = sigma0/sqrt(fan_in)", "0.01", SY_FLAG_DOUBLE, 0, 100},
    {"eps", "syre-ar: D_ii ~ U(1-eps, 1+eps)", "0.1", SY_FLAG_DOUBLE, 0, 0.999},
    {"lr", "learning rate", "0.01", SY_FLAG_DOUBLE, 0, 1e4},
    {"epochs", "training epochs (or steps, as the experiment says)", "10", SY_FLAG_INT, 0, 100000000},
    {"batch", "batch size", "64", SY_FLAG_INT, 1, 100000000},
    {"name", "run id, the record's directory name (empty: a timestamp)", "", SY_FLAG_STRING, 0, 0},
    {"resume", "continue the run --name from its record and checkpoint", "0", SY_FLAG_BOOL, 0, 0},
    {"override", "with --resume: comma-separated flags allowed to differ from the run's config.json", "",
     SY_FLAG_STRING, 0, 0},
    {"ckpt-every", "also checkpoint every N optimizer steps (500) or N minutes (10m), bounding what a kill -9 loses; "
     "0 = only where the experiment does (epoch ends)", "0", SY_FLAG_STRING, 0, 0},
    {"on-nan", "on a NaN/Inf loss or gradient: stop (naming step, tensor, last checkpoint) or skip-batch", "stop",
     SY_FLAG_STRING, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

static const char *const method_names[] = {"vanilla", "syre", "syre-ar", "l2init", "wfix", "dropout", "none"};

const sy_flag_spec *sy_common_flags(void) { return common_flags; }

static int count_specs(const sy_flag_spec *f)
{
    int n = 0;
    while (f && f[n].name) n++;
    return n;
}

/* The experiment's flags (overrides inherit a missing help from the common
 * flag), then the common flags it does not override. */
int sy_io_merged_flags(const sy_experiment *exp, sy_flag_spec **out, int *nown)
{
    int ne = count_specs(exp->flags), nc = count_specs(common_flags);
    sy_flag_spec *m = calloc((size_t)(ne + nc + 1), sizeof *m);
    if (!m) return -1;
    int n = 0;
    for (int i = 0; i < ne; i++) {
        m[n] = exp->flags[i];
        for (int c = 0; c < nc; c++)
            if (strcmp(common_flags[c].name, m[n].name) == 0 && (!m[n].help || !*m[n].help))
                m[n].help = common_flags[c].help;
        if (!m[n].defval) m[n].defval = "";
        if (!m[n].help) m[n].help = "";
        n++;
    }
    if (nown) *nown = n;
    for (int c = 0; c < nc; c++) {
        int overridden = 0;
        for (int i = 0; i < ne; i++)
            if (strcmp(exp->flags[i].name, common_flags[c].name) == 0) overridden = 1;
        if (!overridden) m[n++] = common_flags[c];
    }
    *out = m;
    return n;
}

static const char *type_word(sy_flag_type t)
{
    switch (t) {
    case SY_FLAG_BOOL: return "";
    case SY_FLAG_INT: return " INT";
    case SY_FLAG_DOUBLE: return " X";
    case SY_FLAG_STRING: return " TEXT";
    case SY_FLAG_METHODS: return " M";
    }
    return "";
}

static int ignored_flag(const sy_experiment *e, const char *flag);

static void print_flags(FILE *f, const sy_experiment *e, const sy_flag_spec *m, int from, int to)
{
    for (int i = from; i < to; i++) {
        if (ignored_flag(e, m[i].name)) continue;
        char lhs[64];
        snprintf(lhs, sizeof lhs, "--%s%s", m[i].name, type_word(m[i].type));
        fprintf(f, "  %-20s %s", lhs, m[i].help);
        if (m[i].type == SY_FLAG_BOOL)
            fprintf(f, " (default %s)", strcmp(m[i].defval, "1") == 0 ? "on" : "off");
        else if (m[i].defval[0])
            fprintf(f, " (default %s)", m[i].defval);
        if (m[i].type == SY_FLAG_INT && m[i].min < m[i].max)
            fprintf(f, " [%.0f, %.0f]", m[i].min, m[i].max);
        else if (m[i].type == SY_FLAG_DOUBLE && m[i].min < m[i].max)
            fprintf(f, " [%g, %g]", m[i].min, m[i].max);
        fputc('\n', f);
    }
}

void sy_experiment_print_help(const sy_experiment *exp, FILE *f)
{
    fprintf(f, "syre run %s [flags]   (paper: %s)\n  %s\n", exp->name, exp->figure ? exp->figure : "-",
            exp->summary ? exp->summary : "");
    if (exp->reproduce) {
        char ids[256];
        snprintf(ids, sizeof ids, "%s", exp->reproduce_id ? exp->reproduce_id : exp->name);
        fprintf(f, "  reproduce with: syre reproduce");
        int first = 1;
        for (char *save = NULL, *t = strtok_r(ids, ",", &save); t; t = strtok_r(NULL, ",", &save), first = 0)
            fprintf(f, "%s%s", first ? " " : " | ", t);
        fprintf(f, "\n");
    }
    sy_flag_spec *m;
    int nown = 0, n = sy_io_merged_flags(exp, &m, &nown);
    if (n < 0) return;
    if (nown > 0) {
        fprintf(f, "\nflags of %s (and its defaults for common flags):\n", exp->name);
        print_flags(f, exp, m, 0, nown);
    }
    fprintf(f, "\ncommon flags:\n");
    print_flags(f, exp, m, nown, n);
    fprintf(f, "\nFlags take a value as --flag value or --flag=value; --method is repeatable.\n");
    free(m);
}

/* ---- Parsing ------------------------------------------------------------ */

static char *xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static int parse_bool(const char *v, int *out)
{
    static const char *on[] = {"1", "true", "yes", "on"}, *off[] = {"0", "false", "no", "off"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(v, on[i]) == 0) return *out = 1, 1;
        if (strcmp(v, off[i]) == 0) return *out = 0, 1;
    }
    return 0;
}

static int is_decay_method(const char *m, size_t len)
{
    for (size_t i = 0; i < sizeof method_names / sizeof method_names[0]; i++)
        if (strlen(method_names[i]) == len && strncmp(method_names[i], m, len) == 0) return 1;
    return 0;
}

/* A decay method, a unit reset alone ("cbp", "redo": weight decay with it)
 * or a decay method with a unit reset ("syre+cbp"). */
static int is_method(const char *m, size_t len)
{
    static const char *const resets[] = {"cbp", "redo"};
    for (size_t i = 0; i < sizeof resets / sizeof resets[0]; i++) {
        size_t r = strlen(resets[i]);
        if (len == r && strncmp(m, resets[i], r) == 0) return 1;
        if (len > r + 1 && m[len - r - 1] == '+' && strncmp(m + len - r, resets[i], r) == 0)
            return is_decay_method(m, len - r - 1);
    }
    return is_decay_method(m, len);
}

/* Check one value against its spec; the message names the experiment and flag. */
static sy_status check_value(const char *exp, const sy_flag_spec *s, const char *v)
{
    char *end;
    switch (s->type) {
    case SY_FLAG_BOOL: {
        int b;
        if (!parse_bool(v, &b))
            return sy_fail(SY_ERR_ARG, "%s: --%s takes no value or one of 1/0/true/false, got '%s'", exp, s->name, v);
        return SY_OK;
    }
    case SY_FLAG_INT: {
        errno = 0;
        long long x = strtoll(v, &end, 10);
        if (!*v || *end || errno == ERANGE)
            return sy_fail(SY_ERR_ARG, "%s: --%s needs an integer written in digits, got '%s'", exp, s->name, v);
        /* Compared as integers: as doubles, 2^53 + 1 would pass a bound of 2^53. */
        if (s->min < s->max && (x < (long long)s->min || x > (long long)s->max))
            return sy_fail(SY_ERR_ARG, "%s: --%s must be in [%.0f, %.0f], got %s", exp, s->name, s->min, s->max, v);
        return SY_OK;
    }
    case SY_FLAG_DOUBLE: {
        errno = 0;
        double x = strtod(v, &end);
        if (!*v || *end || isspace((unsigned char)*v))
            return sy_fail(SY_ERR_ARG, "%s: --%s needs a number, got '%s'", exp, s->name, v);
        if (errno == ERANGE && fabs(x) < 1)
            return sy_fail(SY_ERR_ARG, "%s: --%s %s is too close to zero for a double (underflow)", exp, s->name, v);
        if (errno == ERANGE || !isfinite(x))
            return sy_fail(SY_ERR_ARG, "%s: --%s needs a finite number, got '%s'", exp, s->name, v);
        if (s->min < s->max && (x < s->min || x > s->max))
            return sy_fail(SY_ERR_ARG, "%s: --%s must be in [%g, %g], got %s", exp, s->name, s->min, s->max, v);
        return SY_OK;
    }
    case SY_FLAG_STRING:
        return SY_OK;
    case SY_FLAG_METHODS: {
        const char *p = v;
        for (;;) {
            const char *c = strchr(p, ',');
            size_t len = c ? (size_t)(c - p) : strlen(p);
            if (!is_method(p, len))
                return sy_fail(SY_ERR_ARG, "%s: --%s: unknown method '%.*s' (choose from %s)", exp, s->name,
                               (int)len, p, SY_METHOD_NAMES);
            if (!c) break;
            p = c + 1;
        }
        return SY_OK;
    }
    }
    return sy_fail(SY_ERR_ARG, "%s: --%s has an unknown type", exp, s->name);
}

/* Append comma-separated methods to the list, skipping repeats. */
static sy_status add_methods(sy_run *r, const char *v)
{
    const char *p = v;
    for (;;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        int dup = 0;
        for (int i = 0; i < r->nmethods; i++)
            if (strlen(r->methods[i]) == len && strncmp(r->methods[i], p, len) == 0) dup = 1;
        if (!dup) {
            char **m = realloc(r->methods, sizeof *m * (size_t)(r->nmethods + 2));
            if (!m) return sy_fail(SY_ERR_NOMEM, "out of memory");
            r->methods = m;
            m[r->nmethods] = malloc(len + 1);
            if (!m[r->nmethods]) return sy_fail(SY_ERR_NOMEM, "out of memory");
            memcpy(m[r->nmethods], p, len);
            m[r->nmethods][len] = '\0';
            m[++r->nmethods] = NULL;
        }
        if (!c) break;
        p = c + 1;
    }
    return SY_OK;
}

static sy_status set_value(sy_run *r, int i, const char *v)
{
    char *d = xstrdup(v);
    if (!d) return sy_fail(SY_ERR_NOMEM, "out of memory");
    free(r->values[i]);
    r->values[i] = d;
    return SY_OK;
}

/* Well-formed UTF-8 (no overlong forms, surrogates or code points above
 * U+10FFFF): names end up in JSON records, which must stay valid. */
static int is_utf8(const unsigned char *p)
{
    while (*p) {
        int n = *p < 0x80 ? 0 : (*p & 0xE0) == 0xC0 ? 1 : (*p & 0xF0) == 0xE0 ? 2 : (*p & 0xF8) == 0xF0 ? 3 : -1;
        if (n < 0 || (n == 1 && *p < 0xC2)) return 0;
        unsigned long cp = *p & (0x7F >> n);
        for (int k = 1; k <= n; k++) {
            if ((p[k] & 0xC0) != 0x80) return 0;
            cp = cp << 6 | (p[k] & 0x3F);
        }
        if ((n == 2 && (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF))) || (n == 3 && (cp < 0x10000 || cp > 0x10FFFF)))
            return 0;
        p += n + 1;
    }
    return 1;
}

static int flag_index(const sy_run *r, const char *name)
{
    for (int i = 0; i < r->nflags; i++)
        if (strcmp(r->flags[i].name, name) == 0) return i;
    return -1;
}

/* Options checked as a whole once parsed, before anything touches the disk:
 * the run's place in the file tree, the thread count, the override list. */
/* Whether the experiment lists `flag` among the common flags it ignores. */
static int ignored_flag(const sy_experiment *e, const char *flag)
{
    size_t n = strlen(flag);
    for (const char *p = e->ignores; p && *p;) {
        size_t len = strcspn(p, ",");
        if (len == n && strncmp(p, flag, n) == 0) return 1;
        p += len;
        p += *p == ',';
    }
    return 0;
}

static sy_status check_run_options(sy_run *r)
{
    const char *exp = r->exp->name;
    for (int i = 0; i < r->nflags; i++)
        if (r->set[i] && ignored_flag(r->exp, r->flags[i].name))
            return sy_fail(SY_ERR_ARG, "%s: --%s does not apply to this experiment, which does not use it (see: syre "
                           "help %s)", exp, r->flags[i].name, exp);
    int ni = flag_index(r, "name"), oi = flag_index(r, "out"), ti = flag_index(r, "threads");
    int vi = flag_index(r, "override");
    const char *name = ni >= 0 ? r->values[ni] : "";
    if (*name) {
        if (strchr(name, '/') || !strcmp(name, ".") || !strcmp(name, ".."))
            return sy_fail(SY_ERR_ARG, "%s: --name '%s' must be a single directory name (no '/', not . or ..)", exp,
                           name);
        if (!is_utf8((const unsigned char *)name))
            return sy_fail(SY_ERR_ARG, "%s: --name is not valid UTF-8 text", exp);
        if (strlen(name) > 200)
            return sy_fail(SY_ERR_ARG, "%s: --name is %zu bytes long; at most 200", exp, strlen(name));
    }
    if (oi >= 0) {
        /* An empty --out means the default, never the filesystem root. */
        if (!r->values[oi][0] && set_value(r, oi, r->flags[oi].defval[0] ? r->flags[oi].defval : "runs") != SY_OK)
            return sy_fail(SY_ERR_NOMEM, "out of memory");
        const char *out = r->values[oi];
        if (!is_utf8((const unsigned char *)out))
            return sy_fail(SY_ERR_ARG, "%s: --out is not valid UTF-8 text", exp);
        /* The record's paths must fit the system's limits (PATH_MAX 4096,
         * NAME_MAX 255) with room for the run's own files. */
        size_t total = strlen(out) + strlen(exp) + (*name ? strlen(name) : 32) + 64;
        if (total >= 4096)
            return sy_fail(SY_ERR_ARG, "%s: --out is %zu bytes long; the run's paths would pass the system's 4096-byte "
                           "limit (ENAMETOOLONG)", exp, strlen(out));
        for (const char *p = out; *p;) {
            size_t len = strcspn(p, "/");
            if (len > 255)
                return sy_fail(SY_ERR_ARG, "%s: --out has a %zu-byte directory name; the system allows 255 "
                               "(ENAMETOOLONG)", exp, len);
            p += len;
            p += *p == '/';
        }
    }
    if (ti >= 0) {
        long t = strtol(r->values[ti], NULL, 10), cpus = sysconf(_SC_NPROCESSORS_ONLN);
        /* Far more threads than cores only slows every step down. */
        if (cpus > 0 && t > 4 * cpus)
            return sy_fail(SY_ERR_ARG, "%s: --threads %ld is more than 4x the %ld online CPUs (at most %ld; 0 = all)",
                           exp, t, cpus, 4 * cpus);
    }
    if (vi >= 0 && r->values[vi][0]) {
        char *copy = xstrdup(r->values[vi]), *save = NULL;
        if (!copy) return sy_fail(SY_ERR_NOMEM, "out of memory");
        for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
            if (t[0] == '-' && t[1] == '-') t += 2;
            if (flag_index(r, t) < 0) {
                sy_status s = sy_fail(SY_ERR_ARG, "%s: --override names '%s', not a flag of this experiment", exp, t);
                free(copy);
                return s;
            }
        }
        free(copy);
    }
    return SY_OK;
}

static sy_status append_method_value(sy_run *r, int i, const char *v)
{
    size_t a = strlen(r->values[i]), b = strlen(v);
    char *d = malloc(a + b + 2);
    if (!d) return sy_fail(SY_ERR_NOMEM, "out of memory");
    memcpy(d, r->values[i], a);
    d[a] = ',';
    memcpy(d + a + 1, v, b + 1);
    free(r->values[i]);
    r->values[i] = d;
    return SY_OK;
}

sy_status sy_run_parse(sy_run **out, const sy_experiment *exp, int argc, char **argv)
{
    *out = NULL;
    if (!exp) return sy_fail(SY_ERR_ARG, "no experiment given");
    sy_run *r = calloc(1, sizeof *r);
    if (!r) return sy_fail(SY_ERR_NOMEM, "out of memory");
    r->exp = exp;
    r->lock_fd = -1;
    r->nflags = sy_io_merged_flags(exp, &r->flags, NULL);
    sy_status s = SY_OK;
    if (r->nflags < 0) {
        r->nflags = 0;
        s = sy_fail(SY_ERR_NOMEM, "out of memory");
        goto fail;
    }
    r->values = calloc((size_t)r->nflags + 1, sizeof *r->values);
    r->set = calloc((size_t)r->nflags + 1, sizeof *r->set);
    if (!r->values || !r->set) {
        s = sy_fail(SY_ERR_NOMEM, "out of memory");
        goto fail;
    }
    for (int i = 0; i < r->nflags; i++) {
        /* A bad default is a bug in the experiment's table: say so plainly. */
        if (r->flags[i].defval[0] || r->flags[i].type == SY_FLAG_METHODS) {
            s = check_value(exp->name, &r->flags[i], r->flags[i].defval);
            if (s != SY_OK) {
                char msg[1024];
                snprintf(msg, sizeof msg, "%s", sy_last_error());
                s = sy_fail(SY_ERR_ARG, "experiment table bug, default of --%s: %s", r->flags[i].name, msg);
                goto fail;
            }
        }
        if ((s = set_value(r, i, r->flags[i].defval)) != SY_OK) goto fail;
    }
    for (int a = 0; a < argc; a++) {
        const char *arg = argv[a];
        if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
            s = sy_fail(SY_ERR_ARG, "%s: unexpected argument '%s' (flags look like --name value; see: syre help %s)",
                        exp->name, arg, exp->name);
            goto fail;
        }
        const char *name = arg + 2, *eq = strchr(name, '=');
        size_t len = eq ? (size_t)(eq - name) : strlen(name);
        int fi = -1;
        for (int i = 0; i < r->nflags; i++)
            if (strlen(r->flags[i].name) == len && strncmp(r->flags[i].name, name, len) == 0) fi = i;
        if (fi < 0) {
            s = sy_fail(SY_ERR_ARG, "unknown flag --%.*s for experiment '%s' (see: syre help %s)",
                        (int)len, name, exp->name, exp->name);
            goto fail;
        }
        const sy_flag_spec *sp = &r->flags[fi];
        const char *v;
        if (eq) {
            v = eq + 1;
        } else if (sp->type == SY_FLAG_BOOL) {
            v = "1";
        } else if (a + 1 < argc && strncmp(argv[a + 1], "--", 2) != 0) {
            v = argv[++a];
        } else {
            s = sy_fail(SY_ERR_ARG, "%s: --%s needs a value", exp->name, sp->name);
            goto fail;
        }
        if ((s = check_value(exp->name, sp, v)) != SY_OK) goto fail;
        if (sp->type == SY_FLAG_BOOL) {
            int b = 0;
            parse_bool(v, &b);
            v = b ? "1" : "0";
        }
        if (sp->type == SY_FLAG_METHODS && r->set[fi])
            s = append_method_value(r, fi, v);
        else
            s = set_value(r, fi, v);
        if (s != SY_OK) goto fail;
        r->set[fi] = 1;
    }
    /* --quick's defaults for the flags left alone, so that every reader
     * (the experiment, config.json, --resume) sees the values the run uses. */
    int qi = flag_index(r, "quick"), quick = 0;
    if (qi >= 0) parse_bool(r->values[qi], &quick);
    for (const char *p = quick ? exp->quick : NULL; p && *p;) {
        size_t len = strcspn(p, ";");
        char item[256];
        snprintf(item, sizeof item, "%.*s", (int)len, p);
        p += len;
        p += *p == ';';
        char *eq = strchr(item, '=');
        int i = -1;
        if (eq) {
            *eq = '\0';
            i = flag_index(r, item);
        }
        if (i < 0 || (s = check_value(exp->name, &r->flags[i], eq + 1)) != SY_OK) {
            char msg[1024];
            snprintf(msg, sizeof msg, "%s", i < 0 ? "no such flag" : sy_last_error());
            s = sy_fail(SY_ERR_ARG, "experiment table bug, quick default '%s': %s", item, msg);
            goto fail;
        }
        if (!r->set[i] && (s = set_value(r, i, eq + 1)) != SY_OK) goto fail;
    }
    /* Resolve the data directory now so that config.json records the real one. */
    for (int i = 0; i < r->nflags; i++) {
        if (strcmp(r->flags[i].name, "data-dir") == 0 && !r->values[i][0]) {
            if ((s = set_value(r, i, sy_data_dir(NULL))) != SY_OK) goto fail;
        }
        if (r->flags[i].type == SY_FLAG_METHODS && strcmp(r->flags[i].name, "method") == 0)
            if ((s = add_methods(r, r->values[i])) != SY_OK) goto fail;
    }
    if ((s = check_run_options(r)) != SY_OK) goto fail;
    r->argc = argc;
    r->argv = argv;
    *out = r;
    return SY_OK;
fail:
    sy_run_free(r);
    return s;
}

/* ---- Getters ---------------------------------------------------------- */

static int find_flag(const sy_run *r, const char *name)
{
    for (int i = 0; r && i < r->nflags; i++)
        if (strcmp(r->flags[i].name, name) == 0) return i;
    fprintf(stderr, "syre: experiment '%s' reads undeclared flag --%s (programmer error)\n",
            r && r->exp ? r->exp->name : "?", name);
    return -1;
}

double sy_run_get_double(const sy_run *run, const char *name)
{
    int i = find_flag(run, name);
    return i < 0 ? 0.0 : strtod(run->values[i], NULL);
}

long sy_run_get_int(const sy_run *run, const char *name)
{
    int i = find_flag(run, name);
    return i < 0 ? 0 : strtol(run->values[i], NULL, 10);
}

const char *sy_run_get_str(const sy_run *run, const char *name)
{
    int i = find_flag(run, name);
    return i < 0 ? NULL : run->values[i];
}

int sy_run_get_bool(const sy_run *run, const char *name)
{
    int i = find_flag(run, name), b = 0;
    if (i >= 0) parse_bool(run->values[i], &b);
    return b;
}

int sy_run_is_set(const sy_run *run, const char *name)
{
    int i = find_flag(run, name);
    return i < 0 ? 0 : run->set[i];
}

const char *const *sy_run_methods(const sy_run *run, int *count)
{
    *count = run->nmethods;
    return (const char *const *)run->methods;
}

uint64_t sy_run_seed(const sy_run *run) { return (uint64_t)strtoull(sy_run_get_str(run, "seed"), NULL, 10); }

const sy_experiment *sy_run_experiment(const sy_run *run) { return run->exp; }
