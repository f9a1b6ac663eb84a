#!/usr/bin/env bash
# Every test of every package, against the real PostgreSQL and Redis of this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
export TURBO_TELEMETRY_DISABLED=1

bash scripts/ensure-services.sh
pnpm exec biome check .
pnpm --filter @auditlog/db run db:generate
pnpm --filter @auditlog/db run test:reset-db
# test:cluster: the queue and pub/sub suites of apps/api again, against a 6-node Redis Cluster
# the run starts and removes (apps/api/vitest.cluster.config.ts).
pnpm exec turbo run typecheck test test:cluster --ui=stream --concurrency=2 --continue
