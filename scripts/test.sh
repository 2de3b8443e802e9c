#!/usr/bin/env bash
# The whole test suite from a fresh clone: set-up, formatting, lints, tests, benchmark build.
#   scripts/test.sh          # the default suite (what CI runs): short soak, stress and fuzz replay
#   scripts/test.sh --long   # the default suite, then the long checks: fuzz mutation runs,
#                            # a 1000-call soak, a 60 s stress per binding, valgrind
#   scripts/test.sh --long-only   # the long checks alone
set -euo pipefail
cd "$(dirname "$0")/.."
mode=default
case "${1:-}" in
  "") ;;
  --long) mode=long ;;
  --long-only) mode=long-only ;;
  *) echo "usage: $0 [--long|--long-only]" >&2; exit 2 ;;
esac
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
started=$(date +%s)
# A step's heading, with the time since the suite started.
step() { echo "== $* [$(( $(date +%s) - started )) s]"; }

# The long checks: each as its own step, counted like the rest.
long_checks() {
  local status=0
  step "Fuzzing: fixed mutation runs of every target (scripts/fuzz.sh short)"
  if scripts/fuzz.sh short 2>&1 | tail -n 40; then echo "# pass 1"; else echo "# fail 1"; status=1; fi
  step "Soak: 1000 calls per binding, RSS at the end within 5% of the RSS after 100 (scripts/soak.sh)"
  if scripts/soak.sh 1000; then echo "# pass 1"; else echo "# fail 1"; status=1; fi
  step "Concurrency stress: 8 threads per binding for 60 s each (scripts/stress.sh)"
  if scripts/stress.sh 60; then echo "# pass 1"; else echo "# fail 1"; status=1; fi
  step "The C example under valgrind's memcheck (scripts/valgrind.sh)"
  if scripts/valgrind.sh; then echo "# pass 1"; else echo "# fail 1"; status=1; fi
  return $status
}

if [ "$mode" = long-only ]; then
  log=$(mktemp)
  trap 'rm -f "$log"' EXIT
  status=0
  long_checks 2>&1 | tee "$log" || status=1
  grep -q '^# fail' "$log" && status=1
  echo "long checks: $(grep -c '^# pass' "$log") passed, $(grep -c '^# fail' "$log") failed, $(( $(date +%s) - started )) s"
  exit $status
fi

step "faster-whisper for the parity test"
scripts/parity_venv.sh

step "Vendored whisper.cpp is the published crate plus vendor/patches (scripts/vendor.sh check)"
scripts/vendor.sh check
step "cargo fmt --check"
cargo fmt --all -- --check
step "cargo clippy -D warnings"
cargo clippy --workspace --all-targets --release --quiet -- -D warnings
step "benchmarks build"
cargo bench --workspace --no-run --quiet
step "C library (the C example tests link it)"
cargo build --release --quiet -p stenograph-c
step "PostgreSQL and a local S3 server (moto) for the queue-worker tests"
log=$(mktemp)
trap 'rm -f "$log"; scripts/services.sh stop' EXIT
eval "$(scripts/services.sh start)"

step "cargo test"
status=0
cargo test --workspace --release --no-fail-fast 2>&1 | tee "$log" || status=1

step "Code blocks of every README (Rust: the core's doc tests above; the rest: scripts/readme_blocks.py)"
if python3 scripts/readme_blocks.py; then
  echo "# pass 1" >>"$log"
else
  echo "# fail 1" >>"$log"
  status=1
fi

step "Kubernetes manifests, KEDA objects and the Grafana dashboard (offline schemas)"
if ! target/deploy-venv/bin/python -c "import kubernetes_validate, jsonschema, yaml" 2>/dev/null; then
  python3 -m venv target/deploy-venv
  target/deploy-venv/bin/pip install -q --disable-pip-version-check "kubernetes-validate==1.37.*" "jsonschema>=4" "pyyaml>=6"
fi
if target/deploy-venv/bin/python examples/queue-worker/deploy/validate.py; then
  echo "# pass 1" >>"$log"
else
  echo "# fail 1" >>"$log"
  status=1
fi

step "Fuzzing: every seed and saved input through every target (scripts/fuzz.sh seeds)"
if scripts/fuzz.sh seeds 2>&1 | tail -n 40; then
  echo "# pass 1" >>"$log"
else
  echo "FAILED: the fuzz build or a fuzz target (above; a crashing input is saved as fuzz/crash-* or fuzz/leak-*)" | tee -a "$log"
  echo "# fail 1" >>"$log"
  status=1
fi
# The sanitizer build is not needed again in the default suite; its disk is.
[ "$mode" = long ] || rm -rf fuzz/target

step "Python package (pip install ./bindings-python) and the FastAPI example"
if [ ! -x target/py-venv/bin/python ]; then
  python3 -m venv target/py-venv
fi
target/py-venv/bin/pip install -q --disable-pip-version-check \
  pytest numpy mypy typing_extensions httpx openai -r examples/python-fastapi/requirements.txt
target/py-venv/bin/pip install -q --disable-pip-version-check --force-reinstall --no-deps ./bindings-python
target/py-venv/bin/python -m pytest -q -p no:cacheprovider bindings-python/tests examples/python-fastapi/tests 2>&1 \
  | tee -a "$log" || status=1

step "Node.js package (napi build; index.js and index.d.ts must match the committed ones)"
(cd bindings-node && npm ci --no-audit --no-fund --loglevel=error \
  && npx napi build --platform --release --js index.js --dts index.d.ts)
if ! git diff --quiet -- bindings-node/index.js bindings-node/index.d.ts; then
  git --no-pager diff --stat -- bindings-node/index.js bindings-node/index.d.ts
  echo "FAILED: bindings-node/index.js or index.d.ts drifted: run 'npm run build' in bindings-node and commit them" | tee -a "$log"
  echo "# fail 1" >>"$log"
  status=1
fi
(cd bindings-node && node --test test/) 2>&1 | tee -a "$log" || status=1

step "npm pack, installed into a scratch project"
pack="$(cd bindings-node && npm pack --silent)"
scratch="$(mktemp -d)"
(cd "$scratch" && npm init -y >/dev/null && npm install --no-audit --no-fund --loglevel=error "$OLDPWD/bindings-node/$pack" \
  && node -e "require('stenograph').Transcriber.load('tiny.en').then(t => t.transcribe({samples: new Float32Array(16000), sampleRate: 16000})).then(tr => { if (tr.text !== '') process.exit(1); console.log('# pass 1') })" \
  && node --input-type=module -e "import { Transcriber } from 'stenograph'; if (typeof Transcriber.load !== 'function') process.exit(1); console.log('# pass 1')") \
  2>&1 | tee -a "$log" || status=1
rm -rf "$scratch" "bindings-node/$pack"

step "Node.js example service"
(cd examples/node && npm install --no-audit --no-fund --loglevel=error && node --test test/) 2>&1 | tee -a "$log" || status=1

step "Soak: 200 calls per binding, RSS at the end within 5% of the RSS after 100 (scripts/soak.sh)"
if scripts/soak.sh 200; then
  echo "# pass 1" >>"$log"
else
  echo "FAILED: the soak (RSS growth or a changed transcript, above)" | tee -a "$log"
  echo "# fail 1" >>"$log"
  status=1
fi

step "Concurrency stress: 8 threads per binding for 10 s each (scripts/stress.sh)"
if scripts/stress.sh 10; then
  echo "# pass 1" >>"$log"
else
  echo "FAILED: the concurrency stress (wrong results or a hang, above)" | tee -a "$log"
  echo "# fail 1" >>"$log"
  status=1
fi

if [ "$mode" = long ]; then
  long_checks 2>&1 | tee -a "$log" || status=1
fi

# One closing line for the whole suite: cargo's "test result:" lines, pytest's summary and
# node's "# pass N" / "# fail N".
awk '
  /^test result:/ { p += $4; f += $6 }
  /^# pass [0-9]+$/ { p += $3 }
  /^# fail [0-9]+$/ { f += $3 }
  /^=* *[0-9]+ (passed|failed)/ || /^[0-9]+ (passed|failed)/ {
    for (i = 1; i <= NF; i++) {
      if ($(i) ~ /^passed/) p += $(i - 1)
      if ($(i) ~ /^failed/) f += $(i - 1)
    }
  }
  END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
echo "suite ($mode): $(( $(date +%s) - started )) s"
exit $status
