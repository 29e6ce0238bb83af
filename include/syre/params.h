/* The parameter store: every tensor a model trains (and its non-trained
 * buffers, such as batch-norm running statistics) in one flat buffer, with a
 * table of named views. Several graphs share one store; gradients, optimizer
 * moments and syre anchors mirror the same layout, so per-parameter rules are
 * single passes over flat arrays. */
#ifndef SYRE_PARAMS_H
#define SYRE_PARAMS_H

#include "syre/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A parameter store (opaque): sy_params_new, sy_params_free. */
typedef struct sy_params sy_params;

/* How a tensor is initialised by sy_params_init. fan_in is the tensor's. */
typedef enum {
    SY_INIT_ZERO,
    SY_INIT_ONE,
    SY_INIT_UNIFORM_FANIN,  /* U(-scale/sqrt(fan_in), scale/sqrt(fan_in)); scale 1 = PyTorch's Linear/Conv default */
    SY_INIT_NORMAL_FANIN,   /* N(0, (scale/sqrt(fan_in))^2); scale sqrt(2) = Kaiming normal */
    SY_INIT_CONSTANT        /* every element = scale */
} sy_init_kind;

/* A tensor's initialisation rule. */
typedef struct {
    sy_init_kind kind;  /* the distribution */
    float scale;        /* its scale, as each kind says (unused by ZERO and ONE) */
} sy_init;

/* One named view into the flat buffer. */
typedef struct {
    char name[96];   /* unique in the store */
    sy_shape shape;  /* the tensor's shape */
    size_t numel;    /* its element count, sy_shape_numel(shape) */
    size_t offset;   /* into sy_params_data(); valid once laid out */
    int fan_in;      /* of the layer that owns it: sets syre's anchor scale */
    int trainable;   /* 0 for buffers (running statistics): no gradient, no decay */
    sy_init init;    /* how sy_params_init fills it */
} sy_param_info;

/* An empty store; NULL when out of memory. */
sy_params *sy_params_new(void);
/* Frees the store and its buffers (host and device); NULL is a no-op. */
void sy_params_free(sy_params *ps);

/* Add a tensor; returns its index, or -1 with a message (duplicate name with
 * another shape, store already laid out, fan_in < 1, a name of 96 or more
 * characters, an invalid shape, out of memory). Adding an existing name with the
 * same shape returns the existing index, which is how graphs share weights. */
int sy_params_add(sy_params *ps, const char *name, sy_shape shape, int fan_in,
                  sy_init init, int trainable);
/* Index of a tensor by exact name, or -1. */
int sy_params_find(const sy_params *ps, const char *name);
/* Number of tensors; tensor `index`'s entry (NULL outside 0..count-1). */
int sy_params_count(const sy_params *ps);
const sy_param_info *sy_params_info(const sy_params *ps, int index);

/* Fix the layout and allocate the flat buffers (trainable tensors first, each
 * 64-byte aligned). Called implicitly by sy_params_init and graph compile;
 * after it no tensor can be added. */
sy_status sy_params_layout(sy_params *ps);
/* 1 once sy_params_layout has run. */
int sy_params_is_laid_out(const sy_params *ps);
/* Initialise every tensor by its rule from stream SY_STREAM_INIT of `seed`
 * (sub-stream = tensor index, so each tensor's values do not depend on
 * the others). */
sy_status sy_params_init(sy_params *ps, uint64_t seed);

/* Flat buffers. The trainable region is [0, sy_params_trainable_size()).
 * The getters (these two, sy_params_tensor and sy_params_tensor_grad) are
 * reads: on a device store they copy back what the device changed and mark
 * nothing, so both copies stay current and a look never makes the next device
 * use upload again; a failed copy returns NULL with the message set. On a host
 * store they only return the buffer, which the host may change in place. A
 * change on a device store goes through sy_params_write (a write through a
 * getter stays on the host and is overwritten by the device's next change).
 * Why kept, and why reads: a CPU graph's parameter nodes, host tools and
 * experiments take per-tensor pointers, and on a host store a view would wrap
 * the same pointer in a status that cannot fail; and a getter that did not
 * copy back would hand out a device store's stale host copy with nothing to
 * say so. The library takes the views wherever the store may be on a device,
 * so every failed copy there is a returned status. */
float *sy_params_data(sy_params *ps);
float *sy_params_grad(sy_params *ps);
/* Read-only views, for evaluation, checkpoints and messages: on a device
 * store they copy back what the device changed, and both copies stay current
 * (nothing is uploaded again). A failed copy is the returned error. On a host
 * store they return the buffers above. */
sy_status sy_params_read(sy_params *ps, const float **data);
sy_status sy_params_read_grad(sy_params *ps, const float **grad);
/* Writable views, for the host's changes at evaluation and checkpoint
 * boundaries (a reset unit, parameters swapped for an evaluation): copied
 * back as the read views do, then the host copy is the one uploaded before
 * the next device use. A failed copy is the returned error and nothing is
 * marked. A pointer kept across device work (forward, backward, step) goes
 * stale: ask again after it. */
sy_status sy_params_write(sy_params *ps, float **data);
sy_status sy_params_write_grad(sy_params *ps, float **grad);
/* Floats in the trainable region and in the whole buffer, alignment padding
 * included (0 before layout). */
size_t sy_params_trainable_size(const sy_params *ps);
size_t sy_params_total_size(const sy_params *ps);
/* Tensor `index` in the value (or gradient) buffer: a getter, as
 * sy_params_data; NULL before layout. */
float *sy_params_tensor(sy_params *ps, int index);
float *sy_params_tensor_grad(sy_params *ps, int index);
/* Set every trainable gradient to 0. */
void sy_params_zero_grad(sy_params *ps);
/* Number of scalar trainable parameters (without alignment padding). */
size_t sy_params_num_trainable(const sy_params *ps);

#ifdef __cplusplus
}
#endif
#endif
