/* Private: rewinding a run's CSV records to a checkpoint, so that rows
 * logged after it (before a kill, or before the newer checkpoint that turned
 * out damaged) are not written a second time when training resumes. Only for
 * experiments that set `stops` (they train their methods one after another,
 * so every row after a running method's checkpoint is that method's). */
#ifndef SYRE_IO_RECORDS_H
#define SYRE_IO_RECORDS_H

#include <stddef.h>

#include "syre/core.h"

/* "metrics.csv=1234;..." : the byte length of every CSV in the current run's
 * directory, rows flushed; a list cut short for want of room ends in "*".
 * Returns 0 (buf empty) when no such run is active; buf is empty too, with 1
 * returned, while the run has no CSV yet. */
int sy_records_mark(char *buf, size_t size);
/* Cut every file named in marks back to its recorded length if it is longer;
 * when the list is whole, empty every CSV it does not name (created after
 * the marks). marks NULL (none recorded): nothing is cut. */
sy_status sy_records_rewind(const char *marks);

#endif
