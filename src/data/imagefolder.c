/* Image-folder reader: root/<class>/<image>.{png,jpg,jpeg}, decoded with
 * libjpeg-turbo (JPEG) and libpng (PNG). Classes and files are visited in sorted name order so that the
 * same folder always gives the same dataset, whatever the file system order. */
#define _POSIX_C_SOURCE 200809L /* strdup, opendir, stat */
#include "syre/data.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/stat.h>

#include <jpeglib.h>
#include <jerror.h>
#include <png.h>

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

/* ---- Reading and decoding one image -------------------------------------
 * A file is read whole and must be a PNG or a JPEG by its signature; JPEGs
 * are decoded with libjpeg (libjpeg-turbo), PNGs with libpng's simplified
 * API. Both are kept up and fuzzed upstream (OSS-Fuzz). The image size is
 * bounded from the header, before any pixel memory is allocated, and a JPEG
 * with a damaged entropy-coded stream (libjpeg's "corrupt data" warnings) is
 * refused rather than decoded into grey filler. */

#define IMG_MAX_FILE (256u << 20) /* bytes of one image file */
#define IMG_MAX_SIDE 16384        /* pixels on a side */
#define IMG_MAX_PIXELS (64u << 20) /* pixels of one image */
#define IMG_MAX_SCANS 500         /* progressive JPEG scans (a real file has ~10) */

/* The bytes of an image file; *n its size, *is_png its kind by signature. */
static sy_status read_image_file(const char *path, unsigned char **out, size_t *n, int *is_png)
{
    *out = NULL;
    FILE *f = sy_fopen_regular(path, "rb");
    if (!f) return SY_ERR_IO;
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
    int png = got >= 8 && memcmp(b, png_sig, 8) == 0;
    int jpeg = got >= 3 && b[0] == 0xFF && b[1] == 0xD8 && b[2] == 0xFF;
    if (!png && !jpeg) {
        free(b);
        return sy_fail(SY_ERR_FORMAT, "%s: unreadable image (not a PNG or JPEG file by its first bytes)", path);
    }
    *out = b;
    *n = got;
    *is_png = png;
    return SY_OK;
}

static sy_status check_size(const char *path, long w, long h)
{
    if (w <= 0 || h <= 0 || w > IMG_MAX_SIDE || h > IMG_MAX_SIDE || (size_t)w * (size_t)h > IMG_MAX_PIXELS)
        return sy_fail(SY_ERR_FORMAT, "%s: image of %ld x %ld pixels is larger than supported (%d per side, %u Mpixels)",
                       path, w, h, IMG_MAX_SIDE, IMG_MAX_PIXELS >> 20);
    return SY_OK;
}

/* libjpeg reports errors through its error manager, whose default prints and
 * exits: this one keeps the message and jumps back to decode_jpeg. Warnings
 * about damaged data (corrupt or missing entropy-coded data, junk between
 * segments, a file cut short) are errors here too: libjpeg would go on and
 * fill the rest with grey. Other warnings (an unknown JFIF revision, say)
 * are about metadata only and ignored. */
typedef struct {
    struct jpeg_error_mgr pub;
    jmp_buf jump;
    char msg[JMSG_LENGTH_MAX];
} jpeg_err;

static void jpeg_on_error(j_common_ptr cinfo)
{
    jpeg_err *e = (jpeg_err *)cinfo->err;
    e->pub.format_message(cinfo, e->msg);
    longjmp(e->jump, 1);
}

static void jpeg_on_message(j_common_ptr cinfo, int level)
{
    if (level >= 0) return; /* trace output */
    switch (cinfo->err->msg_code) {
    case JWRN_ARITH_BAD_CODE:
    case JWRN_BOGUS_PROGRESSION:
    case JWRN_EXTRANEOUS_DATA:
    case JWRN_HIT_MARKER:
    case JWRN_HUFF_BAD_CODE:
    case JWRN_JPEG_EOF:
    case JWRN_MUST_RESYNC:
    case JWRN_NOT_SEQUENTIAL:
        jpeg_on_error(cinfo);
        break;
    default:
        break;
    }
}

/* Progressive files can hold thousands of tiny scans, each a pass over the
 * whole coefficient buffer: a few hundred bytes then take minutes. */
static void jpeg_on_progress(j_common_ptr cinfo)
{
    j_decompress_ptr d = (j_decompress_ptr)cinfo;
    if (d->input_scan_number > IMG_MAX_SCANS) {
        jpeg_err *e = (jpeg_err *)cinfo->err;
        snprintf(e->msg, sizeof e->msg, "more than %d progressive scans", IMG_MAX_SCANS);
        longjmp(e->jump, 1);
    }
}

/* Decodes a JPEG into interleaved bytes of `channels` (1: luma, 3: RGB).
 * With out NULL only the size is read. */
static sy_status decode_jpeg(const char *path, const unsigned char *b, size_t n, int channels,
                             int *w, int *h, unsigned char **out)
{
    struct jpeg_decompress_struct cinfo;
    struct jpeg_progress_mgr progress = {.progress_monitor = jpeg_on_progress};
    jpeg_err err;
    unsigned char *volatile img = NULL;
    memset(&cinfo, 0, sizeof cinfo);
    cinfo.err = jpeg_std_error(&err.pub);
    err.pub.error_exit = jpeg_on_error;
    err.pub.emit_message = jpeg_on_message;
    err.msg[0] = 0;
    if (setjmp(err.jump)) {
        jpeg_destroy_decompress(&cinfo);
        free(img);
        return sy_fail(SY_ERR_FORMAT, "%s: unreadable JPEG (%s)", path, err.msg);
    }
    jpeg_create_decompress(&cinfo);
    cinfo.progress = &progress;
    cinfo.mem->max_memory_to_use = 1024L << 20;
    jpeg_mem_src(&cinfo, b, (unsigned long)n);
    jpeg_read_header(&cinfo, TRUE);
    sy_status s = check_size(path, (long)cinfo.image_width, (long)cinfo.image_height);
    if (s != SY_OK || !out) {
        *w = (int)cinfo.image_width;
        *h = (int)cinfo.image_height;
        jpeg_destroy_decompress(&cinfo);
        return s;
    }
    cinfo.out_color_space = channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(&cinfo);
    size_t stride = (size_t)cinfo.output_width * (size_t)channels;
    if (cinfo.output_components != channels) {
        snprintf(err.msg, sizeof err.msg, "decoder gave %d channels, asked for %d", cinfo.output_components,
                 channels);
        longjmp(err.jump, 1);
    }
    img = malloc(stride * cinfo.output_height);
    if (!img) {
        jpeg_destroy_decompress(&cinfo);
        return sy_fail(SY_ERR_NOMEM, "%s: out of memory for a %u x %u image", path, cinfo.output_width,
                       cinfo.output_height);
    }
    while (cinfo.output_scanline < cinfo.output_height) {
        JSAMPROW row = img + (size_t)cinfo.output_scanline * stride;
        jpeg_read_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_decompress(&cinfo); /* reads to EOI: a cut file warns here */
    *w = (int)cinfo.output_width;
    *h = (int)cinfo.output_height;
    jpeg_destroy_decompress(&cinfo);
    *out = img;
    return SY_OK;
}

/* Decodes a PNG into interleaved bytes of `channels`. libpng gives RGBA;
 * alpha is dropped and grey is taken as (77 R + 150 G + 29 B) / 256, as
 * stb_image (the decoder before this one) did. */
static sy_status decode_png(const char *path, const unsigned char *b, size_t n, int channels,
                            int *w, int *h, unsigned char **out)
{
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_memory(&im, b, n))
        return sy_fail(SY_ERR_FORMAT, "%s: unreadable PNG (%s)", path, im.message);
    *w = (int)im.width;
    *h = (int)im.height;
    sy_status s = check_size(path, (long)im.width, (long)im.height);
    if (s != SY_OK || !out) {
        png_image_free(&im);
        return s;
    }
    im.format = PNG_FORMAT_RGBA;
    size_t npx = (size_t)im.width * im.height;
    unsigned char *rgba = malloc(npx * 4);
    if (!rgba) {
        png_image_free(&im);
        return sy_fail(SY_ERR_NOMEM, "%s: out of memory for a %u x %u image", path, im.width, im.height);
    }
    if (!png_image_finish_read(&im, NULL, rgba, 0, NULL)) {
        s = sy_fail(SY_ERR_FORMAT, "%s: unreadable PNG (%s)", path, im.message);
        png_image_free(&im);
        free(rgba);
        return s;
    }
    png_image_free(&im);
    /* In place: pixel p's output lies at or before its input. */
    for (size_t p = 0; p < npx; p++) {
        const unsigned char *q = rgba + 4 * p;
        if (channels == 1) {
            rgba[p] = (unsigned char)((q[0] * 77 + q[1] * 150 + q[2] * 29) >> 8);
        } else {
            unsigned char r = q[0], g = q[1], bl = q[2];
            rgba[3 * p] = r;
            rgba[3 * p + 1] = g;
            rgba[3 * p + 2] = bl;
        }
    }
    *out = rgba;
    return SY_OK;
}

/* Reads and decodes path into interleaved bytes of `channels` (*out, to
 * free), or with out NULL only its size. */
static sy_status load_image(const char *path, int channels, int *w, int *h, unsigned char **out)
{
    unsigned char *b = NULL;
    size_t n = 0;
    int is_png = 0;
    sy_status s = read_image_file(path, &b, &n, &is_png);
    if (s != SY_OK) return s;
    s = is_png ? decode_png(path, b, n, channels, w, h, out) : decode_jpeg(path, b, n, channels, w, h, out);
    free(b);
    return s;
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
        snprintf(path, sizeof path, "%s/%s/%s", dir, classes.v[0], files[0].v[0]);
        s = load_image(path, channels, &w0, &h0, NULL);
    }
    if (s == SY_OK)
        s = sy_dataset_new(total, sy_shape_of(3, channels, h0, w0), (int)classes.n, 0, name, &d);
    size_t plane = (size_t)w0 * h0, j = 0;
    for (size_t c = 0; c < classes.n && s == SY_OK; c++) {
        for (size_t i = 0; i < files[c].n; i++, j++) {
            snprintf(path, sizeof path, "%s/%s/%s", dir, classes.v[c], files[c].v[i]);
            int w, h;
            unsigned char *img;
            if ((s = load_image(path, channels, &w, &h, &img)) != SY_OK) break;
            if (w != w0 || h != h0) {
                free(img);
                s = sy_fail(SY_ERR_FORMAT, "%s: image is %dx%d, expected %dx%d like %s/%s/%s",
                            path, w, h, w0, h0, dir, classes.v[0], files[0].v[0]);
                break;
            }
            /* Decoders give interleaved HWC bytes; the dataset stores CHW floats. */
            float *x = d->x + j * plane * (size_t)channels;
            for (int ch = 0; ch < channels; ch++)
                for (size_t p = 0; p < plane; p++)
                    x[ch * plane + p] = img[p * (size_t)channels + ch] * (1.0f / 255.0f);
            d->y[j] = (int)c;
            free(img);
        }
    }
    /* The first image fixed the shape: it is the file a shape message names. */
    if (s == SY_OK)
        snprintf(d->source, sizeof d->source, "%s/%s/%s", dir, classes.v[0], files[0].v[0]);
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
