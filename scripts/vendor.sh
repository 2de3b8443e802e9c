#!/usr/bin/env bash
# The whisper.cpp build Stenograph links: crates.io's whisper-rs-sys 0.15.0 (whisper.cpp 1.8.3)
# in vendor/whisper-rs-sys with the patch series in vendor/patches/whisper-rs-sys applied, used
# through [patch.crates-io] in Cargo.toml.
#
#   scripts/vendor.sh check     the vendored tree is the published crate plus the patches,
#                               checked offline by taking the patches out again
#   scripts/vendor.sh verify    the same against the published crate itself (downloads it)
#   scripts/vendor.sh refresh   rebuilds vendor/whisper-rs-sys from the published crate and
#                               the patches (after adding or editing a patch)
set -euo pipefail
cd "$(dirname "$0")/.."

crate=whisper-rs-sys
version=0.15.0
sha256=6986c0fe081241d391f09b9a071fbcbb59720c3563628c3c829057cf69f2a56f
vendored=vendor/$crate
patches=(vendor/patches/$crate/*.patch)

# The published crate, unpacked into $1.
published() {
  local dest=$1 archive
  archive=$(mktemp)
  curl -fsSL --retry 3 -o "$archive" "https://static.crates.io/crates/$crate/$crate-$version.crate"
  echo "$sha256  $archive" | sha256sum -c --quiet -
  tar -xzf "$archive" -C "$dest"
  rm -f "$archive"
  rm -f "$dest/$crate-$version/.cargo-ok"
}

case "${1:-check}" in
  check)
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    cp -r "$vendored" "$work/tree"
    for ((i = ${#patches[@]} - 1; i >= 0; i--)); do
      patch -R -p1 -s -d "$work/tree" <"${patches[$i]}" || {
        echo "vendor: ${patches[$i]} is not applied as written in $vendored" >&2
        exit 1
      }
    done
    echo "vendor: $vendored = $crate $version + ${#patches[@]} patch(es)"
    ;;
  verify | refresh)
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
    published "$work"
    for p in "${patches[@]}"; do patch -p1 -s -d "$work/$crate-$version" <"$p"; done
    if [ "$1" = verify ]; then
      diff -r "$work/$crate-$version" "$vendored"
      echo "vendor: $vendored matches the published $crate $version + patches"
    else
      rm -rf "$vendored"
      mv "$work/$crate-$version" "$vendored"
      echo "vendor: $vendored rebuilt"
    fi
    ;;
  *)
    echo "usage: scripts/vendor.sh [check|verify|refresh]" >&2
    exit 2
    ;;
esac
