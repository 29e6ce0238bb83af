# Sourced by the MPI command-line tests (tests/test_dist_cli.sh,
# tests/test_dist_device_cli.sh) with their name in $name: sets $bin (syre),
# mpi (the command line of `mpirun -np 2`), $out (a temporary directory,
# removed at exit) and fail(); skips (77) in a build without MPI or without
# the MNIST data.
src=${SYRE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
bin=${SYRE_BINARY_DIR:-$src/build}/syre
mpiexec=${SYRE_MPIEXEC:-}
if [ -z "$mpiexec" ] || ! command -v "$mpiexec" >/dev/null; then
  echo "SKIP $name: syre was built without MPI (Debian: libopenmpi-dev openmpi-bin, then rebuild)"
  exit 77
fi
# The data directory syre will read: $SYRE_DATA, else the build's configured
# SYRE_DATA_DIR (not necessarily $src/data).
data=${SYRE_DATA:-$(sed -n 's/^SYRE_DATA_DIR:PATH=//p' "${SYRE_BINARY_DIR:-$src/build}/CMakeCache.txt" 2>/dev/null)}
data=${data:-$src/data}
if [ ! -e "$data/mnist" ]; then
  echo "SKIP $name: no MNIST under $data (scripts/get-data.sh)"
  exit 77
fi
# Under LeakSanitizer: full malloc stacks, so tests/lsan.supp can name Open MPI.
if [ -n "${LSAN_OPTIONS:-}" ]; then export LSAN_OPTIONS="$LSAN_OPTIONS:fast_unwind_on_malloc=0"; fi
mpi=("$mpiexec" --oversubscribe -np 2)
[ "$(id -u)" = 0 ] && mpi=("$mpiexec" --allow-run-as-root --oversubscribe -np 2)
out=$(mktemp -d "/tmp/syre-$name-XXXXXX")
trap 'rm -rf "$out"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

# Tolerance of "2 ranks end where one process ends" for a method's
# parameters. vanilla: float tolerance (the gradient sums run in another
# order). syre: rtol 1e-2, because its runs here pass close to ReLU kinks: a
# pre-activation within rounding of 0 can flip its derivative, and one flip
# in 32 steps moves the parameters by about 1e-3 of their scale. Measured:
# the one-process run on OpenBLAS's AVX2 kernel flips one that the 2-rank
# run and the AVX-512 kernel do not; every other pairing agrees to 3e-8.
# Whether a flip happens depends on which ulp a sum lands on, not on data
# parallelism; a data-parallel fault (a missing all-reduce, a wrong scale, an
# anchor that differs by rank) changes every update, not one sample's share
# of one update, and the resume checks below stay exact.
dist_tol() { if [ "$1" = vanilla ]; then echo "--rtol 1e-5 --atol 1e-7"; else echo "--rtol 1e-2 --atol 1e-3"; fi; }
