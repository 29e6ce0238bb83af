/* ResNet18 in its CIFAR form (He et al. 2016 as adapted for 32x32 images in
 * the common pytorch-cifar code): a 3x3 stride-1 stem without max-pool, four
 * stages of two basic blocks at width, 2 width, 4 width, 8 width channels
 * (64-128-256-512 for the standard model), the first block of stages 2-4
 * downsampling by a stride-2 3x3 conv with a 1x1 stride-2 conv + batch norm
 * shortcut, then global average pooling. Used by the `resnet` (Fig. 3 middle)
 * and `simclr` (Table 1) experiments.
 *
 * Parameters follow torchvision's names under an optional prefix:
 * "<p>conv1", "<p>bn1", "<p>layer<s>.<b>.conv1|bn1|conv2|bn2",
 * "<p>layer<s>.0.downsample.0|1" and "<p>fc" (when a classifier is asked
 * for). Initialisation is each layer builder's PyTorch default (conv:
 * U(+-1/sqrt(fan_in)), batch norm: 1 and 0), which also fixes syre's anchor
 * scale sigma0/sqrt(fan_in) per tensor. Convolutions have no bias (each is
 * followed by batch norm). */
#include "syre/nn.h"

#include <stdio.h>

#include "graph/graph_impl.h"

static const char *join(char *buf, size_t n, const char *prefix, const char *rest)
{
    snprintf(buf, n, "%s%s", prefix, rest);
    return buf;
}

/* conv3x3/1x1 - bn: the builders share the name pattern. */
static sy_var conv_bn(sy_graph *g, sy_var x, const char *conv, const char *bn, int out, int k, int stride, int pad)
{
    return sy_batchnorm_layer(g, sy_conv2d_layer(g, x, conv, out, k, stride, pad, 0), bn);
}

/* relu(bn2(conv2(relu(bn1(conv1(x))))) + shortcut(x)) */
static sy_var basic_block(sy_graph *g, sy_var x, const char *name, int in, int out, int stride)
{
    char a[160], b[160];
    snprintf(a, sizeof a, "%s.conv1", name);
    snprintf(b, sizeof b, "%s.bn1", name);
    sy_var h = sy_relu(g, conv_bn(g, x, a, b, out, 3, stride, 1));
    snprintf(a, sizeof a, "%s.conv2", name);
    snprintf(b, sizeof b, "%s.bn2", name);
    h = conv_bn(g, h, a, b, out, 3, 1, 1);
    sy_var sc = x;
    if (stride != 1 || in != out) {
        snprintf(a, sizeof a, "%s.downsample.0", name);
        snprintf(b, sizeof b, "%s.downsample.1", name);
        sc = conv_bn(g, x, a, b, out, 1, stride, 0);
    }
    return sy_relu(g, sy_add(g, h, sc));
}

sy_var sy_resnet18(sy_graph *g, sy_var x, const char *prefix, int width, int n_classes, sy_resnet_taps *taps)
{
    if (!prefix) prefix = "";
    if (!g) return -1;
    if (width < 1 || width > 4096)
        return sy_graph_error(g, SY_ERR_ARG, "resnet18: width %d must be in [1, 4096] (64 = the standard ResNet18)",
                              width);
    if (x >= 0 && x < sy_graph_num_nodes(g) && sy_graph_shape(g, x).ndim != 4) {
        char sb[64];
        return sy_graph_error(g, SY_ERR_SHAPE, "resnet18: input must be images [N,C,H,W], got %s",
                              sy_shape_str(sy_graph_shape(g, x), sb));
    }
    char a[160], b[160];
    sy_var h = sy_relu(g, conv_bn(g, x, join(a, sizeof a, prefix, "conv1"), join(b, sizeof b, prefix, "bn1"), width,
                                  3, 1, 1));
    if (taps) taps->stem = h;
    int in = width;
    for (int s = 0; s < 4; s++) {
        int out = width << s;
        for (int k = 0; k < 2; k++) {
            char name[128];
            snprintf(name, sizeof name, "%slayer%d.%d", prefix, s + 1, k);
            h = basic_block(g, h, name, in, out, k == 0 && s > 0 ? 2 : 1);
            in = out;
        }
        if (taps) taps->stage[s] = h;
    }
    h = sy_global_avgpool(g, h);
    if (taps) taps->features = h;
    if (n_classes <= 0) return h;
    return sy_linear(g, h, join(a, sizeof a, prefix, "fc"), n_classes);
}
