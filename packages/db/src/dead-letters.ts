import { type Database, sqlOf } from "./database.ts";
import { toPostgresJsonReplacingNul, withoutNul } from "./json-text.ts";

export interface DeadLetterRow {
  orgId: string;
  /** The event id when there is one, else a key derived from the job and position. */
  dedupeKey: string;
  eventId: string | null;
  eventType: string | null;
  reason: string;
  issues: unknown;
  /** The refused event, with any IP already truncated. */
  payload: unknown;
  receivedAt: Date;
}

const insertDeadLettersSql = `
  INSERT INTO dead_letters (org_id, dedupe_key, event_id, event_type, reason, issues, payload, received_at)
  SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::jsonb[], $7::jsonb[], $8::timestamptz[])
  ON CONFLICT (org_id, dedupe_key) DO UPDATE
    SET reason = EXCLUDED.reason, issues = EXCLUDED.issues, payload = EXCLUDED.payload,
        replayed_at = NULL, replayed_event_id = NULL
    WHERE dead_letters.replayed_at IS NOT NULL`;

/**
 * Stores refused events, each once (a retried job's dead letters are skipped). An event refused
 * again after an operator replayed it (a worker still on an older catalog took the replay) is
 * not skipped: its dead letter is unmarked, with the new reason, so it shows as refused again
 * instead of as replayed while it was never stored. A dead letter
 * holds what PostgreSQL refused elsewhere, so NUL becomes U+FFFD here: the last resort must not
 * fail, or the job that refused the event would retry for days.
 */
export async function insertDeadLetters(
  db: Database,
  rows: readonly DeadLetterRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await sqlOf(db).query(insertDeadLettersSql, [
    rows.map((r) => withoutNul(r.orgId)),
    rows.map((r) => withoutNul(r.dedupeKey)),
    rows.map((r) => (r.eventId === null ? null : withoutNul(r.eventId))),
    rows.map((r) => (r.eventType === null ? null : withoutNul(r.eventType))),
    rows.map((r) => withoutNul(r.reason)),
    rows.map((r) => toPostgresJsonReplacingNul(r.issues ?? [])),
    rows.map((r) => toPostgresJsonReplacingNul(r.payload ?? null)),
    rows.map((r) => r.receivedAt.toISOString()),
  ]);
  return result.rowCount ?? 0;
}

/** A stored dead letter, as the API's view and the CLI's replay read it. */
export interface DeadLetterRecord {
  /** The bigint identity, in decimal. */
  id: string;
  orgId: string;
  dedupeKey: string;
  eventId: string | null;
  eventType: string | null;
  reason: string;
  issues: unknown;
  payload: unknown;
  receivedAt: Date;
  createdAt: Date;
  replayedAt: Date | null;
  replayedEventId: string | null;
}

interface DeadLetterSqlRow {
  id: string;
  org_id: string;
  dedupe_key: string;
  event_id: string | null;
  event_type: string | null;
  reason: string;
  issues: unknown;
  payload: unknown;
  received_at: Date;
  created_at: Date;
  replayed_at: Date | null;
  replayed_event_id: string | null;
}

// `id` comes out as text (a bigint beyond 2^53 would not survive as a JS number): every ORDER BY
// names `dead_letters.id`, since a bare `id` there sorts by this text ("9" after "10").
const deadLetterColumns = `id::text AS id, org_id, dedupe_key, event_id, event_type, reason, issues,
  payload, received_at, created_at, replayed_at, replayed_event_id`;

function toRecord(row: DeadLetterSqlRow): DeadLetterRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    dedupeKey: row.dedupe_key,
    eventId: row.event_id,
    eventType: row.event_type,
    reason: row.reason,
    issues: row.issues,
    payload: row.payload,
    receivedAt: row.received_at,
    createdAt: row.created_at,
    replayedAt: row.replayed_at,
    replayedEventId: row.replayed_event_id,
  };
}

/**
 * One organisation's dead letters, newest first (by id: the order the worker refused them),
 * older than `before` when given; `unreplayed` leaves out those already replayed.
 */
export async function listDeadLetters(
  db: Database,
  input: { orgId: string; limit: number; before?: string; unreplayed?: boolean },
): Promise<DeadLetterRecord[]> {
  const { rows } = await sqlOf(db).query<DeadLetterSqlRow>(
    `SELECT ${deadLetterColumns} FROM dead_letters
     WHERE org_id = $1 AND ($2::bigint IS NULL OR id < $2::bigint)
       AND (NOT $3 OR replayed_at IS NULL)
     ORDER BY dead_letters.id DESC LIMIT $4`,
    [input.orgId, input.before ?? null, input.unreplayed ?? false, input.limit],
  );
  return rows.map(toRecord);
}

/**
 * The organisation's dead letters a replay takes, oldest first: those with the given ids, or,
 * without ids, the next `limit` not yet replayed after `after` (a replay of everything pages).
 */
export async function deadLettersToReplay(
  db: Database,
  input: { orgId: string; ids?: readonly string[]; after?: string; limit: number },
): Promise<DeadLetterRecord[]> {
  const { rows } = input.ids
    ? await sqlOf(db).query<DeadLetterSqlRow>(
        `SELECT ${deadLetterColumns} FROM dead_letters
         WHERE org_id = $1 AND id = ANY ($2::bigint[]) ORDER BY dead_letters.id LIMIT $3`,
        [input.orgId, input.ids, input.limit],
      )
    : await sqlOf(db).query<DeadLetterSqlRow>(
        `SELECT ${deadLetterColumns} FROM dead_letters
         WHERE org_id = $1 AND replayed_at IS NULL AND ($2::bigint IS NULL OR id > $2::bigint)
         ORDER BY dead_letters.id LIMIT $3`,
        [input.orgId, input.after ?? null, input.limit],
      );
  return rows.map(toRecord);
}

/**
 * Marks a dead letter replayed under `eventId`, once: false when it was marked already (another
 * replay got there first; the event is stored once either way, by its id).
 */
export async function markDeadLetterReplayed(
  db: Database,
  input: { orgId: string; id: string; eventId: string },
): Promise<boolean> {
  const result = await sqlOf(db).query(
    `UPDATE dead_letters SET replayed_at = now(), replayed_event_id = $3
     WHERE org_id = $1 AND id = $2::bigint AND replayed_at IS NULL`,
    [input.orgId, input.id, input.eventId],
  );
  return (result.rowCount ?? 0) > 0;
}
