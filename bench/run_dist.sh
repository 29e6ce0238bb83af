#!/usr/bin/env bash
# Data-parallel scaling on this machine: build/bench_dist with 1 rank and with
# 2 ranks (mpirun), 1 thread per rank, the same GLOBAL batch (strong scaling),
# alternating ROUNDS times; also 1 rank with 2 threads (the same 2 cores used
# by threads instead of ranks). Prints each round, then medians over rounds:
#   samples/s, scaling efficiency E = S(2 ranks) / (2 * S(1 rank)),
#   the allreduce's share of a 2-rank step, and the allreduce bandwidth by size.
# Usage: bench/run_dist.sh   (from the repository root; after cmake --build build)
# Environment: SYRE_BUILD (build), ROUNDS (3), BATCH (64), BENCH_ARGS (to bench_dist),
# MPIEXEC (mpirun).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SYRE_BUILD:-$root/build}
bin=$build/bench_dist
rounds=${ROUNDS:-3}
batch=${BATCH:-64}
args=${BENCH_ARGS:-}
mpiexec=${MPIEXEC:-mpirun}
[ -x "$bin" ] || { echo "run_dist.sh: $bin not built (cmake --build $build)" >&2; exit 1; }
command -v "$mpiexec" >/dev/null || { echo "run_dist.sh: no $mpiexec (Debian: openmpi-bin)" >&2; exit 1; }
mpi=("$mpiexec" --oversubscribe)
[ "$(id -u)" = 0 ] && mpi+=(--allow-run-as-root)
export OMP_WAIT_POLICY=PASSIVE   # as the syre command sets it

echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) CPUs; $(lscpu | sed -n 's/^Model name: *//p')"
echo "# $("$mpiexec" --version 2>&1 | head -1); rounds $rounds; global batch $batch; args: ${args:-<defaults>}"

field() { sed -n "s/.*[ ]$1=\([0-9.e+-]*\).*/\1/p"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT

for ((r = 1; r <= rounds; r++)); do
  OPENBLAS_NUM_THREADS=1 "${mpi[@]}" -np 1 "$bin" --batch "$batch" --threads 1 --allreduce 0 $args >"$tmp/n1t1.$r"
  OPENBLAS_NUM_THREADS=1 "${mpi[@]}" -np 2 "$bin" --batch "$batch" --threads 1 $args >"$tmp/n2t1.$r"
  OPENBLAS_NUM_THREADS=2 "${mpi[@]}" --bind-to none -np 1 "$bin" --batch "$batch" --threads 2 --allreduce 0 $args >"$tmp/n1t2.$r"
  for c in n1t1 n2t1 n1t2; do
    grep '^RESULT kind=train' "$tmp/$c.$r" | sed "s/^/# round $r $c: /"
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"

echo
echo "| model | params | 1 rank x 1 thread | 2 ranks x 1 thread | efficiency E(2) | allreduce share of a 2-rank step | 1 rank x 2 threads |"
echo "|---|---:|---:|---:|---:|---:|---:|"
for m in mlp cnn; do
  get() { cat "$tmp"/$1.* | grep "kind=train model=$m " | field "$2" | median; }
  s11=$(get n1t1 samples_per_s); s21=$(get n2t1 samples_per_s); s12=$(get n1t2 samples_per_s)
  st=$(get n2t1 step_ms); ar=$(get n2t1 allreduce_ms)
  p=$(cat "$tmp"/n1t1.* | grep "kind=train model=$m " | field params | head -1)
  awk -v m="$m" -v p="$p" -v a="$s11" -v b="$s21" -v c="$s12" -v st="$st" -v ar="$ar" 'BEGIN {
    printf "| %s | %d | %.0f samples/s | %.0f samples/s | %.2f | %.0f%% (%.2f of %.2f ms) | %.0f samples/s |\n",
           m, p, a, b, b / (2 * a), 100 * ar / st, ar, st, c }'
done
echo
echo "| allreduce message | median time (2 ranks) | algorithm bandwidth |"
echo "|---:|---:|---:|"
for b in $(cat "$tmp"/n2t1.* | grep 'kind=allreduce' | field bytes | sort -gu); do
  t=$(cat "$tmp"/n2t1.* | grep "kind=allreduce .*bytes=$b " | field seconds | median)
  awk -v b="$b" -v t="$t" 'BEGIN { printf "| %.0f KiB | %.3g ms | %.2f GB/s |\n", b / 1024, 1e3 * t, b / t / 1e9 }'
done
