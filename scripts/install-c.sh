#!/usr/bin/env bash
# Builds the C library and installs it under PREFIX (default /usr/local):
#   PREFIX/lib/libstenograph.so, PREFIX/lib/libstenograph.a, PREFIX/include/stenograph.h,
#   PREFIX/lib/pkgconfig/stenograph.pc
# Usage: scripts/install-c.sh [PREFIX] [--no-build]   (--no-build: install what target/release has)
set -euo pipefail
cd "$(dirname "$0")/.."
prefix="${1:-/usr/local}"
if [ "${2:-}" != "--no-build" ]; then
  cargo build --release -p stenograph-c
fi
version="$(sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -1)"
mkdir -p "$prefix/lib/pkgconfig" "$prefix/include"
install -m 0755 target/release/libstenograph.so "$prefix/lib/libstenograph.so"
install -m 0644 target/release/libstenograph.a "$prefix/lib/libstenograph.a"
install -m 0644 include/stenograph.h "$prefix/include/stenograph.h"
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" bindings-c/stenograph.pc.in \
  >"$prefix/lib/pkgconfig/stenograph.pc"
echo "installed stenograph $version under $prefix"
