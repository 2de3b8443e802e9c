#!/usr/bin/env bash
# Throwaway PostgreSQL and S3-compatible (moto) servers for the queue-worker tests, and the
# Python that runs the example clients (the official openai SDK) against them.
#   eval "$(scripts/services.sh start)"   # (re)starts them; prints the exports the tests read
#   scripts/services.sh ensure            # the same, keeping servers that already answer
#   scripts/services.sh stop
# The tests run `ensure` themselves when the exports are missing, so `cargo test` works alone.
set -euo pipefail
cd "$(dirname "$0")/.."
state=/tmp/stenograph-services
pg_port=${STENOGRAPH_TEST_PG_PORT:-54329}
s3_port=${STENOGRAPH_TEST_S3_PORT:-54330}

stop() {
  if [ -f "$state/pg/PG_VERSION" ]; then
    bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
    as_pg "$bindir/pg_ctl" -D "$state/pg" -m fast -w stop >/dev/null 2>&1 || true
  fi
  if [ -f "$state/moto.pid" ]; then kill "$(cat "$state/moto.pid")" 2>/dev/null || true; fi
  rm -rf "$state"
}

as_pg() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

start() {
  stop
  mkdir -p "$state/pg"
  [ "$(id -u)" -ne 0 ] || chown -R postgres: "$state"
  bindir=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
  as_pg "$bindir/initdb" -D "$state/pg" -A trust -U postgres --no-sync >"$state/initdb.log" 2>&1 \
    || { cat "$state/initdb.log" >&2; exit 1; }
  as_pg "$bindir/pg_ctl" -D "$state/pg" -l "$state/pg/server.log" -w \
    -o "-p $pg_port -k $state/pg -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null \
    || { cat "$state/pg/server.log" >&2; exit 1; }

  if [ ! -x target/moto-venv/bin/moto_server ]; then
    python3 -m venv target/moto-venv
    target/moto-venv/bin/pip install -q --disable-pip-version-check "moto[server]==5.2.5" >&2
  fi
  target/moto-venv/bin/moto_server -H 127.0.0.1 -p "$s3_port" >"$state/moto.log" 2>&1 &
  echo $! >"$state/moto.pid"
  for _ in $(seq 100); do
    curl -sf "http://127.0.0.1:$s3_port/" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf "http://127.0.0.1:$s3_port/" >/dev/null || { cat "$state/moto.log" >&2; exit 1; }
  exports
}

# The example clients' Python: the official openai SDK and websockets.
client_venv() {
  if [ ! -x target/client-venv/bin/python ] || ! target/client-venv/bin/python -c 'import openai, websockets' 2>/dev/null; then
    python3 -m venv target/client-venv
    target/client-venv/bin/pip install -q --disable-pip-version-check "openai>=2.5" "websockets>=13" >&2
  fi
}

exports() {
  client_venv
  echo "export STENOGRAPH_TEST_CLIENT_PYTHON=$PWD/target/client-venv/bin/python"
  echo "export STENOGRAPH_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:$pg_port/postgres"
  echo "export STENOGRAPH_TEST_S3_ENDPOINT=http://127.0.0.1:$s3_port"
}

running() {
  [ -f "$state/pg/PG_VERSION" ] && [ -f "$state/moto.pid" ] && kill -0 "$(cat "$state/moto.pid")" 2>/dev/null \
    && curl -sf "http://127.0.0.1:$s3_port/" >/dev/null 2>&1 \
    && bash -c "exec 3<>/dev/tcp/127.0.0.1/$pg_port" 2>/dev/null
}

case "${1:-}" in
  start) start ;;
  ensure) if running; then exports; else start; fi ;;
  stop) stop ;;
  *) echo "usage: $0 start|ensure|stop" >&2; exit 2 ;;
esac
