#!/usr/bin/env bash
# valgrind memcheck over a small training run: the quartic experiment (GD with
# syre, checkpoints every 50 steps, run record, plots) on 16 dims for 400
# steps, one thread. Fails on any invalid access, use of uninitialised
# memory or definite leak. Builds build-valgrind/ (Release, the portable
# default: valgrind cannot run AVX-512 code and hides it from cpuid, so the
# run-time dispatch takes the AVX2 kernels).
#   usage: scripts/valgrind.sh
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind: not installed (scripts/setup.sh installs it)" >&2; exit 2; }
cmake -S . -B build-valgrind -DCMAKE_BUILD_TYPE=Release -DSYRE_NATIVE=OFF -DSYRE_CUDA=OFF >/dev/null
cmake --build build-valgrind -j"$(nproc)" --target syre >/dev/null
tmp=$(mktemp -d /tmp/syre-vg-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
# (syre notices valgrind and does not re-execute itself to set
# OMP_WAIT_POLICY: /proc/self/exe would be valgrind's tool.)
OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 valgrind --tool=memcheck --leak-check=full --errors-for-leak-kinds=definite \
  --suppressions="$PWD/tests/valgrind.supp" --error-exitcode=99 --log-file="$tmp/vg.log" \
  build-valgrind/syre run quartic --method syre --d 16 --steps 400 --ckpt-every 50 --threads 1 --out "$tmp" --name v >/dev/null 2>&1 || {
  rc=$?; echo "valgrind: exit $rc"; grep -E "ERROR SUMMARY|definitely|Invalid|uninitialised" "$tmp/vg.log" | head; exit 1; }
grep -E "ERROR SUMMARY|definitely lost|indirectly lost|possibly lost|still reachable|total heap usage" "$tmp/vg.log" | sed 's/^==[0-9]*== *//'
echo "valgrind: no invalid accesses, no definite leaks"
