#!/usr/bin/env bash
# The production start: the compiled output on plain node (no tsx, no TypeScript compiler at run
# time). Build it first, once per release:
#   npx pnpm@12.4.2 install --frozen-lockfile && npx pnpm@12.4.2 build
# Then this applies pending migrations, creates the checkpoint key file if there is none (as the
# quick start does; back it up), and runs the API and the worker. SIGTERM or SIGINT stops both
# gracefully; if either exits, the other is stopped too, so a supervisor restarts the pair whole.
# PostgreSQL and Redis are the deployment's own (DATABASE_URL, REDIS_URL): nothing is started here.
# A deployment that runs the processes separately runs the same commands itself (README).
set -euo pipefail
cd "$(dirname "$0")/.."

for file in apps/api/dist/migrate.js apps/api/dist/cli.js apps/api/dist/server.js \
  apps/worker/dist/main.js; do
  if [ ! -f "$file" ]; then
    echo "$file is missing: build first with npx pnpm@12.4.2 build" >&2
    exit 1
  fi
done

node apps/api/dist/migrate.js
key_file="${CHECKPOINT_KEY_FILE:-.data/checkpoint-keys}"
if [ ! -e "$key_file" ]; then node apps/api/dist/cli.js checkpoint-key create --file "$key_file"; fi

node --enable-source-maps apps/worker/dist/main.js &
worker=$!
node --enable-source-maps apps/api/dist/server.js &
api=$!
stop() { kill -TERM "$api" "$worker" 2>/dev/null || true; }
trap stop TERM INT
wait -n "$api" "$worker" || true
stop
status=0
wait "$api" || status=$?
wait "$worker" || status=$?
exit "$status"
