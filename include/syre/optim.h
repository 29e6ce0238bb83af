/* Optimizers (SGD, Adam, AdamW) over the parameter store's flat trainable
 * buffer, learning-rate schedules, gradient-norm clipping, and the one
 * per-parameter decay rule that gives weight decay, syre, syre-ar, L2-init
 * and the W-fix baseline (docs/method.md).
 *
 * Decay convention. `weight_decay` is PyTorch's coefficient wd, not the
 * paper's gamma: the training loss is l(phi) + (wd/2) (phi - a)^T D (phi - a),
 * i.e. gamma = wd / 2 in Eq. (2)/(3). phi is the stored parameter the model
 * computes with, a the anchor, D a positive diagonal:
 *   coupled (SGD, Adam):  g <- g + wd * D_ii * (phi_i - a_i)
 *   decoupled (AdamW):    phi_i <- phi_i * (1 - lr*wd*D_ii) + lr*wd*D_ii * a_i
 * With a = 0 and D = I both are exactly PyTorch's weight_decay.
 *
 * syre: a = theta0 with theta0_i ~ N(0, (sigma0 / sqrt(fan_in))^2), sigma0 in
 * the paper's relative units (default 0.01); theta0 is element `i` of
 * sub-stream `tensor index` of stream SY_STREAM_ANCHOR, D_ii (syre-ar) of
 * SY_STREAM_DECAY_D, so enabling syre changes neither init nor data order.
 * At creation the optimizer shifts phi = theta_init + theta0 (opts.shift_init).
 * sigma0 = 0 reproduces plain weight decay bit for bit. */
#ifndef SYRE_OPTIM_H
#define SYRE_OPTIM_H

#include "syre/core.h"
#include "syre/params.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- The decay rule --------------------------------------------------------- */

/* What a decay rule pulls the parameters toward, and with which D. */
typedef enum {
    SY_DECAY_NONE = 0,  /* no regulariser */
    SY_DECAY_L2,        /* weight decay toward 0 ("vanilla" in the paper) */
    SY_DECAY_SYRE,      /* toward random theta0, D = I (Eq. 2) */
    SY_DECAY_SYRE_AR,   /* toward random theta0, D_ii ~ U(1-eps, 1+eps) (Eq. 3) */
    SY_DECAY_L2_INIT    /* toward phi at optimizer creation (regenerative reg.) */
} sy_decay_kind;

/* One rule for a group of tensors. W-fix is orthogonal to the decay kind: with
 * wfix_frac > 0, in every tensor of rank >= 2 of the group a fraction
 * wfix_frac of entries is set to N(0, wfix_kappa) (kappa is the VARIANCE, as
 * in the paper's "fixed variance kappa = 0.01") at creation and never changed
 * again by any update, decay included. */
typedef struct {
    sy_decay_kind kind;  /* the target and D */
    float weight_decay;  /* PyTorch's wd (= 2 gamma); 0 = no decay */
    float sigma0;        /* syre anchor std in units of 1/sqrt(fan_in) */
    float eps;           /* syre-ar: half-width of D's uniform range, in [0, 1) */
    int exclude_1d;      /* 1: rank-1 tensors (biases, norm scales) never decay */
    float wfix_frac;     /* W-fix fraction phi in [0, 1]; 0 = off */
    float wfix_kappa;    /* W-fix value variance */
} sy_decay;

/* No decay, with sigma0 = wfix_kappa = 0.01 and W-fix off: every
 * constructor here starts from it and sets only its own arguments. */
sy_decay sy_decay_none(void);
/* Plain weight decay wd toward 0. */
sy_decay sy_decay_l2(float wd);
/* The one-liner: opts.decay = sy_decay_syre(wd, 0.01f). */
sy_decay sy_decay_syre(float wd, float sigma0);
sy_decay sy_decay_syre_ar(float wd, float sigma0, float eps);
sy_decay sy_decay_l2_init(float wd);
/* W-fix baseline (with plain weight decay wd elsewhere); paper: 0.3, 0.01. */
sy_decay sy_decay_wfix(float wd, float frac, float kappa);
/* CLI method names -> rule: "none"; "vanilla" or "l2" (decay wd toward 0);
 * "syre" and "syre-ar" (sigma0, and eps for -ar); "l2init"; "wfix" (decay wd
 * toward 0 plus W-fix with the paper's 0.3 and 0.01). */
sy_status sy_decay_parse(const char *method, float wd, float sigma0, float eps, sy_decay *out);
/* "none", "l2", "syre", "syre-ar", "l2init". */
const char *sy_decay_kind_name(sy_decay_kind k);

/* ---- Options ---------------------------------------------------------------- */

/* The update: SGD (optionally with momentum), Adam, or AdamW (decoupled decay). */
typedef enum { SY_OPTIM_SGD = 0, SY_OPTIM_ADAM, SY_OPTIM_ADAMW } sy_optim_kind;

/* lr at step t (0-based): during warm-up (t < warmup_steps) base*(t+1)/warmup;
 * then the schedule at s = t - warmup_steps:
 *   constant: base;  step: base * gamma^floor(s / step_size);
 *   cosine: min_lr + (base - min_lr) (1 + cos(pi min(s, total_steps)/total_steps)) / 2. */
typedef enum { SY_SCHED_CONSTANT = 0, SY_SCHED_STEP, SY_SCHED_COSINE } sy_sched_kind;
/* A learning-rate schedule, as above. */
typedef struct {
    sy_sched_kind kind; /* constant, step or cosine */
    long step_size;     /* step */
    float gamma;        /* step */
    long total_steps;   /* cosine */
    float min_lr;       /* cosine */
    long warmup_steps;  /* any kind; 0 = none */
} sy_schedule;

/* Where syre's theta0 and D live: a float array the size of the trainable
 * buffer each, or regenerated from (seed, tensor, element) inside every update
 * (no extra bytes, bit-identical results, more arithmetic). L2-init anchors
 * are always stored. */
typedef enum { SY_ANCHOR_STORED = 0, SY_ANCHOR_REGENERATE } sy_anchor_storage;

#define SY_OPTIM_MAX_RULES 8 /* capacity of sy_optim_opts.rules */
/* The decay rule of the trainable tensors a pattern selects (sy_optim_add_rule). */
typedef struct {
    char pattern[96];  /* fnmatch glob on tensor names, e.g. "head.*" */
    sy_decay decay;    /* their rule */
    int optional;      /* 0 (default): a pattern that selects no trainable tensor
                          (a typo, or shadowed by an earlier rule) fails
                          sy_optimizer_new, naming it; 1: it may select none */
} sy_optim_rule;

/* Options of sy_optimizer_new: start from sy_optim_defaults. */
typedef struct {
    sy_optim_kind kind;         /* SGD, Adam or AdamW */
    float lr;                   /* base learning rate, finite and >= 0 (the schedule scales it) */
    float momentum, dampening;  /* SGD (PyTorch semantics) */
    int nesterov;               /* SGD: requires momentum > 0, dampening 0 */
    float beta1, beta2, eps;    /* Adam/AdamW; eps is added outside the sqrt */
    float max_grad_norm;        /* > 0: clip the global L2 norm of the gradient */
    sy_schedule schedule;       /* learning rate over the steps (default constant) */
    sy_decay decay;             /* rule of tensors no pattern selects */
    sy_optim_rule rules[SY_OPTIM_MAX_RULES]; /* first matching pattern wins */
    int n_rules;                /* rules in use, 0..SY_OPTIM_MAX_RULES */
    sy_anchor_storage anchor_storage; /* syre's theta0 and D (default SY_ANCHOR_STORED) */
    uint64_t seed;              /* keys theta0, D and W-fix streams */
    int shift_init;             /* 1 (default): phi += theta0 at creation; 0 when
                                   phi already holds theta + theta0 (a checkpoint) */
    int nan_policy;             /* on a non-finite gradient (syre/runtime.h's sy_nan_policy): stop
                                   or skip the batch; default SY_NAN_PROCESS: the process's policy */
} sy_optim_opts;

/* PyTorch's defaults: SGD lr 0.01; Adam lr 1e-3, betas (0.9, 0.999), eps 1e-8;
 * AdamW the same with decoupled weight decay 0.01. No decay for SGD/Adam,
 * constant lr, no clipping, stored anchors, seed 0, shift_init 1. */
sy_optim_opts sy_optim_defaults(sy_optim_kind kind);
/* Give tensors whose names match `pattern` their own rule (checked in the
 * order added, before opts->decay). The rule must select at least one
 * trainable tensor (see sy_optim_rule.optional). */
sy_status sy_optim_add_rule(sy_optim_opts *o, const char *pattern, sy_decay decay);
/* The lr of step t for base lr `base` (pure function of the schedule). */
float sy_schedule_lr(const sy_schedule *s, float base, long t);

/* ---- The optimizer ---------------------------------------------------------- */

/* An optimizer of one parameter store, with its moments and anchors (opaque). */
typedef struct sy_optimizer sy_optimizer;

/* Validate options, resolve every trainable tensor's rule, apply W-fix values,
 * shift syre tensors by theta0 and record L2-init anchors. The store must be
 * laid out and initialised. NULL with a message on bad options. */
sy_optimizer *sy_optimizer_new(sy_params *ps, const sy_optim_opts *o);
/* The optimizer for a compared method (--method): o with its decay rule from sy_decay_parse(method, wd,
 * sigma0, eps). An unknown method or invalid options fail with SY_ERR_ARG and the reason (sy_last_error). */
sy_status sy_optimizer_for_method(sy_params *ps, sy_optim_opts o, const char *method, float wd, float sigma0,
                                  float eps, sy_optimizer **out);
/* Frees its moments, anchors and W-fix data, not the store; NULL is a no-op. */
void sy_optimizer_free(sy_optimizer *opt);
/* One update from the store's gradients (clip, decay, moments, step); the gradient
 * buffer is read, never written. A NaN/Inf gradient: SY_ERR_NUMERIC naming
 * the tensor, parameters unchanged (or, under SY_NAN_SKIP_BATCH, SY_OK with
 * the update skipped and the step count unchanged); a parameter made NaN/Inf
 * by the update: SY_ERR_NUMERIC (syre/runtime.h, docs/reliability.md).
 * In a distributed run (syre/dist.h, more than one rank) the step first
 * replaces the gradient buffer by its mean over ranks (MPI_Allreduce), so
 * every rank takes the same step. */
sy_status sy_optimizer_step(sy_optimizer *opt);
/* Steps taken; set it when restoring a checkpoint (drives bias correction,
 * the schedule and SGD's first momentum step). */
long sy_optimizer_steps(const sy_optimizer *opt);
void sy_optimizer_set_steps(sy_optimizer *opt, long steps);
/* lr the next step will use; base lr (schedules scale it). */
float sy_optimizer_lr(const sy_optimizer *opt);
void sy_optimizer_set_base_lr(sy_optimizer *opt, float lr);
/* Global gradient L2 norm before clipping, of the last step (0 if not clipping). */
float sy_optimizer_last_grad_norm(const sy_optimizer *opt);
/* Extra bytes the optimizer holds beyond the store (moments, anchors, D, W-fix). */
size_t sy_optimizer_bytes(const sy_optimizer *opt);
/* Bytes of anchor, D and W-fix data alone (0 for plain decay and memory-free syre). */
size_t sy_optimizer_decay_bytes(const sy_optimizer *opt);

/* Checkpoint state: flat float arrays of sy_params_trainable_size() floats
 * each, named "momentum_buffer" (SGD with momentum), "exp_avg", "exp_avg_sq"
 * (Adam/AdamW), "anchor" and "decay_d" (when stored). Writable in place. */
int sy_optimizer_num_state(const sy_optimizer *opt);
const char *sy_optimizer_state_name(const sy_optimizer *opt, int k);
float *sy_optimizer_state(sy_optimizer *opt, int k);
size_t sy_optimizer_state_size(const sy_optimizer *opt);

/* The anchor a_i and the decay weight wd_i * D_ii of every trainable element
 * (0 where no decay), regenerated if not stored: out holds trainable_size floats. */
sy_status sy_optimizer_anchor(const sy_optimizer *opt, float *out);
sy_status sy_optimizer_decay_coef(const sy_optimizer *opt, float *out);
/* The anchor network: the trainable tensors of ps whose names start with
 * prefix (NULL: all) set to the anchor, eval(ctx) run, and every value put
 * back (also when eval fails); returns eval's status. */
sy_status sy_optimizer_eval_at_anchor(const sy_optimizer *opt, sy_params *ps, const char *prefix,
                                      sy_status (*eval)(void *ctx), void *ctx);
/* The rule that applies to tensor `index` of the store (NULL if not trainable). */
const sy_decay *sy_optimizer_rule_of(const sy_optimizer *opt, int index);
/* The options the optimizer was made with. */
const sy_optim_opts *sy_optimizer_opts(const sy_optimizer *opt);
/* Number of entries held fixed by W-fix; 1 if flat element i is one of them. */
size_t sy_optimizer_num_fixed(const sy_optimizer *opt);
int sy_optimizer_is_fixed(const sy_optimizer *opt, size_t i);

/* ---- Resets ----------------------------------------------------------------- */

/* Shrink-and-perturb (Ash & Adams 2020): every trainable tensor becomes
 * lambda theta + p theta_fresh, theta_fresh the default initialisation
 * (sy_params_init) of the same tensors from fresh_seed; tensors that are not
 * trainable (running statistics) are left alone. The continual-learning
 * baseline applies it at each task boundary, with a seed of its own. */
sy_status sy_shrink_perturb(sy_params *ps, float lambda, float p, uint64_t fresh_seed);

/* ---- Recipes (src/optim/recipes.c) -------------------------------------------- */

/* The options of the standard image-classification recipe: SGD at lr with
 * momentum (PyTorch semantics) on a cosine schedule from lr to 0 over
 * total_steps (at least 1), anchors and W-fix streams keyed by seed; no
 * decay yet (set .decay, add rules, or hand it to sy_optimizer_for_method). */
sy_optim_opts sy_optim_sgd_cosine(double lr, double momentum, long total_steps, uint64_t seed);

#ifdef __cplusplus
}
#endif
#endif
