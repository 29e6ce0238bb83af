/* Layer builders: each creates (or reuses, by name) its parameters in the
 * graph's store and composes ops. Initialisation follows PyTorch's defaults,
 * so models match it layer for layer. Names are "<name>.weight",
 * "<name>.bias", ...: parameter groups (e.g. for syre) select by these names. */
#ifndef SYRE_NN_H
#define SYRE_NN_H

#include "syre/graph.h"

#ifdef __cplusplus
extern "C" {
#endif

/* y = x W^T + b, x [N,in] -> [N,out]; W [out,in], b [out] ~ U(-1/sqrt(in), 1/sqrt(in)). */
sy_var sy_linear(sy_graph *g, sy_var x, const char *name, int out);
/* Same without bias. */
sy_var sy_linear_nobias(sy_graph *g, sy_var x, const char *name, int out);
/* 2-D convolution layer with optional bias; W [out,C,k,k], fan_in = C*k*k. */
sy_var sy_conv2d_layer(sy_graph *g, sy_var x, const char *name, int out, int k, int stride, int pad,
                       int bias);
/* Batch norm layer: weight = 1, bias = 0, running_mean = 0, running_var = 1;
 * momentum 0.1, eps 1e-5 (PyTorch's defaults). */
sy_var sy_batchnorm_layer(sy_graph *g, sy_var x, const char *name);

/* Activation selector for sy_mlp. */
typedef enum { SY_ACT_RELU, SY_ACT_TANH, SY_ACT_SIGMOID, SY_ACT_SILU, SY_ACT_NONE } sy_act;
sy_var sy_activation(sy_graph *g, sy_var x, sy_act act);

/* A multilayer perceptron: sizes[0] is the input width, sizes[n_sizes-1] the
 * output; `act` after every layer but the last. Layers are "<name>.0", ... */
sy_var sy_mlp(sy_graph *g, sy_var x, const char *name, const int *sizes, int n_sizes, sy_act act);

/* Feature nodes of sy_mnist_cnn, for diagnostics (any pointer may be NULL). */
typedef struct {
    sy_var conv1; /* after conv1, pool, relu, flattened: [N, 1440] */
    sy_var conv2; /* after conv2, pool, relu, flattened: [N, 320] */
    sy_var fc1;   /* after fc1 and relu: [N, 50] */
} sy_mnist_cnn_taps;

/* The paper's MNIST CNN (continual learning, C.6): conv(1->10, k5) - maxpool2 -
 * relu - conv(10->20, k5) - maxpool2 - relu - fc(320->50) - relu - fc(50->10),
 * x [N,1,28,28] -> logits [N,10]; parameters conv1, conv2, fc1, fc2 (PyTorch's
 * names for the same model). taps may be NULL. */
sy_var sy_mnist_cnn(sy_graph *g, sy_var x, sy_mnist_cnn_taps *taps);

/* Feature nodes of sy_resnet18 (any may be left unread). */
typedef struct {
    sy_var stem;      /* after conv1-bn1-relu: [N, w, H, W] */
    sy_var stage[4];  /* after layer1..layer4: [N, w<<s, H>>s, W>>s] */
    sy_var features;  /* global average pool of layer4: [N, 8w] (penultimate layer) */
} sy_resnet_taps;

/* ResNet18, CIFAR form: 3x3 stride-1 stem (no max-pool), four stages of two
 * basic blocks with w, 2w, 4w, 8w channels (w = width; 64 = the standard
 * 11.2M-parameter model), stride 2 at the first block of stages 2-4 with a
 * 1x1 strided conv + batch norm shortcut, batch norm after every conv,
 * global average pooling. x [N,C,H,W] -> logits [N, n_classes] through a
 * linear layer "fc", or the pooled features [N, 8w] when n_classes <= 0.
 * Parameter names are torchvision's ("conv1", "bn1", "layer2.0.conv1",
 * "layer2.0.downsample.0", "fc", ...) after `prefix` (NULL = none; e.g.
 * "encoder." so that optimizer rules can select it). taps may be NULL. */
sy_var sy_resnet18(sy_graph *g, sy_var x, const char *prefix, int width, int n_classes, sy_resnet_taps *taps);

/* ---- A classifier's two graphs --------------------------------------------
 * One store and two graphs: `train`, with inputs x [batch, sample...] and
 * labels y [batch], the logits and their mean cross-entropy `loss`; and
 * `eval`, with input ex [eval_batch, sample...] and its logits `elogits`,
 * in inference mode (batch norm's running statistics, no dropout). net
 * builds a graph's logits from its input (eval 1 for the evaluation graph)
 * with the same parameter names in both, so that they share the store. The
 * graphs are compiled; the store is not initialised (sy_params_init). */
/* Builds the logits of a network on input x in graph g (eval: 1 for the
 * evaluation graph); its errors are g's, reported by sy_graph_compile. */
typedef sy_var (*sy_net_fn)(void *ctx, sy_graph *g, sy_var x, int eval);
/* A classifier's store and its two graphs, as above. */
typedef struct {
    sy_params *ps;             /* the parameters both graphs share */
    sy_graph *train, *eval;    /* the training and the evaluation graph */
    sy_var x, y, logits, loss; /* the training graph's */
    sy_var ex, elogits;        /* the evaluation graph's */
} sy_classifier;
/* On failure m is left empty. */
sy_status sy_classifier_new(sy_classifier *m, sy_shape sample, int batch, int eval_batch, sy_net_fn net, void *ctx);
/* Frees the graphs and the store; m is left empty (safe to call twice). */
void sy_classifier_free(sy_classifier *m);

/* SimCLR v1's projection head: z = W2 relu(W1 h + b1) + b2, W1 [hidden, in],
 * W2 [out, hidden]; parameters "<name>.0" and "<name>.2" (PyTorch's
 * Sequential(Linear, ReLU, Linear)), so that a rule can select "<name>.*". */
sy_var sy_projection_head(sy_graph *g, sy_var h, const char *name, int hidden, int out);

/* NT-Xent (SimCLR) over z [2B, p], two views of B items stacked (rows i and
 * i + B are partners): u = z / ||z||, S = u u^T / tau + mask, and the mean
 * over the 2B rows of softmax cross-entropy of each row against its partner.
 * mask [2B, 2B] and partner [2B] are inputs the caller creates and, after
 * compile, fills with sy_nt_xent_fill. */
sy_var sy_nt_xent(sy_graph *g, sy_var z, sy_var mask, sy_var partner, double tau);
/* mask: -1e4 on the diagonal (a row is not its own candidate), 0 elsewhere;
 * partner[i] = (i + batch) mod 2 batch. */
void sy_nt_xent_fill(float *mask, float *partner, int batch);
/* NT-Xent with the negatives of the global batch of a data-parallel run
 * (syre/dist.h): each of the N ranks holds 2B rows z [2B, P] (its view 1,
 * then view 2); u = z / ||z|| is gathered over the ranks (sy_rank_gather,
 * whose backward hands each rank the gradient of its rows from every rank's
 * loss), S = u U^T / tau + mask [2B, 2BN], and the mean over this rank's
 * rows of the cross-entropy against the partner's column. The mean over
 * ranks of this loss is the one-process NT-Xent of the global batch of BN
 * images (rows in another order), and so is the mean of the gradients.
 * Fill mask and partner with sy_nt_xent_fill_ranks. */
sy_var sy_nt_xent_ranks(sy_graph *g, sy_var z, sy_var mask, sy_var partner, double tau);
/* mask [2 batch, 2 batch nranks]: -1e4 at each row's own column
 * (rank * 2 batch + i), 0 elsewhere; partner[i] = rank * 2 batch +
 * (i + batch) mod 2 batch. */
void sy_nt_xent_fill_ranks(float *mask, float *partner, int batch, int rank, int nranks);

/* SimCLR (Chen et al. 2020) on [3, 32, 32] images: a sy_resnet18 encoder
 * ("encoder.*", width w, no classifier: h [N, 8w], the penultimate
 * representation) and a projection head ("head", 8w -> 8w -> proj: z, the
 * last layer), on one store, in two graphs: the training graph, NT-Xent
 * (tau) over 2 batch rows (view 1 of the batch, then view 2; mask and
 * partner filled), and the feature graph of eval_n images in evaluation
 * mode. On failure everything is freed. */
typedef struct {
    sy_params *ps;                 /* the parameters both graphs share */
    sy_graph *train, *feat;        /* the training and the feature graph */
    sy_var x, mask, partner, loss; /* training graph */
    sy_var fx, h, z;               /* feature graph: input, encoder output, head output */
    int hidden, proj, batch, eval_n; /* hidden = 8w (h's and the head's width); the rest as given */
} sy_simclr;
/* Builds and compiles both graphs into *m (batch: this rank's images; under
 * mpirun the loss is sy_nt_xent_ranks); the store is not initialised
 * (sy_params_init). Fails with SY_ERR_NOMEM or as sy_graph_compile. */
sy_status sy_simclr_new(sy_simclr *m, int width, int proj, int batch, int eval_n, double tau);
/* Frees the graphs and the store and clears their pointers (safe to call twice). */
void sy_simclr_free(sy_simclr *m);

#ifdef __cplusplus
}
#endif
#endif
