#!/usr/bin/env bash
# `mpirun -np 2 syre run ... --device sim` end to end (docs/distributed.md,
# "GPUs"): data parallelism with the parameters and the optimizer step in
# device memory, the gradient averaged by the device all-reduce (on the
# 'sim' test device: staged through the host and MPI; on a GPU: NCCL).
# On collapse's MNIST MLP at a tiny scale, for vanilla and syre:
#   - 2 ranks on sim with global batch 64 end with the parameters of one
#     process on sim with batch 64 (float tolerance; syre's looser, see
#     dist_tol in dist_cli_common.sh);
#   - and bit for bit with the parameters of 2 ranks on the CPU (sim runs the
#     CPU kernels, so the device path must add nothing and lose nothing).
# Skipped (77) in a build without MPI or without the MNIST data.
set -euo pipefail
name=test_dist_device_cli
. "$(dirname "$0")/dist_cli_common.sh"
args=(--quick --train-size 1024 --test-size 200 --rank-n 200 --batch 64 --epochs 2 --out "$out")

"$bin" run collapse "${args[@]}" --device sim --threads 1 --name one >/dev/null 2>"$out/one.err" \
  || { cat "$out/one.err"; fail "one-process run on sim"; }
"${mpi[@]}" "$bin" run collapse "${args[@]}" --device sim --name two >/dev/null 2>"$out/two.err" \
  || { cat "$out/two.err"; fail "2-rank run on sim"; }
grep -q "data-parallel: MPI" "$out/two.err" || fail "the 2-rank run did not say it is data-parallel"
grep -q "device: sim" "$out/two.err" || fail "the 2-rank run did not say it runs on sim"
"${mpi[@]}" "$bin" run collapse "${args[@]}" --device cpu --name cpu >/dev/null 2>"$out/cpu.err" \
  || { cat "$out/cpu.err"; fail "2-rank run on the CPU"; }
for m in vanilla syre; do
  echo "== $m: 2 ranks on sim vs one process on sim"
  python3 "$src/tests/st_compare.py" $(dist_tol $m) --only fc \
    "$out/collapse/one/ckpt-$m.safetensors" "$out/collapse/two/ckpt-$m.safetensors" \
    || fail "$m: 2-rank device parameters differ from the one-process run"
  echo "== $m: 2 ranks on sim vs 2 ranks on the CPU"
  python3 "$src/tests/st_compare.py" --exact \
    "$out/collapse/cpu/ckpt-$m.safetensors" "$out/collapse/two/ckpt-$m.safetensors" \
    || fail "$m: the device path of data parallelism differs from the host path"
done
echo "PASS test_dist_device_cli"
