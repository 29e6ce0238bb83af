/* The two-parameter tanh toy (design section 6): f = mean (t1*tanh(t2*x) - y)^2
 * has a symmetric saddle at (0, 0), where both gradients vanish. Started
 * there, gradient descent with weight decay toward 0 (vanilla) never moves;
 * decay toward a random anchor theta0 ~ N(0, sigma0^2) (syre) pushes the
 * parameters off the saddle and the loss drops. The gradient is written by
 * hand, so this file demonstrates the run pipeline (flags, records,
 * progress, plot, table) without the graph or optimizer libraries. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "syre/core.h"
#include "syre/experiment.h"
#include "syre/plot.h"

#define TOY_N 64

static const sy_flag_spec toy_flags[] = {
    {"steps", "gradient-descent steps per method (quick: 100)", "400", SY_FLAG_INT, 1, 10000000},
    {"method", "methods: vanilla (decay to 0), syre, syre-ar, l2init (anchor = init = 0), none", "vanilla,syre",
     SY_FLAG_METHODS, 0, 0},
    {"lr", NULL, "0.1", SY_FLAG_DOUBLE, 0, 10},
    {"gamma", "weight decay: gradient += gamma (theta - anchor), as PyTorch's weight_decay", "0.02", SY_FLAG_DOUBLE, 0, 100},
    {NULL, NULL, NULL, 0, 0, 0},
};

static sy_status toy_run(sy_run *run)
{
    int nm;
    const char *const *methods = sy_run_methods(run, &nm);
    long steps = sy_run_get_int(run, "steps");
    double lr = sy_run_get_double(run, "lr"), gamma = sy_run_get_double(run, "gamma");
    double sigma0 = sy_run_get_double(run, "sigma0"), eps = sy_run_get_double(run, "eps");
    uint64_t seed = sy_run_seed(run);

    /* Data: x ~ U(-2, 2), target y = 1.5 tanh(x), from the data-generator stream. */
    double x[TOY_N], y[TOY_N];
    sy_rng dr = sy_rng_make(seed, SY_STREAM_DATAGEN, 0);
    for (int i = 0; i < TOY_N; i++) {
        x[i] = 4.0 * sy_rng_uniform(&dr) - 2.0;
        y[i] = 1.5 * tanh(x[i]);
    }

    sy_plot *plot = sy_plot_new("Toy: f = (t1 tanh(t2 x) - y)^2, started at the saddle (0, 0)", "step", "training loss");
    if (!plot) return sy_fail(SY_ERR_NOMEM, "toy: out of memory");
    double *curve = malloc(sizeof(double) * (size_t)(steps + 1));
    if (!curve) {
        sy_plot_free(plot);
        return sy_fail(SY_ERR_NOMEM, "toy: out of memory");
    }
    sy_status s = SY_OK;
    for (int m = 0; m < nm && s == SY_OK; m++) {
        const char *meth = methods[m];
        /* Anchor and decay diagonal; gamma is a weight-decay coefficient as
         * everywhere in syre (gradient += gamma D (phi - a), Eq. 2's gamma / 2). */
        double anchor[2] = {0, 0}, D[2] = {1, 1}, g = gamma;
        if (strcmp(meth, "syre") == 0 || strcmp(meth, "syre-ar") == 0) {
            sy_rng ar = sy_rng_make(seed, SY_STREAM_ANCHOR, 0);
            anchor[0] = sigma0 * sy_rng_normal(&ar); /* fan_in = 1: absolute std = sigma0 */
            anchor[1] = sigma0 * sy_rng_normal(&ar);
            if (meth[4] == '-') {
                sy_rng dd = sy_rng_make(seed, SY_STREAM_DECAY_D, 0);
                for (int k = 0; k < 2; k++) D[k] = 1 - eps + 2 * eps * sy_rng_uniform(&dd);
            }
        } else if (strcmp(meth, "none") == 0) {
            g = 0;
        } else if (strcmp(meth, "vanilla") != 0 && strcmp(meth, "l2init") != 0) {
            s = sy_fail(SY_ERR_ARG, "toy: method '%s' is not supported here (vanilla, syre, syre-ar, l2init, none)", meth);
            break;
        }
        double t[2] = {0, 0}; /* both methods start at the saddle */
        char label[96];
        snprintf(label, sizeof label, "toy %s", meth);
        sy_progress *pr = sy_progress_start(label, steps);
        double loss = 0;
        for (long it = 0; it <= steps; it++) {
            double gr[2] = {0, 0};
            loss = 0;
            for (int i = 0; i < TOY_N; i++) {
                double th = tanh(t[1] * x[i]), r = t[0] * th - y[i];
                loss += r * r / TOY_N;
                gr[0] += 2 * r * th / TOY_N;
                gr[1] += 2 * r * t[0] * (1 - th * th) * x[i] / TOY_N;
            }
            curve[it] = loss;
            const char *names[3] = {"loss", "theta1", "theta2"};
            double vals[3] = {loss, t[0], t[1]};
            if ((s = sy_run_log(run, meth, it, 3, names, vals)) != SY_OK) break;
            if (it == steps) break;
            for (int k = 0; k < 2; k++) t[k] -= lr * (gr[k] + g * D[k] * (t[k] - anchor[k]));
            if (!isfinite(t[0]) || !isfinite(t[1])) {
                s = sy_fail(SY_ERR_NUMERIC, "toy: %s diverged at step %ld (lower --lr)", meth, it);
                break;
            }
            if (it % 10 == 0) {
                char note[48];
                snprintf(note, sizeof note, "loss %.4g", loss);
                sy_progress_update(pr, it + 1, note);
            }
        }
        sy_progress_update(pr, steps, NULL);
        sy_progress_finish(pr);
        if (s != SY_OK) break;
        char buf[64];
        snprintf(buf, sizeof buf, "%g", g);
        sy_run_summary_setting(run, meth, "gamma", buf);
        snprintf(buf, sizeof buf, "(%g, %g)", anchor[0], anchor[1]);
        sy_run_summary_setting(run, meth, "anchor", buf);
        sy_run_summary(run, meth, "final loss", loss);
        sy_run_summary(run, meth, "theta1", t[0]);
        sy_run_summary(run, meth, "theta2", t[1]);
        sy_run_summary(run, meth, "escaped (|theta| > 0.1)", hypot(t[0], t[1]) > 0.1);
        s = sy_plot_series(plot, meth, NULL, curve, (int)steps + 1, SY_PLOT_LINE);
    }
    if (s == SY_OK) {
        char base[4200];
        sy_plot_log_axes(plot, 0, 1);
        s = sy_plot_save(plot, sy_run_path(run, "toy", base, sizeof base));
    }
    free(curve);
    sy_plot_free(plot);
    return s;
}

const sy_experiment sy_exp_toy = {
    .name = "toy",
    .figure = "none (demo)",
    .summary = "2-parameter tanh model started at its symmetric saddle: vanilla stays stuck, syre escapes",
    .flags = toy_flags,
    .run = toy_run,
    .reproduce_id = "toy",
    .reproduce = toy_run,
    .no_checkpoint = 1,
    .ignores = "data-dir,epochs,batch",
    .quick = "steps=100",
};
