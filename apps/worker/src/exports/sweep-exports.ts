import {
  type Database,
  listExpiredExports,
  listUnfinishedExports,
  markExportExpired,
  markExportFailed,
} from "@auditlog/db";
import { type ExportStorage, exportFileKey } from "@auditlog/exports";
import type { Logger } from "@auditlog/observability";
import type { Queue } from "bullmq";
import { callFinishedHook } from "./build-export.ts";
import type { OnExportFinished } from "./export-finished.ts";

/** A queued or running export older than this with no live job is failed by the sweep. */
export const abandonedExportAgeMs = 15 * 60 * 1000;

/**
 * `export.expire`: deletes the files of ready exports past their expiry and marks them expired
 * (file first, so a failure leaves the row to retry next time, never a row pointing nowhere).
 * Also fails exports whose build can no longer happen (the job is gone or failed for good), so
 * nothing waits forever in `queued` or `running`.
 */
export async function sweepExports(deps: {
  db: Database;
  storage: ExportStorage;
  logger: Logger;
  onExportFinished: OnExportFinished;
  /** The exports queue, to tell a lost build job from one still waiting or running. */
  queue: Queue;
}) {
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
