# Sourced by the tests that build programs against syre as a user would
# (tests/test_install.sh, tests/test_add_subdirectory.sh), with their name in
# $name: sets $src, $bin (the build under test) and $tmp (removed at exit),
# ok() and fail() (counted in $fails). Skips (77) in a sanitizer build, whose
# libraries need the sanitizer's runtime in every program that links them.
set -u
src=${SYRE_SOURCE_DIR:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
bin=${SYRE_BINARY_DIR:-$src/build}
if grep -q '^SYRE_SANITIZE:BOOL=ON' "$bin/CMakeCache.txt" 2>/dev/null; then
  echo "SKIP $name: a sanitizer build is not for other programs (the Release build runs this test)"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }
