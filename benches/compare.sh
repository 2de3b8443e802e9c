#!/usr/bin/env bash
# Decode + resample throughput of Stenograph beside ffmpeg, same files, same run.
# Usage: benches/compare.sh [SECONDS_OF_AUDIO] [RUNS]
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --bin stenograph -p stenograph-cli
cargo run --release -q -p stenograph-benches --bin compare -- "$@"
