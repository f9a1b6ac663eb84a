import type { AuditEntry } from "@auditlog/events";
import type pg from "pg";
import { type Database, type Queryable, sqlOf } from "./database.ts";
import { type EntryRow, entryColumns, toAuditEntry } from "./entry-queries.ts";

// Data access of the verifiable log (issue 14): the log counters, the tree's tiles and state,
// the signed checkpoints, and entries by `seq`. The hashing and signing live in @auditlog/tlog;
// this module only stores and reads bytes.

/** One tile of an organisation's tree, as @auditlog/tlog's `Tile`. */
export interface StoredTile {
  level: number;
  index: number;
  hashes: Uint8Array;
}

/** A tree head as stored: how many leaves the tree covers and its root. */
export interface LogTreeState {
  size: number;
  rootHash: Uint8Array;
}

export interface StoredCheckpoint {
  treeSize: number;
  rootHash: Uint8Array;
  /** The signed note, exactly as issued. */
  note: string;
  signedAt: Date;
}

/** An organisation whose log holds entries its tree does not cover yet. */
export interface LogBehind {
  orgId: string;
  /** Entries in the log (the counter). */
  logSize: number;
  /** Leaves in the tree. */
  treeSize: number;
}

/** How many entries an organisation's log holds: its latest `seq` (0 when it has none). */
export async function readLogSize(db: Database, orgId: string): Promise<number> {
  const { rows } = await sqlOf(db).query<{ size: number }>(
    "SELECT size::float8 AS size FROM audit_log_heads WHERE org_id = $1",
    [orgId],
  );
  return rows[0]?.size ?? 0;
}

/** Each organisation's latest `seq` (its log's size); organisations with no entry are left out. */
export async function readLogSizes(
  db: Database,
  orgIds: readonly string[],
): Promise<Map<string, number>> {
  if (orgIds.length === 0) return new Map();
  const { rows } = await sqlOf(db).query<{ org_id: string; size: number }>(
    "SELECT org_id, size::float8 AS size FROM audit_log_heads WHERE org_id = ANY($1::text[])",
    [orgIds],
  );
  return new Map(rows.map((row) => [row.org_id, row.size]));
}

/** Organisations whose tree is behind their log, most behind first. */
export async function listLogsBehind(db: Database, limit = 1000): Promise<LogBehind[]> {
  const { rows } = await sqlOf(db).query<{ org_id: string; log_size: number; tree_size: number }>(
    `SELECT h.org_id, h.size::float8 AS log_size, COALESCE(t.size, 0)::float8 AS tree_size
     FROM audit_log_heads h LEFT JOIN audit_log_trees t USING (org_id)
     WHERE h.size > COALESCE(t.size, 0)
     ORDER BY h.size - COALESCE(t.size, 0) DESC LIMIT $1`,
    [limit],
  );
  return rows.map((row) => ({ orgId: row.org_id, logSize: row.log_size, treeSize: row.tree_size }));
}

/** The tree as built so far, or null when nothing of the organisation's log is built. */
export async function readLogTree(
  queryable: Database | Queryable,
  orgId: string,
): Promise<LogTreeState | null> {
  const sql = "query" in queryable ? queryable : sqlOf(queryable);
  const { rows } = await sql.query<{ size: number; root_hash: Buffer }>(
    "SELECT size::float8 AS size, root_hash FROM audit_log_trees WHERE org_id = $1",
    [orgId],
  );
  const row = rows[0];
  return row ? { size: row.size, rootHash: new Uint8Array(row.root_hash) } : null;
}

/**
 * A @auditlog/tlog `TileReader` over the stored tiles of one organisation: each call is one
 * query, whatever the number of tiles.
 */
export function logTileReader(
  queryable: Database | Queryable,
  orgId: string,
): {
  readTiles(
    coords: readonly { level: number; index: number }[],
  ): Promise<(Uint8Array | undefined)[]>;
} {
  const sql = "query" in queryable ? queryable : sqlOf(queryable);
  return {
    async readTiles(coords) {
      if (coords.length === 0) return [];
      const { rows } = await sql.query<{ level: number; index: number; hashes: Buffer }>(
        `SELECT level, index::float8 AS index, hashes FROM audit_log_tiles
         WHERE org_id = $1 AND (level, index) IN (SELECT * FROM unnest($2::smallint[], $3::bigint[]))`,
        [orgId, coords.map((c) => c.level), coords.map((c) => c.index)],
      );
      const found = new Map(rows.map((row) => [`${row.level}/${row.index}`, row.hashes]));
      return coords.map((c) => {
        const hashes = found.get(`${c.level}/${c.index}`);
        return hashes
          ? new Uint8Array(hashes.buffer, hashes.byteOffset, hashes.byteLength)
          : undefined;
      });
    },
  };
}

/**
 * Holds the organisation's tree-building lock for the rest of the transaction: only one process
 * extends a tree at a time, whatever the number of workers. Answers false (without waiting)
 * when another holds it.
 */
export async function tryLockLogTree(client: pg.PoolClient, orgId: string): Promise<boolean> {
  const { rows } = await client.query<{ locked: boolean }>(
    "SELECT pg_try_advisory_xact_lock(hashtextextended('auditlog.log-tree:' || $1, 0)) AS locked",
    [orgId],
  );
  return rows[0]?.locked === true;
}

/** Runs `work` in a transaction on a client of its own; rolls back when it throws. */
export async function withLogTransaction<T>(
  db: Database,
  work: (client: pg.PoolClient) => Promise<T>,
): Promise<T> {
  const client = await sqlOf(db).connect();
  let broken: Error | undefined;
  try {
    await client.query("BEGIN");
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Extends an organisation's stored tree from `fromSize` to `tree.size`: the changed tiles, the
 * new tree head, and the checkpoint signed for it, in the caller's transaction. Refuses (throws)
 * when the stored tree is no longer at `fromSize`: someone else extended it meanwhile.
 */
export async function storeLogTree(
  client: pg.PoolClient,
  orgId: string,
  fromSize: number,
  tree: LogTreeState,
  tiles: readonly StoredTile[],
  checkpointNote: string,
): Promise<void> {
  if (tiles.length > 0) {
    await client.query(
      `INSERT INTO audit_log_tiles (org_id, level, index, hashes)
       SELECT $1, * FROM unnest($2::smallint[], $3::bigint[], $4::bytea[])
       ON CONFLICT (org_id, level, index) DO UPDATE SET hashes = EXCLUDED.hashes
       WHERE octet_length(EXCLUDED.hashes) > octet_length(audit_log_tiles.hashes)`,
      [
        orgId,
        tiles.map((t) => t.level),
        tiles.map((t) => t.index),
        tiles.map((t) => Buffer.from(t.hashes.buffer, t.hashes.byteOffset, t.hashes.byteLength)),
      ],
    );
  }
  const root = Buffer.from(tree.rootHash);
  const { rowCount } = await client.query(
    `INSERT INTO audit_log_trees AS t (org_id, size, root_hash) VALUES ($1, $2, $3)
     ON CONFLICT (org_id) DO UPDATE SET size = EXCLUDED.size, root_hash = EXCLUDED.root_hash,
       updated_at = now()
     WHERE t.size = $4`,
    [orgId, tree.size, root, fromSize],
  );
  if (rowCount !== 1) throw new Error(`the tree of ${orgId} is no longer at size ${fromSize}`);
  await client.query(
    `INSERT INTO audit_log_checkpoints (org_id, tree_size, root_hash, note) VALUES ($1, $2, $3, $4)
     ON CONFLICT (org_id, tree_size) DO NOTHING`,
    [orgId, tree.size, root, checkpointNote],
  );
}

/**
 * Entries of an organisation by place, `fromSeq` to `toSeq` inclusive, ascending: what the tree
 * builder hashes and `verify` recomputes.
 */
export async function readEntriesBySeq(
  queryable: Database | Queryable,
  orgId: string,
  fromSeq: number,
  toSeq: number,
): Promise<AuditEntry[]> {
  const sql = "query" in queryable ? queryable : sqlOf(queryable);
  const { rows } = await sql.query<EntryRow>(
    `SELECT ${entryColumns} FROM audit_entries WHERE org_id = $1 AND seq BETWEEN $2 AND $3
     ORDER BY seq`,
    [orgId, fromSeq, toSeq],
  );
  return rows.map(toAuditEntry);
}

/**
 * The feed: entries after `afterSeq`, ascending, at most `limit`, every type included. After a
 * purge it starts at the first entry still held (`retained_from`), read in the same statement as
 * the entries, so a purge committing meanwhile cannot leave the page empty.
 */
export async function readFeed(
  db: Database,
  orgId: string,
  afterSeq: number,
  limit: number,
): Promise<AuditEntry[]> {
  const { rows } = await sqlOf(db).query<EntryRow>(
    `WITH start AS (
       SELECT GREATEST($2::bigint + 1,
         COALESCE((SELECT retained_from FROM audit_log_heads WHERE org_id = $1), 1)) AS from_seq
     )
     SELECT ${entryColumns} FROM audit_entries, start
     WHERE org_id = $1 AND seq BETWEEN from_seq AND from_seq + $3 - 1
     ORDER BY seq`,
    [orgId, afterSeq, limit],
  );
  return rows.map(toAuditEntry);
}

/** An entry's place in its organisation's log, or null when there is no such entry. */
export async function readEntrySeq(
  db: Database,
  orgId: string,
  id: string,
): Promise<number | null> {
  const { rows } = await sqlOf(db).query<{ seq: number }>(
    "SELECT seq::float8 AS seq FROM audit_entries WHERE org_id = $1 AND id = $2",
    [orgId, id],
  );
  return rows[0]?.seq ?? null;
}

interface CheckpointRow {
  tree_size: number;
  root_hash: Buffer;
  note: string;
  signed_at: Date;
}

const checkpointColumns = "tree_size::float8 AS tree_size, root_hash, note, signed_at";

function toCheckpoint(row: CheckpointRow): StoredCheckpoint {
  return {
    treeSize: row.tree_size,
    rootHash: new Uint8Array(row.root_hash),
    note: row.note,
    signedAt: row.signed_at,
  };
}

/** The checkpoint at `treeSize`, or the latest when none is given; null when there is none. */
export async function readCheckpoint(
  db: Database,
  orgId: string,
  treeSize?: number,
): Promise<StoredCheckpoint | null> {
  const { rows } = await sqlOf(db).query<CheckpointRow>(
    treeSize === undefined
      ? `SELECT ${checkpointColumns} FROM audit_log_checkpoints WHERE org_id = $1
         ORDER BY tree_size DESC LIMIT 1`
      : `SELECT ${checkpointColumns} FROM audit_log_checkpoints WHERE org_id = $1 AND tree_size = $2`,
    treeSize === undefined ? [orgId] : [orgId, treeSize],
  );
  return rows[0] ? toCheckpoint(rows[0]) : null;
}

/** Every checkpoint of an organisation, ascending by tree size. */
export async function listCheckpoints(db: Database, orgId: string): Promise<StoredCheckpoint[]> {
  const { rows } = await sqlOf(db).query<CheckpointRow>(
    `SELECT ${checkpointColumns} FROM audit_log_checkpoints WHERE org_id = $1 ORDER BY tree_size`,
    [orgId],
  );
  return rows.map(toCheckpoint);
}

/**
 * Removes an organisation's whole log: entries, checkpoints, tree and counter. The one path past
 * the append-only triggers (`auditlog.maintenance = 'purge'`, for this transaction only), for
 * the retention purge and for tests that clean up after themselves.
 */
export async function purgeOrganisationLog(db: Database, orgId: string): Promise<void> {
  await withLogTransaction(db, async (client) => {
    await client.query("SET LOCAL auditlog.maintenance = 'purge'");
    await client.query("SELECT 1 FROM audit_log_heads WHERE org_id = $1 FOR UPDATE", [orgId]);
    await client.query("DELETE FROM audit_entries WHERE org_id = $1", [orgId]);
    await client.query("DELETE FROM audit_log_checkpoints WHERE org_id = $1", [orgId]);
    await client.query("DELETE FROM audit_log_tiles WHERE org_id = $1", [orgId]);
    await client.query("DELETE FROM audit_log_trees WHERE org_id = $1", [orgId]);
    await client.query("DELETE FROM audit_log_heads WHERE org_id = $1", [orgId]);
  });
}

// Batched forms, for extending many organisations' trees in one transaction: a pass over 1,000
// organisations behind costs a handful of statements instead of a dozen per organisation.

/** Takes the tree-building locks it can (without waiting); answers the organisations locked. */
export async function tryLockLogTrees(
  client: pg.PoolClient,
  orgIds: readonly string[],
): Promise<Set<string>> {
  const { rows } = await client.query<{ org_id: string; locked: boolean }>(
    `SELECT org_id, pg_try_advisory_xact_lock(hashtextextended('auditlog.log-tree:' || org_id, 0)) AS locked
     FROM unnest($1::text[]) AS t (org_id) ORDER BY org_id`,
    [orgIds],
  );
  return new Set(rows.filter((row) => row.locked).map((row) => row.org_id));
}

/** The trees of several organisations as built so far (absent: nothing built). */
export async function readLogTrees(
  client: Queryable,
  orgIds: readonly string[],
): Promise<Map<string, LogTreeState>> {
  const { rows } = await client.query<{ org_id: string; size: number; root_hash: Buffer }>(
    "SELECT org_id, size::float8 AS size, root_hash FROM audit_log_trees WHERE org_id = ANY($1)",
    [orgIds],
  );
  return new Map(
    rows.map((row) => [row.org_id, { size: row.size, rootHash: new Uint8Array(row.root_hash) }]),
  );
}

/**
 * For each organisation, its entries after `afterSeq` in `seq` order, at most `limit` of them,
 * in one statement: a nested loop over the organisations' exact seq ranges, each probing the
 * `(org_id, seq)` index of its organisation's partition only (run-time pruning). The `OFFSET 0`
 * keeps the range read a subquery evaluated per organisation: flattened into a join, the planner
 * hashed the ranges and scanned every partition, about 40 ms per organisation on the bench's
 * database of millions of entries. One round trip, planned in about a millisecond, against one
 * statement per organisation before (100 organisations: 100 round trips on a busy connection).
 */
export async function readEntriesAfter(
  client: Queryable,
  ranges: readonly { orgId: string; afterSeq: number }[],
  limit: number,
): Promise<Map<string, AuditEntry[]>> {
  const byOrg = new Map<string, AuditEntry[]>(ranges.map(({ orgId }) => [orgId, []]));
  if (ranges.length === 0) return byOrg;
  const { rows } = await client.query<EntryRow & { log_org: string }>(
    `SELECT r.log_org, e.* FROM unnest($1::text[], $2::bigint[], $3::bigint[])
       AS r (log_org, from_seq, to_seq)
     CROSS JOIN LATERAL (
       SELECT ${entryColumns} FROM audit_entries a
       WHERE a.org_id = r.log_org AND a.seq BETWEEN r.from_seq AND r.to_seq
       OFFSET 0
     ) e`,
    [
      ranges.map((r) => r.orgId),
      ranges.map((r) => r.afterSeq + 1),
      ranges.map((r) => r.afterSeq + limit),
    ],
  );
  for (const row of rows) byOrg.get(row.log_org)?.push(toAuditEntry(row));
  // Ordered here, not by the statement: a sort there would hold a whole catch-up's entries
  // (up to 50,000, with their data) in PostgreSQL's memory or spill them; the index already
  // gives each organisation's rows in seq order, so this is one pass over sorted arrays.
  for (const entries of byOrg.values()) entries.sort((a, b) => a.seq - b.seq);
  return byOrg;
}

type TileCoords = readonly { level: number; index: number }[];

/**
 * Tile readers for many organisations that share statements: every read asked for before the
 * next turn of the event loop goes out as one query. Extending many trees at once (each asks
 * once for its partial tiles, then once for its root) then reads tiles in two statements.
 */
export function batchedLogTileReaders(client: Queryable): {
  forOrg(orgId: string): { readTiles(coords: TileCoords): Promise<(Uint8Array | undefined)[]> };
} {
  let queued: {
    orgId: string;
    coords: TileCoords;
    resolve: (tiles: (Uint8Array | undefined)[]) => void;
    reject: (error: unknown) => void;
  }[] = [];
  const flush = async () => {
    const batch = queued;
    queued = [];
    try {
      const orgs: string[] = [];
      const levels: number[] = [];
      const indexes: number[] = [];
      for (const { orgId, coords } of batch) {
        for (const c of coords) {
          orgs.push(orgId);
          levels.push(c.level);
          indexes.push(c.index);
        }
      }
      const { rows } = await client.query<{
        org_id: string;
        level: number;
        index: number;
        hashes: Buffer;
      }>(
        `SELECT org_id, level, index::float8 AS index, hashes FROM audit_log_tiles
         WHERE (org_id, level, index) IN (SELECT * FROM unnest($1::text[], $2::smallint[], $3::bigint[]))`,
        [orgs, levels, indexes],
      );
      const found = new Map(rows.map((r) => [`${r.org_id}\u0000${r.level}/${r.index}`, r.hashes]));
      for (const { orgId, coords, resolve } of batch) {
        resolve(
          coords.map((c) => {
            const hashes = found.get(`${orgId}\u0000${c.level}/${c.index}`);
            return hashes
              ? new Uint8Array(hashes.buffer, hashes.byteOffset, hashes.byteLength)
              : undefined;
          }),
        );
      }
    } catch (error) {
      for (const { reject } of batch) reject(error);
    }
  };
  return {
    forOrg: (orgId) => ({
      readTiles(coords) {
        if (coords.length === 0) return Promise.resolve([]);
        return new Promise((resolve, reject) => {
          if (queued.length === 0) setImmediate(() => void flush());
          queued.push({ orgId, coords, resolve, reject });
        });
      },
    }),
  };
}

/** One organisation's extension: its changed tiles, new head and signed checkpoint. */
export interface LogTreeUpdate {
  orgId: string;
  tree: LogTreeState;
  tiles: readonly StoredTile[];
  checkpointNote: string;
}

/**
 * Stores many organisations' extensions in the caller's transaction, which must hold their
 * tree-building locks (`tryLockLogTrees`) and have read their trees after taking them.
 */
export async function storeLogTrees(
  client: pg.PoolClient,
  updates: readonly LogTreeUpdate[],
): Promise<void> {
  if (updates.length === 0) return;
  const tiles = updates.flatMap((u) => u.tiles.map((t) => ({ orgId: u.orgId, ...t })));
  const roots = updates.map((u) => Buffer.from(u.tree.rootHash));
  // One statement, one round trip: the three writes touch different tables, so running them
  // as data-modifying CTEs (one snapshot) is the same as running them one after another.
  await client.query(
    `WITH tiles AS (
       INSERT INTO audit_log_tiles (org_id, level, index, hashes)
       SELECT * FROM unnest($1::text[], $2::smallint[], $3::bigint[], $4::bytea[])
       ON CONFLICT (org_id, level, index) DO UPDATE SET hashes = EXCLUDED.hashes
       WHERE octet_length(EXCLUDED.hashes) > octet_length(audit_log_tiles.hashes)
     ), trees AS (
       INSERT INTO audit_log_trees (org_id, size, root_hash)
       SELECT * FROM unnest($5::text[], $6::bigint[], $7::bytea[])
       ON CONFLICT (org_id) DO UPDATE SET size = EXCLUDED.size, root_hash = EXCLUDED.root_hash,
         updated_at = now()
       WHERE EXCLUDED.size > audit_log_trees.size
     )
     INSERT INTO audit_log_checkpoints (org_id, tree_size, root_hash, note)
     SELECT * FROM unnest($5::text[], $6::bigint[], $7::bytea[], $8::text[])
     ON CONFLICT (org_id, tree_size) DO NOTHING`,
    [
      tiles.map((t) => t.orgId),
      tiles.map((t) => t.level),
      tiles.map((t) => t.index),
      tiles.map((t) => Buffer.from(t.hashes.buffer, t.hashes.byteOffset, t.hashes.byteLength)),
      updates.map((u) => u.orgId),
      updates.map((u) => u.tree.size),
      roots,
      updates.map((u) => u.checkpointNote),
    ],
  );
}
