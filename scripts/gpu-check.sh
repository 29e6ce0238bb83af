#!/usr/bin/env bash
# One prepared check of the CUDA backend on a GPU machine, in a few minutes:
# builds for the GPU present, runs every device test (test_cuda: every op
# forward + backward against the CPU reference, MLP/CNN/ResNet training steps,
# the NaN guard against the CPU's, --precision tf32/bf16 against sim's
# emulation and fp32, CUDA Graphs on/off; test_device_sim; test_gemm_map;
# test_nccl: the NCCL all-reduce with one rank, and 2 ranks on 2 GPUs when
# there are 2), the step benchmark (MLP and CNN b64 with CUDA Graphs off and
# on; ResNet-18 b512 in fp32, tf32, bf16 and with im2col), the PyTorch peer
# if torch sees the GPU (shortened under QUICK=1), and, unless QUICK=1, one
# experiment on --device cuda against --device cpu. Writes a compact report.
#
# Where the project's other build dependencies (CMake, cmocka, cairo,
# OpenBLAS, ...) are missing, it falls back to scripts/gpu-min-build.sh
# (CUDA toolkit and a C compiler only): test_cuda and the benchmark, no
# experiment.
#
# Usage: scripts/gpu-check.sh [REPORT]   (default: $OUT/gpu-report.md if $OUT
#        is set, else gpu-report.md). Environment: JOBS (build jobs, default
#        nproc), QUICK=1 (a shorter PyTorch peer, no experiment; aims at
#        under 8 minutes on an H100),
#        GPU_CHECK_MIN=1 (use the minimal build even where CMake would work).
# Exit status: 0 if every test passed, 1 otherwise (the report says which).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
report=${1:-${OUT:+$OUT/gpu-report.md}}
report=${report:-gpu-report.md}
logdir=$(dirname "$report")/gpu-logs
mkdir -p "$logdir"
jobs=${JOBS:-$(nproc)}
build=build-gpu
status=0
t_start=$(date +%s)

say() { echo "$*" | tee -a "$report"; }
section() { say ""; say "## $*"; }
: >"$report"
say "# syre CUDA check, $(date -u +%Y-%m-%dT%H:%M:%SZ), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')"

section "Machine"
if command -v nvidia-smi >/dev/null; then
    nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader | sed 's/^/    /' | tee -a "$report"
    cap=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
else
    say "    nvidia-smi not found: is there a GPU and a driver?"
    cap=""
fi
nvcc=$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)
say "    nvcc: $("$nvcc" --version 2>/dev/null | tail -2 | head -1 || echo missing); $(nproc) CPUs"
[ -x "$nvcc" ] || { say "    MISSING: nvcc (the CUDA toolkit); stopping"; exit 1; }
command -v gcc >/dev/null || command -v cc >/dev/null || { say "    MISSING: a C compiler; stopping"; exit 1; }
missing=""
for tool in cmake pkg-config; do command -v $tool >/dev/null || missing="$missing $tool"; done
for pc in cmocka cairo libcjson zlib; do pkg-config --exists $pc 2>/dev/null || missing="$missing $pc"; done
for h in cblas.h lapacke.h jpeglib.h png.h; do
    [ -e /usr/include/$h ] || ls /usr/include/*/$h >/dev/null 2>&1 || missing="$missing $h"
done
mode=full
[ -n "$missing" ] && mode=min
[ "${GPU_CHECK_MIN:-0}" = 1 ] && missing=" (GPU_CHECK_MIN=1)" && mode=min

section "Build"
t0=$(date +%s)
if [ $mode = full ]; then
    archs=${cap:-"80;90"}
    if cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DCMAKE_CUDA_ARCHITECTURES="$archs" >"$logdir/configure.log" 2>&1 &&
       cmake --build "$build" -j"$jobs" >"$logdir/build.log" 2>&1; then
        say "    built for sm_$archs in $(( $(date +%s) - t0 )) s; $(grep -o 'CUDA backend O[NF]*[^)]*)' "$logdir/configure.log" | head -1); $(grep -o 'cuDNN [a-z ]*found[^:]*' "$logdir/configure.log" | head -1)"
    else
        say "    CMake build failed (last lines below); trying the minimal build"
        tail -15 "$logdir/build.log" "$logdir/configure.log" 2>/dev/null | sed 's/^/    /' | tee -a "$report"
        mode=min
    fi
else
    say "    not here:$missing -> minimal build (scripts/gpu-min-build.sh: test_cuda and the benchmark only)"
fi
if [ $mode = min ]; then
    build=build-gpu-min
    t0=$(date +%s)
    if bash scripts/gpu-min-build.sh "${cap:-80 90}" >"$logdir/build-min.log" 2>&1; then
        say "    $(tail -1 "$logdir/build-min.log") in $(( $(date +%s) - t0 )) s"
    else
        say "    MINIMAL BUILD FAILED (last lines):"
        tail -25 "$logdir/build-min.log" | sed 's/^/    /' | tee -a "$report"
        exit 1
    fi
fi

section "Device tests"
diag_s=$([ "${QUICK:-0}" = 1 ] && echo 120 || echo 300) # the reruns that localise a failure
# Twice: convolutions through cuDNN (the default when built with it), then
# through im2col + cuBLAS (SYRE_CUDNN=0); the second run's lines are only
# the failures and the conv cases.
for conv in cudnn im2col; do
    log="$logdir/test_cuda-$conv.log"
    t0=$(date +%s)
    if [ $conv = cudnn ]; then timeout 240 "$build/test_cuda" >"$log" 2>&1; else SYRE_CUDNN=0 timeout 200 "$build/test_cuda" >"$log" 2>&1; fi
    rc=$?
    case $rc in
    0) say "    test_cuda ($conv): PASSED ($(( $(date +%s) - t0 )) s)";;
    77) say "    test_cuda ($conv): $(grep SKIPPED "$log")"; status=1;;
    *) say "    test_cuda ($conv): FAILED (exit $rc)"; status=1;;
    esac
    grep -E "^device:" "$log" | sed 's/^/    /' | tee -a "$report"
    say '```'
    if [ $conv = cudnn ]; then
        grep -E "^op |FAIL|differs|step [0-9]: loss|ERROR|Failure|LINE|PASSED|FAILED|^nan guard|^precision|^cuda graphs|^prefetch [a-z]+ [a-z]+:|^prefetch [a-z]+: on|^clipping|^dropout" "$log" | head -200 | tee -a "$report"
    else
        grep -E "^op conv|FAIL|differs|ERROR|Failure|LINE|FAILED|PASSED|^precision cnn|^cuda graphs (cnn|resnet)" "$log" | head -60 | tee -a "$report"
    fi
    say '```'
    if [ $rc -ne 0 ] && [ $rc -ne 77 ]; then
        # Localise: wait after every kernel and name the failing node.
        SYRE_CUDA_SYNC=1 SYRE_CUDNN=$([ $conv = cudnn ] && echo 1 || echo 0) timeout $diag_s "$build/test_cuda" >"$log.sync" 2>&1
        say "    rerun with SYRE_CUDA_SYNC=1 (exit $?), first errors:"
        say '```'
        grep -E "CUDA error|failed|of node|differs" "$log.sync" | head -15 | tee -a "$report"
        say '```'
        if command -v compute-sanitizer >/dev/null && [ $conv = cudnn ]; then
            timeout $diag_s compute-sanitizer --print-limit 5 "$build/test_cuda" >"$log.memcheck" 2>&1
            say "    compute-sanitizer memcheck, first lines:"
            say '```'
            grep -E "Invalid|ERROR SUMMARY|at 0x|by thread" "$log.memcheck" | head -12 | tee -a "$report"
            say '```'
        fi
    fi
done
# Data parallelism on the GPU: the NCCL path with one rank (SYRE_NCCL=1 in
# test_nccl); with 2+ GPUs and mpirun, 2 ranks on 2 GPUs against one process.
log="$logdir/test_nccl.log"
timeout 200 "$build/test_nccl" >"$log" 2>&1
rc=$?
case $rc in
0) say "    test_nccl (NCCL all-reduce, one rank): PASSED";;
77) say "    test_nccl: $(grep SKIP "$log")";;
*) say "    test_nccl (NCCL all-reduce, one rank): FAILED (exit $rc)"; status=1;;
esac
grep -E "^# |FAIL|ERROR|Failure|NCCL" "$log" | head -8 | sed 's/^/    /' | tee -a "$report"
ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
if [ $mode = full ] && [ "${ngpu:-0}" -ge 2 ] && command -v mpirun >/dev/null && [ "${QUICK:-0}" != 1 ]; then
    mpi=(mpirun --oversubscribe -np 2)
    [ "$(id -u)" = 0 ] && mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
    a=(--quick --train-size 1024 --test-size 200 --rank-n 200 --batch 64 --epochs 2 --device cuda --out "$logdir/dp")
    if timeout 240 "$build/syre" run collapse "${a[@]}" --name one >"$logdir/dp-one.log" 2>&1 &&
       timeout 240 "${mpi[@]}" "$build/syre" run collapse "${a[@]}" --name two >"$logdir/dp-two.log" 2>&1; then
        for m in vanilla syre; do
            if python3 tests/st_compare.py --rtol 1e-4 --atol 1e-6 --only fc "$logdir/dp/collapse/one/ckpt-$m.safetensors" \
                "$logdir/dp/collapse/two/ckpt-$m.safetensors" >"$logdir/dp-$m.cmp" 2>&1; then
                say "    2 ranks on 2 GPUs (NCCL) vs one GPU, collapse $m: same parameters (rtol 1e-4)"
            else
                say "    2 ranks on 2 GPUs (NCCL) vs one GPU, collapse $m: DIFFER (see $logdir/dp-$m.cmp)"; status=1
            fi
        done
    else
        say "    2 ranks on 2 GPUs (NCCL): FAILED ($(tail -1 "$logdir/dp-two.log" 2>/dev/null))"; status=1
    fi
fi
if [ $mode = full ]; then
    for t in test_device_sim test_gemm_map; do
        if "$build/$t" >"$logdir/$t.log" 2>&1; then say "    $t: PASSED"; else say "    $t: FAILED"; status=1; fi
    done
fi

section "Step benchmark (syre, CUDA)"
# ms per training step (median of repeats). MLP and CNN at batch 64 with CUDA
# Graphs off and on (the recorded step: sy_train_step), ResNet-18 at batch
# 512 in fp32, tf32 and bf16 (bf16 convolutions go through im2col + the bf16
# GEMM, not cuDNN), and fp32 with im2col. Every run has its own timeout.
b="$build/bench_cuda_step"
say '```'
timeout 120 "$b" --model sgemm 2>&1 | tee -a "$report"
timeout 120 "$b" --model sgemm --precision tf32 2>&1 | grep RESULT | tee -a "$report"
timeout 120 "$b" --model sgemm --precision bf16 2>&1 | grep RESULT | tee -a "$report"
for m in mlp cnn; do
    for gr in 0 1; do
        timeout 150 "$b" --model $m --steps 200 --repeats 5 --graphs $gr >"$logdir/bench-$m-g$gr.log" 2>&1
        grep -E "RESULT|CUDA Graphs off|bench_cuda_step:" "$logdir/bench-$m-g$gr.log" | tee -a "$report"
    done
done
for p in fp32 tf32 bf16; do
    timeout 200 "$b" --model resnet18 --steps 10 --warmup 3 --repeats 3 --precision $p 2>&1 | grep -E "RESULT|bench_cuda_step:" | tee -a "$report"
done
SYRE_CUDNN=0 timeout 200 "$b" --model resnet18 --steps 5 --warmup 2 --repeats 3 2>&1 | grep RESULT | sed 's/$/ conv=im2col/' | tee -a "$report"
# Data staging overlapped with compute (sy_prefetch): ResNet-18 b512 fed by a
# shuffled batcher with random crop + flip; --prefetch 1 prepares batch k+1
# on a helper thread and uploads it on the copy stream while step k runs,
# --prefetch 0 between steps. bf16 (the shortest step, where host time
# weighs most), eager and recorded. fill_ms: host preparation per step;
# wait_ms: what the loop still waited for it.
for gr in 0 1; do
    for pf in 0 1; do
        timeout 150 "$b" --model resnet18aug --steps 10 --warmup 3 --repeats 3 --precision bf16 --graphs $gr --prefetch $pf 2>&1 | grep -E "RESULT|bench_cuda_step:|CUDA Graphs off" | tee -a "$report"
    done
done
say '```'
# The CUDA Graphs speedup and the reduced-precision loss differences, from
# the lines above.
awk '/^RESULT/ && /model=(mlp|cnn)/ {
        m = ""; g = ""; t = ""
        for (i = 1; i <= NF; i++) {
            split($i, kv, "=")
            if (kv[1] == "model") m = kv[2]; else if (kv[1] == "graphs") g = kv[2]; else if (kv[1] == "ms_per_step") t = kv[2]
        }
        ms[m "," g] = t
    }
    /^RESULT/ && /model=resnet18 / && !/conv=im2col/ {
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        rl[v["precision"]] = v["loss"]; rt[v["precision"]] = v["ms_per_step"]
    }
    /^RESULT/ && /model=resnet18aug/ {
        for (i = 1; i <= NF; i++) { split($i, kv, "="); a[kv[1]] = kv[2] }
        pt[a["graphs"] "," a["prefetch"]] = a["ms_per_step"]; pl[a["graphs"] "," a["prefetch"]] = a["loss"]
        pfill[a["graphs"] "," a["prefetch"]] = a["fill_ms"]
    }
    END {
        for (gg = 0; gg < 2; gg++) if (pt[gg ",0"] > 0 && pt[gg ",1"] > 0)
            printf "    Prefetch, ResNet-18 b512 bf16 with crop+flip, graphs %d: %.3f ms/step off, %.3f on (%.2fx; host fill %.3f ms/step); loss off %s, on %s (%s)\n", gg, pt[gg ",0"], pt[gg ",1"], pt[gg ",0"] / pt[gg ",1"], pfill[gg ",0"], pl[gg ",0"], pl[gg ",1"], pl[gg ",0"] == pl[gg ",1"] ? "same batches" : "DIFFERENT: check"
        for (m in ms) if (m ~ /,0$/) {
            n = substr(m, 1, length(m) - 2)
            if (ms[n ",1"] > 0) printf "    CUDA Graphs, %s b64: %.4f ms eager, %.4f ms recorded: %.2fx\n", n, ms[n ",0"], ms[n ",1"], ms[n ",0"] / ms[n ",1"]
        }
        for (p in rl) if (p != "fp32" && rl["fp32"] != "")
            printf "    ResNet-18 b512 %s: %s ms/step, loss after the timed steps %s (fp32: %s, difference %.2e)\n", p, rt[p], rl[p], rl["fp32"], rl[p] - rl["fp32"]
    }' "$report" | tee -a "$report"

section "PyTorch peer (same machine)"
py=""
for p in python3 /usr/bin/python3; do
    if "$p" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then py=$p; break; fi
done
if [ -n "$py" ]; then
    say '```'
    if [ "${QUICK:-0}" = 1 ]; then
        timeout 200 "$py" bench/torch_cuda.py --steps 50 --warmup 10 --repeats 3 2>&1 | tee -a "$report"
    else
        timeout 300 "$py" bench/torch_cuda.py --steps 100 --repeats 3 2>&1 | tee -a "$report"
    fi
    say '```'
else
    say "    no PyTorch with CUDA here: no peer numbers"
fi

if [ "${QUICK:-0}" != 1 ]; then
    [ $mode = full ] && section "An experiment on --device cuda and on --device cpu"
    for d in $([ $mode = full ] && echo cuda cpu); do
        t0=$(date +%s)
        if timeout 240 "$build/syre" run lowcap --quick --device $d --out "$logdir/runs" --name $d >"$logdir/lowcap-$d.log" 2>&1; then
            say "    lowcap --quick --device $d: ok in $(( $(date +%s) - t0 )) s"
        else
            say "    lowcap --quick --device $d: FAILED ($(tail -1 "$logdir/lowcap-$d.log"))"
            status=1
        fi
    done
    if [ -s "$logdir/runs/lowcap/cuda/metrics.csv" ] && [ -s "$logdir/runs/lowcap/cpu/metrics.csv" ]; then
        say "    last metrics rows (cuda, then cpu):"
        say '```'
        tail -2 "$logdir/runs/lowcap/cuda/metrics.csv" | tee -a "$report"
        tail -2 "$logdir/runs/lowcap/cpu/metrics.csv" | tee -a "$report"
        say '```'
    fi
fi

section "Verdict"
say "    $([ $status -eq 0 ] && echo 'every device test passed' || echo 'SOME CHECKS FAILED: see above and '"$logdir")"
say "    total $(( $(date +%s) - t_start )) s; logs in $logdir"
exit $status
