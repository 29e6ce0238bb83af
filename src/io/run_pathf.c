/* A file of the run directory named by a pattern ("recon-%s", label): the
 * name and the path in one call. */
#include <stdarg.h>
#include <stdio.h>

#include "syre/experiment.h"

const char *sy_run_pathf(const sy_run *run, char *buf, size_t size, const char *fmt, ...)
{
    char file[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(file, sizeof file, fmt, ap);
    va_end(ap);
    return sy_run_path(run, file, buf, size);
}
