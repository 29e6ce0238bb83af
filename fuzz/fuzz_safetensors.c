/* libFuzzer target: the safetensors checkpoint reader (whose header is the
 * JSON the program reads back) and the training-state loader on top of it.
 * Input: the file. Every tensor that loads is read to its end; then the
 * file is offered to sy_train_load for a small fixed model (two tensors,
 * Adam state), which must either restore it or refuse it.
 * Seeds (fuzz/corpus/safetensors) are checkpoints written by the library. */
#include "fuzz_util.h"
#include "syre/format.h"
#include "syre/syre.h"

static sy_params *ps;
static sy_optimizer *opt;

static void model(void)
{
    ps = sy_params_new();
    sy_init init = {SY_INIT_NORMAL_FANIN, 1.0f};
    if (!ps || sy_params_add(ps, "w", sy_shape_of(2, 3, 2), 2, init, 1) < 0 ||
        sy_params_add(ps, "b", sy_shape_of(1, 3), 1, init, 1) < 0 || sy_params_layout(ps) != SY_OK ||
        sy_params_init(ps, 1) != SY_OK)
        abort();
    sy_optim_opts o = sy_optim_defaults(SY_OPTIM_ADAM);
    o.decay = sy_decay_syre(1e-2f, 0.1f);
    if (!(opt = sy_optimizer_new(ps, &o))) abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!ps) model();
    char path[256];
    fz_write(fz_path(path, sizeof path, "ckpt.safetensors"), data, size);
    sy_safetensors *st = NULL;
    if (sy_safetensors_read(path, &st) == SY_OK) {
        float acc = 0;
        for (int i = 0; i < sy_safetensors_count(st); i++) {
            size_t n = sy_shape_numel(sy_safetensors_shape(st, i));
            const float *x = sy_safetensors_data(st, i);
            if (n && !x) abort();
            for (size_t k = 0; k < n; k++) acc += x[k] * 0.0f;
            if (!sy_safetensors_name(st, i)) abort();
        }
        for (int i = 0; i < sy_safetensors_meta_count(st); i++)
            if (!sy_safetensors_meta(st, sy_safetensors_meta_key(st, i))) abort();
        (void)acc;
        sy_safetensors_free(st);
    } else if (st) {
        abort();
    }
    sy_train_pos pos;
    (void)sy_train_load(path, ps, opt, &pos);
    return 0;
}
