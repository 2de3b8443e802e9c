#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up, formatting, lints, tests, benchmark build.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

# faster-whisper, the reference the model import is checked against.
if [ ! -x target/parity-venv/bin/python ] || ! target/parity-venv/bin/python -c "import faster_whisper" 2>/dev/null; then
  echo "== faster-whisper for the parity test"
  python3 -m venv target/parity-venv
  target/parity-venv/bin/pip install -q --disable-pip-version-check "faster-whisper==1.2.1"
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check
echo "== cargo clippy -D warnings"
cargo clippy --workspace --all-targets --release --quiet -- -D warnings
echo "== benchmarks build"
cargo bench --workspace --no-run --quiet
echo "== cargo test"
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --release 2>&1 | tee "$log"
# One closing line for the whole suite.
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
