#!/usr/bin/env bash
# The project's test command: set up, build, run every test under CTest; then
# the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer in
# a separate build (build-sanitize/). SYRE_SKIP_SANITIZE=1 skips that pass.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"

if [ "${SYRE_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== the suite again under AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-O1" -DSYRE_SANITIZE=ON >/dev/null
  cmake --build build-sanitize -j"$(nproc)" >/dev/null
  # fontconfig (under cairo's text) keeps caches for the process lifetime: not ours.
  LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure -j"$(nproc)"
fi
