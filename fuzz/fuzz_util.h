/* Shared by the libFuzzer targets: the library's readers take paths, so each
 * target writes its input to files in a private directory on a tmpfs
 * (/dev/shm when present) and calls the reader on them. The directory is
 * removed at exit. Not part of the library. */
#ifndef SYRE_FUZZ_UTIL_H
#define SYRE_FUZZ_UTIL_H

#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char fz_root[128];

static inline void fz_cleanup(void)
{
    if (!fz_root[0]) return;
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", fz_root);
    if (system(cmd) != 0) fprintf(stderr, "fuzz: could not remove %s\n", fz_root);
}

/* The private directory (created on first use). */
static inline const char *fz_dir(void)
{
    if (!fz_root[0]) {
        struct stat st;
        const char *base = stat("/dev/shm", &st) == 0 && S_ISDIR(st.st_mode) ? "/dev/shm" : "/tmp";
        snprintf(fz_root, sizeof fz_root, "%s/syre-fuzz-XXXXXX", base);
        if (!mkdtemp(fz_root)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fz_cleanup);
    }
    return fz_root;
}

/* "<dir>/<name>" into buf. */
static inline const char *fz_path(char *buf, size_t size, const char *name)
{
    snprintf(buf, size, "%s/%s", fz_dir(), name);
    return buf;
}

/* Write n bytes to path; aborts on failure (a harness bug, not a finding). */
static inline void fz_write(const char *path, const uint8_t *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(data, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        abort();
    }
}

#endif
