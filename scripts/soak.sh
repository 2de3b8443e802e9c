#!/usr/bin/env bash
# Soak: CALLS transcriptions of short clips in one process through the Rust core, the Python
# binding and the Node.js binding (three processes at once), each on one Transcriber; prints
# the RSS curve of each and fails when the RSS at the end exceeds the RSS after the first 100
# calls by more than 5%, or when a transcript changes from one call to the next. (Node.js's
# RSS steps up by about 11 MiB between calls 50 and 100 as V8 and the worker threads' heaps
# settle, then stays flat: the baseline is taken after that.)
#   scripts/soak.sh [CALLS]      # default 1000
# Builds what it needs that is missing (the soak binary, the Python package in target/py-venv,
# the Node.js addon).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
calls=${1:-1000}

cargo build --release --quiet -p stenograph-benches --bin soak
scripts/bindings.sh

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
clips=()
for phrase in "Yes, thank you." "Call me back at noon." "The order ships on Monday."; do
  clip="$dir/clip${#clips[@]}.wav"
  espeak-ng -v en-us -s 150 -w "$clip" "$phrase"
  clips+=("$clip")
done

# The three run at once (one whisper.cpp thread per call each, the default): each process
# measures only its own RSS.
args=(--calls "$calls" --every 50 --warmup 100 --tolerance 5)
target/release/soak "${args[@]}" "${clips[@]}" >"$dir/rust" 2>&1 &
rust=$!
target/py-venv/bin/python benches/scripts/soak.py "${args[@]}" "${clips[@]}" >"$dir/python" 2>&1 &
python=$!
# V8's young generation otherwise grows in steps, on its own schedule, up to 2 × 16 MiB:
# fixed at its largest size it does not move the curve.
node --expose-gc --min-semi-space-size=16 --max-semi-space-size=16 benches/scripts/soak.mjs "${args[@]}" "${clips[@]}" >"$dir/node" 2>&1 &
node=$!
status=0
for pid in $rust $python $node; do
  wait "$pid" || status=1
done
grep -hv '^\(rust\|python\|node\) [0-9]' "$dir/rust" "$dir/python" "$dir/node" | grep -v "calls, RSS" || true

echo "== RSS (MiB) after each 50 calls"
printf '%6s %8s %8s %8s\n' calls rust python node
join -a1 -a2 -e - -o 0,1.2,2.2 <(awk '$1 == "rust" {print $2, $3}' "$dir/rust" | sort -k1,1) \
  <(awk '$1 == "python" {print $2, $3}' "$dir/python" | sort -k1,1) \
  | join -a1 -a2 -e - -o 0,1.2,1.3,2.2 - <(awk '$1 == "node" {print $2, $3}' "$dir/node" | sort -k1,1) \
  | sort -n | while read -r c r p n; do printf '%6s %8s %8s %8s\n' "$c" "$r" "$p" "$n"; done
grep -h "calls, RSS" "$dir/rust" "$dir/python" "$dir/node" || true
exit $status
