import {
  countMatchingEntries,
  type Database,
  type EntryQueryOptions,
  type ExportRecord,
  isServiceOutage,
  markExportFailed,
  markExportReady,
  readRetainedFrom,
  setExportEstimatedTotal,
  startExportAttempt,
  summariseMatchingEntries,
  updateExportProgress,
} from "@auditlog/db";
import {
  type ExportManifest,
  type ExportStatus,
  isEmptyQuery,
  type ParsedQuery,
  parseQuery,
  type RealtimeMessage,
  realtimeChannels,
  storedQueryLimits,
} from "@auditlog/events";
import type { ExportBuildJob } from "@auditlog/events/jobs";
import {
  type ExportStorage,
  exportFileKey,
  signExportManifest,
  writeExportFile,
} from "@auditlog/exports";
import type { Logger } from "@auditlog/observability";
import { type Job, UnrecoverableError, WaitingError } from "bullmq";
import type { WorkerMetrics } from "../metrics/worker-metrics.ts";
import {
  type CheckpointCutOptions,
  CheckpointUnavailableError,
  cutAtCheckpoint,
  loadCheckpointSigning,
} from "./cut-checkpoint.ts";
import type { FinishedExportRecord, OnExportFinished } from "./export-finished.ts";

export interface ExportBuildDeps {
  db: Database;
  storage: ExportStorage;
  /** Live progress goes out on Redis pub/sub; best effort, never blocks a build. */
  publisher: { publish(channel: string, message: string): Promise<unknown> };
  logger: Logger;
  retentionDays: number;
  onExportFinished: OnExportFinished;
  /** Aborted when the worker stops: a build stops between batches and goes back to the queue. */
  shutdown: AbortSignal;
  /** Entries read per keyset query. */
  batchSize?: number;
  /** rows_written is saved (and progress published) at least this often. */
  progressEvery?: number;
  /** The checkpoint key file and log origin: each export is cut at a signed checkpoint. */
  checkpoint: CheckpointCutOptions;
  /** Build durations, rows and bytes of finished exports. */
  metrics?: WorkerMetrics | undefined;
}

/** Another attempt owns the export now (this one's worker was presumed dead): stop quietly. */
class SupersededError extends Error {}
/** The worker is stopping: put the job back for the next worker. */
class ShutdownError extends Error {}

/**
 * `export.build`: one build attempt. It takes the export over (a new attempt number), writes the
 * attempt's own file (`writeExportFile`: one snapshot, gzip, committed only once complete) while
 * saving and publishing progress, then marks the export ready and calls the finished hook. A
 * retry or a restart after a crash is a new attempt with a new file, and only the attempt that
 * owns the row may mark it ready; the last failed attempt marks it failed.
 */
export async function handleBuildExport(
  { exportId }: ExportBuildJob,
  job: Job,
  token: string | undefined,
  deps: ExportBuildDeps,
): Promise<unknown> {
  const record = await startExportAttempt(deps.db, exportId);
  if (!record) return { skipped: "export missing or already finished" };
  const attempt = record.attempt;
  const key = exportFileKey(record, attempt);
  const started = performance.now();
  const elapsed = () => (performance.now() - started) / 1000;

  try {
    // Earlier attempts (crashed or retried) may have left a partial or an unclaimed file.
    for (let previous = 1; previous < attempt; previous++) {
      await deps.storage.delete(exportFileKey(record, previous));
    }
    const { rowsWritten, fileSize, manifest } = await buildFile(record, key, deps);
    const expiresAt = new Date(Date.now() + deps.retentionDays * 24 * 3600 * 1000);
    const ready = await markExportReady(deps.db, {
      id: exportId,
      attempt,
      rowsWritten,
      fileSize,
      storageKey: key,
      expiresAt,
      manifest,
    });
    if (!ready) {
      await deps.storage.delete(key);
      return { superseded: true };
    }
    deps.metrics?.exportDuration.observe({ outcome: "ready" }, elapsed());
    deps.metrics?.exportRows.inc(rowsWritten);
    deps.metrics?.exportBytes.inc(fileSize);
    await publishProgress(deps, ready, "ready", rowsWritten);
    deps.logger.info("export ready", { exportId, rowsWritten, fileSize, attempt });
    await callFinishedHook(deps, { ...ready, status: "ready" });
    return { rowsWritten, fileSize };
  } catch (error) {
    if (error instanceof SupersededError) return { superseded: true };
    if (error instanceof ShutdownError && token) {
      await job.moveToWait(token);
      throw new WaitingError();
    }
    const message = error instanceof Error ? error.message : String(error);
    const final =
      error instanceof UnrecoverableError || job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    deps.logger.warn("export build failed", {
      exportId,
      attempt,
      final,
      error: message.slice(0, 300),
    });
    if (final) {
      deps.metrics?.exportDuration.observe({ outcome: "failed" }, elapsed());
      const failed = await markExportFailed(deps.db, {
        id: exportId,
        attempt,
        error: userFacingError(error, job.attemptsMade + 1),
      });
      if (failed) {
        await publishProgress(deps, failed, "failed", failed.rowsWritten);
        await callFinishedHook(deps, { ...failed, status: "failed" });
      }
    }
    throw error;
  }
}

/**
 * Writes the attempt's file, saving and publishing progress, counting the total beside it, and
 * signs its manifest. The file is cut at a signed checkpoint: it holds the matching entries with
 * seq ≤ the checkpoint's tree size, so the file and the checkpoint describe the same log (and an
 * unfiltered file rebuilds the checkpoint's root).
 */
async function buildFile(
  record: ExportRecord,
  key: string,
  deps: ExportBuildDeps,
): Promise<{ rowsWritten: number; fileSize: number; manifest: ExportManifest }> {
  // Stored by the API, possibly before unquoted operators were refused: read it as it was meant.
  const parsedQuery = parseQuery(record.query, {
    limits: storedQueryLimits,
    operatorsAsText: true,
  });
  if (!parsedQuery.ok) {
    throw new UnrecoverableError(`stored query is invalid: ${parsedQuery.error.message}`);
  }
  const query = parsedQuery.query;
  const signing = await loadCheckpointSigning(deps.checkpoint);
  const checkpoint = await cutAtCheckpoint(deps.db, record.orgId, signing, deps.checkpoint);
  const options = { includeHidden: record.includeHidden, maxSeq: checkpoint.treeSize };
  const attempt = record.attempt;
  // The entries are read where the checkpoint's are surely there: the replica once it has
  // replayed what the primary held after the cut (waited for up to READ_REPLICA_MAX_LAG_MS),
  // else the primary. Progress and the record stay on the primary.
  const reader = await deps.db.forReadsCaughtUp();

  if (!(await updateExportProgress(deps.db, { id: record.id, attempt, rowsWritten: 0 }))) {
    throw new SupersededError();
  }
  await publishProgress(deps, { ...record, estimatedTotal: null }, "running", 0);

  // The total only feeds the progress bar, so it is counted beside the build instead of before
  // it (counting 5,000,000 entries takes PostgreSQL more than a second), and a failed count
  // leaves the estimate empty rather than failing the export.
  let estimatedTotal: number | null = null;
  let rowsSoFar = 0;
  const counting = countMatchingEntries(reader, { orgId: record.orgId, query, options })
    .then(async (total) => {
      estimatedTotal = total;
      if (await setExportEstimatedTotal(deps.db, { id: record.id, attempt, estimatedTotal })) {
        await publishProgress(deps, { ...record, estimatedTotal }, "running", rowsSoFar);
      }
    })
    .catch((error: unknown) => {
      deps.logger.warn("export count failed", {
        exportId: record.id,
        error: error instanceof Error ? error.message.slice(0, 300) : String(error),
      });
    });

  const reportProgress = async (rowsWritten: number) => {
    rowsSoFar = rowsWritten;
    const owned = await updateExportProgress(deps.db, { id: record.id, attempt, rowsWritten });
    if (!owned) throw new SupersededError();
    await publishProgress(deps, { ...record, estimatedTotal }, "running", rowsWritten);
  };
  let written: Awaited<ReturnType<typeof writeExportFile>>;
  try {
    written = await writeExportFile(
      { orgId: record.orgId, query, options, format: record.format },
      {
        db: reader,
        storage: deps.storage,
        key,
        onProgress: reportProgress,
        shouldStop: () => (deps.shutdown.aborted ? new ShutdownError("worker stopping") : null),
        ...(deps.progressEvery ? { progressEvery: deps.progressEvery } : {}),
        ...(deps.batchSize ? { batchSize: deps.batchSize } : {}),
      },
    );
  } finally {
    await counting;
  }
  const summary = await summariseWrittenEntries(deps.db, reader, record.orgId, written, {
    query,
    options,
  });
  const manifest = signExportManifest(
    {
      version: 1,
      exportId: record.id,
      orgId: record.orgId,
      logOrigin: signing.logOrigin,
      format: record.format,
      rows: written.rowsWritten,
      fileSha256: written.sha256,
      fileSize: written.fileSize,
      query: record.query,
      includeHidden: record.includeHidden,
      // Every entry up to the checkpoint: no filter, hidden entries included.
      unfiltered: isEmptyQuery(query) && record.includeHidden,
      firstSeq: summary.firstSeq,
      lastSeq: summary.lastSeq,
      checkpoint,
      createdAt: new Date().toISOString(),
    },
    signing.signer,
  );
  return { rowsWritten: written.rowsWritten, fileSize: written.fileSize, manifest };
}

/**
 * The manifest's count and first and last seq. Cut at the checkpoint, the selection no longer
 * changes but for the retention purge, which removes an organisation's oldest entries: the file
 * read one snapshot, so it is still what matches unless a purge has since passed its lowest seq.
 * The writer saw every entry's seq, so that takes one read of where the retained entries begin,
 * instead of counting the selection again after the file (a second pass over every entry, while
 * nothing else runs: 145–220 ms of a 7–9 s build at 1,000,000 entries, 600 ms at 5,000,000).
 * Without the writer's figures (PostgreSQL rendered the lines), the selection is counted.
 */
export async function summariseWrittenEntries(
  primary: Database,
  reader: Database,
  orgId: string,
  written: { rowsWritten: number; seqs?: { first: number | null; last: number | null } },
  selection: { query: ParsedQuery; options: EntryQueryOptions },
): Promise<{ count: number; firstSeq: number | null; lastSeq: number | null }> {
  const removed = () =>
    new Error(
      `the file holds ${written.rowsWritten} entries, some of which are no longer there (entries removed during the build?)`,
    );
  if (written.seqs) {
    const { first, last } = written.seqs;
    if (first !== null && (await readRetainedFrom(primary, orgId)) > first) throw removed();
    return { count: written.rowsWritten, firstSeq: first, lastSeq: last };
  }
  const summary = await summariseMatchingEntries(reader, { orgId, ...selection });
  if (summary.count !== written.rowsWritten) throw removed();
  return summary;
}

async function publishProgress(
  deps: ExportBuildDeps,
  record: Pick<ExportRecord, "id" | "orgSlug" | "requestedBy" | "estimatedTotal">,
  status: ExportStatus,
  rowsWritten: number,
): Promise<void> {
  const message: RealtimeMessage = {
    userId: record.requestedBy,
    event: "export.progress",
    data: {
      exportId: record.id,
      orgSlug: record.orgSlug,
      status,
      rowsWritten,
      estimatedTotal: record.estimatedTotal,
    },
  };
  try {
    await deps.publisher.publish(realtimeChannels.exportProgress, JSON.stringify(message));
  } catch {
    // Live progress is a convenience: the row in `exports` is the truth, and Redis may be away.
  }
}

export async function callFinishedHook(
  deps: Pick<ExportBuildDeps, "onExportFinished" | "logger">,
  record: FinishedExportRecord,
) {
  try {
    await deps.onExportFinished(record);
  } catch (error) {
    deps.logger.error("export finished hook failed", {
      exportId: record.id,
      error: error instanceof Error ? error.message.slice(0, 300) : String(error),
    });
  }
}

/** What the requester reads: the kind of failure, never a stack, a query value or an address. */
export function userFacingError(error: unknown, tries: number): string {
  const code = (error as { code?: unknown } | null)?.code;
  let reason = "an internal error stopped the build";
  if (error instanceof UnrecoverableError && error.message.startsWith("stored query")) {
    reason = "its filter could not be read";
  } else if (code === "ENOSPC" || code === "EDQUOT") {
    reason = "export storage is full";
  } else if (isServiceOutage(error)) {
    reason = "the database was unavailable";
  } else if (code === "57014") {
    reason = "a database query took too long";
  } else if (error instanceof CheckpointUnavailableError) {
    reason = "the log's checkpoint could not be signed";
  }
  const triesText = tries === 1 ? "1 attempt" : `${tries} attempts`;
  return `The export failed after ${triesText}: ${reason}. Request a new export; if it fails again, contact your operator.`;
}
