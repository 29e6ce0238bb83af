/* Layer builders: parameters by name in the store + ops. No layer holds
 * optimizer logic; decay and syre are global rules over the flat buffer. */
#include "syre/nn.h"

#include <stdio.h>

static sy_var linear(sy_graph *g, sy_var x, const char *name, int out, int bias)
{
    if (x < 0 || x >= sy_graph_num_nodes(g)) return sy_sum(g, x); /* propagates the error */
    sy_shape s = sy_graph_shape(g, x);
    int in = s.ndim == 2 ? s.dim[1] : -1;
    char pn[128];
    snprintf(pn, sizeof pn, "%s.weight", name);
    sy_init u = {SY_INIT_UNIFORM_FANIN, 1.0f};
    sy_var w = sy_param_new(g, pn, sy_shape_of(2, out, in > 0 ? in : 1), in, u, 1);
    sy_var y = sy_matmul(g, x, w, 0, 1);
    if (!bias) return y;
    snprintf(pn, sizeof pn, "%s.bias", name);
    sy_var b = sy_param_new(g, pn, sy_shape_of(1, out), in, u, 1);
    return sy_bias_add(g, y, b);
}

sy_var sy_linear(sy_graph *g, sy_var x, const char *name, int out) { return linear(g, x, name, out, 1); }
sy_var sy_linear_nobias(sy_graph *g, sy_var x, const char *name, int out) { return linear(g, x, name, out, 0); }

sy_var sy_conv2d_layer(sy_graph *g, sy_var x, const char *name, int out, int k, int stride, int pad, int bias)
{
    if (x < 0 || x >= sy_graph_num_nodes(g)) return sy_sum(g, x);
    sy_shape s = sy_graph_shape(g, x);
    int C = s.ndim == 4 ? s.dim[1] : 1, fan_in = C * k * k;
    char pn[128];
    snprintf(pn, sizeof pn, "%s.weight", name);
    sy_init u = {SY_INIT_UNIFORM_FANIN, 1.0f};
    sy_var w = sy_param_new(g, pn, sy_shape_of(4, out, C, k, k), fan_in, u, 1);
    sy_var y = sy_conv2d(g, x, w, stride, pad);
    if (!bias) return y;
    snprintf(pn, sizeof pn, "%s.bias", name);
    sy_var b = sy_param_new(g, pn, sy_shape_of(1, out), fan_in, u, 1);
    return sy_bias_add(g, y, b);
}

sy_var sy_batchnorm_layer(sy_graph *g, sy_var x, const char *name)
{
    if (x < 0 || x >= sy_graph_num_nodes(g)) return sy_sum(g, x);
    int C = sy_graph_shape(g, x).dim[1];
    char pn[4][128];
    const char *suffix[4] = {"weight", "bias", "running_mean", "running_var"};
    sy_init init[4] = {{SY_INIT_ONE, 1}, {SY_INIT_ZERO, 0}, {SY_INIT_ZERO, 0}, {SY_INIT_ONE, 1}};
    sy_var v[4];
    for (int i = 0; i < 4; i++) {
        snprintf(pn[i], sizeof pn[i], "%s.%s", name, suffix[i]);
        v[i] = sy_param_new(g, pn[i], sy_shape_of(1, C), C, init[i], i < 2);
    }
    return sy_batchnorm(g, x, v[0], v[1], v[2], v[3], 0.1f, 1e-5f);
}

sy_var sy_activation(sy_graph *g, sy_var x, sy_act act)
{
    switch (act) {
    case SY_ACT_RELU: return sy_relu(g, x);
    case SY_ACT_TANH: return sy_tanh(g, x);
    case SY_ACT_SIGMOID: return sy_sigmoid(g, x);
    case SY_ACT_SILU: return sy_silu(g, x);
    default: return x;
    }
}

sy_var sy_mlp(sy_graph *g, sy_var x, const char *name, const int *sizes, int n_sizes, sy_act act)
{
    char ln[128];
    for (int i = 1; i < n_sizes; i++) {
        snprintf(ln, sizeof ln, "%s.%d", name, i - 1);
        x = sy_linear(g, x, ln, sizes[i]);
        if (i < n_sizes - 1) x = sy_activation(g, x, act);
    }
    return x;
}

sy_var sy_mnist_cnn(sy_graph *g, sy_var x, sy_mnist_cnn_taps *taps)
{
    sy_var h = sy_relu(g, sy_maxpool2d(g, sy_conv2d_layer(g, x, "conv1", 10, 5, 1, 0, 1), 2, 2));
    if (taps) taps->conv1 = sy_flatten(g, h);
    h = sy_flatten(g, sy_relu(g, sy_maxpool2d(g, sy_conv2d_layer(g, h, "conv2", 20, 5, 1, 0, 1), 2, 2)));
    if (taps) taps->conv2 = h;
    h = sy_relu(g, sy_linear(g, h, "fc1", 50));
    if (taps) taps->fc1 = h;
    return sy_linear(g, h, "fc2", 10);
}
