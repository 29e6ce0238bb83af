#!/usr/bin/env bash
# syre inside another CMake project (add_subdirectory; FetchContent is the
# same), configured as the core library alone: no plot (cairo), no MPI, no
# MuJoCo, no CUDA, and by default no application, tests, benchmarks or
# examples (so no cmocka either). A tiny consumer links syre::syre and runs;
# the libsyre.so built for it must link only OpenBLAS, LAPACKE, cJSON, zlib,
# libpng, libjpeg, OpenMP and the C runtime. It builds the library afresh
# (Debug, to keep it short). Skipped (77) in a sanitizer build.
name=test_add_subdirectory
. "$(dirname "$0")/consumer_common.sh"

mkdir -p "$tmp/app"
cat >"$tmp/app/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.18)
project(app C)
set(SYRE_PLOT OFF)
set(SYRE_MPI OFF)
set(SYRE_WITH_MUJOCO OFF)
set(SYRE_CUDA OFF)
add_subdirectory("$src" syre)
add_executable(app main.c)
target_link_libraries(app PRIVATE syre::syre)
EOF
# A two-layer network's forward pass on a batch of zeros: the core, the
# graph and BLAS, through the public API only.
cat >"$tmp/app/main.c" <<'EOF'
#include <stdio.h>
#include <string.h>

#include "syre/syre.h"

int main(void)
{
    if (strcmp(sy_version(), SYRE_VERSION_STRING) != 0) {
        fprintf(stderr, "library %s, headers %s\n", sy_version(), SYRE_VERSION_STRING);
        return 1;
    }
    sy_params *ps = sy_params_new();
    sy_graph *g = sy_graph_new(ps);
    int sizes[3] = {4, 8, 3};
    sy_var x = sy_input(g, "x", sy_shape_of(2, 2, 4));
    sy_var z = sy_mlp(g, x, "mlp", sizes, 3, SY_ACT_RELU);
    if (sy_graph_compile(g) != SY_OK || sy_params_init(ps, 1) != SY_OK || sy_graph_forward(g) != SY_OK) {
        fprintf(stderr, "error: %s\n", sy_last_error());
        return 1;
    }
    const float *out = sy_graph_data(g, z);
    printf("syre %s: logits[0] = %g\n", sy_version(), out[0]);
    sy_graph_free(g);
    sy_params_free(ps);
    return 0;
}
EOF
if cmake -S "$tmp/app" -B "$tmp/build" -DCMAKE_BUILD_TYPE=Debug >"$tmp/cm.log" 2>&1 &&
   cmake --build "$tmp/build" -j"$(nproc)" >>"$tmp/cm.log" 2>&1; then
  ok "a project with add_subdirectory(syre) builds"
else
  tail -40 "$tmp/cm.log"; echo "FAIL: add_subdirectory build"; exit 1
fi
grep -v "^//" "$tmp/build/CMakeCache.txt" | grep -qi "cmocka" && fail "the core build looked for cmocka" || ok "no cmocka needed"
for t in syre test_io bench_engine example_mnist_two_layer; do
  [ -e "$tmp/build/syre/$t" ] && fail "built $t, which a library user did not ask for"
done
ok "no application, tests, benchmarks or examples built"

if out=$("$tmp/build/app" 2>&1); then ok "app runs: $out"; else fail "app: $out"; fi

so=$(find "$tmp/build" -name 'libsyre.so' | head -1)
needed=$(readelf -d "$so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p')
allowed='^(libopenblas|liblapacke|libcjson|libz|libpng16|libjpeg|libgomp|libm|libc|libdl|libpthread|libgcc_s|ld-linux[-a-z0-9_]*)\.so'
bad=$(echo "$needed" | grep -Ev "$allowed" | tr '\n' ' ')
[ -z "$bad" ] && ok "the core libsyre.so needs only: $(echo "$needed" | tr '\n' ' ')" ||
  fail "the core libsyre.so links more than its core dependencies: $bad"
for c in plot mpi; do
  [ -n "$(find "$tmp/build" -name "libsyre_$c.so")" ] && fail "built the $c component, switched off"
done

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all add_subdirectory checks passed"
