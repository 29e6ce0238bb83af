#!/usr/bin/env bash
# Graceful stops of the epoch-based experiments, each stopped midway through
# an epoch by SIGTERM (or killed with SIGKILL after a --ckpt-every
# checkpoint) and resumed: collapse (batch position, partial loss sum), vae
# (its noise stream), simclr (prefetched augmented batches, the epoch's lr),
# resnet (crops, a second running sum), lowcap (its loss curve), continual
# (several epochs per task, shrink-and-perturb at task starts; CBP and ReDo,
# whose unit-reset state is in the checkpoint). Each ends
# with checkpoints and records byte-identical to an uninterrupted run, and
# `syre verify` finds the record sound. The quartic stops and the run lock
# are in test_stop_resume.sh.
set -euo pipefail
set -m # background jobs then keep SIGINT (bash ignores it in them otherwise)
BIN="${SYRE_BINARY_DIR:-build}/syre"
tmp=$(mktemp -d /tmp/syre-stopx-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
RANDOM=${SYRE_STOP_SEED:-$$}

# An epoch-based experiment stopped midway through an epoch: collapse
# checkpoints at the step (batch position and partial loss sum), and the
# resumed run skips the batches already trained.
ca=(run collapse --quick --train-size 2000 --epochs 2 --threads 1 --out "$tmp")
t0=$(date +%s%N)
"$BIN" "${ca[@]}" --name ref >"$tmp/cref.log" 2>&1
cms=$(( ($(date +%s%N) - t0) / 1000000 ))
delay_ms=$(( RANDOM * cms / 32768 / 4 + cms / 2 ))
# On a loaded machine a run can finish before the signal comes (the
# reference's time is only a guess): then it starts again with half the delay.
for try in 1 2 3 4; do
  rm -rf "$tmp/collapse/c"
  "$BIN" "${ca[@]}" --name c >"$tmp/c.log" 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -TERM "$pid" 2>/dev/null || true # it may have ended already: then the loop tries again
  rc=0
  wait "$pid" || rc=$?
  [ "$rc" -eq 0 ] && [ "$try" -lt 4 ] && { delay_ms=$((delay_ms / 2)); continue; }
  break
done
[ "$rc" -eq 75 ] || { echo "stop-resume: collapse exited $rc after SIGTERM at ${delay_ms} ms, want 75:"; cat "$tmp/c.log"; exit 1; }
echo "stop-resume: collapse $(grep -o 'stopped by SIGTERM at step [0-9]* of [0-9]*' "$tmp/c.log") (${delay_ms} ms of ${cms})"
"$BIN" "${ca[@]}" --name c --resume >"$tmp/c.log" 2>&1 || { cat "$tmp/c.log"; exit 1; }
for f in ckpt-vanilla.safetensors ckpt-syre.safetensors metrics.csv; do
  cmp "$tmp/collapse/ref/$f" "$tmp/collapse/c/$f" || { echo "stop-resume: collapse $f differs after stop and resume"; exit 1; }
done
"$BIN" verify "$tmp/collapse/c" >"$tmp/verify.log" || { cat "$tmp/verify.log"; echo "stop-resume: collapse/c does not verify"; exit 1; }
echo "stop-resume: collapse resumed mid-epoch; checkpoints and metrics.csv equal the uninterrupted run's"

# --ckpt-every bounds what a SIGKILL loses: collapse checkpoints every 8
# steps, is killed once the second method has checkpointed past position 0
# (the checkpoint every method writes first), and resumes from mid-epoch.
"$BIN" "${ca[@]}" --name k --ckpt-every 8 >"$tmp/k.log" 2>&1 &
pid=$!
# past_start FILE: FILE is a checkpoint past position 0 (optimizer steps > 0)
past_start() {
  [ -f "$1" ] && head -c 4096 "$1" | grep -aq '"optimizer_steps":"[1-9]'
}
for _ in $(seq 1 1000); do past_start "$tmp/collapse/k/ckpt-syre.safetensors" && break; sleep 0.01; done
kill -KILL "$pid" 2>/dev/null || true # it may have ended already: the checks below say so
wait "$pid" 2>/dev/null || true
"$BIN" "${ca[@]}" --name k --ckpt-every 8 --resume >"$tmp/k.log" 2>&1 || { cat "$tmp/k.log"; exit 1; }
for f in ckpt-vanilla.safetensors ckpt-syre.safetensors metrics.csv; do
  cmp "$tmp/collapse/ref/$f" "$tmp/collapse/k/$f" || { echo "stop-resume: collapse $f differs after kill -9 and resume"; exit 1; }
done
grep -q "syre resumed at epoch 0 (batch [1-9]" "$tmp/k.log" || { echo "stop-resume: collapse did not resume mid-epoch:"; cat "$tmp/k.log"; exit 1; }
"$BIN" verify "$tmp/collapse/k" >"$tmp/verify.log" || { cat "$tmp/verify.log"; echo "stop-resume: collapse/k does not verify"; exit 1; }
echo "stop-resume: collapse with --ckpt-every 8, kill -9, $(grep -o 'syre resumed at epoch [0-9]* (batch [0-9]*)' "$tmp/k.log"); equal to the uninterrupted run"
rc=0
"$BIN" "${ca[@]}" --name bad --ckpt-every 5x >"$tmp/bad.log" 2>&1 || rc=$?
[ "$rc" -eq 2 ] && grep -q -- "--ckpt-every must be" "$tmp/bad.log" || { echo "stop-resume: --ckpt-every 5x exited $rc"; cat "$tmp/bad.log"; exit 1; }

# Under the sanitizers only collapse's stop, kill and resume run (the rest
# takes over 3 minutes of the suite there on 2 cores); the Release build runs
# every experiment's, and the experiments' own tests run their code under the
# sanitizers.
if grep -q '^SYRE_SANITIZE:BOOL=ON' "${SYRE_BINARY_DIR:-build}/CMakeCache.txt" 2>/dev/null; then
  echo "stop-resume: sanitizer build: vae, simclr, resnet, lowcap and continual left to the Release build"
  exit 0
fi

# vae: its noise stream too is put back where it stood (SIGTERM once the
# first method has checkpointed an epoch, its position-0 checkpoint then
# kept as .prev: midway through its second).
va=(run vae --quick --train-size 1000 --test-size 1000 --epochs 2 --threads 1 --out "$tmp")
"$BIN" "${va[@]}" --name ref >"$tmp/vref.log" 2>&1 || { cat "$tmp/vref.log"; exit 1; }
"$BIN" "${va[@]}" --name v >"$tmp/v.log" 2>&1 &
pid=$!
for _ in $(seq 1 1000); do [ -f "$tmp/vae/v/ckpt-vanilla.prev.safetensors" ] && break; sleep 0.01; done
kill -TERM "$pid" 2>/dev/null || true # it may have ended already: the checks below say so
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 75 ] || { echo "stop-resume: vae exited $rc after SIGTERM, want 75:"; cat "$tmp/v.log"; exit 1; }
"$BIN" "${va[@]}" --name v --resume >"$tmp/v2.log" 2>&1 || { cat "$tmp/v2.log"; exit 1; }
for f in ckpt-vanilla.safetensors ckpt-syre.safetensors metrics.csv; do
  cmp "$tmp/vae/ref/$f" "$tmp/vae/v/$f" || { echo "stop-resume: vae $f differs after stop and resume"; exit 1; }
done
"$BIN" verify "$tmp/vae/v" >"$tmp/verify.log" || { cat "$tmp/verify.log"; echo "stop-resume: vae/v does not verify"; exit 1; }
echo "stop-resume: vae $(grep -o 'stopped by SIGTERM at step [0-9]* of [0-9]*' "$tmp/v.log"), resumed; checkpoints and metrics.csv equal the uninterrupted run's"

# simclr: prefetched, augmented batches and the epoch's starting lr (a
# cosine schedule) put back.
sa=(run simclr --quick --threads 1 --out "$tmp" --train-n 200 --test-n 100 --rank-n 100 --epochs 2 --batch 32)
"$BIN" "${sa[@]}" --name ref >"$tmp/sref.log" 2>&1 || { cat "$tmp/sref.log"; exit 1; }
"$BIN" "${sa[@]}" --name c >"$tmp/sc.log" 2>&1 &
pid=$!
for _ in $(seq 1 1000); do [ -f "$tmp/simclr/c/ckpt-vanilla.prev.safetensors" ] && break; sleep 0.01; done
sleep 0.2
kill -TERM "$pid" 2>/dev/null || true # it may have ended already: the checks below say so
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 75 ] || { echo "stop-resume: simclr exited $rc after SIGTERM, want 75:"; cat "$tmp/sc.log"; exit 1; }
"$BIN" "${sa[@]}" --name c --resume >"$tmp/sc2.log" 2>&1 || { cat "$tmp/sc2.log"; exit 1; }
for f in ckpt-vanilla.safetensors ckpt-syre-head-0.01.safetensors ckpt-syre-all-0.01.safetensors metrics.csv rank.csv; do
  cmp "$tmp/simclr/ref/$f" "$tmp/simclr/c/$f" || { echo "stop-resume: simclr $f differs after stop and resume"; exit 1; }
done
"$BIN" verify "$tmp/simclr/c" >"$tmp/verify.log" || { cat "$tmp/verify.log"; echo "stop-resume: simclr/c does not verify"; exit 1; }
echo "stop-resume: simclr $(grep -o 'stopped by SIGTERM at step [0-9]* of [0-9]*' "$tmp/sc.log"), resumed; checkpoints, metrics.csv and rank.csv equal the uninterrupted run's"


# resnet: random crops and flips (their stream advanced over the skipped
# batches) and a second running sum (correct predictions).
ra=(run resnet --quick --threads 1 --out "$tmp" --train-n 320 --test-n 100 --epochs 2 --batch 32)
"$BIN" "${ra[@]}" --name ref >"$tmp/rref.log" 2>&1 || { cat "$tmp/rref.log"; exit 1; }
"$BIN" "${ra[@]}" --name c >"$tmp/rc.log" 2>&1 &
pid=$!
for _ in $(seq 1 2000); do [ -f "$tmp/resnet/c/ckpt-vanilla.prev.safetensors" ] && break; sleep 0.01; done
sleep 0.3
kill -TERM "$pid" 2>/dev/null || true # it may have ended already: the checks below say so
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 75 ] || { echo "stop-resume: resnet exited $rc after SIGTERM, want 75:"; cat "$tmp/rc.log"; exit 1; }
"$BIN" "${ra[@]}" --name c --resume >"$tmp/rc2.log" 2>&1 || { cat "$tmp/rc2.log"; exit 1; }
for f in ckpt-vanilla.safetensors ckpt-syre.safetensors metrics.csv; do
  cmp "$tmp/resnet/ref/$f" "$tmp/resnet/c/$f" || { echo "stop-resume: resnet $f differs after stop and resume"; exit 1; }
done
"$BIN" verify "$tmp/resnet/c" >"$tmp/verify.log" || { cat "$tmp/verify.log"; echo "stop-resume: resnet/c does not verify"; exit 1; }
echo "stop-resume: resnet $(grep -o 'stopped by SIGTERM at step [0-9]* of [0-9]*' "$tmp/rc.log"), resumed; checkpoints and metrics.csv equal the uninterrupted run's"

# lowcap: its loss curve (curve-<tag>.txt, curve.csv) and the curve's partial
# averaging window survive a kill -9 after a mid-epoch --ckpt-every checkpoint.
la=(run lowcap --quick --threads 1 --out "$tmp" --samples 640 --epochs 2)
"$BIN" "${la[@]}" --name ref >"$tmp/lref.log" 2>&1 || { cat "$tmp/lref.log"; exit 1; }
# Run NAME is killed just after its first --ckpt-every checkpoint appears (the
# position-0 checkpoint is then kept as .prev); a
# command given after it then alters the run directory; the resumed run must
# equal the uninterrupted one.
lowcap_killed() {
  local name=$1 ck="$tmp/lowcap/$1/ckpt-vanilla-sgd-f0.900.safetensors"
  shift
  # The kill lands where the poll notices the file: a checkpoint at an epoch's
  # end tests no partial window, so that start is tried again.
  for try in 1 2 3 4 5 6; do
    rm -rf "$tmp/lowcap/$name"
    "$BIN" "${la[@]}" --name "$name" --ckpt-every 3 >"$tmp/lk.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 2000); do [ -f "${ck%.safetensors}.prev.safetensors" ] && break; sleep 0.01; done
    kill -KILL "$pid" 2>/dev/null || true # it may have ended already: the checks below say so
    wait "$pid" 2>/dev/null || true
    at=$(python3 -c "import json,struct,sys; b=open(sys.argv[1],'rb').read(); n=struct.unpack('<Q',b[:8])[0]; m=json.loads(b[8:8+n])['__metadata__']; print(m['epoch'], m['batch'])" "$ck")
    [ "${at#* }" != 0 ] && break
    [ "$try" -lt 6 ] || { echo "stop-resume: lowcap: six kills all after an epoch-end checkpoint, none mid-epoch"; exit 1; }
  done
  "$@"
  "$BIN" "${la[@]}" --name "$name" --ckpt-every 3 --resume >"$tmp/lk2.log" 2>&1 || { cat "$tmp/lk2.log"; exit 1; }
  for f in "$tmp"/lowcap/ref/*.safetensors "$tmp"/lowcap/ref/*.csv "$tmp"/lowcap/ref/*.txt; do
    b=$(basename "$f")
    case "$b" in *.prev.*) continue;; esac
    cmp "$f" "$tmp/lowcap/$name/$b" || { echo "stop-resume: lowcap $b differs after kill -9 and resume (run $name)"; exit 1; }
  done
  "$BIN" verify "$tmp/lowcap/$name" >"$tmp/verify.log" || { cat "$tmp/verify.log"; echo "stop-resume: lowcap/$name does not verify"; exit 1; }
}
lowcap_killed k
echo "stop-resume: lowcap killed after a checkpoint at epoch/batch $at, resumed; checkpoints, curves and CSVs equal the uninterrupted run's"
# Each curve file is written just before its checkpoint: a kill between the
# two leaves a curve ahead of the checkpoint. Here, at the extreme, the whole
# run's curve; the resumed run keeps only the points its checkpoint had.
lowcap_killed w cp "$tmp"/lowcap/ref/curve-vanilla-sgd-f0.900.txt "$tmp/lowcap/w/"
echo "stop-resume: lowcap resumed from a checkpoint at epoch/batch $at with its curve file ahead of it; equal to the uninterrupted run"

# continual: tasks of several epochs; a checkpoint every 10 steps lands on
# epoch ends inside a task (a stop there must still log that epoch), and
# shrink-and-perturb must not perturb a task it resumes midway.
ta=(run continual --quick --threads 1 --out "$tmp" --train-n 640 --test-n 200 --rank-n 200 --tasks 3 --epochs 2)
"$BIN" "${ta[@]}" --name ref >"$tmp/tref.log" 2>&1 || { cat "$tmp/tref.log"; exit 1; }
"$BIN" "${ta[@]}" --name k --ckpt-every 10 >"$tmp/tk.log" 2>&1 &
pid=$!
for _ in $(seq 1 2000); do [ -f "$tmp/continual/k/ckpt-shrink-perturb.prev.safetensors" ] && break; sleep 0.01; done
sleep 0.15
kill -KILL "$pid" 2>/dev/null || true # it may have ended already: the checks below say so
wait "$pid" 2>/dev/null || true
"$BIN" "${ta[@]}" --name k --ckpt-every 10 --resume >"$tmp/tk2.log" 2>&1 || { cat "$tmp/tk2.log"; exit 1; }
for f in "$tmp"/continual/ref/*.safetensors "$tmp"/continual/ref/*.csv "$tmp"/continual/ref/*.txt; do
  b=$(basename "$f")
  case "$b" in *.prev.*) continue;; esac
  cmp "$f" "$tmp/continual/k/$b" || { echo "stop-resume: continual $b differs after kill -9 and resume"; exit 1; }
done
"$BIN" verify "$tmp/continual/k" >"$tmp/verify.log" || { cat "$tmp/verify.log"; echo "stop-resume: continual/k does not verify"; exit 1; }
echo "stop-resume: continual killed, $(grep -o 'shrink-perturb resumes after task [0-9]* of 3 (batch [0-9]* of the next)' "$tmp/tk2.log" || echo 'shrink-perturb not started'); checkpoints, histories and CSVs equal the uninterrupted run's"

# continual with unit resets: CBP's utilities, ages and units owed, ReDo's
# count and the fresh weights' stream are in the checkpoint; a run killed
# inside cbp, and one killed inside redo, replace the same units after the
# resume (dormant.csv's units_reset) and end with the same checkpoints.
ua=(run continual --quick --threads 1 --out "$tmp" --train-n 640 --test-n 200 --rank-n 200 --tasks 2 --epochs 2
    --method cbp,redo --cbp-rate 0.02 --cbp-maturity 5 --redo-every 7 --redo-tau 0.5 --ckpt-every 10)
"$BIN" "${ua[@]}" --name uref >"$tmp/uref.log" 2>&1 || { cat "$tmp/uref.log"; exit 1; }
for m in cbp redo; do
  "$BIN" "${ua[@]}" --name "u$m" >"$tmp/u.log" 2>&1 &
  pid=$!
  # its second checkpoint: past position 0
  for _ in $(seq 1 2000); do [ -f "$tmp/continual/u$m/ckpt-$m.prev.safetensors" ] && break; sleep 0.01; done
  kill -KILL "$pid" 2>/dev/null || true # it may have ended already: the checks below say so
  wait "$pid" 2>/dev/null || true
  "$BIN" "${ua[@]}" --name "u$m" --resume >"$tmp/u2.log" 2>&1 || { cat "$tmp/u2.log"; exit 1; }
  for f in "$tmp"/continual/uref/*.safetensors "$tmp"/continual/uref/*.csv "$tmp"/continual/uref/*.txt; do
    b=$(basename "$f")
    case "$b" in *.prev.*) continue;; esac
    cmp "$f" "$tmp/continual/u$m/$b" || { echo "stop-resume: continual $m: $b differs after kill -9 and resume"; exit 1; }
  done
  echo "stop-resume: continual $m killed, $(grep -o "$m resumes after task [0-9]* of 2 (batch [0-9]* of the next)" "$tmp/u2.log" || echo "$m not started"); $(grep "^$m," "$tmp/continual/u$m/dormant.csv" | cut -d, -f9 | tail -1) units replaced, as uninterrupted; checkpoints and CSVs equal"
done
