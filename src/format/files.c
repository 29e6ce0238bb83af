/* File-system helpers shared by run records and checkpoints: mkdir -p and
 * atomic whole-file writes (tmp + fsync + rename + directory fsync). */
#define _POSIX_C_SOURCE 200809L
#include "syre/format.h"
#include "syre/dist.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

sy_status sy_mkdir_p(const char *path)
{
    if (!path || !*path) return sy_fail(SY_ERR_ARG, "empty directory path");
    size_t len = strlen(path);
    char *buf = malloc(len + 1);
    if (!buf) return sy_fail(SY_ERR_NOMEM, "out of memory creating %s", path);
    memcpy(buf, path, len + 1);
    for (size_t i = 1; i <= len; i++) {
        if (buf[i] != '/' && buf[i] != '\0') continue;
        char c = buf[i];
        buf[i] = '\0';
        if (mkdir(buf, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            sy_status s = sy_fail(SY_ERR_IO, "cannot create directory %s: %s", buf, strerror(e));
            free(buf);
            return s;
        }
        struct stat st;
        if (stat(buf, &st) != 0 || !S_ISDIR(st.st_mode)) {
            sy_status s = sy_fail(SY_ERR_IO, "cannot create directory %s: a file is in the way", buf);
            free(buf);
            return s;
        }
        buf[i] = c;
    }
    free(buf);
    return SY_OK;
}

/* fsync the directory holding path, so the rename itself is durable. */
static void fsync_parent(const char *path)
{
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) {
        strcpy(dir, ".");
    } else {
        size_t n = (size_t)(slash - path);
        if (n == 0) n = 1;
        if (n >= sizeof dir) return;
        memcpy(dir, path, n);
        dir[n] = '\0';
    }
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        fsync(fd);
        close(fd);
    }
}

sy_status sy_write_file_atomic(const char *path, const void *data, size_t size)
{
    /* Distributed run: every rank holds the same state; rank 0 writes it. */
    if (!sy_dist_is_root()) return SY_OK;
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 5);
    if (!tmp) return sy_fail(SY_ERR_NOMEM, "out of memory writing %s", path);
    memcpy(tmp, path, plen);
    memcpy(tmp + plen, ".tmp", 5);
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        sy_status s = sy_fail(SY_ERR_IO, "cannot write %s: %s", tmp, strerror(errno));
        free(tmp);
        return s;
    }
    int ok = (size == 0 || fwrite(data, 1, size, f) == size);
    ok = ok && fflush(f) == 0;
    ok = ok && fsync(fileno(f)) == 0;
    int e = errno;
    ok = (fclose(f) == 0) && ok;
    if (!ok) {
        remove(tmp);
        free(tmp);
        return sy_fail(SY_ERR_IO, "cannot write %s: %s", path, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        remove(tmp);
        free(tmp);
        return sy_fail(SY_ERR_IO, "cannot rename onto %s: %s", path, strerror(e));
    }
    free(tmp);
    fsync_parent(path);
    return SY_OK;
}
