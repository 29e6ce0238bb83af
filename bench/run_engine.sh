#!/usr/bin/env bash
# Engine speed: syre (build/bench_engine) against PyTorch (bench/torch_engine.py)
# on the MLP and the CNN at batch 64, 1 and 2 threads. For each configuration
# the two run alternately, ROUNDS times, in the same environment: the same
# OpenBLAS settings (OPENBLAS_NUM_THREADS = threads; OPENBLAS_CORETYPE left as
# the environment has it), OMP_WAIT_POLICY=PASSIVE on the PyTorch side (its
# OpenMP pool otherwise spins against OpenBLAS's threads). The figure per
# engine is the median over rounds of each run's median samples/s, and the best
# round (other load on the machine only ever slows a run down).
#
# Usage: bench/run_engine.sh            (from the repository root)
# Environment: SYRE_BUILD (build dir, default build), SYRE_PYTHON
# (default /usr/bin/python3), ROUNDS (3), THREADS ("1 2"), MODELS ("mlp cnn"),
# BENCH_ARGS (passed to both, e.g. "--steps 64 --repeats 7").
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${SYRE_BUILD:-$root/build}
py=${SYRE_PYTHON:-/usr/bin/python3}
rounds=${ROUNDS:-3}
threads_list=${THREADS:-"1 2"}
models=${MODELS:-"mlp cnn"}
args=${BENCH_ARGS:-}
bin=$build/bench_engine
[ -x "$bin" ] || { echo "run_engine.sh: $bin not built (cmake --build $build)" >&2; exit 1; }
"$py" -c 'import torch' 2>/dev/null || { echo "run_engine.sh: $py cannot import torch" >&2; exit 1; }

echo "# load before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) CPUs online"
echo "# OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-<unset>} OMP_WAIT_POLICY(syre)=${OMP_WAIT_POLICY:-<unset>} OMP_WAIT_POLICY(torch)=PASSIVE"
echo "# $("$bin" --model mlp --threads 1 --warmup 0 --steps 1 --repeats 1 | sed -n 's/^# syre BLAS: //p' | head -1)"
echo "# torch $("$py" -c 'import torch; print(torch.__version__)'); rounds $rounds; args: ${args:-<defaults>}"

# value of key= in a RESULT line
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }

table=""
for t in $threads_list; do
  for m in $models; do
    s_all=""; p_all=""
    for ((r = 1; r <= rounds; r++)); do
      s=$(OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t "$bin" --model "$m" --threads "$t" $args \
          | grep '^RESULT' | field samples_per_s)
      p=$(OPENBLAS_NUM_THREADS=$t OMP_NUM_THREADS=$t OMP_WAIT_POLICY=PASSIVE \
          "$py" "$root/bench/torch_engine.py" --model "$m" --threads "$t" $args \
          | grep '^RESULT' | field samples_per_s)
      echo "# $m threads=$t round $r: syre $s torch $p samples/s"
      s_all="$s_all $s"; p_all="$p_all $p"
    done
    sm=$(tr ' ' '\n' <<<"$s_all" | grep . | median)
    pm=$(tr ' ' '\n' <<<"$p_all" | grep . | median)
    sb=$(tr ' ' '\n' <<<"$s_all" | grep . | sort -g | tail -1)
    pb=$(tr ' ' '\n' <<<"$p_all" | grep . | sort -g | tail -1)
    table+=$(awk -v m="$m" -v t="$t" -v s="$sm" -v p="$pm" -v sb="$sb" -v pb="$pb" \
      'BEGIN {printf "| %-5s | %7d | %8.0f | %8.0f | %5.2f | %8.0f | %8.0f | %5.2f |\n", m, t, s, p, s / p, sb, pb, sb / pb}')$'\n'
  done
done
echo "# load after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "samples/s: median over rounds, and best round (less sensitive to other load on the machine)"
echo "| model | threads | syre med | torch med | ratio | syre best | torch best | ratio |"
echo "|-------|---------|----------|-----------|-------|-----------|------------|-------|"
printf '%s' "$table"
