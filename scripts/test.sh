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
status=0
cargo test --workspace --release 2>&1 | tee "$log" || status=1

echo "== Python package (pip install ./bindings-python) and the FastAPI example"
if [ ! -x target/py-venv/bin/python ]; then
  python3 -m venv target/py-venv
fi
target/py-venv/bin/pip install -q --disable-pip-version-check \
  pytest numpy mypy typing_extensions httpx openai -r examples/python-fastapi/requirements.txt
target/py-venv/bin/pip install -q --disable-pip-version-check --force-reinstall --no-deps ./bindings-python
target/py-venv/bin/python -m pytest -q -p no:cacheprovider bindings-python/tests examples/python-fastapi/tests 2>&1 \
  | tee -a "$log" || status=1

# One closing line for the whole suite: cargo's "test result:" lines and pytest's summary.
awk '
  /^test result:/ { p += $4; f += $6 }
  /^=* *[0-9]+ (passed|failed)/ || /^[0-9]+ (passed|failed)/ {
    for (i = 1; i <= NF; i++) {
      if ($(i) ~ /^passed/) p += $(i - 1)
      if ($(i) ~ /^failed/) f += $(i - 1)
    }
  }
  END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
exit $status
