/* libFuzzer target: command-line flags. Input: one byte choosing the
 * experiment, then NUL-separated arguments, parsed by sy_run_parse exactly
 * as `syre run EXP ARGS...` does (the parser touches no file). A parse that
 * succeeds must give every declared flag a value its getter can read; the
 * command and figure lookups (`syre run NAME`, `syre reproduce FIG`) get
 * the first argument. Seeds (fuzz/corpus/flags) are command lines from
 * docs/cli.md and the tests. */
#include "fuzz_util.h"
#include "registry.h" /* experiments/ */
#include "syre/experiment.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    int nexp;
    const sy_experiment *const *exps = sy_experiments(&nexp);
    const sy_experiment *exp = exps[data[0] % nexp];
    /* Copy with a terminator, then cut at NULs. */
    char *buf = malloc(size);
    if (!buf) return 0;
    memcpy(buf, data + 1, size - 1);
    buf[size - 1] = '\0';
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    for (char *p = buf; p < buf + size - 1 && argc < MAX_ARGS; p += strlen(p) + 1) argv[argc++] = p;
    argv[argc] = NULL;
    if (argc > 0) {
        (void)sy_experiment_find(argv[0]);
        (void)sy_experiment_find_reproduce(argv[0]);
    }
    sy_run *run = NULL;
    if (sy_run_parse(&run, exp, argc, argv) == SY_OK) {
        const sy_flag_spec *all = sy_common_flags();
        for (const sy_flag_spec *f = all; f->name; f++) {
            switch (f->type) {
            case SY_FLAG_BOOL: {
                int b = sy_run_get_bool(run, f->name);
                if (b != 0 && b != 1) abort();
                break;
            }
            case SY_FLAG_INT: (void)sy_run_get_int(run, f->name); break;
            case SY_FLAG_DOUBLE: {
                double v = sy_run_get_double(run, f->name);
                if (v != v) abort(); /* numbers are finite or refused */
                break;
            }
            case SY_FLAG_STRING:
            case SY_FLAG_METHODS:
                if (!sy_run_get_str(run, f->name)) abort();
                break;
            }
        }
        int nm;
        const char *const *m = sy_run_methods(run, &nm);
        for (int i = 0; i < nm; i++)
            if (!m[i] || !m[i][0]) abort();
        (void)sy_run_seed(run);
        sy_run_free(run);
    } else if (run) {
        abort();
    }
    free(buf);
    return 0;
}
