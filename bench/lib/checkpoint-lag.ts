import type pg from "pg";
import { log, percentile, round, sleep } from "./util.ts";

/*
 * Checkpoint lag (issue 14: "a new checkpoint covers every committed entry within 2 seconds, also
 * at full ingest load"): for every entry stored during the ingest window, the time from its
 * write to the first signed checkpoint of its organisation whose tree size covers its `seq`.
 *
 * Measured two ways, both against PostgreSQL's clock:
 * - observed (judged): a sampler polls each organisation's latest checkpoint every
 *   `intervalMs` and notes, with `clock_timestamp()`, when a tree size was first seen. An
 *   entry's lag is the first sample that covers it minus its `stored_at`. `stored_at` is its
 *   write transaction's start (before its commit) and a sample sees a checkpoint only after it
 *   committed, up to one interval late: both err on the long side, so this is an upper bound of
 *   what a client polling the checkpoint route would see.
 * - signed: the covering checkpoint's `signed_at` (its transaction's start, so before the
 *   checkpoint was visible) minus `stored_at`, from the tables after the run: shown for
 *   reference, it leaves out the time the checkpoint's transaction took.
 */

export interface CoverageSample {
  orgId: string;
  treeSize: number;
  /** PostgreSQL's clock_timestamp() when this size was first seen, ms since the epoch. */
  seenAtMs: number;
}

export interface CoverageSampler {
  /** Whether any checkpoint of the organisations has been seen (is a checkpoint loop running?). */
  sawAny(): boolean;
  /** Waits until each organisation's observed tree covers its log (audit_log_heads), or the deadline. */
  waitForCoverage(timeoutMs: number): Promise<boolean>;
  stop(): Promise<CoverageSample[]>;
}

const latestSql = `
  SELECT o.org_id, c.tree_size::float8 AS tree_size,
         extract(epoch FROM clock_timestamp()) * 1000 AS now_ms
    FROM unnest($1::text[]) AS o (org_id)
    CROSS JOIN LATERAL (
      SELECT tree_size FROM audit_log_checkpoints c
       WHERE c.org_id = o.org_id ORDER BY tree_size DESC LIMIT 1
    ) c`;

export function startCoverageSampler(
  pool: pg.Pool,
  orgIds: readonly string[],
  intervalMs: number,
): CoverageSampler {
  const samples: CoverageSample[] = [];
  const latest = new Map<string, number>();
  let stopped = false;
  const poll = async () => {
    const { rows } = await pool.query<{ org_id: string; tree_size: number; now_ms: number }>(
      latestSql,
      [orgIds],
    );
    for (const row of rows) {
      if ((latest.get(row.org_id) ?? -1) >= row.tree_size) continue;
      latest.set(row.org_id, row.tree_size);
      samples.push({ orgId: row.org_id, treeSize: row.tree_size, seenAtMs: Number(row.now_ms) });
    }
  };
  const loop = (async () => {
    while (!stopped) {
      const started = Date.now();
      // A failed poll only loses a sample (a later one sees the same checkpoint, later).
      await poll().catch((error: Error) => log(`checkpoint lag sampler: ${error.message}`));
      await sleep(Math.max(0, intervalMs - (Date.now() - started)));
    }
  })();
  return {
    sawAny: () => latest.size > 0,
    async waitForCoverage(timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        const { rows } = await pool.query<{ org_id: string; size: number }>(
          "SELECT org_id, size::float8 AS size FROM audit_log_heads WHERE org_id = ANY($1::text[])",
          [orgIds],
        );
        if (rows.every((row) => (latest.get(row.org_id) ?? 0) >= row.size)) return true;
        await sleep(intervalMs);
      }
      return false;
    },
    async stop() {
      stopped = true;
      await loop.catch(() => {});
      return samples;
    },
  };
}

export interface CheckpointLag {
  entries: number;
  /** Entries no checkpoint was seen to cover before the sampler stopped (counted as infinite). */
  uncovered: number;
  sampleIntervalMs: number;
  /** Checkpoints seen during the window (new tree sizes, all organisations). */
  checkpointsSeen: number;
  observed: { p50: number; p99: number; max: number };
  signed: { p50: number; p99: number; max: number };
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
  const byOrg = new Map<string, CoverageSample[]>();
  for (const sample of samples) {
    const list = byOrg.get(sample.orgId) ?? [];
    list.push(sample);
    byOrg.set(sample.orgId, list);
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
  const observed: number[] = [];
  const signed: number[] = [];
  let uncovered = 0;
  for (const row of rows) {
    const list = byOrg.get(row.org_id) ?? [];
    // Samples of one organisation grow in size and time: the first covering one, by bisection.
    let lo = 0;
    let hi = list.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((list[mid] as CoverageSample).treeSize >= row.seq) hi = mid;
      else lo = mid + 1;
    }
    const covering = list[lo];
    if (!covering) uncovered++;
    observed.push(covering ? covering.seenAtMs - Number(row.stored_ms) : Number.POSITIVE_INFINITY);
    signed.push(row.signed_lag_ms === null ? Number.POSITIVE_INFINITY : Number(row.signed_lag_ms));
  }
  const stats = (values: number[]) => ({
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
    checkpointsSeen: samples.filter((s) => s.seenAtMs >= fromMs && s.seenAtMs < toMs + 5000).length,
    observed: stats(observed),
    signed: stats(signed),
  };
}
