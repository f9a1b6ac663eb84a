import type pg from "pg";
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
