#!/usr/bin/env bash
# --device and SYRE_DEVICE from the command line (on reparam, quick): cuda without a GPU (or in a
# build without CUDA) fails with exit 1 and says why before writing anything;
# an unknown device is a bad command line (2); the sim device runs an
# experiment to the same results as the CPU. On a GPU machine the cuda run
# must succeed instead.
set -u
SYRE="${SYRE_BINARY_DIR:-build}/syre"
[ -x "$SYRE" ] || { echo "FAIL: no syre binary at $SYRE"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

for how in flag env; do
    if [ $how = flag ]; then
        out=$("$SYRE" run reparam --quick --device cuda --out "$tmp/c" --name c 2>&1); rc=$?
    else
        out=$(SYRE_DEVICE=cuda "$SYRE" run reparam --quick --out "$tmp/c" --name e 2>&1); rc=$?
    fi
    if [ $rc -eq 0 ]; then
        ok "cuda ($how): a GPU is present and the run succeeded"
    elif [ $rc -eq 1 ] && { echo "$out" | grep -q "no CUDA device found\|built without CUDA"; }; then
        ok "cuda ($how) without a GPU: exit 1, '$(echo "$out" | tail -1 | cut -c1-90)...'"
        [ -e "$tmp/c/reparam" ] && fail "cuda ($how): a run directory was created before failing"
    else
        fail "cuda ($how): exit $rc, output: $out"
    fi
done

out=$("$SYRE" run reparam --quick --device tpu --out "$tmp/t" 2>&1); rc=$?
[ $rc -eq 2 ] && echo "$out" | grep -q "unknown device 'tpu'" && ok "unknown device: exit 2" || fail "unknown device: exit $rc: $out"

"$SYRE" run reparam --quick --steps 1000 --device cpu --out "$tmp" --name cpu >/dev/null 2>"$tmp/e1" || fail "reparam on cpu: $(cat "$tmp/e1")"
"$SYRE" run reparam --quick --steps 1000 --device sim --out "$tmp" --name sim >/dev/null 2>"$tmp/e2" || fail "reparam on sim: $(cat "$tmp/e2")"
grep -q '"device":	"sim"' "$tmp/reparam/sim/config.json" && ok "config.json records the device" || fail "config.json device"
# The metrics (not the timings) must be identical.
if cmp -s "$tmp/reparam/cpu/metrics.csv" "$tmp/reparam/sim/metrics.csv" &&
   [ -s "$tmp/reparam/cpu/metrics.csv" ]; then
    ok "reparam metrics identical on cpu and sim"
else
    fail "reparam metrics differ between cpu and sim"; diff "$tmp/reparam/cpu/metrics.csv" "$tmp/reparam/sim/metrics.csv" | head -5
fi
# --precision: bf16 on sim runs and is recorded; on cpu it is refused (exit 1, naming why).
"$SYRE" run reparam --quick --steps 200 --device sim --precision bf16 --out "$tmp" --name bf >/dev/null 2>"$tmp/e3" ||
    fail "reparam --precision bf16 on sim: $(cat "$tmp/e3")"
grep -q '"precision":	"bf16"' "$tmp/reparam/bf/config.json" 2>/dev/null && ok "config.json records the precision" ||
    fail "config.json precision"
out=$("$SYRE" run reparam --quick --precision bf16 --device cpu --out "$tmp" --name bfc 2>&1); rc=$?
[ $rc -eq 1 ] && echo "$out" | grep -q "needs a device" && ok "--precision bf16 on cpu: refused" ||
    fail "--precision bf16 on cpu: exit $rc: $out"
# --cuda-graphs: the recorded step on sim (collapse steps through sy_train_step) gives the CPU's metrics.
a=(--quick --train-size 512 --test-size 200 --rank-n 200 --epochs 2 --out "$tmp")
"$SYRE" run collapse "${a[@]}" --device cpu --name cgc >/dev/null 2>"$tmp/e4" || fail "collapse on cpu: $(cat "$tmp/e4")"
"$SYRE" run collapse "${a[@]}" --device sim --cuda-graphs --name cgs >/dev/null 2>"$tmp/e5" ||
    fail "collapse --cuda-graphs on sim: $(cat "$tmp/e5")"
if cmp -s "$tmp/collapse/cgc/metrics.csv" "$tmp/collapse/cgs/metrics.csv" && [ -s "$tmp/collapse/cgc/metrics.csv" ]; then
    ok "collapse metrics identical on cpu and on sim with --cuda-graphs"
else
    fail "collapse metrics differ (cpu vs sim --cuda-graphs)"
fi
echo "test_device_cli: $fails failure(s)"
[ $fails -eq 0 ]
