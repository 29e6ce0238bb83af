/* File formats, below the training layer (src/format): atomic writes,
 * recursive directory creation, tables and curves as text, and checkpoints
 * in the safetensors format (8-byte little-endian header length, a JSON header
 * {"name": {"dtype":"F32","shape":[...],"data_offsets":[begin,end]}, ...,
 * "__metadata__": {"key": "value"}}, then the raw little-endian data), so
 * that PyTorch's safetensors and plain NumPy read them. Only F32 tensors of
 * up to SY_MAX_DIMS dimensions are written and accepted. */
#ifndef SYRE_FORMAT_H
#define SYRE_FORMAT_H

#include <stddef.h>

#include "syre/core.h"
#include "syre/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Create a directory and its parents (like mkdir -p); fails with SY_ERR_IO
 * naming the path that could not be created. */
sy_status sy_mkdir_p(const char *path);
/* Write `size` bytes to path atomically: write path.tmp, fsync, rename over
 * path, fsync the directory. A crash leaves either the old or the new file.
 * In a distributed run (syre/dist.h) only rank 0 writes; other ranks return
 * SY_OK having written nothing (so do the checkpoint, run-record and plot
 * writers built on it). */
sy_status sy_write_file_atomic(const char *path, const void *data, size_t size);

/* A table of doubles v [rows, cols] as text, one row a line, each value
 * "%.17g " (read back bit for bit, NaN included), written atomically: e.g.
 * a history kept beside a checkpoint for --resume. */
sy_status sy_table_save(const char *path, int rows, int cols, const double *v);
/* Read the first rows * cols values of such a file into v (further rows are
 * ignored). No file: SY_ERR_IO; fewer values: SY_ERR_FORMAT naming the row. */
sy_status sy_table_load(const char *path, int rows, int cols, double *v);

/* ---- Safetensors ---------------------------------------------------------- */

/* One array to write. data holds sy_shape_numel(shape) floats. */
typedef struct {
    const char *name;   /* its key in the file: non-empty, unique, not "__metadata__" */
    sy_shape shape;     /* stored as the tensor's shape, ndim 0..SY_MAX_DIMS */
    const float *data;  /* written as F32; may be NULL only when it holds no element */
} sy_st_tensor;

/* One metadata entry (both strings). */
typedef struct {
    const char *key;    /* must not start with "crc32:" (the checksums' keys) */
    const char *value;  /* NULL is written as "" */
} sy_st_meta;

/* Write tensors (names unique, none "__metadata__") and metadata atomically. */
sy_status sy_safetensors_write(const char *path, const sy_st_tensor *tensors, int n,
                               const sy_st_meta *meta, int nmeta);

/* A file read into memory and validated. */
typedef struct sy_safetensors sy_safetensors;

/* Read and validate: truncated file, header length beyond the file, bad
 * JSON, a dtype other than F32, a shape that disagrees with its offsets,
 * offsets out of range, overlapping or leaving gaps all fail with
 * SY_ERR_FORMAT (missing/unreadable file: SY_ERR_IO) and a message naming
 * the file and the problem. */
sy_status sy_safetensors_read(const char *path, sy_safetensors **out);
void sy_safetensors_free(sy_safetensors *st);
int sy_safetensors_count(const sy_safetensors *st);
/* Index of a tensor by name, or -1. Tensors are in file-offset order. */
int sy_safetensors_find(const sy_safetensors *st, const char *name);
const char *sy_safetensors_name(const sy_safetensors *st, int i);
sy_shape sy_safetensors_shape(const sy_safetensors *st, int i);
/* The tensor's floats (aligned copy owned by st). */
const float *sy_safetensors_data(const sy_safetensors *st, int i);
/* Metadata value for key, or NULL. */
const char *sy_safetensors_meta(const sy_safetensors *st, const char *key);
int sy_safetensors_meta_count(const sy_safetensors *st);
const char *sy_safetensors_meta_key(const sy_safetensors *st, int i);

/* ---- Checkpoints of a parameter store ---------------------------------------- */

/* Every tensor of the store (trainable and buffers) under its own name, plus
 * `extra` arrays (sy_train_save writes the optimizer's state there, as
 * "optim.<state>.<tensor>") and metadata, written atomically. */
sy_status sy_checkpoint_save_params(const char *path, sy_params *ps,
                                    const sy_st_tensor *extra, int nextra,
                                    const sy_st_meta *meta, int nmeta);
/* Load every tensor of the (laid-out) store by name from path, checking
 * shapes; a missing tensor or another shape fails naming both. Tensors in
 * the file that the store lacks are ignored. If `rest` is not NULL it gets
 * the opened file (for extra arrays and metadata; free it). */
sy_status sy_checkpoint_load_params(const char *path, sy_params *ps, sy_safetensors **rest);

/* ---- Curves ------------------------------------------------------------------ */

/* Write the points (x[i], y[i]), i < n, as "x y" lines in %.17g (read back
 * bit for bit) with sy_write_file_atomic (rank 0 only). Written just before a
 * checkpoint, it keeps the curve that a resumed run draws. */
sy_status sy_curve_write(const char *path, const double *x, const double *y, int n);
/* Read such a file's points up to the first with x >= upto, at most cap,
 * into x and y; *n = their number. A missing file reads none (SY_OK): the
 * points written after the last checkpoint are dropped this way. */
sy_status sy_curve_read(const char *path, double upto, int cap, double *x, double *y, int *n);

#ifdef __cplusplus
}
#endif
#endif
