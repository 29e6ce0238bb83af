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

/* ---- Checks before stb_image sees a file ---------------------------------
 * stb_image decodes a dozen formats, chosen by content, and the system's copy
 * (Debian's 2.27) trusts some table sizes in JPEGs: fuzzing found a Huffman
 * table with more than 256 codes written past its end. So a file is read
 * whole, must be a PNG or a JPEG by its signature, a JPEG's Huffman tables
 * are checked here, and the image size is bounded before decoding. */

#define IMG_MAX_FILE (256u << 20) /* bytes of one image file */
#define IMG_MAX_SIDE 16384        /* pixels on a side */
#define IMG_MAX_PIXELS (64u << 20) /* pixels of one image */

/* Every DHT segment of a JPEG declares at most 256 codes and fits its
 * segment. Walks the marker segments the way stb_image finds them (bytes
 * between segments are skipped); entropy-coded data after SOS is skipped up
 * to the next marker. Returns NULL or what is wrong. */
static const char *jpeg_check_tables(const unsigned char *b, size_t n)
{
    size_t i = 2; /* after SOI */
    while (i + 4 <= n) {
        if (b[i] != 0xFF) { i++; continue; } /* padding between segments: stb scans on too */
        unsigned m = b[i + 1];
        if (m == 0xFF) { i++; continue; } /* fill byte */
        if (m == 0xD8 || m == 0x01 || (m >= 0xD0 && m <= 0xD7)) { i += 2; continue; }
        if (m == 0xD9) return NULL; /* EOI */
        size_t len = (size_t)b[i + 2] << 8 | b[i + 3];
        if (len < 2) return NULL;
        if (m == 0xC4) {
            /* A cut file still counts: stb reads zeros past the end. */
            size_t p = i + 4, end = i + 2 + len;
            while (p < end && p < n) {
                size_t codes = 0;
                for (size_t k = p + 1; k <= p + 16 && k < n; k++) codes += b[k];
                if (codes > 256) return "Huffman table declares more than 256 codes";
                p += 17 + codes;
            }
        }
        if (i + 2 + len > n) return NULL; /* truncated: the decoder says so */
        i += 2 + len;
        if (m == 0xDA) { /* entropy-coded data: skip to the next real marker */
            while (i + 1 < n && !(b[i] == 0xFF && b[i + 1] != 0x00 && !(b[i + 1] >= 0xD0 && b[i + 1] <= 0xD7)))
                i++;
        }
    }
    return NULL;
}

/* The bytes of an image file, checked as above; *n its size. */
static sy_status read_image_file(const char *path, unsigned char **out, size_t *n)
{
    *out = NULL;
    errno = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return sy_fail(SY_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
    long len = -1;
    if (fseek(f, 0, SEEK_END) == 0) len = ftell(f);
    if (len < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return sy_fail(SY_ERR_IO, "%s: cannot determine size", path);
    }
    if ((unsigned long)len > IMG_MAX_FILE) {
        fclose(f);
        return sy_fail(SY_ERR_FORMAT, "%s: %ld bytes, more than the %u MiB an image file may have", path, len,
                       IMG_MAX_FILE >> 20);
    }
    unsigned char *b = malloc(len > 0 ? (size_t)len : 1);
    if (!b) {
        fclose(f);
        return sy_fail(SY_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t got = fread(b, 1, (size_t)len, f);
    fclose(f);
    if (got != (size_t)len) {
        free(b);
        return sy_fail(SY_ERR_IO, "%s: read %zu of %ld bytes", path, got, len);
    }
    static const unsigned char png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
    int is_png = got >= 8 && memcmp(b, png_sig, 8) == 0;
    int is_jpeg = got >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
    const char *bad = NULL;
    if (!is_png && !is_jpeg) bad = "not a PNG or JPEG file (by its first bytes)";
    else if (is_jpeg) bad = jpeg_check_tables(b, got);
    if (bad) {
        free(b);
        return sy_fail(SY_ERR_FORMAT, "%s: unreadable image (%s)", path, bad);
    }
    int w, h, comp;
    if (!stbi_info_from_memory(b, (int)got, &w, &h, &comp)) {
        sy_status s = sy_fail(SY_ERR_FORMAT, "%s: unreadable image (%s)", path, stbi_failure_reason());
        free(b);
        return s;
    }
    if (w <= 0 || h <= 0 || w > IMG_MAX_SIDE || h > IMG_MAX_SIDE || (size_t)w * (size_t)h > IMG_MAX_PIXELS) {
        free(b);
        return sy_fail(SY_ERR_FORMAT, "%s: image of %d x %d pixels is larger than supported (%d per side, %u Mpixels)",
                       path, w, h, IMG_MAX_SIDE, IMG_MAX_PIXELS >> 20);
    }
    *out = b;
    *n = got;
    return SY_OK;
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
        unsigned char *b;
        size_t nb;
        snprintf(path, sizeof path, "%s/%s/%s", dir, classes.v[0], files[0].v[0]);
        if ((s = read_image_file(path, &b, &nb)) == SY_OK) {
            stbi_info_from_memory(b, (int)nb, &w0, &h0, &comp); /* checked by read_image_file */
            free(b);
        }
    }
    if (s == SY_OK)
        s = sy_dataset_new(total, sy_shape_of(3, channels, h0, w0), (int)classes.n, 0, name, &d);
    size_t plane = (size_t)w0 * h0, j = 0;
    for (size_t c = 0; c < classes.n && s == SY_OK; c++) {
        for (size_t i = 0; i < files[c].n; i++, j++) {
            snprintf(path, sizeof path, "%s/%s/%s", dir, classes.v[c], files[c].v[i]);
            int w, h, comp;
            unsigned char *bytes;
            size_t nb;
            if ((s = read_image_file(path, &bytes, &nb)) != SY_OK) break;
            unsigned char *img = stbi_load_from_memory(bytes, (int)nb, &w, &h, &comp, channels);
            free(bytes);
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
