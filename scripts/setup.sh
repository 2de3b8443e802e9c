#!/usr/bin/env bash
# Installs what building and testing Stenograph needs on Debian/Ubuntu: a C toolchain, cmake and
# libclang (bundled libopus, whisper.cpp), OpenBLAS (the encoder's matrix products) and oneDNN (int8
# products for q8_0 models), and the audio tools the tests use to make fixtures
# (ffmpeg, sox, espeak-ng), and Python for the faster-whisper parity check. Idempotent: does nothing when everything is present.
set -euo pipefail

packages=(build-essential cmake pkg-config libclang-dev clang libopenblas-dev libdnnl-dev ffmpeg sox libsox-fmt-all espeak-ng valgrind qemu-user postgresql curl
  python3 python3-venv python3-pip ca-certificates)

# Node.js for the Node package (Debian's nodejs when no node is installed).
command -v node >/dev/null 2>&1 || packages+=(nodejs npm)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "setup: installing ${missing[*]}" >&2
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] || {
    echo "setup: installing the Rust toolchain with rustup" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal -c clippy,rustfmt
  }
fi
