import type { Readable } from "node:stream";
import pg from "pg";
import { CopyOutLines } from "./copy-out-lines.ts";
import { entryLeafBinaryColumns, entryLeafColumns } from "./entry-leaf-lines.ts";
import { postgresStartupOptions } from "./session-settings.ts";

// `verify`'s entry reads (issue 14), usable from a hashing thread: this module loads the pg
// driver and nothing else of the package (no Prisma). A verify's snapshot (`openLogSnapshot`) is
// exported with `pg_export_snapshot()`; each hashing thread joins it on a connection of its own
// and streams its own seq ranges, so the entries reach the threads that hash them without going
// through the main thread, and two PostgreSQL backends render rows at once. Every reader sees
// exactly the rows the main snapshot sees (SET TRANSACTION SNAPSHOT), so no range can see a
// later write.

/** What another connection needs to read a verify's snapshot: plain data, for workerData. */
export interface LogSnapshotShare {
  connectionString: string;
  /** The exporting handle's statement_timeout (ms), if it has one. */
  statementTimeout?: number;
  /** `pg_export_snapshot()` of the open snapshot; valid while that transaction is open. */
  snapshotId: string;
}

/** Session settings of every entry stream: the line parser reads times as UTC ISO text. */
export async function setEntryLineSession(client: pg.ClientBase): Promise<void> {
  await client.query("SET LOCAL TimeZone = 'UTC'");
  await client.query("SET LOCAL DateStyle = 'ISO, YMD'");
  // A parallel scan would pass every line to the leader through shared memory: CPU the
  // hashing threads need more.
  await client.query("SET LOCAL max_parallel_workers_per_gather = 0");
}

/** Entries with fromSeq ≤ seq ≤ toSeq, ascending by seq, as COPY text lines (`entryLeafColumns`). */
export function copyEntryLines(
  client: pg.ClientBase,
  orgId: string,
  fromSeq: number,
  toSeq: number,
): Readable {
  return copyEntries(client, orgId, fromSeq, toSeq, "text");
}

/**
 * The same entries as a binary COPY of `entryLeafBinaryColumns` (header, rows, trailer): what
 * `verify`'s hashing threads read, PostgreSQL's cheaper way to send them (`entryRowsLeafHashes`).
 */
export function copyEntryRows(
  client: pg.ClientBase,
  orgId: string,
  fromSeq: number,
  toSeq: number,
): Readable {
  return copyEntries(client, orgId, fromSeq, toSeq, "binary");
}

function copyEntries(
  client: pg.ClientBase,
  orgId: string,
  fromSeq: number,
  toSeq: number,
  format: "text" | "binary",
): Readable {
  if (!Number.isSafeInteger(fromSeq) || !Number.isSafeInteger(toSeq)) {
    throw new RangeError("seq bounds must be integers");
  }
  const columns = format === "text" ? entryLeafColumns : entryLeafBinaryColumns;
  const copy = new CopyOutLines(
    `COPY (SELECT ${columns} FROM audit_entries
      WHERE org_id = ${client.escapeLiteral(orgId)} AND seq BETWEEN ${fromSeq} AND ${toSeq}
      ORDER BY seq) TO STDOUT${format === "binary" ? " (FORMAT binary)" : ""}`,
  );
  return client.query(copy as unknown as pg.Submittable) as unknown as CopyOutLines;
}

/** A connection inside a shared verify snapshot; one `entryLines` or `entryRows` stream at a time. */
export interface SharedLogSnapshot {
  entryLines(orgId: string, fromSeq: number, toSeq: number): Readable;
  entryRows(orgId: string, fromSeq: number, toSeq: number): Readable;
  close(): Promise<void>;
}

/** Opens a connection of its own and joins the snapshot `share` names. */
export async function joinLogSnapshot(share: LogSnapshotShare): Promise<SharedLogSnapshot> {
  const client = new pg.Client({
    connectionString: share.connectionString,
    options: postgresStartupOptions,
    ...(share.statementTimeout ? { statement_timeout: share.statementTimeout } : {}),
  });
  // An error event without a listener would end the thread; the stream reading fails anyway.
  client.on("error", () => {});
  await client.connect();
  try {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY");
    await client.query(`SET TRANSACTION SNAPSHOT ${client.escapeLiteral(share.snapshotId)}`);
    await setEntryLineSession(client);
  } catch (error) {
    await client.end().catch(() => {});
    throw error;
  }
  return {
    entryLines: (orgId, fromSeq, toSeq) => copyEntryLines(client, orgId, fromSeq, toSeq),
    entryRows: (orgId, fromSeq, toSeq) => copyEntryRows(client, orgId, fromSeq, toSeq),
    // Read-only: ending the connection ends the transaction; nothing to commit.
    close: () => client.end(),
  };
}
