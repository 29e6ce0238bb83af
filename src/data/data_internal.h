/* Private helpers shared by the data readers (not part of the public API). */
#ifndef SYRE_DATA_INTERNAL_H
#define SYRE_DATA_INTERNAL_H

/* 1 if path names an existing directory / regular file. */
int sy__is_dir(const char *path);
int sy__is_file(const char *path);

#endif
