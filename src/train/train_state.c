/* Training-state checkpoints on top of the safetensors writer: parameters,
 * optimizer arrays and counters, and the run position as metadata. Each save
 * keeps the checkpoint it replaces as <name>.prev.safetensors, and a load
 * that finds the newer one damaged falls back to it. */
#define _POSIX_C_SOURCE 200809L
#include "syre/train.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/numeric.h"
#include "syre/dist.h"
#include "syre/format.h"
#include "unit_reset_state.h"


/* Who writes and reads checkpoints: "<experiment> <config hash>", set by
 * sy_run_start; empty outside a run (no check). */
static char run_owner[128];

void sy_train_set_owner(const char *owner) { snprintf(run_owner, sizeof run_owner, "%s", owner ? owner : ""); }

/* The records' keeper (sy_train_set_records); NULL: no records. */
static int (*records_mark)(char *buf, size_t size);
static sy_status (*records_rewind)(const char *marks);

void sy_train_set_records(int (*mark)(char *buf, size_t size), sy_status (*rewind)(const char *marks))
{
    records_mark = mark, records_rewind = rewind;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

void sy_train_prev_path(const char *path, char *out, size_t size)
{
    static const char ext[] = ".safetensors";
    size_t n = strlen(path), e = sizeof ext - 1;
    if (n > e && !strcmp(path + n - e, ext))
        snprintf(out, size, "%.*s.prev%s", (int)(n - e), path, ext);
    else
        snprintf(out, size, "%s.prev", path);
}

/* Make the current checkpoint the previous one before the new one replaces
 * it: a hard link renamed over .prev, so that at every moment both names
 * hold a whole file (the old or the new one). Where hard links are not
 * supported the bytes are copied. */
static sy_status keep_previous(const char *path)
{
    if (!sy_dist_is_root() || access(path, F_OK) != 0) return SY_OK;
    char prev[4200], tmp[4210];
    sy_train_prev_path(path, prev, sizeof prev);
    snprintf(tmp, sizeof tmp, "%s.tmp", prev);
    unlink(tmp);
    if (link(path, tmp) == 0) {
        if (rename(tmp, prev) == 0) return SY_OK;
        int e = errno;
        unlink(tmp);
        return sy_fail(SY_ERR_IO, "cannot rename onto %s: %s", prev, strerror(e));
    }
    FILE *f = fopen(path, "rb");
    if (!f) return sy_fail(SY_ERR_IO, "cannot read %s: %s", path, strerror(errno));
    sy_status s = SY_OK;
    long n = -1;
    if (fseek(f, 0, SEEK_END) == 0) n = ftell(f);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!buf || fseek(f, 0, SEEK_SET) != 0 || fread(buf, 1, (size_t)n, f) != (size_t)n)
        s = sy_fail(SY_ERR_IO, "cannot read %s to keep it as %s", path, prev);
    fclose(f);
    if (s == SY_OK) s = sy_write_file_atomic(prev, buf, (size_t)n);
    free(buf);
    return s;
}

/* The decay of one tensor as text, e.g. "syre wd 0.01 sigma0 0.1". */
static void rule_text(const sy_decay *d, char *out, size_t size)
{
    int n = snprintf(out, size, "%s wd %.7g", sy_decay_kind_name(d->kind), d->weight_decay);
    if (d->kind == SY_DECAY_SYRE || d->kind == SY_DECAY_SYRE_AR)
        n += snprintf(out + n, size - (size_t)n, " sigma0 %.7g", d->sigma0);
    if (d->kind == SY_DECAY_SYRE_AR) n += snprintf(out + n, size - (size_t)n, " eps %.7g", d->eps);
    if (d->exclude_1d) n += snprintf(out + n, size - (size_t)n, " excluding 1-d");
    if (d->wfix_frac > 0)
        snprintf(out + n, size - (size_t)n, " wfix %.7g kappa %.7g", d->wfix_frac, d->wfix_kappa);
}

/* Every trainable tensor's decay and the seed its anchors come from, as
 * "seed S;name rule;name rule;...": saved with a checkpoint and compared on
 * loading, so that a run is never continued under another rule. Malloc'd. */
static char *describe_decay(sy_params *ps, const sy_optimizer *opt)
{
    size_t size = 64, n = 0;
    for (int t = 0; t < sy_params_count(ps); t++) size += strlen(sy_params_info(ps, t)->name) + 160;
    char *b = malloc(size);
    if (!b) return NULL;
    n += (size_t)snprintf(b, size, "seed %" PRIu64 ";", sy_optimizer_opts(opt)->seed);
    for (int t = 0; t < sy_params_count(ps); t++) {
        const sy_decay *d = sy_optimizer_rule_of(opt, t);
        if (!d) continue;
        char r[150];
        rule_text(d, r, sizeof r);
        n += (size_t)snprintf(b + n, size - n, "%s %s;", sy_params_info(ps, t)->name, r);
    }
    return b;
}

/* The first entry of two decay descriptions that differs, as a message:
 * which tensor (or the seed), and what each side has. */
static sy_status decay_differs(const char *path, const char *saved, const char *now)
{
    while (*saved && *now) {
        size_t a = strcspn(saved, ";"), b = strcspn(now, ";");
        if (a != b || memcmp(saved, now, a) != 0) {
            size_t an = strcspn(saved, " "), bn = strcspn(now, " ");
            if (!strncmp(saved, "seed ", 5) && !strncmp(now, "seed ", 5))
                return sy_fail(SY_ERR_ARG, "%s: its anchors come from seed %.*s, this optimizer's from seed %.*s "
                               "(another --seed)", path, (int)(a - 5), saved + 5, (int)(b - 5), now + 5);
            if (an == bn && !memcmp(saved, now, an) && an < a && bn < b)
                return sy_fail(SY_ERR_ARG, "%s: tensor '%.*s' was trained with decay %.*s, this optimizer has %.*s "
                               "(another --method, --wd, --sigma0, --eps or rule)", path, (int)an, saved,
                               (int)(a - an - 1), saved + an + 1, (int)(b - bn - 1), now + bn + 1);
            break;
        }
        saved += a + (saved[a] == ';');
        now += b + (now[b] == ';');
    }
    return sy_fail(SY_ERR_ARG, "%s: trained with decay rules '%s', this optimizer has '%s'", path, saved, now);
}

/* Optimizer state is written per tensor, unpadded, under
 * "optim.<state>.<tensor>" (optim.exp_avg.mlp.0.weight), with the tensor's
 * shape, so that other tools can use it. Checkpoints from before hold one
 * padded flat array per state, "optim.<state>", and still load. */
#define STATE_NAME 128

static int num_trainable(const sy_params *ps)
{
    int nt = 0;
    for (int t = 0; t < sy_params_count(ps); t++) nt += sy_params_info(ps, t)->trainable != 0;
    return nt;
}

/* One piece of optimizer state in a checkpoint: file tensor idx holds numel
 * values of state array k from offset off. */
typedef struct {
    int k, idx;
    size_t off, numel;
} state_part;

/* Where each optimizer state lives in st, checked against the optimizer:
 * parts gets at most ns * (trainable tensors + 1) entries, *np their count. */
static sy_status find_state(const sy_safetensors *st, const char *path, sy_params *ps, sy_optimizer *opt,
                            state_part *parts, int *np)
{
    int ns = sy_optimizer_num_state(opt);
    size_t n = sy_optimizer_state_size(opt);
    *np = 0;
    for (int k = 0; k < ns; k++) {
        const char *state = sy_optimizer_state_name(opt, k);
        char name[STATE_NAME], b1[64], b2[64];
        snprintf(name, sizeof name, "optim.%s", state);
        int flat = sy_safetensors_find(st, name);
        if (flat >= 0) { /* the older layout */
            if (sy_shape_numel(sy_safetensors_shape(st, flat)) != n)
                return sy_fail(SY_ERR_SHAPE, "%s: optimizer state '%s' has %zu values, the optimizer %zu", path, name,
                               sy_shape_numel(sy_safetensors_shape(st, flat)), n);
            parts[(*np)++] = (state_part){k, flat, 0, n};
            continue;
        }
        for (int t = 0; t < sy_params_count(ps); t++) {
            const sy_param_info *pi = sy_params_info(ps, t);
            if (!pi->trainable) continue;
            snprintf(name, sizeof name, "optim.%s.%s", state, pi->name);
            int i = sy_safetensors_find(st, name);
            if (i < 0) return sy_fail(SY_ERR_FORMAT, "%s: no optimizer state '%s' (another optimizer?)", path, name);
            if (!sy_shape_equal(sy_safetensors_shape(st, i), pi->shape))
                return sy_fail(SY_ERR_SHAPE, "%s: optimizer state '%s' has shape %s, the tensor %s", path, name,
                               sy_shape_str(sy_safetensors_shape(st, i), b1), sy_shape_str(pi->shape, b2));
            parts[(*np)++] = (state_part){k, i, pi->offset, pi->numel};
        }
    }
    return SY_OK;
}

sy_status sy_train_save(const char *path, sy_params *ps, sy_optimizer *opt, const sy_train_pos *pos)
{
    return sy_train_save_units(path, ps, opt, NULL, pos);
}

sy_status sy_train_save_units(const char *path, sy_params *ps, sy_optimizer *opt, const sy_unit_reset *units,
                              const sy_train_pos *pos)
{
    int ns = opt ? sy_optimizer_num_state(opt) : 0, nt = num_trainable(ps), ne = 0;
    char *names = ns ? malloc((size_t)ns * (size_t)nt * STATE_NAME) : NULL;
    sy_st_tensor *extra = ns ? malloc((size_t)ns * (size_t)nt * sizeof *extra) : NULL;
    if (ns && nt && (!names || !extra)) {
        free(names);
        free(extra);
        return sy_fail(SY_ERR_NOMEM, "%s: no memory for the optimizer state's names", path);
    }
    for (int k = 0; k < ns; k++) {
        float *a = sy_optimizer_state(opt, k); /* once: on a device this copies it back */
        for (int t = 0; t < sy_params_count(ps); t++) {
            const sy_param_info *pi = sy_params_info(ps, t);
            if (!pi->trainable) continue;
            char *name = names + (size_t)ne * STATE_NAME;
            snprintf(name, STATE_NAME, "optim.%s.%s", sy_optimizer_state_name(opt, k), pi->name);
            extra[ne++] = (sy_st_tensor){name, pi->shape, a + pi->offset};
        }
    }
    char v[7][40], records[2048];
    snprintf(v[0], sizeof v[0], "%" PRId64, pos->epoch);
    snprintf(v[1], sizeof v[1], "%" PRId64, pos->batch);
    snprintf(v[2], sizeof v[2], "%" PRId64, pos->graph_step);
    snprintf(v[3], sizeof v[3], "%ld", opt ? sy_optimizer_steps(opt) : 0L);
    snprintf(v[4], sizeof v[4], "%d", pos->done);
    snprintf(v[5], sizeof v[5], "%.17g", pos->loss_sum); /* round-trips exactly */
    snprintf(v[6], sizeof v[6], "%.17g", pos->aux_sum);
    /* Where the run's CSV records stood: a resume from this checkpoint cuts
     * them back there, so no row is logged twice. */
    int marked = records_mark ? records_mark(records, sizeof records) : 0;
    /* The file's own name (it names the method) and the run's identity, so
     * a checkpoint copied over another is refused on loading. */
    /* The unit resets' state: written with the rest, so that it never runs ahead or behind. */
    sy_st_meta *um = NULL;
    int nu = 0;
    sy_status s = units ? unit_reset_meta(units, &um, &nu) : SY_OK;
    sy_st_meta *meta = s == SY_OK ? malloc((size_t)(11 + nu) * sizeof *meta) : NULL;
    if (s == SY_OK && !meta) s = sy_fail(SY_ERR_NOMEM, "%s: no memory for the checkpoint's metadata", path);
    char *decay = s == SY_OK && opt ? describe_decay(ps, opt) : NULL;
    if (s == SY_OK && opt && !decay) s = sy_fail(SY_ERR_NOMEM, "%s: no memory to describe the decay rules", path);
    int nm = 0;
    if (s == SY_OK) {
        const sy_st_meta run_meta[8] = {{"epoch", v[0]},    {"batch", v[1]},      {"graph_step", v[2]},
                                        {"optimizer_steps", v[3]}, {"done", v[4]}, {"loss_sum", v[5]},
                                        {"aux_sum", v[6]},  {"checkpoint", base_name(path)}};
        for (; nm < 8; nm++) meta[nm] = run_meta[nm];
        if (run_owner[0]) meta[nm++] = (sy_st_meta){"run", run_owner};
        if (marked) meta[nm++] = (sy_st_meta){"records", records}; /* empty: no CSV yet */
        if (decay) meta[nm++] = (sy_st_meta){"decay", decay};
        for (int i = 0; i < nu; i++) meta[nm++] = um[i];
    }
    if (s == SY_OK) s = keep_previous(path);
    if (s == SY_OK) s = sy_checkpoint_save_params(path, ps, extra, ne, meta, nm);
    unit_reset_meta_free(um, nu);
    free(meta);
    free(decay);
    free(extra);
    free(names);
    if (s == SY_OK) sy_note_checkpoint(path, opt ? sy_optimizer_steps(opt) : 0L);
    return s;
}

static sy_status meta_int(const sy_safetensors *st, const char *path, const char *key, int64_t *out)
{
    const char *s = sy_safetensors_meta(st, key);
    char *end;
    if (!s) return sy_fail(SY_ERR_FORMAT, "%s: training checkpoint lacks metadata '%s'", path, key);
    long long v = strtoll(s, &end, 10);
    if (*s == '\0' || *end != '\0' || v < 0)
        return sy_fail(SY_ERR_FORMAT, "%s: metadata '%s' = '%s' is not a count", path, key, s);
    *out = v;
    return SY_OK;
}

/* saved_as: the path the checkpoint was written under (path itself, or the
 * newer name for a .prev file), which its "checkpoint" metadata must name. */
static sy_status load_one(const char *path, const char *saved_as, sy_params *ps, sy_optimizer *opt,
                          sy_unit_reset *units, sy_train_pos *pos, char *records, size_t nrec, int *marked)
{
    if (access(path, F_OK) != 0) return sy_fail(SY_ERR_IO, "no checkpoint at %s", path);
    /* Present but not a file (a FIFO, a directory): an error, never "start afresh". */
    struct stat sb;
    if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
        return sy_fail(SY_ERR_FORMAT, "%s: checkpoint is not a regular file", path);
    sy_safetensors *st = NULL;
    sy_status s = sy_safetensors_read(path, &st);
    if (s) return s;
    /* Validate everything before touching the store or the optimizer. */
    int64_t v[5] = {0};
    const char *keys[5] = {"epoch", "batch", "graph_step", "optimizer_steps", "done"};
    for (int i = 0; i < 5 && !s; i++) s = meta_int(st, path, keys[i], &v[i]);
    /* A whole checkpoint of another method or run is a mix-up, not damage:
     * refused as SY_ERR_ARG, which does not fall back to the previous one. */
    const char *was = sy_safetensors_meta(st, "checkpoint"), *owner = sy_safetensors_meta(st, "run");
    if (!s && was && strcmp(was, base_name(saved_as)) != 0)
        s = sy_fail(SY_ERR_ARG, "%s: holds the checkpoint saved as %s (another method's or run's), not %s", path,
                    was, base_name(saved_as));
    if (!s && owner && run_owner[0] && strcmp(owner, run_owner) != 0)
        s = sy_fail(SY_ERR_ARG, "%s: belongs to run '%s', this run is '%s' (another experiment or other options)",
                    path, owner, run_owner);
    /* Absent from older checkpoints, which load as before. */
    const char *decay = opt ? sy_safetensors_meta(st, "decay") : NULL;
    if (!s && decay) {
        char *now = describe_decay(ps, opt);
        if (!now) s = sy_fail(SY_ERR_NOMEM, "%s: no memory to compare the decay rules", path);
        else if (strcmp(decay, now) != 0) s = decay_differs(path, decay, now);
        free(now);
    }
    /* The unit resets' state, present exactly when this run resets units. */
    const char *saved_units = sy_safetensors_meta(st, UNIT_RESET_META);
    if (!s && units) s = unit_reset_restore(units, st, path, 0);
    if (!s && !units && saved_units)
        s = sy_fail(SY_ERR_ARG, "%s: saved by a run with unit resets (%.*s), this run has none (another --method)", path,
                    (int)strcspn(saved_units, " "), saved_units);
    const char *rec = sy_safetensors_meta(st, "records");
    *marked = rec != NULL; /* absent from older checkpoints and from those saved outside a run */
    snprintf(records, nrec, "%s", rec ? rec : "");
    /* absent from older checkpoints, which stop only at epoch ends */
    double sums[2] = {0, 0};
    const char *skeys[2] = {"loss_sum", "aux_sum"};
    for (int i = 0; i < 2 && !s; i++) {
        const char *ls = sy_safetensors_meta(st, skeys[i]);
        char *end;
        if (ls) sums[i] = strtod(ls, &end);
        if (ls && (!*ls || *end))
            s = sy_fail(SY_ERR_FORMAT, "%s: metadata '%s' = '%s' is not a number", path, skeys[i], ls);
    }
    int np = 0;
    state_part *parts = opt ? malloc(((size_t)sy_optimizer_num_state(opt) * (size_t)(num_trainable(ps) + 1) + 1) *
                                     sizeof *parts) : NULL;
    if (!s && opt && !parts) s = sy_fail(SY_ERR_NOMEM, "%s: no memory to read the optimizer state", path);
    if (!s && opt) s = find_state(st, path, ps, opt, parts, &np);
    sy_safetensors_free(st);
    if (!s) s = sy_checkpoint_load_params(path, ps, &st);
    if (s) {
        free(parts);
        if (s != SY_ERR_SHAPE) return s;
        /* Sizes come from options: say so, since the tensor alone names no flag. */
        char why[900];
        snprintf(why, sizeof why, "%s", sy_last_error());
        return sy_fail(s, "%s; an option that sets this size differs from the run that saved the checkpoint "
                       "(compare its config.json)", why);
    }
    float *a = NULL;
    for (int p = 0; p < np; p++) {
        if (p == 0 || parts[p].k != parts[p - 1].k) a = sy_optimizer_state(opt, parts[p].k); /* once per array */
        memcpy(a + parts[p].off, sy_safetensors_data(st, parts[p].idx), parts[p].numel * sizeof(float));
    }
    free(parts);
    if (units) s = unit_reset_restore(units, st, path, 1); /* checked above: cannot fail */
    sy_safetensors_free(st);
    if (s) return s;
    if (opt) sy_optimizer_set_steps(opt, (long)v[3]);
    pos->epoch = v[0];
    pos->batch = v[1];
    pos->graph_step = v[2];
    pos->done = (int)v[4];
    pos->loss_sum = sums[0];
    pos->aux_sum = sums[1];
    return SY_OK;
}

/* The optimizer step a damaged checkpoint claims, from its header text
 * alone; -1 when that cannot be read either. */
static long claimed_steps(const char *path)
{
    char head[65536];
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    size_t n = fread(head, 1, sizeof head - 1, f);
    fclose(f);
    head[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!head[i]) head[i] = ' ';
    const char *k = strstr(head, "\"optimizer_steps\":\"");
    if (!k) return -1;
    char *end;
    long v = strtol(k + 19, &end, 10);
    return end != k + 19 && *end == '"' && v >= 0 ? v : -1;
}

sy_status sy_train_load(const char *path, sy_params *ps, sy_optimizer *opt, sy_train_pos *pos)
{
    return sy_train_load_units(path, ps, opt, NULL, pos);
}

sy_status sy_train_load_units(const char *path, sy_params *ps, sy_optimizer *opt, sy_unit_reset *units,
                              sy_train_pos *pos)
{
    char records[2048];
    int marked = 0;
    sy_status s = load_one(path, path, ps, opt, units, pos, records, sizeof records, &marked);
    /* A finished method's records are followed by later methods' rows: only a
     * method in progress rewinds them. */
    if (s == SY_OK) return pos->done || !marked || !records_rewind ? SY_OK : records_rewind(records);
    char prev[4200];
    sy_train_prev_path(path, prev, sizeof prev);
    /* Only damage or absence falls back; a checkpoint of another model
     * (shapes, optimizer) is refused as it is. */
    if ((s != SY_ERR_FORMAT && s != SY_ERR_IO) || access(prev, F_OK) != 0) return s;
    char why[1024];
    snprintf(why, sizeof why, "%s", sy_last_error());
    long lost = claimed_steps(path);
    sy_status ps_ = load_one(prev, path, ps, opt, units, pos, records, sizeof records, &marked);
    if (ps_ != SY_OK) {
        char why2[1024];
        snprintf(why2, sizeof why2, "%s", sy_last_error());
        return sy_fail(s, "%s; the previous checkpoint is no good either: %s", why, why2);
    }
    long at = opt ? sy_optimizer_steps(opt) : 0;
    if (lost > at)
        fprintf(stderr, "syre: %s\nsyre: falling back to the previous checkpoint %s (optimizer step %ld): %ld step%s to "
                "train again\n", why, prev, at, lost - at, lost - at == 1 ? "" : "s");
    else
        fprintf(stderr, "syre: %s\nsyre: falling back to the previous checkpoint %s (optimizer step %ld); the steps "
                "after it are trained again\n", why, prev, at);
    return pos->done || !marked || !records_rewind ? SY_OK : records_rewind(records);
}
