#!/usr/bin/env bash
# Starts a real server (embedded, on a free port, generous rate limits) and runs schemathesis
# against its /openapi.json (scripts/fuzz-api.sh): any 5xx or schema mismatch fails.
# FUZZ_EXAMPLES bounds the examples per operation (default 25).
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --bin tradesage
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
TRADESAGE_DATA_DIR="$data" TRADESAGE_BIND="127.0.0.1:$port" COOKIE_SECURE=false BCRYPT_ROUNDS=4 \
  RATE_LIMIT_IP=1000000/min RATE_LIMIT_LOGIN=1000000/min RATE_LIMIT_USER=1000000/min \
  TRADESAGE_WEB_DIR=web/dist "${CARGO_TARGET_DIR:-target}/debug/tradesage" serve >"$data/server.log" 2>&1 &
server=$!
cleanup() {
  status=$?
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  if [ "$status" -ne 0 ]; then
    echo "api-fuzz: failed; last server log lines:" >&2
    tail -n 40 "$data/server.log" >&2 || true
  fi
  rm -rf "$data"
}
trap cleanup EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
TRADESAGE_URL="http://127.0.0.1:$port" scripts/fuzz-api.sh --max-examples "${FUZZ_EXAMPLES:-25}" --seed 1
