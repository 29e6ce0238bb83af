/* The op table: the single list of every op. From it come the op enum, the
 * name table, and the declarations every op must define (shape rule, reference
 * forward, reference backward), so an op without a backward fails to link.
 * Columns: ENUM, name (also the function suffix), number of inputs. */
#ifndef SYRE_OP_TABLE_H
#define SYRE_OP_TABLE_H

#define SY_OP_LIST(X)            \
    X(INPUT, input, 0)           \
    X(PARAM, param, 0)           \
    X(MATMUL, matmul, 2)         \
    X(BIAS_ADD, bias_add, 2)     \
    X(ADD, add, 2)               \
    X(SUB, sub, 2)               \
    X(MUL, mul, 2)               \
    X(SCALE, scale, 1)           \
    X(RELU, relu, 1)             \
    X(TANH, tanh, 1)             \
    X(SIGMOID, sigmoid, 1)       \
    X(SILU, silu, 1)             \
    X(EXP, exp, 1)               \
    X(LOG, log, 1)               \
    X(SQUARE, square, 1)         \
    X(SUM, sum, 1)               \
    X(MEAN, mean, 1)             \
    X(SUM_AXIS, sum_axis, 1)     \
    X(MEAN_AXIS, mean_axis, 1)   \
    X(RESHAPE, reshape, 1)       \
    X(CONCAT, concat, 2)         \
    X(SLICE, slice, 1)           \
    X(CONV2D, conv2d, 2)         \
    X(MAXPOOL2D, maxpool2d, 1)   \
    X(GLOBAL_AVGPOOL, global_avgpool, 1) \
    X(BATCHNORM, batchnorm, 5)   \
    X(DROPOUT, dropout, 1)       \
    X(L2NORMALIZE, l2normalize, 1) \
    X(SOFTMAX_CE, softmax_ce, 2) \
    X(MSE, mse, 2)               \
    X(BCE_LOGITS, bce_logits, 2) \
    X(KL_GAUSS, kl_gauss, 2)     \
    /* clipped objectives (src/ops/clip.c) */ \
    X(CLAMP, clamp, 1)           \
    X(MINIMUM, minimum, 2)       \
    /* data-parallel runs (src/ops/gather.c) */ \
    X(RANK_GATHER, rank_gather, 1)

typedef enum {
#define SY_OP_ENUM(E, n, a) SY_OP_##E,
    SY_OP_LIST(SY_OP_ENUM)
#undef SY_OP_ENUM
    SY_OP_COUNT
} sy_op;

#endif
