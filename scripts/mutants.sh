#!/usr/bin/env bash
# Mutation check: would the tests notice a wrong implementation of the method?
# Each mutant below is one small edit (a sed expression) to one library source.
# For each, the edited file is compiled in a scratch copy of the tree with the
# build's own command (compile_commands.json; a header: every source that
# includes it), and the tests named for it are relinked with those objects
# ahead of the build's archives, and run. A mutant is killed when one of its
# tests fails. Nothing in the build directory or the tree changes, and only
# the edited objects are compiled, so the whole list takes a few minutes.
#
#   bash scripts/mutants.sh            every mutant
#   bash scripts/mutants.sh NAME...    only those
#
# SYRE_BUILD_DIR (default build) is the configured Release build to reuse;
# SYRE_MUTANTS_ALL=1 adds the slow ones (anchor-zero against test_exp_ant).
# Prints "mutants: K killed of N" and the survivors by name; exits 1 if any
# mutant survives or cannot be applied. docs/reliability.md lists them.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
B=$ROOT/${SYRE_BUILD_DIR:-build}
T0=$(date +%s)

NAMES=() FILES=() EDITS=() TESTS=()
m() { NAMES+=("$1"); FILES+=("$2"); EDITS+=("$3"); TESTS+=("$4"); }

# name                 file                              sed expression                                   tests
m anchor-zero          src/optim/optim.c          's|s->sigma = (float)(|s->sigma = 0.0f * (float)(|'  "test_optim"
# The claim tests each depend on the anchor too (one mutant per test: the
# first failing test ends a mutant's run). ant's test takes ~45 s, twice:
# only with SYRE_MUTANTS_ALL=1 or when named.
claims="ridge resnet simclr continual collapse"
case " ${SYRE_MUTANTS_ALL:-0} $* " in *" 1 "*|*" anchor-zero@ant "*) claims="$claims ant" ;; esac
for t in $claims; do
  m "anchor-zero@$t"   src/optim/optim.c          's|s->sigma = (float)(|s->sigma = 0.0f * (float)(|'  "test_exp_$t"
done
m anchor-init-only     src/optim/optim.c          's|case SY_DECAY_SYRE: return st == SY_ANCHOR_STORED ? SEG_ANCHOR : SEG_REGEN;|case SY_DECAY_SYRE: return SEG_ZERO;|' "test_optim"
m no-init-shift        src/optim/optim.c          's|if (o->shift_init \&\& !fixed\[i\])|if (0 \&\& o->shift_init \&\& !fixed[i])|' "test_optim"
m sgd-decay-sign       src/backend/cpu/optim_update.c 's|if (mode != SEG_NONE) g = g + decay(|if (mode != SEG_NONE) g = g - decay(|' "test_optim"
m adam-decay-sign      src/backend/cpu/optim_update.c 's|if (!decoupled) g = g + t;|if (!decoupled) g = g - t;|' "test_optim"
m adamw-decay-sign     src/backend/cpu/optim_update.c 's|\*p = \*p \* (1.0f - k) + k \* a;|*p = *p * (1.0f + k) - k * a;|' "test_optim"
m adamw-anchor-deleted src/backend/cpu/optim_update.c 's|\*p = \*p \* (1.0f - k) + k \* a;|*p = *p * (1.0f - k);|' "test_optim"
m regen-other-stream   src/backend/cpu/optim_update.c 's|case SEG_REGEN: a = sy_anchor_value(c->key_a, s->tensor,|case SEG_REGEN: a = sy_anchor_value(c->key_d, s->tensor,|' "test_optim"
m syre-ar-d-identity   src/backend/optim_update.h 's|return 1.0f + eps \* (2.0f|return 1.0f + 0.0f * eps * (2.0f|' "test_optim"
m l2init-at-zero       src/optim/optim.c          's|case SY_DECAY_L2_INIT: return SEG_ANCHOR;|case SY_DECAY_L2_INIT: return SEG_ZERO;|' "test_optim"
m linear-fan-in        src/nn/layers.c            's|sy_shape_of(2, out, in > 0 ? in : 1), in, u, 1)|sy_shape_of(2, out, in > 0 ? in : 1), out, u, 1)|' "test_optim"
m conv-fan-in          src/nn/layers.c            's|fan_in = C \* k \* k;|fan_in = C;|' "test_optim"
m wfix-no-shuffle      src/optim/optim.c          's|sy_rng_shuffle(&r, perm, pi->numel);|(void)r;|' "test_optim"
m wfix-seed-ignored    src/optim/optim.c          's|sy_rng_make(opt->o.seed, SY_STREAM_WFIX,|sy_rng_make(0, SY_STREAM_WFIX,|' "test_optim"
m wfix-floor           src/optim/optim.c          's|(size_t)llround(|(size_t)floor(|g' "test_optim"
m rank-ge              src/metrics/spectrum.c     's|c += eig\[i\] > thr;|c += eig[i] >= thr;|' "test_metrics"
m safetensors-bound    src/format/safetensors.c       's|if (b1 < b0 \|\| b1 > dsize) {|if (b1 < b0 \|\| b1 > dsize + 4) {|' "test_st_bounds test_io"
m gemm-last-tile       src/backend/cpu/kernels_blas.c 's|t1 = (int)((long)q->tiles \* (t + 1) / n);|t1 = (int)((long)q->tiles * (t + 1) / n) - (t + 1 == n);|' "test_cpu_kernels"
m step-last-piece      src/backend/cpu/optim_update.c 's|\*i1 = begin + pieces \* (t + 1) / nt \* 16;|*i1 = begin + pieces * (t + 1) / nt * 16 - (t + 1 == nt) * 16;|' "test_optim"
m nan-guard-last-block src/core/numeric.c         's|for (size_t lo = 0; lo < n; lo += B) {|for (size_t lo = 0; lo + B < n; lo += B) {|' "test_reliability"
m sp-no-noise          src/optim/reset.c          's|wi\[j\] = lambda \* wi\[j\] + p \* f\[j\];|wi[j] = lambda * wi[j];|' "test_exp_continual"
m reset-moments-kept   src/train/unit_reset.c     's|if (st) memset(st + off, 0, len \* sizeof(float));|(void)st;|' "test_unit_reset"
m reset-outgoing-kept  src/train/unit_reset.c     's|data\[o0 + e\] = 0.0f;|(void)data;|' "test_unit_reset"
m cbp-no-weight-term   src/train/unit_reset.c     's|(1 - eta) \* L->absmean\[u\] \* m;|(1 - eta) * L->absmean[u];|' "test_unit_reset"
m dormant-strict       src/metrics/dormant.c      's|/ mean <= tau;|/ mean < tau;|' "test_dormant"
m resume-no-utility    src/train/unit_reset.c     's|L->util\[u\] = util;|(void)util;|' "test_unit_reset_ckpt"
m resume-no-events     src/train/unit_reset.c     's|r->events = events;|(void)events;|' "test_unit_reset_ckpt"

if [ $# -gt 0 ]; then
  keep=() ; for a in "$@"; do keep+=("$a"); done
  sel() { local x; for x in "${keep[@]}"; do [ "$x" = "$1" ] && return 0; done; return 1; }
else
  sel() { return 0; }
fi

ALL_TESTS=$(for i in "${!NAMES[@]}"; do if sel "${NAMES[$i]}"; then echo "${TESTS[$i]}"; fi; done | tr ' ' '\n' | sort -u | tr '\n' ' ')
[ -f "$B/CMakeCache.txt" ] || cmake -S . -B "$B" -DCMAKE_BUILD_TYPE=Release >/dev/null
# shellcheck disable=SC2086
cmake --build "$B" -j"$(nproc)" --target syre_static $ALL_TESTS >/dev/null
[ -f "$B/compile_commands.json" ] || { echo "mutants: $B has no compile_commands.json (reconfigure it)" >&2; exit 2; }

S=$(mktemp -d /tmp/syre-mutants.XXXXXX)
trap 'rm -rf "$S"' EXIT
# The scratch tree: every source, so that the edited file's own includes
# resolve beside it as they do in the tree.
cp -r src include experiments "$S"/

# Tests whose claims need the real CIFAR-10 run here on their own fixture
# only (the real-data part is skipped: exit 77), which is what the mutants need.
FIXTURE_ONLY=" test_exp_resnet test_exp_simclr "
mkdir -p "$S/no-data"
run_test() { # binary, log -> 0 passed, 77 skipped, else failed
  local rc=0 nodata=()
  case $FIXTURE_ONLY in *" $(basename "$1") "*) nodata=(SYRE_DATA="$S/no-data") ;; esac
  env "${nodata[@]}" SYRE_SOURCE_DIR="$ROOT" SYRE_BINARY_DIR="$B" timeout 300 "$1" >"$2" 2>&1 || rc=$?
  return $rc
}

# Every test first passes unmutated, or a "kill" would mean nothing.
for t in $ALL_TESTS; do
  rc=0; run_test "$B/$t" "$S/base-$t.log" || rc=$?
  if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
    echo "mutants: $t does not pass unmutated (exit $rc); see its output:" >&2
    tail -20 "$S/base-$t.log" >&2; exit 2
  fi
done

killed=0 n=0 survivors=() broken=()
for i in "${!NAMES[@]}"; do
  name=${NAMES[$i]} file=${FILES[$i]}
  sel "$name" || continue
  n=$((n + 1))
  rm -rf "$S/m" && mkdir -p "$S/m"
  sed -e "${EDITS[$i]}" "$ROOT/$file" >"$S/$file"
  if cmp -s "$ROOT/$file" "$S/$file"; then
    echo "  $name: the edit did not apply to $file"; broken+=("$name"); continue
  fi
  # The objects to rebuild: the file itself, or (a header) every source that includes it.
  case $file in
    *.h) srcs=$(grep -rl "$(basename "$file")" src experiments --include='*.c' | grep -v '/cuda/' || true) ;;
    *) srcs=$file ;;
  esac
  ok=1
  for src in $srcs; do
    cmd=$(python3 - "$B/compile_commands.json" "$ROOT" "$S" "$src" "$S/m/$(basename "$src").o" <<'EOF'
import json, re, shlex, sys
db, root, scratch, src, out = sys.argv[1:]
n = 0
for e in json.load(open(db)):
    # the library's or the application's object (not a test's own); every
    # one of them: a file compiled per instruction set (syre_isa_*) has one
    # object per variant, and the CPU runs the best
    if e["file"] == root + "/" + src and re.search(r"CMakeFiles/syre_\w+\.dir/", e.get("output", e["command"])):
        a = shlex.split(e["command"])
        a[a.index("-o") + 1] = out if n == 0 else out[:-len(".c.o")] + "_%d.c.o" % n
        a[a.index("-c") + 1] = scratch + "/" + src
        # the scratch tree's headers, so that a mutated header is the one seen
        a = [x.replace("-I" + root + "/", "-I" + scratch + "/") for x in a]
        print(shlex.join(a)); n += 1
EOF
)
    if [ -z "$cmd" ] || ! (cd "$B" && eval "$cmd") >"$S/m/cc.log" 2>&1; then
      echo "  $name: $src did not compile"; cat "$S/m/cc.log"; ok=0; break
    fi
  done
  [ $ok = 1 ] || { broken+=("$name"); continue; }
  dead=""
  for t in ${TESTS[$i]}; do
    # The mutant objects ahead of every archive (libsyre.a, the application's
    # libsyre_experiments.a): they define every symbol the originals do, so
    # the linker never pulls those members.
    link=$(sed -e "s| -o $t | -o $S/m/$t $S/m/*.c.o |" "$B/CMakeFiles/$t.dir/link.txt")
    (cd "$B" && eval "$link") >"$S/m/ld.log" 2>&1 || { echo "  $name: $t did not link"; cat "$S/m/ld.log"; dead=""; ok=0; break; }
    rc=0; run_test "$S/m/$t" "$S/m/$t.log" || rc=$?
    if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then dead=$t; break; fi
  done
  [ $ok = 1 ] || { broken+=("$name"); continue; }
  if [ -n "$dead" ]; then
    # where it failed: cmocka's file:line of the first failed assertion
    at=$(grep -m1 -oE "tests/[a-z_]+\.c:[0-9]+" "$S/m/$dead.log" || true)
    killed=$((killed + 1)); echo "  $name: killed by $dead${at:+ ($at)}"
  else
    survivors+=("$name"); echo "  $name: SURVIVED (${TESTS[$i]})"
  fi
  cp "$ROOT/$file" "$S/$file"
done

echo "mutants: $killed killed of $n ($(($(date +%s) - T0)) s)"
[ ${#survivors[@]} -eq 0 ] || echo "survivors: ${survivors[*]}"
[ ${#broken[@]} -eq 0 ] || echo "not applied: ${broken[*]}"
[ $killed -eq $n ]
