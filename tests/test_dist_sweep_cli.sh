#!/usr/bin/env bash
# `mpirun -np 2 syre reproduce fig4` (docs/distributed.md, "Sweeps across
# ranks") on a tiny collapse sweep over 2 seeds (4 settings x 2 seeds x 2
# methods, then syre's sigma0 at 3 settings x 2 seeds: 22 points):
#   - the ranks share the points, each trained as one process (no gradient
#     exchange: data-parallel training would print other digits), and rank 0
#     gathers them: the table, metrics.csv, sweep.csv, sigma0.csv,
#     spectrum.csv, summary.json (less its run directory and times), the
#     point records and the figures are byte for byte the single process's;
#   - with one point's record and directory deleted, --resume trains that
#     point alone (on its rank) and reads the others back, and the records are
#     again the single process's;
#   - a single process refuses to resume the 2-rank run (the points' rows are
#     in points/<i>/).
# About 30 s on 2 cores.
# Skipped (77) in a build without MPI or without the MNIST data, and in a
# sanitizer build (the 44 trainings take minutes there; test_run_sweep and
# test_dist run the runner and the local scope under them).
set -euo pipefail
if grep -q '^SYRE_SANITIZE:BOOL=ON' "${SYRE_BINARY_DIR:-build}/CMakeCache.txt" 2>/dev/null; then
  echo "SKIP $(basename "$0" .sh): too slow under the sanitizers (the Release build runs it)"
  exit 77
fi
name=test_dist_sweep_cli
. "$(dirname "$0")/dist_cli_common.sh"
args=(--quick --train-size 512 --test-size 200 --rank-n 100 --epochs 1 --gammas 1e-3,1e-1 --alphas 0.3,1
      --sigma0s 0.1,1 --seeds 2 --threads 1 --out "$out")

# same_records A B: the records of runs A and B (under $out/collapse) are the same, naming each that differs
same_records() {
  local a=$out/collapse/$1 b=$out/collapse/$2 bad=0 f
  for f in metrics.csv sweep.csv sigma0.csv spectrum.csv $(cd "$a" && ls points/*.csv fig*.svg); do
    cmp -s "$a/$f" "$b/$f" || { echo "differs: $f"; bad=1; }
  done
  local drop='"run_dir"|"end_time"|"elapsed_s"'
  diff <(grep -Ev "$drop" "$a/summary.json") <(grep -Ev "$drop" "$b/summary.json") >/dev/null ||
    { echo "differs: summary.json"; bad=1; }
  return $bad
}

"$bin" reproduce fig4 "${args[@]}" --name one >"$out/one.txt" 2>"$out/one.err" ||
  { cat "$out/one.err"; fail "one-process reproduce"; }
SYRE_DIST_VERBOSE=1 "${mpi[@]}" "$bin" reproduce fig4 "${args[@]}" --name two >"$out/two.txt" 2>"$out/two.err" ||
  { cat "$out/two.err"; fail "2-rank reproduce"; }
n=$(ls "$out/collapse/one/points" | grep -c '\.csv$')
[ "$n" = 22 ] || fail "the sweep has $n points, not 22"
echo "== 2 ranks vs one process: $n points"
[ "$(grep -c 'trained in' "$out/two.err")" = "$n" ] || fail "2 ranks did not train every point once"
[ -e "$out/collapse/two/points/1/metrics.csv" ] && [ -e "$out/collapse/two/points/0/metrics.csv" ] ||
  fail "the points' rows are not in points/<i>/"
diff "$out/one.txt" "$out/two.txt" || fail "the results table differs"
same_records one two || fail "2 ranks' records differ from one process's"

echo "== --resume after deleting point 3's record (rank 0's): only point 3 is trained"
rm -r "$out/collapse/two/points/2.csv" "$out/collapse/two/points/2"
SYRE_DIST_VERBOSE=1 "${mpi[@]}" "$bin" reproduce fig4 "${args[@]}" --name two --resume >"$out/res.txt" \
  2>"$out/res.err" || { cat "$out/res.err"; fail "2-rank resume"; }
grep 'trained in' "$out/res.err" || true
[ "$(grep -c 'trained in' "$out/res.err")" = 1 ] && grep -q 'point 3 of 22 .* trained in' "$out/res.err" ||
  fail "the resume did not train point 3 alone"
[ "$(grep -c 'read back' "$out/res.err")" = $((n - 1)) ] || fail "the ranks did not read the other points back"
diff "$out/one.txt" "$out/res.txt" || fail "the resumed run's table differs"
same_records one two || fail "the resumed run's records differ from one process's"

echo "== a single process does not resume the 2-rank sweep"
if "$bin" reproduce fig4 "${args[@]}" --name two --resume >/dev/null 2>"$out/mix.err"; then
  fail "a single process resumed a sweep trained across ranks"
fi
grep -q "resume the run as it was launched" "$out/mix.err" || { cat "$out/mix.err"; fail "no reason given"; }
echo "sweep across 2 ranks: records equal one process's; --resume trains the missing point only"
