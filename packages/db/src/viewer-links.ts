import { newId } from "@auditlog/events";
import { type Database, sqlOf } from "./database.ts";

/**
 * Scoped viewer links (issue 20): read-only access to the entries of one organisation that match
 * a filter, until an expiry, for whoever holds the token. Only the token's SHA-256 is stored.
 */
export interface ViewerLinkRecord {
  id: string;
  orgId: string;
  name: string;
  q: string;
  tokenPrefix: string;
  createdBy: string;
  createdByName: string;
  createdAt: Date;
  expiresAt: Date;
  revokedAt: Date | null;
  lastUsedAt: Date | null;
}

interface ViewerLinkSqlRow {
  id: string;
  org_id: string;
  name: string;
  q: string;
  token_prefix: string;
  created_by: string;
  created_by_name: string;
  created_at: Date;
  expires_at: Date;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

const columns = `id, org_id, name, q, token_prefix, created_by, created_by_name, created_at,
  expires_at, revoked_at, last_used_at`;

function toRecord(row: ViewerLinkSqlRow): ViewerLinkRecord {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    q: row.q,
    tokenPrefix: row.token_prefix,
    createdBy: row.created_by,
    createdByName: row.created_by_name,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

export async function insertViewerLink(
  db: Database,
  input: {
    orgId: string;
    name: string;
    q: string;
    tokenHash: Buffer;
    tokenPrefix: string;
    createdBy: string;
    createdByName: string;
    expiresAt: Date;
    id?: string;
  },
): Promise<ViewerLinkRecord> {
  const { rows } = await sqlOf(db).query<ViewerLinkSqlRow>(
    `INSERT INTO viewer_links (id, org_id, name, q, token_hash, token_prefix, created_by,
       created_by_name, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING ${columns}`,
    [
      input.id ?? newId("vwl"),
      input.orgId,
      input.name,
      input.q,
      input.tokenHash,
      input.tokenPrefix,
      input.createdBy,
      input.createdByName,
      input.expiresAt,
    ],
  );
  return toRecord(rows[0] as ViewerLinkSqlRow);
}

/** An organisation's links, newest first (revoked and expired ones included, marked). */
export async function listViewerLinks(db: Database, orgId: string): Promise<ViewerLinkRecord[]> {
  const { rows } = await sqlOf(db).query<ViewerLinkSqlRow>(
    `SELECT ${columns} FROM viewer_links WHERE org_id = $1 ORDER BY created_at DESC, id DESC`,
    [orgId],
  );
  return rows.map(toRecord);
}

/** Revokes one of the organisation's links; null when it has no such link. Idempotent. */
export async function revokeViewerLink(
  db: Database,
  input: { orgId: string; id: string; now: Date },
): Promise<ViewerLinkRecord | null> {
  const { rows } = await sqlOf(db).query<ViewerLinkSqlRow>(
    `UPDATE viewer_links SET revoked_at = COALESCE(revoked_at, $3)
     WHERE id = $1 AND org_id = $2 RETURNING ${columns}`,
    [input.id, input.orgId, input.now],
  );
  return rows[0] ? toRecord(rows[0]) : null;
}

/** A link by its token's hash, whatever its state, with its organisation. */
export async function findViewerLinkByHash(
  db: Database,
  tokenHash: Buffer,
): Promise<{
  link: ViewerLinkRecord;
  org: { id: string; slug: string; name: string; plan: string };
} | null> {
  const { rows } = await sqlOf(db).query<
    ViewerLinkSqlRow & { org_slug: string; org_name: string; org_plan: string }
  >(
    `SELECT ${columns.replace(/(\w+)/g, "l.$1")}, o.slug AS org_slug, o.name AS org_name,
       o.plan AS org_plan
     FROM viewer_links l JOIN organizations o ON o.id = l.org_id WHERE l.token_hash = $1`,
    [tokenHash],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    link: toRecord(row),
    org: { id: row.org_id, slug: row.org_slug, name: row.org_name, plan: row.org_plan },
  };
}

/**
 * A link by id for the embeddable viewer's page: the origins its organisation lets frame the
 * viewer, and whether the link is still usable (the page itself carries no entry).
 */
export async function findViewerLinkFrameOrigins(
  db: Database,
  id: string,
  now: Date,
): Promise<{ usable: boolean; frameOrigins: string[] } | null> {
  const { rows } = await sqlOf(db).query<{ usable: boolean; frame_origins: string[] }>(
    `SELECT (l.revoked_at IS NULL AND l.expires_at > $2) AS usable,
       o.viewer_frame_origins AS frame_origins
     FROM viewer_links l JOIN organizations o ON o.id = l.org_id WHERE l.id = $1`,
    [id, now],
  );
  const row = rows[0];
  return row ? { usable: row.usable, frameOrigins: row.frame_origins } : null;
}

/** Marks a link used, at most once per `staleBefore` interval (bookkeeping for the list). */
export async function touchViewerLink(
  db: Database,
  input: { id: string; usedAt: Date },
): Promise<void> {
  await sqlOf(db).query("UPDATE viewer_links SET last_used_at = $2 WHERE id = $1", [
    input.id,
    input.usedAt,
  ]);
}

export async function getViewerFrameOrigins(db: Database, orgId: string): Promise<string[]> {
  const { rows } = await sqlOf(db).query<{ origins: string[] }>(
    "SELECT viewer_frame_origins AS origins FROM organizations WHERE id = $1",
    [orgId],
  );
  return rows[0]?.origins ?? [];
}

export async function setViewerFrameOrigins(
  db: Database,
  orgId: string,
  origins: string[],
): Promise<void> {
  await sqlOf(db).query("UPDATE organizations SET viewer_frame_origins = $2 WHERE id = $1", [
    orgId,
    origins,
  ]);
}
