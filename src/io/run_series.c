/* The series a comparison draws when one setting (syre's sigma0) is swept
 * for some of its methods only. */
#include <stdio.h>
#include <string.h>

#include "syre/experiment.h"

sy_status sy_run_series(const sy_run *run, const char *swept, const char *tag, const char *key, const double *values,
                        int nv, double dflt, sy_series *out, int max, int *n)
{
    int nm;
    const char *const *m = sy_run_methods(run, &nm);
    *n = 0;
    for (int i = 0; i < nm; i++) {
        int each = values && nv > 0 && swept && strncmp(m[i], swept, strlen(swept)) == 0;
        for (int j = 0; j < (each ? nv : 1); j++, (*n)++) {
            if (*n == max)
                return sy_fail(SY_ERR_ARG, "%s: more than %d series of methods and %s values",
                               sy_run_experiment(run)->name, max, key ? key : "setting");
            sy_series *s = &out[*n];
            s->method = m[i];
            s->value = each ? values[j] : dflt;
            snprintf(s->name, sizeof s->name, "%s", m[i]);
            snprintf(s->label, sizeof s->label, "%s", m[i]);
            if (each) {
                snprintf(s->name, sizeof s->name, "%s-%s%g", m[i], tag ? tag : "", values[j]);
                snprintf(s->label, sizeof s->label, "%s %s=%g", m[i], key ? key : "", values[j]);
            }
        }
    }
    return SY_OK;
}
