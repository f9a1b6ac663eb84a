import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type pg from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { toPostgresJson } from "./json-text.ts";

/** One row of audit_entries, as the worker builds it. `ip` is already truncated. */
export interface AuditEntryRow {
  orgId: string;
  id: string;
  type: string;
  category: string;
  hiddenByDefault: boolean;
  occurredAt: Date;
  receivedAt: Date;
  actorType: "user" | "token" | "system";
  actorId: string;
  actorName: string;
  actorAvatarUrl: string | null;
  actorTokenRole: string | null;
  actorTokenLast4: string | null;
  targetType: string | null;
  targetId: string | null;
  targetName: string | null;
  description: string;
  ip: string | null;
  countryCode: string | null;
  region: string | null;
  city: string | null;
  userAgent: string | null;
  oauthClientId: string | null;
  oauthName: string | null;
  data: unknown;
}

const columns = [
  ["org_id", "text", (r: AuditEntryRow) => r.orgId],
  ["id", "text", (r: AuditEntryRow) => r.id],
  ["type", "text", (r: AuditEntryRow) => r.type],
  ["category", "text", (r: AuditEntryRow) => r.category],
  ["hidden_by_default", "boolean", (r: AuditEntryRow) => r.hiddenByDefault],
  ["occurred_at", "timestamptz", (r: AuditEntryRow) => r.occurredAt.toISOString()],
  ["received_at", "timestamptz", (r: AuditEntryRow) => r.receivedAt.toISOString()],
  ["actor_type", "text", (r: AuditEntryRow) => r.actorType],
  ["actor_id", "text", (r: AuditEntryRow) => r.actorId],
  ["actor_name", "text", (r: AuditEntryRow) => r.actorName],
  ["actor_avatar_url", "text", (r: AuditEntryRow) => r.actorAvatarUrl],
  ["actor_token_role", "text", (r: AuditEntryRow) => r.actorTokenRole],
  ["actor_token_last4", "text", (r: AuditEntryRow) => r.actorTokenLast4],
  ["target_type", "text", (r: AuditEntryRow) => r.targetType],
  ["target_id", "text", (r: AuditEntryRow) => r.targetId],
  ["target_name", "text", (r: AuditEntryRow) => r.targetName],
  ["description", "text", (r: AuditEntryRow) => r.description],
  ["ip", "inet", (r: AuditEntryRow) => r.ip],
  ["country_code", "text", (r: AuditEntryRow) => r.countryCode],
  ["region", "text", (r: AuditEntryRow) => r.region],
  ["city", "text", (r: AuditEntryRow) => r.city],
  ["user_agent", "text", (r: AuditEntryRow) => r.userAgent],
  ["oauth_client_id", "text", (r: AuditEntryRow) => r.oauthClientId],
  ["oauth_name", "text", (r: AuditEntryRow) => r.oauthName],
  // Text parameters carry a lone surrogate as U+FFFD (UTF-8 encoding does); JSON needs it done.
  ["data", "jsonb", (r: AuditEntryRow) => toPostgresJson(r.data ?? {})],
] as const;

const insertEntriesSql = `
  INSERT INTO audit_entries (${columns.map(([name]) => name).join(", ")})
  SELECT * FROM unnest(${columns.map(([, type], i) => `$${i + 1}::${type}[]`).join(", ")})
  ON CONFLICT (org_id, id) DO NOTHING`;

/**
 * Inserts a whole batch in one statement, so a batch is stored entirely or not at all, and an
 * entry already stored (a redelivered job, a client retry) is skipped. Returns how many rows
 * were new.
 */
export async function insertAuditEntries(
  db: pg.Pool | pg.PoolClient,
  rows: readonly AuditEntryRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const params = columns.map(([, , get]) => rows.map((row) => get(row)));
  const result = await db.query(insertEntriesSql, params);
  return result.rowCount ?? 0;
}

/** The columns `toCopyText` writes, in order (`stored_at` is left to its default). */
export const auditEntryCopyColumns: readonly string[] = columns.map(([name]) => name);

const copyEntriesSql = `COPY audit_entries (${auditEntryCopyColumns.join(", ")}) FROM STDIN`;

const needsCopyEscape = /[\\\n\r\t]/;
const copyEscapable = /[\\\n\r\t]/g;
const copyEscapes: Record<string, string> = { "\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** One value in COPY's text format: `\N` for NULL, backslash escapes for the four separators. */
function copyValue(value: string | boolean | null): string {
  if (value === null) return "\\N";
  if (typeof value === "boolean") return value ? "t" : "f";
  return needsCopyEscape.test(value)
    ? value.replace(copyEscapable, (c) => copyEscapes[c] as string)
    : value;
}

/** Rows as COPY text: tab-separated `auditEntryCopyColumns`, one line each. */
export function toCopyText(rows: readonly AuditEntryRow[]): string {
  let text = "";
  for (const row of rows) {
    for (let i = 0; i < columns.length; i++) {
      text += (i === 0 ? "" : "\t") + copyValue((columns[i] as (typeof columns)[number])[2](row));
    }
    text += "\n";
  }
  return text;
}

/**
 * The worker's write: the batch streamed with COPY, which costs PostgreSQL about a third less
 * per row than `INSERT … SELECT unnest(…) ON CONFLICT` (no array parsing, heap pages filled
 * several rows at a time, no speculative insertion with its extra WAL record). COPY has no
 * ON CONFLICT, so a batch holding an entry already stored (a redelivered job, a client retry)
 * fails as a whole with a unique violation and nothing of it is written; it is then written
 * again with `insertAuditEntries`, which skips the stored ones. Returns how many rows were new.
 */
export async function writeAuditEntries(
  pool: pg.Pool,
  rows: readonly AuditEntryRow[],
): Promise<number> {
  if (rows.length === 0) return 0;
  const client = await pool.connect();
  try {
    await pipeline(Readable.from([toCopyText(rows)]), client.query(copyFrom(copyEntriesSql)));
    client.release();
    return rows.length;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    // A server error leaves the connection usable; anything else (a broken socket) does not.
    client.release(typeof code === "string" ? undefined : (error as Error));
    if (code !== "23505") throw error;
  }
  return insertAuditEntries(pool, rows);
}
