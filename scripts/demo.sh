#!/usr/bin/env bash
# The headline demo: set everything up on a fresh machine, build, and run
# vanilla against syre on the paper's clearest cases, printing each results
# table and writing the plots under runs/.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
cmake -S . -B build -DCMAKE_BUILD_TYPE=Release >/dev/null
cmake --build build -j"$(nproc)" >/dev/null
echo
echo "== reparam (paper Fig. 3 right): (u*w)^T x regression, vanilla vs W-fix vs syre"
./build/syre run reparam --quick --out runs "$@"
echo
echo "== collapse (paper Figs. 4-5): 4-layer ReLU net on MNIST, vanilla vs syre"
./build/syre run collapse --quick --out runs "$@"
echo
echo "Plots and records: runs/reparam/ and runs/collapse/ (PNG and SVG, metrics.csv, summary.json)"
