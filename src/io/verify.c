/* `syre verify RUN_DIR`: reads every file of a run record back and says,
 * per file, whether it is sound: JSON records parse, CSV rows have their
 * header's columns and none is repeated, checkpoints pass the safetensors
 * checks and their crc32s, and the CSVs still hold the rows each checkpoint
 * saw. It only reads. */
#define _POSIX_C_SOURCE 200809L
#include "io_internal.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "syre/train.h"

static char *read_all(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    char *b = NULL;
    long sz = -1;
    if (fseek(f, 0, SEEK_END) == 0) sz = ftell(f);
    if (sz >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)sz + 1))) {
        *n = fread(b, 1, (size_t)sz, f);
        b[*n] = '\0';
    }
    fclose(f);
    return b;
}

static int ends_with(const char *s, const char *t)
{
    size_t a = strlen(s), b = strlen(t);
    return a >= b && !strcmp(s + a - b, t);
}

/* Fields of one CSV line (quoted fields may hold commas and "" quotes). */
static int csv_fields(const char *line, int *ok)
{
    int n = 1, q = 0;
    *ok = 1;
    for (const char *p = line; *p; p++) {
        if (*p == '"') q = !q;
        else if (*p == ',' && !q) n++;
    }
    if (q) *ok = 0;
    return n;
}

static int check_json(const char *path, char *why, size_t nw)
{
    size_t n = 0;
    char *b = read_all(path, &n);
    if (!b) return snprintf(why, nw, "cannot read: %s", strerror(errno)), 0;
    cJSON *j = cJSON_ParseWithLength(b, n);
    int ok = j && cJSON_IsObject(j);
    if (!ok) snprintf(why, nw, "not a valid JSON object (damaged or cut)");
    cJSON_Delete(j);
    free(b);
    return ok;
}

static int check_csv(const char *path, char *why, size_t nw, long *rows)
{
    size_t n = 0;
    char *b = read_all(path, &n);
    if (!b) return snprintf(why, nw, "cannot read: %s", strerror(errno)), 0;
    int ok = 1;
    *rows = 0;
    if (n == 0 || b[n - 1] != '\n') {
        snprintf(why, nw, "%s", n == 0 ? "empty" : "the last row is cut (no newline at the end)");
        ok = 0;
    }
    /* lines[] point into b; each line NUL-terminated in place */
    size_t cap = 64, nl = 0;
    char **lines = malloc(cap * sizeof *lines);
    for (char *p = b, *save = NULL, *t = lines ? strtok_r(p, "\n", &save) : NULL; t; t = strtok_r(NULL, "\n", &save)) {
        if (nl == cap) {
            char **l2 = realloc(lines, 2 * cap * sizeof *lines);
            if (!l2) break;
            lines = l2, cap *= 2;
        }
        lines[nl++] = t;
    }
    if (!lines || nl == 0) {
        if (ok) snprintf(why, nw, "no header");
        free(lines);
        free(b);
        return 0;
    }
    int qok, ncol = csv_fields(lines[0], &qok);
    for (size_t i = 1; i < nl && ok; i++) {
        int c = csv_fields(lines[i], &qok);
        if (!qok || c != ncol) {
            snprintf(why, nw, "row %zu has %d fields, the header %d", i + 1, c, ncol);
            ok = 0;
        }
    }
    /* A row written twice: two writers on one run, or steps replayed after a
     * kill without the records being rewound (training is deterministic, so
     * a replayed row is the same text). */
    for (size_t i = 1; i < nl && ok; i++)
        for (size_t k = 1; k < i && ok; k++)
            if (!strcmp(lines[i], lines[k])) {
                snprintf(why, nw, "row %zu repeats row %zu (%.60s)", i + 1, k + 1, lines[i]);
                ok = 0;
            }
    *rows = (long)nl - 1;
    free(lines);
    free(b);
    return ok;
}

/* The checkpoint's "records" (CSV byte lengths when it was written) against
 * the CSVs now: shorter means rows the checkpoint saw are gone. */
static int check_records(const char *dir, const char *marks, char *why, size_t nw)
{
    for (const char *p = marks; p && *p;) {
        const char *eq = strchr(p, '='), *semi = eq ? strchr(eq, ';') : NULL;
        if (!eq || !semi || eq - p > 255) break;
        char name[256], path[4200];
        snprintf(name, sizeof name, "%.*s", (int)(eq - p), p);
        long long want = atoll(eq + 1);
        snprintf(path, sizeof path, "%s/%s", dir, name);
        struct stat sb;
        if (stat(path, &sb) != 0 || (long long)sb.st_size < want) {
            snprintf(why, nw, "%s has %lld bytes, but held %lld when this checkpoint was written: rows were lost", name,
                     stat(path, &sb) != 0 ? 0LL : (long long)sb.st_size, want);
            return 0;
        }
        p = semi + 1;
    }
    return 1;
}

static int check_ckpt(const char *dir, const char *path, char *note, size_t nn, char *why, size_t nw)
{
    sy_safetensors *st = NULL;
    if (sy_safetensors_read(path, &st) != SY_OK) {
        snprintf(why, nw, "%s", sy_last_error());
        return 0;
    }
    if (!check_records(dir, sy_safetensors_meta(st, "records"), why, nw)) {
        sy_safetensors_free(st);
        return 0;
    }
    int crcs = 0;
    for (int i = 0; i < sy_safetensors_meta_count(st); i++)
        crcs += !strncmp(sy_safetensors_meta_key(st, i), "crc32:", 6);
    const char *ep = sy_safetensors_meta(st, "epoch"), *steps = sy_safetensors_meta(st, "optimizer_steps");
    const char *done = sy_safetensors_meta(st, "done");
    if (ep && steps)
        snprintf(note, nn, "%d tensors, %s; epoch/step %s, optimizer step %s%s", sy_safetensors_count(st),
                 crcs ? "crc32 verified" : "no checksums (written by an older syre)", ep, steps,
                 done && !strcmp(done, "1") ? ", finished" : "");
    else
        snprintf(note, nn, "%d tensors, %s; not a training checkpoint", sy_safetensors_count(st),
                 crcs ? "crc32 verified" : "no checksums");
    sy_safetensors_free(st);
    return 1;
}

static int cmp_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int sy_run_verify(const char *dir, FILE *out)
{
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) {
        fprintf(out, "syre verify: %s is not a directory\n", dir);
        return -1;
    }
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(out, "syre verify: cannot open %s: %s\n", dir, strerror(errno));
        return -1;
    }
    char **names = NULL;
    size_t nn = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char **n2 = realloc(names, (nn + 1) * sizeof *names);
        if (!n2) break;
        names = n2;
        names[nn] = malloc(strlen(e->d_name) + 1);
        if (names[nn]) strcpy(names[nn++], e->d_name);
    }
    closedir(d);
    qsort(names, nn, sizeof *names, cmp_name);
    int problems = 0, files = 0, have_config = 0;
    char path[4200], why[1400], note[300];
    for (size_t i = 0; i < nn; i++) {
        const char *f = names[i];
        snprintf(path, sizeof path, "%s/%s", dir, f);
        int ok = -1;
        why[0] = note[0] = '\0';
        if (ends_with(f, ".json")) {
            ok = check_json(path, why, sizeof why);
            have_config |= !strcmp(f, "config.json");
        } else if (ends_with(f, ".csv")) {
            long rows = 0;
            ok = check_csv(path, why, sizeof why, &rows);
            snprintf(note, sizeof note, "%ld rows", rows);
        } else if (ends_with(f, ".safetensors")) {
            ok = check_ckpt(dir, path, note, sizeof note, why, sizeof why);
        } else if (ends_with(f, ".tmp")) {
            fprintf(out, "  note     %s: a write that was interrupted (harmless; the file it was for is whole)\n", f);
        } else if (!strcmp(f, "run.lock")) {
            int fd = open(path, O_RDONLY | O_CLOEXEC);
            struct flock fl;
            memset(&fl, 0, sizeof fl);
            fl.l_type = F_RDLCK;
            fl.l_whence = SEEK_SET;
            if (fd >= 0 && fcntl(fd, F_GETLK, &fl) == 0 && fl.l_type != F_UNLCK)
                fprintf(out, "  note     run.lock: the run is in use by pid %ld; its files may be changing\n",
                        (long)fl.l_pid);
            if (fd >= 0) close(fd);
        }
        if (ok < 0) continue;
        files++;
        if (ok)
            fprintf(out, "  ok       %s%s%s\n", f, note[0] ? ": " : "", note);
        else {
            problems++;
            fprintf(out, "  DAMAGED  %s: %s\n", f, why);
            if (ends_with(f, ".safetensors") && !strstr(f, ".prev.")) {
                char prev[4200];
                sy_train_prev_path(path, prev, sizeof prev);
                if (access(prev, F_OK) == 0)
                    fprintf(out, "           (--resume falls back to %s if that one is sound)\n", strrchr(prev, '/') + 1);
            }
        }
    }
    if (!have_config) {
        problems++;
        fprintf(out, "  MISSING  config.json: not a run record, or its start was cut short\n");
    }
    for (size_t i = 0; i < nn; i++) free(names[i]);
    free(names);
    if (problems)
        fprintf(out, "verdict: %d problem%s in %s (%d files checked)\n", problems, problems > 1 ? "s" : "", dir, files);
    else
        fprintf(out, "verdict: sound (%d files checked in %s)\n", files, dir);
    return problems;
}
