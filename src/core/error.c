/* Error reporting: one thread-local message, set by sy_fail and read by the
 * caller (the CLI prints it). The library never exits on bad input. */
#include "syre/core.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static _Thread_local char last_error[1024];

const char *sy_last_error(void) { return last_error; }

void sy_clear_error(void) { last_error[0] = '\0'; }

sy_status sy_fail(sy_status code, const char *fmt, ...)
{
    /* Format aside first: callers may pass sy_last_error() itself as an
     * argument (wrapping a message), and vsnprintf must not overlap. */
    char msg[sizeof last_error];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    memcpy(last_error, msg, sizeof msg);
    return code;
}

const char *sy_status_str(sy_status s)
{
    switch (s) {
    case SY_OK: return "ok";
    case SY_ERR_ARG: return "invalid argument";
    case SY_ERR_SHAPE: return "shape error";
    case SY_ERR_IO: return "I/O error";
    case SY_ERR_FORMAT: return "format error";
    case SY_ERR_NOMEM: return "out of memory";
    case SY_ERR_NUMERIC: return "numerical error";
    case SY_ERR_STATE: return "invalid state";
    case SY_ERR_UNSUPPORTED: return "unsupported";
    case SY_ERR_STOPPED: return "stopped";
    }
    return "unknown status";
}
