/* libFuzzer target: the `syre` command line as the program's main() sees it
 * (cli/main.c, compiled in with main renamed): command dispatch, help,
 * list, --version, experiment and figure lookup, then sy_run_parse. Input:
 * NUL-separated arguments after "syre". Nothing may run: `bench` is
 * dropped, and run/reproduce get a final unknown flag so that parsing,
 * which checks every argument in order, always fails before a run starts
 * (a --help among the arguments prints help instead). Seeds
 * (fuzz/corpus/cli) are command lines from docs/cli.md. */
#define main syre_cli_main
#include "../cli/main.c"
#undef main

#include "fuzz_util.h"

#define MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int init;
    if (!init) {
        setenv("OMP_WAIT_POLICY", "PASSIVE", 1); /* main() would re-execute itself otherwise */
        init = 1;
    }
    char *buf = malloc(size + 1);
    if (!buf) return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *argv[MAX_ARGS + 3];
    int argc = 0;
    argv[argc++] = "syre";
    for (char *p = buf; p < buf + size && argc < MAX_ARGS; p += strlen(p) + 1) argv[argc++] = p;
    if (argc >= 2 && !strcmp(argv[1], "bench")) {
        free(buf);
        return 0;
    }
    if (argc >= 2 && (!strcmp(argv[1], "run") || !strcmp(argv[1], "reproduce"))) argv[argc++] = "--\x01stop";
    argv[argc] = NULL;
    int rc = syre_cli_main(argc, argv);
    if (rc < 0 || rc > 2) abort(); /* exit statuses are 0, 1, 2 */
    free(buf);
    return 0;
}
