#!/usr/bin/env bash
# The project's test command: set up, build, run every test under CTest (among
# them the library installed and built against with pkg-config and CMake,
# tests/test_install.sh, and the core library alone, without MPI, MuJoCo and
# cairo, inside another project, tests/test_add_subdirectory.sh); then
# the mutation check (scripts/mutants.sh); then the whole suite again under
# AddressSanitizer + UndefinedBehaviorSanitizer in a separate build
# (build-sanitize/), then every libFuzzer target for 20 s
# (build-fuzz/), then valgrind memcheck over a training run (build-valgrind/).
# SYRE_SKIP_MUTANTS=1 / SYRE_SKIP_SANITIZE=1 / SYRE_SKIP_FUZZ=1 /
# SYRE_SKIP_VALGRIND=1 skip those.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)"
ctest --test-dir build --output-on-failure -j"$(nproc)"

if [ "${SYRE_SKIP_MUTANTS:-0}" != 1 ]; then
  # Would the tests notice a wrong method? Each mutant of scripts/mutants.sh
  # must be killed (~4 minutes on 2 cores, reusing build/).
  echo "== mutants"
  bash scripts/mutants.sh
fi

if [ "${SYRE_SKIP_SANITIZE:-0}" != 1 ]; then
  echo "== the suite again under AddressSanitizer + UndefinedBehaviorSanitizer"
  cmake -S . -B build-sanitize -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_FLAGS="-O1" -DSYRE_SANITIZE=ON -DSYRE_CUDA=OFF >/dev/null
  cmake --build build-sanitize -j"$(nproc)" >/dev/null
  # fontconfig (under cairo's text) keeps caches for the process lifetime: not ours.
  LSAN_OPTIONS="suppressions=$PWD/tests/lsan.supp" UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-sanitize --output-on-failure -j"$(nproc)"
fi

if [ "${SYRE_SKIP_FUZZ:-0}" != 1 ]; then
  # Every parser fuzzed for a short, fixed time (scripts/fuzz.sh; ~2 minutes
  # in all); any crash, sanitizer report or leak fails the test command.
  echo "== fuzzing each parser for ${SYRE_FUZZ_SECONDS:-20} s"
  bash scripts/fuzz.sh "${SYRE_FUZZ_SECONDS:-20}"
fi

if [ "${SYRE_SKIP_VALGRIND:-0}" != 1 ]; then
  # valgrind memcheck over a small training run (~1 minute with its build).
  echo "== valgrind memcheck over a training run"
  bash scripts/valgrind.sh
fi
