#!/usr/bin/env bash
# syre installed as a C library: `cmake --install` into a temporary prefix,
# then examples/mnist_two_layer.c built out of the tree against that copy
# three ways: with pkg-config (shared), with pkg-config's static line, and
# with find_package(syre) (syre::syre and syre::syre_static). The installed
# libsyre.so must hold no experiment and link no MPI, MuJoCo or cairo. The
# pkg-config build is run once (two epochs of MNIST, when the data is here).
# Skipped (77) in a sanitizer build, whose libraries need the sanitizer's
# runtime in every program.
name=test_install
. "$(dirname "$0")/consumer_common.sh"

p=$tmp/prefix
if ! cmake --install "$bin" --prefix "$p" >"$tmp/install.log" 2>&1; then
  cat "$tmp/install.log"; echo "FAIL: cmake --install"; exit 1
fi
lib=$(dirname "$(find "$p" -name 'libsyre.so' | head -1)")
[ -f "$lib/libsyre.so" ] || { echo "FAIL: no libsyre.so under $p"; exit 1; }
for f in include/syre/syre.h include/syre/version.h bin/syre "${lib#"$p"/}/libsyre.a" \
         "${lib#"$p"/}/pkgconfig/syre.pc" "${lib#"$p"/}/cmake/syre/syreConfig.cmake"; do
  [ -e "$p/$f" ] && ok "installed $f" || fail "not installed: $f"
done

# The library is the library: no experiment, no optional dependency.
exp_syms=$(nm -D --defined-only "$lib/libsyre.so" | grep -c ' sy_exp_\| sy_experiment_find' || true)
[ "$exp_syms" = 0 ] && ok "libsyre.so has no experiment symbols" || fail "libsyre.so defines $exp_syms experiment symbols"
needed=$(readelf -d "$lib/libsyre.so" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
case "$needed" in
  *mpi* | *mujoco* | *cairo*) fail "libsyre.so links an optional dependency: $needed" ;;
  *) ok "libsyre.so needs only: $needed" ;;
esac

example=$src/examples/mnist_two_layer.c
export PKG_CONFIG_PATH=$lib/pkgconfig
cc=${CC:-cc}
# pkg-config, shared library
if $cc -std=c11 -o "$tmp/ex_pc" "$example" $(pkg-config --cflags --libs syre) -Wl,-rpath,"$lib" 2>"$tmp/cc.log"; then
  ok "pkg-config build (shared)"
else
  cat "$tmp/cc.log"; fail "pkg-config build (shared)"
fi
# pkg-config, static: libsyre.a and what it needs
static_libs=$(pkg-config --static --libs syre | sed 's/-lsyre\b//')
if $cc -std=c11 -o "$tmp/ex_static" "$example" $(pkg-config --cflags syre) "$lib/libsyre.a" $static_libs \
    2>"$tmp/cc.log"; then
  if ldd "$tmp/ex_static" | grep -q 'libsyre\.so'; then fail "the static build loads libsyre.so"; else ok "pkg-config build (static)"; fi
else
  cat "$tmp/cc.log"; fail "pkg-config build (static)"
fi
# find_package: the shared and the static imported targets, and the components built
mkdir -p "$tmp/consumer"
cat >"$tmp/consumer/CMakeLists.txt" <<EOF
cmake_minimum_required(VERSION 3.18)
project(consumer C)
find_package(syre $(pkg-config --modversion syre) REQUIRED)
add_executable(ex_shared "$example")
target_link_libraries(ex_shared PRIVATE syre::syre)
add_executable(ex_static "$example")
target_link_libraries(ex_static PRIVATE syre::syre_static)
foreach(c plot rl mpi)
  if(EXISTS "$lib/pkgconfig/syre-\${c}.pc")
    find_package(syre REQUIRED COMPONENTS \${c})
    if(NOT TARGET syre::\${c} OR NOT TARGET syre::\${c}_static)
      message(FATAL_ERROR "no syre::\${c}")
    endif()
  endif()
endforeach()
EOF
if cmake -S "$tmp/consumer" -B "$tmp/consumer/build" -DCMAKE_PREFIX_PATH="$p" >"$tmp/cm.log" 2>&1 &&
   cmake --build "$tmp/consumer/build" -j2 >>"$tmp/cm.log" 2>&1; then
  ok "find_package build (syre::syre, syre::syre_static, components)"
  ldd "$tmp/consumer/build/ex_shared" | grep -q "$lib/libsyre.so" && ok "syre::syre links the installed libsyre.so" ||
    fail "ex_shared does not load $lib/libsyre.so: $(ldd "$tmp/consumer/build/ex_shared" | grep syre)"
else
  cat "$tmp/cm.log"; fail "find_package build"
fi

# Run the pkg-config build once: it trains, against the installed library.
data=${SYRE_DATA:-$(sed -n 's/^SYRE_DATA_DIR:PATH=//p' "$bin/CMakeCache.txt" 2>/dev/null)}
if [ -x "$tmp/ex_pc" ] && [ -e "${data:-$src/data}/mnist" ]; then
  out=$(SYRE_DATA=${data:-$src/data} timeout 300 "$tmp/ex_pc" 2>&1)
  acc=$(echo "$out" | sed -n 's/^test accuracy: \([0-9]*\)\..*/\1/p')
  if [ -n "$acc" ] && [ "$acc" -ge 90 ]; then ok "installed example trains: $(echo "$out" | tail -1)"; else fail "example run: $out"; fi
else
  echo "note: no MNIST here: the example is built, not run"
fi

[ $fails -eq 0 ] || { echo "$fails failure(s)"; exit 1; }
echo "all install checks passed"
