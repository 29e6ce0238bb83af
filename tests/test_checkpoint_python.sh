#!/usr/bin/env bash
# The Python snippet of docs/api.md reads a real training checkpoint with
# numpy alone: a weight and its Adam moments, by the names and shapes the
# docs give. The snippet is taken from the page as it is, so the page
# cannot drift from the format.
set -euo pipefail
BIN="${SYRE_BINARY_DIR:-build}/syre"
SRC="${SYRE_SOURCE_DIR:-.}"
PY=/usr/bin/python3 # Debian's, with python3-numpy (scripts/setup.sh)
if ! "$PY" -c 'import numpy' 2>/dev/null; then
  echo "SKIP: no numpy for $PY (scripts/setup.sh installs python3-numpy)"
  exit 77
fi
tmp=$(mktemp -d /tmp/syre-ckpy-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
"$BIN" run vae --quick --train-size 1000 --test-size 1000 --epochs 1 --threads 1 --out "$tmp/runs" --name demo \
  >"$tmp/run.log" 2>&1 || { cat "$tmp/run.log"; exit 1; }
# The first ```python block of the page.
awk '/^```python$/ {on = 1; next} on && /^```$/ {exit} on' "$SRC/docs/api.md" >"$tmp/snippet.py"
grep -q 'optim.exp_avg' "$tmp/snippet.py" || { echo "FAIL: no checkpoint snippet found in docs/api.md"; exit 1; }
out=$(cd "$tmp" && "$PY" snippet.py)
want="(200, 784) (200, 784) (200, 784) optimizer step"
case "$out" in
  "$want"*) echo "ok: docs/api.md's snippet read the checkpoint: $out" ;;
  *) echo "FAIL: docs/api.md's snippet printed '$out', expected '$want ...'"; exit 1 ;;
esac
