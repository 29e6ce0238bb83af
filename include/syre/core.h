/* syre core: status codes and error messages, shapes and tensors, and the
 * counter-based random number generator with named streams. Everything else
 * in the library is built on these. */
#ifndef SYRE_CORE_H
#define SYRE_CORE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Errors ------------------------------------------------------------ */

/* Every function that can fail returns a status (or NULL) and leaves a
 * message retrievable with sy_last_error(). */
typedef enum {
    SY_OK = 0,
    SY_ERR_ARG,         /* invalid argument or option value */
    SY_ERR_SHAPE,       /* shapes do not fit together */
    SY_ERR_IO,          /* file missing, unreadable or unwritable */
    SY_ERR_FORMAT,      /* file present but malformed */
    SY_ERR_NOMEM,       /* allocation failed or would be too large */
    SY_ERR_NUMERIC,     /* NaN or Inf where a finite value is required */
    SY_ERR_STATE,       /* call made in the wrong order (e.g. feed before compile) */
    SY_ERR_UNSUPPORTED, /* valid request this build or backend cannot serve */
    SY_ERR_STOPPED      /* a run stopped on request (a signal) after writing its checkpoint: resumable */
} sy_status;

/* fopen for mode "r"/"rb" or "a"/"ab" that accepts only a regular file: a
 * FIFO, device or directory fails at once (opened non-blocking, checked with
 * fstat) with SY_ERR_IO and a message naming the path and what it is. */
FILE *sy_fopen_regular(const char *path, const char *mode);

/* The message of the most recent error in this thread ("" if none). */
const char *sy_last_error(void);
/* Short name of a status code, e.g. "shape error". */
const char *sy_status_str(sy_status s);
/* Record an error message (printf-style) and return `code`, so that
 * `return sy_fail(SY_ERR_ARG, "...", ...);` reports and fails in one line. */
sy_status sy_fail(sy_status code, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Clear the thread's error message. */
void sy_clear_error(void);

/* ---- Shapes and tensors -------------------------------------------------- */

#define SY_MAX_DIMS 4 /* largest tensor rank */

/* Row-major shape of up to 4 dimensions; dim[i] for i >= ndim is 1. */
typedef struct {
    int ndim;             /* rank, 1..SY_MAX_DIMS for a tensor */
    int dim[SY_MAX_DIMS]; /* extent of each dimension, outermost first */
} sy_shape;

/* Build a shape: sy_shape_of(2, 64, 784). */
sy_shape sy_shape_of(int ndim, ...);
/* Number of elements (product of dims). */
size_t sy_shape_numel(sy_shape s);
/* 1 if same rank and dims. */
int sy_shape_equal(sy_shape a, sy_shape b);
/* Writes "[64, 784]" into buf (at least 64 bytes) and returns buf. */
const char *sy_shape_str(sy_shape s, char *buf);

/* A float32 tensor that owns its data (sy_tensor_new) or views others'. */
typedef struct {
    sy_shape shape; /* dimensions of data */
    float *data;    /* sy_shape_numel(shape) floats, row-major */
    int owns;       /* 1: sy_tensor_free frees data too; 0: a view */
} sy_tensor;

/* New zero-filled tensor; NULL with a message if the shape is invalid or
 * memory runs out. Free with sy_tensor_free. */
sy_tensor *sy_tensor_new(sy_shape s);
void sy_tensor_free(sy_tensor *t);
/* A non-owning view of `data` with shape `s`. */
sy_tensor sy_tensor_view(float *data, sy_shape s);
/* Number of elements of t (sy_shape_numel of its shape). */
static inline size_t sy_tensor_numel(const sy_tensor *t) { return sy_shape_numel(t->shape); }

/* ---- Random numbers --------------------------------------------------------
 * Philox4x32-10, counter-based: the value at position (sub, index) of a
 * stream is a pure function of (seed, stream, sub, index). Streams are
 * independent, so e.g. turning syre on (which draws anchors) never changes
 * the initialisation or the data order. */

/* Stream ids for sy_rng_make and sy_rng_key: each use of randomness draws
 * from its own. */
typedef enum {
    SY_STREAM_INIT = 1,   /* parameter initialisation */
    SY_STREAM_DATA,       /* shuffling, data order */
    SY_STREAM_DROPOUT,    /* dropout masks */
    SY_STREAM_ANCHOR,     /* syre anchors theta0 */
    SY_STREAM_DECAY_D,    /* syre-ar diagonal D */
    SY_STREAM_WFIX,       /* W-fix masks and values */
    SY_STREAM_AUGMENT,    /* data augmentation */
    SY_STREAM_NOISE,      /* reparameterisation noise, exploration */
    SY_STREAM_ENV,        /* environments (RL) */
    SY_STREAM_DATAGEN,    /* synthetic data generators */
    SY_STREAM_UNIT_RESET, /* fresh incoming weights of units reset while training (sy_unit_reset) */
    SY_STREAM_USER = 64   /* first stream id free for users */
} sy_stream;

/* Sequential generator over one stream. Copyable; its state is (key, counter). */
typedef struct {
    uint64_t key;      /* derived from (seed, stream) */
    uint64_t sub;      /* sub-stream (e.g. epoch, parameter index) */
    uint64_t counter;  /* next block */
} sy_rng;

/* Generator at the start (counter 0) of sub-stream `sub` of `stream` (an
 * sy_stream) under `seed`. */
sy_rng sy_rng_make(uint64_t seed, uint32_t stream, uint64_t sub);
/* Next 32 random bits; advances the counter by one block. */
uint32_t sy_rng_u32(sy_rng *r);
/* Uniform in [0, 1). */
float sy_rng_uniform(sy_rng *r);
/* Standard normal. */
float sy_rng_normal(sy_rng *r);
/* n standard normals, fast (vectorised: 3-8 ns each against sy_rng_normal's
 * 45-70 ns on one x86-64 core), for bulk noise such
 * as a VAE's reparameterisation. A DIFFERENT stream from sy_rng_normal: each
 * Philox block gives four normals (float Box-Muller on both word pairs, cos
 * and sin). Layout: out is filled in chunks of 64 from counter blocks
 * r->counter + 16 c .. + 15 (chunk c); in a chunk, element 16 w + l is
 * normal w of block l (w = 0: R(o0) cos(o1), 1: R(o0) sin(o1), 2: R(o2)
 * cos(o3), 3: R(o2) sin(o3), with R(a) = sqrt(-2 ln(((a>>8)+1) 2^-24)) and the
 * angle 2 pi (b>>8) 2^-24, as sy_rng_normal). r->counter advances by 16 per
 * started chunk, so fill(n) then fill(m) equals fill(n + m) only when n is a
 * multiple of 64. Bit-identical on every x86-64 build; |z| <= 5.77; largest
 * difference from the same transform in double: 5.6e-7 (test_rng_fill). */
void sy_rng_normal_fill(sy_rng *r, float *out, size_t n);
/* Uniform integer in [0, n). */
uint32_t sy_rng_below(sy_rng *r, uint32_t n);
/* Fisher-Yates shuffle of idx[0..n). */
void sy_rng_shuffle(sy_rng *r, int *idx, size_t n);

/* Stateless draws: element `index` of sub-stream `sub`. The memory-free syre
 * variant regenerates anchors with these inside the optimizer update. */
uint64_t sy_rng_key(uint64_t seed, uint32_t stream);
float sy_rng_uniform_at(uint64_t key, uint64_t sub, uint64_t index);
float sy_rng_normal_at(uint64_t key, uint64_t sub, uint64_t index);
/* The raw Philox4x32-10 block for counter (c_hi, c_lo) under key. */
void sy_philox(uint64_t key, uint64_t c_hi, uint64_t c_lo, uint32_t out[4]);

#ifdef __cplusplus
}
#endif
#endif
