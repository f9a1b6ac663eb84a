import { defineConfig } from "vitest/config";
import base from "./vitest.config.ts";

/**
 * The suites that take the queue and pub/sub paths, run again against a Redis Cluster
 * (`pnpm --filter @auditlog/api test:cluster`, part of `pnpm test`): 6 nodes, 3 primaries and 3
 * replicas, started for the run by packages/redis/src/with-redis-cluster.ts, which sets
 * REDIS_CLUSTER_NODES. Every stack, worker and test connection of these files then opens an
 * ioredis Cluster, and each queue's keys carry its hash tag (`{name}`).
 *
 * Chosen for Redis, not for coverage of everything else (the single-Redis run has all files):
 * - ingest: the API's add with WAIT for a replica, the worker's consumption, dead letters;
 * - idempotency: the ingest job ids a retried request reuses;
 * - live: stored-entries announcements and notifications over the cluster's pub/sub, to two
 *   API processes, and a subscriber that reconnects;
 * - notifications: delivery jobs with retries, backoff and job ids (BullMQ on the cluster);
 * - exports: the build queue (priorities, attempts, a graceful stop putting a job back, a
 *   worker killed mid-build and its job reclaimed), progress over pub/sub, the lost-job sweep.
 *   The large export is built from EXPORTS_TEST_ROWS entries instead of 200,000: the same Redis
 *   work (one job, a progress message every 10,000 entries), without re-running builds whose
 *   size tests PostgreSQL and the file writer, which the single-Redis run already does.
 *
 * A database of its own (the test database's name + `_cluster`, created and migrated on first
 * use): `pnpm test` runs this next to the ordinary api run, and two export suites sharing one
 * database would expire each other's exports (each stack's sweep runs every second on every
 * organisation, deleting files only from its own storage directory).
 *
 * The cluster failover test (test/redis-cluster-failover.test.ts) starts a cluster of its own and
 * runs in the ordinary suite.
 */
export const clusterSuites = [
  "test/ingest-pipeline.test.ts",
  "test/ingest-idempotency.test.ts",
  "test/entries-live.test.ts",
  "test/notifications-live.test.ts",
  "test/notifications-delivery.test.ts",
  "test/admin-notifications.test.ts",
  "test/exports.test.ts",
  "test/export-builds.test.ts",
];

const clusterDatabaseUrl = new URL(
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/auditlog_test",
);
clusterDatabaseUrl.pathname = `${clusterDatabaseUrl.pathname}_cluster`;

export default defineConfig({
  test: {
    ...base.test,
    include: clusterSuites,
    setupFiles: [...(base.test?.setupFiles ?? []), "test/support/cluster-run-setup.ts"],
    env: { EXPORTS_TEST_ROWS: "40000", TEST_DATABASE_URL: clusterDatabaseUrl.toString() },
    reporters: ["default", "./test/support/suite-counts-reporter.ts"],
  },
});
