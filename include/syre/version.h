/* The library's version. The macros say which headers a program was compiled
 * against; sy_version() says which library it runs with (a shared libsyre may
 * be newer). CMake reads the version from the three macros below: this is the
 * one place to change it. */
#ifndef SYRE_VERSION_H
#define SYRE_VERSION_H

#ifdef __cplusplus
extern "C" {
#endif

/* The version of these headers, MAJOR.MINOR.PATCH. */
#define SYRE_VERSION_MAJOR 0
#define SYRE_VERSION_MINOR 1
#define SYRE_VERSION_PATCH 0

/* "MAJOR.MINOR.PATCH" of these headers. */
#define SYRE_VERSION_STRINGIFY_(x) #x
#define SYRE_VERSION_STRINGIFY(x) SYRE_VERSION_STRINGIFY_(x)
#define SYRE_VERSION_STRING                                                                  \
    SYRE_VERSION_STRINGIFY(SYRE_VERSION_MAJOR)                                               \
    "." SYRE_VERSION_STRINGIFY(SYRE_VERSION_MINOR) "." SYRE_VERSION_STRINGIFY(SYRE_VERSION_PATCH)

/* MAJOR * 10000 + MINOR * 100 + PATCH, for comparisons in the preprocessor. */
#define SYRE_VERSION_NUMBER (SYRE_VERSION_MAJOR * 10000 + SYRE_VERSION_MINOR * 100 + SYRE_VERSION_PATCH)

/* The running library's version, "MAJOR.MINOR.PATCH". */
const char *sy_version(void);

#ifdef __cplusplus
}
#endif
#endif
