#!/usr/bin/env bash
# Concurrency stress: 8 Rust threads, 8 Python threads and 8 Node.js promises, each set on one
# Transcriber for SECONDS, running a random mix of good clips (checked against their sequential
# transcripts), bad inputs, silence, bad options and calls cancelled mid-run. Fails on any wrong
# result or a minute without a completed call.
#   scripts/stress.sh [SECONDS]    # default 600 per binding
# Builds what it needs that is missing (the stress binary; scripts/bindings.sh for the rest).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
seconds=${1:-600}

cargo build --release --quiet -p stenograph-benches --bin stress
scripts/bindings.sh

dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
clips=()
for phrase in "Please call the customer back before noon tomorrow." \
  "The meeting has been moved to Thursday afternoon." "Yes, thank you."; do
  clip="$dir/clip${#clips[@]}.wav"
  espeak-ng -v en-us -s 150 -w "$clip" "$phrase"
  clips+=("$clip")
done

args=(--threads 8 --seconds "$seconds")
status=0
echo "== Rust threads"
target/release/stress "${args[@]}" "${clips[@]}" || status=1
echo "== Python threads"
target/py-venv/bin/python benches/scripts/stress.py "${args[@]}" "${clips[@]}" || status=1
echo "== Node.js promises"
node benches/scripts/stress.mjs "${args[@]}" "${clips[@]}" || status=1
exit $status
