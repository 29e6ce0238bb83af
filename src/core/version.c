/* sy_version (include/syre/version.h): the version this library was built as. */
#include "syre/version.h"

const char *sy_version(void) { return SYRE_VERSION_STRING; }
