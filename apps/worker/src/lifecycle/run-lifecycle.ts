import {
  type Database,
  deleteAgedDeadLetters,
  deleteAgedNotifications,
  deleteExpiredSessions,
  deleteExport,
  listAgedExports,
  listExpiredExports,
  listRetentionTargets,
  markExportExpired,
  markPurgeRecorded,
  PurgeRefusedError,
  purgeAgedEntries,
  type RetentionTarget,
} from "@auditlog/db";
import { effectiveRetentionDays, type RetentionBounds } from "@auditlog/events";
import type { JobProducer } from "@auditlog/events/jobs";
import { type ExportStorage, exportFileKey } from "@auditlog/exports";
import type { Logger } from "@auditlog/observability";
import { recordWorkerAction } from "./record-log-entry.ts";

const dayMs = 24 * 3600 * 1000;

/** How long each kind of data other than audit entries is kept (README, "Purges"). */
export interface AgeingPeriods {
  deadLetterDays: number;
  notificationDays: number;
  /** Days after its expiry that a session's row goes. */
  expiredSessionDays: number;
  /** Days after its file expired (or its build failed) that an export's record goes. */
  exportRecordDays: number;
}

export interface LifecycleDeps {
  db: Database;
  logger: Logger;
  storage: ExportStorage;
  /** The ingest queue: each purge is recorded in the organisation's own log through it. */
  ingest: JobProducer<"ingest">;
  bounds: RetentionBounds;
  periods: AgeingPeriods;
  purge: { batchSize: number; pauseMs: number };
  /** The time the run takes as now; tests move it instead of waiting days. */
  now: () => Date;
  /** Set when the worker stops: purges end between batches, the rest of the run is skipped. */
  signal?: AbortSignal;
}

export interface PurgedLog {
  orgId: string;
  entries: number;
  throughSeq: number;
  retentionDays: number;
}

export interface LifecycleSummary {
  purged: PurgedLog[];
  /** Organisations left alone under legal hold. */
  held: number;
  /** Organisations whose purge failed (logged); the next run tries again. */
  failed: number;
  deadLetters: number;
  notifications: number;
  sessions: number;
  /** Ready exports whose file passed its expiry: file deleted, record marked expired. */
  exportsExpired: number;
  /** Finished export records past their period: removed, with any file left. */
  exportsRemoved: number;
}

/**
 * `lifecycle.run`: purges every organisation's entries past its retention (each purge recorded
 * in that organisation's log as `org.audit_log.purge`), then ages the rest of the data. Every
 * step resumes where the last one stopped, so a failed or interrupted run loses nothing.
 */
export async function runLifecycle(deps: LifecycleDeps): Promise<LifecycleSummary> {
  const now = deps.now();
  const summary: LifecycleSummary = {
    purged: [],
    held: 0,
    failed: 0,
    deadLetters: 0,
    notifications: 0,
    sessions: 0,
    exportsExpired: 0,
    exportsRemoved: 0,
  };
  let after: string | undefined;
  for (;;) {
    const targets = await listRetentionTargets(deps.db, {
      limit: 500,
      ...(after ? { afterOrgId: after } : {}),
    });
    for (const target of targets) {
      if (deps.signal?.aborted) return summary;
      const days = effectiveRetentionDays(target.plan, target.days, deps.bounds);
      try {
        let retainedFrom = target.retainedFrom;
        // A plan without an audit log has no retention: what it holds (from an older plan)
        // stays until the plan is known again, rather than vanish on a downgrade.
        if (days !== null && target.legalHold) summary.held++;
        if (days !== null && !target.legalHold) {
          const result = await purgeAgedEntries(deps.db, target.orgId, {
            storedBefore: new Date(now.getTime() - days * dayMs),
            batchSize: deps.purge.batchSize,
            pauseMs: deps.purge.pauseMs,
            ...(deps.signal ? { signal: deps.signal } : {}),
          });
          if (result.stoppedBy === "legal-hold") summary.held++;
          retainedFrom = Math.max(retainedFrom, result.retainedFrom);
          if (result.entries > 0) {
            const purged = {
              orgId: target.orgId,
              entries: result.entries,
              throughSeq: result.throughSeq,
              retentionDays: days,
            };
            summary.purged.push(purged);
            deps.logger.info("audit log purged", purged);
          }
        }
        await recordPurge(deps, target, retainedFrom - 1, days);
      } catch (error) {
        summary.failed++;
        deps.logger.error(
          error instanceof PurgeRefusedError ? "purge refused" : "purge failed; next run retries",
          { orgId: target.orgId, error: (error as Error).message },
        );
      }
    }
    if (targets.length < 500) break;
    after = targets.at(-1)?.orgId;
  }
  if (deps.signal?.aborted) return summary;

  const before = (days: number) => new Date(now.getTime() - days * dayMs);
  summary.deadLetters = await deleteAgedDeadLetters(deps.db, before(deps.periods.deadLetterDays));
  summary.notifications = await deleteAgedNotifications(
    deps.db,
    before(deps.periods.notificationDays),
  );
  summary.sessions = await deleteExpiredSessions(deps.db, before(deps.periods.expiredSessionDays));
  await ageExports(deps, now, summary);
  deps.logger.info("lifecycle run", {
    purgedOrgs: summary.purged.length,
    purgedEntries: summary.purged.reduce((sum, p) => sum + p.entries, 0),
    held: summary.held,
    failed: summary.failed,
    deadLetters: summary.deadLetters,
    notifications: summary.notifications,
    sessions: summary.sessions,
    exportsExpired: summary.exportsExpired,
    exportsRemoved: summary.exportsRemoved,
  });
  return summary;
}

/**
 * Files first, then rows (as the export sweep does): a failure leaves a row to retry, never a row
 * pointing nowhere or a file no row knows about.
 */
async function ageExports(deps: LifecycleDeps, now: Date, summary: LifecycleSummary) {
  const limit = 200;
  // The hourly sweep (role `exports`) does this on the real clock; here on the run's, so a
  // deployment without the sweep still expires files.
  for (;;) {
    const batch = await listExpiredExports(deps.db, { now, limit });
    for (const record of batch) {
      if (record.storageKey) await deps.storage.delete(record.storageKey);
      if (await markExportExpired(deps.db, record.id)) summary.exportsExpired++;
    }
    if (batch.length < limit) break;
  }
  const finishedBefore = new Date(now.getTime() - deps.periods.exportRecordDays * dayMs);
  for (;;) {
    const batch = await listAgedExports(deps.db, { finishedBefore, limit });
    for (const record of batch) {
      // Every attempt's file: a failed build may have left a partial one behind.
      if (record.storageKey) await deps.storage.delete(record.storageKey);
      for (let attempt = 1; attempt <= record.attempt; attempt++) {
        await deps.storage.delete(exportFileKey(record, attempt));
      }
      await deleteExport(deps.db, record.id);
      summary.exportsRemoved++;
    }
    if (batch.length < limit) break;
  }
}

/**
 * Puts on the record every purged seq not yet there: this run's purge, and any an earlier run
 * purged but could not record (a worker killed between its last batch and its record). After
 * the purge, not before: only then are its count and last seq known. The id is the last seq, so
 * recording it again (a retried job, two workers) stores it once; the mark moves only after the
 * event is queued, so a crash before it records the range again, never loses it.
 */
async function recordPurge(
  deps: LifecycleDeps,
  target: RetentionTarget,
  throughSeq: number,
  retentionDays: number | null,
): Promise<void> {
  const entries = throughSeq - target.purgeRecordedThrough;
  if (entries <= 0) return;
  await recordWorkerAction(deps.ingest, {
    orgId: target.orgId,
    id: `purge-${throughSeq}`,
    at: deps.now(),
    event: {
      type: "org.audit_log.purge",
      target: { type: "organization", id: target.slug, name: target.name },
      data: { entries, throughSeq, ...(retentionDays !== null ? { retentionDays } : {}) },
    },
  });
  await markPurgeRecorded(deps.db, target.orgId, throughSeq);
}
