/* Flags that take one of a fixed set of words (--cov-scale inv-alpha2 |
 * alpha2 | none): one parser and one message for every experiment. */
#include <string.h>

#include "syre/experiment.h"

sy_status sy_run_get_choice(const sy_run *run, const char *flag, const char *choices, int *index)
{
    const char *exp = sy_run_experiment(run)->name, *text = sy_run_get_str(run, flag);
    size_t want = text ? strlen(text) : 0;
    *index = 0;
    for (const char *p = choices; text && *p; (*index)++) {
        size_t len = strcspn(p, ",");
        if (len == want && strncmp(p, text, len) == 0) return SY_OK;
        p += len + (p[len] == ',');
    }
    *index = -1;
    return sy_fail(SY_ERR_ARG, "%s: --%s must be one of %s, got '%s'", exp, flag, choices, text ? text : "");
}
