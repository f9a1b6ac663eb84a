import {
  type AuditExport,
  type ExportFormat,
  type ExportManifest,
  type ExportStatus,
  newId,
  type ParsedQuery,
} from "@auditlog/events";
import { type Database, type Queryable, sqlOf } from "./database.ts";
import { buildEntryFilter, type EntryQueryOptions } from "./entry-queries.ts";

/**
 * Background exports (table `exports`). Plain SQL on the pool, like the other hot paths: the
 * worker has no Prisma client, and every state change is a conditional UPDATE so that only the
 * build attempt the row names can move it on.
 */
export interface ExportRecord {
  id: string;
  orgId: string;
  /** The organisation's slug (joined), for file names, progress messages and notifications. */
  orgSlug: string;
  requestedBy: string;
  requestedByName: string;
  format: ExportFormat;
  /** The whole filter printed in the query language. */
  query: string;
  includeHidden: boolean;
  status: ExportStatus;
  rowsWritten: number;
  estimatedTotal: number | null;
  fileSize: number | null;
  storageKey: string | null;
  error: string | null;
  createdAt: Date;
  startedAt: Date | null;
  finishedAt: Date | null;
  expiresAt: Date | null;
  /** Build attempts started so far: the current attempt's number while running. */
  attempt: number;
  /** The signed manifest, once ready. */
  manifest: ExportManifest | null;
}

interface ExportDbRow {
  id: string;
  org_id: string;
  org_slug: string;
  requested_by: string;
  requested_by_name: string;
  format: ExportFormat;
  query: string;
  include_hidden: boolean;
  status: ExportStatus;
  rows_written: string;
  estimated_total: string | null;
  file_size: string | null;
  storage_key: string | null;
  error: string | null;
  created_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  expires_at: Date | null;
  attempt: number;
  manifest: ExportManifest | null;
}

const exportColumns = `e.id, e.org_id, o.slug AS org_slug, e.requested_by, e.requested_by_name,
  e.format, e.query, e.include_hidden, e.status, e.rows_written, e.estimated_total, e.file_size,
  e.storage_key, e.error, e.created_at, e.started_at, e.finished_at, e.expires_at, e.attempts AS attempt,
  e.manifest`;

/** Runs an UPDATE … RETURNING e.* on `exports e` and joins the slug in for the result. */
function returning(update: string): string {
  return `WITH e AS (${update} RETURNING *)
    SELECT ${exportColumns} FROM e JOIN organizations o ON o.id = e.org_id`;
}

const toNumber = (value: string | null) => (value === null ? null : Number(value));

function toRecord(row: ExportDbRow): ExportRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    orgSlug: row.org_slug,
    requestedBy: row.requested_by,
    requestedByName: row.requested_by_name,
    format: row.format,
    query: row.query,
    includeHidden: row.include_hidden,
    status: row.status,
    rowsWritten: Number(row.rows_written),
    estimatedTotal: toNumber(row.estimated_total),
    fileSize: toNumber(row.file_size),
    storageKey: row.storage_key,
    error: row.error,
    createdAt: row.created_at,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
    expiresAt: row.expires_at,
    attempt: row.attempt,
    manifest: row.manifest,
  };
}

async function one(db: Queryable, sql: string, values: unknown[]): Promise<ExportRecord | null> {
  const { rows } = await db.query<ExportDbRow>(sql, values);
  return rows[0] ? toRecord(rows[0]) : null;
}

/**
 * A ready file past its expiry is expired even before the sweep deletes it; the API reports
 * (and enforces) that at once.
 */
export function effectiveExportStatus(record: ExportRecord, now = new Date()): ExportStatus {
  if (record.status === "ready" && record.expiresAt && record.expiresAt <= now) return "expired";
  return record.status;
}

/** The API's export object (packages/events exportSchema). */
export function toAuditExport(record: ExportRecord, now = new Date()): AuditExport {
  return {
    id: record.id,
    status: effectiveExportStatus(record, now),
    format: record.format,
    query: record.query,
    requestedBy: { id: record.requestedBy, name: record.requestedByName },
    rowsWritten: record.rowsWritten,
    estimatedTotal: record.estimatedTotal,
    fileSize: record.fileSize,
    error: record.error,
    createdAt: record.createdAt.toISOString(),
    startedAt: record.startedAt?.toISOString() ?? null,
    finishedAt: record.finishedAt?.toISOString() ?? null,
    expiresAt: record.expiresAt?.toISOString() ?? null,
    manifest: record.manifest,
  };
}

export async function createExport(
  db: Database,
  input: {
    orgId: string;
    requestedBy: { id: string; name: string };
    format: ExportFormat;
    query: string;
    includeHidden: boolean;
  },
): Promise<ExportRecord> {
  return insertExport(sqlOf(db), input);
}

async function insertExport(
  db: Queryable,
  input: Parameters<typeof createExport>[1],
): Promise<ExportRecord> {
  const record = await one(
    db,
    returning(`INSERT INTO exports (id, org_id, requested_by, requested_by_name, format, query, include_hidden)
      VALUES ($1, $2, $3, $4, $5, $6, $7)`),
    [
      newId("exp"),
      input.orgId,
      input.requestedBy.id,
      input.requestedBy.name,
      input.format,
      input.query,
      input.includeHidden,
    ],
  );
  if (!record) throw new Error("export insert returned no row");
  return record;
}

/** Advisory-lock namespace of the per-organisation export cap (any constant of our own). */
const exportCapLock = 7_114_201;

/**
 * Creates the export unless its organisation already has `maxPending` exports queued or
 * running. The count and the insert run in one transaction under a per-organisation advisory
 * lock, so concurrent requests cannot all slip under the cap. Answers the record and how many of
 * the organisation's exports were pending before it (its place in the organisation's line, which
 * the build's queue priority uses), or null at the cap.
 */
export async function createExportWithinCap(
  db: Database,
  input: Parameters<typeof createExport>[1],
  maxPending: number,
): Promise<{ record: ExportRecord; pendingBefore: number } | null> {
  const client = await sqlOf(db).connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock($1, hashtext($2))", [
      exportCapLock,
      input.orgId,
    ]);
    const { rows } = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM exports WHERE org_id = $1 AND status IN ('queued', 'running')",
      [input.orgId],
    );
    const pendingBefore = rows[0]?.n ?? 0;
    if (pendingBefore >= maxPending) {
      await client.query("ROLLBACK");
      client.release();
      return null;
    }
    const record = await insertExport(client, input);
    await client.query("COMMIT");
    client.release();
    return { record, pendingBefore };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    client.release(error as Error);
    throw error;
  }
}

/** One organisation's export: another organisation's id is simply not found. */
export async function getExport(
  db: Database,
  orgId: string,
  id: string,
): Promise<ExportRecord | null> {
  return one(
    sqlOf(db),
    `SELECT ${exportColumns} FROM exports e JOIN organizations o ON o.id = e.org_id
     WHERE e.org_id = $1 AND e.id = $2`,
    [orgId, id],
  );
}

/** By id alone: for the worker and for signed links, which carry no organisation. */
export async function getExportById(db: Database, id: string): Promise<ExportRecord | null> {
  return one(
    sqlOf(db),
    `SELECT ${exportColumns} FROM exports e JOIN organizations o ON o.id = e.org_id WHERE e.id = $1`,
    [id],
  );
}

export async function listExports(
  db: Database,
  orgId: string,
  options: { limit: number },
): Promise<ExportRecord[]> {
  const { rows } = await sqlOf(db).query<ExportDbRow>(
    `SELECT ${exportColumns} FROM exports e JOIN organizations o ON o.id = e.org_id
     WHERE e.org_id = $1 ORDER BY e.created_at DESC, e.id DESC LIMIT $2`,
    [orgId, options.limit],
  );
  return rows.map(toRecord);
}

export async function deleteExport(db: Database, id: string): Promise<void> {
  await sqlOf(db).query("DELETE FROM exports WHERE id = $1", [id]);
}

/**
 * Starts a build attempt: a queued export, or a running one whose worker died, becomes running
 * with its counters reset and `attempts` incremented (the new attempt's number). Null when the
 * export is gone or already finished (ready, failed, expired): nothing to build.
 */
export async function startExportAttempt(db: Database, id: string): Promise<ExportRecord | null> {
  return one(
    sqlOf(db),
    returning(`UPDATE exports SET status = 'running', attempts = attempts + 1, rows_written = 0,
      estimated_total = NULL, error = NULL, started_at = now()
      WHERE id = $1 AND status IN ('queued', 'running')`),
    [id],
  );
}

/** Progress of the current attempt; false when another attempt has taken over. */
export async function updateExportProgress(
  db: Database,
  input: { id: string; attempt: number; rowsWritten: number; estimatedTotal?: number },
): Promise<boolean> {
  const result = await sqlOf(db).query(
    `UPDATE exports SET rows_written = $3, estimated_total = COALESCE($4, estimated_total)
     WHERE id = $1 AND attempts = $2 AND status = 'running'`,
    [input.id, input.attempt, input.rowsWritten, input.estimatedTotal ?? null],
  );
  return (result.rowCount ?? 0) > 0;
}

/** The count of matching entries, known once the build is under way. */
export async function setExportEstimatedTotal(
  db: Database,
  input: { id: string; attempt: number; estimatedTotal: number },
): Promise<boolean> {
  const result = await sqlOf(db).query(
    `UPDATE exports SET estimated_total = $3
     WHERE id = $1 AND attempts = $2 AND status = 'running'`,
    [input.id, input.attempt, input.estimatedTotal],
  );
  return (result.rowCount ?? 0) > 0;
}

/** Null when the attempt no longer owns the export (its file must then be discarded). */
export async function markExportReady(
  db: Database,
  input: {
    id: string;
    attempt: number;
    rowsWritten: number;
    fileSize: number;
    storageKey: string;
    expiresAt: Date;
    manifest: ExportManifest;
  },
): Promise<ExportRecord | null> {
  return one(
    sqlOf(db),
    returning(`UPDATE exports SET status = 'ready', rows_written = $3, file_size = $4,
      storage_key = $5, expires_at = $6, manifest = $7::jsonb, finished_at = now(), error = NULL
      WHERE id = $1 AND attempts = $2 AND status = 'running'`),
    [
      input.id,
      input.attempt,
      input.rowsWritten,
      input.fileSize,
      input.storageKey,
      input.expiresAt.toISOString(),
      JSON.stringify(input.manifest),
    ],
  );
}

/**
 * Marks an unfinished export failed. With `attempt`, only while that attempt owns it; without,
 * whatever attempt (for the API when queueing fails, and the sweep of abandoned builds).
 */
export async function markExportFailed(
  db: Database,
  input: { id: string; error: string; attempt?: number },
): Promise<ExportRecord | null> {
  return one(
    sqlOf(db),
    returning(`UPDATE exports SET status = 'failed', error = $2, finished_at = now()
      WHERE id = $1 AND status IN ('queued', 'running') AND ($3::int IS NULL OR attempts = $3)`),
    [input.id, input.error, input.attempt ?? null],
  );
}

/** Ready exports whose file has passed its expiry, oldest first. */
export async function listExpiredExports(
  db: Database,
  input: { now: Date; limit: number },
): Promise<ExportRecord[]> {
  const { rows } = await sqlOf(db).query<ExportDbRow>(
    `SELECT ${exportColumns} FROM exports e JOIN organizations o ON o.id = e.org_id
     WHERE e.status = 'ready' AND e.expires_at <= $1 ORDER BY e.expires_at LIMIT $2`,
    [input.now.toISOString(), input.limit],
  );
  return rows.map(toRecord);
}

/** Call once the file is deleted; a no-op for an export that is no longer ready. */
export async function markExportExpired(db: Database, id: string): Promise<ExportRecord | null> {
  return one(
    sqlOf(db),
    returning(`UPDATE exports SET status = 'expired' WHERE id = $1 AND status = 'ready'`),
    [id],
  );
}

/** Queued or running exports created before `createdBefore`: candidates for the abandoned sweep. */
export async function listUnfinishedExports(
  db: Database,
  input: { createdBefore: Date; limit: number },
): Promise<ExportRecord[]> {
  const { rows } = await sqlOf(db).query<ExportDbRow>(
    `SELECT ${exportColumns} FROM exports e JOIN organizations o ON o.id = e.org_id
     WHERE e.status IN ('queued', 'running') AND e.created_at < $1
     ORDER BY e.created_at LIMIT $2`,
    [input.createdBefore.toISOString(), input.limit],
  );
  return rows.map(toRecord);
}

/**
 * How many entries a query selects and their smallest and largest seq: what an export's
 * manifest states. Exact for an export cut at a checkpoint (options.maxSeq), whatever snapshot
 * it reads, because that selection no longer changes.
 */
export async function summariseMatchingEntries(
  db: Database,
  input: { orgId: string; query: ParsedQuery; options?: EntryQueryOptions },
): Promise<{ count: number; firstSeq: number | null; lastSeq: number | null }> {
  const { where, params } = buildEntryFilter(input.orgId, input.query, input.options);
  const { rows } = await sqlOf(db).query<{ n: string; first: string | null; last: string | null }>(
    `SELECT count(*)::text AS n, min(seq)::text AS first, max(seq)::text AS last
     FROM audit_entries WHERE ${where}`,
    params.values,
  );
  const row = rows[0];
  return {
    count: Number(row?.n ?? 0),
    firstSeq: row?.first == null ? null : Number(row.first),
    lastSeq: row?.last == null ? null : Number(row.last),
  };
}

/** How many entries a query selects: the export's estimated total (and the test's yardstick). */
export async function countMatchingEntries(
  db: Database,
  input: { orgId: string; query: ParsedQuery; options?: EntryQueryOptions },
): Promise<number> {
  const { where, params } = buildEntryFilter(input.orgId, input.query, input.options);
  const { rows } = await sqlOf(db).query<{ n: string }>(
    `SELECT count(*)::text AS n FROM audit_entries WHERE ${where}`,
    params.values,
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Finished exports (failed, or expired: their file already deleted) whose record is older than
 * `finishedBefore`: what the lifecycle job removes for good, files of every attempt included.
 */
export async function listAgedExports(
  db: Database,
  input: { finishedBefore: Date; limit: number },
): Promise<ExportRecord[]> {
  const { rows } = await sqlOf(db).query<ExportDbRow>(
    `SELECT ${exportColumns} FROM exports e JOIN organizations o ON o.id = e.org_id
     WHERE e.status IN ('failed', 'expired')
       AND COALESCE(e.expires_at, e.finished_at, e.created_at) < $1
     ORDER BY e.created_at LIMIT $2`,
    [input.finishedBefore.toISOString(), input.limit],
  );
  return rows.map(toRecord);
}
