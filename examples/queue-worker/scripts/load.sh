#!/usr/bin/env bash
# Throughput and latency of the service on this machine: the API plus 1, then 2, worker
# processes (one job at a time each, one thread per job) on PostgreSQL and local storage,
# fed JOBS calls of about CALL_SECONDS of speech each.
#   examples/queue-worker/scripts/load.sh            # JOBS=20 CALL_SECONDS=60
set -euo pipefail
cd "$(dirname "$0")/../../.."
JOBS=${JOBS:-20}
CALL_SECONDS=${CALL_SECONDS:-60}
WORKER_COUNTS=${WORKER_COUNTS:-"1 2"}
scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --quiet -p stenograph-server -p stenograph-cli
./target/release/stenograph model fetch tiny.en >/dev/null

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  scripts/services.sh stop
  rm -rf "$work"
}
trap cleanup EXIT
eval "$(scripts/services.sh start)"

# A call: sentences spoken by two voices in turn until CALL_SECONDS is reached.
sentences=("Thank you for calling, how can I help you today?"
  "I would like to change the delivery date of my order."
  "Of course, could you give me the order number please?"
  "It is four five seven, and the name is on the account."
  "Thanks, I can move it to Thursday afternoon if that works."
  "That works for me, and please send a confirmation email.")
for n in 1 2 3; do
  parts=()
  i=0
  total=0
  while [ "$total" -lt "$CALL_SECONDS" ]; do
    voice=$([ $((i % 2)) -eq 0 ] && echo en-us || echo en-gb)
    espeak-ng -v "$voice" -s $((140 + n * 5)) -w "$work/part$n-$i.wav" "${sentences[$((i % ${#sentences[@]}))]}"
    parts+=("$work/part$n-$i.wav")
    total=$(python3 -c "import wave,sys; print(int(sum(wave.open(f).getnframes()/wave.open(f).getframerate() for f in sys.argv[1:])))" "${parts[@]}")
    i=$((i + 1))
  done
  sox "${parts[@]}" -r 8000 "$work/call$n.wav"   # telephone rate
done

echo "| workers | jobs | span (s) | jobs/hour | audio s per s | p50 latency (s) | p95 latency (s) | processing s per audio s |"
echo "|---|---|---|---|---|---|---|---|"
for workers in $WORKER_COUNTS; do
  db="w${workers}_$(date +%s)"
  psql -q "$STENOGRAPH_TEST_POSTGRES_URL" -c "CREATE DATABASE $db"
  export STENOGRAPH_DATABASE_URL="${STENOGRAPH_TEST_POSTGRES_URL%/*}/$db"
  export STENOGRAPH_STORAGE_URL="file://$work/audio-$workers"
  export STENOGRAPH_DATA_DIR="$work/data" STENOGRAPH_WORKER_CONCURRENCY=1 STENOGRAPH_THREADS_PER_JOB=1 STENOGRAPH_POLL_MS=100
  port=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
  ./target/release/stenograph-server api --host 127.0.0.1 --port "$port" >"$work/api-$workers.log" 2>&1 &
  pids+=($!)
  for w in $(seq "$workers"); do
    mport=$(python3 -c "import socket; s=socket.socket(); s.bind(('127.0.0.1',0)); print(s.getsockname()[1])")
    ./target/release/stenograph-server worker --host 127.0.0.1 --metrics-port "$mport" >"$work/worker-$workers-$w.log" 2>&1 &
    pids+=($!)
  done
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/readyz" >/dev/null && break; sleep 0.2; done
  ./target/release/stenograph-load --url "http://127.0.0.1:$port" --jobs "$JOBS" --label "$workers" \
    "$work/call1.wav" "$work/call2.wav" "$work/call3.wav"
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  pids=()
done
