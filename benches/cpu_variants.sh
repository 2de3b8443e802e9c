#!/usr/bin/env bash
# Speed of the portable CPU backend beside a build for this machine's CPU (GGML_NATIVE=ON), on
# one audio file: the variant the portable build picks here, every other variant this CPU runs
# (GGML_CPU_VARIANT), and the x86-64-v2 baseline. Runs are interleaved; each cell is the fastest
# of RUNS whole `stenograph transcribe` runs (model load included). Also checks that every
# backend writes the same transcript.
# Usage: benches/cpu_variants.sh AUDIO [NATIVE_CLI] [MODELS] [RUNS]
#   NATIVE_CLI  a stenograph binary built with GGML_NATIVE=ON (built into target/native when
#               not given)
#   MODELS      comma-separated model names (default: tiny.en,base.en)
set -euo pipefail
cd "$(dirname "$0")/.."
audio=${1:?usage: benches/cpu_variants.sh AUDIO [NATIVE_CLI] [MODELS] [RUNS]}
native=${2:-}
models=${3:-tiny.en,base.en}
runs=${4:-2}
target=${CARGO_TARGET_DIR:-target}
cargo build --release --quiet -p stenograph-cli
portable=$target/release/stenograph
if [ -z "$native" ]; then
  GGML_NATIVE=ON cargo build --release --quiet -p stenograph-cli --target-dir target/native
  native=target/native/release/stenograph
fi
chosen=$("$portable" system --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cpu_backend"]["variant"])')
variants=(baseline)
for v in haswell alderlake skylakex icelake zen4; do
  got=$(GGML_CPU_VARIANT=$v "$portable" system --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["cpu_backend"]["variant"])')
  [ "$got" = "$v" ] && variants+=("$v")
done
echo "CPU: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //'); audio: $audio ($(soxi -D "$audio" 2>/dev/null || echo '?') s)"
echo "portable build picks: $chosen; variants this CPU runs: ${variants[*]}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Seconds one run takes; its transcript goes to $work/$label.$model.txt.
timed() {
  local label=$1 model=$2 exe=$3 variant=$4 start end
  start=$(date +%s.%N)
  if [ -n "$variant" ]; then
    GGML_CPU_VARIANT=$variant "$exe" transcribe "$audio" -m "$model" >"$work/$label.$model.txt"
  else
    env -u GGML_CPU_VARIANT "$exe" transcribe "$audio" -m "$model" >"$work/$label.$model.txt"
  fi
  end=$(date +%s.%N)
  awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }' 
}

labels=(native portable "${variants[@]}")
printf '| model |'; for l in "${labels[@]}"; do printf ' %s |' "$l"; done; echo
printf '|---|'; for _ in "${labels[@]}"; do printf -- '---|'; done; echo
IFS=, read -ra model_list <<<"$models"
for model in "${model_list[@]}"; do
  "$portable" transcribe "$audio" -m "$model" >/dev/null # fetch and warm the page cache
  declare -A best=()
  for ((r = 0; r < runs; r++)); do
    for l in "${labels[@]}"; do
      case $l in
        native) t=$(timed native "$model" "$native" "") ;;
        portable) t=$(timed portable "$model" "$portable" "") ;;
        *) t=$(timed "$l" "$model" "$portable" "$l") ;;
      esac
      if [ -z "${best[$l]:-}" ] || awk -v t="$t" -v b="${best[$l]}" 'BEGIN { exit !(t < b) }'; then best[$l]=$t; fi
    done
  done
  printf '| %s |' "$model"
  for l in "${labels[@]}"; do
    awk -v t="${best[$l]}" -v n="${best[native]}" 'BEGIN { printf " %.2f s (%.2f×) |", t, t / n }' 
  done
  echo
  for l in "${labels[@]}"; do
    cmp -s "$work/native.$model.txt" "$work/$l.$model.txt" ||
      echo "  $model: $l's transcript differs from native's"
  done
  unset best
done
