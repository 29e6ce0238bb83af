#!/usr/bin/env bash
# From the command line: a run forced to diverge (reparam at lr 10) stops
# with a message naming the loss, the step and the checkpoint situation, and
# exit status 1; --on-nan rejects unknown policies; absurd sizes are refused
# before anything is allocated (flag ranges; the compile-time memory check
# itself is tested in test_reliability).
set -euo pipefail
BIN="${SYRE_BINARY_DIR:-build}/syre"
tmp=$(mktemp -d /tmp/syre-nan-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
rc=0
"$BIN" run reparam --quick --lr 10 --out "$tmp" --name a >"$tmp/o" 2>&1 || rc=$?
[ "$rc" = 1 ] || { echo "nan-cli: diverging run exited $rc, expected 1"; cat "$tmp/o"; exit 1; }
grep -q "loss '.*' is NaN at graph step [0-9]*; training stopped (no checkpoint written yet)" "$tmp/o" ||
  { echo "nan-cli: message lacks loss/step/checkpoint:"; tail -2 "$tmp/o"; exit 1; }
echo "nan-cli: $(tail -1 "$tmp/o")"
rc=0
"$BIN" run reparam --quick --on-nan retry --out "$tmp" --name b >"$tmp/o" 2>&1 || rc=$?
[ "$rc" != 0 ] && grep -q "on-nan must be 'stop' or 'skip-batch'" "$tmp/o" || { echo "nan-cli: bad --on-nan accepted"; exit 1; }
rc=0
"$BIN" run lowcap --quick --hidden 1000000000 --out "$tmp" --name c >"$tmp/o" 2>&1 || rc=$?
[ "$rc" = 2 ] && grep -q "hidden must be in" "$tmp/o" || { echo "nan-cli: width 1e9 not refused"; cat "$tmp/o"; exit 1; }
echo "nan-cli: $(cat "$tmp/o")"
