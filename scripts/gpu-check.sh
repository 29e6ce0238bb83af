#!/usr/bin/env bash
# One prepared check of the CUDA backend on a GPU machine, inside one time
# budget (BUDGET seconds, default 480), so that it completes when a GPU is
# lent for only a few minutes. In order, each section appending its result
# to the report as soon as it finishes (a run cut short still reports what
# it reached):
#   Machine      GPU, driver against toolkit (CUDA 13 needs driver >= 580),
#                where cuDNN and NCCL are (toolkit, ldconfig, Debian and pip
#                layouts; said loudly when missing)
#   Build        only the targets it runs
#   Smoke        (<= 60 s) one op case per family against the CPU reference
#                and one recorded MLP step against the CPU (test_cuda
#                test_smoke)
#   Equivalence  test_cuda (cuDNN, then the convolution tests with im2col),
#                test_nccl, with 2+ GPUs 2 ranks against one (not under
#                QUICK=1), test_device_sim, test_gemm_map
#   Benchmarks   bench_cuda_step, then the PyTorch peer if torch sees the GPU
#   Experiment   lowcap --quick on cuda and cpu (not under QUICK=1)
#   Diagnostics  only when a device test failed: the failing tests again with
#                SYRE_CUDA_SYNC=1 (names the failing node), and the failing
#                op cases alone under compute-sanitizer; time is kept for
#                them by shortening the benchmarks
# Without a GPU it is a dry run: the same sections on the sim device (the
# CPU kernels), which checks the script, the build and the test selection.
#
# Where the project's other build dependencies (CMake, cmocka, cairo,
# OpenBLAS, ...) are missing, it falls back to scripts/gpu-min-build.sh
# (CUDA toolkit and a C compiler only): test_cuda, test_nccl and the
# benchmark.
#
# Usage: scripts/gpu-check.sh [REPORT]   (default: $OUT/gpu-report.md if $OUT
#        is set, else gpu-report.md). Environment: BUDGET (seconds, default
#        480), JOBS (build jobs, default nproc), QUICK=1 (shorter benchmarks
#        and PyTorch peer, no experiment), BUILD_DIR (default build-gpu),
#        GPU_CHECK_MIN=1 (the minimal build even where CMake would work).
# Exit status: 0 if every test that ran passed, 1 otherwise (the report
# says which, and what the budget left out).
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
report=${1:-${OUT:+$OUT/gpu-report.md}}
report=${report:-gpu-report.md}
logdir=$(dirname "$report")/gpu-logs
mkdir -p "$logdir"
jobs=${JOBS:-$(nproc)}
build=${BUILD_DIR:-build-gpu}
quick=${QUICK:-0}
budget=${BUDGET:-480}
t_start=$(date +%s)
deadline=$((t_start + budget))
status=0
failed_tests=""  # test_cuda tests that failed (for the diagnostics)
failed_cases=""  # op cases that failed

say() { echo "$*" | tee -a "$report"; }
section() { say ""; say "## $* (at $(( $(date +%s) - t_start )) s of $budget)"; }
left() { echo $(( deadline - $(date +%s) )); }
# The timeout of a step that may take up to $1 s, within what is left less
# a reserve ($2, default 15 s: the verdict, and the diagnostics' share).
cap() {
    local t=$1 l=$(( $(left) - ${2:-15} ))
    [ "$l" -lt "$t" ] && t=$l
    [ "$t" -lt 1 ] && t=1 # timeout 0 would mean none
    echo "$t"
}
# Whether at least $1 s are left for a step (else say it was skipped).
have() {
    [ "$(left)" -ge "$1" ] && return 0
    say "    skipped, out of budget ($(left) s left): $2"
    return 1
}
fence() { say '```'; }
: >"$report"

# ---- Machine ---------------------------------------------------------------
gpu_ok=0
if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q '^GPU'; then gpu_ok=1; fi
dry=$([ $gpu_ok = 1 ] && echo 0 || echo 1)
dev=$([ $dry = 1 ] && echo sim || echo cuda)
say "# syre CUDA check, $(date -u +%Y-%m-%dT%H:%M:%SZ), git $(git rev-parse --short HEAD 2>/dev/null || echo '?')$([ $dry = 1 ] && echo ': DRY RUN on sim (no GPU here)')"
say "budget $budget s$([ "$quick" = 1 ] && echo ', QUICK=1')"

section "Machine"
nvcc=$(command -v nvcc || echo "${CUDA_HOME:-/usr/local/cuda}/bin/nvcc")
[ -x "$nvcc" ] || { say "    MISSING: nvcc (the CUDA toolkit); stopping"; exit 1; }
cuda_home=${CUDA_HOME:-$(cd "$(dirname "$nvcc")/.." && pwd)}
tk=$("$nvcc" --version 2>/dev/null | grep -o 'release [0-9]*\.[0-9]*' | awk '{print $2}')
say "    toolkit: nvcc $tk ($cuda_home); $(nproc) CPUs"
cap_sm=""
if [ $gpu_ok = 1 ]; then
    nvidia-smi --query-gpu=name,compute_cap,memory.total,driver_version --format=csv,noheader | sed 's/^/    GPU: /' | tee -a "$report"
    cap_sm=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader | head -1 | tr -d ' .')
    drv=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader | head -1 | cut -d. -f1)
    drv_cuda=$(nvidia-smi 2>/dev/null | grep -o 'CUDA Version: [0-9.]*' | awk '{print $3}')
    # The oldest driver each toolkit major runs on (minor-version compatibility).
    case ${tk%%.*} in 13) need=580;; 12) need=525;; 11) need=450;; *) need=0;; esac
    if [ -n "$drv" ] && [ "$drv" -lt "$need" ]; then
        say "    DRIVER TOO OLD: driver $drv (CUDA $drv_cuda) for toolkit $tk, which needs >= $need: every kernel would fail"
        say "    to load (cudaErrorInsufficientDriver). Install driver >= $need, or build with a toolkit the driver supports."
        say "    stopping"
        exit 1
    fi
    say "    driver $drv supports CUDA $drv_cuda; toolkit $tk needs >= $need: ok"
else
    say "    no GPU (nvidia-smi $(command -v nvidia-smi >/dev/null && echo 'lists none' || echo 'not found')): dry run, the device is sim"
fi
# cuDNN and NCCL wherever the system has them: the toolkit, the loader's
# cache, Debian's multiarch layout, pip's nvidia-* wheels.
find_dep() { # name header lib -> "incdir|libfile" or ""
    local name=$1 hdr=$2 lib=$3 d f py
    for d in "$cuda_home/include" /usr/include /usr/include/x86_64-linux-gnu /usr/include/aarch64-linux-gnu /usr/local/include; do
        [ -f "$d/$hdr" ] || continue
        for f in "$cuda_home"/lib64/$lib.so* "$cuda_home"/lib/$lib.so* /usr/lib/x86_64-linux-gnu/$lib.so* /usr/lib/aarch64-linux-gnu/$lib.so* \
            $(ldconfig -p 2>/dev/null | awk -v l="$lib.so" '$1 ~ "^"l {print $NF}'); do
            [ -e "$f" ] && { echo "$d|$f"; return; }
        done
    done
    for py in python3 /usr/bin/python3; do
        d=$("$py" -c "import nvidia.$name as m, os; print(list(m.__path__)[0])" 2>/dev/null) || continue
        f=$(ls "$d"/lib/$lib.so* 2>/dev/null | head -1)
        [ -f "$d/include/$hdr" ] && [ -n "$f" ] && { echo "$d/include|$f"; return; }
    done
}
cudnn=$(find_dep cudnn cudnn.h libcudnn)
nccl=$(find_dep nccl nccl.h libnccl)
cmake_deps=()
if [ -n "$cudnn" ]; then
    say "    cuDNN: ${cudnn#*|} (headers ${cudnn%|*})"
    export CUDNN_INC=${cudnn%|*} CUDNN_LIB=${cudnn#*|}
    cmake_deps+=(-DCUDNN_INC="$CUDNN_INC" -DCUDNN_LIB="$CUDNN_LIB")
    export LD_LIBRARY_PATH=$(dirname "$CUDNN_LIB")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
else
    say "    MISSING: cuDNN (looked in $cuda_home, ldconfig, /usr/include + /usr/lib/<arch>, pip nvidia-cudnn): convolutions will use im2col + cuBLAS only"
fi
if [ -n "$nccl" ]; then
    say "    NCCL: ${nccl#*|} (headers ${nccl%|*})"
    export NCCL_INC=${nccl%|*} NCCL_LIB=${nccl#*|}
    cmake_deps+=(-DNCCL_INC="$NCCL_INC" -DNCCL_LIB="$NCCL_LIB")
    export LD_LIBRARY_PATH=$(dirname "$NCCL_LIB")${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
else
    say "    MISSING: NCCL (same places): the device all-reduce goes through the host; test_nccl cannot test NCCL"
fi
command -v compute-sanitizer >/dev/null || [ -x "$cuda_home/bin/compute-sanitizer" ] || say "    no compute-sanitizer: the diagnostics will not run memcheck"
sanitizer=$(command -v compute-sanitizer || echo "$cuda_home/bin/compute-sanitizer")
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

# ---- Build -------------------------------------------------------------------
section "Build"
t0=$(date +%s)
exp_target=$([ "$quick" = 1 ] && echo "" || echo syre)
if [ $mode = full ]; then
    archflag=()
    [ -n "$cap_sm" ] && archflag=(-DCMAKE_CUDA_ARCHITECTURES="$cap_sm")
    targets=(syre_cuda test_cuda bench_cuda_step test_nccl test_device_sim test_gemm_map $exp_target)
    timeout "$(cap 600)" cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release "${archflag[@]}" "${cmake_deps[@]}" >"$logdir/configure.log" 2>&1
    rc=$?
    if [ $rc = 0 ]; then
        timeout "$(cap 600)" cmake --build "$build" -j"$jobs" --target "${targets[@]}" >"$logdir/build.log" 2>&1
        rc=$?
    fi
    if [ $rc = 124 ]; then
        say "    the build ran out of the budget after $(( $(date +%s) - t0 )) s (log: $logdir/build.log); stopping"
        section "Verdict"
        say "    NOTHING TESTED: the build did not finish within BUDGET=$budget s"
        exit 1
    fi
    if [ $rc = 0 ]; then
        say "    built ${targets[*]} for ${cap_sm:+sm_$cap_sm}${cap_sm:-the configured archs} in $(( $(date +%s) - t0 )) s; $(grep -o 'CUDA backend O[NF]*[^)]*)' "$logdir/configure.log" | head -1); $(grep -o 'cuDNN [a-z ]*found[^:]*' "$logdir/configure.log" | head -1); $(grep -o 'NCCL [a-z ]*found[^:]*' "$logdir/configure.log" | head -1)"
    else
        say "    CMake build failed or ran out of time (last lines below); trying the minimal build"
        tail -15 "$logdir/build.log" "$logdir/configure.log" 2>/dev/null | sed 's/^/    /' | tee -a "$report"
        mode=min
    fi
else
    say "    not here:$missing -> minimal build (scripts/gpu-min-build.sh: test_cuda, test_nccl and the benchmark)"
fi
if [ $mode = min ]; then
    build=build-gpu-min
    t0=$(date +%s)
    timeout "$(cap 600)" bash scripts/gpu-min-build.sh "${cap_sm:-80 90}" >"$logdir/build-min.log" 2>&1
    rc=$?
    if [ $rc = 0 ]; then
        say "    $(tail -1 "$logdir/build-min.log") in $(( $(date +%s) - t0 )) s"
    elif [ $rc = 124 ]; then
        say "    the minimal build ran out of the budget after $(( $(date +%s) - t0 )) s; stopping"
        exit 1
    else
        say "    MINIMAL BUILD FAILED (last lines):"
        tail -25 "$logdir/build-min.log" | sed 's/^/    /' | tee -a "$report"
        exit 1
    fi
fi
export SYRE_TEST_DEVICE=$dev

# test_cuda with a selection: run_tc LOG TIMEOUT [VAR=VALUE ...]; sets rc.
run_tc() {
    local log=$1 t=$2
    shift 2
    env "$@" timeout "$t" "$build/test_cuda" >"$log" 2>&1
    rc=$?
    grep -E '^\[  FAILED  \] test_' "$log" | awk '{print $4}' | while read -r f; do echo "$f"; done >>"$logdir/failed-tests"
    grep -E '^(smoke )?op [a-z0-9_]+ +FAIL' "$log" | awk '{print $(NF-5)}' >>"$logdir/failed-cases" 2>/dev/null
    [ $rc = 124 ] && say "    (timed out after $t s)"
    return 0
}
: >"$logdir/failed-tests"
: >"$logdir/failed-cases"
verdict() { case $1 in 0) echo PASSED;; 77) echo "SKIPPED";; 124) echo "TIMED OUT";; *) echo "FAILED (exit $1)";; esac; }

# ---- Smoke: one minute -----------------------------------------------------------
section "Smoke (one op per family, one recorded MLP step against the CPU)"
if have 20 "the smoke test"; then
    t0=$(date +%s)
    run_tc "$logdir/smoke.log" "$(cap 60)" SYRE_TEST_ONLY=test_smoke
    say "    test_smoke on $dev: $(verdict $rc) ($(( $(date +%s) - t0 )) s)"
    [ $rc = 0 ] || status=1
    grep -E "^device:|SKIPPED" "$logdir/smoke.log" | sed 's/^/    /' | tee -a "$report"
    fence
    grep -E "^smoke|ERROR|LINE|CUDA error|failed" "$logdir/smoke.log" | head -40 | tee -a "$report"
    fence
fi

# ---- Equivalence ---------------------------------------------------------------------
section "Equivalence tests"
diag_keep=0 # seconds kept for the diagnostics once something failed
for conv in cudnn im2col; do
    [ $status = 0 ] || diag_keep=90
    log="$logdir/test_cuda-$conv.log"
    if [ $conv = cudnn ]; then
        have 30 "test_cuda" || continue
        t0=$(date +%s)
        run_tc "$log" "$(cap 240 $((15 + diag_keep)))"
    else
        # im2col + cuBLAS: the tests that convolve.
        have 30 "test_cuda with SYRE_CUDNN=0" || continue
        t0=$(date +%s)
        run_tc "$log" "$(cap 120 $((15 + diag_keep)))" SYRE_CUDNN=0 \
            SYRE_TEST_ONLY=test_ops_match_cpu_reference,test_train_cnn,test_train_resnet,test_deterministic
    fi
    say "    test_cuda ($conv) on $dev: $(verdict $rc) ($(( $(date +%s) - t0 )) s)"
    [ $rc = 0 ] || status=1
    fence
    if [ $conv = cudnn ]; then
        grep -E "^op |FAIL|differs|step [0-9]: loss|ERROR|Failure|LINE|PASSED|FAILED|^nan guard|^precision|^cuda graphs|^prefetch [a-z]+ [a-z]+:|^prefetch [a-z]+: on|^clipping|^dropout|^two |^recorded step stops|^capture fails|^deterministic|^plan cache|^failed staged|^host reads" "$log" | head -220 | tee -a "$report"
    else
        grep -E "^op conv|FAIL|differs|ERROR|Failure|LINE|FAILED|PASSED|^deterministic" "$log" | head -60 | tee -a "$report"
    fi
    fence
done
if [ $dry = 0 ] && have 20 "test_nccl"; then
    # Data parallelism on the GPU: the NCCL path with one rank (SYRE_NCCL=1 in test_nccl).
    log="$logdir/test_nccl.log"
    timeout "$(cap 120 $((15 + diag_keep)))" "$build/test_nccl" >"$log" 2>&1
    rc=$?
    case $rc in
    0) say "    test_nccl (NCCL all-reduce, one rank): PASSED";;
    77) say "    test_nccl: $(grep SKIP "$log")";;
    *) say "    test_nccl (NCCL all-reduce, one rank): $(verdict $rc)"; status=1;;
    esac
    grep -E "^# |FAIL|ERROR|Failure|NCCL" "$log" | head -8 | sed 's/^/    /' | tee -a "$report"
fi
# With 2+ GPUs and mpirun (not under QUICK=1): 2 ranks on 2 GPUs against one process.
ngpu=$(nvidia-smi -L 2>/dev/null | grep -c '^GPU' || true)
if [ $mode = full ] && [ "${ngpu:-0}" -ge 2 ] && command -v mpirun >/dev/null && [ "$quick" != 1 ] && [ -x "$build/syre" ] &&
   have 120 "2 ranks on 2 GPUs (NCCL)"; then
    mpi=(mpirun --oversubscribe -np 2)
    [ "$(id -u)" = 0 ] && mpi=(mpirun --allow-run-as-root --oversubscribe -np 2)
    a=(--quick --train-size 1024 --test-size 200 --rank-n 200 --batch 64 --epochs 2 --device cuda --out "$logdir/dp")
    if timeout "$(cap 120 $((15 + diag_keep)))" "$build/syre" run collapse "${a[@]}" --name one >"$logdir/dp-one.log" 2>&1 &&
       timeout "$(cap 120 $((15 + diag_keep)))" "${mpi[@]}" "$build/syre" run collapse "${a[@]}" --name two >"$logdir/dp-two.log" 2>&1; then
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
        have 15 "$t" || continue
        timeout "$(cap 90 $((15 + diag_keep)))" "$build/$t" >"$logdir/$t.log" 2>&1
        rc=$?
        say "    $t: $(verdict $rc)"
        [ $rc = 0 ] || status=1
    done
fi
[ $status = 0 ] || diag_keep=90

# ---- Benchmarks --------------------------------------------------------------------------
section "Step benchmark (syre, $dev)"
# ms per training step (median of repeats). MLP and CNN at batch 64 with CUDA
# Graphs off and on (the recorded step: sy_train_step), ResNet-18 at batch
# 512 in fp32, tf32 and bf16 (bf16 convolutions go through im2col + the bf16
# GEMM, not cuDNN), and fp32 with im2col; ResNet-18 b512 bf16 fed through
# sy_prefetch (crop + flip on a helper thread), prefetch off and on. Every
# run is cut to the budget; under QUICK=1 fewer and shorter runs. On sim
# (dry run) ResNet-18 is width 8 at batch 8: the numbers mean nothing there.
b="$build/bench_cuda_step"
r18=(--batch 512)
[ $dry = 1 ] && r18=(--batch 8 --width 8)
if [ "$quick" = 1 ]; then small=(--steps 100 --repeats 3); big=(--steps 5 --warmup 2 --repeats 2); else small=(--steps 200 --repeats 5); big=(--steps 10 --warmup 3 --repeats 3); fi
bench() { # bench MAX_SECONDS ARGS... (the RESULT lines go to the report)
    local t
    t=$(cap "$1" $((15 + diag_keep)))
    shift
    if [ "$t" -lt 5 ]; then say "    skipped, out of budget: bench_cuda_step $*"; return; fi
    timeout "$t" "$b" --device "$dev" "$@" >"$logdir/bench-one.log" 2>&1
    [ $? = 124 ] && say "    (timed out after $t s: bench_cuda_step $*)"
    cat "$logdir/bench-one.log" >>"$logdir/bench.log"
    grep -E "RESULT|CUDA Graphs off|bench_cuda_step:" "$logdir/bench-one.log" | tee -a "$report"
}
: >"$logdir/bench.log"
fence
if [ $dry = 0 ]; then # the GEMM rate: only a GPU's means anything (sim's sgemm takes a minute)
    bench 60 --model sgemm
    bench 40 --model sgemm --precision bf16
fi
for m in mlp cnn; do for gr in 0 1; do bench 60 --model $m "${small[@]}" --graphs $gr; done; done
for p in fp32 bf16 $([ "$quick" = 1 ] || echo tf32); do bench 90 --model resnet18 "${r18[@]}" "${big[@]}" --precision $p; done
[ "$quick" = 1 ] || SYRE_CUDNN=0 bench 90 --model resnet18 "${r18[@]}" "${big[@]}"
for gr in $([ "$quick" = 1 ] && echo 1 || echo 0 1); do
    for pf in 0 1; do bench 90 --model resnet18aug "${r18[@]}" "${big[@]}" --precision bf16 --graphs $gr --prefetch $pf; done
done
fence
# The CUDA Graphs speedup, the reduced-precision loss differences and the
# prefetch ratio, from the lines above.
grep '^RESULT' "$logdir/bench.log" | awk '/model=(mlp|cnn)/ {
        m = ""; g = ""; t = ""
        for (i = 1; i <= NF; i++) {
            split($i, kv, "=")
            if (kv[1] == "model") m = kv[2]; else if (kv[1] == "graphs") g = kv[2]; else if (kv[1] == "ms_per_step") t = kv[2]
        }
        ms[m "," g] = t
    }
    /model=resnet18 / && !/conv=im2col/ {
        for (i = 1; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
        rl[v["precision"]] = v["loss"]; rt[v["precision"]] = v["ms_per_step"]
    }
    /model=resnet18aug/ {
        for (i = 1; i <= NF; i++) { split($i, kv, "="); a[kv[1]] = kv[2] }
        pt[a["graphs"] "," a["prefetch"]] = a["ms_per_step"]; pl[a["graphs"] "," a["prefetch"]] = a["loss"]
        pfill[a["graphs"] "," a["prefetch"]] = a["fill_ms"]
    }
    END {
        for (gg = 0; gg < 2; gg++) if (pt[gg ",0"] > 0 && pt[gg ",1"] > 0)
            printf "    Prefetch, ResNet-18 bf16 with crop+flip, graphs %d: %.3f ms/step off, %.3f on (%.2fx; host fill %.3f ms/step); loss off %s, on %s (%s)\n", gg, pt[gg ",0"], pt[gg ",1"], pt[gg ",0"] / pt[gg ",1"], pfill[gg ",0"], pl[gg ",0"], pl[gg ",1"], pl[gg ",0"] == pl[gg ",1"] ? "same batches" : "DIFFERENT: check"
        for (m in ms) if (m ~ /,0$/) {
            n = substr(m, 1, length(m) - 2)
            if (ms[n ",1"] > 0) printf "    CUDA Graphs, %s b64: %.4f ms eager, %.4f ms recorded: %.2fx\n", n, ms[n ",0"], ms[n ",1"], ms[n ",0"] / ms[n ",1"]
        }
        for (p in rl) if (p != "fp32" && rl["fp32"] != "")
            printf "    ResNet-18 %s: %s ms/step, loss after the timed steps %s (fp32: %s, difference %.2e)\n", p, rt[p], rl[p], rl["fp32"], rl[p] - rl["fp32"]
    }' | tee -a "$report"

section "PyTorch peer (same machine)"
py=""
if [ $dry = 0 ]; then
    for p in python3 /usr/bin/python3; do
        if "$p" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' 2>/dev/null; then py=$p; break; fi
    done
fi
if [ -z "$py" ]; then
    say "    no PyTorch with CUDA here$([ $dry = 1 ] && echo ' (dry run)'): no peer numbers"
elif have 40 "the PyTorch peer"; then
    fence
    if [ "$quick" = 1 ]; then
        timeout "$(cap 120 $((15 + diag_keep)))" "$py" bench/torch_cuda.py --steps 50 --warmup 10 --repeats 3 2>&1 | tee -a "$report"
    else
        timeout "$(cap 300 $((15 + diag_keep)))" "$py" bench/torch_cuda.py --steps 100 --repeats 3 2>&1 | tee -a "$report"
    fi
    fence
fi

if [ "$quick" != 1 ] && [ $mode = full ]; then
    section "An experiment on --device $dev and on --device cpu"
    for d in $dev cpu; do
        have 40 "lowcap --quick --device $d" || continue
        t0=$(date +%s)
        if timeout "$(cap 240 $((15 + diag_keep)))" "$build/syre" run lowcap --quick --device $d --out "$logdir/runs" --name $d >"$logdir/lowcap-$d.log" 2>&1; then
            say "    lowcap --quick --device $d: ok in $(( $(date +%s) - t0 )) s"
        else
            say "    lowcap --quick --device $d: FAILED ($(tail -1 "$logdir/lowcap-$d.log"))"
            status=1
        fi
    done
    if [ -s "$logdir/runs/lowcap/$dev/metrics.csv" ] && [ -s "$logdir/runs/lowcap/cpu/metrics.csv" ]; then
        say "    last metrics rows ($dev, then cpu):"
        fence
        tail -2 "$logdir/runs/lowcap/$dev/metrics.csv" | tee -a "$report"
        tail -2 "$logdir/runs/lowcap/cpu/metrics.csv" | tee -a "$report"
        fence
    fi
fi

# ---- Diagnostics (only after a failure) ---------------------------------------------------
tests=$(sort -u "$logdir/failed-tests" | grep -v '^$' | paste -sd, -)
cases=$(sort -u "$logdir/failed-cases" | grep -v '^$' | paste -sd, -)
if [ -n "$tests$cases" ]; then
    section "Diagnostics (failing tests: ${tests:-none}; failing op cases: ${cases:-none})"
    if [ -n "$tests" ] && have 20 "the SYRE_CUDA_SYNC=1 rerun"; then
        # Wait after every kernel and name the failing node.
        run_tc "$logdir/diag-sync.log" "$(cap 120 10)" SYRE_CUDA_SYNC=1 SYRE_TEST_ONLY="$tests"
        say "    rerun of $tests with SYRE_CUDA_SYNC=1: $(verdict $rc); first errors:"
        fence
        grep -E "CUDA error|failed|of node|differs|FAIL" "$logdir/diag-sync.log" | head -15 | tee -a "$report"
        fence
    fi
    if [ -n "$cases" ] && [ $dry = 0 ] && [ -x "$sanitizer" ] && have 30 "compute-sanitizer on $cases"; then
        SYRE_TEST_ONLY=test_ops_match_cpu_reference SYRE_TEST_CASES="$cases" timeout "$(cap 180 10)" \
            "$sanitizer" --print-limit 5 "$build/test_cuda" >"$logdir/diag-memcheck.log" 2>&1
        say "    compute-sanitizer memcheck on the op cases $cases (exit $?), first lines:"
        fence
        grep -E "Invalid|ERROR SUMMARY|at 0x|by thread" "$logdir/diag-memcheck.log" | head -12 | tee -a "$report"
        fence
    fi
fi

section "Verdict"
say "    $([ $status -eq 0 ] && echo 'every device test that ran passed' || echo 'SOME CHECKS FAILED: see above and '"$logdir")$([ $dry = 1 ] && echo ' (DRY RUN on sim: nothing ran on a GPU)')"
say "    total $(( $(date +%s) - t_start )) s of the $budget s budget; logs in $logdir"
exit $status
