/* A flag whose value is one of a few names (--solver gd|closed): its index,
 * with one message for every experiment when it is none of them. */
#include <stdio.h>
#include <string.h>

#include "syre/experiment.h"

sy_status sy_run_get_choice(const sy_run *run, const char *flag, int n, const char *const *names, int *index)
{
    const char *v = sy_run_get_str(run, flag);
    for (int i = 0; v && i < n; i++)
        if (!strcmp(v, names[i])) return *index = i, SY_OK;
    char list[512] = "";
    size_t len = 0;
    for (int i = 0; i < n && len < sizeof list; i++)
        len += (size_t)snprintf(list + len, sizeof list - len, "%s'%s'", i == 0 ? "" : i == n - 1 ? " or " : ", ",
                                names[i]);
    return sy_fail(SY_ERR_ARG, "%s: --%s must be %s, got '%s'", sy_run_experiment(run)->name, flag, list,
                   v ? v : "");
}
