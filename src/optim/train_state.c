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
#include "io/records.h"
#include "syre/dist.h"
#include "syre/io.h"

#define MAX_STATE 8

/* Who writes and reads checkpoints: "<experiment> <config hash>", set by
 * sy_run_start; empty outside a run (no check). */
static char run_owner[128];

void sy_train_set_owner(const char *owner) { snprintf(run_owner, sizeof run_owner, "%s", owner ? owner : ""); }

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

sy_status sy_train_save(const char *path, sy_params *ps, sy_optimizer *opt, const sy_train_pos *pos)
{
    int ns = opt ? sy_optimizer_num_state(opt) : 0;
    if (ns > MAX_STATE) return sy_fail(SY_ERR_UNSUPPORTED, "%s: optimizer has %d state arrays", path, ns);
    char names[MAX_STATE][96];
    sy_st_tensor extra[MAX_STATE];
    int n = (int)(opt ? sy_optimizer_state_size(opt) : 0);
    for (int k = 0; k < ns; k++) {
        snprintf(names[k], sizeof names[k], "optim.%s", sy_optimizer_state_name(opt, k));
        extra[k] = (sy_st_tensor){names[k], sy_shape_of(1, n), sy_optimizer_state(opt, k)};
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
    int marked = sy_records_mark(records, sizeof records);
    /* The file's own name (it names the method) and the run's identity, so
     * a checkpoint copied over another is refused on loading. */
    sy_st_meta meta[10] = {{"epoch", v[0]},    {"batch", v[1]},      {"graph_step", v[2]},
                           {"optimizer_steps", v[3]}, {"done", v[4]}, {"loss_sum", v[5]},
                           {"aux_sum", v[6]},  {"checkpoint", base_name(path)}};
    int nm = 8;
    if (run_owner[0]) meta[nm++] = (sy_st_meta){"run", run_owner};
    if (marked) meta[nm++] = (sy_st_meta){"records", records}; /* empty: no CSV yet */
    sy_status s = keep_previous(path);
    if (s == SY_OK) s = sy_checkpoint_save_params(path, ps, extra, ns, meta, nm);
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
                          sy_train_pos *pos, char *records, size_t nrec, int *marked)
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
    int ns = opt ? sy_optimizer_num_state(opt) : 0;
    size_t n = opt ? sy_optimizer_state_size(opt) : 0;
    int idx[MAX_STATE];
    for (int k = 0; k < ns && !s; k++) {
        char name[96];
        snprintf(name, sizeof name, "optim.%s", sy_optimizer_state_name(opt, k));
        idx[k] = sy_safetensors_find(st, name);
        if (idx[k] < 0) s = sy_fail(SY_ERR_FORMAT, "%s: no optimizer state '%s' (another optimizer?)", path, name);
        else if (sy_shape_numel(sy_safetensors_shape(st, idx[k])) != n)
            s = sy_fail(SY_ERR_SHAPE, "%s: optimizer state '%s' has %zu values, the optimizer %zu", path, name,
                        sy_shape_numel(sy_safetensors_shape(st, idx[k])), n);
    }
    sy_safetensors_free(st);
    if (s) return s;
    if ((s = sy_checkpoint_load_params(path, ps, &st))) {
        if (s != SY_ERR_SHAPE) return s;
        /* Sizes come from options: say so, since the tensor alone names no flag. */
        char why[900];
        snprintf(why, sizeof why, "%s", sy_last_error());
        return sy_fail(s, "%s; an option that sets this size differs from the run that saved the checkpoint "
                       "(compare its config.json)", why);
    }
    for (int k = 0; k < ns; k++) memcpy(sy_optimizer_state(opt, k), sy_safetensors_data(st, idx[k]), n * sizeof(float));
    sy_safetensors_free(st);
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
    char records[2048];
    int marked = 0;
    sy_status s = load_one(path, path, ps, opt, pos, records, sizeof records, &marked);
    /* A finished method's records are followed by later methods' rows: only a
     * method in progress rewinds them. */
    if (s == SY_OK) return pos->done || !marked ? SY_OK : sy_records_rewind(records);
    char prev[4200];
    sy_train_prev_path(path, prev, sizeof prev);
    /* Only damage or absence falls back; a checkpoint of another model
     * (shapes, optimizer) is refused as it is. */
    if ((s != SY_ERR_FORMAT && s != SY_ERR_IO) || access(prev, F_OK) != 0) return s;
    char why[1024];
    snprintf(why, sizeof why, "%s", sy_last_error());
    long lost = claimed_steps(path);
    sy_status ps_ = load_one(prev, path, ps, opt, pos, records, sizeof records, &marked);
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
    return pos->done || !marked ? SY_OK : sy_records_rewind(records);
}
