/* The unit resets' flags read for a method (experiments/unit_resets.h). */
#include "unit_resets.h"

sy_status unit_reset_for(const sy_run *run, const char *m, char *decay, size_t size, sy_unit_reset_opts *o)
{
    sy_unit_reset_kind kind;
    sy_status s = sy_unit_reset_method(m, decay, size, &kind);
    if (s != SY_OK) return s;
    *o = sy_unit_reset_defaults(kind);
    o->cbp_rate = sy_run_get_double(run, "cbp-rate");
    o->cbp_decay = sy_run_get_double(run, "cbp-decay");
    o->cbp_maturity = sy_run_get_int(run, "cbp-maturity");
    o->redo_tau = sy_run_get_double(run, "redo-tau");
    o->redo_every = sy_run_get_int(run, "redo-every");
    return SY_OK;
}

int unit_reset_dormant(const sy_run *run, const char *const *m, int n)
{
    char decay[64];
    sy_unit_reset_kind kind;
    int on = sy_run_get_bool(run, "dormant");
    for (int i = 0; i < n; i++)
        on |= sy_unit_reset_method(m[i], decay, sizeof decay, &kind) == SY_OK && kind != SY_UNIT_RESET_NONE;
    return on;
}
