#define _GNU_SOURCE
/* Resuming from a training checkpoint continues bit for bit: 20 steps in one
 * go equal 10 steps, save, load into a fresh model and optimizer, 10 steps.
 * Also: a damaged or mismatching checkpoint is refused and changes nothing;
 * single-bit flips anywhere in a checkpoint are refused or fall back to the
 * previous checkpoint, never accepted; a kill during the rotation of the two
 * checkpoints always leaves one that loads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "syre/syre.h"

typedef struct {
    sy_params *ps;
    sy_graph *g;
    sy_optimizer *opt;
    sy_var x, y, loss;
} model;

static sy_optim_opts syre_opts(float sigma0, uint64_t seed)
{
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAM);
    o.lr = 1e-2f;
    o.decay = sy_decay_syre(1e-2f, sigma0);
    o.seed = seed;
    return o;
}

static void build_with(model *m, int hidden, sy_optim_opts o)
{
    m->ps = sy_params_new();
    m->g = sy_graph_new(m->ps);
    int sizes[3] = {12, hidden, 4};
    m->x = sy_input(m->g, "x", sy_shape_of(2, 16, 12));
    m->y = sy_input(m->g, "y", sy_shape_of(1, 16));
    sy_var h = sy_dropout(m->g, sy_mlp(m->g, m->x, "mlp", sizes, 3, SY_ACT_RELU), 0.1f);
    m->loss = sy_softmax_ce(m->g, h, m->y);
    assert_int_equal(sy_graph_compile(m->g), SY_OK);
    assert_int_equal(sy_params_init(m->ps, 9), SY_OK);
    m->opt = sy_optimizer_new(m->ps, &o);
    assert_non_null(m->opt);
}

static void build(model *m, int hidden) { build_with(m, hidden, syre_opts(0.1f, 9)); }

static void steps(model *m, int from, int to)
{
    for (int s = from; s < to; s++) {
        float *x = sy_graph_data(m->g, m->x), *y = sy_graph_data(m->g, m->y);
        for (int i = 0; i < 16 * 12; i++) x[i] = (float)((i * 13 + s * 7) % 17) / 17.0f - 0.5f;
        for (int i = 0; i < 16; i++) y[i] = (float)((i + s) % 4);
        assert_int_equal(sy_graph_forward(m->g), SY_OK);
        assert_int_equal(sy_graph_backward(m->g, m->loss), SY_OK);
        assert_int_equal(sy_optimizer_step(m->opt), SY_OK);
    }
}

static void drop(model *m)
{
    sy_optimizer_free(m->opt);
    sy_graph_free(m->g);
    sy_params_free(m->ps);
}

/* Remove a checkpoint, its previous copy and their (otherwise empty) directory. */
static void remove_checkpoint(const char *dir, const char *path)
{
    char prev[300];
    sy_train_prev_path(path, prev, sizeof prev);
    unlink(prev);
    unlink(path);
    rmdir(dir);
}

static void test_resume_is_bit_identical(void **state)
{
    char dir[] = "/tmp/syre-train-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);

    model a, b;
    build(&a, 10);
    steps(&a, 0, 10);
    sy_train_pos pos = {.epoch = 3, .batch = 10, .graph_step = (int64_t)sy_graph_step(a.g), .loss_sum = 0.1 + 1e-17 * 3,
                        .aux_sum = 1.0 / 3};
    assert_int_equal(sy_train_save(path, a.ps, a.opt, &pos), SY_OK);
    steps(&a, 10, 20);

    build(&b, 10);
    sy_train_pos got;
    assert_int_equal(sy_train_load(path, b.ps, b.opt, &got), SY_OK);
    assert_int_equal(got.epoch, 3);
    assert_int_equal(got.batch, 10);
    assert_true(got.loss_sum == pos.loss_sum && got.aux_sum == pos.aux_sum); /* doubles, exactly */
    sy_graph_set_step(b.g, (uint64_t)got.graph_step);
    steps(&b, 10, 20);
    assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), sy_params_total_size(a.ps) * sizeof(float));
    drop(&b);

    /* Another model's shapes: refused, naming the file; the store is untouched. */
    model c;
    build(&c, 11);
    float before = sy_params_data(c.ps)[0];
    assert_int_equal(sy_train_load(path, c.ps, c.opt, &got), SY_ERR_SHAPE);
    assert_non_null(strstr(sy_last_error(), "ckpt.safetensors"));
    assert_true(sy_params_data(c.ps)[0] == before);
    drop(&c);

    /* A truncated file is refused with the file's name. */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(ftruncate(fileno(f), 100), 0);
    fclose(f);
    build(&c, 10);
    assert_int_not_equal(sy_train_load(path, c.ps, c.opt, &got), SY_OK);
    assert_non_null(strstr(sy_last_error(), "ckpt.safetensors"));
    assert_int_equal(sy_train_load("/nonexistent/x.safetensors", c.ps, c.opt, &got), SY_ERR_IO);
    drop(&c);
    drop(&a);
    unlink(path);
    rmdir(dir);
}

/* The optimizer state is in the file per tensor, unpadded, with the
 * tensor's shape (optim.exp_avg.mlp.0.weight), readable by other tools; a
 * checkpoint of the older layout (one padded array per state, optim.<state>)
 * still loads and continues bit for bit. */
static void test_state_per_tensor_and_older_layout(void **state)
{
    (void)state;
    char dir[] = "/tmp/syre-train-XXXXXX", path[256], old[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    snprintf(old, sizeof old, "%s/old.safetensors", dir);
    model a;
    build(&a, 10);
    steps(&a, 0, 5);
    sy_train_pos pos = {.epoch = 1, .graph_step = (int64_t)sy_graph_step(a.g)};
    assert_int_equal(sy_train_save(path, a.ps, a.opt, &pos), SY_OK);

    sy_safetensors *st = NULL;
    assert_int_equal(sy_safetensors_read(path, &st), SY_OK);
    assert_true(sy_optimizer_num_state(a.opt) >= 2); /* Adam: exp_avg, exp_avg_sq (and syre's anchor) */
    for (int k = 0; k < sy_optimizer_num_state(a.opt); k++) {
        char name[160];
        snprintf(name, sizeof name, "optim.%s", sy_optimizer_state_name(a.opt, k));
        assert_true(sy_safetensors_find(st, name) < 0); /* no padded flat array */
        for (int t = 0; t < sy_params_count(a.ps); t++) {
            const sy_param_info *pi = sy_params_info(a.ps, t);
            if (!pi->trainable) continue;
            snprintf(name, sizeof name, "optim.%s.%s", sy_optimizer_state_name(a.opt, k), pi->name);
            int i = sy_safetensors_find(st, name);
            if (i < 0) fail_msg("no tensor %s", name);
            assert_true(sy_shape_equal(sy_safetensors_shape(st, i), pi->shape));
            assert_memory_equal(sy_safetensors_data(st, i), sy_optimizer_state(a.opt, k) + pi->offset,
                                pi->numel * sizeof(float));
        }
    }
    sy_safetensors_free(st);

    /* The older layout, written as it was: flat padded arrays. */
    int ns = sy_optimizer_num_state(a.opt);
    size_t n = sy_optimizer_state_size(a.opt);
    char names[8][96], steps_s[32], gs[32];
    sy_st_tensor extra[8];
    for (int k = 0; k < ns; k++) {
        snprintf(names[k], sizeof names[k], "optim.%s", sy_optimizer_state_name(a.opt, k));
        extra[k] = (sy_st_tensor){names[k], sy_shape_of(1, (int)n), sy_optimizer_state(a.opt, k)};
    }
    snprintf(steps_s, sizeof steps_s, "%ld", sy_optimizer_steps(a.opt));
    snprintf(gs, sizeof gs, "%lld", (long long)pos.graph_step);
    sy_st_meta meta[] = {{"epoch", "1"}, {"batch", "0"}, {"graph_step", gs}, {"optimizer_steps", steps_s},
                         {"done", "0"}, {"checkpoint", "old.safetensors"}};
    assert_int_equal(sy_checkpoint_save_params(old, a.ps, extra, ns, meta, 6), SY_OK);
    steps(&a, 5, 10);
    const char *files[2] = {path, old};
    for (int f = 0; f < 2; f++) {
        model b;
        build(&b, 10);
        sy_train_pos got;
        assert_int_equal(sy_train_load(files[f], b.ps, b.opt, &got), SY_OK);
        sy_graph_set_step(b.g, (uint64_t)got.graph_step);
        steps(&b, 5, 10);
        assert_memory_equal(sy_params_data(a.ps), sy_params_data(b.ps), sy_params_total_size(a.ps) * sizeof(float));
        drop(&b);
    }
    drop(&a);
    unlink(old);
    remove_checkpoint(dir, path);
}

/* A checkpoint is refused by an optimizer whose decay differs from the one
 * that trained it (another sigma0, plain weight decay instead of syre on one
 * layer, anchors from another seed), naming the tensor and both rules, and
 * nothing is changed; the same rule loads. */
static void test_other_decay_refused(void **state)
{
    (void)state;
    char dir[] = "/tmp/syre-train-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    model a;
    build(&a, 10);
    steps(&a, 0, 3);
    sy_train_pos pos = {.epoch = 1};
    assert_int_equal(sy_train_save(path, a.ps, a.opt, &pos), SY_OK);

    sy_optim_opts l2_on_first = syre_opts(0.1f, 9);
    assert_int_equal(sy_optim_add_rule(&l2_on_first, "mlp.0.*", sy_decay_l2(1e-2f)), SY_OK);
    const struct {
        sy_optim_opts o;
        const char *says[3];
    } other[] = {
        {syre_opts(0.5f, 9), {"'mlp.0.weight'", "sigma0 0.1", "sigma0 0.5"}},
        {l2_on_first, {"'mlp.0.weight'", "syre", "l2"}},
        {syre_opts(0.1f, 10), {"seed", "9", "10"}},
    };
    for (size_t k = 0; k < sizeof other / sizeof other[0]; k++) {
        model b;
        build_with(&b, 10, other[k].o);
        size_t n = sy_params_total_size(b.ps);
        float *before = malloc(n * sizeof *before);
        memcpy(before, sy_params_data(b.ps), n * sizeof *before);
        sy_train_pos got = {0};
        assert_int_equal(sy_train_load(path, b.ps, b.opt, &got), SY_ERR_ARG);
        for (int w = 0; w < 3; w++)
            if (!strstr(sy_last_error(), other[k].says[w])) fail_msg("case %zu: '%s' lacks '%s'", k, sy_last_error(), other[k].says[w]);
        assert_memory_equal(before, sy_params_data(b.ps), n * sizeof *before);
        free(before);
        drop(&b);
    }
    model c;
    build(&c, 10);
    sy_train_pos got = {0};
    assert_int_equal(sy_train_load(path, c.ps, c.opt, &got), SY_OK);
    drop(&c);
    drop(&a);
    remove_checkpoint(dir, path);
}

static unsigned char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *b = malloc(*n);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, *n, f), *n);
    fclose(f);
    return b;
}

static void spit(const char *path, const unsigned char *b, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, n, f), n);
    fclose(f);
}

/* stderr to /dev/null and back (the fallback notices of a thousand loads). */
static int quiet(int fd)
{
    fflush(stderr);
    if (fd < 0) {
        int saved = dup(2);
        FILE *n = fopen("/dev/null", "w");
        dup2(fileno(n), 2);
        fclose(n);
        return saved;
    }
    dup2(fd, 2);
    close(fd);
    return -1;
}

#define FLIPS 1000

static void test_bit_flips_refused_or_fall_back(void **state)
{
    (void)state;
    char dir[] = "/tmp/syre-flip-XXXXXX", path[256], prev[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    snprintf(prev, sizeof prev, "%s/ckpt.prev.safetensors", dir);
    model a, c;
    build(&a, 10);
    build(&c, 10);
    steps(&a, 0, 5);
    sy_train_pos pa = {.epoch = 1, .batch = 5}, pb = {.epoch = 2, .done = 1}, got;
    assert_int_equal(sy_train_save(path, a.ps, a.opt, &pa), SY_OK);
    size_t np = sy_params_total_size(a.ps);
    float *want = malloc(np * sizeof *want);
    memcpy(want, sy_params_data(a.ps), np * sizeof *want);
    steps(&a, 5, 10);
    assert_int_equal(sy_train_save(path, a.ps, a.opt, &pb), SY_OK);
    assert_int_equal(access(prev, F_OK), 0); /* the previous checkpoint is kept */
    size_t n, hlen = 0;
    unsigned char *good = slurp(path, &n), *bad = malloc(n);
    for (int k = 0; k < 8; k++) hlen |= (size_t)good[k] << (8 * k);
    /* The pristine file loads (the newer state). */
    assert_int_equal(sy_train_load(path, c.ps, c.opt, &got), SY_OK);
    assert_int_equal(got.epoch, 2);

    srand(12345);
    int fell_back = 0, refused = 0, accepted = 0, in_header = 0;
    int saved = quiet(-1);
    for (int i = 0; i < 2 * FLIPS; i++) {
        /* half in the 8-byte length and JSON header, half in the tensor data */
        size_t off = i % 2 ? (size_t)rand() % (8 + hlen) : 8 + hlen + (size_t)rand() % (n - 8 - hlen);
        in_header += off < 8 + hlen;
        memcpy(bad, good, n);
        bad[off] ^= (unsigned char)(1u << (rand() % 8));
        spit(path, bad, n);
        int with_prev = i < FLIPS;
        if (!with_prev) unlink(prev);
        sy_status s = sy_train_load(path, c.ps, c.opt, &got);
        if (s != SY_OK) {
            refused++;
            if (with_prev || !strstr(sy_last_error(), "ckpt.safetensors")) accepted++; /* wrong outcome */
            if (off >= 8 + hlen && !strstr(sy_last_error(), "crc32")) accepted++;
        } else if (with_prev && got.epoch == 1 && memcmp(sy_params_data(c.ps), want, np * sizeof *want) == 0) {
            fell_back++;
        } else {
            accepted++;
            fprintf(stdout, "flip at byte %zu accepted\n", off);
        }
    }
    quiet(saved);
    printf("bit flips: %d in all (%d in the header), %d fell back to the previous checkpoint, %d refused "
           "without one, %d accepted\n", 2 * FLIPS, in_header, fell_back, refused, accepted);
    assert_int_equal(accepted, 0);
    assert_int_equal(fell_back, FLIPS);
    assert_int_equal(refused, FLIPS);

    /* The refusal names the file, the tensor and the offset. */
    memcpy(bad, good, n);
    bad[8 + hlen + 5] ^= 0x40;
    spit(path, bad, n);
    assert_int_not_equal(sy_train_load(path, c.ps, c.opt, &got), SY_OK);
    printf("message: %s\n", sy_last_error());
    assert_non_null(strstr(sy_last_error(), "ckpt.safetensors"));
    assert_non_null(strstr(sy_last_error(), "tensor '"));
    assert_non_null(strstr(sy_last_error(), "offset"));
    free(good);
    free(bad);
    free(want);
    drop(&a);
    drop(&c);
    unlink(path);
    unlink(prev);
    rmdir(dir);
}

/* SIGKILL while a process saves checkpoint after checkpoint (each save
 * rotates the previous one), at a random moment after its first save:
 * afterwards a checkpoint always loads. */
static void test_kill_during_rotation_leaves_a_checkpoint(void **state)
{
    (void)state;
    char dir[] = "/tmp/syre-rot-XXXXXX", path[256];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    model c;
    build(&c, 64);
    int kills = 0, loaded = 0;
    srand(777);
    for (int i = 0; i < 12; i++) {
        pid_t pid = fork();
        assert_true(pid >= 0);
        if (pid == 0) {
            model a;
            build(&a, 64);
            for (int64_t k = 1;; k++) {
                sy_params_data(a.ps)[0] = (float)k;
                sy_train_pos p = {.epoch = k};
                if (sy_train_save(path, a.ps, a.opt, &p) != SY_OK) _exit(3);
            }
        }
        /* after its first save (slow to come under sanitizers), a random moment */
        struct timespec poll = {0, 1000000L}, ts = {0, (long)(rand() % 30) * 1000000L};
        for (int w = 0; w < 20000 && access(path, F_OK) != 0; w++) nanosleep(&poll, NULL);
        nanosleep(&ts, NULL);
        kill(pid, SIGKILL);
        int st;
        waitpid(pid, &st, 0);
        if (WIFSIGNALED(st)) kills++;
        sy_train_pos got;
        int saved = quiet(-1);
        sy_status s = sy_train_load(path, c.ps, c.opt, &got);
        quiet(saved);
        if (s != SY_OK) fail_msg("kill %d: %s", i, sy_last_error());
        loaded++;
        assert_true(sy_params_data(c.ps)[0] == (float)got.epoch);
    }
    printf("rotation: %d SIGKILLs 0-30 ms into back-to-back saves, a checkpoint loaded after %d\n", kills, loaded);
    assert_int_equal(loaded, 12);
    drop(&c);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_resume_is_bit_identical),
                                       cmocka_unit_test(test_bit_flips_refused_or_fall_back),
                                       cmocka_unit_test(test_kill_during_rotation_leaves_a_checkpoint),
                                       cmocka_unit_test(test_other_decay_refused),
                                       cmocka_unit_test(test_state_per_tensor_and_older_layout)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
