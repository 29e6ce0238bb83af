/* The experiment registry (experiments/registry.h), expanded from list.h so
 * that adding an experiment edits no code here. */
#define _POSIX_C_SOURCE 200809L /* strtok_r */
#include "registry.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "list.h"

#define SY_DECLARE_EXP(name) extern const sy_experiment sy_exp_##name;
SY_EXPERIMENTS(SY_DECLARE_EXP)
#undef SY_DECLARE_EXP

static const sy_experiment *const registry[] = {
#define SY_LIST_EXP(name) &sy_exp_##name,
    SY_EXPERIMENTS(SY_LIST_EXP)
#undef SY_LIST_EXP
};

const sy_experiment *const *sy_experiments(int *count)
{
    *count = (int)(sizeof registry / sizeof registry[0]);
    return registry;
}

const sy_experiment *sy_experiment_find(const char *name)
{
    for (size_t i = 0; name && i < sizeof registry / sizeof registry[0]; i++)
        if (strcmp(registry[i]->name, name) == 0) return registry[i];
    return NULL;
}

/* Lower-case letters and digits only: "Fig. 3 right" -> "fig3right". */
static void normalise(const char *s, char *out, size_t size)
{
    size_t k = 0;
    for (; s && *s && k + 1 < size; s++)
        if (isalnum((unsigned char)*s)) out[k++] = (char)tolower((unsigned char)*s);
    out[k] = '\0';
}

const sy_experiment *sy_experiment_find_reproduce(const char *what)
{
    const sy_experiment *e = sy_experiment_find(what);
    if (e) return e;
    char want[128], have[128];
    normalise(what, want, sizeof want);
    if (!want[0]) return NULL;
    for (size_t i = 0; i < sizeof registry / sizeof registry[0]; i++) {
        const sy_experiment *x = registry[i];
        /* reproduce_id may list several ids ("fig4,fig5"): one experiment, several figures. */
        char ids[256];
        snprintf(ids, sizeof ids, "%s", x->reproduce_id ? x->reproduce_id : "");
        const char *keys[8] = {x->name, x->figure};
        int nk = 2;
        for (char *save = NULL, *t = strtok_r(ids, ",", &save); t && nk < 8; t = strtok_r(NULL, ",", &save))
            keys[nk++] = t;
        for (int k = 0; k < nk; k++) {
            if (!keys[k]) continue;
            normalise(keys[k], have, sizeof have);
            if (strcmp(have, want) == 0) return x;
        }
    }
    return NULL;
}
