#!/usr/bin/env bash
# The library's layers call only down (docs/architecture.md), checked in the
# source, so that a call going the wrong way fails here:
#  - the library reads no environment variable: no getenv under src/ or
#    include/ (the command maps SYRE_* onto options in cli/env_options.h);
#  - kernels see an execution context (backend/exec.h), never the graph:
#    nothing under src/backend/ names sy_graph or includes a graph header;
#  - train writes its checkpoints and rows through the file formats below it
#    (syre/format.h): nothing under src/train/ includes an io header (the
#    run record, syre/experiment.h, src/io/) or a plot.
set -euo pipefail
src=${SYRE_SOURCE_DIR:-$(cd "$(dirname "$0")/.." && pwd)}
fail=0
if hits=$(grep -rnE '\b(secure_)?getenv\b' "$src/src" "$src/include"); then
  echo "FAIL: the library reads the environment (map the variable onto an option in cli/env_options.h):"
  echo "$hits"
  fail=1
fi
if hits=$(grep -rnE '\bsy_graph\b|#include "graph/' "$src/src/backend"); then
  echo "FAIL: the backends reach into the graph (kernels take an sy_exec, backend/exec.h):"
  echo "$hits"
  fail=1
fi
if hits=$(grep -rnE '#include "(io/|syre/experiment\.h|syre/plot\.h)' "$src/src/train"); then
  echo "FAIL: the train layer includes a layer above it (its files go through syre/format.h):"
  echo "$hits"
  fail=1
fi
[ $fail -eq 0 ] && echo "layering: all checks hold"
exit $fail
