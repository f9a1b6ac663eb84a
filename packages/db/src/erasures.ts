import {
  type AuditEntry,
  type ErasedFields,
  type ErasedPerson,
  type Erasure,
  newId,
} from "@auditlog/events";
import { personalDigest } from "@auditlog/tlog";
import type { PoolClient } from "pg";
import { type Database, sqlOf } from "./database.ts";
import { type EntryRow, entryColumns, toAuditEntry } from "./entry-queries.ts";

// Erasure (issue 16): one transaction rewrites the person's personal fields in every entry of
// the organisation that holds them, keeping each entry's original personal digest and dropping
// its salt (the leaf still recomputes, the erased values are gone), deletes the other stored
// copies that name the person, and marks the export files that could hold them.

export interface EraseInput {
  orgId: string;
  actorId: string;
  pseudonym: string;
  requestedBy: string;
  /** What the erasure makes of one entry (`eraseFromEntry` of @auditlog/events). */
  erase: (entry: AuditEntry, person: ErasedPerson) => ErasedFields | null;
  /**
   * Deletes the files of the exports the erasure marks (their storage keys), inside the
   * transaction: if it throws, nothing is erased and the erasure can be asked again.
   */
  deleteExportFiles: (storageKeys: string[]) => Promise<void>;
}

export type EraseResult = { ok: true; erasure: Erasure } | { ok: false; reason: "unknown_actor" };

const BATCH = 500;
const PAGE = 5000;

interface ErasureRow {
  id: string;
  actor_id: string;
  pseudonym: string;
  status: "completed";
  entries: string;
  dead_letters: string;
  exports_deleted: string;
  requested_by: string;
  created_at: Date;
}

function toErasure(row: ErasureRow): Erasure {
  return {
    id: row.id,
    actorId: row.actor_id,
    pseudonym: row.pseudonym,
    status: row.status,
    entries: Number(row.entries),
    deadLetters: Number(row.dead_letters),
    exportsDeleted: Number(row.exports_deleted),
    requestedBy: row.requested_by,
    createdAt: row.created_at.toISOString(),
  };
}

/** The person's names in the organisation's log (as actor and as target); null: not in it. */
async function personNames(client: PoolClient, orgId: string, actorId: string) {
  const { rows } = await client.query<{ name: string }>(
    `SELECT DISTINCT actor_name AS name FROM audit_entries WHERE org_id = $1 AND actor_id = $2
     UNION SELECT DISTINCT target_name FROM audit_entries
       WHERE org_id = $1 AND target_id = $2 AND target_name IS NOT NULL`,
    [orgId, actorId],
  );
  if (rows.length > 0) return rows.map((row) => row.name);
  const { rows: seen } = await client.query(
    "SELECT 1 FROM audit_entries WHERE org_id = $1 AND target_id = $2 LIMIT 1",
    [orgId, actorId],
  );
  return seen.length > 0 ? [] : null;
}

/** Erases the person `actorId` from the organisation's log and its other stored copies. */
export async function eraseActor(db: Database, input: EraseInput): Promise<EraseResult> {
  const { orgId, actorId, pseudonym } = input;
  const client = await sqlOf(db).connect();
  try {
    await client.query("BEGIN");
    // An erasure reads and rewrites a whole organisation's matches: no request timeout applies.
    await client.query("SET LOCAL statement_timeout = 0");
    // The append-only trigger lets this transaction change personal columns only (migration
    // 20261202040000_erasure.sql).
    await client.query("SET LOCAL auditlog.maintenance = 'erase'");
    // One erasure of an organisation at a time: a second waits and then finds nothing left.
    await client.query("SELECT pg_advisory_xact_lock(hashtext('erasure:' || $1))", [orgId]);
    const names = await personNames(client, orgId, actorId);
    if (names === null) {
      await client.query("ROLLBACK");
      return { ok: false, reason: "unknown_actor" };
    }
    const person: ErasedPerson = { actorId, pseudonym, names };
    // Lowercase, as JSON strings and as plain text: what the candidate rows are found by.
    const needles = [...names, actorId].filter((n) => n.length >= 3 || n === actorId);
    const lowered = needles.map((n) => n.toLowerCase());

    // Candidates: the person's own entries, those about them, and those whose data or
    // description mention one of their names; `erase` decides what changes.
    let entries = 0;
    let firstSeq: number | null = null;
    let lastSeq: number | null = null;
    const updates: Record<string, unknown>[] = [];
    const flush = async () => {
      if (updates.length === 0) return;
      await client.query(
        `UPDATE audit_entries e SET actor_name = u.actor_name, actor_avatar_url = u.actor_avatar_url,
           user_agent = u.user_agent, target_name = u.target_name, description = u.description,
           data = u.data, personal_digest = decode(u.digest, 'base64'), commit_salt = NULL
         FROM jsonb_to_recordset($2::jsonb) AS u(id text, actor_name text, actor_avatar_url text,
           user_agent text, target_name text, description text, data jsonb, digest text)
         WHERE e.org_id = $1 AND e.id = u.id`,
        [orgId, JSON.stringify(updates)],
      );
      updates.length = 0;
    };
    // Read a page at a time (by seq), so a person with millions of entries is not held in memory.
    const readPage = (afterSeq: number) =>
      client.query<EntryRow>(
        `SELECT ${entryColumns} FROM audit_entries
         WHERE org_id = $1 AND seq > $4 AND (actor_id = $2 OR target_id = $2
           OR EXISTS (SELECT 1 FROM unnest($3::text[]) n
                      WHERE strpos(lower(data::text), n) > 0 OR strpos(lower(description), n) > 0))
         ORDER BY seq LIMIT ${PAGE}`,
        [orgId, actorId, lowered, afterSeq],
      );
    const candidates = async function* () {
      for (let afterSeq = 0; ; ) {
        const { rows } = await readPage(afterSeq);
        yield* rows;
        if (rows.length < PAGE) return;
        afterSeq = (rows.at(-1) as EntryRow).seq;
      }
    };
    for await (const row of candidates()) {
      const entry = toAuditEntry(row);
      const erased = input.erase(entry, person);
      if (!erased) continue;
      // The digest the leaf holds: the one kept by an earlier erasure, else computed now from
      // the fields as they are (before this change) and the salt.
      const digest =
        entry.commitment.personal ??
        Buffer.from(
          personalDigest(Buffer.from(entry.commitment.salt as string, "base64"), entry),
        ).toString("base64");
      updates.push({
        id: entry.id,
        actor_name: erased.actorName,
        actor_avatar_url: erased.actorAvatarUrl,
        user_agent: erased.userAgent,
        target_name: erased.targetName,
        description: erased.description,
        data: erased.data,
        digest,
      });
      entries++;
      firstSeq ??= entry.seq;
      lastSeq = entry.seq;
      if (updates.length >= BATCH) await flush();
    }
    await flush();

    // Dead letters hold refused events as they came (name, avatar, user agent and all): the
    // ones about the person are deleted, not rewritten (they cannot be replayed faithfully).
    const deadLetters = await client.query(
      `DELETE FROM dead_letters WHERE org_id = $1 AND (payload->'actor'->>'id' = $2
         OR payload->'target'->>'id' = $2
         OR EXISTS (SELECT 1 FROM unnest($3::text[]) n WHERE strpos(lower(payload::text), n) > 0))`,
      [orgId, actorId, lowered],
    );
    // Saved views whose filters name the person (e.g. actor:alice).
    await client.query(
      `DELETE FROM saved_views WHERE org_id = $1
         AND EXISTS (SELECT 1 FROM unnest($2::text[]) n WHERE strpos(lower(filters::text), n) > 0)`,
      [orgId, lowered],
    );
    // Exports the person asked for keep their record under the pseudonym.
    await client.query(
      "UPDATE exports SET requested_by_name = $3 WHERE org_id = $1 AND requested_by = $2",
      [orgId, actorId, pseudonym],
    );
    // Export files that could hold the person's entries, conservatively: every finished file of
    // the organisation whose seq range meets the range of the changed entries, whatever its
    // filter (a filter on something else still lists the person's entries it matches), every
    // file without a manifest to tell its range, and every export whose query names the person.
    // Unfinished builds are failed: they may have read entries before this erasure (the worker
    // then discards its file, as for any attempt that lost its export).
    const erasureId = newId("era");
    const reason = `Deleted by erasure ${erasureId}: the file could hold personal data that was erased. Request a new export.`;
    const marked = await client.query<{ storage_key: string | null }>(
      `UPDATE exports SET status = CASE WHEN status = 'ready' THEN 'expired' ELSE 'failed' END,
         error = $5, finished_at = COALESCE(finished_at, now()), manifest = NULL
       WHERE org_id = $1 AND (
         status IN ('queued', 'running')
         OR (status = 'ready' AND (
           manifest IS NULL
           OR EXISTS (SELECT 1 FROM unnest($4::text[]) n WHERE strpos(lower(query), n) > 0)
           OR ($2::bigint IS NOT NULL AND (manifest->>'firstSeq')::bigint <= $3
               AND (manifest->>'lastSeq')::bigint >= $2))))
       RETURNING storage_key`,
      [orgId, firstSeq, lastSeq, lowered, reason],
    );
    const keys = marked.rows.flatMap((row) => (row.storage_key ? [row.storage_key] : []));
    // Any export whose printed query names the person (its file, if any, is deleted above).
    await client.query(
      `UPDATE exports SET query = '', manifest = NULL WHERE org_id = $1
         AND EXISTS (SELECT 1 FROM unnest($2::text[]) n WHERE strpos(lower(query), n) > 0)`,
      [orgId, lowered],
    );
    await input.deleteExportFiles(keys);
    const { rows } = await client.query<ErasureRow>(
      `INSERT INTO erasures (id, org_id, actor_id, pseudonym, requested_by, status, entries,
         dead_letters, exports_deleted)
       VALUES ($1, $2, $3, $4, $5, 'completed', $6, $7, $8) RETURNING *`,
      [
        erasureId,
        orgId,
        actorId,
        pseudonym,
        input.requestedBy,
        entries,
        deadLetters.rowCount ?? 0,
        keys.length,
      ],
    );
    await client.query("COMMIT");
    return { ok: true, erasure: toErasure(rows[0] as ErasureRow) };
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * How many erasures the organisation has had: it only grows, and the erasure's rewrite of its
 * entries commits with its row, so a copy of entries read when this was n is stale once it is
 * more (the streams' shared read drops such copies).
 */
export async function erasureCount(db: Database, orgId: string): Promise<number> {
  const { rows } = await sqlOf(db).query<{ n: string }>(
    "SELECT count(*) AS n FROM erasures WHERE org_id = $1",
    [orgId],
  );
  return Number(rows[0]?.n ?? 0);
}

/** The organisation's erasures, newest first. */
export async function listErasures(db: Database, orgId: string, limit = 100): Promise<Erasure[]> {
  const { rows } = await sqlOf(db).query<ErasureRow>(
    "SELECT * FROM erasures WHERE org_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2",
    [orgId, limit],
  );
  return rows.map(toErasure);
}
