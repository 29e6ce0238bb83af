#!/usr/bin/env bash
# A property test of the `syre` command under random mistaken input: random
# flag sets (good, bad, hostile), random well-formed but wrong datasets
# (image shape, label range, counts), and resumes with one option changed.
# Whatever the input, syre must exit 0, 1 or 2 (no signal, no sanitizer
# report, no hang past 90 s), say something on failure, write nothing outside
# its output tree, leave no run directory behind a failure before training,
# and keep every JSON record valid; a resume that changes an option must be
# refused naming it. Cases are drawn from a fixed seed, so a failure replays:
#   SYRE_CLI_FUZZ_SEED=S SYRE_CLI_FUZZ_CASES=N bash tests/test_cli_fuzz.sh
# CI runs 24 cases (about a minute); raise SYRE_CLI_FUZZ_CASES for more.
set -u
SYRE="${SYRE_BINARY_DIR:-build}/syre"
[ -x "$SYRE" ] || { echo "FAIL: no syre binary at $SYRE"; exit 1; }
SYRE=$(realpath "$SYRE")
cases=${SYRE_CLI_FUZZ_CASES:-24}
RANDOM=${SYRE_CLI_FUZZ_SEED:-1}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pick() { local a=("$@"); echo "${a[RANDOM % ${#a[@]}]}"; }

# Run syre in $tmp/cwd (so a relative path lands there) and check the
# properties every invocation must keep. Sets $rc and $outtxt.
run_syre() {
    touch "$tmp/cwd/.before"
    outtxt=$(cd "$tmp/cwd" && timeout 90 "$SYRE" "$@" 2>&1); rc=$?
    local what="syre $*"
    if [ "$rc" -eq 124 ]; then fail "hung: $what"; return; fi
    if [ "$rc" -gt 2 ]; then fail "exit $rc (crash or signal): $what: $(echo "$outtxt" | tail -3)"; fi
    case "$outtxt" in
        *Sanitizer*|*"runtime error"*)
            fail "sanitizer report (exit $rc): $what"
            echo "$outtxt" | grep -m1 -A24 -E 'Sanitizer|runtime error';;
    esac
    if [ "$rc" -ne 0 ] && [ -z "$outtxt" ]; then fail "silent failure: $what"; fi
    # Nothing outside <out>/<experiment>/: only those directories appear.
    local extra
    extra=$( (ls -A "$tmp" | grep -vxE 'cwd|out|data'; ls -A "$tmp/cwd" | grep -vxE 'runs|\.before';
              ls -A "$tmp/out" | grep -vxE 'toy|lowcap|collapse|continual|vae|quartic|deep';
              ls -A "$tmp/out/deep" 2>/dev/null | grep -vx er; ls -A "$tmp/cwd/runs" 2>/dev/null | grep -vx toy) | head -3)
    [ -z "$extra" ] || fail "wrote outside <out>/<experiment>/: $extra ($what)"
    local j
    j=$(find "$tmp/out" "$tmp/cwd" -name '*.json' -newer "$tmp/cwd/.before" 2>/dev/null)
    [ -z "$j" ] || python3 -c 'import json, sys
for p in sys.argv[1:]: json.load(open(p, encoding="utf-8"))' $j 2>/dev/null || fail "invalid JSON among $j after: $what"
    # A failed run leaves no directory holding only config.json.
    for c in $(find "$tmp/out" "$tmp/cwd" -name config.json 2>/dev/null); do
        [ "$(ls -A "$(dirname "$c")" | wc -l)" -gt 1 ] || fail "half-made run $(dirname "$c") after: $what"
    done
}

mkdir -p "$tmp/cwd" "$tmp/out"

# ---- random flag sets on the toy (fast: a run takes well under a second)
names=("ok" "../up" "." ".." "a/b" "$(printf 'x\xff')" "$(printf 'caf\xc3\xa9')" "" "$(head -c 300 /dev/zero | tr '\0' n)")
outs=("$tmp/out" "" "$tmp/out/$(head -c 5000 /dev/zero | tr '\0' o)" "$tmp/out/deep/er")
bad=("--threads 100000" "--threads 3" "--seed 9007199254740993" "--seed -1" "--seed 12" "--lr 1e-400" "--lr nan"
     "--lr 0.05" "--steps 1e7" "--steps 0" "--steps 37" "--epochs 2" "--batch 8" "--gamma -1" "--sigma0 0.1"
     "--method wfix" "--method syre-ar" "--method bogus" "--bogus 1" "--quick=maybe" "--on-nan never" "--resume")
toy_cases=$((cases / 2))
for ((k = 0; k < toy_cases; k++)); do
    args=(run toy --quick --threads 1 --out "$(pick "${outs[@]}")")
    nm=$(pick "${names[@]}")
    [ -n "$nm" ] && args+=(--name "$nm")
    for ((f = RANDOM % 3; f > 0; f--)); do read -r -a extra <<< "$(pick "${bad[@]}")"; args+=("${extra[@]}"); done
    run_syre "${args[@]}"
done

# ---- random wrong datasets for the MNIST experiments
data_cases=$((cases / 3))
for ((k = 0; k < data_cases; k++)); do
    rm -rf "$tmp/data"; mkdir -p "$tmp/data/mnist" "$tmp/data/fashion-mnist"
    rows=$(pick 28 28 14 1 29 32); cols=$(pick 28 28 14 7 56); n=$(pick 64 200 300)
    nl=$(pick "$n" "$n" "$n" $((n - 1))); top=$(pick 10 10 11 200)
    python3 - "$tmp/data" "$RANDOM" "$n" "$rows" "$cols" "$nl" "$top" <<'PY'
import random, struct, sys
root, seed, n, rows, cols, nl, top = sys.argv[1], *map(int, sys.argv[2:])
rng = random.Random(seed)
for sub in ("mnist", "fashion-mnist"):
    for pre in ("train", "t10k"):
        with open(f"{root}/{sub}/{pre}-images-idx3-ubyte", "wb") as f:
            f.write(struct.pack(">IIII", 0x803, n, rows, cols) + rng.randbytes(n * rows * cols))
        with open(f"{root}/{sub}/{pre}-labels-idx1-ubyte", "wb") as f:
            f.write(struct.pack(">II", 0x801, nl) + bytes(rng.randrange(top) for _ in range(nl)))
PY
    exp=$(pick lowcap collapse continual vae)
    run_syre run "$exp" --quick --threads 1 --out "$tmp/out" --data-dir "$tmp/data" --name "d$k" --epochs 1
    wrong=0
    { [ "$rows" != 28 ] || [ "$cols" != 28 ] || [ "$nl" != "$n" ]; } && wrong=1
    [ "$exp" != vae ] && [ "$top" -gt 10 ] && wrong=1
    if [ "$wrong" = 1 ]; then
        [ "$rc" -ne 0 ] || fail "$exp accepted a wrong dataset (${rows}x${cols}, $n images, $nl labels < $top)"
        case "$outtxt" in *"$tmp/data/"*) ;; *) fail "$exp: message names no file: $(echo "$outtxt" | tail -1)";; esac
    fi
done

# ---- resume with one option changed: refused naming the flag; with
# --override the change goes through
run_syre run quartic --quick --threads 1 --out "$tmp/out" --name base
[ "$rc" -eq 0 ] || fail "quartic base run exited $rc"
changes=("seed 5" "gamma 0.5" "lr 2e-4" "steps 50" "d 100" "sigma0 0.1" "method vanilla" "c-th 0.01")
resume_cases=$((cases - toy_cases - data_cases))
for ((k = 0; k < resume_cases; k++)); do
    read -r flag val <<< "$(pick "${changes[@]}")"
    run_syre run quartic --quick --threads 2 --out "$tmp/out" --name base --resume "--$flag=$val"
    [ "$rc" -eq 2 ] || fail "resume with --$flag $val exited $rc"
    case "$outtxt" in *"--$flag was"*) ;; *) fail "resume with --$flag $val: message names no flag: $(echo "$outtxt" | tail -1)";; esac
done

echo "$cases cases (seed ${SYRE_CLI_FUZZ_SEED:-1}): $fails failed"
exit $((fails > 0))
