/* The kernels' error slot (backend/exec.h). */
#include "backend/exec.h"

#include <stdarg.h>
#include <stdio.h>

void sy_exec_fail(sy_exec *ex, sy_status st, const char *fmt, ...)
{
    if (ex->fault->status) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(ex->fault->msg, sizeof ex->fault->msg, fmt, ap);
    va_end(ap);
    ex->fault->status = st;
}
