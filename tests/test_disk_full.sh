#!/usr/bin/env bash
# Output that cannot be written: an output directory that cannot be created
# fails at once with a message naming it; a checkpoint write hitting a full
# disk (its temporary file pointed at /dev/full, which answers every write
# with ENOSPC) fails the run with a message naming the file and the reason,
# and leaves the last good checkpoint whole and unchanged, so that --resume
# continues from it once space is back.
set -euo pipefail
BIN="${SYRE_BINARY_DIR:-build}/syre"
SRC="${SYRE_SOURCE_DIR:-.}"
tmp=$(mktemp -d /tmp/syre-full-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
args=(run quartic --method syre --d 32 --steps 20000 --ckpt-every 1000 --threads 1 --out "$tmp")

# 1. An output directory that cannot be created.
if "$BIN" "${args[@]}" --out /proc/syre-runs --name a >"$tmp/e1" 2>&1; then
  echo "disk-full: a run into /proc/syre-runs succeeded"; exit 1
fi
grep -q "/proc/syre-runs" "$tmp/e1" || { echo "disk-full: message does not name the directory:"; cat "$tmp/e1"; exit 1; }
echo "disk-full: unwritable --out: $(grep -m1 proc "$tmp/e1")"

# 2. A full disk at the next checkpoint write.
"$BIN" "${args[@]}" --name r >/dev/null 2>&1
ckpt="$tmp/quartic/r/ckpt-syre.safetensors"
cp "$ckpt" "$tmp/good"
ln -s /dev/full "$ckpt.tmp"
if "$BIN" "${args[@]}" --name r --resume >"$tmp/e2" 2>&1; then
  echo "disk-full: a checkpoint write to a full disk succeeded"; exit 1
fi
grep -q "No space left on device" "$tmp/e2" && grep -q "ckpt-syre.safetensors" "$tmp/e2" ||
  { echo "disk-full: unclear message:"; tail -3 "$tmp/e2"; exit 1; }
echo "disk-full: full disk: $(grep -m1 'No space' "$tmp/e2")"
python3 "$SRC/tests/check_ckpt.py" "$ckpt"
cmp "$ckpt" "$tmp/good" || { echo "disk-full: the last good checkpoint changed"; exit 1; }
[ ! -e "$ckpt.tmp" ] || { echo "disk-full: temporary file left behind"; exit 1; }
# 3. Space back: the run resumes from the kept checkpoint.
"$BIN" "${args[@]}" --name r --resume >/dev/null 2>&1
cmp "$ckpt" "$tmp/good"
echo "disk-full: clear errors, last good checkpoint kept and resumable"
