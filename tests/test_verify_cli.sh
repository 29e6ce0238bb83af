#!/usr/bin/env bash
# `syre verify RUN_DIR` and damaged checkpoints seen from the command line:
# a sound run verifies (exit 0, a verdict per file); one flipped bit in a
# checkpoint is named by verify (exit 1) and by --resume, which falls back to
# the previous checkpoint and still ends equal to an uninterrupted run, its
# metrics.csv too (rows after the checkpoint are cut, not repeated); with
# both checkpoints damaged --resume refuses, naming both; a repeated
# metrics.csv row is reported, by verify and when the run is resumed, and so
# are rows lost after a checkpoint was written.
set -euo pipefail
BIN="${SYRE_BINARY_DIR:-build}/syre"
tmp=$(mktemp -d /tmp/syre-verify-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fail() { echo "verify: FAIL: $*"; exit 1; }
args=(run quartic --method syre --d 64 --steps 400000 --ckpt-every 100000 --log-every 10000 --threads 1 --seed 3 --out "$tmp")
"$BIN" "${args[@]}" --name ref >/dev/null 2>&1 || fail "reference run"
ref="$tmp/quartic/ref"

out=$("$BIN" verify "$ref" 2>&1) || fail "a sound run did not verify: $out"
echo "$out"
for f in config.json metrics.csv summary.json ckpt-syre.safetensors ckpt-syre.prev.safetensors; do
  grep -q "ok .*$f" <<<"$out" || fail "no verdict for $f"
done
grep -q "crc32" <<<"$out" || fail "checksums not mentioned"

# A run stopped midway (SIGTERM), then one bit of its newest checkpoint's
# tensor data flipped (an exponent bit, as in a real report).
"$BIN" "${args[@]}" --name d >"$tmp/d.log" 2>&1 &
pid=$!
# stopped after the row of step 220000: rows logged since the checkpoint of step 200000
for _ in $(seq 1 500); do grep -q '^syre,220000,' "$tmp/quartic/d/metrics.csv" 2>/dev/null && break; sleep 0.01; done
kill -TERM "$pid" 2>/dev/null || true
wait "$pid" || true
d="$tmp/quartic/d"
[ -f "$d/ckpt-syre.prev.safetensors" ] || fail "no previous checkpoint kept: $(ls "$d")"
python3 - "$d/ckpt-syre.safetensors" <<'EOF'
import struct, sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
n = struct.unpack('<Q', b[:8])[0]
b[8 + n + 3] ^= 0x40
open(p, 'wb').write(b)
EOF
rc=0
out=$("$BIN" verify "$d" 2>&1) || rc=$?
echo "$out"
[ "$rc" -eq 1 ] || fail "verify of a flipped bit exited $rc, want 1"
grep -q "ckpt-syre.safetensors.*crc32" <<<"$out" || fail "verify does not name the damaged checkpoint"
"$BIN" "${args[@]}" --name d --resume >"$tmp/r.log" 2>&1 || { cat "$tmp/r.log"; fail "--resume did not fall back"; }
grep -q "falling back to the previous checkpoint .*ckpt-syre.prev.safetensors" "$tmp/r.log" || { cat "$tmp/r.log"; fail "--resume did not say it falls back"; }
grep "falling back" "$tmp/r.log"
grep "dropped" "$tmp/r.log" || fail "no rows were logged after the previous checkpoint: the stop came too early"
cmp "$ref/ckpt-syre.safetensors" "$d/ckpt-syre.safetensors" || fail "resumed from the previous checkpoint, the run ends elsewhere"
# the rows logged after the previous checkpoint were dropped, then logged again once
cmp "$ref/metrics.csv" "$d/metrics.csv" || fail "metrics.csv differs after the fallback (rows repeated?)"
"$BIN" verify "$d" >/dev/null || fail "the run resumed after a fallback does not verify"

# Both damaged: refused, naming both files.
for f in "$d/ckpt-syre.safetensors" "$d/ckpt-syre.prev.safetensors"; do
  python3 -c "import sys; p=sys.argv[1]; b=bytearray(open(p,'rb').read()); b[-1]^=1; open(p,'wb').write(b)" "$f"
done
rc=0
"$BIN" "${args[@]}" --name d --resume >"$tmp/r2.log" 2>&1 || rc=$?
[ "$rc" -eq 1 ] || { cat "$tmp/r2.log"; fail "--resume with both checkpoints damaged exited $rc"; }
grep -q "ckpt-syre.safetensors.*ckpt-syre.prev.safetensors" "$tmp/r2.log" || { cat "$tmp/r2.log"; fail "both files not named"; }
echo "verify: both damaged: $(tail -1 "$tmp/r2.log")"

# A row logged twice (two writers, or a replay after a kill).
cp -r "$ref" "$tmp/quartic/dup"
sed -n 5p "$ref/metrics.csv" >>"$tmp/quartic/dup/metrics.csv" # the header and 41 rows before it
rc=0
out=$("$BIN" verify "$tmp/quartic/dup" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && grep -q "metrics.csv.*row 43 repeats row 5" <<<"$out" || { echo "$out"; fail "repeated row not reported"; }
# resuming (here: a finished run) checks the record first and says what is wrong
"$BIN" "${args[@]}" --name dup --resume >"$tmp/dup.log" 2>&1 || { cat "$tmp/dup.log"; fail "--resume of the finished run"; }
grep -q "metrics.csv: row 43 repeats row 5" "$tmp/dup.log" || { cat "$tmp/dup.log"; fail "--resume did not check the record"; }

# Rows the checkpoints saw, lost (metrics.csv cut by hand): named.
cp -r "$ref" "$tmp/quartic/cut"
head -n 10 "$ref/metrics.csv" >"$tmp/quartic/cut/metrics.csv"
rc=0
out=$("$BIN" verify "$tmp/quartic/cut" 2>&1) || rc=$?
[ "$rc" -eq 1 ] && grep -q "ckpt-syre.safetensors: metrics.csv has .* bytes, but held .* when this checkpoint was written" <<<"$out" \
  || { echo "$out"; fail "lost rows not reported"; }

rc=0
"$BIN" verify "$tmp/nonexistent" >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 2 ] || fail "verify of a missing directory exited $rc, want 2"
echo "verify: all checks passed"
