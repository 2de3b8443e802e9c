#!/usr/bin/env bash
# Builds what the soak and stress scripts need that is missing: the Python package (with numpy)
# in target/py-venv and the Node.js addon. Run from the repository root.
set -euo pipefail
if ! target/py-venv/bin/python -c "import stenograph, numpy" 2>/dev/null; then
  python3 -m venv target/py-venv
  target/py-venv/bin/pip install -q --disable-pip-version-check numpy ./bindings-python
fi
if ! ls bindings-node/*.node >/dev/null 2>&1; then
  (cd bindings-node && npm ci --no-audit --no-fund --loglevel=error \
    && npx napi build --platform --release --js index.js --dts index.d.ts)
fi
