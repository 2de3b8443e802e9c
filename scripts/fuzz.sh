#!/usr/bin/env bash
# Fuzzing with cargo fuzz (libFuzzer + AddressSanitizer) on the stable toolchain.
#   scripts/fuzz.sh              # the short run the test suite makes: every seed through
#                                # every target, then a fixed number of mutations each
#   scripts/fuzz.sh long SECONDS # each target for SECONDS (new inputs kept in fuzz/corpus)
# A crash stops the run with libFuzzer's report; its input is saved under fuzz/artifacts/.
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
common=(-rss_limit_mb=2048 -max_len=65536 -timeout=60 -print_final_stats=1)
mode=${1:-short}
for target in decode model ct2_import c_api; do
  echo "== fuzz $target"
  if [ "$mode" = long ]; then
    "$bin/$target" "corpus/$target" "${common[@]}" -max_total_time="${2:-600}"
  elif [ "$target" = c_api ]; then
    # Each input loads a model and transcribes: replay the seeds only.
    "$bin/$target" "${common[@]}" -runs=0 "corpus/$target"
  else
    "$bin/$target" "${common[@]}" -seed=1 -runs=20000 "corpus/$target"
  fi
done
echo "fuzz: no crashes"
