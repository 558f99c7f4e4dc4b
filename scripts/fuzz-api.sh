#!/usr/bin/env bash
# Property-based API fuzzing with schemathesis against a running server's OpenAPI description.
#
#   TRADESAGE_URL=http://127.0.0.1:8080 scripts/fuzz-api.sh [extra `st run` options…]
#
# Fails on any 5xx answer (`not_a_server_error`) and on any answer whose body does not match
# the schema of its status code (`response_schema_conformance`). Extra options go to `st run`
# as they are, e.g. `--max-examples 50`, `--phases examples,fuzzing`, `--seed 1`.
#
# schemathesis (PyPI) is installed on first use into target/schemathesis-venv.
# Environment:
#   TRADESAGE_URL        the server (default http://127.0.0.1:8080)
#   TRADESAGE_TOKEN      an access token sent as `Authorization: Bearer …` with every request;
#                        unset: the script registers and signs in a throw-away user (tenant
#                        `default`) so the protected operations are exercised beyond 401;
#                        set to `none` to fuzz anonymously. With a token, logout and
#                        logout-all are left out (they would end the token's session)
#   SCHEMATHESIS_VERSION pip requirement (default `schemathesis>=4.32,<5`: the 4.x CLI)
#
# Run the server with generous limits, or most answers will be 429s:
#   RATE_LIMIT_IP=100000/min RATE_LIMIT_LOGIN=100000/min RATE_LIMIT_USER=100000/min
# Reports (JUnit) go to target/schemathesis-report.
set -euo pipefail
cd "$(dirname "$0")/.."

url="${TRADESAGE_URL:-http://127.0.0.1:8080}"
url="${url%/}"
venv="target/schemathesis-venv"
requirement="${SCHEMATHESIS_VERSION:-schemathesis>=4.32,<5}"

fail() {
  echo "fuzz-api: $*" >&2
  exit 1
}

command -v curl >/dev/null || fail "curl is needed"
command -v python3 >/dev/null || fail "python3 is needed"

# 1. The server must answer.
health=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$url/health" || true)
[[ "$health" == "200" ]] || fail "no tradesage server answers at $url (GET /health gave '${health:-no answer}'); start one or set TRADESAGE_URL"

# 2. It must serve an OpenAPI 3 description at /openapi.json (JSON, with an `openapi` field);
#    an HTML page (the web app's fallback) or a 404 means the server does not publish one.
spec=$(mktemp)
trap 'rm -f "$spec"' EXIT
read -r status content_type < <(curl -s -o "$spec" -w '%{http_code} %{content_type}\n' --max-time 10 "$url/openapi.json" || echo "000 -")
if [[ "$status" != "200" ]]; then
  fail "the server at $url answers, but GET /openapi.json gave HTTP $status: it publishes no OpenAPI description, so there is nothing to fuzz"
fi
version=$(python3 -c 'import json,sys
try:
    doc = json.load(open(sys.argv[1]))
    print(doc.get("openapi", "") if isinstance(doc, dict) else "")
except Exception:
    print("")' "$spec")
if [[ -z "$version" ]]; then
  fail "the server at $url answers, but GET /openapi.json is not an OpenAPI document (HTTP $status, content type '${content_type}'); the route is probably missing and the web app answered instead"
fi
[[ "$version" == 3.* ]] || fail "/openapi.json declares OpenAPI '$version'; schemathesis needs 3.x here"
echo "fuzz-api: $url/openapi.json is OpenAPI $version"

# 3. schemathesis, installed once into its own venv.
if [[ ! -x "$venv/bin/st" ]]; then
  echo "fuzz-api: installing $requirement into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --upgrade pip
  "$venv/bin/pip" install --quiet "$requirement"
fi
echo "fuzz-api: $("$venv/bin/st" --version)"

# 4. A bearer token, unless told otherwise.
headers=()
token="${TRADESAGE_TOKEN:-}"
if [[ -z "$token" ]]; then
  email="schemathesis-$(date +%s)-$RANDOM@example.com"
  password="fuzz-$(python3 -c 'import secrets; print(secrets.token_hex(12))')"
  body=$(printf '{"email":"%s","password":"%s"}' "$email" "$password")
  curl -s -o /dev/null --max-time 10 -H 'content-type: application/json' -d "$body" "$url/api/v1/auth/register" || true
  login=$(printf '{"email":"%s","password":"%s","token_delivery":"body"}' "$email" "$password")
  token=$(curl -s --max-time 10 -H 'content-type: application/json' -d "$login" "$url/api/v1/auth/login" \
    | python3 -c 'import json,sys
try:
    print(json.load(sys.stdin).get("access_token", ""))
except Exception:
    print("")')
  if [[ -n "$token" ]]; then
    echo "fuzz-api: signed in as $email (a throw-away viewer)"
  else
    echo "fuzz-api: could not sign in a throw-away user; fuzzing anonymously" >&2
  fi
fi
if [[ -n "$token" && "$token" != "none" ]]; then
  # Logging out would end the session behind the token and leave the rest of the run at 401.
  headers=(-H "Authorization: Bearer $token" --exclude-path-regex '^/api/v1/auth/logout(-all)?$')
fi

# 5. The run. The exit code is schemathesis's: non-zero on any failed check.
exec "$venv/bin/st" run "$url/openapi.json" \
  --checks not_a_server_error,response_schema_conformance \
  --report junit --report-dir target/schemathesis-report \
  "${headers[@]}" \
  "$@"
