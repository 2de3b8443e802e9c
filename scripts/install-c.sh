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
# whisper.cpp built with oneDNN's int8 GEMM (when libdnnl-dev is installed) needs it linked too.
dnnl_libs=""
if nm -u target/release/libstenograph.a 2>/dev/null | grep dnnl_gemm_u8s8s32 >/dev/null; then
  dnnl_libs=" -ldnnl -lgomp"
fi
sed -e "s|@PREFIX@|$prefix|" -e "s|@VERSION@|$version|" -e "s|@DNNL_LIBS@|$dnnl_libs|" bindings-c/stenograph.pc.in \
  >"$prefix/lib/pkgconfig/stenograph.pc"
echo "installed stenograph $version under $prefix"
