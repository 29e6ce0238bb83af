/* Private: a unit-reset hook's state in a training checkpoint's metadata
 * (train_state.c writes and reads it, unit_reset.c knows the hook). As text,
 * since safetensors tensors here are F32 and the state is doubles (CBP's
 * utilities, "%.17g": read back bit for bit) and counts past 2^24:
 *   "units"         "<cbp|redo> events <E> layers <n>"
 *   "units.<layer>" "units <f> count <c> acc <a> util <f values> age <f values>"
 * one "units.<layer>" per watched layer, named by its incoming layer. */
#ifndef SYRE_TRAIN_UNIT_RESET_STATE_H
#define SYRE_TRAIN_UNIT_RESET_STATE_H

#include "syre/format.h"
#include "syre/trainer.h"

/* The metadata key of the hook's summary; its layers' keys start "units.". */
#define UNIT_RESET_META "units"

/* r's state as *n metadata entries into *out (keys and values malloc'd;
 * free with unit_reset_meta_free). */
sy_status unit_reset_meta(const sy_unit_reset *r, sy_st_meta **out, int *n);
void unit_reset_meta_free(sy_st_meta *m, int n);
/* Check that st's metadata holds a state r can continue from (apply 0), or
 * put it into r (apply 1, after a check passed). A missing state, another
 * kind, other layers or unit counts fail with SY_ERR_ARG naming them;
 * unreadable values with SY_ERR_FORMAT. */
sy_status unit_reset_restore(sy_unit_reset *r, const sy_safetensors *st, const char *path, int apply);
/* "cbp" or "redo": r's kind as the metadata names it. */
const char *unit_reset_kind_name(const sy_unit_reset *r);

#endif
