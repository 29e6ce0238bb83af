/* The data of an experiment in one call each: a dataset's train and test
 * splits, cut to the samples it asks for (one message when a split holds
 * fewer), and the full, shuffled batches its fixed-batch graphs take. */
#include "syre/data.h"

static sy_status load_split(const char *data_dir, const char *name, const char *split, long n,
                            const sy_data_contract *want, sy_dataset **out)
{
    sy_status s = sy_dataset_load_n(data_dir, name, split, n, 0, want, out);
    if (s == SY_OK && n > 0 && (*out)->n < (size_t)n) {
        s = sy_fail(SY_ERR_ARG, "%s: %ld %s %s samples asked for, the split holds %zu",
                    want && want->user ? want->user : "dataset", n, name, split, (*out)->n);
        sy_dataset_free(*out);
        *out = NULL;
    }
    return s;
}

sy_status sy_dataset_load_splits(const char *data_dir, const char *name, long n_train, long n_test,
                                 const sy_data_contract *want, sy_dataset **train, sy_dataset **test)
{
    *test = NULL;
    sy_status s = load_split(data_dir, name, "train", n_train, want, train);
    if (s == SY_OK && (s = load_split(data_dir, name, "test", n_test, want, test)) != SY_OK) {
        sy_dataset_free(*train);
        *train = NULL;
    }
    return s;
}

sy_status sy_batcher_new_full(const sy_dataset *d, size_t batch, uint64_t seed, sy_batcher **out)
{
    sy_batcher_opts o = sy_batcher_opts_default();
    o.batch = batch;
    o.drop_last = 1;
    o.seed = seed;
    return sy_batcher_new(d, o, out);
}
