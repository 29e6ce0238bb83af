/* A flag that names things from a fixed set, a comma-separated list of
 * words (--syre-on head,all): one parser and one message for every
 * experiment. */
#include <string.h>

#include "syre/experiment.h"

/* Index of the word p[0..len) among the comma-separated choices, -1 if none. */
static int choice_index(const char *choices, const char *p, size_t len)
{
    int i = 0;
    for (const char *c = choices; *c; i++) {
        size_t clen = strcspn(c, ",");
        if (clen == len && !strncmp(c, p, len)) return i;
        c += clen + (c[clen] == ',');
    }
    return -1;
}

/* The choices as a message lists them: "head, all". */
static const char *choices_text(const char *choices, char *buf, size_t size)
{
    size_t k = 0;
    for (const char *c = choices; *c && k + 3 < size; c++) {
        buf[k++] = *c;
        if (*c == ',') buf[k++] = ' ';
    }
    buf[k] = '\0';
    return buf;
}

sy_status sy_run_get_choice_list(const sy_run *run, const char *flag, const char *choices, unsigned *mask)
{
    const char *exp = sy_run_experiment(run)->name, *text = sy_run_get_str(run, flag);
    *mask = 0;
    for (const char *p = text ? text : ""; *p;) {
        size_t len = strcspn(p, ",");
        int i = choice_index(choices, p, len);
        if (i < 0 || i >= 32) {
            char list[256];
            *mask = 0;
            return sy_fail(SY_ERR_ARG, "%s: --%s takes %s (comma-separated), got '%s'", exp, flag,
                           choices_text(choices, list, sizeof list), text);
        }
        *mask |= 1u << i;
        p += len + (p[len] == ',');
    }
    return SY_OK;
}
