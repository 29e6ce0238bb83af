/* Opening input files safely: only a regular file is accepted, so a FIFO,
 * device or directory given as data, a record or a checkpoint fails at once
 * with a message instead of blocking or failing later in a parser. */
#define _POSIX_C_SOURCE 200809L
#include "syre/core.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

FILE *sy_fopen_regular(const char *path, const char *mode)
{
    int append = mode[0] == 'a';
    if (!append && mode[0] != 'r') {
        sy_fail(SY_ERR_ARG, "sy_fopen_regular(%s): mode '%s' is neither read nor append", path, mode);
        return NULL;
    }
    /* O_NONBLOCK: opening a FIFO for reading would otherwise wait for a writer. */
    int fd = open(path, (append ? O_WRONLY | O_APPEND : O_RDONLY) | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        sy_fail(SY_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
        return NULL;
    }
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        const char *what = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO"
                           : S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode) ? "a device" : S_ISSOCK(st.st_mode) ? "a socket"
                           : "not a regular file";
        close(fd);
        sy_fail(SY_ERR_IO, "%s: is %s, expected a regular file", path, what);
        return NULL;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    FILE *f = fdopen(fd, mode);
    if (!f) {
        sy_fail(SY_ERR_IO, "%s: cannot open (%s)", path, strerror(errno));
        close(fd);
    }
    return f;
}

