import { createPool } from "@auditlog/db";
import { createExportStorage } from "@auditlog/db/export-storage";
import { createLogger } from "@auditlog/observability";
import { Redis } from "ioredis";
import type { WorkerEnv } from "./env.ts";
import type { OnExportFinished } from "./exports/export-finished.ts";
import { startExportWorker } from "./exports/export-worker.ts";
import { openGeolocator } from "./geo/geolocate.ts";
import { createIngestWorker } from "./ingest/ingest-worker.ts";
import { startNotificationConsumers } from "./notifications/start-notifications.ts";

/** Starts every consumer of the worker process; `stop` drains in-flight jobs, then disconnects. */
export async function startWorker(
  env: WorkerEnv,
  options: { onExportFinished?: OnExportFinished } = {},
) {
  const logger = createLogger("worker", env.LOG_LEVEL);
  const geolocator = openGeolocator({
    ipv4: env.GEOIP_IPV4_DATABASE,
    ipv6: env.GEOIP_IPV6_DATABASE,
  });
  const pool = createPool(env.DATABASE_URL, {
    max: env.WORKER_CONCURRENCY + env.EXPORT_CONCURRENCY + 2,
  });
  // Workers block on Redis, so requests must wait for reconnection instead of failing.
  const connection = new Redis(env.REDIS_URL, { maxRetriesPerRequest: null });
  const ingest = createIngestWorker({
    connection,
    queueName: env.INGEST_QUEUE,
    pool,
    geolocator,
    logger,
    concurrency: env.WORKER_CONCURRENCY,
    lockDurationMs: env.WORKER_LOCK_DURATION_MS,
  });
  await ingest.waitUntilReady();
  logger.info("worker started", { queue: env.INGEST_QUEUE, concurrency: env.WORKER_CONCURRENCY });
  const exportStorage = createExportStorage({
    kind: env.EXPORT_STORAGE,
    dir: env.EXPORT_STORAGE_DIR,
  });
  const notifications = await startNotificationConsumers({ env, connection, logger });
  const exportConsumer = await startExportWorker({
    connection,
    redisUrl: env.REDIS_URL,
    queueName: env.EXPORT_QUEUE,
    pool,
    storage: exportStorage,
    logger,
    concurrency: env.EXPORT_CONCURRENCY,
    lockDurationMs: env.WORKER_LOCK_DURATION_MS,
    retentionDays: env.EXPORT_RETENTION_DAYS,
    expiryIntervalMs: env.EXPORT_EXPIRY_INTERVAL_MS,
    // Console notification (stored and pushed live), email when SMTP is set, org webhook.
    onExportFinished: options.onExportFinished ?? notifications.onExportFinished,
  });
  logger.info("export worker started", {
    queue: env.EXPORT_QUEUE,
    storage: exportStorage.location,
    concurrency: env.EXPORT_CONCURRENCY,
  });

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info("worker stopping");
      await ingest.close();
      await exportConsumer.close();
      await notifications.close();
      await pool.end();
      connection.disconnect();
      logger.info("worker stopped");
    })();
    return stopping;
  };
  return { stop, logger };
}
