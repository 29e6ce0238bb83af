/* Training-state checkpoints on top of the safetensors writer: parameters,
 * optimizer arrays and counters, and the run position as metadata. */
#include "syre/train.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/numeric.h"
#include "syre/io.h"

#define MAX_STATE 8

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
    char v[6][40];
    snprintf(v[0], sizeof v[0], "%" PRId64, pos->epoch);
    snprintf(v[1], sizeof v[1], "%" PRId64, pos->batch);
    snprintf(v[2], sizeof v[2], "%" PRId64, pos->graph_step);
    snprintf(v[3], sizeof v[3], "%ld", opt ? sy_optimizer_steps(opt) : 0L);
    snprintf(v[4], sizeof v[4], "%d", pos->done);
    snprintf(v[5], sizeof v[5], "%.17g", pos->loss_sum); /* round-trips exactly */
    sy_st_meta meta[6] = {{"epoch", v[0]}, {"batch", v[1]}, {"graph_step", v[2]}, {"optimizer_steps", v[3]},
                          {"done", v[4]}, {"loss_sum", v[5]}};
    sy_status s = sy_checkpoint_save_params(path, ps, extra, ns, meta, 6);
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

sy_status sy_train_load(const char *path, sy_params *ps, sy_optimizer *opt, sy_train_pos *pos)
{
    if (access(path, F_OK) != 0) return sy_fail(SY_ERR_IO, "no checkpoint at %s", path);
    sy_safetensors *st = NULL;
    sy_status s = sy_safetensors_read(path, &st);
    if (s) return s;
    /* Validate everything before touching the store or the optimizer. */
    int64_t v[5] = {0};
    const char *keys[5] = {"epoch", "batch", "graph_step", "optimizer_steps", "done"};
    for (int i = 0; i < 5 && !s; i++) s = meta_int(st, path, keys[i], &v[i]);
    double loss_sum = 0; /* absent from older checkpoints, which stop only at epoch ends */
    const char *ls = sy_safetensors_meta(st, "loss_sum");
    if (!s && ls) {
        char *end;
        loss_sum = strtod(ls, &end);
        if (!*ls || *end) s = sy_fail(SY_ERR_FORMAT, "%s: metadata 'loss_sum' = '%s' is not a number", path, ls);
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
    if ((s = sy_checkpoint_load_params(path, ps, &st))) return s;
    for (int k = 0; k < ns; k++) memcpy(sy_optimizer_state(opt, k), sy_safetensors_data(st, idx[k]), n * sizeof(float));
    sy_safetensors_free(st);
    if (opt) sy_optimizer_set_steps(opt, (long)v[3]);
    pos->epoch = v[0];
    pos->batch = v[1];
    pos->graph_step = v[2];
    pos->done = (int)v[4];
    pos->loss_sum = loss_sum;
    return SY_OK;
}
