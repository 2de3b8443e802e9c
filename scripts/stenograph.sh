#!/usr/bin/env bash
# The main job from a fresh clone: set up, build in release mode, run the stenograph CLI.
# Usage: scripts/stenograph.sh decode call.mp3 -o call-16k.wav
#        scripts/stenograph.sh model fetch tiny.en
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --quiet --bin stenograph -p stenograph-cli
exec target/release/stenograph "$@"
