#!/usr/bin/env bash
# Fuzzes every parser: builds the libFuzzer targets (fuzz/fuzz_*.c) with clang,
# ASan and UBSan in build-fuzz/, then runs each for SECONDS (default 60) from
# its seed corpus (fuzz/corpus/<target>, committed) plus the corpus grown by
# earlier runs (build-fuzz/corpus/<target>). Fails on any finding: a crash,
# a sanitizer report, a leak, a timeout (> 10 s for one input) or an input
# using more than 2 GiB. A finding is left as build-fuzz/artifacts/<target>-*;
# replay it with build-fuzz/<target> FILE and turn it into a test in tests/.
#   usage: scripts/fuzz.sh [SECONDS] [TARGET...]
set -euo pipefail
cd "$(dirname "$0")/.."
secs="${1:-60}"
shift || true
command -v clang >/dev/null || { echo "fuzz: clang is not installed (scripts/setup.sh installs it)" >&2; exit 2; }
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSYRE_FUZZ=ON -DSYRE_NATIVE=OFF -DSYRE_CUDA=OFF -DSYRE_MPI=OFF >/dev/null
cmake --build build-fuzz -j"$(nproc)" >/dev/null
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for f in fuzz/fuzz_*.c; do targets+=("$(basename "$f" .c)"); done
fi
mkdir -p build-fuzz/artifacts build-fuzz/logs
report=build-fuzz/fuzz-report.txt
printf "%-18s %8s %12s %10s %8s\n" target seconds executions exec/s corpus > "$report"
failed=0
for t in "${targets[@]}"; do
  seeds="fuzz/corpus/${t#fuzz_}"
  work="build-fuzz/corpus/${t#fuzz_}"
  mkdir -p "$work"
  log="build-fuzz/logs/$t.log"
  echo "== $t: ${secs}s"
  set +e
  # -print_final_stats gives the execution count; the seed folder is read-only input.
  # -close_fd_mask=3: the targets' own output is dropped; sanitizer and libFuzzer
  # reports still reach the log (libFuzzer keeps a duplicate of stderr for them).
  "build-fuzz/$t" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 -close_fd_mask=3 \
    -artifact_prefix="build-fuzz/artifacts/$t-" "$work" "$seeds" >"$log" 2>&1
  rc=$?
  set -e
  execs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  rate=$(grep -o 'stat::average_exec_per_sec: *[0-9]*' "$log" | grep -o '[0-9]*$' || echo "?")
  ncorp=$(find "$work" -type f | wc -l)
  printf "%-18s %8s %12s %10s %8s\n" "$t" "$secs" "$execs" "$rate" "$ncorp" >> "$report"
  if [ $rc -ne 0 ]; then
    echo "fuzz: $t FOUND A PROBLEM (exit $rc); its report:" >&2
    grep -E "ERROR|SUMMARY|runtime error|Test unit written|==[0-9]+==" "$log" | head -20 >&2 || tail -5 "$log" >&2
    failed=1
  fi
done
cat "$report"
if [ $failed -ne 0 ]; then
  echo "fuzz: findings in build-fuzz/artifacts/ (logs in build-fuzz/logs/)" >&2
  exit 1
fi
echo "fuzz: no findings"
