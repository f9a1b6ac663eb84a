import { type Database, sqlOf } from "./database.ts";
import { toPostgresJson } from "./json-text.ts";

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

export async function insertDeadLetters(
  db: Database,
  rows: readonly DeadLetterRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const result = await sqlOf(db).query(insertDeadLettersSql, [
    rows.map((r) => r.orgId),
    rows.map((r) => r.dedupeKey),
    rows.map((r) => r.eventId),
    rows.map((r) => r.eventType),
    rows.map((r) => r.reason),
    rows.map((r) => toPostgresJson(r.issues ?? [])),
    rows.map((r) => toPostgresJson(r.payload ?? null)),
    rows.map((r) => r.receivedAt.toISOString()),
  ]);
  return result.rowCount ?? 0;
}
