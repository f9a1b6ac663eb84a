#!/usr/bin/env bash
# One command from a fresh clone to a running stack: services, dependencies, Prisma client,
# migrations, the checkpoint key file, the web console's build, then the API (which serves the console) and the worker (Ctrl-C stops both gracefully).
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

bash scripts/ensure-services.sh
pnpm install --frozen-lockfile
pnpm --filter @auditlog/db run db:generate
pnpm db:migrate
# The checkpoint signing key (README: Checkpoint keys), under the local data folder by default;
# made once, never replaced: checkpoints already signed with it must keep verifying.
key_file="${CHECKPOINT_KEY_FILE:-.data/checkpoint-keys}"
if [ ! -e "$key_file" ]; then pnpm auditlog checkpoint-key create --file "$key_file"; fi
# The API serves the built web console (apps/web/dist) on its own address.
pnpm exec turbo run build --ui=stream --filter=@auditlog/web

cat <<TEXT

auditlog is starting: API and web console on http://${HOST:-127.0.0.1}:${PORT:-3000}
Create an organisation, an admin and an ingestion key (in another terminal):
  npx pnpm@12.4.2 auditlog org create acme --name "Acme" --plan team
  npx pnpm@12.4.2 auditlog user create admin@acme.test --password 'change-me-now' --org acme --role admin
  npx pnpm@12.4.2 auditlog key create --org acme --name platform

TEXT
exec pnpm exec turbo run start --ui=stream --filter=@auditlog/api --filter=@auditlog/worker
