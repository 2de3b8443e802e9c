#!/usr/bin/env bash
# The Python environment with faster-whisper and librosa that the model import and the voice
# encoder are checked against (target/parity-venv): made on first use, reused after. Run by
# scripts/test.sh and by the parity tests themselves, so that `cargo test` works alone.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x target/parity-venv/bin/python ] || ! target/parity-venv/bin/python -c "import faster_whisper, librosa" 2>/dev/null; then
  echo "parity: installing faster-whisper and librosa into target/parity-venv" >&2
  python3 -m venv target/parity-venv
  target/parity-venv/bin/pip install -q --disable-pip-version-check "faster-whisper==1.2.1" "librosa==0.11.0" >&2
fi
