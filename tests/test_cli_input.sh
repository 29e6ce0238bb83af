#!/usr/bin/env bash
# The `syre` command against mistaken and hostile input: run names and output
# paths that would leave the output tree, limits, a resume that would splice
# two different runs together, failures that would leave a half-made run
# directory, and FIFOs or directories where files belong (which once hung or
# gave a misleading message). Needs the built binary at $SYRE_BINARY_DIR/syre.
set -u
SYRE="${SYRE_BINARY_DIR:-build}/syre"
[ -x "$SYRE" ] || { echo "FAIL: no syre binary at $SYRE"; exit 1; }
SYRE=$(realpath "$SYRE")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

# expect STATUS NEEDLE -- command...: exit status (any non-zero for "!") and a
# substring of stdout+stderr; no command may run longer than 60 s.
expect() {
    local want=$1 needle=$2; shift 3
    local out rc
    out=$(timeout 60 "$@" 2>&1); rc=$?
    if [ "$rc" -eq 124 ]; then fail "$* hung (killed after 60 s)"; return; fi
    if [ "$want" = "!" ]; then
        [ "$rc" -ne 0 ] || { fail "$* exited 0, want a failure; output: $out"; return; }
    elif [ "$rc" -ne "$want" ]; then fail "$* exited $rc, want $want; output: $out"; return; fi
    case "$out" in *"$needle"*) ok "$* -> $rc";; *) fail "$*: output lacks '$needle': $out";; esac
}
absent() { [ ! -e "$1" ] && ok "no $1" || fail "$1 exists"; }

out="$tmp/out"
mkdir -p "$out"

# --name is one directory name; --out '' is the default, never /.
expect 2 "--name '../../x'" -- "$SYRE" run toy --quick --out "$out/a/b" --name ../../x
absent "$out/x"
absent "$out/a"
expect 2 "--name '.'"       -- "$SYRE" run toy --quick --out "$out" --name .
expect 2 "--name '..'"      -- "$SYRE" run toy --quick --out "$out" --name ..
expect 2 "UTF-8"            -- "$SYRE" run toy --quick --out "$out" --name "$(printf 'bad\xff')"
mkdir -p "$tmp/cwd"
(cd "$tmp/cwd" && "$SYRE" run toy --quick --threads 1 --out '' --name e >/dev/null 2>&1)
[ -s "$tmp/cwd/runs/toy/e/summary.json" ] && ok "--out '' writes under ./runs" || fail "--out '' did not write runs/toy/e"
long=$(head -c 6000 /dev/zero | tr '\0' a)
expect 2 "ENAMETOOLONG"     -- "$SYRE" run toy --quick --out "$out/$long"
long=$(printf 'd/%.0s' $(seq 2100))
expect 2 "ENAMETOOLONG"     -- "$SYRE" run toy --quick --out "$out/$long"
absent "$out/d"

# Limits and words.
expect 2 "online CPUs"      -- "$SYRE" run toy --quick --out "$out" --threads 4096
expect 2 "9007199254740992" -- "$SYRE" run toy --quick --out "$out" --seed 9007199254740993
expect 2 "underflow"        -- "$SYRE" run toy --quick --out "$out" --lr 1e-400
expect 0 "[1, 10000000]"    -- "$SYRE" help toy
expect 2 "in digits"        -- "$SYRE" run toy --quick --out "$out" --steps 1e7
expect 2 "--epochs does not apply" -- "$SYRE" run toy --quick --out "$out" --epochs 3
expect 2 "--batch does not apply"  -- "$SYRE" run quartic --quick --out "$out" --batch 3
expect 2 "--data-dir does not apply" -- "$SYRE" run ridge --quick --out "$out" --data-dir /tmp
expect 2 "--sigma0 does not apply" -- "$SYRE" run simclr --quick --out "$out" --sigma0 0.1
help=$("$SYRE" help toy 2>&1)
case "$help" in *"--epochs"*) fail "help toy lists --epochs";; *) ok "help toy omits --epochs";; esac
expect 0 "final results"    -- "$SYRE" run toy --quick --threads 1 --out "$out" --name s1 --seed 9007199254740991
[ "$(grep -c '"seed":	9007199254740991,' "$out/toy/s1/config.json")" -eq 2 ] && ok "seed recorded exactly" || fail "seed not exact: $(grep seed "$out/toy/s1/config.json")"

# A failure before training leaves no run directory, so the name stays free.
expect 2 "wfix"             -- "$SYRE" run toy --quick --out "$out" --name f1 --method wfix
absent "$out/toy/f1"
expect ! "not found"        -- "$SYRE" run lowcap --quick --out "$out" --name f2 --data-dir "$tmp/nodata"
absent "$out/lowcap"
expect 0 "final results"    -- "$SYRE" run toy --quick --threads 1 --out "$out" --name f1

# Experiments without a checkpoint refuse --resume; metrics.csv is not doubled.
rows=$(wc -l < "$out/toy/f1/metrics.csv")
expect 2 "keeps no checkpoint" -- "$SYRE" run toy --quick --out "$out" --name f1 --resume
[ "$(wc -l < "$out/toy/f1/metrics.csv")" -eq "$rows" ] && ok "metrics.csv unchanged" || fail "metrics.csv grew"
for e in ridge reparam; do
    expect 2 "keeps no checkpoint" -- "$SYRE" run $e --quick --out "$out" --name f1 --resume
done

# --resume compares with config.json: results-changing flags must match.
expect 0 "final results"    -- "$SYRE" run quartic --quick --threads 1 --out "$out" --name q
# config.json holds the values the run used: --quick's, not the defaults.
grep -q '"d":	200,' "$out/quartic/q/config.json" && grep -q '"steps":	100000,' "$out/quartic/q/config.json" \
    && ok "config.json has the quick d and steps" || fail "config.json: $(grep -E '"(d|steps)"' "$out/quartic/q/config.json")"
expect 2 "--seed was 1"     -- "$SYRE" run quartic --quick --out "$out" --name q --resume --seed 7
expect 2 "now 7"            -- "$SYRE" run quartic --quick --out "$out" --name q --resume --seed 7
expect 2 "--gamma was 1"    -- "$SYRE" run quartic --quick --out "$out" --name q --resume --gamma 3
expect 2 "--lr"             -- "$SYRE" run quartic --quick --out "$out" --name q --resume --lr 1e-3
expect 2 "--steps"          -- "$SYRE" run quartic --quick --out "$out" --name q --resume --steps 10
expect 2 "--d was 200"      -- "$SYRE" run quartic --out "$out" --name q --resume
absent "$out/quartic/q/config-resume.json"
expect 0 "final results"    -- "$SYRE" run quartic --quick --out "$out" --name q --resume --threads 1
expect 2 "not a flag"       -- "$SYRE" run quartic --quick --out "$out" --name q --resume --override bogus
expect 0 "final results"    -- "$SYRE" run quartic --quick --threads 1 --out "$out" --name q --resume --seed 1 --override seed
grep -q '"override":	"seed"' "$out/quartic/q/config-resume.json" && ok "override recorded" \
    || fail "config-resume.json lacks the override"
expect ! "an option that sets this size" -- "$SYRE" run quartic --quick --out "$out" --name q --resume --d 100 --override d

# Checkpoints know their method and run: one copied over another is refused.
cp "$out/quartic/q/ckpt-vanilla.safetensors" "$tmp/vanilla.safetensors"
cp "$out/quartic/q/ckpt-syre.safetensors" "$out/quartic/q/ckpt-vanilla.safetensors"
expect ! "saved as ckpt-syre.safetensors" -- "$SYRE" run quartic --quick --out "$out" --name q --resume
expect 0 "final results"    -- "$SYRE" run quartic --quick --threads 1 --out "$out" --name q2 --seed 2
cp "$out/quartic/q2/ckpt-vanilla.safetensors" "$out/quartic/q/ckpt-vanilla.safetensors"
expect ! "belongs to run"   -- "$SYRE" run quartic --quick --out "$out" --name q --resume
cp "$tmp/vanilla.safetensors" "$out/quartic/q/ckpt-vanilla.safetensors"
mkdir -p "$out/lowcap" && cp -r "$out/quartic/q" "$out/lowcap/q"
expect 2 "run of 'quartic'" -- "$SYRE" run lowcap --quick --out "$out" --name q --resume

# A start cut short by a signal (the directory and its lock made, config.json
# not yet written) leaves nothing to continue: --resume starts it afresh.
mkdir -p "$out/quartic/cut" && : > "$out/quartic/cut/run.lock"
expect 0 "was cut short" -- "$SYRE" run quartic --quick --threads 1 --out "$out" --name cut --resume
[ -f "$out/quartic/cut/config.json" ] && ok "cut-short run has its config.json" || fail "cut-short run: no config.json"
absent "$out/quartic/cut/config-resume.json"
# Cut short inside the atomic write of config.json: its temporary is left.
mkdir -p "$out/quartic/cut3" && : > "$out/quartic/cut3/run.lock" && echo '{"exp' > "$out/quartic/cut3/config.json.tmp"
expect 0 "was cut short" -- "$SYRE" run quartic --quick --threads 1 --out "$out" --name cut3 --resume
[ -f "$out/quartic/cut3/config.json" ] && ok "cut-short run (temporary left) has its config.json" || fail "cut3: no config.json"
mkdir -p "$out/quartic/cut2/sub"
expect 2 "has no config.json" -- "$SYRE" run quartic --quick --threads 1 --out "$out" --name cut2 --resume

# Only regular files are read: a FIFO fails at once, a directory says so.
mkdir -p "$tmp/fifo/mnist" "$tmp/dir/mnist"
mkfifo "$tmp/fifo/mnist/train-labels-idx1-ubyte" "$tmp/fifo/mnist/train-images-idx3-ubyte"
expect ! "FIFO"             -- "$SYRE" run lowcap --quick --out "$out" --data-dir "$tmp/fifo"
mkdir "$tmp/dir/mnist/train-labels-idx1-ubyte" "$tmp/dir/mnist/train-images-idx3-ubyte"
expect ! "a directory"      -- "$SYRE" run lowcap --quick --out "$out" --data-dir "$tmp/dir"
rm "$out/quartic/q/metrics.csv" && mkfifo "$out/quartic/q/metrics.csv"
expect ! "not a regular file" -- "$SYRE" run quartic --quick --out "$out" --name q --resume

# Memory is estimated from shapes before it is allocated: resnet at width 1024
# (about 120 GiB) is refused at once, not after filling memory for a minute.
# (ASan's shadow memory and slower code: looser bounds for a sanitized binary)
max_s=5 max_kb=102400
ldd "$SYRE" 2>/dev/null | grep -q libasan && max_s=30 max_kb=1048576
if [ -x /usr/bin/time ]; then
    /usr/bin/time -f "%e %M" -o "$tmp/time" "$SYRE" run resnet --quick --width 1024 --out "$out" --name wide \
        >"$tmp/wide.log" 2>&1; rc=$?
    read -r secs kb < <(tail -1 "$tmp/time")
    if grep -q "not found" "$tmp/wide.log"; then
        echo "skip: no CIFAR-10 for the memory check"
    elif [ "$rc" -eq 1 ] && grep -q "the model needs" "$tmp/wide.log" \
         && awk -v s="$secs" -v k="$kb" -v ms="$max_s" -v mk="$max_kb" 'BEGIN { exit !(s < ms && k < mk) }'; then
        ok "resnet --width 1024 refused in $secs s at $kb KB"
    else
        fail "resnet --width 1024: exit $rc in $secs s at $kb KB: $(tail -1 "$tmp/wide.log")"
    fi
    absent "$out/resnet/wide"
fi

# Past `ulimit -f` the run fails naming the file (EFBIG, not SIGXFSZ's silent
# exit 153) and leaves neither a temporary file nor a truncated plot.
(ulimit -f 16; exec "$SYRE" run quartic --quick --threads 1 --out "$out" --name big) >"$tmp/xfsz.log" 2>&1; rc=$?
[ "$rc" -eq 1 ] && grep -q "File too large" "$tmp/xfsz.log" && ok "ulimit -f: exit 1 naming the file" \
    || fail "ulimit -f: exit $rc: $(tail -1 "$tmp/xfsz.log")"
[ -z "$(find "$out/quartic/big" -name '*.tmp')" ] && ok "no .tmp left" || fail "left: $(find "$out/quartic/big" -name '*.tmp')"
for f in "$out"/quartic/big/*.png "$out"/quartic/big/*.svg; do
    [ -e "$f" ] && [ "$(stat -c %s "$f")" -ge 16384 ] && fail "plot $f at the size limit (truncated)"
done

[ "$fails" -eq 0 ] && echo "all passed" || echo "$fails failed"
exit $((fails > 0))
