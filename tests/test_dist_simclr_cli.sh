#!/usr/bin/env bash
# `mpirun -np 2 syre run simclr --sync-bn` (docs/distributed.md): SimCLR's
# NT-Xent with the negatives of the global batch (the embeddings gathered
# over the ranks, the gradient handed back through the gather) and batch
# norm over the global batch. A tiny run (width 4, 120 CIFAR-10 images, 2
# epochs of 3 steps of the global batch 40 at lr 1e-6, augmentation on): 2
# ranks end with the parameters, running statistics and momentum buffers of
# one process to float tolerance. Without --sync-bn each rank
# normalises its own 20 images and they differ (so the comparison can fail).
# Skipped (77) in a build without MPI or without the CIFAR-10 data. ~15 s.
set -euo pipefail
# Skipped (77) in a sanitizer build: the ResNet runs are minutes there on 2
# cores; test_sync_bn and test_rank_gather run the same kernels under them.
if grep -q '^SYRE_SANITIZE:BOOL=ON' "${SYRE_BINARY_DIR:-build}/CMakeCache.txt" 2>/dev/null; then
  echo "SKIP $(basename "$0" .sh): too slow under the sanitizers (the Release build runs it)"
  exit 77
fi
name=test_dist_simclr_cli
. "$(dirname "$0")/dist_cli_common.sh"
[ -e "$data/cifar10-jpeg" ] || [ -e "$data/cifar10" ] || [ -e "$data/cifar-10-batches-bin" ] ||
  { echo "SKIP $name: no CIFAR-10 under $data"; exit 77; }
# lr 1e-6, 2 epochs of 3 steps: the parameters stay put, so training does not
# amplify rounding (at the default lr one process with OpenBLAS instead of
# syre's own GEMM ends 3 steps 4e-4 away from itself, 2 ranks 1e-3; see
# docs/distributed.md); every step's views and statistics are compared.
args=(--quick --train-n 120 --batch 40 --epochs 2 --lr 1e-6 --test-n 100 --rank-n 100 --eval-batch 100 --method vanilla
      --probe-init=0 --probe-epochs 1 --out "$out")
# parameters and running statistics to float tolerance, the momentum buffers
# (sums of gradients) to 1e-4 relative (observed 9e-6)
cmp_ck() {
  python3 "$src/tests/st_compare.py" --rtol 1e-5 --atol 1e-7 --skip optim. "$1" "$2" &&
    python3 "$src/tests/st_compare.py" --rtol 1e-4 --atol 1e-7 --only optim. "$1" "$2"
}

"$bin" run simclr "${args[@]}" --sync-bn --threads 1 --name one >/dev/null 2>"$out/one.err" ||
  { cat "$out/one.err"; fail "one-process run"; }
for sb in 1 0; do
  "${mpi[@]}" "$bin" run simclr "${args[@]}" --sync-bn=$sb --name two$sb >/dev/null 2>"$out/two.err" ||
    { cat "$out/two.err"; fail "2-rank run"; }
done
echo "== gathered negatives and --sync-bn: 2 ranks vs one process"
cmp_ck "$out/simclr/one/ckpt-vanilla.safetensors" "$out/simclr/two1/ckpt-vanilla.safetensors" >"$out/c1" ||
  { grep -v ' ok ' "$out/c1"; fail "2 ranks differ from one process"; }
if cmp_ck "$out/simclr/one/ckpt-vanilla.safetensors" "$out/simclr/two0/ckpt-vanilla.safetensors" >/dev/null; then
  fail "without --sync-bn, 2 ranks equal one process: the comparison cannot tell"
fi
echo "simclr data-parallel: equal to one process with --sync-bn, per-rank statistics differ"
