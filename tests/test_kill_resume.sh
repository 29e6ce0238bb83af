#!/usr/bin/env bash
# Crash safety: a training run killed with SIGKILL at random moments, several
# times, and resumed with --resume each time ends with the same parameters,
# bit for bit, as a run never interrupted; and after every kill the training
# checkpoint on disk is whole (tests/check_ckpt.py), never half-written.
# The run is the quartic experiment (plain GD on a 128-dim quartic with syre),
# checkpointing every 1500 of 300000 steps, each checkpoint written with
# fsync + rename. SYRE_KILL_SEED fixes the kill times (printed otherwise).
set -euo pipefail
BIN="${SYRE_BINARY_DIR:-build}/syre"
SRC="${SYRE_SOURCE_DIR:-.}"
KILLS="${SYRE_KILLS:-8}"
tmp=$(mktemp -d /tmp/syre-kill-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
seed="${SYRE_KILL_SEED:-$$}"
RANDOM=$seed
echo "kill-resume: seed $seed, $KILLS kills"
args=(run quartic --method syre --d 128 --steps 300000 --ckpt-every 1500 --threads 1 --seed 5 --out "$tmp")

t0=$(date +%s%N)
"$BIN" "${args[@]}" --name ref >"$tmp/ref.log" 2>&1
t1=$(date +%s%N)
ms=$(( (t1 - t0) / 1000000 ))
echo "kill-resume: uninterrupted run took ${ms} ms"
ref="$tmp/quartic/ref/ckpt-syre.safetensors"
python3 "$SRC/tests/check_ckpt.py" "$ref"

dir="$tmp/quartic/k"
ckpt="$dir/ckpt-syre.safetensors"
survived=0
for i in $(seq 1 "$KILLS"); do
  extra=()
  [ -d "$dir" ] && extra=(--resume)
  # a moment uniformly in (0, 1.5 T / KILLS), T the whole run's time: most
  # kills land mid-run, some during start-up or a checkpoint write
  delay_ms=$(( RANDOM * ms * 3 / 2 / KILLS / 32768 + 1 ))
  "$BIN" "${args[@]}" --name k "${extra[@]}" >>"$tmp/k.log" 2>&1 &
  pid=$!
  sleep "$(printf '%d.%03d' $((delay_ms / 1000)) $((delay_ms % 1000)))"
  if kill -KILL "$pid" 2>/dev/null; then
    wait "$pid" 2>/dev/null || true
    step="none yet"
    if [ -f "$ckpt" ]; then
      python3 "$SRC/tests/check_ckpt.py" "$ckpt" || { echo "kill-resume: half-written checkpoint after kill $i"; exit 1; }
      step=$(python3 -c "import json,struct,sys; b=open(sys.argv[1],'rb').read(); n=struct.unpack('<Q',b[:8])[0]; print(json.loads(b[8:8+n])['__metadata__']['epoch'])" "$ckpt")
    fi
    survived=$((survived + 1))
    echo "kill-resume: kill $i at ${delay_ms} ms; checkpoint whole, at step $step"
  else
    wait "$pid" || { echo "kill-resume: run $i failed on its own before kill $i:"; tail -5 "$tmp/k.log"; exit 1; }
    echo "kill-resume: kill $i at ${delay_ms} ms came after the run had finished"
  fi
done
extra=()
[ -d "$dir" ] && extra=(--resume)
"$BIN" "${args[@]}" --name k "${extra[@]}" >>"$tmp/k.log" 2>&1 || { cat "$tmp/k.log"; exit 1; }
python3 "$SRC/tests/check_ckpt.py" "$ckpt"
if ! cmp -s "$ref" "$ckpt"; then
  echo "kill-resume: final checkpoint differs from the uninterrupted run's"
  cmp "$ref" "$ckpt" | head -3
  exit 1
fi
# rows logged after the checkpoint a kill fell back to are cut on resume, not repeated
cmp "$tmp/quartic/ref/metrics.csv" "$dir/metrics.csv" || { echo "kill-resume: metrics.csv differs from the uninterrupted run's"; exit 1; }
echo "kill-resume: $survived kills survived; final parameters, optimizer state and metrics.csv equal the uninterrupted run's bit for bit"
