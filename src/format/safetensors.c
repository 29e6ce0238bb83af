/* Checkpoints in the safetensors format (F32 only). The reader trusts
 * nothing in the file: every length and offset is checked against the file
 * size before use, so a damaged checkpoint gives a message, not a crash.
 * The writer records a crc32 of every tensor's bytes and one of the other
 * metadata in __metadata__ ("crc32:<name>", "crc32:__metadata__": 8 hex
 * digits), which the reader verifies; the file stays plain safetensors.
 * Assumes a little-endian host (as the format's data section is). */
#define _POSIX_C_SOURCE 200809L
#include "syre/format.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define ST_MAX_HEADER (100u << 20) /* the reference implementation's limit */

struct sy_safetensors {
    int n;
    char **names;
    sy_shape *shapes;
    float **data;
    int nmeta;
    char **meta_keys, **meta_values;
};

#define CRC_PREFIX "crc32:"
#define CRC_META CRC_PREFIX "__metadata__"

/* crc32 of n bytes (zlib takes at most UINT_MAX at a time). */
static uint32_t crc_bytes(uint32_t c, const void *p, uint64_t n)
{
    const unsigned char *b = p;
    while (n > 0) {
        uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
        c = (uint32_t)crc32(c, b, k);
        b += k;
        n -= k;
    }
    return c;
}

/* The metadata checksum: every key and value but the checksums themselves,
 * in file order, each followed by a NUL. */
static uint32_t crc_meta(int n, const char *const *keys, const char *const *values)
{
    uint32_t c = (uint32_t)crc32(0, NULL, 0);
    for (int i = 0; i < n; i++) {
        if (!strncmp(keys[i], CRC_PREFIX, strlen(CRC_PREFIX))) continue;
        c = crc_bytes(c, keys[i], strlen(keys[i]) + 1);
        c = crc_bytes(c, values[i], strlen(values[i]) + 1);
    }
    return c;
}

/* ---- Writing ------------------------------------------------------------ */

sy_status sy_safetensors_write(const char *path, const sy_st_tensor *tensors, int n,
                               const sy_st_meta *meta, int nmeta)
{
    if (n < 0 || nmeta < 0 || (n > 0 && !tensors))
        return sy_fail(SY_ERR_ARG, "%s: invalid tensor list", path);
    cJSON *root = cJSON_CreateObject();
    if (!root) return sy_fail(SY_ERR_NOMEM, "%s: out of memory", path);
    sy_status s = SY_OK;
    cJSON *m = cJSON_AddObjectToObject(root, "__metadata__");
    const char **mk = calloc((size_t)nmeta + 1, sizeof *mk), **mv = calloc((size_t)nmeta + 1, sizeof *mv);
    if (!m || !mk || !mv) s = sy_fail(SY_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < nmeta && s == SY_OK; i++) {
        if (!meta[i].key || !strncmp(meta[i].key, CRC_PREFIX, strlen(CRC_PREFIX)))
            s = sy_fail(SY_ERR_ARG, "%s: metadata key '%s' is reserved", path, meta[i].key ? meta[i].key : "(null)");
        mk[i] = meta[i].key;
        mv[i] = meta[i].value ? meta[i].value : "";
        cJSON_AddStringToObject(m, mk[i], mv[i]);
    }
    char hex[16];
    if (s == SY_OK) {
        snprintf(hex, sizeof hex, "%08x", (unsigned)crc_meta(nmeta, mk, mv));
        cJSON_AddStringToObject(m, CRC_META, hex);
    }
    free(mk);
    free(mv);
    uint64_t off = 0;
    for (int i = 0; i < n && s == SY_OK; i++) {
        const sy_st_tensor *t = &tensors[i];
        if (!t->name || !*t->name || strcmp(t->name, "__metadata__") == 0)
            s = sy_fail(SY_ERR_ARG, "%s: tensor %d has an invalid name", path, i);
        else if (cJSON_GetObjectItemCaseSensitive(root, t->name))
            s = sy_fail(SY_ERR_ARG, "%s: duplicate tensor name '%s'", path, t->name);
        else if (t->shape.ndim < 0 || t->shape.ndim > SY_MAX_DIMS)
            s = sy_fail(SY_ERR_ARG, "%s: tensor '%s' has %d dimensions", path, t->name, t->shape.ndim);
        if (s != SY_OK) break;
        uint64_t bytes = (uint64_t)sy_shape_numel(t->shape) * 4;
        if (bytes > 0 && !t->data) {
            s = sy_fail(SY_ERR_ARG, "%s: tensor '%s' has no data", path, t->name);
            break;
        }
        cJSON *o = cJSON_AddObjectToObject(root, t->name);
        cJSON_AddStringToObject(o, "dtype", "F32");
        cJSON *shape = cJSON_AddArrayToObject(o, "shape");
        for (int d = 0; d < t->shape.ndim; d++)
            cJSON_AddItemToArray(shape, cJSON_CreateNumber(t->shape.dim[d]));
        cJSON *offs = cJSON_AddArrayToObject(o, "data_offsets");
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)off));
        cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(off + bytes)));
        off += bytes;
        char key[512];
        if (strlen(t->name) + sizeof CRC_PREFIX > sizeof key) {
            s = sy_fail(SY_ERR_ARG, "%s: tensor name '%.40s...' is too long", path, t->name);
            break;
        }
        snprintf(key, sizeof key, CRC_PREFIX "%s", t->name);
        snprintf(hex, sizeof hex, "%08x", (unsigned)crc_bytes((uint32_t)crc32(0, NULL, 0), t->data, bytes));
        cJSON_AddStringToObject(m, key, hex);
    }
    char *hdr = s == SY_OK ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (s != SY_OK) return s;
    if (!hdr) return sy_fail(SY_ERR_NOMEM, "%s: out of memory", path);
    /* Pad the header with spaces so the data starts 8-byte aligned. */
    size_t hlen = strlen(hdr), padded = (hlen + 7) / 8 * 8;
    size_t total = 8 + padded + (size_t)off;
    unsigned char *buf = malloc(total);
    if (!buf) {
        free(hdr);
        return sy_fail(SY_ERR_NOMEM, "%s: out of memory (%zu bytes)", path, total);
    }
    for (int b = 0; b < 8; b++) buf[b] = (unsigned char)((uint64_t)padded >> (8 * b));
    memcpy(buf + 8, hdr, hlen);
    memset(buf + 8 + hlen, ' ', padded - hlen);
    free(hdr);
    unsigned char *p = buf + 8 + padded;
    for (int i = 0; i < n; i++) {
        size_t bytes = sy_shape_numel(tensors[i].shape) * 4;
        if (bytes) memcpy(p, tensors[i].data, bytes);
        p += bytes;
    }
    s = sy_write_file_atomic(path, buf, total);
    free(buf);
    return s;
}

/* ---- Reading ------------------------------------------------------------ */

void sy_safetensors_free(sy_safetensors *st)
{
    if (!st) return;
    for (int i = 0; i < st->n; i++) {
        free(st->names[i]);
        free(st->data[i]);
    }
    for (int i = 0; i < st->nmeta; i++) {
        free(st->meta_keys[i]);
        free(st->meta_values[i]);
    }
    free(st->names);
    free(st->shapes);
    free(st->data);
    free(st->meta_keys);
    free(st->meta_values);
    free(st);
}

/* A JSON number that is an exact non-negative integer below 2^53. */
static int json_uint(const cJSON *j, uint64_t *v)
{
    if (!cJSON_IsNumber(j)) return 0;
    double d = j->valuedouble;
    if (!(d >= 0 && d <= 9007199254740992.0) || d != (double)(uint64_t)d) return 0;
    *v = (uint64_t)d;
    return 1;
}

typedef struct {
    uint64_t begin, end;
    int index;
    uint32_t crc; /* of the tensor's bytes as read */
} st_range;

static int cmp_range(const void *a, const void *b)
{
    const st_range *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin ? 1 : (x->end < y->end ? -1 : x->end > y->end);
}

static char *dupstr(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

sy_status sy_safetensors_read(const char *path, sy_safetensors **out)
{
    *out = NULL;
    FILE *f = sy_fopen_regular(path, "rb");
    if (!f) return sy_fail(SY_ERR_IO, "checkpoint %s", sy_last_error());
    unsigned char *buf = NULL;
    cJSON *root = NULL;
    sy_safetensors *st = NULL;
    st_range *ranges = NULL;
    sy_status s = SY_OK;
    long fsize = -1;
    if (fseek(f, 0, SEEK_END) == 0) fsize = ftell(f);
    if (fsize < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return sy_fail(SY_ERR_IO, "cannot read checkpoint %s: not a seekable file", path);
    }
    if (fsize < 8) {
        fclose(f);
        return sy_fail(SY_ERR_FORMAT, "%s: truncated safetensors file (%ld bytes, need at least 8 for the header length)", path, fsize);
    }
    buf = malloc((size_t)fsize + 1);
    if (!buf) {
        fclose(f);
        return sy_fail(SY_ERR_NOMEM, "%s: cannot allocate %ld bytes", path, fsize);
    }
    size_t got = fread(buf, 1, (size_t)fsize, f);
    fclose(f);
    if (got != (size_t)fsize) {
        free(buf);
        return sy_fail(SY_ERR_IO, "%s: read %zu of %ld bytes", path, got, fsize);
    }
    uint64_t hlen = 0;
    for (int b = 0; b < 8; b++) hlen |= (uint64_t)buf[b] << (8 * b);
    if (hlen > (uint64_t)fsize - 8) {
        s = sy_fail(SY_ERR_FORMAT, "%s: header length %llu exceeds the file size (%ld bytes): truncated or not a safetensors file",
                    path, (unsigned long long)hlen, fsize);
        goto done;
    }
    if (hlen > ST_MAX_HEADER) {
        s = sy_fail(SY_ERR_FORMAT, "%s: header length %llu is implausibly large", path, (unsigned long long)hlen);
        goto done;
    }
    if (hlen < 2 || buf[8] != '{') {
        s = sy_fail(SY_ERR_FORMAT, "%s: header is not a JSON object", path);
        goto done;
    }
    char saved = (char)buf[8 + hlen];
    buf[8 + hlen] = '\0';
    const char *jend = NULL;
    root = cJSON_ParseWithLengthOpts((const char *)buf + 8, (size_t)hlen, &jend, 0);
    buf[8 + hlen] = (unsigned char)saved;
    if (!root || !cJSON_IsObject(root)) {
        s = sy_fail(SY_ERR_FORMAT, "%s: header is not valid JSON", path);
        goto done;
    }
    /* What follows the JSON object is padding: whitespace only. */
    for (const char *q = jend; q && q < (const char *)buf + 8 + hlen; q++)
        if (*q != ' ' && *q != '\t' && *q != '\n' && *q != '\r') {
            s = sy_fail(SY_ERR_FORMAT, "%s: byte %llu of the header is 0x%02x after the JSON object (only spaces may pad it)",
                        path, (unsigned long long)(q - (const char *)buf), (unsigned)(unsigned char)*q);
            goto done;
        }
    const unsigned char *data = buf + 8 + hlen;
    uint64_t dsize = (uint64_t)fsize - 8 - hlen;

    st = calloc(1, sizeof *st);
    int count = cJSON_GetArraySize(root);
    if (!st) goto nomem;
    st->names = calloc((size_t)count + 1, sizeof *st->names);
    st->shapes = calloc((size_t)count + 1, sizeof *st->shapes);
    st->data = calloc((size_t)count + 1, sizeof *st->data);
    int mcap = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "__metadata__"));
    st->meta_keys = calloc((size_t)mcap + 1, sizeof *st->meta_keys);
    st->meta_values = calloc((size_t)mcap + 1, sizeof *st->meta_values);
    ranges = calloc((size_t)count + 1, sizeof *ranges);
    if (!st->names || !st->shapes || !st->data || !st->meta_keys || !st->meta_values || !ranges)
        goto nomem;

    const cJSON *it;
    cJSON_ArrayForEach(it, root) {
        const char *name = it->string;
        if (strcmp(name, "__metadata__") == 0) {
            if (!cJSON_IsObject(it)) {
                s = sy_fail(SY_ERR_FORMAT, "%s: __metadata__ is not an object", path);
                goto done;
            }
            const cJSON *m;
            cJSON_ArrayForEach(m, it) {
                if (!cJSON_IsString(m)) {
                    s = sy_fail(SY_ERR_FORMAT, "%s: metadata '%s' is not a string", path, m->string);
                    goto done;
                }
                int k = st->nmeta;
                if (k >= mcap) break;
                st->meta_keys[k] = dupstr(m->string);
                st->meta_values[k] = dupstr(m->valuestring);
                st->nmeta++;
                if (!st->meta_keys[k] || !st->meta_values[k]) goto nomem;
            }
            continue;
        }
        for (int j = 0; j < st->n; j++)
            if (strcmp(st->names[j], name) == 0) {
                s = sy_fail(SY_ERR_FORMAT, "%s: tensor '%s' appears twice", path, name);
                goto done;
            }
        if (!cJSON_IsObject(it)) {
            s = sy_fail(SY_ERR_FORMAT, "%s: entry '%s' is not an object", path, name);
            goto done;
        }
        const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(it, "dtype");
        const cJSON *shape = cJSON_GetObjectItemCaseSensitive(it, "shape");
        const cJSON *offs = cJSON_GetObjectItemCaseSensitive(it, "data_offsets");
        if (!cJSON_IsString(dtype)) {
            s = sy_fail(SY_ERR_FORMAT, "%s: tensor '%s' has no dtype", path, name);
            goto done;
        }
        if (strcmp(dtype->valuestring, "F32") != 0) {
            s = sy_fail(SY_ERR_FORMAT, "%s: tensor '%s' has dtype %s, only F32 is supported", path, name, dtype->valuestring);
            goto done;
        }
        if (!cJSON_IsArray(shape) || cJSON_GetArraySize(shape) > SY_MAX_DIMS) {
            s = sy_fail(SY_ERR_FORMAT, "%s: tensor '%s' has a missing shape or more than %d dimensions", path, name, SY_MAX_DIMS);
            goto done;
        }
        sy_shape sh = {0, {1, 1, 1, 1}};
        uint64_t numel = 1;
        const cJSON *d;
        cJSON_ArrayForEach(d, shape) {
            uint64_t v;
            if (!json_uint(d, &v) || v > 0x7fffffff) {
                s = sy_fail(SY_ERR_FORMAT, "%s: tensor '%s' has an invalid shape entry", path, name);
                goto done;
            }
            sh.dim[sh.ndim++] = (int)v;
            numel *= v;
            if (numel > dsize) numel = dsize + 1; /* saturate; caught below */
        }
        uint64_t b0, b1;
        if (!cJSON_IsArray(offs) || cJSON_GetArraySize(offs) != 2 ||
            !json_uint(cJSON_GetArrayItem(offs, 0), &b0) || !json_uint(cJSON_GetArrayItem(offs, 1), &b1)) {
            s = sy_fail(SY_ERR_FORMAT, "%s: tensor '%s' has invalid data_offsets", path, name);
            goto done;
        }
        if (b1 < b0 || b1 > dsize) {
            s = sy_fail(SY_ERR_FORMAT, "%s: tensor '%s' has data_offsets [%llu, %llu] outside the data section (%llu bytes)",
                        path, name, (unsigned long long)b0, (unsigned long long)b1, (unsigned long long)dsize);
            goto done;
        }
        if (b1 - b0 != numel * 4) {
            s = sy_fail(SY_ERR_FORMAT, "%s: tensor '%s' has shape of %llu floats but data_offsets span %llu bytes",
                        path, name, (unsigned long long)numel, (unsigned long long)(b1 - b0));
            goto done;
        }
        int k = st->n++;
        st->names[k] = dupstr(name);
        st->shapes[k] = sh;
        st->data[k] = malloc(numel ? numel * 4 : 4);
        if (!st->names[k] || !st->data[k]) goto nomem;
        if (numel) memcpy(st->data[k], data + b0, numel * 4);
        ranges[k] = (st_range){b0, b1, k, crc_bytes((uint32_t)crc32(0, NULL, 0), data + b0, numel * 4)};
    }
    /* Checksums: a file with any "crc32:" key must have them all, and they
     * must match (a file without any, from an older syre or another writer,
     * is accepted on its structure alone). */
    int checked = 0;
    for (int i = 0; i < st->nmeta; i++) checked |= !strncmp(st->meta_keys[i], CRC_PREFIX, strlen(CRC_PREFIX));
    if (checked) {
        const char *want = sy_safetensors_meta(st, CRC_META);
        char hex[16];
        snprintf(hex, sizeof hex, "%08x",
                 (unsigned)crc_meta(st->nmeta, (const char *const *)st->meta_keys, (const char *const *)st->meta_values));
        if (!want || strcmp(want, hex) != 0) {
            s = sy_fail(SY_ERR_FORMAT, "%s: the metadata (run state) %s its crc32 check (stored %s, computed %s): the "
                        "header is damaged", path, want ? "fails" : "lacks", want ? want : "none", hex);
            goto done;
        }
        for (int k = 0; k < st->n; k++) {
            char key[512];
            snprintf(key, sizeof key, CRC_PREFIX "%s", st->names[ranges[k].index]);
            const char *v = sy_safetensors_meta(st, key);
            snprintf(hex, sizeof hex, "%08x", (unsigned)ranges[k].crc);
            if (!v || strcmp(v, hex) != 0) {
                s = sy_fail(SY_ERR_FORMAT, "%s: tensor '%s' (%llu bytes at file offset %llu) %s its crc32 check "
                            "(stored %s, computed %s): the file is damaged", path, st->names[ranges[k].index],
                            (unsigned long long)(ranges[k].end - ranges[k].begin),
                            (unsigned long long)(8 + hlen + ranges[k].begin), v ? "fails" : "lacks", v ? v : "none", hex);
                goto done;
            }
        }
        for (int i = 0; i < st->nmeta; i++) {
            const char *key = st->meta_keys[i];
            if (strncmp(key, CRC_PREFIX, strlen(CRC_PREFIX)) || !strcmp(key, CRC_META)) continue;
            if (sy_safetensors_find(st, key + strlen(CRC_PREFIX)) < 0) {
                s = sy_fail(SY_ERR_FORMAT, "%s: checksum '%s' names no tensor: the header is damaged", path, key);
                goto done;
            }
        }
    }
    /* Tensors must tile the data section exactly: no overlap, no gaps. */
    qsort(ranges, (size_t)st->n, sizeof *ranges, cmp_range);
    uint64_t pos = 0;
    for (int k = 0; k < st->n; k++) {
        if (ranges[k].begin < pos) {
            s = sy_fail(SY_ERR_FORMAT, "%s: tensors '%s' and '%s' overlap", path,
                        st->names[ranges[k - 1].index], st->names[ranges[k].index]);
            goto done;
        }
        if (ranges[k].begin > pos) {
            s = sy_fail(SY_ERR_FORMAT, "%s: %llu unused bytes before tensor '%s'", path,
                        (unsigned long long)(ranges[k].begin - pos), st->names[ranges[k].index]);
            goto done;
        }
        pos = ranges[k].end;
    }
    if (pos != dsize) {
        s = sy_fail(SY_ERR_FORMAT, "%s: data section has %llu bytes but the tensors cover %llu", path,
                    (unsigned long long)dsize, (unsigned long long)pos);
        goto done;
    }
    /* Present tensors in offset order (the order they were written). */
    {
        char **nn = malloc(sizeof *nn * ((size_t)st->n + 1));
        sy_shape *ns = malloc(sizeof *ns * ((size_t)st->n + 1));
        float **nd = malloc(sizeof *nd * ((size_t)st->n + 1));
        if (!nn || !ns || !nd) {
            free(nn);
            free(ns);
            free(nd);
            goto nomem;
        }
        for (int k = 0; k < st->n; k++) {
            nn[k] = st->names[ranges[k].index];
            ns[k] = st->shapes[ranges[k].index];
            nd[k] = st->data[ranges[k].index];
        }
        free(st->names);
        free(st->shapes);
        free(st->data);
        st->names = nn;
        st->shapes = ns;
        st->data = nd;
    }
    goto done;
nomem:
    s = sy_fail(SY_ERR_NOMEM, "%s: out of memory while reading", path);
done:
    free(ranges);
    cJSON_Delete(root);
    free(buf);
    if (s != SY_OK) {
        sy_safetensors_free(st);
        return s;
    }
    *out = st;
    return SY_OK;
}

int sy_safetensors_count(const sy_safetensors *st) { return st ? st->n : 0; }

int sy_safetensors_find(const sy_safetensors *st, const char *name)
{
    for (int i = 0; st && i < st->n; i++)
        if (strcmp(st->names[i], name) == 0) return i;
    return -1;
}

const char *sy_safetensors_name(const sy_safetensors *st, int i)
{
    return (st && i >= 0 && i < st->n) ? st->names[i] : NULL;
}

sy_shape sy_safetensors_shape(const sy_safetensors *st, int i)
{
    sy_shape none = {0, {1, 1, 1, 1}};
    return (st && i >= 0 && i < st->n) ? st->shapes[i] : none;
}

const float *sy_safetensors_data(const sy_safetensors *st, int i)
{
    return (st && i >= 0 && i < st->n) ? st->data[i] : NULL;
}

const char *sy_safetensors_meta(const sy_safetensors *st, const char *key)
{
    for (int i = 0; st && i < st->nmeta; i++)
        if (strcmp(st->meta_keys[i], key) == 0) return st->meta_values[i];
    return NULL;
}

int sy_safetensors_meta_count(const sy_safetensors *st) { return st ? st->nmeta : 0; }

const char *sy_safetensors_meta_key(const sy_safetensors *st, int i)
{
    return (st && i >= 0 && i < st->nmeta) ? st->meta_keys[i] : NULL;
}

/* ---- Parameter stores ------------------------------------------------------- */

sy_status sy_checkpoint_save_params(const char *path, sy_params *ps,
                                    const sy_st_tensor *extra, int nextra,
                                    const sy_st_meta *meta, int nmeta)
{
    if (!ps || !sy_params_is_laid_out(ps))
        return sy_fail(SY_ERR_STATE, "%s: parameter store is not laid out yet", path);
    const float *p;
    sy_status s = sy_params_read(ps, &p);
    if (s != SY_OK) return s;
    int np = sy_params_count(ps);
    sy_st_tensor *t = malloc(sizeof *t * ((size_t)np + (size_t)(nextra > 0 ? nextra : 0) + 1));
    if (!t) return sy_fail(SY_ERR_NOMEM, "%s: out of memory", path);
    for (int i = 0; i < np; i++) {
        const sy_param_info *info = sy_params_info(ps, i);
        t[i] = (sy_st_tensor){info->name, info->shape, p + info->offset};
    }
    for (int i = 0; i < nextra; i++) t[np + i] = extra[i];
    s = sy_safetensors_write(path, t, np + (nextra > 0 ? nextra : 0), meta, nmeta);
    free(t);
    return s;
}

sy_status sy_checkpoint_load_params(const char *path, sy_params *ps, sy_safetensors **rest)
{
    if (rest) *rest = NULL;
    if (!ps || !sy_params_is_laid_out(ps))
        return sy_fail(SY_ERR_STATE, "%s: parameter store is not laid out yet", path);
    sy_safetensors *st;
    sy_status s = sy_safetensors_read(path, &st);
    if (s != SY_OK) return s;
    int np = sy_params_count(ps);
    /* Check everything before changing anything, so a bad file leaves the store as it was. */
    for (int i = 0; i < np && s == SY_OK; i++) {
        const sy_param_info *info = sy_params_info(ps, i);
        int k = sy_safetensors_find(st, info->name);
        char a[64], b[64];
        if (k < 0)
            s = sy_fail(SY_ERR_FORMAT, "%s: no tensor '%s' in the checkpoint", path, info->name);
        else if (sy_shape_numel(st->shapes[k]) != info->numel || !sy_shape_equal(st->shapes[k], info->shape))
            s = sy_fail(SY_ERR_SHAPE, "%s: tensor '%s' has shape %s in the checkpoint but %s in the model",
                        path, info->name, sy_shape_str(st->shapes[k], a), sy_shape_str(info->shape, b));
    }
    float *p;
    if (s == SY_OK) s = sy_params_write(ps, &p);
    for (int i = 0; i < np && s == SY_OK; i++) {
        const sy_param_info *info = sy_params_info(ps, i);
        int k = sy_safetensors_find(st, info->name);
        memcpy(p + info->offset, st->data[k], info->numel * sizeof(float));
    }
    if (s == SY_OK && rest)
        *rest = st;
    else
        sy_safetensors_free(st);
    return s;
}
