/* What the checkpoint checksums cost: crc32 (zlib) over a checkpoint's
 * bytes, timed on its own, against writing the whole checkpoint
 * (sy_safetensors_write: header with the checksums, temporary file, fsync,
 * rename) and reading it back verified. 1 MiB and 64 MiB of F32 tensors in
 * the directory given (default /tmp). Medians over repeats. Not a test. */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "syre/syre.h"

#include "bench_clock.h"

enum { REPEATS = 7 };

static double med(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[n / 2];
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "/tmp";
    const size_t sizes[2] = {1u << 18, 16u << 20}; /* floats: 1 MiB, 64 MiB */
    printf("checkpoint checksums (crc32, zlib %s), files in %s\n", zlibVersion(), dir);
    printf("%10s %12s %12s %12s %9s\n", "bytes", "crc32 ms", "write ms", "read ms", "crc/write");
    for (int k = 0; k < 2; k++) {
        size_t n = sizes[k];
        float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
        if (!a || !b) return 1;
        for (size_t i = 0; i < n; i++) a[i] = (float)i * 1e-3f, b[i] = -(float)i;
        /* two tensors, as parameters and an optimizer moment */
        sy_st_tensor t[2] = {{"w", sy_shape_of(1, (int)(n / 2)), a}, {"optim.m", sy_shape_of(1, (int)(n / 2)), b}};
        char path[512];
        snprintf(path, sizeof path, "%s/syre-bench-ckpt-%d.safetensors", dir, (int)getpid());
        double tc[REPEATS], tw[REPEATS], tr[REPEATS];
        volatile uLong sink = 0;
        for (int r = 0; r < REPEATS; r++) {
            double t0 = now();
            sink ^= crc32(crc32(0, NULL, 0), (const Bytef *)a, (uInt)(n / 2 * sizeof(float)));
            sink ^= crc32(crc32(0, NULL, 0), (const Bytef *)b, (uInt)(n / 2 * sizeof(float)));
            double t1 = now();
            if (sy_safetensors_write(path, t, 2, NULL, 0) != SY_OK) return fprintf(stderr, "%s\n", sy_last_error()), 1;
            double t2 = now();
            sy_safetensors *st = NULL;
            if (sy_safetensors_read(path, &st) != SY_OK) return fprintf(stderr, "%s\n", sy_last_error()), 1;
            double t3 = now();
            sy_safetensors_free(st);
            tc[r] = t1 - t0, tw[r] = t2 - t1, tr[r] = t3 - t2;
        }
        unlink(path);
        double c = med(tc, REPEATS), w = med(tw, REPEATS), rd = med(tr, REPEATS);
        printf("%10zu %12.3f %12.3f %12.3f %8.2f%%\n", n * sizeof(float), 1e3 * c, 1e3 * w, 1e3 * rd, 100 * c / w);
        free(a);
        free(b);
    }
    return 0;
}
