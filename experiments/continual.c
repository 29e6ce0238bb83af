/* Loss of plasticity in continual learning (paper Appendix C.6, Fig. 9).
 *
 * The paper's MNIST CNN (sy_mnist_cnn: conv 1->10 and 10->20, k5, each with
 * maxpool2 and relu, fc 320->50->10) is trained on permuted MNIST: task 1 is
 * MNIST, task k > 1 the same images under a fixed random pixel permutation,
 * the tasks one after another with SGD and weight decay gamma = 0.01. After
 * each task: the test accuracy on it (plasticity) and on every earlier task
 * (forgetting, acc_matrix.csv); on a fixed batch of 1000 test images of the
 * task, the covariance rank of conv2's 320 features (eigenvalues < 1e-4 are
 * zero, as in Fig. 9), the channel-covariance ranks of conv1 (10 channels)
 * and conv2 (20), their effective rank and dead features, and the dead fc1
 * units. Methods (same init, data order, permutations): vanilla (decay to
 * 0), syre (decay to a random theta0), l2init (decay to the initial
 * parameters) and shrink-and-perturb (plain decay; at each task boundary
 * theta <- lambda theta + p theta_fresh, a fresh default initialisation);
 * on request the unit resets cbp and redo (continual backprop, ReDo: with
 * weight decay, or after a rule as syre+cbp), which also log the
 * dormant-unit ratios per task (dormant.csv; experiments/unit_resets.h).
 *
 * The paper gives neither the learning rate nor the epochs per task: plain
 * SGD, lr 0.1, batch 64, 1 epoch per task are our choice, the same for every
 * method (docs/results/continual.md). The collapse depends strongly on the
 * rate, so `syre reproduce fig9` also runs vanilla and syre at --sweep-lr.
 * Quick: 4 tasks on the first 6000 / 2000 images. Checkpoints at every epoch
 * end (epoch = epochs of all tasks trained), the per-task history beside
 * them, for --resume. The tasks, the model and what each task measures are
 * in continual_tasks.c; here: the comparison, its summaries and figures. */
#include <stdio.h>
#include <string.h>

#include "continual.h"
#include "unit_resets.h"

static const sy_flag_spec cont_flags[] = {
    {"tasks", "tasks trained one after another: task 1 = MNIST, then fixed pixel permutations (quick: 4)", "10",
     SY_FLAG_INT, 1, 1000},
    {"epochs", "epochs per task (our choice: the paper gives none)", "1", SY_FLAG_INT, 1, 10000},
    {"lr", "SGD learning rate, constant, same for every method and task (our choice: the paper gives none)", "0.1",
     SY_FLAG_DOUBLE, 1e-6, 10},
    {"momentum", "SGD momentum (PyTorch semantics); the paper says plain SGD", "0", SY_FLAG_DOUBLE, 0, 0.999},
    {"batch", "SGD batch size (last short batch of an epoch dropped)", "64", SY_FLAG_INT, 1, 60000},
    {"gamma", "weight decay as PyTorch's weight_decay (= 2 gamma of Eq. 2); paper: 0.01", "0.01", SY_FLAG_DOUBLE, 0,
     100},
    {"method",
     "methods: vanilla (decay to 0), syre (decay to theta0), l2init (decay to the init), syre-ar, none; cbp "
     "(continual backprop) and redo (ReDo) with weight decay, or after a rule: syre+cbp, l2init+redo, ...",
     "vanilla,syre,l2init", SY_FLAG_METHODS, 0, 0},
    UNIT_RESET_FLAGS("100", "Dohare et al. 2024, permuted MNIST: 100", "1000",
                     "Sokar et al. 2023, Table 1: 1000 gradient steps"),
    {"shrink-perturb", "also run shrink-and-perturb (plain decay; at task boundaries theta <- lambda theta + p fresh)",
     "1", SY_FLAG_BOOL, 0, 0},
    {"sp-lambda", "shrink-and-perturb: shrink factor lambda", "0.6", SY_FLAG_DOUBLE, 0, 1},
    {"sp-noise", "shrink-and-perturb: weight p of the fresh initialisation", "0.1", SY_FLAG_DOUBLE, 0, 10},
    {"train-n", "training images per task, first n of MNIST train (0 = all 60000; quick: 6000)", "0", SY_FLAG_INT, 0,
     60000},
    {"test-n", "test images per task, first n of MNIST test (quick: 2000)", "10000", SY_FLAG_INT, 1, 10000},
    {"rank-n", "test images of the task in the rank batch (paper: 1000); also the evaluation batch", "1000",
     SY_FLAG_INT, 2, 10000},
    {"sweep-lr", "reproduce only: also run vanilla and syre at these learning rates (comma-separated)", "0.05,0.2",
     SY_FLAG_STRING, 0, 0},
    {NULL, NULL, NULL, 0, 0, 0},
};

/* Summary of a method: its last task, first task, mean or minimum over
 * tasks; test_acc_mean, the third, is summed in summarise. */
static const sy_history_key sums[] = {
    {"test_acc", R_ACC, SY_HIST_LAST},                 {"test_acc_task1", R_ACC, SY_HIST_FIRST},
    {"test_acc_min", R_ACC, SY_HIST_MIN},              {"avg_acc_all_tasks", R_ACC_SEEN, SY_HIST_LAST},
    {"train_acc", R_TRAIN_ACC, SY_HIST_LAST},          {"train_loss", R_TRAIN_LOSS, SY_HIST_LAST},
    {"rank_conv2", R_RANK2, SY_HIST_LAST},             {"rank_conv2_task1", R_RANK2, SY_HIST_FIRST},
    {"rank_conv2_min", R_RANK2, SY_HIST_MIN},          {"rank_conv1_channels", R_RANK1CH, SY_HIST_LAST},
    {"rank_conv2_channels", R_RANK2CH, SY_HIST_LAST},  {"effective_rank", R_ERANK2, SY_HIST_LAST},
    {"dead_units", R_DEAD2, SY_HIST_LAST},             {"dead_fc1", R_DEADFC, SY_HIST_LAST},
    {"weight_norm", R_WNORM, SY_HIST_LAST},
};

static sy_status summarise(const cont_ctx *c, const char *meth, const double *hist)
{
    int T = c->tasks, W = NREC + T, n = (int)(sizeof sums / sizeof sums[0]);
    sy_run *run = c->run;
    sy_run_summary_settingf(run, c->rec, "gamma (PyTorch weight_decay)", "%g", c->gamma);
    sy_run_summary_settingf(run, c->rec, "lr", "%g", c->lr);
    if (strcmp(meth, SP_NAME) == 0)
        sy_run_summary_settingf(run, c->rec, "shrink-perturb", "lambda %g, p %g", c->sp_lambda, c->sp_noise);
    /* The mean accuracy over tasks adds acc / T task by task, as its records
     * always have (sy_history_mean's sum / T may differ in the last bit). */
    double mean = 0;
    for (int t = 0; t < T; t++) mean += hist[t * W + R_ACC] / T;
    sy_status s = sy_run_summary_history(run, c->rec, hist, T, W, 1, sums, 2);
    if (s == SY_OK) s = sy_run_summary(run, c->rec, "test_acc_mean", mean);
    if (s == SY_OK) s = sy_run_summary_history(run, c->rec, hist, T, W, 1, sums + 2, n - 2);
    if (s == SY_OK) s = sy_run_summary_rows(run, c->rec, hist, T, W, R_ACC, "test_acc task");
    static const char *const dorm[CONT_NDORM] = {"dormant0_conv1", "dormant0_conv2", "dormant0_fc1", "dormant_conv1",
                                                 "dormant_conv2",  "dormant_fc1",    "units_reset"};
    for (int k = 0; k < CONT_NDORM && s == SY_OK && c->dormant; k++)
        s = sy_run_summary(run, c->rec, dorm[k], c->dorm[k]);
    return s == SY_OK ? sy_run_summary_rows(run, c->rec, hist, T, W, R_RANK2, "rank_conv2 task") : s;
}

/* Train method meth through the tasks (named "<meth><tag>") and summarise it. */
static sy_status run_method(cont_ctx *c, sy_histories *hs, const char *meth, const char *tag)
{
    double *hist;
    sy_status s = cont_train(c, hs, meth, tag, &hist);
    return s == SY_OK ? summarise(c, meth, hist) : s;
}

/* The curves of histories h[0..n) against the task number. */
static sy_history_curves task_curves(const cont_ctx *c, int n, const char *const *names, double *const *h)
{
    sy_history_curves hc = {.rows = c->tasks, .cols = NREC + c->tasks, .xcol = -1, .n = n, .labels = names,
                            .h = (const double *const *)h, .xlabel = "task (1 = MNIST, then pixel permutations)",
                            .xmin = 0.5, .xmax = c->tasks + 0.5, .style = SY_PLOT_LINE_POINTS};
    return hc;
}

/* Methods to run: --method, then shrink-and-perturb unless turned off. */
static sy_status method_list(sy_run *run, const char **names, int *nm)
{
    const char *const *m0;
    int nm0;
    sy_status s = sy_run_methods_among(run, "vanilla, syre, syre-ar, l2init, none, " UNIT_RESET_METHODS, &m0, &nm0);
    if (s != SY_OK) return s;
    if (nm0 > 15) return sy_fail(SY_ERR_ARG, "continual: at most 15 methods in one run (--method has %d)", nm0);
    for (*nm = 0; *nm < nm0; (*nm)++) names[*nm] = m0[*nm];
    if (sy_run_get_bool(run, "shrink-perturb")) names[(*nm)++] = SP_NAME;
    if (*nm == 0) return sy_fail(SY_ERR_ARG, "continual: no method to run (--method, --shrink-perturb)");
    return SY_OK;
}

/* The figures of every method: metrics against the task number. */
static sy_status main_plots(const cont_ctx *c, const sy_histories *hs)
{
    char title[256];
    snprintf(title, sizeof title, "Permuted MNIST: accuracy on each new task (lr %g, %d ep/task)", c->lr, c->epochs);
    const sy_history_figure figs[] = {
        {"continual-acc", R_ACC, title, "test accuracy", 0, 1},
        {"continual-rank", R_RANK2, "Rank of conv2 output (320 features, eigenvalues < 1e-4 -> 0)", "covariance rank",
         0, 330},
        {"continual-erank", R_ERANK2, "Effective rank of conv2 output (320 features)", "effective rank", 0, 0},
        {"continual-dead", R_DEAD2, "Dead conv2 features (never positive on the batch), of 320", "dead features", 0,
         330},
        {"continual-forgetting", R_ACC_SEEN, "Forgetting: mean test accuracy over all tasks seen so far",
         "test accuracy", 0, 1},
        {"continual-task1", R_ACC_FIRST, "Forgetting: test accuracy on task 1 (MNIST) after each task",
         "test accuracy", 0, 1},
    };
    sy_history_curves hc = task_curves(c, hs->n, hs->name, hs->h);
    return sy_plot_histories(c->run, &hc, figs, (int)(sizeof figs / sizeof figs[0]));
}

/* The methods of the lr sweep. */
static const char *const pair[2] = {"vanilla", "syre"};

/* The lr sweep's figures: vanilla and syre at the main rate, then every other run. */
static sy_status sweep_plots(const cont_ctx *c, const sy_histories *hs, int nmain)
{
    const char *names[2 + 16];
    double *h[2 + 16];
    int n = 0;
    for (int k = 0; k < 2; k++)
        for (int m = 0; m < nmain; m++)
            if (strcmp(hs->name[m], pair[k]) == 0) names[n] = hs->name[m], h[n++] = hs->h[m];
    for (int m = nmain; m < hs->n; m++) names[n] = hs->name[m], h[n++] = hs->h[m];
    char title[200];
    snprintf(title, sizeof title, "lr sweep: accuracy on each new task (plain names: lr %g)", c->lr);
    const sy_history_figure figs[] = {
        {"continual-sweep-acc", R_ACC, title, "test accuracy", 0, 1},
        {"continual-sweep-rank", R_RANK2, "lr sweep: rank of conv2 output (of 320)", "covariance rank", 0, 330},
    };
    sy_history_curves hc = task_curves(c, n, names, h);
    return sy_plot_histories(c->run, &hc, figs, 2);
}

/* `syre run continual`; for `reproduce` (fig9) with the --sweep-lr rates:
 * the vanilla/syre comparison again at each, because the paper gives no
 * learning rate and the collapse depends on it. */
static sy_status cont_main(sy_run *run, int sweep)
{
    double lrs[8];
    int nlr = 0, nm = 0;
    sy_status s = SY_OK;
    if (sweep && sy_run_get_str(run, "sweep-lr")[0]) /* empty: no sweep */
        s = sy_run_get_numbers(run, "sweep-lr", 0, 1, 10, lrs, 8, &nlr);
    cont_ctx c = {0};
    const char *names[16];
    if (s == SY_OK) s = method_list(run, names, &nm);
    if (s == SY_OK) s = cont_setup(run, &c);
    c.dormant = unit_reset_dormant(run, names, nm);
    sy_histories hs = sy_histories_make(c.tasks, NREC + c.tasks);
    for (int m = 0; m < nm && s == SY_OK; m++) s = run_method(&c, &hs, names[m], "");
    if (s == SY_OK) s = main_plots(&c, &hs);
    /* The sweep: vanilla and syre at each extra rate, beside the main run's. */
    int nmain = hs.n;
    double lr0 = c.lr;
    for (int i = 0; i < nlr && s == SY_OK; i++) {
        if (lrs[i] == lr0) continue;
        char tag[48];
        snprintf(tag, sizeof tag, "@lr%g", lrs[i]);
        c.lr = lrs[i];
        for (int k = 0; k < 2 && s == SY_OK; k++) s = run_method(&c, &hs, pair[k], tag);
    }
    c.lr = lr0;
    if (s == SY_OK && hs.n > nmain) s = sweep_plots(&c, &hs, nmain);
    sy_histories_free(&hs);
    cont_free(&c);
    return s;
}

static sy_status cont_run(sy_run *run) { return cont_main(run, 0); }
static sy_status cont_reproduce(sy_run *run) { return cont_main(run, 1); }

const sy_experiment sy_exp_continual = {
    .name = "continual",
    .figure = "Fig. 9",
    .summary = "CNN on permuted MNIST, tasks one after another: vanilla's conv rank and accuracy collapse, syre's not",
    .flags = cont_flags,
    .run = cont_run,
    .reproduce_id = "fig9",
    .reproduce = cont_reproduce,
    .data_parallel = 1,
    .quick = "tasks=4;train-n=6000;test-n=2000",
    .stops = 1,
};
