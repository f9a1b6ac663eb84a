import type { LogStream, StreamDestination, StreamDestinationType } from "@auditlog/events";
import { type Database, type Queryable, sqlOf } from "./database.ts";

/**
 * An organisation's log streams (table `log_streams`, issue 17) as the API and the CLI manage
 * them: create, list, find, update, delete, always within one organisation (another
 * organisation's id reads as absent). The delivery state (cursor, failures, lease) is the
 * worker's (`stream-delivery.ts`); here it is only read, to answer `state` and `lag`, and reset
 * where a change of configuration makes it stale.
 */

/** A stream's row with what only the server may see: the sealed secret. */
export interface StoredLogStream {
  id: string;
  orgId: string;
  name: string;
  destinationType: StreamDestinationType;
  destination: StreamDestination;
  secretSealed: string | null;
  secretHint: string | null;
  query: string;
  deliveredSeq: number;
  paused: boolean;
}

export interface LogStreamReadOptions {
  /** STREAM_FAILING_AFTER_SECONDS: failures for longer than this make a stream `failing`. */
  failingAfterSeconds: number;
}

interface StreamSqlRow {
  id: string;
  org_id: string;
  name: string;
  destination_type: StreamDestinationType;
  destination: Omit<StreamDestination, "type">;
  secret_sealed: string | null;
  secret_hint: string | null;
  query: string;
  delivered_seq: number;
  paused: boolean;
  failing_since: Date | null;
  last_error: string | null;
  last_error_at: Date | null;
  last_success_at: Date | null;
  created_at: Date;
  updated_at: Date;
}

interface AnsweredSqlRow extends StreamSqlRow {
  failing: boolean;
  log_size: number;
  lag_seconds: number | null;
}

const streamColumns = `s.id, s.org_id, s.name, s.destination_type, s.destination, s.secret_sealed,
  s.secret_hint, s.query, s.delivered_seq::float8 AS delivered_seq, s.paused, s.failing_since,
  s.last_error, s.last_error_at, s.last_success_at, s.created_at, s.updated_at`;

/**
 * Streams with their lag, in one statement for any number of streams: the log's size from its
 * head row, and the stored time of the first entry past each cursor (one probe of the
 * (org_id, seq) index per stream that is behind). `failing` is decided by the database's clock,
 * the one `failing_since` was written with.
 */
const selectAnswered = (where: string) => `
  SELECT ${streamColumns},
    (s.failing_since IS NOT NULL
      AND s.failing_since < now() - make_interval(secs => $2)) AS failing,
    COALESCE(h.size, 0)::float8 AS log_size,
    GREATEST(0, EXTRACT(EPOCH FROM now() - f.stored_at))::float8 AS lag_seconds
  FROM log_streams s
  LEFT JOIN audit_log_heads h ON h.org_id = s.org_id
  LEFT JOIN LATERAL (
    SELECT e.stored_at FROM audit_entries e
    WHERE e.org_id = $1 AND e.seq > s.delivered_seq AND s.delivered_seq < h.size
    ORDER BY e.seq LIMIT 1
  ) f ON true
  WHERE s.org_id = $1 ${where}
  ORDER BY s.created_at, s.id`;

const iso = (date: Date | null) => (date ? date.toISOString() : null);

function toStored(row: StreamSqlRow): StoredLogStream {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    destinationType: row.destination_type,
    destination: storedDestination(row.destination_type, row.destination) as StreamDestination,
    secretSealed: row.secret_sealed,
    secretHint: row.secret_hint,
    query: row.query,
    deliveredSeq: row.delivered_seq,
    paused: row.paused,
  };
}

function toLogStream(row: AnsweredSqlRow): LogStream {
  return {
    id: row.id,
    name: row.name,
    destination: storedDestination(row.destination_type, row.destination) as StreamDestination,
    secretHint: row.secret_hint,
    q: row.query,
    state: row.paused ? "paused" : row.failing ? "failing" : "active",
    deliveredSeq: row.delivered_seq,
    lag: {
      entries: Math.max(0, row.log_size - row.delivered_seq),
      seconds: Math.round((row.lag_seconds ?? 0) * 1000) / 1000,
    },
    lastError: row.last_error,
    lastErrorAt: iso(row.last_error_at),
    lastSuccessAt: iso(row.last_success_at),
    failingSince: iso(row.failing_since),
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The organisation's streams, oldest first, with state and lag. */
export async function listLogStreams(
  db: Database,
  orgId: string,
  options: LogStreamReadOptions,
): Promise<LogStream[]> {
  const { rows } = await sqlOf(db).query<AnsweredSqlRow>(selectAnswered(""), [
    orgId,
    options.failingAfterSeconds,
  ]);
  return rows.map(toLogStream);
}

/** One of the organisation's streams, or null (also for another organisation's id). */
export async function findLogStream(
  db: Database,
  input: { orgId: string; id: string },
  options: LogStreamReadOptions,
): Promise<LogStream | null> {
  const { rows } = await sqlOf(db).query<AnsweredSqlRow>(selectAnswered("AND s.id = $3"), [
    input.orgId,
    options.failingAfterSeconds,
    input.id,
  ]);
  const row = rows[0];
  return row ? toLogStream(row) : null;
}

/** One of the organisation's streams as stored, sealed secret included (never answered). */
export async function findStoredLogStream(
  db: Database,
  input: { orgId: string; id: string },
): Promise<StoredLogStream | null> {
  return readStored(sqlOf(db), input, false);
}

async function readStored(
  on: Queryable,
  input: { orgId: string; id: string },
  lock: boolean,
): Promise<StoredLogStream | null> {
  const { rows } = await on.query<StreamSqlRow>(
    `SELECT ${streamColumns} FROM log_streams s WHERE s.org_id = $1 AND s.id = $2${lock ? " FOR UPDATE" : ""}`,
    [input.orgId, input.id],
  );
  const row = rows[0];
  return row ? toStored(row) : null;
}

/** Runs `work` in a transaction on one connection; rolled back when it throws. */
async function inTransaction<T>(db: Database, work: (on: Queryable) => Promise<T>): Promise<T> {
  const client = await sqlOf(db).connect();
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * The `destination` column an insert or an update writes: the settings without the type (kept
 * in `destination_type`, where a CHECK holds it to the known ones) and without the secret.
 */
export function destinationSettingsJson(destination: StreamDestination): string {
  const { type: _type, ...settings } = destination;
  return JSON.stringify(settings);
}

/**
 * A stored row's destination as the API takes it and the worker parses it: the settings of the
 * `destination` column with the row's `destination_type` as `type`. Every reader of the row goes
 * through here; a reader that did not (the worker's claim) refused every stream the API made.
 */
export function storedDestination(type: string, settings: unknown): Record<string, unknown> {
  const object = settings !== null && typeof settings === "object" ? settings : {};
  return { ...object, type };
}

export interface NewLogStream {
  id: string;
  orgId: string;
  name: string;
  destination: StreamDestination;
  secretSealed: string | null;
  secretHint: string | null;
  query: string;
  deliveredSeq: number;
  createdBy: string;
}

/**
 * Stores a stream unless the organisation already has `max` (`limit`). The organisation's
 * streams are counted under a lock on the organisation's row, so two creations at once cannot
 * both pass the limit; `beforeCommit` runs before the row is committed (the caller records
 * the creation in the log: if that throws, nothing is stored).
 */
export async function insertLogStream(
  db: Database,
  input: NewLogStream & { max: number },
  beforeCommit: (stream: StoredLogStream) => Promise<void> = async () => {},
): Promise<{ ok: true; stream: StoredLogStream } | { ok: false; reason: "limit" }> {
  return inTransaction(db, async (on) => {
    await on.query("SELECT 1 FROM organizations WHERE id = $1 FOR UPDATE", [input.orgId]);
    const { rows: counted } = await on.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM log_streams WHERE org_id = $1",
      [input.orgId],
    );
    if ((counted[0]?.n ?? 0) >= input.max) return { ok: false, reason: "limit" } as const;
    const { rows } = await on.query<StreamSqlRow>(
      `INSERT INTO log_streams AS s (id, org_id, name, destination_type, destination, secret_sealed,
         secret_hint, query, delivered_seq, created_by)
       VALUES ($1, $2, $3, $4, $5::jsonb, $6, $7, $8, $9, $10)
       RETURNING ${streamColumns}`,
      [
        input.id,
        input.orgId,
        input.name,
        input.destination.type,
        destinationSettingsJson(input.destination),
        input.secretSealed,
        input.secretHint,
        input.query,
        input.deliveredSeq,
        input.createdBy,
      ],
    );
    const stream = toStored(rows[0] as StreamSqlRow);
    await beforeCommit(stream);
    return { ok: true, stream } as const;
  });
}

export interface LogStreamChange {
  name?: string;
  query?: string;
  paused?: boolean;
  /** A new destination, with its sealed secret and hint (the stored ones when kept). */
  destination?: {
    settings: StreamDestination;
    secretSealed: string | null;
    secretHint: string | null;
  };
}

/**
 * Applies a change to one of the organisation's streams in one transaction (the row locked, so
 * two admins saving at once see each other's change as `before`); `beforeCommit` gets the
 * stream before and after (the caller checks and records it; if it throws, nothing changes).
 * A new destination, or a stream resumed, is tried at once: the backoff of the old failures no
 * longer applies. Null when the organisation has no such stream.
 */
export async function updateLogStream(
  db: Database,
  input: { orgId: string; id: string; change: LogStreamChange },
  beforeCommit: (before: StoredLogStream, after: StoredLogStream) => Promise<void> = async () => {},
): Promise<{ before: StoredLogStream; after: StoredLogStream } | null> {
  return inTransaction(db, async (on) => {
    const before = await readStored(on, input, true);
    if (!before) return null;
    const { change } = input;
    const destination = change.destination;
    const after: StoredLogStream = {
      ...before,
      name: change.name ?? before.name,
      query: change.query ?? before.query,
      paused: change.paused ?? before.paused,
      ...(destination
        ? {
            destinationType: destination.settings.type,
            destination: destination.settings,
            secretSealed: destination.secretSealed,
            secretHint: destination.secretHint,
          }
        : {}),
    };
    await beforeCommit(before, after);
    const retryNow = destination !== undefined || (before.paused && !after.paused);
    await on.query(
      `UPDATE log_streams SET name = $3, query = $4, paused = $5, destination_type = $6,
         destination = $7::jsonb, secret_sealed = $8, secret_hint = $9, updated_at = now(),
         next_attempt_at = CASE WHEN $10 THEN NULL ELSE next_attempt_at END,
         consecutive_failures = CASE WHEN $11 THEN 0 ELSE consecutive_failures END,
         failing_since = CASE WHEN $11 THEN NULL ELSE failing_since END,
         failing_notified_at = CASE WHEN $11 THEN NULL ELSE failing_notified_at END
       WHERE org_id = $1 AND id = $2`,
      [
        input.orgId,
        input.id,
        after.name,
        after.query,
        after.paused,
        after.destinationType,
        destinationSettingsJson(after.destination),
        after.secretSealed,
        after.secretHint,
        retryNow,
        // A new destination starts healthy: the old one's failures say nothing about it.
        destination !== undefined,
      ],
    );
    return { before, after };
  });
}

/**
 * Deletes one of the organisation's streams; `beforeCommit` gets it first (the caller records
 * the deletion). False when the organisation has no such stream.
 */
export async function deleteLogStream(
  db: Database,
  input: { orgId: string; id: string },
  beforeCommit: (stream: StoredLogStream) => Promise<void> = async () => {},
): Promise<boolean> {
  return inTransaction(db, async (on) => {
    const stream = await readStored(on, input, true);
    if (!stream) return false;
    await beforeCommit(stream);
    await on.query("DELETE FROM log_streams WHERE org_id = $1 AND id = $2", [
      input.orgId,
      input.id,
    ]);
    return true;
  });
}
