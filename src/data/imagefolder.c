/* Image-folder reader: root/<class>/<image>.{png,jpg,jpeg}, decoded with
 * stb_image. Classes and files are visited in sorted name order so that the
 * same folder always gives the same dataset, whatever the file system order. */
#define _POSIX_C_SOURCE 200809L /* strdup, opendir, stat */
#include "syre/data.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <stb/stb_image.h>

typedef struct {
    char **v;
    size_t n, cap;
} strlist;

static void strlist_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int strlist_push(strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 64;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    if (!(l->v[l->n] = strdup(s)))
        return -1;
    l->n++;
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int is_image_name(const char *s)
{
    const char *dot = strrchr(s, '.');
    if (!dot)
        return 0;
    char ext[8] = {0};
    for (int i = 0; i < 7 && dot[1 + i]; i++)
        ext[i] = (char)tolower((unsigned char)dot[1 + i]);
    return !strcmp(ext, "png") || !strcmp(ext, "jpg") || !strcmp(ext, "jpeg");
}

/* Sorted entries of dir: sub-directories (want_dirs) or image files. */
static sy_status list_dir(const char *dir, int want_dirs, strlist *out)
{
    errno = 0;
    DIR *d = opendir(dir);
    if (!d)
        return sy_fail(SY_ERR_IO, "%s: cannot open directory (%s)", dir, strerror(errno));
    struct dirent *e;
    struct stat st;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        /* Relative to the open directory: no path to build or truncate. */
        if (fstatat(dirfd(d), e->d_name, &st, 0) != 0)
            continue;
        int ok = want_dirs ? S_ISDIR(st.st_mode) : (is_image_name(e->d_name) && S_ISREG(st.st_mode));
        if (ok && strlist_push(out, e->d_name) != 0) {
            closedir(d);
            strlist_free(out);
            return sy_fail(SY_ERR_NOMEM, "%s: out of memory listing the directory", dir);
        }
    }
    closedir(d);
    qsort(out->v, out->n, sizeof *out->v, cmp_str);
    return SY_OK;
}

sy_status sy_imagefolder_load(const char *dir, int channels, size_t max_per_class,
                              const char *name, sy_dataset **out)
{
    *out = NULL;
    if (channels != 1 && channels != 3)
        return sy_fail(SY_ERR_ARG, "%s: channels must be 1 or 3, got %d", dir, channels);
    strlist classes = {0};
    sy_status s = list_dir(dir, 1, &classes);
    if (s != SY_OK)
        return s;
    if (classes.n == 0) {
        strlist_free(&classes);
        return sy_fail(SY_ERR_FORMAT, "%s: no class sub-directories", dir);
    }
    /* First pass: list every class's files so the dataset is allocated once. */
    strlist *files = calloc(classes.n, sizeof *files);
    sy_dataset *d = NULL;
    char path[8192 + 512];
    size_t total = 0;
    if (!files) {
        strlist_free(&classes);
        return sy_fail(SY_ERR_NOMEM, "%s: out of memory", dir);
    }
    for (size_t c = 0; c < classes.n && s == SY_OK; c++) {
        snprintf(path, sizeof path, "%s/%s", dir, classes.v[c]);
        s = list_dir(path, 0, &files[c]);
        if (s == SY_OK && files[c].n == 0)
            s = sy_fail(SY_ERR_FORMAT, "%s: class folder holds no .png/.jpg images", path);
        if (s == SY_OK && max_per_class > 0 && files[c].n > max_per_class) {
            for (size_t i = max_per_class; i < files[c].n; i++)
                free(files[c].v[i]);
            files[c].n = max_per_class;
        }
        if (s == SY_OK)
            total += files[c].n;
    }
    /* The first image fixes the sample size; every other must match it. */
    int w0 = 0, h0 = 0;
    if (s == SY_OK) {
        int comp;
        snprintf(path, sizeof path, "%s/%s/%s", dir, classes.v[0], files[0].v[0]);
        if (!stbi_info(path, &w0, &h0, &comp))
            s = sy_fail(SY_ERR_FORMAT, "%s: unreadable image (%s)", path, stbi_failure_reason());
    }
    if (s == SY_OK)
        s = sy_dataset_new(total, sy_shape_of(3, channels, h0, w0), (int)classes.n, 0, name, &d);
    size_t plane = (size_t)w0 * h0, j = 0;
    for (size_t c = 0; c < classes.n && s == SY_OK; c++) {
        for (size_t i = 0; i < files[c].n; i++, j++) {
            snprintf(path, sizeof path, "%s/%s/%s", dir, classes.v[c], files[c].v[i]);
            int w, h, comp;
            unsigned char *img = stbi_load(path, &w, &h, &comp, channels);
            if (!img) {
                s = sy_fail(SY_ERR_FORMAT, "%s: unreadable image (%s)", path,
                            stbi_failure_reason());
                break;
            }
            if (w != w0 || h != h0) {
                stbi_image_free(img);
                s = sy_fail(SY_ERR_FORMAT, "%s: image is %dx%d, expected %dx%d like %s/%s/%s",
                            path, w, h, w0, h0, dir, classes.v[0], files[0].v[0]);
                break;
            }
            /* stb gives interleaved HWC bytes; the dataset stores CHW floats. */
            float *x = d->x + j * plane * (size_t)channels;
            for (int ch = 0; ch < channels; ch++)
                for (size_t p = 0; p < plane; p++)
                    x[ch * plane + p] = img[p * (size_t)channels + ch] * (1.0f / 255.0f);
            d->y[j] = (int)c;
            stbi_image_free(img);
        }
    }
    for (size_t c = 0; c < classes.n; c++)
        strlist_free(&files[c]);
    free(files);
    strlist_free(&classes);
    if (s != SY_OK) {
        sy_dataset_free(d);
        return s;
    }
    *out = d;
    return SY_OK;
}
