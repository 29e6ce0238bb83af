#!/usr/bin/env bash
# The API reference (docs/Doxyfile) builds from the public headers and every
# public function, type, macro, enum value and struct field has a comment:
# doxygen's warnings (undocumented symbol, broken reference) fail the test,
# each naming the header and line.
set -euo pipefail
cd "${SYRE_SOURCE_DIR:-.}"
if ! command -v doxygen >/dev/null 2>&1; then
  echo "SKIP test_api_reference: doxygen is not installed (scripts/setup.sh installs it)"
  exit 77
fi
tmp=$(mktemp -d /tmp/syre-apiref-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
{ cat docs/Doxyfile; echo "OUTPUT_DIRECTORY = $tmp"; } | doxygen - 2>"$tmp/warnings" >/dev/null
[ -s "$tmp/html/index.html" ] || { cat "$tmp/warnings"; echo "api reference: no HTML was generated"; exit 1; }
if [ -s "$tmp/warnings" ]; then
  cat "$tmp/warnings"
  echo "api reference: $(wc -l <"$tmp/warnings") doxygen warnings in include/syre/ (document each symbol named above)"
  exit 1
fi
echo "api reference: $(ls "$tmp/html" | wc -l) HTML files, every public symbol documented"
