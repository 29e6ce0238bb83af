/* The ResNet18 builder (sy_resnet18) and experiment `resnet` (Fig. 3 middle)
 * at its quick scale on real CIFAR-10 images.
 *
 * Builder: the standard width-64 model has the 11,173,962 parameters of the
 * usual CIFAR ResNet18 (pytorch-cifar), every stage has its shape, and a bad
 * width is refused by name.
 *
 * Experiment, quick scale (width 8, 2000 training / 1000 test images, 2
 * epochs, SGD 0.1 momentum 0.9 cosine, weight decay 5e-4, crop + flip):
 * vanilla and syre at sigma0 = 0.01 both learn (measured with `syre
 * reproduce fig3-mid --quick --seeds 3`, seeds 1-3: vanilla 0.292, 0.313,
 * 0.281, syre 0.260, 0.308, 0.300 test accuracy; chance 0.10). The
 * seed-to-seed spread (std 0.016 and 0.026) is as large as the difference
 * between the methods (-0.032, -0.005, +0.019), so the test asserts only
 * |difference| < 0.1, not the paper's equality, which this scale cannot
 * resolve (docs/results/resnet.md has the whole sweep). It needs the real
 * CIFAR-10 and is skipped, visibly, without it. The pipeline itself runs
 * everywhere, on a fixture the test writes (tests/cifar_fixture.h): both
 * data formats, syre at sigma0 = 0 equal to vanilla bit for bit and at 0.01
 * not. Also:
 * bad flag values are refused by name. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "syre/syre.h"
#include "../cli/env_options.h"

#include "exp_harness.h"

#include "cifar_fixture.h"

static void test_builder(void **state)
{
    (void)state;
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    sy_var x = sy_input(g, "x", sy_shape_of(4, 2, 3, 32, 32));
    sy_resnet_taps t;
    sy_var y = sy_resnet18(g, x, NULL, 64, 10, &t);
    assert_int_equal(sy_graph_status(g), SY_OK);
    assert_true(y >= 0);
    assert_int_equal(sy_params_layout(ps), SY_OK);
    assert_int_equal(sy_params_num_trainable(ps), 11173962);
    sy_shape s = sy_graph_shape(g, t.stage[3]);
    assert_int_equal(s.dim[1], 512);
    assert_int_equal(s.dim[2], 4);
    assert_int_equal(sy_graph_shape(g, t.stage[0]).dim[2], 32);
    assert_int_equal(sy_graph_shape(g, t.features).dim[1], 512);
    assert_int_equal(sy_graph_shape(g, y).dim[1], 10);
    /* torchvision's names, with the prefix */
    assert_true(sy_params_find(ps, "layer2.0.downsample.0.weight") >= 0);
    assert_true(sy_params_find(ps, "layer1.0.downsample.0.weight") < 0);
    assert_true(sy_params_find(ps, "fc.bias") >= 0);
    sy_graph_free(g);
    sy_params_free(ps);

    /* width 4, features only, with a prefix: it compiles and runs */
    ps = sy_params_new();
    g = sy_graph_new(ps);
    x = sy_input(g, "x", sy_shape_of(4, 2, 3, 32, 32));
    y = sy_resnet18(g, x, "enc.", 4, 0, NULL);
    assert_int_equal(sy_graph_compile(g), SY_OK);
    assert_int_equal(sy_graph_shape(g, y).dim[1], 32);
    assert_true(sy_params_find(ps, "enc.layer4.1.bn2.running_var") >= 0);
    assert_int_equal(sy_params_init(ps, 1), SY_OK);
    float *xd = sy_graph_data(g, x);
    for (int i = 0; i < 2 * 3072; i++) xd[i] = (float)((i * 7919) % 101) / 101.0f;
    assert_int_equal(sy_graph_forward(g), SY_OK);
    const float *f = sy_graph_data(g, y);
    for (int i = 0; i < 64; i++) assert_true(isfinite(f[i]) && f[i] >= 0); /* pooled ReLU outputs */
    sy_graph_free(g);
    sy_params_free(ps);

    /* a bad width is refused when compiling, naming the width */
    ps = sy_params_new();
    g = sy_graph_new(ps);
    x = sy_input(g, "x", sy_shape_of(4, 2, 3, 32, 32));
    assert_true(sy_resnet18(g, x, NULL, 0, 10, NULL) < 0);
    assert_int_equal(sy_graph_compile(g), SY_ERR_ARG);
    assert_non_null(strstr(sy_last_error(), "width"));
    sy_graph_free(g);
    sy_params_free(ps);
}

/* The whole pipeline on the suite's own CIFAR-format fixture, in both
 * formats (width 4, 100 training / 50 test images, 1 epoch): it runs to the
 * end on either, both give the same records to the last digit (the same
 * pixels in the same order), syre at sigma0 = 0 is vanilla bit for bit, and
 * at sigma0 = 0.01 it is not (the anchor is applied). */
static void test_fixture_pipeline(void **state)
{
    (void)state;
    char root[512], dir[600];
    snprintf(root, sizeof root, "%s/cifar-fixture", tmpdir);
    cifar_fixture_write(root, 10, 5);
    double acc[2], loss[2];
    const char *fmt[2] = {"bin", "folder"};
    for (int f = 0; f < 2; f++) {
        snprintf(dir, sizeof dir, "%s/%s", root, fmt[f]);
        /* sigma0 0 on the batches, 0.01 on the folder: vanilla is the same run in both */
        const char *extra[] = {"--data-dir", dir,  "--sigma0", f ? "0.01" : "0", "--width", "4",       "--train-n",
                               "100",        "--test-n", "50", "--epochs", "1", "--batch", "20"};
        sy_run *run = run_quick_exp("resnet", fmt[f], 14, extra);
        acc[f] = summary_val(run, "vanilla", "test_acc"), loss[f] = summary_val(run, "vanilla", "train_loss");
        printf("# resnet on the %s fixture: test accuracy %.4f, train loss %.4f; syre %.9g\n", fmt[f], acc[f], loss[f],
               summary_val(run, "syre", "train_loss"));
        assert_true(acc[f] >= 0 && acc[f] <= 1);
        if (f == 0) {
            assert_true(summary_val(run, "syre", "test_acc") == acc[f]);
            assert_true(summary_val(run, "syre", "train_loss") == loss[f]);
        } else { /* a nonzero anchor moves syre off vanilla's path */
            assert_true(summary_val(run, "syre", "train_loss") != loss[f]);
        }
        sy_run_free(run);
    }
    assert_true(acc[0] == acc[1] && loss[0] == loss[1]);
}

static void test_quick_claim(void **state)
{
    (void)state;
    SKIP_WITHOUT_REAL_CIFAR10();
    sy_run *run = run_quick_exp("resnet", "quick", 0, NULL);
    double va = summary_val(run, "vanilla", "test_acc"), sa = summary_val(run, "syre", "test_acc");
    printf("# resnet quick: test accuracy vanilla %.4f, syre (sigma0 0.01) %.4f; train loss %.4f / %.4f\n", va, sa,
           summary_val(run, "vanilla", "train_loss"), summary_val(run, "syre", "train_loss"));
    assert_true(va > 0.2);
    assert_true(sa > 0.2);
    assert_true(fabs(va - sa) < 0.1); /* measured: 0.032 */
    assert_true(summary_val(run, "vanilla", "train_loss") < 2.2); /* below log 10 = 2.30 */
    sy_run_free(run);
}

static void expect_refused(const char *flag, const char *value) { expect_flag_refused("resnet", flag, value); }

static void test_bad_flags(void **state)
{
    (void)state;
    expect_refused("width", "0");
    expect_refused("gamma", "-1");
    expect_refused("lr", "0");
    expect_refused("momentum", "1");
    expect_refused("batch", "1");
    expect_refused("seeds", "0");
    expect_refused("test-n", "5");
    expect_refused("method", "bogus");
}

int main(void)
{
    if (sy_env_apply_runtime() != SY_OK) { /* SYRE_DATA, as the command reads it */
        fprintf(stderr, "%s\n", sy_last_error());
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_builder),
        cmocka_unit_test(test_bad_flags),
        cmocka_unit_test(test_fixture_pipeline),
        cmocka_unit_test(test_quick_claim),
    };
    return cifar_exit_status(cmocka_run_group_tests(tests, setup_dir, teardown_dir));
}
