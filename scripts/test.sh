#!/usr/bin/env bash
# Every test of every package, against the real PostgreSQL and Redis of this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

bash scripts/ensure-services.sh
pnpm exec biome check .
pnpm --filter @auditlog/db run db:generate
pnpm --filter @auditlog/db run test:reset-db
pnpm exec turbo run typecheck test --ui=stream --concurrency=2 --continue
