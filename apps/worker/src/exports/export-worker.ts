import {
  type Database,
  listExpiredExports,
  listUnfinishedExports,
  markExportExpired,
  markExportFailed,
} from "@auditlog/db";
import type { ExportStorage } from "@auditlog/db/export-storage";
import { jobOptions } from "@auditlog/events/jobs";
import type { Logger } from "@auditlog/observability";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { startConsumer } from "../queues/start-consumer.ts";
import { callFinishedHook, exportFileKey, handleBuildExport } from "./build-export.ts";
import type { OnExportFinished } from "./export-finished.ts";

export interface ExportWorkerDeps {
  /** The worker's shared connection (maxRetriesPerRequest: null). */
  connection: Redis;
  redisUrl: string;
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
}

/** A queued or running export older than this with no live job is failed by the sweep. */
export const abandonedExportAgeMs = 15 * 60 * 1000;

/**
 * The consumer of the exports queue: `export.build` per requested export, and `export.expire`,
 * which a job scheduler adds every EXPORT_EXPIRY_INTERVAL_MS (idempotent across processes).
 */
export async function startExportWorker(deps: ExportWorkerDeps) {
  const shutdown = new AbortController();
  // Progress is published on a connection of its own that fails fast instead of queueing, so a
  // Redis hiccup never holds a build up.
  const publisher = new Redis(deps.redisUrl, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: 2000,
  });
  publisher.on("error", () => {});
  const queue = new Queue(deps.queueName, { connection: deps.connection });
  queue.on("error", (error) => deps.logger.error("export queue error", { error: error.message }));

  const buildDeps = {
    db: deps.db,
    storage: deps.storage,
    publisher,
    logger: deps.logger,
    retentionDays: deps.retentionDays,
    onExportFinished: deps.onExportFinished,
    shutdown: shutdown.signal,
  };
  const consumer = await startConsumer({
    queue: "exports",
    queueName: deps.queueName,
    connection: deps.connection,
    concurrency: deps.concurrency,
    lockDurationMs: deps.lockDurationMs,
    logger: deps.logger,
    handlers: {
      "export.build": (payload, job, token) => handleBuildExport(payload, job, token, buildDeps),
      "export.expire": () => handleExpireExports({ ...deps, queue }),
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

/**
 * `export.expire`: deletes the files of ready exports past their expiry and marks them expired
 * (file first, so a failure leaves the row to retry next time, never a row pointing nowhere).
 * Also fails exports whose build can no longer happen (the job is gone or failed for good), so
 * nothing waits forever in `queued` or `running`.
 */
export async function handleExpireExports(
  deps: Pick<ExportWorkerDeps, "db" | "storage" | "logger" | "onExportFinished"> & {
    queue: Queue;
  },
) {
  const batchSize = 200;
  let expired = 0;
  for (;;) {
    const batch = await listExpiredExports(deps.db, { now: new Date(), limit: batchSize });
    for (const record of batch) {
      if (record.storageKey) await deps.storage.delete(record.storageKey);
      if (await markExportExpired(deps.db, record.id)) expired++;
    }
    if (batch.length < batchSize) break;
  }

  let abandoned = 0;
  const stale = await listUnfinishedExports(deps.db, {
    createdBefore: new Date(Date.now() - abandonedExportAgeMs),
    limit: batchSize,
  });
  for (const record of stale) {
    const buildJob = await deps.queue.getJob(record.id);
    const state = buildJob ? await buildJob.getState() : "missing";
    if (!["missing", "unknown", "failed", "completed"].includes(state)) continue;
    const failed = await markExportFailed(deps.db, {
      id: record.id,
      error: "The export was interrupted and could not be resumed. Request a new export.",
    });
    if (failed) {
      abandoned++;
      for (let attempt = 1; attempt <= failed.attempt; attempt++) {
        await deps.storage.delete(exportFileKey(failed, attempt));
      }
      await callFinishedHook(deps, { ...failed, status: "failed" });
    }
  }
  if (expired > 0 || abandoned > 0) deps.logger.info("export sweep", { expired, abandoned });
  return { expired, abandoned };
}
