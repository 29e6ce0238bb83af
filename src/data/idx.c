/* IDX reader (MNIST, Fashion-MNIST). zlib's gzread reads raw and gzip files
 * alike, so one code path serves both; every failure names the file and says
 * what is wrong (missing, wrong magic, truncated, corrupt gzip, counts). */
#define _POSIX_C_SOURCE 200809L /* dup, fileno */
#include "syre/data.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#define IDX_MAGIC_U8_1D 0x00000801u /* labels: unsigned byte, 1 dim */
#define IDX_MAGIC_U8_3D 0x00000803u /* images: unsigned byte, 3 dims */

static const char *gz_msg(gzFile f, const char *path, int *err);

/* Reads exactly len bytes or fails, telling truncation from stream damage. */
static sy_status read_exact(gzFile f, const char *path, void *buf, size_t len,
                            const char *what)
{
    unsigned char *p = buf;
    size_t got = 0;
    while (got < len) {
        size_t want = len - got;
        if (want > (1u << 30))
            want = 1u << 30; /* gzread takes an unsigned int */
        int r = gzread(f, p + got, (unsigned)want);
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    if (got < len) {
        int err;
        const char *msg = gz_msg(f, path, &err);
        /* A gzip file cut short reports Z_BUF_ERROR; a raw file simply ends. */
        if (err != Z_OK && err != Z_BUF_ERROR)
            return sy_fail(SY_ERR_FORMAT, "%s: corrupt gzip stream while reading the %s (%s)",
                           path, what, msg);
        return sy_fail(SY_ERR_FORMAT, "%s: truncated: expected %zu bytes of %s, only %zu present",
                       path, len, what, got);
    }
    return SY_OK;
}

/* zlib's message, without the "path: " prefix gzerror adds (we add our own). */
static const char *gz_msg(gzFile f, const char *path, int *err)
{
    const char *m = gzerror(f, err);
    size_t n = strlen(path);
    if (strncmp(m, path, n) == 0 && m[n] == ':' && m[n + 1] == ' ')
        m += n + 2;
    return m;
}

/* Reads exactly len bytes into a new buffer that grows as the data arrives,
 * so a header claiming far more than the file holds costs no more memory
 * than the file's contents (gzip hides the real size until the end). */
static sy_status read_alloc(gzFile f, const char *path, size_t len, const char *what,
                            unsigned char **out)
{
    *out = NULL;
    size_t cap = len < (1u << 20) ? len : (1u << 20), got = 0;
    unsigned char *b = malloc(cap ? cap : 1);
    if (!b) return sy_fail(SY_ERR_NOMEM, "%s: out of memory reading the %s", path, what);
    while (got < len) {
        if (got == cap) {
            size_t ncap = cap > len / 2 ? len : 2 * cap;
            unsigned char *nb = realloc(b, ncap);
            if (!nb) {
                free(b);
                return sy_fail(SY_ERR_NOMEM, "%s: out of memory for %zu bytes of %s", path, ncap, what);
            }
            b = nb;
            cap = ncap;
        }
        sy_status s = read_exact(f, path, b + got, cap - got, what);
        if (s != SY_OK) {
            free(b);
            if (s == SY_ERR_FORMAT && strstr(sy_last_error(), "truncated"))
                return sy_fail(SY_ERR_FORMAT, "%s: truncated: the header promises %zu bytes of %s, "
                               "the file holds fewer", path, len, what);
            return s;
        }
        got = cap;
    }
    *out = b;
    return SY_OK;
}

static uint32_t be32(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* After the payload, read on to the end so that damage later in a gzip stream
 * (including a bad CRC) is still reported; trailing bytes are tolerated. */
static sy_status check_tail(gzFile f, const char *path)
{
    unsigned char tmp[4096];
    int r;
    while ((r = gzread(f, tmp, sizeof tmp)) > 0) {
    }
    int err;
    const char *msg = gz_msg(f, path, &err);
    if (r < 0 || (err != Z_OK && err != Z_BUF_ERROR))
        return sy_fail(SY_ERR_FORMAT, "%s: corrupt gzip stream (%s)", path, msg);
    if (err == Z_BUF_ERROR)
        return sy_fail(SY_ERR_FORMAT, "%s: truncated gzip stream (%s)", path, msg);
    return SY_OK;
}

static gzFile open_idx(const char *path)
{
    FILE *raw = sy_fopen_regular(path, "rb");
    if (!raw)
        return NULL;
    /* zlib takes over the descriptor; the FILE is only the regular-file check. */
    int fd = dup(fileno(raw));
    fclose(raw);
    errno = 0;
    gzFile f = fd >= 0 ? gzdopen(fd, "rb") : NULL;
    if (!f) {
        sy_fail(SY_ERR_IO, "%s: cannot open (%s)", path, errno ? strerror(errno) : "out of memory");
        if (fd >= 0)
            close(fd);
    }
    return f;
}

/* Header of an IDX file: checks the magic and reads the dims. */
static sy_status read_header(gzFile f, const char *path, uint32_t magic, int ndim,
                             uint32_t *dims)
{
    unsigned char h[16];
    sy_status s = read_exact(f, path, h, 4 + 4 * (size_t)ndim, "header");
    if (s != SY_OK)
        return s;
    uint32_t m = be32(h);
    if (m != magic)
        return sy_fail(SY_ERR_FORMAT,
                       "%s: wrong magic 0x%08x, expected 0x%08x (IDX %s); not an IDX file "
                       "of that kind", path, m, magic, ndim == 1 ? "labels" : "images");
    for (int i = 0; i < ndim; i++)
        dims[i] = be32(h + 4 + 4 * i);
    return SY_OK;
}

sy_status sy_idx_load(const char *images_path, const char *labels_path, const char *name,
                      sy_dataset **out)
{
    *out = NULL;
    sy_status s;
    unsigned char *pix = NULL, *lab = NULL;
    sy_dataset *d = NULL;
    uint32_t idim[3] = {0}, ldim[1] = {0};

    gzFile fl = open_idx(labels_path);
    if (!fl)
        return SY_ERR_IO;
    gzFile fi = open_idx(images_path);
    if (!fi) {
        gzclose(fl);
        return SY_ERR_IO;
    }
    if ((s = read_header(fi, images_path, IDX_MAGIC_U8_3D, 3, idim)) != SY_OK ||
        (s = read_header(fl, labels_path, IDX_MAGIC_U8_1D, 1, ldim)) != SY_OK)
        goto done;
    /* Bounds keep a damaged header from asking for terabytes. */
    if (idim[0] == 0 || idim[1] == 0 || idim[2] == 0 || idim[0] > (1u << 28) ||
        idim[1] > 4096 || idim[2] > 4096) {
        s = sy_fail(SY_ERR_FORMAT, "%s: implausible image dims %u x %u x %u", images_path,
                    idim[0], idim[1], idim[2]);
        goto done;
    }
    if (ldim[0] != idim[0]) {
        s = sy_fail(SY_ERR_FORMAT, "count mismatch: %s holds %u images but %s holds %u labels",
                    images_path, idim[0], labels_path, ldim[0]);
        goto done;
    }
    size_t n = idim[0], numel = (size_t)idim[1] * idim[2];
    if ((s = read_alloc(fl, labels_path, n, "labels", &lab)) != SY_OK ||
        (s = check_tail(fl, labels_path)) != SY_OK ||
        (s = read_alloc(fi, images_path, n * numel, "pixels", &pix)) != SY_OK ||
        (s = check_tail(fi, images_path)) != SY_OK)
        goto done;
    int maxlab = 0;
    for (size_t i = 0; i < n; i++)
        if (lab[i] > maxlab)
            maxlab = lab[i];
    s = sy_dataset_new(n, sy_shape_of(3, 1, (int)idim[1], (int)idim[2]), maxlab + 1, 0,
                       name, &d);
    if (s != SY_OK)
        goto done;
    for (size_t i = 0; i < n * numel; i++)
        d->x[i] = pix[i] * (1.0f / 255.0f);
    for (size_t i = 0; i < n; i++)
        d->y[i] = lab[i];
    snprintf(d->source, sizeof d->source, "%s", images_path);
    snprintf(d->label_source, sizeof d->label_source, "%s", labels_path);
    *out = d;
done:
    gzclose(fi);
    gzclose(fl);
    free(pix);
    free(lab);
    return s;
}
