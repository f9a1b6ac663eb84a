import { type Database } from "@auditlog/db";
import { jobOptions } from "@auditlog/events/jobs";
import type { ExportStorage } from "@auditlog/exports";
import type { Logger } from "@auditlog/observability";
import {
  createRedisConnection,
  queueConnection,
  type RedisConnection,
  type RedisSettings,
} from "@auditlog/redis";
import { Queue } from "bullmq";
import type { WorkerMetrics } from "../metrics/worker-metrics.ts";
import { startConsumer } from "../queues/start-consumer.ts";
import { handleBuildExport } from "./build-export.ts";
import type { CheckpointCutOptions } from "./cut-checkpoint.ts";
import type { OnExportFinished } from "./export-finished.ts";
import { sweepExports } from "./sweep-exports.ts";

export interface ExportWorkerDeps {
  /** The worker's shared connection (maxRetriesPerRequest: null). */
  connection: RedisConnection;
  /** Where the progress publisher connects (the connection factory's settings). */
  redis: RedisSettings;
  queueName: string;
  db: Database;
  storage: ExportStorage;
  logger: Logger;
  concurrency: number;
  lockDurationMs: number;
  retentionDays: number;
  /** 0: this process does not schedule the expiry sweep. */
  expiryIntervalMs: number;
  onExportFinished: OnExportFinished;
  /** CHECKPOINT_KEY_FILE and LOG_ORIGIN: every export is cut at a signed checkpoint. */
  checkpoint: CheckpointCutOptions;
  metrics?: WorkerMetrics | undefined;
}

/**
 * The consumer of the exports queue: `export.build` per requested export, and `export.expire`,
 * which a job scheduler adds every EXPORT_EXPIRY_INTERVAL_MS (idempotent across processes).
 */
export async function startExportConsumer(deps: ExportWorkerDeps) {
  const shutdown = new AbortController();
  // Progress is published on a connection of its own that fails fast instead of queueing, so a
  // Redis hiccup never holds a build up.
  const publisher = createRedisConnection(deps.redis, "producer", { commandTimeoutMs: 2000 });
  publisher.on("error", () => {});
  const queue = new Queue(deps.queueName, queueConnection(deps.connection, deps.queueName));
  queue.on("error", (error) => deps.logger.error("export queue error", { error: error.message }));

  const buildDeps = {
    db: deps.db,
    storage: deps.storage,
    publisher,
    logger: deps.logger,
    retentionDays: deps.retentionDays,
    onExportFinished: deps.onExportFinished,
    shutdown: shutdown.signal,
    checkpoint: deps.checkpoint,
    metrics: deps.metrics,
  };
  const consumer = await startConsumer({
    queue: "exports",
    queueName: deps.queueName,
    connection: deps.connection,
    concurrency: deps.concurrency,
    lockDurationMs: deps.lockDurationMs,
    logger: deps.logger,
    metrics: deps.metrics,
    handlers: {
      "export.build": (payload, job, token) => handleBuildExport(payload, job, token, buildDeps),
      "export.expire": () => sweepExports({ ...deps, queue }),
    },
  });
  if (deps.expiryIntervalMs > 0) {
    await queue.upsertJobScheduler(
      "export.expire",
      { every: deps.expiryIntervalMs },
      { name: "export.expire", data: {}, opts: jobOptions("exports", "export.expire") },
    );
  }

  let closing: Promise<void> | undefined;
  return {
    worker: consumer.worker,
    /** Running builds stop between batches and go back to the queue; then everything closes. */
    close() {
      closing ??= (async () => {
        shutdown.abort();
        await consumer.close();
        await queue.close().catch(() => {});
        publisher.disconnect();
      })();
      return closing;
    },
  };
}
