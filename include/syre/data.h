/* syre data: in-memory labelled image datasets, their readers (IDX, CIFAR
 * binary, image folders), mini-batching, augmentation and pixel permutations,
 * and the synthetic generators of the paper's toy experiments. */
#ifndef SYRE_DATA_H
#define SYRE_DATA_H

#include "syre/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- Datasets ------------------------------------------------------------ */

/* n labelled samples held in memory. Pixels are float32 scaled to [0,1]
 * (until the caller normalises them), one sample after another, each laid out
 * as `sample` = [C, H, W] (channel-major, like the graph's NCHW batches). */
typedef struct {
    size_t n;          /* number of samples */
    sy_shape sample;   /* e.g. [1,28,28] (MNIST) or [3,32,32] (CIFAR) */
    float *x;          /* (n, C, H, W) */
    int *y;            /* (n) class index in [0, n_classes) */
    int n_classes;     /* number of classes */
    int *y_coarse;     /* (n) CIFAR-100 superclass in [0, n_coarse); else NULL */
    int n_coarse;      /* 20 for CIFAR-100, else 0 */
    char name[64];     /* e.g. "mnist/train" */
    char source[512];  /* file (or folder) the pixels came from, for messages */
    char label_source[512]; /* file the labels came from (IDX keeps them apart) */
} sy_dataset;

/* New zero-filled dataset of n samples (y_coarse allocated when n_coarse > 0);
 * NULL-safe free below. */
sy_status sy_dataset_new(size_t n, sy_shape sample, int n_classes, int n_coarse,
                         const char *name, sy_dataset **out);
void sy_dataset_free(sy_dataset *d);
/* Elements per sample (C*H*W). */
size_t sy_dataset_numel(const sy_dataset *d);

/* The data directory: `flag_value` if non-NULL (the CLI's --data-dir), else
 * the data_dir setting (sy_runtime_opts; the command: $SYRE_DATA) if set
 * and non-empty, else the build's default "<source>/data". */
const char *sy_data_dir(const char *flag_value);

/* Loads a named dataset: name in {"mnist","fashion-mnist","cifar10","cifar100"},
 * split in {"train","test"}. Layout under data_dir: see docs/data.md. cifar10
 * reads the official cifar-10-batches-bin/ when present, else cifar10-jpeg/. */
sy_status sy_dataset_load(const char *data_dir, const char *name, const char *split,
                          sy_dataset **out);

/* What a model needs of a dataset. Zero in a shape field means any size. */
typedef struct {
    const char *user;       /* who needs it, for the message ("lowcap") */
    int channels, height, width; /* sample shape [C, H, W] */
    int n_classes;          /* every label in [0, n_classes) (0: unchecked) */
    size_t min_n;           /* at least this many samples */
} sy_data_contract;

/* Checks a loaded dataset against what the model needs, before any of it is
 * used: the sample shape, every label's range, the count. Fails with
 * SY_ERR_FORMAT naming the file and what differs. */
sy_status sy_dataset_check(const sy_dataset *d, const sy_data_contract *want);

/* sy_dataset_load, then sy_dataset_check against want (NULL: no check), then the first n samples (per_class:
 * the first n / n_classes of each class, class-balanced); n <= 0, or n at least the split's size, keeps all. */
sy_status sy_dataset_load_n(const char *data_dir, const char *name, const char *split, long n, int per_class,
                            const sy_data_contract *want, sy_dataset **out);
/* sy_dataset_load_n with per_class: the first n / classes samples of each
 * class (CIFAR-10: n / 10; CIFAR-100: n / 100 of each fine class). A
 * CIFAR-10 subset read from cifar10-jpeg/ (no official binaries) decodes
 * only the images it keeps: the same ones, in the same order, as from the
 * binaries. */
sy_status sy_dataset_load_balanced(const char *data_dir, const char *name, const char *split, long n,
                                   const sy_data_contract *want, sy_dataset **out);

/* ---- Readers (each fails with a message naming the file; never a partial
 * dataset: *out is set only on success) ------------------------------------- */

/* IDX image + label files (MNIST, Fashion-MNIST), raw or gzip-compressed
 * (detected from content); 10 classes; sample [1, rows, cols]. */
sy_status sy_idx_load(const char *images_path, const char *labels_path,
                      const char *name, sy_dataset **out);
/* CIFAR-10 binary batches (each record: 1 label byte + 3072 CHW bytes),
 * concatenated in the order given. */
sy_status sy_cifar10_load(const char *const *paths, int n_paths, const char *name,
                          sy_dataset **out);
/* CIFAR-100 binary file (train.bin / test.bin: coarse byte, fine byte, 3072
 * bytes); y = fine label (100 classes), y_coarse = superclass (20). */
sy_status sy_cifar100_load(const char *path, const char *name, sy_dataset **out);
/* Image folder dir/<class>/<file>.{png,jpg,jpeg} decoded with libpng and
 * libjpeg-turbo (PNG/JPEG by content, nothing else) into
 * `channels` (1 or 3) channels; classes and files sorted by name. All images
 * must share one size. max_per_class > 0 keeps only the first files of each
 * class (fast tests); 0 keeps all. */
sy_status sy_imagefolder_load(const char *dir, int channels, size_t max_per_class,
                              const char *name, sy_dataset **out);

/* ---- Subsets, normalisation, scaling ---------------------------------------- */

/* Copy of the first n samples (per_class = 0) or of the first n samples of
 * each class in dataset order (per_class = 1). */
sy_status sy_dataset_subset(const sy_dataset *d, size_t n, int per_class, sy_dataset **out);
/* Per-channel mean and standard deviation over all samples (arrays of C). */
void sy_dataset_channel_stats(const sy_dataset *d, float *mean, float *std);
/* Standardise train, and other (may be NULL) alike, by train's per-channel
 * mean and std (sy_dataset_channel_stats, sy_data_normalize): e.g. MNIST
 * 0.1307, 0.3081. Samples of at most SY_STANDARDIZE_MAX_CHANNELS channels. */
#define SY_STANDARDIZE_MAX_CHANNELS 16
sy_status sy_dataset_standardize(sy_dataset *train, sy_dataset *other);
/* x <- (x - mean[c]) / std[c] for each channel c over `batch` samples of
 * shape `sample`; use on a whole dataset (batch = d->n) or on a batch. */
sy_status sy_data_normalize(float *x, size_t batch, sy_shape sample, const float *mean,
                       const float *std);
/* x <- alpha * x over n floats (input scaling experiments). */
void sy_data_scale(float *x, size_t n, float alpha);

/* ---- Mini-batches ----------------------------------------------------------- */

/* How a batcher cuts a dataset into mini-batches (sy_batcher_new). */
typedef struct {
    size_t batch;      /* samples per batch (default 128) */
    int shuffle;       /* 1: new permutation per epoch (default); 0: dataset order */
    int drop_last;     /* 1: skip the final short batch (default 0) */
    uint64_t seed;     /* run seed; order of epoch k = shuffle by
                          sy_rng_make(seed, SY_STREAM_DATA, k) */
    int replicate;     /* distributed runs (syre/dist.h): 0 (default) = each
                          rank gets its contiguous shard batch/N of every
                          global batch; 1 = every rank gets all of it */
} sy_batcher_opts;

/* Mini-batches of a dataset, epoch by epoch (opaque; sy_batcher_new). */
typedef struct sy_batcher sy_batcher;

/* Defaults listed in the struct above. */
sy_batcher_opts sy_batcher_opts_default(void);
/* Batcher over d (borrowed: it must outlive the batcher); starts at epoch 0.
 * Sharded over N > 1 ranks, batch must be a multiple of N, and so must the
 * epoch's last short batch unless drop_last (SY_ERR_ARG otherwise). */
sy_status sy_batcher_new(const sy_dataset *d, sy_batcher_opts opts, sy_batcher **out);
void sy_batcher_free(sy_batcher *b);
/* Starts epoch `epoch`: its order depends only on (seed, epoch), so any epoch
 * can be replayed on its own. */
void sy_batcher_epoch(sy_batcher *b, uint64_t epoch);
/* Copies the next batch into x (batch*numel floats) and y (batch floats: class
 * indices as float, as the graph consumes them); returns the number of
 * samples written, 0 when the epoch is over. Allocates nothing. Sharded, it
 * writes and returns only this rank's part of the global batch. */
size_t sy_batcher_next(sy_batcher *b, float *x, float *y);
/* Batches per epoch, honouring drop_last (global batches: the same on every rank). */
size_t sy_batcher_num_batches(const sy_batcher *b);
/* Samples of a full batch on this rank: batch, or batch/N when sharded. */
size_t sy_batcher_local_batch(const sy_batcher *b);
/* Where the rows of the last sy_batcher_next sit in their global batch: its
 * first row's index there (0 unsharded) and the global batch's size (0 after
 * the epoch's end). Lets per-sample random draws (augmentation) follow the
 * global batch, so N ranks draw what one process draws. */
void sy_batcher_last_shard(const sy_batcher *b, size_t *begin, size_t *global);
/* Dataset indices of the samples returned by the last sy_batcher_next. */
const int *sy_batcher_indices(const sy_batcher *b);

/* ---- Pixel permutations (permuted-MNIST style continual tasks) -------------- */

/* perm[0..numel) for task `task`: identity for task 0, otherwise a uniform
 * permutation from sy_rng_make(seed, SY_STREAM_DATA, 2^32 + task), a
 * sub-stream no epoch reaches, so tasks never share the data order. */
void sy_pixel_permutation(size_t numel, uint64_t seed, int task, int *perm);
/* In place for `batch` samples: x'[i] = x[perm[i]]; tmp holds numel floats. */
void sy_permute_pixels(float *x, size_t batch, size_t numel, const int *perm, float *tmp);

/* ---- Augmentation (draw r from SY_STREAM_AUGMENT, e.g. sub-stream = epoch) --- */

/* Random crop with zero padding `pad` (CIFAR: 4) and horizontal flip with
 * probability 1/2, in place on `batch` samples [C,H,W]; tmp holds numel
 * floats. Zero padding is black on [0,1] pixels, the mean once normalised. */
void sy_augment_crop_flip(float *x, size_t batch, sy_shape sample, int pad, sy_rng *r,
                          float *tmp);
/* Advance r past the draws sy_augment_crop_flip makes for `batch` samples,
 * without touching pixels (a rank skipping the other ranks' samples of a
 * global batch). */
void sy_augment_crop_flip_skip(sy_rng *r, size_t batch, int pad);
/* sy_augment_crop_flip on the `batch` rows b last handed out, with the draws
 * of the whole global batch: under mpirun the other ranks' rows are skipped
 * (sy_batcher_last_shard), so every rank augments its rows as one process
 * would augment the same rows. */
void sy_augment_crop_flip_shard(float *x, size_t batch, sy_shape sample, int pad, sy_rng *r, float *tmp,
                                const sy_batcher *b);
/* One SimCLR view of each sample, src -> dst (same shape, no aliasing):
 * random resized crop (scale 0.08..1, ratio 3/4..4/3, bilinear back to HxW),
 * flip p=1/2, colour jitter (brightness, contrast, saturation 0.4, hue 0.1;
 * random order) with p=0.8, grayscale p=0.2. Expects [0,1] pixels, so
 * normalise afterwards. Single-channel data get only brightness/contrast. */
void sy_augment_simclr(const float *src, float *dst, size_t batch, sy_shape sample,
                       sy_rng *r);
/* Advance r past the draws sy_augment_simclr makes for `batch` samples of
 * shape `sample`, without touching pixels (the draws never depend on them). */
void sy_augment_simclr_skip(sy_rng *r, size_t batch, sy_shape sample);

/* SimCLR batches, as a fill function for sy_prefetch (syre/train.h): the
 * batcher's next batch of `batch` images into x (labels into y), two views
 * of each by sy_augment_simclr from aug (sharded over ranks: with the draws
 * of this rank's rows of the global batch, skipping the others'), stacked [view 1 of the batch, then
 * view 2] into in[0] (2 x batch images), normalised by channel (mean, std);
 * *count = batch, untouched at the end of the epoch. x [batch, sample] and
 * y [batch] are the caller's scratch; aug is the caller's to reset (e.g.
 * per epoch). */
typedef struct {
    sy_batcher *b;           /* source of the images (borrowed), with drop_last: a short batch would count as full */
    size_t batch;            /* images per batch: sy_batcher_local_batch(b) */
    sy_shape sample;         /* shape of one image [C, H, W] */
    const float *mean, *std; /* per-channel normalisation, C floats each */
    sy_rng aug;              /* augmentation stream, advanced by each fill */
    float *x, *y;            /* scratch for the batcher: x [batch, sample], y [batch] */
} sy_simclr_views;
/* The sy_fill_fn: ctx is a sy_simclr_views. At the end of the epoch it
 * returns SY_OK and leaves *count as it was (sy_prefetch zeroes it first);
 * fails as sy_data_normalize. */
sy_status sy_simclr_views_fill(void *ctx, float *const *in, size_t *count);

/* ---- Synthetic data (SY_STREAM_DATAGEN) ------------------------------------- */

/* Sparse teacher w*[d]: k entries at uniformly chosen positions, N(0,1)
 * values, the rest 0; drawn from sub-stream 0. */
sy_status sy_synth_sparse_teacher(size_t d, size_t k, uint64_t seed, float *w);
/* n samples x[n*d] ~ N(0, I) and y[n] = w^T x + noise_std * N(0,1), drawn
 * from sub-stream `sub` (>= 1; e.g. 1 train, 2 test). */
sy_status sy_synth_linear(const float *w, size_t d, size_t n, float noise_std,
                          uint64_t seed, uint64_t sub, float *x, float *y);
/* Symmetric d x d matrix B (row-major) of the quartic toy objective, sub-stream
 * 3. diagonal = 0: B = G + G^T with G_ij ~ N(0, 1/d) (so off-diagonal B_ij has
 * variance 2/d, diagonal 4/d); diagonal = 1: B = diag(v), v_i ~ N(0, 1). */
sy_status sy_synth_quartic_matrix(size_t d, int diagonal, uint64_t seed, float *B);

/* A linear-regression task: teacher w [d] with k nonzero entries
 * (sy_synth_sparse_teacher), n training samples (sy_synth_linear, sub-stream
 * 1) and n_test test samples (sub-stream 2) of y = w^T x + noise N(0, 1),
 * x ~ N(0, I). The training inputs are a dataset [n, d] (its labels unused)
 * for sy_batcher; their targets are y. */
typedef struct {
    size_t d, n, n_test;   /* input dimension, training and test sample counts */
    float *w;              /* teacher [d] */
    sy_dataset *train;     /* training inputs */
    float *y;              /* training targets [n] */
    float *x_test, *y_test; /* test inputs [n_test, d] and targets [n_test] */
} sy_regression;
/* Draws the task from `seed` with noise standard deviation `noise`. Fails
 * with SY_ERR_ARG unless k <= d, d >= 1 and n >= 1 (n_test may be 0), or
 * SY_ERR_NOMEM; *out is NULL on failure. Free with sy_regression_free. */
sy_status sy_regression_new(size_t d, size_t k, size_t n, size_t n_test, float noise, uint64_t seed,
                            sy_regression **out);
/* Frees the task and everything it holds, its dataset too; NULL is a no-op. */
void sy_regression_free(sy_regression *r);
/* y[j] = the target of the j-th of the n samples that b returned last
 * (this rank's part of the batch: the inputs sy_batcher_next wrote). */
void sy_regression_targets(const sy_regression *r, const sy_batcher *b, size_t n, float *y);

/* ---- An experiment's data (src/data/experiment_data.c) ------------------------ */

/* The train and test splits of dataset `name`, each through sy_dataset_load_n
 * (checked against want, NULL: unchecked): the first n_train and n_test
 * samples, n <= 0 keeping the whole split. A split holding fewer samples than
 * asked for fails with SY_ERR_ARG naming want->user, the split and both counts
 * (sy_dataset_load_n alone keeps what there is). On failure both are NULL. */
sy_status sy_dataset_load_splits(const char *data_dir, const char *name, long n_train, long n_test,
                                 const sy_data_contract *want, sy_dataset **train, sy_dataset **test);

/* ---- A training graph's batches (src/data/experiment_data.c) ---------------- */

/* A batcher of full batches of `batch` samples (the last short one dropped:
 * a graph's batch is fixed), shuffled per epoch from seed; the other options
 * are sy_batcher_opts_default's. */
sy_status sy_batcher_new_full(const sy_dataset *d, size_t batch, uint64_t seed, sy_batcher **out);

#ifdef __cplusplus
}
#endif
#endif
