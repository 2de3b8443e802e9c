#!/usr/bin/env bash
# Fuzzing with cargo fuzz (libFuzzer + AddressSanitizer) on the stable toolchain.
#   scripts/fuzz.sh seeds        # the default suite's replay: every seed and corpus input
#                                # through every target, no mutations
#   scripts/fuzz.sh [short]      # the long suite's run: the replay, then a fixed number of
#                                # mutations per target
#   scripts/fuzz.sh long SECONDS # each target for SECONDS (new inputs kept in fuzz/corpus)
# A crash stops the run with libFuzzer's report; its input is saved in fuzz/. A panic inside a
# codec library that the core catches and reports as a typed error is not a crash: its input is
# saved as fuzz/artifacts/<target>/caught-* (see fuzz/fuzz_targets/panics.rs) and listed below.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
# cargo fuzz passes nightly-only sanitizer flags; the stable compiler accepts them this way.
export RUSTC_BOOTSTRAP=1
command -v cargo-fuzz >/dev/null 2>&1 || cargo install --locked cargo-fuzz@0.13.2
python3 fuzz/seeds.py
cd fuzz
cargo fuzz build -O
bin=target/x86_64-unknown-linux-gnu/release
started=$(mktemp)
trap 'rm -f "$started"' EXIT
common=(-rss_limit_mb=2048 -max_len=65536 -timeout=60 -print_final_stats=1)
mode=${1:-short}
for target in decode model ct2_import c_api; do
  echo "== fuzz $target"
  if [ "$mode" = long ]; then
    "$bin/$target" "corpus/$target" "${common[@]}" -max_total_time="${2:-600}"
  elif [ "$target" = c_api ] || [ "$mode" = seeds ]; then
    # Replay only (c_api: each input loads a model and transcribes).
    "$bin/$target" "${common[@]}" -runs=0 "corpus/$target"
  else
    "$bin/$target" "${common[@]}" -seed=1 -runs=20000 "corpus/$target"
  fi
done
caught=$(find artifacts -name 'caught-*' -newer "$started" 2>/dev/null | wc -l || true)
echo "fuzz: no crashes; $caught input(s) made a codec library panic that the core caught (fuzz/artifacts/*/caught-*)"
