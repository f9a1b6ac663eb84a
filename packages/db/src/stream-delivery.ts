import { emptyQuery, type ParsedQuery, type StreamEntry } from "@auditlog/events";
import type pg from "pg";
import { CopyOutLines } from "./copy-out-lines.ts";
import { type Database, sqlOf } from "./database.ts";
import { renderEntryJsonRun } from "./entry-export-lines.ts";
import { entryJsonSql, inlineParameters, isoTimeTextSql } from "./entry-export-stream.ts";
import { entryLeafColumns } from "./entry-leaf-lines.ts";
import { buildEntryFilter } from "./entry-queries.ts";
import { storedDestination } from "./log-streams.ts";

// The worker's side of log streams (issue 17): claiming streams with a lease, reading what a
// stream delivers next, and recording what became of a batch. The API owns the streams' CRUD
// (log-streams.ts); this module only touches the delivery columns.
//
// The cursor (`delivered_seq`) means: every entry with seq ≤ it was delivered or did not match
// the stream's query. Because `seq` is gap-free and given in commit order, every seq up to the
// highest one a statement sees is committed, so the cursor may move over non-matching entries
// up to that seq and no late commit can land behind it.

/** A stream this worker holds the lease of, with what it needs to deliver. */
export interface ClaimedStream {
  id: string;
  orgId: string;
  orgSlug: string;
  name: string;
  destinationType: string;
  destination: unknown;
  secretSealed: string | null;
  query: string;
  deliveredSeq: number;
  failingSince: Date | null;
  consecutiveFailures: number;
  /** The API's last change of the stream: a change ends this worker's turn at the next batch. */
  updatedAt: Date;
  leaseUntil: Date;
}

interface ClaimedRow {
  id: string;
  org_id: string;
  org_slug: string;
  name: string;
  destination_type: string;
  destination: unknown;
  secret_sealed: string | null;
  query: string;
  delivered_seq: number;
  failing_since: Date | null;
  consecutive_failures: number;
  updated_at: Date;
  lease_until: Date;
}

/**
 * Claims up to `limit` streams that are due: not paused, past their `next_attempt_at`, not
 * leased by a live worker (`lease_until` in the past: a dead worker's lease simply expires),
 * and behind their organisation's log. `FOR UPDATE SKIP LOCKED`: workers claiming at the same
 * moment take different streams instead of waiting for each other.
 */
/**
 * Organisations with a stream that is not paused, and how many they have (the delivery loop's
 * filter on wake-ups).
 */
export async function countActiveStreamsByOrg(db: Database): Promise<Map<string, number>> {
  const { rows } = await sqlOf(db).query<{ org_id: string; streams: number }>(
    "SELECT org_id, count(*)::int AS streams FROM log_streams WHERE NOT paused GROUP BY org_id",
  );
  return new Map(rows.map((row) => [row.org_id, row.streams]));
}

export async function claimDueStreams(
  db: Database,
  input: { owner: string; leaseMs: number; limit: number; exclude?: readonly string[] },
): Promise<ClaimedStream[]> {
  if (input.limit <= 0) return [];
  const { rows } = await sqlOf(db).query<ClaimedRow>(
    `WITH due AS (
       SELECT s.id FROM log_streams s
       JOIN audit_log_heads h ON h.org_id = s.org_id
       WHERE NOT s.paused
         AND (s.next_attempt_at IS NULL OR s.next_attempt_at <= now())
         AND (s.lease_until IS NULL OR s.lease_until < now())
         AND s.delivered_seq < h.size
         AND s.id <> ALL($4::text[])
       ORDER BY s.next_attempt_at NULLS FIRST, s.id
       LIMIT $3
       FOR UPDATE OF s SKIP LOCKED
     )
     UPDATE log_streams s
     SET lease_owner = $1, lease_until = now() + make_interval(secs => $2::float8 / 1000)
     FROM due, organizations o
     WHERE s.id = due.id AND o.id = s.org_id
     RETURNING s.id, s.org_id, o.slug AS org_slug, s.name, s.destination_type, s.destination, s.secret_sealed, s.query,
       s.delivered_seq::float8 AS delivered_seq, s.failing_since, s.consecutive_failures,
       s.updated_at, s.lease_until`,
    [input.owner, input.leaseMs, input.limit, input.exclude ?? []],
  );
  return rows.map((row) => ({
    id: row.id,
    orgId: row.org_id,
    orgSlug: row.org_slug,
    name: row.name,
    destinationType: row.destination_type,
    destination: storedDestination(row.destination_type, row.destination),
    secretSealed: row.secret_sealed,
    query: row.query,
    deliveredSeq: row.delivered_seq,
    failingSince: row.failing_since,
    consecutiveFailures: row.consecutive_failures,
    updatedAt: row.updated_at,
    leaseUntil: row.lease_until,
  }));
}

export interface StreamRead {
  /** Matching entries after the cursor, ascending `seq`, at most `limit`, their JSON rendered. */
  entries: StreamEntry[];
  /** When each entry was stored (same order), epoch milliseconds: how long it has waited. */
  storedAtMs: number[];
  /** Each entry's JSON in UTF-8 bytes (same order), counted by PostgreSQL: a batch's byte bound. */
  bytes: number[];
  /**
   * The highest seq this read accounted for: every entry up to it is in `entries` or did not
   * match. Equal to the cursor when the log holds nothing newer.
   */
  scannedThrough: number;
}

interface StreamReadRow {
  from_seq: number;
  top: number | null;
  id: string | null;
  seq: number | null;
  occurred_at: string;
  received_at: string;
  stored_ms: number;
  bytes: number;
  json: string;
}

/**
 * The next entries of a stream: those after `afterSeq` (or after the log's start, when a purge
 * removed entries past the cursor) that match `query`, hidden types included, as the feed has
 * them. At most `scanWindow` seqs are examined per read, so a filter that matches rarely costs
 * a bounded index range per call instead of a scan of the rest of the log; the caller moves its
 * cursor to `scannedThrough` and reads again.
 *
 * Each entry comes as the JSON text the query API would answer (`entryJsonSql`, rendered by
 * PostgreSQL): the worker splices it into a sender's envelope, and bounds a batch's bytes by its
 * length, instead of building an object from 28 columns and serialising it twice. The bounds
 * and the rows come from one statement, so one snapshot (and one round trip): every seq up to
 * the highest one it sees is committed (seqs are given in commit order).
 *
 * Both index reads stop early: the top is the first row of a backward scan of `(org_id, seq)`
 * (`max(seq)` with bounds from a CTE visited every index entry of the window), and the rows are
 * ordered by the column `audit_entries.seq`, not by the output name `seq` (its float8 cast),
 * which made PostgreSQL render and sort the whole 50,000-seq window for every 500-entry batch.
 */
export async function readStreamEntries(
  db: Database,
  input: {
    orgId: string;
    query: ParsedQuery;
    afterSeq: number;
    limit: number;
    scanWindow: number;
  },
): Promise<StreamRead> {
  const rows = await queryStreamWindow<StreamReadRow>(db, input, true);
  streamReadStats.renderedReads++;
  const top = rows[0]?.top ?? null;
  if (top === null) {
    return { entries: [], storedAtMs: [], bytes: [], scannedThrough: input.afterSeq };
  }
  const entries: StreamEntry[] = [];
  const storedAtMs: number[] = [];
  const bytes: number[] = [];
  for (const row of rows) {
    if (row.id === null || row.seq === null) continue; // the bounds alone: nothing matched
    entries.push({
      id: row.id,
      seq: row.seq,
      occurredAt: row.occurred_at,
      receivedAt: row.received_at,
      json: row.json,
    });
    storedAtMs.push(row.stored_ms);
    bytes.push(row.bytes);
  }
  streamReadStats.renderedEntries += entries.length;
  // A full page ends at its last entry (more may match after it); a short one covers the window.
  const scannedThrough =
    entries.length === input.limit
      ? (entries.at(-1) as StreamEntry).seq
      : Math.max(top, input.afterSeq);
  return { entries, storedAtMs, bytes, scannedThrough };
}

/** A `StreamRead` whose entries' JSON also lies in one buffer, each followed by a comma. */
export interface StreamReadRun extends StreamRead {
  /** Entry i's UTF-8 JSON is `run.bytes[run.starts[i], run.ends[i])`. */
  run: { bytes: Buffer; starts: number[]; ends: number[] };
}

/**
 * `readStreamEntries` of every entry (no filter, hidden types included), as the streams' shared
 * read asks for them, but rendered by this process: PostgreSQL sends the columns as COPY text
 * (`entryLeafColumns`) and `renderEntryJsonRun` writes the very bytes `entryJsonSql` would, into
 * one buffer. Rendering each entry's JSON was most of PostgreSQL's CPU per entry in a stream's
 * read (about 20 µs, against about 2 µs to send the columns), on the database ingest writes to.
 * The same bounds, from one statement (one snapshot): with no filter every seq of the window is
 * a row, so the window's top is the last row's seq, and an empty answer means an empty window.
 */
export async function readStreamEntryRun(
  db: Database,
  input: { orgId: string; afterSeq: number; limit: number; scanWindow: number },
): Promise<StreamReadRun> {
  const filter = buildEntryFilter(input.orgId, emptyQuery(), { includeHidden: true });
  for (const value of [input.afterSeq, input.limit, input.scanWindow]) {
    if (!Number.isSafeInteger(value)) throw new RangeError("stream read bounds must be integers");
  }
  const client = await sqlOf(db).connect();
  let failed = true;
  try {
    const where = inlineParameters(filter.where, filter.params.values, (value) =>
      client.escapeLiteral(value),
    );
    const org = client.escapeLiteral(input.orgId);
    // Times as UTC ISO text, as the renderer reads them; no parallel scan for a chunk's rows.
    await client.query(
      "BEGIN READ ONLY; SET LOCAL TimeZone = 'UTC'; SET LOCAL DateStyle = 'ISO, YMD'; SET LOCAL max_parallel_workers_per_gather = 0",
    );
    const fromSeq = `(SELECT GREATEST(${input.afterSeq}::bigint + 1,
        COALESCE((SELECT retained_from FROM audit_log_heads WHERE org_id = ${org}), 1)))`;
    const copy = client.query(
      new CopyOutLines(
        `COPY (SELECT (extract(epoch FROM stored_at) * 1000)::float8, ${entryLeafColumns}
          FROM audit_entries
          WHERE ${where} AND seq >= ${fromSeq} AND seq < ${fromSeq} + ${input.scanWindow}::bigint
          ORDER BY audit_entries.seq LIMIT ${input.limit}) TO STDOUT`,
      ) as unknown as pg.Submittable,
    ) as unknown as CopyOutLines;
    const chunks: Buffer[] = [];
    for await (const chunk of copy) chunks.push(chunk as Buffer);
    await client.query("COMMIT");
    failed = false;
    const run = renderEntryJsonRun(chunks, 1);
    streamReadStats.renderedReads++;
    const entries: StreamEntry[] = [];
    const storedAtMs: number[] = [];
    const bytes: number[] = [];
    for (let i = 0; i < run.seqs.length; i++) {
      const start = run.starts[i] as number;
      const end = run.ends[i] as number;
      entries.push({
        id: run.ids[i] as string,
        seq: run.seqs[i] as number,
        occurredAt: run.occurredAt[i] as string,
        receivedAt: run.receivedAt[i] as string,
        json: run.bytes.toString("utf8", start, end),
      });
      storedAtMs.push(Number((run.leading[i] as string[])[0]));
      bytes.push(end - start);
    }
    streamReadStats.renderedEntries += entries.length;
    const last = entries.at(-1);
    return {
      entries,
      storedAtMs,
      bytes,
      scannedThrough: last ? Math.max(last.seq, input.afterSeq) : input.afterSeq,
      run: { bytes: run.bytes, starts: run.starts, ends: run.ends },
    };
  } finally {
    // A failed COPY or COMMIT: the connection is closed rather than returned mid-transaction.
    client.release(failed ? true : undefined);
  }
}

/**
 * What PostgreSQL did for stream reads in this process: statements that rendered entries'
 * JSON, the entries rendered, and the seq-only reads of filtered streams. Counted here, where
 * the statements are sent, so a test sees what a shared read saved without statement logging.
 */
export const streamReadStats = { renderedReads: 0, renderedEntries: 0, matchReads: 0 };

/**
 * The seqs of a stream's next matching entries, as `readStreamEntries` would select them, but
 * nothing rendered: a filtered stream served from a window of rendered entries shared by its
 * organisation's streams (the worker's shared read) learns here which of them are its own. The
 * same bounds, from the same one statement: `scannedThrough` is what this snapshot saw, so a
 * window filled from a fresher snapshot never lets a stream move over entries this read missed.
 */
export async function readStreamMatchingSeqs(
  db: Database,
  input: {
    orgId: string;
    query: ParsedQuery;
    afterSeq: number;
    limit: number;
    scanWindow: number;
  },
): Promise<{ seqs: number[]; scannedThrough: number }> {
  const rows = await queryStreamWindow<{ top: number | null; seq: number | null }>(
    db,
    input,
    false,
  );
  streamReadStats.matchReads++;
  const top = rows[0]?.top ?? null;
  if (top === null) return { seqs: [], scannedThrough: input.afterSeq };
  const seqs: number[] = [];
  for (const row of rows) if (row.seq !== null) seqs.push(row.seq);
  const scannedThrough =
    seqs.length === input.limit ? (seqs.at(-1) as number) : Math.max(top, input.afterSeq);
  return { seqs, scannedThrough };
}

/** The window's bounds and its matching rows, rendered or as bare seqs, in one statement. */
async function queryStreamWindow<Row extends object>(
  db: Database,
  input: { orgId: string; query: ParsedQuery; afterSeq: number; limit: number; scanWindow: number },
  render: boolean,
): Promise<Row[]> {
  const filter = buildEntryFilter(input.orgId, input.query, { includeHidden: true });
  const afterSeq = filter.params.add(input.afterSeq);
  const scanWindow = filter.params.add(input.scanWindow);
  const limit = filter.params.add(input.limit);
  const columns = render
    ? `id, seq::float8 AS seq, ${isoTimeTextSql("occurred_at")} AS occurred_at,
         ${isoTimeTextSql("received_at")} AS received_at,
         (extract(epoch FROM stored_at) * 1000)::float8 AS stored_ms,
         octet_length(r.json) AS bytes, r.json
       FROM audit_entries, LATERAL (SELECT ${entryJsonSql} AS json) r`
    : "seq::float8 AS seq FROM audit_entries";
  // The window's top (the highest committed seq in it) and the matching rows up to it, in one
  // statement: one snapshot, one round trip. A LEFT JOIN so the bounds come back without rows.
  const { rows } = await sqlOf(db).query<Row>(
    `WITH start AS (
       SELECT GREATEST(${afterSeq}::bigint + 1,
         COALESCE((SELECT retained_from FROM audit_log_heads WHERE org_id = $1), 1)) AS from_seq
     ), bounds AS (
       SELECT from_seq,
         (SELECT seq FROM audit_entries
          WHERE org_id = $1 AND seq >= from_seq AND seq < from_seq + ${scanWindow}::bigint
          ORDER BY seq DESC LIMIT 1) AS top
       FROM start
     )
     SELECT b.from_seq::float8 AS from_seq, b.top::float8 AS top, e.*
     FROM bounds b LEFT JOIN LATERAL (
       SELECT ${columns}
       WHERE ${filter.where} AND seq BETWEEN b.from_seq AND b.top
       ORDER BY audit_entries.seq LIMIT ${limit}
     ) e ON true`,
    filter.params.values,
  );
  return rows;
}

/** What became of a stream's cursor move (`advanceStreamCursors`). */
export interface CursorMoved {
  paused: boolean;
  updatedAt: Date;
  wasReportedFailing: boolean;
  /** When the failure this delivery ended began (null when the stream was healthy). */
  endedFailureSince: Date | null;
}

/**
 * Moves a stream's cursor to `throughSeq` after its receiver accepted a batch (or after a read
 * found nothing matching up to there), only while this worker's lease holds: a worker that
 * lost its lease (it was too slow, another took over) changes nothing. A delivery also clears
 * the failure state. Answers null when the lease was lost; otherwise the stream's state after
 * the move, and whether it had been reported failing (a recovery to announce).
 */
export async function advanceStreamCursor(
  db: Database,
  input: { streamId: string; owner: string; throughSeq: number; delivered: boolean },
): Promise<CursorMoved | null> {
  const [moved] = await advanceStreamCursors(db, input.owner, [input]);
  return moved ?? null;
}

/**
 * `advanceStreamCursor` for several streams of one owner in one statement (one transaction, one
 * commit instead of one per stream): each move as it would be alone, answered in input order.
 * A stream appears at most once per call. Rows are locked in id order (two calls never wait on
 * each other crosswise).
 */
export async function advanceStreamCursors(
  db: Database,
  owner: string,
  moves: readonly { streamId: string; throughSeq: number; delivered: boolean }[],
): Promise<(CursorMoved | null)[]> {
  if (moves.length === 0) return [];
  const { rows } = await sqlOf(db).query<{
    id: string;
    paused: boolean;
    updated_at: Date;
    was_notified: boolean;
    ended_since: Date | null;
  }>(
    `WITH moves AS (
       SELECT * FROM unnest($2::text[], $3::bigint[], $4::boolean[]) AS m(id, through_seq, delivered)
     ), old AS (
       SELECT s.id, s.failing_notified_at, s.failing_since, m.through_seq, m.delivered
       FROM log_streams s JOIN moves m ON m.id = s.id
       WHERE s.lease_owner = $1 AND s.lease_until > now()
       ORDER BY s.id
       FOR UPDATE OF s
     )
     UPDATE log_streams s SET
       delivered_seq = GREATEST(s.delivered_seq, old.through_seq),
       last_success_at = CASE WHEN old.delivered THEN now() ELSE s.last_success_at END,
       failing_since = CASE WHEN old.delivered THEN NULL ELSE s.failing_since END,
       failing_notified_at = CASE WHEN old.delivered THEN NULL ELSE s.failing_notified_at END,
       consecutive_failures = CASE WHEN old.delivered THEN 0 ELSE s.consecutive_failures END,
       next_attempt_at = CASE WHEN old.delivered THEN NULL ELSE s.next_attempt_at END
     FROM old WHERE s.id = old.id
     RETURNING s.id, s.paused, s.updated_at,
       CASE WHEN old.delivered THEN old.failing_since END AS ended_since,
       (old.delivered AND old.failing_notified_at IS NOT NULL) AS was_notified`,
    [
      owner,
      moves.map((move) => move.streamId),
      moves.map((move) => move.throughSeq),
      moves.map((move) => move.delivered),
    ],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  return moves.map((move) => {
    const row = byId.get(move.streamId);
    if (!row) return null;
    return {
      paused: row.paused,
      updatedAt: row.updated_at,
      wasReportedFailing: row.was_notified,
      endedFailureSince: row.ended_since,
    };
  });
}

/**
 * Records a failed attempt: the error, the next attempt after `retryInMs`, and the failure
 * streak. The cursor does not move, so the same entries are sent again. Releases the lease.
 * `notifyFailing` is true exactly once per streak (for one worker): the first failure recorded
 * once the streak is older than `failingAfterSeconds`.
 */
export async function recordStreamFailure(
  db: Database,
  input: {
    streamId: string;
    owner: string;
    error: string;
    retryInMs: number;
    failingAfterSeconds: number;
  },
): Promise<{ consecutiveFailures: number; failingSince: Date; notifyFailing: boolean } | null> {
  const { rows } = await sqlOf(db).query<{
    consecutive_failures: number;
    failing_since: Date;
    notify: boolean;
  }>(
    `WITH old AS (
       SELECT id, failing_notified_at FROM log_streams
       WHERE id = $1 AND lease_owner = $2
       FOR UPDATE
     )
     UPDATE log_streams s SET
       consecutive_failures = s.consecutive_failures + 1,
       failing_since = COALESCE(s.failing_since, now()),
       last_error = left($3, 1000),
       last_error_at = now(),
       next_attempt_at = now() + make_interval(secs => $4::float8 / 1000),
       failing_notified_at = CASE
         WHEN s.failing_notified_at IS NULL
           AND COALESCE(s.failing_since, now()) <= now() - make_interval(secs => $5::float8)
         THEN now() ELSE s.failing_notified_at END,
       lease_owner = NULL,
       lease_until = NULL
     FROM old WHERE s.id = old.id
     RETURNING s.consecutive_failures, s.failing_since,
       (old.failing_notified_at IS NULL AND s.failing_notified_at IS NOT NULL) AS notify`,
    [input.streamId, input.owner, input.error, input.retryInMs, input.failingAfterSeconds],
  );
  const row = rows[0];
  return row
    ? {
        consecutiveFailures: row.consecutive_failures,
        failingSince: row.failing_since,
        notifyFailing: row.notify,
      }
    : null;
}

/** Gives a stream's lease back (the turn ended): another pass, here or elsewhere, may claim it. */
export async function releaseStreamLease(
  db: Database,
  input: { streamId: string; owner: string },
): Promise<void> {
  await sqlOf(db).query(
    "UPDATE log_streams SET lease_owner = NULL, lease_until = NULL WHERE id = $1 AND lease_owner = $2",
    [input.streamId, input.owner],
  );
}
