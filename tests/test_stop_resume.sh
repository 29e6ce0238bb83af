#!/usr/bin/env bash
# Preemption and double starts. A run sent SIGTERM, SIGINT or SIGUSR1 (what
# Slurm sends before preempting or at a time limit) finishes its step, writes
# its checkpoint and exits 75 with the command that continues it; resumed
# after each of several stops at random moments, it ends with the same
# checkpoint and the same metrics.csv, byte for byte, as a run never stopped.
# (The epoch-based experiments: test_stop_resume_exp.sh.)
# While a run lives, a second process on it (--resume) is refused naming the
# holder's pid and host; after a kill -9 of the holder, --resume just works.
# SYRE_STOP_SEED fixes the stop times, SYRE_STOPS their number, SYRE_STOP_STEPS
# the run's length, SYRE_STOP_MIN_MS the earliest (signals before the run
# record exists end the process as before).
set -euo pipefail
set -m # background jobs then keep SIGINT (bash ignores it in them otherwise)
BIN="${SYRE_BINARY_DIR:-build}/syre"
SRC="${SYRE_SOURCE_DIR:-.}"
STOPS="${SYRE_STOPS:-5}"
STEPS="${SYRE_STOP_STEPS:-100000}"
tmp=$(mktemp -d /tmp/syre-stop-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
seed="${SYRE_STOP_SEED:-$$}"
RANDOM=$seed
echo "stop-resume: seed $seed, $STOPS stops"
args=(run quartic --method syre --d 128 --steps "$STEPS" --ckpt-every 50000 --log-every 1000 --threads 1 --seed 5
      --out "$tmp")

t0=$(date +%s%N)
"$BIN" "${args[@]}" --name ref >"$tmp/ref.log" 2>&1
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "stop-resume: uninterrupted run took ${ms} ms"
ref="$tmp/quartic/ref"

dir="$tmp/quartic/s"
sigs=(TERM INT USR1)
stopped=0
for i in $(seq 1 "$STOPS"); do
  extra=()
  [ -d "$dir" ] && extra=(--resume)
  delay_ms=$(( RANDOM * ms / STOPS / 32768 + ${SYRE_STOP_MIN_MS:-100} ))
  sig=${sigs[$(( i % 3 ))]}
  "$BIN" "${args[@]}" --name s "${extra[@]}" >"$tmp/s.log" 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  kill -"$sig" "$pid" 2>/dev/null || true
  rc=0
  wait "$pid" || rc=$?
  if [ "$rc" -eq 0 ]; then
    echo "stop-resume: SIG$sig at ${delay_ms} ms came after the run had finished"
    continue
  fi
  msg=$(grep "stopped by SIG$sig" "$tmp/s.log" || true)
  if [ "$rc" -ne 75 ] || [ -z "$msg" ]; then
    # a signal before the run record is set up ends the process as before
    if [ "$rc" -eq $((128 + $(kill -l "$sig"))) ] && ! grep -q "^syre quartic" "$tmp/s.log"; then
      echo "stop-resume: SIG$sig at ${delay_ms} ms came during start-up (exit $rc)"
      continue
    fi
    echo "stop-resume: SIG$sig at ${delay_ms} ms: exit $rc, want 75 and a message"; cat "$tmp/s.log"; exit 1
  fi
  case "$msg" in *"--name s --resume"*) ;; *) echo "stop-resume: message lacks the resume command: $msg"; exit 1;; esac
  python3 "$SRC/tests/check_ckpt.py" "$dir/ckpt-syre.safetensors"
  step=$(python3 -c "import json,struct,sys; b=open(sys.argv[1],'rb').read(); n=struct.unpack('<Q',b[:8])[0]; print(json.loads(b[8:8+n])['__metadata__']['epoch'])" "$dir/ckpt-syre.safetensors")
  case "$msg" in *"at step $step of $STEPS"*) ;; *) echo "stop-resume: checkpoint at step $step, message says: $msg"; exit 1;; esac
  stopped=$((stopped + 1))
  echo "stop-resume: SIG$sig at ${delay_ms} ms: exit 75, checkpoint at step $step"
done
extra=()
[ -d "$dir" ] && extra=(--resume)
"$BIN" "${args[@]}" --name s "${extra[@]}" >"$tmp/s.log" 2>&1 || { cat "$tmp/s.log"; exit 1; }
cmp "$ref/ckpt-syre.safetensors" "$dir/ckpt-syre.safetensors" || { echo "stop-resume: final checkpoint differs"; exit 1; }
cmp "$ref/metrics.csv" "$dir/metrics.csv" || { echo "stop-resume: metrics.csv differs (rows lost or repeated)"; exit 1; }
echo "stop-resume: $stopped stops checkpointed and exited 75; final checkpoint and metrics.csv equal the uninterrupted run's"

# One writer per run.
lk=(run quartic --method syre --d 128 --steps 100000000 --threads 1 --seed 5 --out "$tmp")
"$BIN" "${lk[@]}" --name z >"$tmp/z1.log" 2>&1 &
holder=$!
for _ in $(seq 1 100); do [ -s "$tmp/quartic/z/run.lock" ] && break; sleep 0.05; done
rc=0
"$BIN" "${lk[@]}" --name z --resume >"$tmp/z2.log" 2>&1 || rc=$?
want="run z is in use by pid $holder on host $(hostname)"
if [ "$rc" -ne 1 ] || ! grep -qF "$want" "$tmp/z2.log"; then
  echo "stop-resume: second --resume exited $rc; want 1 and '$want':"; cat "$tmp/z2.log"; kill -KILL "$holder"; exit 1
fi
[ ! -f "$tmp/quartic/z/config-resume.json" ] || { echo "stop-resume: the refused process wrote config-resume.json"; exit 1; }
echo "stop-resume: concurrent --resume refused: $(grep -o 'run z is in use.*' "$tmp/z2.log")"
kill -KILL "$holder"
wait "$holder" 2>/dev/null || true
# The kernel dropped the dead holder's lock: no clean-up needed.
"$BIN" "${lk[@]}" --name z --resume >"$tmp/z3.log" 2>&1 &
pid=$!
sleep 0.5
kill -TERM "$pid" 2>/dev/null || true # it may have ended already: the checks below say so
rc=0
wait "$pid" || rc=$?
[ "$rc" -eq 75 ] || { echo "stop-resume: --resume after kill -9 of the holder exited $rc:"; cat "$tmp/z3.log"; exit 1; }
echo "stop-resume: after kill -9 of the holder, --resume took the run (then stopped, exit 75)"
