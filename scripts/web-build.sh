#!/usr/bin/env bash
# Builds the web app into web/dist when it is missing or older than its sources.
set -euo pipefail
cd "$(dirname "$0")/../web"
stale=0
[ -f dist/index.html ] || stale=1
if [ "$stale" = 0 ] && [ -n "$(find src index.html package.json vite.config.ts -newer dist/index.html -print -quit 2>/dev/null)" ]; then
  stale=1
fi
if [ "$stale" = 1 ]; then
  [ -d node_modules ] || npm ci --no-audit --no-fund
  npm run build
fi
