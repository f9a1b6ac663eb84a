import { createPool } from "@auditlog/db";
import { createLogger } from "@auditlog/observability";
import { Redis } from "ioredis";
import type { WorkerEnv } from "./env.ts";
import { openGeolocator } from "./geo/geolocate.ts";
import { createIngestWorker } from "./ingest/ingest-worker.ts";

/** Starts every consumer of the worker process; `stop` drains in-flight jobs, then disconnects. */
export async function startWorker(env: WorkerEnv) {
  const logger = createLogger("worker", env.LOG_LEVEL);
  const geolocator = openGeolocator({
    ipv4: env.GEOIP_IPV4_DATABASE,
    ipv6: env.GEOIP_IPV6_DATABASE,
  });
  const pool = createPool(env.DATABASE_URL, { max: env.WORKER_CONCURRENCY + 2 });
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

  let stopping: Promise<void> | undefined;
  const stop = () => {
    stopping ??= (async () => {
      logger.info("worker stopping");
      await ingest.close();
      await pool.end();
      connection.disconnect();
      logger.info("worker stopped");
    })();
    return stopping;
  };
  return { stop, logger };
}
