#!/usr/bin/env bash
# The `syre` command end to end: version, help, list, the toy experiment's
# run record and table, and bad command lines (exit status 2, message naming
# the flag). Needs the built binary at $SYRE_BINARY_DIR/syre.
set -u
SYRE="${SYRE_BINARY_DIR:-build}/syre"
[ -x "$SYRE" ] || { echo "FAIL: no syre binary at $SYRE"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# expect STATUS NEEDLE -- command...: exit status and a substring of stdout+stderr.
expect() {
    local want=$1 needle=$2; shift 3
    local out rc
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" -ne "$want" ]; then fail "$* exited $rc, want $want; output: $out"; return; fi
    case "$out" in *"$needle"*) ok "$* -> $rc";; *) fail "$*: output lacks '$needle': $out";; esac
}

expect 0 "syre 0."          -- "$SYRE" --version
expect 0 "commands:"        -- "$SYRE" --help
expect 0 "--sigma0"         -- "$SYRE" --help
expect 0 "toy"              -- "$SYRE" list
expect 0 "none (demo)"      -- "$SYRE" list
expect 0 "--steps"          -- "$SYRE" help toy
expect 0 "(default 0.1)"    -- "$SYRE" help toy
expect 0 "--seed"           -- "$SYRE" run toy --help

out=$("$SYRE" run toy --out "$tmp" --name t1 --threads 1 --quick 2>"$tmp/stderr"); rc=$?
[ "$rc" -eq 0 ] || fail "run toy exited $rc: $(cat "$tmp/stderr")"
d="$tmp/toy/t1"
for f in config.json metrics.csv summary.json toy.png toy.svg; do
    [ -s "$d/$f" ] && ok "run record has $f" || fail "run record lacks $f"
done
head -1 "$d/metrics.csv" | grep -qx 'method,step,loss,theta1,theta2' && ok "metrics.csv header" || fail "metrics.csv header: $(head -1 "$d/metrics.csv")"
[ "$(grep -c '^vanilla,' "$d/metrics.csv")" -eq 101 ] && ok "101 vanilla rows (quick: 100 steps)" || fail "vanilla rows: $(grep -c '^vanilla,' "$d/metrics.csv")"
grep -q '"device":	"cpu"' "$d/config.json" && grep -q '"git_revision"' "$d/config.json" && grep -q '"blas"' "$d/config.json" \
    && ok "config.json fields" || fail "config.json: $(cat "$d/config.json")"
echo "$out" | grep -Eq '^metric +vanilla +syre$' && ok "table header" || fail "no table header in: $out"
echo "$out" | grep -Eq '^final loss +1\.2[0-9]* +0\.' && ok "vanilla stuck, syre escapes" || fail "table: $out"
grep -q "toy vanilla" "$tmp/stderr" && ok "progress lines on stderr" || fail "no progress on stderr"
if command -v python3 >/dev/null; then
    python3 -c "import json,sys; s=json.load(open('$d/summary.json')); m=s['methods']; assert m['syre']['metrics']['final loss'] < 0.1 < m['vanilla']['metrics']['final loss']" \
        && ok "summary.json values" || fail "summary.json: $(cat "$d/summary.json")"
fi

expect 2 "already exists"   -- "$SYRE" run toy --out "$tmp" --name t1
expect 0 "final results"    -- "$SYRE" reproduce toy --out "$tmp" --quick --steps=50
expect 2 "--bogus"          -- "$SYRE" run toy --bogus 1 --out "$tmp"
expect 2 "'toy'"            -- "$SYRE" run toy --bogus 1 --out "$tmp"
expect 2 "--lr"             -- "$SYRE" run toy --lr abc --out "$tmp"
expect 2 "--lr"             -- "$SYRE" run toy --lr=1e9 --out "$tmp"
expect 2 "[0, 10]"          -- "$SYRE" run toy --lr=1e9 --out "$tmp"
expect 2 "--steps"          -- "$SYRE" run toy --out "$tmp" --steps
expect 2 "--steps"          -- "$SYRE" run toy --steps 2.5 --out "$tmp"
expect 2 "unknown method"   -- "$SYRE" run toy --method sgd --out "$tmp"
expect 2 "not supported"    -- "$SYRE" run toy --method wfix --out "$tmp" --name w
expect 2 "unknown experiment" -- "$SYRE" run nosuch
expect 2 "unknown command"  -- "$SYRE" frobnicate
expect 2 "no experiment"    -- "$SYRE" reproduce "Fig. 99"
expect 2 "no experiment or command" -- "$SYRE" help nosuch
touch "$tmp/file"
expect 1 "$tmp/file"        -- "$SYRE" run toy --out "$tmp/file/sub" --quick
mkdir -p "$tmp/benches"; printf '#!/bin/sh\necho bench-ran\n' > "$tmp/benches/bench_fake"; chmod +x "$tmp/benches/bench_fake"
expect 0 "bench-ran"        -- "$SYRE" bench --bench-dir "$tmp/benches"
expect 0 "running $tmp/benches/bench_fake" -- "$SYRE" bench --bench-dir "$tmp/benches"

[ "$fails" -eq 0 ] && echo "all CLI checks passed" || echo "$fails CLI check(s) failed"
exit $((fails > 0))
