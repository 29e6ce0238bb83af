/* src/io: safetensors round trip (also read back by Python + NumPy when
 * available), damaged checkpoints, atomic writes, run records (CSV and JSON
 * contents), flag parsing errors, and that every plot kind renders. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "registry.h" /* experiments/ */
#include "syre/experiment.h"
#include "syre/format.h"
#include "syre/params.h"
#include "syre/plot.h"
#include "io/io_internal.h"

static char tmpdir[256];

static int setup_dir(void **state)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/syre-test-io-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    return 0;
}

static int teardown_dir(void **state)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    return system(cmd) == 0 ? 0 : -1;
}

static const char *tpath(const char *name)
{
    static char buf[8][512];
    static int k;
    k = (k + 1) % 8;
    snprintf(buf[k], sizeof buf[k], "%s/%s", tmpdir, name);
    return buf[k];
}

static void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, n, f), n);
    fclose(f);
}

static char *read_text(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    return b;
}

/* ---- Safetensors ------------------------------------------------------------ */

static void test_roundtrip(void **state)
{
    float a[6] = {0, 1, 2, 3, 4, 5}, b[3] = {-1.5f, 2.25f, 1e-30f}, c[1] = {42};
    sy_st_tensor t[3] = {
        {"layer.weight", sy_shape_of(2, 2, 3), a},
        {"layer.bias", sy_shape_of(1, 3), b},
        {"step", sy_shape_of(0), c},
    };
    sy_st_meta meta[2] = {{"format", "pt"}, {"seed", "7"}};
    const char *p = tpath("rt.safetensors");
    assert_int_equal(sy_safetensors_write(p, t, 3, meta, 2), SY_OK);
    assert_int_equal(access(tpath("rt.safetensors.tmp"), F_OK), -1); /* no leftover */

    sy_safetensors *st;
    assert_int_equal(sy_safetensors_read(p, &st), SY_OK);
    assert_int_equal(sy_safetensors_count(st), 3);
    int i = sy_safetensors_find(st, "layer.weight");
    assert_true(i >= 0);
    assert_true(sy_shape_equal(sy_safetensors_shape(st, i), sy_shape_of(2, 2, 3)));
    assert_memory_equal(sy_safetensors_data(st, i), a, sizeof a);
    i = sy_safetensors_find(st, "layer.bias");
    assert_memory_equal(sy_safetensors_data(st, i), b, sizeof b);
    i = sy_safetensors_find(st, "step");
    assert_int_equal(sy_safetensors_shape(st, i).ndim, 0);
    assert_true(sy_safetensors_data(st, i)[0] == 42);
    assert_string_equal(sy_safetensors_meta(st, "seed"), "7");
    assert_null(sy_safetensors_meta(st, "nope"));
    assert_int_equal(sy_safetensors_find(st, "nope"), -1);
    sy_safetensors_free(st);

    /* Written duplicate names are refused. */
    sy_st_tensor dup[2] = {t[0], t[0]};
    assert_int_equal(sy_safetensors_write(tpath("dup.safetensors"), dup, 2, NULL, 0), SY_ERR_ARG);

    /* Python + NumPy read it with nothing but json and frombuffer. */
    if (access("/usr/bin/python3", X_OK) == 0 && system("/usr/bin/python3 -c 'import numpy' 2>/dev/null") == 0) {
        char cmd[2048];
        snprintf(cmd, sizeof cmd,
                 "/usr/bin/python3 -c \"\n"
                 "import json, struct, zlib, numpy as np\n"
                 "raw = open('%s', 'rb').read()\n"
                 "n = struct.unpack('<Q', raw[:8])[0]\n"
                 "h = json.loads(raw[8:8+n])\n"
                 "d = raw[8+n:]\n"
                 "def get(k):\n"
                 "    b, e = h[k]['data_offsets']\n"
                 "    assert h[k]['dtype'] == 'F32'\n"
                 "    return np.frombuffer(d[b:e], dtype='<f4').reshape(h[k]['shape'])\n"
                 "assert (get('layer.weight') == np.arange(6, dtype='f4').reshape(2, 3)).all()\n"
                 "assert get('layer.bias')[1] == 2.25 and get('step').shape == ()\n"
                 "m = h['__metadata__']\n"
                 "assert m['format'] == 'pt' and m['seed'] == '7'\n"
                 "for k in ('layer.weight', 'layer.bias', 'step'):\n"
                 "    b, e = h[k]['data_offsets']\n"
                 "    assert m['crc32:' + k] == '%%08x' %% zlib.crc32(d[b:e])\n"
                 "assert m['crc32:__metadata__'] == '%%08x' %% zlib.crc32(b'format\\x00pt\\x00seed\\x007\\x00')\n"
                 "assert (8 + n) %% 8 == 0\n"
                 "\"",
                 p);
        assert_int_equal(system(cmd), 0);
    }
}

/* A header + data section built by hand, for damaged-file cases. */
static void write_st(const char *path, const char *header, const void *data, size_t dn, int64_t hlen_override)
{
    size_t hn = strlen(header);
    uint64_t hl = hlen_override >= 0 ? (uint64_t)hlen_override : hn;
    unsigned char *buf = malloc(8 + hn + dn + 1);
    for (int b = 0; b < 8; b++) buf[b] = (unsigned char)(hl >> (8 * b));
    memcpy(buf + 8, header, hn);
    if (dn) memcpy(buf + 8 + hn, data, dn);
    write_bytes(path, buf, 8 + hn + dn);
    free(buf);
}

static void expect_bad(const char *path, const char *needle)
{
    sy_safetensors *st = (sy_safetensors *)0x1;
    sy_status s = sy_safetensors_read(path, &st);
    assert_int_not_equal(s, SY_OK);
    assert_null(st);
    const char *msg = sy_last_error();
    if (!strstr(msg, path) || !strstr(msg, needle)) fail_msg("message '%s' lacks '%s' or '%s'", msg, path, needle);
}

static void test_damaged(void **state)
{
    float d[4] = {1, 2, 3, 4};
    const char *p = tpath("bad.safetensors");

    write_bytes(p, "abc", 3);
    expect_bad(p, "truncated");

    write_st(p, "{}", NULL, 0, 1000);
    expect_bad(p, "exceeds the file size");

    write_st(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]", d, 8, -1);
    expect_bad(p, "JSON");

    write_st(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [4], \"data_offsets\": [0, 16]}}", d, 8, -1);
    expect_bad(p, "outside the data section");

    write_st(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]},"
                " \"b\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [4, 12]}}", d, 16, -1);
    expect_bad(p, "overlap");

    write_st(p, "{\"a\": {\"dtype\": \"F16\", \"shape\": [4], \"data_offsets\": [0, 8]}}", d, 8, -1);
    expect_bad(p, "F16");

    write_st(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 16]}}", d, 16, -1);
    expect_bad(p, "shape");

    write_st(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [-1], \"data_offsets\": [0, 16]}}", d, 16, -1);
    expect_bad(p, "shape");

    write_st(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [8, 16]}}", d, 16, -1);
    expect_bad(p, "unused bytes");

    write_st(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_offsets\": [0, 8]}}", d, 16, -1);
    expect_bad(p, "cover");

    write_st(p, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2]}}", d, 8, -1);
    expect_bad(p, "data_offsets");

    write_st(p, "{\"__metadata__\": {\"k\": 3}}", NULL, 0, -1);
    expect_bad(p, "metadata");

    write_st(p, "[1, 2]", NULL, 0, -1);
    expect_bad(p, "JSON");

    /* A good file cut short inside its data section. */
    float a[8] = {0};
    sy_st_tensor t = {"w", sy_shape_of(1, 8), a};
    assert_int_equal(sy_safetensors_write(p, &t, 1, NULL, 0), SY_OK);
    assert_int_equal(truncate(p, 8 + 64 + 10), 0);
    expect_bad(p, "");

    sy_safetensors *st;
    assert_int_equal(sy_safetensors_read(tpath("missing.safetensors"), &st), SY_ERR_IO);
    assert_non_null(strstr(sy_last_error(), "missing.safetensors"));
}

static void test_atomic_interrupted(void **state)
{
    float a[3] = {1, 2, 3};
    sy_st_tensor t = {"w", sy_shape_of(1, 3), a};
    const char *p = tpath("atomic.safetensors");
    assert_int_equal(sy_safetensors_write(p, &t, 1, NULL, 0), SY_OK);
    /* A writer died after writing the .tmp, before the rename. */
    write_bytes(tpath("atomic.safetensors.tmp"), "garbage garbage garbage", 23);
    sy_safetensors *st;
    assert_int_equal(sy_safetensors_read(p, &st), SY_OK);
    assert_memory_equal(sy_safetensors_data(st, 0), a, sizeof a);
    sy_safetensors_free(st);
    /* The next save replaces the stale .tmp and the file. */
    a[0] = 9;
    assert_int_equal(sy_safetensors_write(p, &t, 1, NULL, 0), SY_OK);
    assert_int_equal(sy_safetensors_read(p, &st), SY_OK);
    assert_true(sy_safetensors_data(st, 0)[0] == 9);
    sy_safetensors_free(st);
    /* Unwritable destination: an error naming the path. */
    assert_int_equal(sy_write_file_atomic("/proc/syre-no/x.bin", "x", 1), SY_ERR_IO);
    assert_non_null(strstr(sy_last_error(), "/proc/syre-no/x.bin"));
}

static sy_params *make_store(int rows)
{
    sy_params *ps = sy_params_new();
    sy_init u = {SY_INIT_UNIFORM_FANIN, 1};
    assert_true(sy_params_add(ps, "fc.w", sy_shape_of(2, rows, 4), 4, u, 1) >= 0);
    assert_true(sy_params_add(ps, "fc.b", sy_shape_of(1, rows), 4, u, 1) >= 0);
    assert_true(sy_params_add(ps, "bn.mean", sy_shape_of(1, rows), 4, (sy_init){SY_INIT_ZERO, 0}, 0) >= 0);
    assert_int_equal(sy_params_init(ps, 3), SY_OK);
    return ps;
}

static void test_checkpoint_params(void **state)
{
    sy_params *a = make_store(5);
    float m[4] = {0.5f, 0.25f, 0, 1};
    sy_st_tensor extra = {"adam.m", sy_shape_of(1, 4), m};
    sy_st_meta meta = {"step", "12"};
    const char *p = tpath("params.safetensors");
    sy_params_tensor(a, 2)[1] = 7; /* a buffer: saved too */
    assert_int_equal(sy_checkpoint_save_params(p, a, &extra, 1, &meta, 1), SY_OK);

    sy_params *b = make_store(5);
    assert_int_equal(sy_params_init(b, 99), SY_OK);
    sy_safetensors *rest;
    assert_int_equal(sy_checkpoint_load_params(p, b, &rest), SY_OK);
    for (int i = 0; i < 3; i++)
        assert_memory_equal(sy_params_tensor(a, i), sy_params_tensor(b, i), sy_params_info(a, i)->numel * sizeof(float));
    assert_string_equal(sy_safetensors_meta(rest, "step"), "12");
    assert_memory_equal(sy_safetensors_data(rest, sy_safetensors_find(rest, "adam.m")), m, sizeof m);
    sy_safetensors_free(rest);

    /* Another shape: refused, naming the tensor, store untouched. */
    sy_params *c = make_store(6);
    float before = sy_params_tensor(c, 0)[0];
    assert_int_equal(sy_checkpoint_load_params(p, c, NULL), SY_ERR_SHAPE);
    assert_non_null(strstr(sy_last_error(), "fc.w"));
    assert_true(sy_params_tensor(c, 0)[0] == before);
    sy_params_free(a);
    sy_params_free(b);
    sy_params_free(c);
}

/* ---- Flags and run records ------------------------------------------------------ */

static const sy_flag_spec demo_flags[] = {
    {"width", "hidden units", "8", SY_FLAG_INT, 1, 100},
    {"rate", "a rate", "0.5", SY_FLAG_DOUBLE, 0, 1},
    {"label", "a label", "x", SY_FLAG_STRING, 0, 0},
    {"method", NULL, "vanilla,syre,l2init", SY_FLAG_METHODS, 0, 0},
    {"lr", NULL, "0.003", SY_FLAG_DOUBLE, 0, 1},
    {NULL, NULL, NULL, 0, 0, 0},
};

static sy_status demo_run(sy_run *run) { return SY_OK; }

static const sy_experiment demo = {"demo", "Fig. 9 left", "a test", demo_flags, demo_run, "fig9-left", NULL, 0, 0, NULL, NULL, 0};

static void expect_parse_error(const char *flag_in_msg, int argc, const char **argv)
{
    sy_run *run = (sy_run *)0x1;
    sy_status s = sy_run_parse(&run, &demo, argc, (char **)argv);
    assert_int_equal(s, SY_ERR_ARG);
    assert_null(run);
    const char *msg = sy_last_error();
    if (!strstr(msg, flag_in_msg) || !strstr(msg, "demo"))
        fail_msg("message '%s' does not name '%s' and the experiment", msg, flag_in_msg);
}

static void test_flags(void **state)
{
    sy_run *run;
    /* Defaults: own flags, overrides and common flags. */
    assert_int_equal(sy_run_parse(&run, &demo, 0, NULL), SY_OK);
    assert_int_equal(sy_run_get_int(run, "width"), 8);
    assert_true(sy_run_get_double(run, "lr") == 0.003);
    assert_true(sy_run_get_double(run, "sigma0") == 0.01);
    assert_int_equal(sy_run_get_int(run, "seed"), 1);
    assert_string_equal(sy_run_get_str(run, "out"), "runs");
    assert_false(sy_run_get_bool(run, "quick"));
    assert_false(sy_run_is_set(run, "width"));
    int n;
    const char *const *m = sy_run_methods(run, &n);
    assert_int_equal(n, 3);
    assert_string_equal(m[2], "l2init");
    sy_run_free(run);

    /* Both value forms, bools, repeated and comma-separated methods. */
    const char *ok[] = {"--width", "12", "--rate=0.25", "--quick", "--method", "syre", "--method=wfix,dropout,syre",
                        "--seed", "42", "--gamma", "1e-3", "--resume=false"};
    assert_int_equal(sy_run_parse(&run, &demo, 12, (char **)ok), SY_OK);
    assert_int_equal(sy_run_get_int(run, "width"), 12);
    assert_true(sy_run_get_double(run, "rate") == 0.25);
    assert_true(sy_run_get_bool(run, "quick"));
    assert_false(sy_run_get_bool(run, "resume"));
    assert_true(sy_run_is_set(run, "width"));
    assert_true(sy_run_get_double(run, "gamma") == 1e-3);
    assert_int_equal(sy_run_seed(run), 42);
    m = sy_run_methods(run, &n);
    assert_int_equal(n, 3);
    assert_string_equal(m[0], "syre");
    assert_string_equal(m[1], "wfix");
    assert_string_equal(m[2], "dropout");
    sy_run_free(run);

    const char *unknown[] = {"--widht", "3"};
    expect_parse_error("--widht", 2, unknown);
    const char *badnum[] = {"--rate", "0.5x"};
    expect_parse_error("--rate", 2, badnum);
    const char *badint[] = {"--width=3.5"};
    expect_parse_error("--width", 1, badint);
    const char *range[] = {"--width", "1000"};
    expect_parse_error("--width", 2, range);
    assert_non_null(strstr(sy_last_error(), "[1, 100]"));
    const char *range2[] = {"--rate=-0.1"};
    expect_parse_error("--rate", 1, range2);
    const char *missing[] = {"--width"};
    expect_parse_error("--width", 1, missing);
    const char *missing2[] = {"--lr", "--quick"};
    expect_parse_error("--lr", 2, missing2);
    const char *method[] = {"--method", "sgd"};
    expect_parse_error("--method", 2, method);
    const char *boolv[] = {"--quick=maybe"};
    expect_parse_error("--quick", 1, boolv);
    const char *nan_[] = {"--gamma", "nan"};
    expect_parse_error("--gamma", 2, nan_);
    const char *empty[] = {"--gamma="};
    expect_parse_error("--gamma", 1, empty);
    const char *positional[] = {"stray"};
    expect_parse_error("stray", 1, positional);
}

static void test_registry(void **state)
{
    int n;
    const sy_experiment *const *e = sy_experiments(&n);
    assert_true(n >= 1);
    assert_non_null(e[0]->name);
    assert_ptr_equal(sy_experiment_find("toy"), sy_experiment_find_reproduce("TOY"));
    assert_null(sy_experiment_find("no-such-experiment"));
    assert_null(sy_experiment_find_reproduce("Fig. 99"));
}

static void test_run_record(void **state)
{
    char out[600];
    snprintf(out, sizeof out, "--out=%s/deep/er", tmpdir);
    const char *argv[] = {out, "--name", "r1", "--threads", "1", "--method", "vanilla,syre"};
    sy_run *run;
    assert_int_equal(sy_run_parse(&run, &demo, 7, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    char want[700];
    snprintf(want, sizeof want, "%s/deep/er/demo/r1", tmpdir);
    assert_string_equal(sy_run_dir(run), want);

    const char *names[2] = {"loss", "acc"};
    double v[2] = {0.5, 0.25};
    assert_int_equal(sy_run_log(run, "vanilla", 0, 2, names, v), SY_OK);
    const char *sub[1] = {"acc"};
    double w[1] = {0.75};
    assert_int_equal(sy_run_log(run, "syre", 10, 1, sub, w), SY_OK);
    const char *extra[1] = {"rank"};
    assert_int_equal(sy_run_log(run, "syre", 11, 1, extra, w), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "rank"));
    const char *en[1] = {"rank"};
    assert_int_equal(sy_run_log_to(run, "eval.csv", "syre", 1, 1, en, w), SY_OK);
    assert_int_equal(sy_run_summary(run, "vanilla", "final loss", 0.5), SY_OK);
    assert_int_equal(sy_run_summary(run, "syre", "final loss", 0.125), SY_OK);
    assert_int_equal(sy_run_summary(run, "syre", "rank", NAN), SY_OK);
    assert_int_equal(sy_run_summary_setting(run, "syre", "gamma", "0.01"), SY_OK);
    assert_int_equal(sy_run_finish(run), SY_OK);
    sy_run_free(run);

    char path[800];
    snprintf(path, sizeof path, "%s/metrics.csv", want);
    char *csv = read_text(path);
    assert_non_null(csv);
    assert_string_equal(csv, "method,step,loss,acc\nvanilla,0,0.5,0.25\nsyre,10,,0.75\n");
    free(csv);
    snprintf(path, sizeof path, "%s/eval.csv", want);
    csv = read_text(path);
    assert_string_equal(csv, "method,step,rank\nsyre,1,0.75\n");
    free(csv);

    snprintf(path, sizeof path, "%s/summary.json", want);
    char *js = read_text(path);
    cJSON *j = cJSON_Parse(js);
    assert_non_null(j);
    cJSON *syre = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "methods"), "syre");
    assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(syre, "metrics"), "final loss")->valuedouble == 0.125);
    assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(syre, "metrics"), "rank")));
    assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(syre, "settings"), "gamma")->valuestring, "0.01");
    cJSON_Delete(j);
    free(js);

    snprintf(path, sizeof path, "%s/config.json", want);
    js = read_text(path);
    j = cJSON_Parse(js);
    assert_non_null(j);
    assert_string_equal(cJSON_GetObjectItem(j, "device")->valuestring, "cpu");
    assert_non_null(cJSON_GetObjectItem(j, "git_revision"));
    assert_non_null(strstr(cJSON_GetObjectItem(j, "blas")->valuestring, "BLAS"));
    assert_int_equal(cJSON_GetObjectItem(j, "threads")->valueint, 1);
    cJSON *opts = cJSON_GetObjectItem(j, "options");
    assert_true(cJSON_GetObjectItem(opts, "lr")->valuedouble == 0.003);
    assert_int_equal(cJSON_GetObjectItem(opts, "width")->valueint, 8);
    assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(opts, "method")), 2);
    assert_non_null(cJSON_GetObjectItem(j, "start_time"));
    cJSON_Delete(j);
    free(js);

    /* Same --name again: refused (no silent overwrite); --resume appends. */
    assert_int_equal(sy_run_parse(&run, &demo, 7, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "r1"));
    sy_run_free(run);
    const char *argv2[] = {out, "--name", "r1", "--resume", "--method", "vanilla,syre"};
    assert_int_equal(sy_run_parse(&run, &demo, 6, (char **)argv2), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    assert_int_equal(sy_run_log(run, "vanilla", 1, 2, names, v), SY_OK);
    assert_int_equal(sy_run_finish(run), SY_OK);
    sy_run_free(run);
    snprintf(path, sizeof path, "%s/metrics.csv", want);
    csv = read_text(path);
    assert_string_equal(csv, "method,step,loss,acc\nvanilla,0,0.5,0.25\nsyre,10,,0.75\nvanilla,1,0.5,0.25\n");
    free(csv);

    /* Unwritable out directory: the error names the path. */
    snprintf(path, sizeof path, "%s/afile", tmpdir);
    write_bytes(path, "x", 1);
    snprintf(out, sizeof out, "--out=%s/afile/sub", tmpdir);
    const char *argv3[] = {out};
    assert_int_equal(sy_run_parse(&run, &demo, 1, (char **)argv3), SY_OK);
    assert_int_equal(sy_run_start(run), SY_ERR_IO);
    assert_non_null(strstr(sy_last_error(), "afile"));
    sy_run_free(run);
}

/* ---- Plots ------------------------------------------------------------------ */

static void assert_nonempty(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || st.st_size < 100) fail_msg("plot file %s missing or empty", path);
}

/* A run's file names and its records read back (what a resumed method needs). */
static void test_run_files(void **state)
{
    char out[600], buf[900], want[900];
    snprintf(out, sizeof out, "--out=%s/files", tmpdir);
    const char *argv[] = {out, "--name", "r", "--threads", "1", "--method", "vanilla,syre"};
    sy_run *run;
    assert_int_equal(sy_run_parse(&run, &demo, 7, (char **)argv), SY_OK);
    assert_int_equal(sy_run_start(run), SY_OK);
    snprintf(want, sizeof want, "%s/ckpt-g0.1-syre.safetensors", sy_run_dir(run));
    assert_string_equal(sy_run_ckpt_path(run, "g0.1", "syre", buf, sizeof buf), want);
    snprintf(want, sizeof want, "%s/ckpt-syre.safetensors", sy_run_dir(run));
    assert_string_equal(sy_run_ckpt_path(run, "", "syre", buf, sizeof buf), want);
    /* a record name with a '/' or a ' ' is one file in the run directory */
    snprintf(want, sizeof want, "%s/ckpt-g_1-sigma0=0.1_seed1.safetensors", sy_run_dir(run));
    assert_string_equal(sy_run_ckpt_path(run, "g 1", "sigma0=0.1/seed1", buf, sizeof buf), want);
    assert_int_equal(sy_run_summary_settingf(run, "syre", "training", "lr %g, %d epochs", 0.25, 3), SY_OK);

    const char *names[3] = {"gamma", "epoch", "acc"};
    const double rows[5][3] = {{0.1, 1, 0.5}, {0.2, 1, 0.6}, {0.1, 2, 0.7}, {0.1, 5, 0.1}, {0.1, 0, 0.2}};
    for (int r = 0; r < 5; r++) assert_int_equal(sy_run_log(run, "vanilla", r, 3, names, rows[r]), SY_OK);
    const double other[3] = {0.1, 3, 0.9};
    assert_int_equal(sy_run_log(run, "syre", 5, 3, names, other), SY_OK);
    sy_plot *none = NULL;
    assert_int_equal(sy_plot_save_run(none, run, "nothing"), SY_ERR_NOMEM);
    const double ep[3] = {1, 2, 3}, ya[3] = {0.1, 0.2, 0.3}, yb[3] = {0.3, 0.2, 0.1}, *y[2] = {ya, yb};
    const char *labels[2] = {"vanilla", "syre"};
    assert_int_equal(sy_plot_methods(run, "curves", "t", "epoch", "acc", ep, 3, 2, labels, y, SY_PLOT_LINE), SY_OK);
    assert_int_equal(sy_run_finish(run), SY_OK);
    assert_nonempty(sy_run_path(run, "curves.png", buf, sizeof buf));
    char *summary = read_text(sy_run_path(run, "summary.json", buf, sizeof buf));
    assert_non_null(summary);
    assert_non_null(strstr(summary, "lr 0.25, 3 epochs"));
    free(summary);

    /* rows of method vanilla at gamma 0.1, by epoch; the others untouched */
    double acc[3] = {-1, -1, -1}, *outv[1] = {acc};
    const char *match[1] = {"gamma"}, *cols[1] = {"acc"}, *nope[1] = {"loss"};
    const double mval[1] = {0.1};
    assert_int_equal(sy_run_read_rows(run, NULL, "vanilla", 1, match, mval, "epoch", 1, cols, outv, 3), SY_OK);
    assert_true(acc[0] == 0.5 && acc[1] == 0.7 && acc[2] == -1);
    assert_int_equal(sy_run_read_rows(run, NULL, "syre", 0, NULL, NULL, "epoch", 1, cols, outv, 3), SY_OK);
    assert_true(acc[2] == 0.9);
    acc[0] = -1;
    assert_int_equal(sy_run_read_rows(run, NULL, "vanilla", 1, match, mval, "epoch", 1, nope, outv, 3), SY_OK);
    assert_int_equal(sy_run_read_rows(run, "absent.csv", "vanilla", 1, match, mval, "epoch", 1, cols, outv, 3),
                     SY_OK);
    assert_true(acc[0] == -1);
    sy_run_free(run);
}

static void test_plots(void **state)
{
    /* Keep the figures for a look when SYRE_PLOT_DIR is set. */
    const char *dir = getenv("SYRE_PLOT_DIR");
    if (!dir || !*dir) dir = tmpdir;
    char base[600], f[700];
    double x[50], y1[50], y2[50], y3[50];
    for (int i = 0; i < 50; i++) {
        x[i] = pow(10, -3 + 4.0 * i / 49);
        y1[i] = 1 / (1 + x[i]);
        y2[i] = 0.5 + 0.3 * sin(i * 0.3);
        y3[i] = i == 20 ? NAN : 0.2 * log10(x[i]) + 0.8;
    }
    sy_plot *p = sy_plot_new("Test accuracy against gamma", "gamma", "accuracy");
    assert_int_equal(sy_plot_series(p, "vanilla", x, y1, 50, SY_PLOT_LINE_POINTS), SY_OK);
    assert_int_equal(sy_plot_series(p, "syre", x, y2, 50, SY_PLOT_LINE), SY_OK);
    assert_int_equal(sy_plot_series(p, "reference (with a gap)", x, y3, 50, SY_PLOT_DASHED), SY_OK);
    sy_plot_log_axes(p, 1, 0);
    snprintf(base, sizeof base, "%s/line_logx", dir);
    assert_int_equal(sy_plot_save(p, base), SY_OK);
    sy_plot_free(p);
    snprintf(f, sizeof f, "%s.png", base);
    assert_nonempty(f);
    snprintf(f, sizeof f, "%s.svg", base);
    assert_nonempty(f);

    /* Scatter, three series with distinct markers. */
    p = sy_plot_new("Degree of symmetry against objective", "objective", "degree of symmetry");
    sy_rng r = sy_rng_make(1, SY_STREAM_USER, 0);
    const char *lab[3] = {"syre", "weight decay", "W-fix"};
    for (int s = 0; s < 3; s++) {
        float sx[30], sy[30];
        for (int i = 0; i < 30; i++) {
            sx[i] = -100 - 20 * s + 10 * sy_rng_normal(&r);
            sy[i] = 300 + 200 * s + 80 * sy_rng_normal(&r);
        }
        assert_int_equal(sy_plot_series_f(p, lab[s], sx, sy, 30, SY_PLOT_POINTS), SY_OK);
    }
    snprintf(base, sizeof base, "%s/scatter", dir);
    assert_int_equal(sy_plot_save(p, base), SY_OK);
    sy_plot_free(p);

    /* Spectrum: log-y, zeros drawn at the floor. */
    p = sy_plot_new("Covariance spectrum, first layer", "index", "eigenvalue");
    float e1[300], e2[300];
    for (int i = 0; i < 300; i++) {
        e1[i] = (float)(10 * exp(-i * 0.12));
        e2[i] = (float)(5 * exp(-i * 0.02));
    }
    e1[299] = 0;
    assert_int_equal(sy_plot_spectrum(p, "vanilla", e1, 300, 1e-8), SY_OK);
    assert_int_equal(sy_plot_spectrum(p, "syre", e2, 300, 1e-8), SY_OK);
    snprintf(base, sizeof base, "%s/spectrum", dir);
    assert_int_equal(sy_plot_save(p, base), SY_OK);
    sy_plot_free(p);

    /* Image grid with row labels. */
    float img[6 * 28 * 28];
    for (int k = 0; k < 6; k++)
        for (int i = 0; i < 28; i++)
            for (int j = 0; j < 28; j++)
                img[k * 784 + i * 28 + j] = (float)(((i - 14) * (i - 14) + (j - 14) * (j - 14)) < 20 * (k + 1));
    const char *rows[2] = {"input", "vanilla recon."};
    snprintf(base, sizeof base, "%s/grid", dir);
    assert_int_equal(sy_plot_image_grid(base, "Reconstructions", img, 6, 28, 28, 2, 3, rows, 0, 1), SY_OK);
    snprintf(f, sizeof f, "%s.png", base);
    assert_nonempty(f);
    assert_int_equal(sy_plot_image_grid(base, "bad", img, 7, 28, 28, 2, 3, NULL, 0, 1), SY_ERR_ARG);

    /* Unwritable plot path. */
    p = sy_plot_new("t", "x", "y");
    assert_int_equal(sy_plot_series(p, "a", NULL, y1, 10, SY_PLOT_LINE), SY_OK);
    assert_int_equal(sy_plot_save(p, "/proc/syre-no/plot"), SY_ERR_IO);
    assert_non_null(strstr(sy_last_error(), "/proc/syre-no/plot"));
    sy_plot_free(p);
}

/* A stop request only sets a flag; a second signal, or a stop that takes
 * longer than the grace period, ends the process as the signal would. */
static void test_stop_signals(void **state)
{
    (void)state;
    for (int mode = 0; mode < 2; mode++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            sy_stop_set_grace(1);
            sy_stop_install();
            raise(SIGTERM);
            if (sy_stop_signal() != SIGTERM) _exit(3); /* the first is only noted */
            if (mode == 0) raise(SIGTERM);           /* a second one ends it */
            for (;;) pause();                          /* a stop that never finishes */
        }
        double t0 = (double)time(NULL);
        int st;
        assert_int_equal(waitpid(pid, &st, 0), pid);
        assert_true(WIFSIGNALED(st));
        assert_int_equal(WTERMSIG(st), SIGTERM);
        if (mode == 1) assert_true((double)time(NULL) - t0 <= 5); /* ended by the 1 s grace alarm */
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_atomic_interrupted),
        cmocka_unit_test(test_checkpoint_params),
        cmocka_unit_test(test_flags),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_run_record),
        cmocka_unit_test(test_run_files),
        cmocka_unit_test(test_plots),
        cmocka_unit_test(test_stop_signals),
    };
    return cmocka_run_group_tests(tests, setup_dir, teardown_dir);
}
