import type pg from "pg";
import { log, percentile, round, sleep } from "./util.ts";

/*
 * Checkpoint lag (issue 14: "a new checkpoint covers every committed entry within 2 seconds, also
 * at full ingest load"): for every entry stored during the ingest window, the time from its
 * commit to the first signed checkpoint of its organisation whose tree size covers its `seq`.
 *
 * A sampler polls, every `intervalMs`, each organisation's log size (audit_log_heads, which
 * grows in the writing transaction, so a size is visible exactly when the entries up to it are
 * committed) and its latest checkpoint's tree size, and notes when each size was first seen,
 * with PostgreSQL's `clock_timestamp()`. Per entry, three figures:
 * - from commit (judged): first sample whose checkpoint covers `seq` minus first sample whose
 *   log size covers it. Both are seen up to one interval late, so the error is ± one interval:
 *   what a client polling the checkpoint route as soon as an entry is readable would see.
 * - from stored_at: the same checkpoint sample minus the entry's `stored_at`, its write
 *   transaction's start (before the counter lock and the COPY): an upper bound.
 * - signed: the covering checkpoint's `signed_at` (the start of the checkpoint's transaction,
 *   before it was visible) minus `stored_at`, from the tables: shown for reference.
 */

export interface CoverageSample {
  orgId: string;
  /** A log size (`log`) or a checkpoint's tree size (`checkpoint`). */
  what: "log" | "checkpoint";
  size: number;
  /** PostgreSQL's clock_timestamp() when this size was first seen, ms since the epoch. */
  seenAtMs: number;
}

export interface CoverageSampler {
  /** Whether any checkpoint of the organisations has been seen (is a checkpoint loop running?). */
  sawAny(): boolean;
  /** Waits until each organisation's seen checkpoint covers its log, or the deadline. */
  waitForCoverage(timeoutMs: number): Promise<boolean>;
  stop(): Promise<CoverageSample[]>;
}

// Only the organisations whose log or checkpoint grew since the sizes the sampler passes (sizes
// only grow): spread over 1,000 organisations, parsing every organisation's row four times a
// second cost the bench's own process more than the load it generates.
const latestSql = `
  SELECT o.org_id, h.size::float8 AS log_size, c.tree_size::float8 AS tree_size,
         extract(epoch FROM clock_timestamp()) * 1000 AS now_ms
    FROM unnest($1::text[], $2::float8[], $3::float8[]) AS o (org_id, seen_log, seen_tree)
    LEFT JOIN audit_log_heads h USING (org_id)
    LEFT JOIN LATERAL (
      SELECT c.tree_size FROM audit_log_checkpoints c
       WHERE c.org_id = o.org_id ORDER BY c.tree_size DESC LIMIT 1
    ) c ON true
   WHERE coalesce(h.size, -1) > o.seen_log OR coalesce(c.tree_size, -1) > o.seen_tree`;

export function startCoverageSampler(
  pool: pg.Pool,
  orgIds: readonly string[],
  intervalMs: number,
): CoverageSampler {
  const samples: CoverageSample[] = [];
  const latest = { log: new Map<string, number>(), checkpoint: new Map<string, number>() };
  let stopped = false;
  const note = (orgId: string, what: CoverageSample["what"], size: number | null, at: number) => {
    if (size === null || (latest[what].get(orgId) ?? -1) >= size) return;
    latest[what].set(orgId, size);
    samples.push({ orgId, what, size, seenAtMs: at });
  };
  const poll = async () => {
    const { rows } = await pool.query<{
      org_id: string;
      log_size: number | null;
      tree_size: number | null;
      now_ms: number;
    }>(latestSql, [
      orgIds,
      orgIds.map((orgId) => latest.log.get(orgId) ?? -1),
      orgIds.map((orgId) => latest.checkpoint.get(orgId) ?? -1),
    ]);
    for (const row of rows) {
      note(row.org_id, "log", row.log_size, Number(row.now_ms));
      note(row.org_id, "checkpoint", row.tree_size, Number(row.now_ms));
    }
  };
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      // A failed poll only loses a sample (a later one sees the same sizes, later).
      await poll().catch((error: Error) => log(`checkpoint lag sampler: ${error.message}`));
      await sleep(Math.max(0, intervalMs - (Date.now() - started)));
    }
  })();
  return {
    sawAny: () => latest.checkpoint.size > 0,
    async waitForCoverage(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const { rows } = await pool.query<{ org_id: string; size: number }>(
          "SELECT org_id, size::float8 AS size FROM audit_log_heads WHERE org_id = ANY($1::text[])",
          [orgIds],
        );
        if (rows.every((row) => (latest.checkpoint.get(row.org_id) ?? 0) >= row.size)) {
          return true;
        }
        await sleep(intervalMs);
      }
      return false;
    },
    async stop() {
      stopped = true;
      await loop;
      return samples;
    },
  };
}

export interface LagStats {
  p50: number;
  p99: number;
  max: number;
}

export interface CheckpointLag {
  entries: number;
  /** Entries no checkpoint was seen to cover before the sampler stopped (counted as infinite). */
  uncovered: number;
  sampleIntervalMs: number;
  /** Checkpoints seen during the window and 5 s after (new tree sizes, all organisations). */
  checkpointsSeen: number;
  /**
   * Checkpoints signed during the window (by signed_at, all organisations): the signer's pace,
   * one organisation's tree at a time; with N organisations behind, a pass takes about
   * N ÷ (this ÷ window seconds).
   */
  signedInWindow: number;
  /** From the sample that first saw the entry committed (judged). */
  fromCommit: LagStats;
  /** From the entry's stored_at (an upper bound). */
  fromStoredAt: LagStats;
  /** The covering checkpoint's signed_at minus stored_at (reference). */
  signed: LagStats;
}

/** Samples of one organisation grow in size and time: the first covering `seq`, by bisection. */
function firstCovering(list: readonly CoverageSample[], seq: number): CoverageSample | undefined {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if ((list[mid] as CoverageSample).size >= seq) hi = mid;
    else lo = mid + 1;
  }
  return list[lo];
}

/** Lag of every entry of `orgIds` stored in [fromMs, toMs), from the samples and the tables. */
export async function checkpointLag(
  pool: pg.Pool,
  orgIds: readonly string[],
  fromMs: number,
  toMs: number,
  samples: readonly CoverageSample[],
  sampleIntervalMs: number,
): Promise<CheckpointLag> {
  const byOrg = new Map<string, { log: CoverageSample[]; checkpoint: CoverageSample[] }>();
  for (const sample of samples) {
    const lists = byOrg.get(sample.orgId) ?? { log: [], checkpoint: [] };
    lists[sample.what].push(sample);
    byOrg.set(sample.orgId, lists);
  }
  const { rows } = await pool.query<{
    org_id: string;
    seq: number;
    stored_ms: number;
    signed_lag_ms: number | null;
  }>(
    `SELECT e.org_id, e.seq::float8 AS seq, extract(epoch FROM e.stored_at) * 1000 AS stored_ms,
            extract(epoch FROM (
              SELECT c.signed_at FROM audit_log_checkpoints c
               WHERE c.org_id = e.org_id AND c.tree_size >= e.seq ORDER BY c.tree_size LIMIT 1
            ) - e.stored_at) * 1000 AS signed_lag_ms
       FROM audit_entries e
      WHERE e.org_id = ANY($1::text[]) AND e.stored_at >= to_timestamp($2 / 1000.0)
        AND e.stored_at < to_timestamp($3 / 1000.0)`,
    [orgIds, fromMs, toMs],
  );
  const { rows: signedRows } = await pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM audit_log_checkpoints
      WHERE org_id = ANY($1::text[]) AND signed_at >= to_timestamp($2 / 1000.0)
        AND signed_at < to_timestamp($3 / 1000.0)`,
    [orgIds, fromMs, toMs],
  );
  const fromCommit: number[] = [];
  const fromStoredAt: number[] = [];
  const signed: number[] = [];
  let uncovered = 0;
  for (const row of rows) {
    const lists = byOrg.get(row.org_id) ?? { log: [], checkpoint: [] };
    const covering = firstCovering(lists.checkpoint, row.seq);
    if (!covering) {
      uncovered++;
      fromCommit.push(Number.POSITIVE_INFINITY);
      fromStoredAt.push(Number.POSITIVE_INFINITY);
    } else {
      // Seen committed no later than seen covered (a checkpoint only covers committed entries).
      const committedSeenAt = Math.min(
        firstCovering(lists.log, row.seq)?.seenAtMs ?? covering.seenAtMs,
        covering.seenAtMs,
      );
      fromCommit.push(covering.seenAtMs - committedSeenAt);
      fromStoredAt.push(covering.seenAtMs - Number(row.stored_ms));
    }
    signed.push(row.signed_lag_ms === null ? Number.POSITIVE_INFINITY : Number(row.signed_lag_ms));
  }
  const stats = (values: number[]): LagStats => ({
    p50: round(percentile(values, 50), 1),
    p99: round(percentile(values, 99), 1),
    max: round(
      values.reduce((a, b) => Math.max(a, b), Number.NEGATIVE_INFINITY),
      1,
    ),
  });
  return {
    entries: rows.length,
    uncovered,
    sampleIntervalMs,
    checkpointsSeen: samples.filter(
      (s) => s.what === "checkpoint" && s.seenAtMs >= fromMs && s.seenAtMs < toMs + 5000,
    ).length,
    signedInWindow: Number(signedRows[0]?.n ?? 0),
    fromCommit: stats(fromCommit),
    fromStoredAt: stats(fromStoredAt),
    signed: stats(signed),
  };
}
