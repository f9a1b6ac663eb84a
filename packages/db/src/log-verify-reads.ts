import type { Readable } from "node:stream";
import type pg from "pg";
import { type Database, sqlOf } from "./database.ts";
import { copyEntryLines, type LogSnapshotShare, setEntryLineSession } from "./entry-line-reader.ts";

export type { LogSnapshotShare } from "./entry-line-reader.ts";

// What `verify` (issue 14) reads: an organisation's checkpoints, counter and entries in one
// read-only snapshot, and its stored tiles. Only bytes: the checking lives in the API.

/**
 * One organisation's log as of one moment. The entries come as COPY text lines (see
 * entry-leaf-lines.ts); one `entryLines` stream at a time.
 */
export interface LogSnapshot {
  /** Every stored checkpoint row, ascending by its tree size (nothing checked). */
  checkpoints: { treeSize: number; note: string }[];
  /** The log's counter: how many places writes have given out. */
  logSize: number;
  /** The first place whose entry is still held: those before it were purged (issue 16). */
  retainedFrom: number;
  /** Entries with fromSeq ≤ seq ≤ toSeq, ascending by seq, as COPY text lines. */
  entryLines(fromSeq: number, toSeq: number): Readable;
  /**
   * Exports the snapshot for other connections (`joinLogSnapshot`, from hashing threads); they
   * see exactly what this one sees for as long as it is open. Not while a stream is running.
   */
  share(): Promise<LogSnapshotShare>;
  /**
   * The numbering of the entries past `covered`: the first entry numbered past the counter
   * (no write gave its place out) and the first place up to the counter that no entry holds.
   */
  tailNumbering(covered: number): Promise<{ pastCounter: number | null; hole: number | null }>;
  /** Ends the snapshot. After a stream stopped midway the connection is closed, not reused. */
  close(): Promise<void>;
}

export async function openLogSnapshot(db: Database, orgId: string): Promise<LogSnapshot> {
  const client = await sqlOf(db).connect();
  let streaming: Readable | undefined;
  let broken = false;
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    // The line parser reads times as `YYYY-MM-DD HH:MM:SS[.ffffff]+00`.
    await setEntryLineSession(client);
    const { rows: checkpoints } = await client.query<{ treeSize: number; note: string }>(
      `SELECT tree_size::float8 AS "treeSize", note FROM audit_log_checkpoints
       WHERE org_id = $1 ORDER BY tree_size`,
      [orgId],
    );
    const { rows: heads } = await client.query<{ size: number; retained_from: number }>(
      "SELECT size::float8 AS size, retained_from::float8 AS retained_from FROM audit_log_heads WHERE org_id = $1",
      [orgId],
    );
    return {
      checkpoints,
      logSize: heads[0]?.size ?? 0,
      retainedFrom: heads[0]?.retained_from ?? 1,
      entryLines(fromSeq, toSeq) {
        streaming = copyEntryLines(client, orgId, fromSeq, toSeq);
        const stream = streaming;
        stream.on("end", () => {
          if (streaming === stream) streaming = undefined;
        });
        return stream;
      },
      async share() {
        const { rows } = await client.query<{ id: string }>("SELECT pg_export_snapshot() AS id");
        const options = sqlOf(db).options as pg.PoolConfig;
        if (!options.connectionString) throw new Error("the database handle has no URL to share");
        return {
          connectionString: options.connectionString,
          ...(typeof options.statement_timeout === "number"
            ? { statementTimeout: options.statement_timeout }
            : {}),
          snapshotId: (rows[0] as { id: string }).id,
        };
      },
      async tailNumbering(covered) {
        const logSize = heads[0]?.size ?? 0;
        const { rows } = await client.query<{ past: number | null; hole: number | null }>(
          `SELECT
             (SELECT min(seq)::float8 FROM audit_entries
              WHERE org_id = $1 AND seq > GREATEST($2::bigint, $3::bigint)) AS past,
             CASE
               WHEN $3::bigint <= $2::bigint THEN NULL
               WHEN (SELECT count(*) FROM audit_entries
                     WHERE org_id = $1 AND seq > $2 AND seq <= $3) = $3::bigint - $2::bigint
                 THEN NULL
               WHEN NOT EXISTS (SELECT 1 FROM audit_entries WHERE org_id = $1 AND seq = $2 + 1)
                 THEN ($2::bigint + 1)::float8
               ELSE (SELECT (min(e.seq) + 1)::float8 FROM audit_entries e
                     WHERE e.org_id = $1 AND e.seq > $2 AND e.seq < $3 AND NOT EXISTS (
                       SELECT 1 FROM audit_entries n WHERE n.org_id = $1 AND n.seq = e.seq + 1))
             END AS hole`,
          [orgId, covered, logSize],
        );
        return { pastCounter: rows[0]?.past ?? null, hole: rows[0]?.hole ?? null };
      },
      async close() {
        if (streaming) {
          streaming.destroy();
          broken = true;
        }
        if (broken) {
          client.release(true);
          return;
        }
        try {
          await client.query("COMMIT");
          client.release();
        } catch {
          client.release(true);
        }
      },
    };
  } catch (error) {
    client.release(true);
    throw error;
  }
}

/**
 * Stored tiles of one organisation: those of `level` (or of every level above 0) with index
 * fromIndex … toIndex, keyed `<level>/<index>`. Not in any snapshot: tiles only grow, and a
 * reader compares only the hashes its checkpoints cover.
 */
export async function readLogTiles(
  db: Database,
  orgId: string,
  level: number | "above-0",
  fromIndex = 0,
  toIndex = Number.MAX_SAFE_INTEGER,
): Promise<Map<string, Uint8Array>> {
  const pool: pg.Pool = sqlOf(db);
  const { rows } = await pool.query<{ level: number; index: number; hashes: Buffer }>(
    `SELECT level, index::float8 AS index, hashes FROM audit_log_tiles
     WHERE org_id = $1 AND ${level === "above-0" ? "level > 0" : "level = $4"}
       AND index BETWEEN $2 AND $3`,
    level === "above-0" ? [orgId, fromIndex, toIndex] : [orgId, fromIndex, toIndex, level],
  );
  return new Map(
    rows.map((row) => [
      `${row.level}/${row.index}`,
      new Uint8Array(row.hashes.buffer, row.hashes.byteOffset, row.hashes.byteLength),
    ]),
  );
}
