#!/usr/bin/env bash
# `mpirun -np 2 syre run ...` end to end (docs/distributed.md), on collapse's
# MNIST MLP at a tiny scale:
#   - 2 ranks with global batch 64 end with the parameters of one process with
#     batch 64 (float tolerance: the gradient sums run in another order), for
#     vanilla and syre;
#     syre's at a looser tolerance (dist_tol in dist_cli_common.sh says why);
#   - rank 0 alone prints the results table;
#   - a run stopped after epoch 1 and resumed with the same rank count ends
#     bit for bit where the uninterrupted 2-rank run ends (and, resumed by one
#     process instead, to float tolerance);
#   - SIGTERM to one rank stops all ranks at one step (exit 75); the resumed
#     run ends bit for bit where the uninterrupted one ends;
#   - an experiment without data parallelism, a --batch the ranks do not
#     divide, and unit resets (cbp) are refused with a message saying so.
# Skipped (77) in a build without MPI or without the MNIST data.
set -euo pipefail
name=test_dist_cli
. "$(dirname "$0")/dist_cli_common.sh"
args=(--quick --train-size 1024 --test-size 200 --rank-n 200 --batch 64 --out "$out")

# one process vs 2 ranks, 2 epochs (32 steps)
"$bin" run collapse "${args[@]}" --epochs 2 --threads 1 --name one >"$out/one.txt" 2>"$out/one.err" \
  || { cat "$out/one.err"; fail "one-process run"; }
"${mpi[@]}" "$bin" run collapse "${args[@]}" --epochs 2 --name two >"$out/two.txt" 2>"$out/two.err" \
  || { cat "$out/two.err"; fail "2-rank run"; }
grep -q "data-parallel: MPI" "$out/two.err" || fail "the 2-rank run did not say it is data-parallel"
[ "$(grep -c 'final results' "$out/two.txt")" = 1 ] || fail "the results table must be printed once (rank 0)"
for m in vanilla syre; do
  echo "== $m: 2 ranks vs one process"
  python3 "$src/tests/st_compare.py" $(dist_tol $m) --only fc \
    "$out/collapse/one/ckpt-$m.safetensors" "$out/collapse/two/ckpt-$m.safetensors" \
    || fail "$m: 2-rank parameters differ from the one-process run"
done

# stopped after epoch 1, resumed with 2 ranks (training on: --epochs 2 --override
# epochs): bit for bit the uninterrupted run
"${mpi[@]}" "$bin" run collapse "${args[@]}" --epochs 1 --name resumed >/dev/null 2>"$out/r1.err" \
  || { cat "$out/r1.err"; fail "2-rank run, epoch 1"; }
cp -r "$out/collapse/resumed" "$out/collapse/resumed1"
"${mpi[@]}" "$bin" run collapse "${args[@]}" --epochs 2 --override epochs --name resumed --resume >/dev/null 2>"$out/r2.err" \
  || { cat "$out/r2.err"; fail "2-rank resume"; }
grep -q "resumed at epoch 1" "$out/r2.err" || fail "the resumed run did not resume"
for m in vanilla syre; do
  echo "== $m: resumed vs uninterrupted (2 ranks)"
  python3 "$src/tests/st_compare.py" --exact \
    "$out/collapse/two/ckpt-$m.safetensors" "$out/collapse/resumed/ckpt-$m.safetensors" \
    || fail "$m: the resumed run differs from the uninterrupted one"
done

# the checkpoint holds no per-rank state: one process can resume a 2-rank run
# (to float tolerance, as above)
"$bin" run collapse "${args[@]}" --epochs 2 --override epochs --threads 1 --name resumed1 --resume >/dev/null 2>"$out/r3.err" \
  || { cat "$out/r3.err"; fail "one-process resume of a 2-rank run"; }
for m in vanilla syre; do
  echo "== $m: 2-rank epoch 1, resumed by one process, vs 2 ranks throughout"
  python3 "$src/tests/st_compare.py" $(dist_tol $m) --only fc \
    "$out/collapse/two/ckpt-$m.safetensors" "$out/collapse/resumed1/ckpt-$m.safetensors" \
    || fail "$m: resuming with another rank count changed the result"
done

# SIGTERM to one rank only (a launcher may signal some): every rank stops at
# the same step, exit 75; resumed with 2 ranks it ends bit for bit where the
# uninterrupted 2-rank run ends, metrics.csv included
"${mpi[@]}" "$bin" run collapse "${args[@]}" --epochs 2 --name stopped >/dev/null 2>"$out/s1.err" &
mpipid=$!
for _ in $(seq 1 1000); do [ -f "$out/collapse/stopped/ckpt-vanilla.prev.safetensors" ] && break; sleep 0.01; done
rankpid=$(pgrep -f -- "$out.*--name stopped" | grep -vx "$mpipid" | tail -1) # this test's ranks only
[ -n "$rankpid" ] || fail "no rank process found to signal"
kill -TERM "$rankpid"
rc=0
wait "$mpipid" || rc=$?
[ "$rc" -eq 75 ] || { cat "$out/s1.err"; fail "2-rank run after SIGTERM to one rank exited $rc, want 75"; }
grep -q "stopped at step .*continue with: mpirun -np 2 syre run collapse" "$out/s1.err" || { cat "$out/s1.err"; fail "no stop message"; }
"${mpi[@]}" "$bin" run collapse "${args[@]}" --epochs 2 --name stopped --resume >/dev/null 2>"$out/s2.err" \
  || { cat "$out/s2.err"; fail "2-rank resume after a stop"; }
for f in ckpt-vanilla.safetensors ckpt-syre.safetensors metrics.csv; do
  cmp "$out/collapse/two/$f" "$out/collapse/stopped/$f" || fail "$f: stopped and resumed differs from uninterrupted (2 ranks)"
done
echo "== SIGTERM to rank pid $rankpid: $(grep -o 'stopped at step [0-9]* of [0-9]*' "$out/s1.err"), resumed bit for bit"

# refusals, with a message and a failing exit status
if "${mpi[@]}" "$bin" run quartic --quick --out "$out" >/dev/null 2>"$out/q.err"; then fail "quartic ran on 2 ranks"; fi
grep -q "no data-parallel training" "$out/q.err" || { cat "$out/q.err"; fail "quartic: no clear refusal"; }
if "${mpi[@]}" "$bin" run collapse "${args[@]}" --batch 63 >/dev/null 2>"$out/b.err"; then fail "batch 63 ran on 2 ranks"; fi
grep -q "does not split evenly over 2 ranks" "$out/b.err" || { cat "$out/b.err"; fail "batch 63: no clear refusal"; }
# unit resets pick units from each rank's own activations: the ranks would
# replace different units and drift apart
if "${mpi[@]}" "$bin" run continual --quick --tasks 1 --method cbp --out "$out" >/dev/null 2>"$out/c.err"; then
  fail "continual with cbp ran on 2 ranks"
fi
grep -q "unit resets (cbp, redo) are not data-parallel" "$out/c.err" || { cat "$out/c.err"; fail "cbp: no clear refusal"; }
echo "PASS test_dist_cli"
