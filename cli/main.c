/* The `syre` command. */
#include "syre/syre.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("syre %s\n", SYRE_VERSION);
        return 0;
    }
    printf("usage: syre [--version] [--help]\n");
    return 0;
}
