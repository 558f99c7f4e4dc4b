#!/usr/bin/env bash
# Starts a real server (embedded, on a free port, short access tokens) serving web/dist and
# runs the Playwright end-to-end tests in Debian's Chromium against it.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! [ -x /usr/bin/chromium ]; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
cargo build --bin tradesage
data=$(mktemp -d)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
export TRADESAGE_ADMIN_EMAIL=root@example.com TRADESAGE_ADMIN_PASSWORD=e2e-Root-password-42
TRADESAGE_DATA_DIR="$data" TRADESAGE_BIND="127.0.0.1:$port" COOKIE_SECURE=false BCRYPT_ROUNDS=4 \
  ACCESS_TOKEN_TTL=5s LOCKOUT_THRESHOLD=3 LOCKOUT_LADDER=30s,permanent SESSION_IDLE_PASSIVATE=1m \
  TRADESAGE_WEB_DIR=web/dist LOG_FORMAT=json ./target/debug/tradesage serve >"$data/server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 1 100); do curl -sf "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.1; done
(cd web && TRADESAGE_URL="http://127.0.0.1:$port" npm run e2e)
