import type pg from "pg";
import { type Database, sqlOf } from "./database.ts";
import { withLogTransaction } from "./log-tree.ts";

// The retention purge (issue 16): removes an organisation's entries stored before a cutoff,
// keeping its log verifiable. What stays: the tree's tiles (level 0 holds every leaf hash, so
// inclusion and consistency proofs of what remains, and `verify`, still work), the signed
// checkpoints, the tree head and the counter; `audit_log_heads.retained_from` says where the
// entries still held begin.

/** An organisation the lifecycle job may purge: its retention choice, hold and log state. */
export interface RetentionTarget {
  orgId: string;
  slug: string;
  name: string;
  plan: string;
  /** The organisation's own retention; null: its plan's default. */
  days: number | null;
  legalHold: boolean;
  /** The first seq still held. */
  retainedFrom: number;
  /** The last seq whose purge is on the record (`org.audit_log.purge`). */
  purgeRecordedThrough: number;
  /** Leaves the built tree covers: only entries up to here may go. */
  treeSize: number;
}

/**
 * Organisations with entries the tree already covers (the only ones a purge could remove), or
 * with a purge not yet on the record, in id order from `afterOrgId`, at most `limit`.
 */
export async function listRetentionTargets(
  db: Database,
  input: { afterOrgId?: string; limit: number },
): Promise<RetentionTarget[]> {
  const { rows } = await sqlOf(db).query<{
    org_id: string;
    slug: string;
    name: string;
    plan: string;
    days: number | null;
    legal_hold: boolean | null;
    retained_from: number;
    purge_recorded_through: number;
    tree_size: number;
  }>(
    `SELECT h.org_id, o.slug, o.name, o.plan, s.days, s.legal_hold,
       h.retained_from::float8 AS retained_from,
       h.purge_recorded_through::float8 AS purge_recorded_through, t.size::float8 AS tree_size
     FROM audit_log_heads h
     JOIN audit_log_trees t USING (org_id)
     JOIN organizations o ON o.id = h.org_id
     LEFT JOIN org_retention_settings s ON s.org_id = h.org_id
     WHERE (h.retained_from <= t.size OR h.purge_recorded_through < h.retained_from - 1)
       AND h.org_id > $1
     ORDER BY h.org_id LIMIT $2`,
    [input.afterOrgId ?? "", input.limit],
  );
  return rows.map((row) => ({
    orgId: row.org_id,
    slug: row.slug,
    name: row.name,
    plan: row.plan,
    days: row.days,
    legalHold: row.legal_hold === true,
    retainedFrom: row.retained_from,
    purgeRecordedThrough: row.purge_recorded_through,
    treeSize: row.tree_size,
  }));
}

/**
 * Notes that the purge of every seq up to `throughSeq` is on the record (its event queued).
 * Never moves back: two workers recording the same purge agree.
 */
export async function markPurgeRecorded(
  db: Database,
  orgId: string,
  throughSeq: number,
): Promise<void> {
  await sqlOf(db).query(
    `UPDATE audit_log_heads SET purge_recorded_through = $2
     WHERE org_id = $1 AND purge_recorded_through < $2`,
    [orgId, throughSeq],
  );
}

export interface PurgeInput {
  /** Entries stored (`stored_at`) before this go, as far as the rules below allow. */
  storedBefore: Date;
  /**
   * Entries removed per transaction (default 5,000): each batch is one short transaction, so
   * ingestion (which waits for the counter row only while a batch commits) and queries never
   * wait for the whole purge.
   */
  batchSize?: number;
  /** Pause between batches, to leave the disks and cores to ingestion (default none). */
  pauseMs?: number;
  /** Stops between batches (a shutting-down worker); what was purged stays purged. */
  signal?: AbortSignal;
}

export interface PurgeResult {
  /** Entries removed. */
  entries: number;
  /** The last seq removed (0 when none was). */
  throughSeq: number;
  /** The first seq still held after the purge. */
  retainedFrom: number;
  /** Why the purge stopped where it did. */
  stoppedBy: "legal-hold" | "young-entry" | "tree-size" | "nothing-to-do" | "busy" | "aborted";
}

/**
 * The purge found the log not as the counter numbers it: a place with no entry (or one too
 * many) in the range it would remove. Purging would bury the evidence (the stored leaf hashes
 * would stand in for the missing entry), so it refuses; `verify` names the place.
 */
export class PurgeRefusedError extends Error {
  override name = "PurgeRefusedError";
}

const lockSql =
  "SELECT pg_try_advisory_xact_lock(hashtextextended('auditlog.log-purge:' || $1, 0)) AS locked";

/**
 * Purges one organisation's entries stored before `storedBefore`, oldest seq first, batch by
 * batch (each one transaction through the `(org_id, seq)` index), and advances its
 * `retained_from` with each batch. Removes nothing while the organisation is under legal hold
 * (checked again in each batch's transaction, so a hold placed mid-purge stops it at once).
 *
 * Only entries the built tree covers (seq ≤ audit_log_trees.size) go: their leaf hashes are in
 * the level-0 tiles, which stay. Entries go in seq order only, so what is held is always one
 * contiguous range `retained_from … size`: proofs, the feed and `verify` rely on every place
 * from `retained_from` on holding its entry. Seq is commit order and `stored_at` the writing
 * transaction's start, so a younger entry can sit before an older one (a write that started
 * early and committed late, or entries numbered by the migration that introduced seq); the
 * first entry still young stops the purge there, and the older ones after it wait for the next
 * run (a day later at most, when that entry has aged too).
 */
export async function purgeAgedEntries(
  db: Database,
  orgId: string,
  input: PurgeInput,
): Promise<PurgeResult> {
  const batchSize = input.batchSize ?? 5_000;
  let entries = 0;
  let throughSeq = 0;
  let retainedFrom = 0;
  for (;;) {
    if (input.signal?.aborted) return { entries, throughSeq, retainedFrom, stoppedBy: "aborted" };
    const batch = await withLogTransaction(db, (client) =>
      purgeBatch(client, orgId, input.storedBefore, batchSize),
    );
    retainedFrom = batch.retainedFrom;
    if (batch.removed > 0) {
      entries += batch.removed;
      throughSeq = batch.retainedFrom - 1;
    }
    if (batch.stoppedBy) {
      return {
        entries,
        throughSeq,
        retainedFrom,
        stoppedBy:
          entries > 0 && batch.stoppedBy === "nothing-to-do" ? "tree-size" : batch.stoppedBy,
      };
    }
    if (input.pauseMs) await new Promise((resolve) => setTimeout(resolve, input.pauseMs));
  }
}

async function purgeBatch(
  client: pg.PoolClient,
  orgId: string,
  storedBefore: Date,
  batchSize: number,
): Promise<{ removed: number; retainedFrom: number; stoppedBy?: PurgeResult["stoppedBy"] }> {
  // One purger per organisation at a time (two workers' lifecycle jobs, a retried job).
  const { rows: locks } = await client.query<{ locked: boolean }>(lockSql, [orgId]);
  // The hold is read under a share lock: turning it on waits for this batch, then the next
  // batch sees it.
  const { rows: state } = await client.query<{
    legal_hold: boolean | null;
    retained_from: number | null;
    tree_size: number | null;
  }>(
    `SELECT
       (SELECT legal_hold FROM org_retention_settings WHERE org_id = $1 FOR SHARE) AS legal_hold,
       (SELECT retained_from::float8 FROM audit_log_heads WHERE org_id = $1) AS retained_from,
       (SELECT size::float8 FROM audit_log_trees WHERE org_id = $1) AS tree_size`,
    [orgId],
  );
  const { legal_hold, retained_from, tree_size } = state[0] ?? {};
  const from = retained_from ?? 1;
  if (locks[0]?.locked !== true) return { removed: 0, retainedFrom: from, stoppedBy: "busy" };
  if (legal_hold === true) return { removed: 0, retainedFrom: from, stoppedBy: "legal-hold" };
  const treeSize = tree_size ?? 0;
  if (from > treeSize) return { removed: 0, retainedFrom: from, stoppedBy: "nothing-to-do" };

  let to = Math.min(from + batchSize - 1, treeSize);
  // The first entry of the range still young: the purge stops before it (see above). An index
  // range scan of at most `batchSize` rows of one partition.
  const { rows: young } = await client.query<{ seq: number | null }>(
    `SELECT min(seq)::float8 AS seq FROM audit_entries
     WHERE org_id = $1 AND seq BETWEEN $2 AND $3 AND stored_at >= $4`,
    [orgId, from, to, storedBefore],
  );
  const firstYoung = young[0]?.seq ?? null;
  if (firstYoung !== null) to = firstYoung - 1;
  if (to < from) return { removed: 0, retainedFrom: from, stoppedBy: "young-entry" };

  await client.query("SET LOCAL auditlog.maintenance = 'purge'");
  const { rowCount } = await client.query(
    "DELETE FROM audit_entries WHERE org_id = $1 AND seq BETWEEN $2 AND $3 AND stored_at < $4",
    [orgId, from, to, storedBefore],
  );
  if (rowCount !== to - from + 1) {
    throw new PurgeRefusedError(
      `the log of ${orgId} does not hold one entry per place in ${from}…${to} (${rowCount} found): run verify; nothing was purged`,
    );
  }
  // Last, so ingestion (which takes this row first) waits only for this commit.
  const { rowCount: advanced } = await client.query(
    "UPDATE audit_log_heads SET retained_from = $3 WHERE org_id = $1 AND retained_from = $2",
    [orgId, from, to + 1],
  );
  if (advanced !== 1) throw new Error(`the retained range of ${orgId} moved during the purge`);
  const stoppedBy = firstYoung !== null ? "young-entry" : to === treeSize ? "tree-size" : undefined;
  return { removed: to - from + 1, retainedFrom: to + 1, ...(stoppedBy ? { stoppedBy } : {}) };
}

/** Where an organisation's retained entries begin (1: nothing purged, or no log yet). */
export async function readRetainedFrom(db: Database, orgId: string): Promise<number> {
  const { rows } = await sqlOf(db).query<{ retained_from: number }>(
    "SELECT retained_from::float8 AS retained_from FROM audit_log_heads WHERE org_id = $1",
    [orgId],
  );
  return rows[0]?.retained_from ?? 1;
}
