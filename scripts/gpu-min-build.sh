#!/usr/bin/env bash
# Build the device tests and the step benchmark with nothing but the CUDA
# toolkit and a C compiler (no CMake, cmocka, cairo, OpenBLAS, cJSON, ...):
# the fallback scripts/gpu-check.sh uses on a bare GPU machine. Builds only
# the library parts a graph needs (core, graph, ops, optimizer, layers, the
# device backends, the data-parallel layer without MPI, NCCL when present)
# into build-gpu-min/: test_cuda, test_nccl and bench_cuda_step, and the CUDA
# backend module libsyre_cuda.so beside them (loaded on first use of the cuda
# device, as in the CMake build). The CPU side runs the reference kernels.
# Usage: scripts/gpu-min-build.sh [ARCH]   (ARCH like 90; default 80 and 90;
#        GPU_MIN_OUT=DIR builds into DIR instead of build-gpu-min)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${GPU_MIN_OUT:-build-gpu-min}
mkdir -p "$out/obj"
cuda=${CUDA_HOME:-/usr/local/cuda}
nvcc=$(command -v nvcc || echo "$cuda/bin/nvcc")
archs=${1:-"80 90"}
gencode=""
for a in $archs; do gencode="$gencode -gencode arch=compute_$a,code=sm_$a"; done
cc=${CC:-gcc}
inc="-Iinclude -Isrc -Itests/gpu_min -I$cuda/include"
defs="-DSYRE_HAVE_CUDA=1 -DSYRE_VERSION=\"gpu-min\" -DSYRE_GIT_REV=\"$(git rev-parse --short HEAD 2>/dev/null || echo unknown)\""
libdir=$cuda/lib64
[ -d "$libdir" ] || libdir=$cuda/lib
# cuDNN and NCCL: where gpu-check.sh found them (CUDNN_INC, CUDNN_LIB,
# NCCL_INC, NCCL_LIB: a header directory and a library file), else under
# the toolkit.
cudnn_flags=""
cudnn_inc=${CUDNN_INC:-}
cudnn_lib=${CUDNN_LIB:-}
if [ -z "$cudnn_lib" ] && [ -f "$cuda/include/cudnn.h" ] && ls "$libdir"/libcudnn.so* >/dev/null 2>&1; then
    cudnn_inc=$cuda/include
    cudnn_lib=$(ls "$libdir"/libcudnn.so* | head -1)
fi
if [ -n "$cudnn_lib" ] && [ -f "$cudnn_inc/cudnn.h" ]; then
    defs="$defs -DSYRE_HAVE_CUDNN=1"
    inc="$inc -I$cudnn_inc"
    cudnn_flags="$cudnn_lib -Wl,-rpath,$(dirname "$cudnn_lib")"
fi
nccl_flags=""
nccl_src=""
outabs=$(cd "$out" && pwd)
nccl_inc=${NCCL_INC:-}
nccl_lib=${NCCL_LIB:-}
if [ -z "$nccl_lib" ] && [ -f "$cuda/include/nccl.h" ] && ls "$libdir"/libnccl.so* >/dev/null 2>&1; then
    nccl_inc=$cuda/include
    nccl_lib=$(ls "$libdir"/libnccl.so* | head -1)
fi
if [ -n "$nccl_lib" ] && [ -f "$nccl_inc/nccl.h" ]; then
    defs="$defs -DSYRE_HAVE_NCCL=1"
    inc="$inc -I$nccl_inc"
    nccl_flags="$nccl_lib -Wl,-rpath,$(dirname "$nccl_lib")"
    nccl_src="src/backend/cuda/nccl.c"
fi
srcs="src/core/error.c src/core/params.c src/core/rng.c src/core/tensor.c src/graph/graph.c src/graph/graph_device.c src/graph/prefetch.c
      src/ops/conv.c src/ops/elementwise.c src/ops/loss.c src/ops/matmul.c src/ops/norm.c src/ops/reduce.c
      src/ops/shape.c src/ops/clip.c src/ops/gather.c src/core/numeric.c src/optim/nan_guard.c src/optim/decay.c src/optim/optim.c src/optim/step.c src/optim/step_device.c src/train/step.c src/backend/cpu/optim_update.c
      src/backend/device.c src/backend/exec.c src/backend/cpu/isa.c src/backend/cpu/backend_cpu.c src/nn/layers.c src/nn/resnet.c
      src/dist/dist.c src/data/batch.c src/data/augment.c tests/gpu_min/stubs.c"
mod_srcs="src/backend/cuda/cuda_backend.c src/backend/cuda/core_link.c $nccl_src"
objs=""
mod_objs=""
pids=()
for s in $srcs; do
    o="$out/obj/$(echo "$s" | tr / _).o"
    $cc -std=c11 -O2 -fopenmp -fno-math-errno -D_POSIX_C_SOURCE=200809L $inc $defs \
        -DSYRE_CUDA_MODULE_DIR=\"$outabs\" -c "$s" -o "$o" &
    pids+=($!)
    objs="$objs $o"
done
for s in $mod_srcs; do
    o="$out/obj/$(echo "$s" | tr / _).o"
    $cc -std=c11 -O2 -fPIC -fvisibility=hidden -fno-math-errno -D_POSIX_C_SOURCE=200809L $inc $defs -c "$s" -o "$o" &
    pids+=($!)
    mod_objs="$mod_objs $o"
done
"$nvcc" $gencode --fmad=false -O3 -std=c++17 -Xcompiler -fPIC,-fvisibility=hidden $inc -c src/backend/cuda/kernels.cu \
    -o "$out/obj/kernels.o" &
pids+=($!)
for p in "${pids[@]}"; do wait "$p"; done
mod_objs="$mod_objs $out/obj/kernels.o"
$cc -shared -Wl,--no-undefined $mod_objs -L$libdir -Wl,-rpath,$libdir -lcudart -lcublas $cudnn_flags $nccl_flags \
    -lstdc++ -lm -lpthread -o "$out/libsyre_cuda.so"
libs="-fopenmp -lm -lpthread -ldl"
for t in test_cuda test_nccl; do
    $cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L $inc $defs tests/$t.c $objs $libs -o "$out/$t"
done
$cc -std=c11 -O2 -D_POSIX_C_SOURCE=200809L $inc $defs bench/cuda_step.c $objs $libs -o "$out/bench_cuda_step"
echo "gpu-min build: $out/test_cuda $out/test_nccl $out/bench_cuda_step $out/libsyre_cuda.so (archs $archs${cudnn_flags:+, cuDNN}${nccl_flags:+, NCCL})"
