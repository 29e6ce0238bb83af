/* The training and test sets of a run: both splits of one dataset, the
 * first n / classes images of every class, n from the run's flags, checked
 * against what the model needs, with the messages every experiment would
 * otherwise write itself. */
#include "syre/experiment.h"

sy_status sy_run_load_balanced_splits(const sy_run *run, const char *name, const char *train_flag,
                                      const char *test_flag, const sy_data_contract *want, long batch,
                                      sy_dataset **train, sy_dataset **test)
{
    const char *exp = sy_run_experiment(run)->name;
    long train_n = train_flag ? sy_run_get_int(run, train_flag) : 0;
    long test_n = test_flag ? sy_run_get_int(run, test_flag) : 0;
    int k = want ? want->n_classes : 0;
    *train = *test = NULL;
    if (k <= 0) return sy_fail(SY_ERR_ARG, "%s: %s by class needs the number of classes (want)", exp, name);
    if (train_n % k || test_n % k)
        return sy_fail(SY_ERR_ARG, "%s: --%s (%ld) and --%s (%ld) must be multiples of %d (n/%d per class)", exp,
                       train_flag ? train_flag : "train-n", train_n, test_flag ? test_flag : "test-n", test_n, k, k);
    const char *dir = sy_run_data_dir(run);
    sy_status s = sy_dataset_load_balanced(dir, name, "train", train_n, want, train);
    if (s == SY_OK) s = sy_dataset_load_balanced(dir, name, "test", test_n, want, test);
    if (s == SY_OK && batch > 0 && (*train)->n < (size_t)batch)
        s = sy_fail(SY_ERR_ARG, "%s: --batch (%ld) exceeds the %zu training images", exp, batch, (*train)->n);
    if (s != SY_OK) {
        sy_dataset_free(*train);
        sy_dataset_free(*test);
        *train = *test = NULL;
    }
    return s;
}
