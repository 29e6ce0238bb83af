/* libFuzzer target: run records, the JSON and CSV files a run writes and,
 * on --resume, reads back. Input: a string value, a NUL, then the bytes of an
 * existing metrics.csv. The harness starts a run with the string as a flag
 * value, puts that CSV in its record, resumes it with the same flags (as
 * --resume requires), logs a row, writes the summary, and
 * checks that config-resume.json and summary.json parse as JSON and give
 * the string back unchanged (the config is a faithful record of arbitrary
 * flag text). Seeds (fuzz/corpus/record) come from real run records. */
#include "fuzz_util.h"
#include "registry.h" /* experiments/ */
#include "syre/experiment.h"

#include <cjson/cJSON.h>
#include <fcntl.h>

static cJSON *parse_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) abort();
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) abort();
    b[n] = '\0';
    fclose(f);
    cJSON *j = cJSON_Parse(b);
    free(b);
    if (!j) {
        fprintf(stderr, "fuzz_record: %s is not valid JSON\n", path);
        abort();
    }
    return j;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nul = memchr(data, 0, size);
    if (!nul) return 0;
    size_t vlen = (size_t)(nul - data);
    char *value = malloc(vlen + 1);
    if (!value) return 0;
    memcpy(value, data, vlen);
    value[vlen] = '\0';

    char out[256], dir[512], csv[600], cfg[600], sum[600], first[600], lock[600];
    fz_path(out, sizeof out, "runs");
    snprintf(dir, sizeof dir, "%s/lowcap/r", out);
    snprintf(csv, sizeof csv, "%s/metrics.csv", dir);
    snprintf(cfg, sizeof cfg, "%s/config-resume.json", dir);
    snprintf(sum, sizeof sum, "%s/summary.json", dir);
    snprintf(first, sizeof first, "%s/config.json", dir);
    snprintf(lock, sizeof lock, "%s/run.lock", dir);
    remove(csv), remove(cfg), remove(sum), remove(first), remove(lock), rmdir(dir); /* the last input's record */

    /* lowcap: an experiment that keeps checkpoints (so may be resumed) and
     * reads --data-dir, free text recorded in config.json; nothing reads the
     * data here. The --flag=value form, since a separate value may not start
     * with "--". */
    const sy_experiment *exp = sy_experiment_find("lowcap");
    if (!exp) abort();
    char *dd = malloc(vlen + 16);
    if (!dd) abort();
    snprintf(dd, vlen + 16, "--data-dir=%s", value);
    char *argv[] = {"--out", out, "--name", "r", "--threads", "1", dd, "--resume"};
    sy_run *run = NULL;
    /* sy_run_start prints the configuration, sy_run_finish a table: hide them. */
    fflush(stdout);
    fflush(stderr);
    int e = dup(2), o1 = dup(1), nul_fd = open("/dev/null", O_WRONLY);
    dup2(nul_fd, 2);
    dup2(nul_fd, 1);
    sy_status s = sy_run_parse(&run, exp, 7, argv);
    if (s == SY_OK) s = sy_run_start(run);
    if (s == SY_OK) fz_write(csv, nul + 1, size - vlen - 1);
    sy_run_free(run);
    run = NULL;
    if (s == SY_OK) s = sy_run_parse(&run, exp, 8, argv);
    if (s == SY_OK) s = sy_run_start(run);
    if (s == SY_OK) {
        const char *names[2] = {"loss", "acc"};
        double vals[2] = {0.5, 1.0 / 3};
        (void)sy_run_log(run, "syre", 7, 2, names, vals); /* may refuse the CSV's columns */
        (void)sy_run_summary(run, "syre", "loss", 0.5);
        (void)sy_run_summary_setting(run, "syre", "data", value);
        s = sy_run_finish(run);
    }
    fflush(stdout);
    fflush(stderr);
    dup2(e, 2);
    dup2(o1, 1);
    close(e);
    close(o1);
    close(nul_fd);
    if (s != SY_OK) {
        fprintf(stderr, "fuzz_record: %s\n", sy_last_error());
        abort(); /* nothing here may fail: the record is ours to write */
    }
    cJSON *c = parse_file(cfg);
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(c, "options"), "data-dir");
    /* (an empty --data-dir means the default data directory) */
    if (!cJSON_IsString(o) || (value[0] && strcmp(o->valuestring, value) != 0)) {
        fprintf(stderr, "fuzz_record: config.json does not give the --data-dir value back\n");
        abort();
    }
    cJSON_Delete(c);
    cJSON_Delete(parse_file(sum));
    remove(sum);
    sy_run_free(run);
    remove(cfg);
    free(dd);
    free(value);
    return 0;
}
