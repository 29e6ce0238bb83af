#!/usr/bin/env bash
# Every experiment's records, on --device cpu and --device sim, are byte for
# byte the stored ones (tests/records/quick.sha256): a change to the training
# loops, the trainer or anything below them that moves a single bit of a
# metric, a curve or a checkpoint fails here, naming the file.
#
# Each experiment runs at its --quick scale, cut further by the flags below
# (the same flags produced the stored sums) so that every training loop,
# resume-free, still runs its epochs, logging and checkpoints.
#
# What could make the bits depend on the machine, and how it is kept out:
# - GEMM: OpenBLAS picks an AVX2 or an AVX-512 kernel by CPU, with different
#   float rounding. SYRE_GEMM=own (the default on a CPU with FMA, set here
#   all the same) makes every product of the graphs (matmul, conv via
#   im2col) use syre's own kernels (src/backend/cpu/kernels_gemm.c),
#   which give the same bits on AVX-512, AVX2 and scalar code.
# - The metrics call OpenBLAS directly: dsyrk + LAPACK dsyevd for spectra and
#   ranks (collapse, vae, continual, simclr, ant), dsyevd and sgemv in quartic,
#   the normal equations in ridge. Measured under OpenBLAS's Haswell (AVX2)
#   and SkylakeX (AVX-512) kernels (OPENBLAS_CORETYPE set by hand, never
#   here): counts above a threshold (ranks, dead units) and values printed to
#   9 digits (metrics.csv) agree; values printed to 17 digits from an
#   eigenvalue solver differ in their last bits. So summary.json is hashed
#   without the keys effective_rank, eig_min*, eig_max* and erank*, and the
#   full-precision histories (continual's history-*.txt, ant's
#   history-*.bin) are not hashed; their training columns are in metrics.csv.
# - summary.json holds the run directory and wall-clock figures: "run_dir",
#   "end_time", "elapsed_s" and ant's "steps_per_s" are dropped too.
# - A checkpoint's "run" metadata hashes the options, the data directory's
#   path among them: checkpoints are hashed without it and without the
#   checksum of their metadata ("crc32:__metadata__"), which covers it.
# - Threads: every experiment gives the same bits at any thread count, and
#   the defaults are used.
#
# After a change that is meant to change records, regenerate the sums with
# SYRE_RECORDS_WRITE=1 and say in the commit why they changed.
#
# Skipped (77) in a sanitizer build: the 24 runs take ~10 minutes there on 2
# cores (~1.5 in Release), and the sanitizers see the same code in the
# experiments' own tests.
set -euo pipefail
BIN="${SYRE_BINARY_DIR:-build}/syre"
if grep -q '^SYRE_SANITIZE:BOOL=ON' "${SYRE_BINARY_DIR:-build}/CMakeCache.txt" 2>/dev/null; then
  echo "SKIP test_records_identity: too slow under the sanitizers (the Release build runs it)"
  exit 77
fi
[ -x "$BIN" ] || { echo "records: no syre binary at $BIN"; exit 1; }
# absolute: the hashing below runs inside the temporary directory
BIN="$(cd "$(dirname "$BIN")" && pwd)/syre"
SUMS="$(cd "${SYRE_SOURCE_DIR:-.}" && pwd)/tests/records/quick.sha256"
tmp=$(mktemp -d /tmp/syre-records-XXXXXX)
trap 'rm -rf "$tmp"' EXIT
export SYRE_GEMM=own

# experiment and the flags that cut its --quick scale
runs=(
  "collapse --train-size 2000 --test-size 1000 --epochs 2"
  "lowcap --samples 1000 --epochs 2 --fractions 0,0.99"
  "vae --train-size 1000 --test-size 1000 --epochs 2"
  "continual --tasks 2 --train-n 1000 --test-n 1000"
  "resnet --train-n 500 --test-n 200 --epochs 2"
  "simclr --train-n 250 --test-n 250 --rank-n 250 --batch 64"
  "reparam --steps 1000"
  "ant --steps 8192 --friction-every 4096"
  "quartic --steps 10000"
  "ridge"
  "rotation"
  "toy"
)
for dev in cpu sim; do
  for r in "${runs[@]}"; do
    set -- $r
    exp=$1; shift
    "$BIN" run "$exp" --quick "$@" --device "$dev" --out "$tmp/$dev" --name r >"$tmp/log" 2>&1 ||
      { cat "$tmp/log"; echo "records: $exp on $dev failed"; exit 1; }
  done
done

# the records: everything but plots, the config (paths, times), the lock and
# the full-precision histories
sums() {
  cd "$tmp"
  find cpu sim -type f ! -name '*.png' ! -name '*.svg' ! -name config.json ! -name run.lock ! -name 'history-*' |
    LC_ALL=C sort |
    while read -r f; do
      if [ "${f##*.}" = safetensors ]; then
        h=$(python3 -c '
import hashlib, re, struct, sys
b = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", b[:8])[0]
head = re.sub(rb"\"(run|crc32:__metadata__)\":\"[^\"]*\"", b"", b[8:8 + n])
print(hashlib.sha256(head + b[8 + n:]).hexdigest())' "$f")
      elif [ "${f##*/}" = summary.json ]; then
        h=$(grep -v -E '^\s*"(run_dir|end_time|elapsed_s|steps_per_s|effective_rank|eig_min[^"]*|eig_max[^"]*|erank[^"]*)":' "$f" | sha256sum)
      else
        h=$(sha256sum <"$f")
      fi
      echo "${h%% *}  $f"
    done
}
if [ "${SYRE_RECORDS_WRITE:-0}" = 1 ]; then
  sums >"$SUMS"
  echo "records: wrote $(wc -l <"$SUMS") sums to $SUMS"
  exit 0
fi
sums >"$tmp/now.sha256"
if ! diff "$SUMS" "$tmp/now.sha256" >"$tmp/diff"; then
  echo "records: these files differ from the stored ones (< stored, > now):"
  cat "$tmp/diff"
  exit 1
fi
echo "records: $(wc -l <"$SUMS") record files of $((${#runs[@]} * 2)) runs equal the stored ones"
