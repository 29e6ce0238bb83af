/* Replays a fuzz target (fuzz/fuzz_<t>.c, linked in) over its committed seed
 * corpus fuzz/corpus/<t>/ and its regression inputs tests/fuzz-regress/<t>/:
 * every input a fuzzer ever found a problem with stays a test. The targets
 * check their own invariants (abort on a violation); under the sanitizer
 * build (build-sanitize/) memory errors and undefined behaviour fail too.
 * usage: fuzz_replay_<t> DIR... (CTest passes both directories). */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int cmp(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

int main(int argc, char **argv)
{
    int total = 0;
    for (int a = 1; a < argc; a++) {
        DIR *d = opendir(argv[a]);
        if (!d) continue; /* a target may have no regression inputs yet */
        char *names[4096];
        int n = 0;
        struct dirent *e;
        while ((e = readdir(d)) && n < 4096)
            if (e->d_name[0] != '.') names[n++] = strdup(e->d_name);
        closedir(d);
        qsort(names, (size_t)n, sizeof *names, cmp);
        for (int i = 0; i < n; i++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", argv[a], names[i]);
            FILE *f = fopen(path, "rb");
            if (!f) {
                fprintf(stderr, "replay: cannot open %s\n", path);
                return 1;
            }
            fseek(f, 0, SEEK_END);
            long len = ftell(f);
            fseek(f, 0, SEEK_SET);
            uint8_t *buf = malloc(len > 0 ? (size_t)len : 1);
            if (!buf || fread(buf, 1, (size_t)len, f) != (size_t)len) {
                fprintf(stderr, "replay: cannot read %s\n", path);
                return 1;
            }
            fclose(f);
            fprintf(stderr, "replay: %s (%ld bytes)\n", path, len);
            LLVMFuzzerTestOneInput(buf, (size_t)len);
            free(buf);
            free(names[i]);
            total++;
        }
    }
    if (total == 0) {
        fprintf(stderr, "replay: no inputs found\n");
        return 1;
    }
    fprintf(stderr, "replay: %d inputs, no problem\n", total);
    return 0;
}
