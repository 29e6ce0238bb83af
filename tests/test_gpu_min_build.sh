#!/usr/bin/env bash
# scripts/gpu-min-build.sh, the fallback build scripts/gpu-check.sh uses on a
# bare GPU machine, must keep building: it lists the library's sources by
# hand and has no CMake to tell it what changed (a new source file, a new
# OpenMP call), so it broke twice unnoticed between GPU runs. Builds it for
# one architecture into a temporary directory and runs its test_cuda on sim
# (the CPU kernels in the device's place). Skips without nvcc.
set -u
src="${SYRE_SOURCE_DIR:-.}"
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
[ -x "$nvcc" ] || { echo "SKIP: no nvcc (the CUDA toolkit), so no minimal GPU build to check"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if ! GPU_MIN_OUT="$tmp/b" bash "$src/scripts/gpu-min-build.sh" 80 >"$tmp/build.log" 2>&1; then
    echo "FAIL: scripts/gpu-min-build.sh failed; last lines:"
    tail -15 "$tmp/build.log"
    exit 1
fi
tail -1 "$tmp/build.log"
SYRE_TEST_DEVICE=sim "$tmp/b/test_cuda" >"$tmp/test.log" 2>&1
rc=$?
tail -3 "$tmp/test.log"
[ $rc -eq 0 ] || { echo "FAIL: the minimal build's test_cuda on sim exited $rc"; grep -E "FAIL|ERROR" "$tmp/test.log" | head; exit 1; }
echo "ok: minimal GPU build and its test_cuda on sim"
