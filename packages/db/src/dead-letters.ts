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
  ON CONFLICT (org_id, dedupe_key) DO NOTHING`;

/**
 * Stores refused events, each once (a retried job's dead letters are skipped). A dead letter
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
