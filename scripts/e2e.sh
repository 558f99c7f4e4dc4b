#!/usr/bin/env bash
# End-to-end tests of the web app: starts two real server nodes (free ports, 5 s access tokens,
# a short lockout ladder, a platform admin) on one fresh PostgreSQL database (on the local
# server, 127.0.0.1:5432) and one Redis key prefix of their own (127.0.0.1:6379), the first
# serving web/dist; checks that the web app's API types (web/src/api/schema.d.ts) are those of
# the server's /openapi.json, and runs the Playwright tests in Debian's headless Chromium against
# the first: web/e2e/app.e2e.mjs (the user journeys), web/e2e/mfa.e2e.mjs (two-factor sign-in:
# enrol, sign out, sign in with a code computed in Node), web/e2e/api_keys.e2e.mjs (an API key
# made on its page, used by a program on /api/v1/orders, revoked, then refused with 401), web/e2e/a11y.e2e.mjs (every route at
# 390 and 1280 px, signed out and as each role: no sideways scrolling, no axe-core WCAG 2.1 A/AA
# violation, keyboard reach and focus) and web/e2e/cluster.e2e.mjs (the operator page with both
# nodes and its charts; it stops the second node, so it runs last). The database and the Redis
# keys are removed afterwards.
#
# Exits non-zero when any test fails (or the server does not come up, or the API types are
# stale); then prints the tail of the server log. The servers are always stopped. Screenshots and
# the server logs end up in web/e2e/artifacts/ (gitignored).
#
#   scripts/e2e.sh                      the tests
#   scripts/e2e.sh --update-api-types   only regenerate web/src/api/schema.d.ts from the server
#                                       (one embedded node: no PostgreSQL or Redis needed)
#
# Run from a clean clone after scripts/web-build.sh (scripts/test does `npm ci && npm run lint &&
# npm test && npm run build` first). E2E_TIMEOUT_S bounds the test run (default 600);
# TRADESAGE_BIN names a server binary to test instead of building target/debug/tradesage.
set -euo pipefail
cd "$(dirname "$0")/.."

update_types=0
case "${1:-}" in
  --update-api-types) update_types=1 ;;
  "") ;;
  *) echo "usage: scripts/e2e.sh [--update-api-types]" >&2; exit 2 ;;
esac

CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
if ! [ -x "$CHROMIUM" ]; then
  echo "== e2e: installing Debian's chromium"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi
# The test's dependencies, and the built app (a no-op when web/dist is up to date).
[ -d web/node_modules/playwright-core ] && [ -d web/node_modules/axe-core ] || (cd web && npm ci --no-audit --no-fund)
[ "$update_types" = 1 ] || scripts/web-build.sh
# TRADESAGE_BIN: test this binary instead of building the debug one.
bin="${TRADESAGE_BIN:-}"
if [ -z "$bin" ]; then
  cargo build --bin tradesage
  bin="${CARGO_TARGET_DIR:-target}/debug/tradesage"
fi

data=$(mktemp -d "${TMPDIR:-/tmp}/tradesage-e2e.XXXXXX")
log="$data/server.log"
log2="$data/server2.log"
server=""
server2=""
# The two nodes' own PostgreSQL database and Redis key prefix (not for --update-api-types).
stamp="$(date +%s)_$$"
database=""
redis_prefix=""

# Stops the server whose pid is in the variable named $1 (and clears it).
stop_pid() {
  local pid="${!1}"
  [ -n "$pid" ] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
  printf -v "$1" '%s' ""
}
stop_server() { stop_pid server; }

finish() {
  local rc=$?
  trap - EXIT INT TERM
  stop_pid server2
  stop_server
  if [ -n "$database" ]; then
    dropdb -h 127.0.0.1 -U postgres --if-exists --force "$database" >/dev/null 2>&1 ||
      echo "== e2e: could not drop the database $database" >&2
  fi
  if [ -n "$redis_prefix" ]; then
    redis-cli -h 127.0.0.1 -p 6379 --scan --pattern "${redis_prefix}*" 2>/dev/null |
      xargs -r -n 500 redis-cli -h 127.0.0.1 -p 6379 del >/dev/null 2>&1 || true
  fi
  if [ -f "$log" ]; then
    mkdir -p web/e2e/artifacts
    cp "$log" web/e2e/artifacts/server.log || true
    [ ! -f "$log2" ] || cp "$log2" web/e2e/artifacts/server2.log || true
    if [ "$rc" -ne 0 ]; then
      echo "== e2e: FAILED (exit $rc). Last 100 lines of the server log (full log: web/e2e/artifacts/server.log):" >&2
      tail -n 100 "$log" >&2 || true
    fi
  elif [ "$rc" -ne 0 ]; then
    echo "== e2e: FAILED (exit $rc) before the server started" >&2
  fi
  rm -rf "$data"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

export TRADESAGE_ADMIN_EMAIL=root@example.com TRADESAGE_ADMIN_PASSWORD=e2e-Root-password-42

# --update-api-types needs no web app (serve an empty folder then), and one embedded node.
webdir=web/dist
[ "$update_types" = 0 ] || webdir="$data"
if [ "$update_types" = 0 ]; then
  database="ts_e2e_$stamp"
  redis_prefix="e2e:$stamp:"
  createdb -h 127.0.0.1 -U postgres "$database" ||
    { echo "== e2e: PostgreSQL must answer at 127.0.0.1:5432 (scripts/test starts it)" >&2; database=""; exit 1; }
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 ||
    { echo "== e2e: Redis must answer at 127.0.0.1:6379 (scripts/test starts it)" >&2; exit 1; }
  export DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database" REDIS_URL=redis://127.0.0.1:6379 \
    REDIS_KEY_PREFIX="$redis_prefix"
fi

# Starts a node on a free port, logging to $2; sets the variable named $1 to its pid and
# `started_url` to its address. A free port can be taken between choosing it and binding it:
# try a few.
start_node() {
  local pid_var="$1" node_log="$2" port attempt
  started_url=""
  for attempt in 1 2 3; do
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    TRADESAGE_DATA_DIR="$data" TRADESAGE_BIND="127.0.0.1:$port" COOKIE_SECURE=false BCRYPT_ROUNDS=4 \
      ACCESS_TOKEN_TTL=5s LOCKOUT_THRESHOLD=3 LOCKOUT_LADDER=30s,permanent SESSION_IDLE_PASSIVATE=1m \
      TRADESAGE_WEB_DIR="$webdir" LOG_FORMAT=json "$bin" serve >>"$node_log" 2>&1 &
    printf -v "$pid_var" '%s' "$!"
    for _ in $(seq 1 300); do
      kill -0 "${!pid_var}" 2>/dev/null || break
      if curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1; then started_url="http://127.0.0.1:$port"; break; fi
      sleep 0.1
    done
    # Healthy and still ours (not another process that happened to answer on the port).
    if [ -n "$started_url" ] && kill -0 "${!pid_var}" 2>/dev/null; then return 0; fi
    started_url=""
    stop_pid "$pid_var"
    echo "== e2e: a node did not come up on port $port (attempt $attempt)" >&2
  done
  return 1
}

start_node server "$log" || exit 1
url="$started_url"
echo "== e2e: server at $url (pid $server), data in $data"

if [ "$update_types" = 1 ]; then
  (cd web && node scripts/api-types.mjs "$url/openapi.json")
  exit 0
fi
echo "== e2e: the web app's API types against the server's /openapi.json"
(cd web && node scripts/api-types.mjs --check "$url/openapi.json")

curl -sf "$url/" | grep -q '<div id="root"' || { echo "== e2e: $url/ does not serve the web app (web/dist)" >&2; exit 1; }
# The second node: same database, Redis prefix and keys (data dir, where the first wrote them).
start_node server2 "$log2" || exit 1
url2="$started_url"
echo "== e2e: second node at $url2 (pid $server2), database $database, Redis prefix $redis_prefix"
rm -rf web/e2e/artifacts
mkdir -p web/e2e/artifacts

start=$(date +%s)
set +e
(
  cd web
  TRADESAGE_URL="$url" CHROMIUM_PATH="$CHROMIUM" E2E_ACCESS_TTL_S=5 E2E_LOCKOUT_THRESHOLD=3 \
    E2E_NODE2_URL="$url2" E2E_NODE2_PID="$server2" \
    timeout -k 10 "${E2E_TIMEOUT_S:-600}" node --test --test-concurrency=1 e2e/app.e2e.mjs e2e/mfa.e2e.mjs e2e/api_keys.e2e.mjs \
    e2e/a11y.e2e.mjs e2e/cluster.e2e.mjs
)
rc=$?
set -e
if ! kill -0 "$server" 2>/dev/null; then
  echo "== e2e: the server exited during the tests" >&2
  [ "$rc" -ne 0 ] || rc=1
fi
[ "$rc" -ne 124 ] || echo "== e2e: timed out after ${E2E_TIMEOUT_S:-600} s" >&2
echo "== e2e: $([ "$rc" -eq 0 ] && echo passed || echo FAILED) in $(($(date +%s) - start)) s"
exit "$rc"
