import { createDatabase, purgeAgedEntries } from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { prepareBodies } from "./ingest.ts";
import { ensureOrg, ensureSeedTables, seededPartitions } from "./seed.ts";
import type { BenchSize } from "./sizes.ts";
import {
  benchDatabaseUrl,
  createAdminToken,
  createIngestKey,
  freePort,
  type ManagedProcess,
  partitionTable,
  redisUrl,
  removeBenchOrg,
  runId,
  stackQueues,
  startApi,
  startWorker,
} from "./stack.ts";
import { formatCount, httpRequest, log, pacedLoad, percentile, round, sleep } from "./util.ts";

// Issue 16: a retention purge of millions of entries of one organisation while the stack ingests
// into that same organisation and answers queries of it. The same load runs first without the purge (the baseline),
// then with it, and the purge's rate and both p99s are reported. Then the alternative, time
// partitioning, is measured as far as it differs: dropping a partition holding the same rows.

export interface LifecycleLatency {
  ingestP99Ms: number;
  ingestP50Ms: number;
  ingestRequests: number;
  ingestErrors: number;
  queryP99Ms: number;
  queryP50Ms: number;
  queries: number;
  queryErrors: number;
}

export interface LifecycleResult {
  entries: number;
  batchSize: number;
  eventsPerSecond: number;
  purgeSeconds: number;
  purgeRowsPerSecond: number;
  without: LifecycleLatency;
  during: LifecycleLatency;
  /** The same rows in a range partition of their own: detaching and dropping it. */
  timePartition: { copySeconds: number; detachDropMs: number };
}

/** Entries purged: the 2,000,000 in a full run. */
export function lifecycleEntries(size: BenchSize): number {
  return size.name === "full" ? 2_000_000 : 200_000;
}

export async function runLifecycleBench(
  size: BenchSize,
  options: { eventsPerSecond: number; workerConcurrency: number; batchSize: number },
): Promise<LifecycleResult> {
  const entries = lifecycleEntries(size);
  const db = createDatabase({ url: benchDatabaseUrl, poolSize: 4 });
  const { pool } = driversOf(db);
  const processes: ManagedProcess[] = [];
  const cleanups: (() => Promise<void>)[] = [];
  const slug = `bench-purge-${runId}`;
  let purgedOrg: { id: string; partition: number } | undefined;
  try {
    await ensureSeedTables(pool);
    const occupied = await seededPartitions();
    log(`lifecycle: seeding ${formatCount(entries)} entries to purge (stored over the past year)`);
    const { org } = await ensureOrg(db, slug, entries, occupied);
    purgedOrg = { id: org.id, partition: org.partition };
    // Purged below: not a dataset to reuse.
    await pool.query("DELETE FROM bench_seed_meta WHERE slug = $1", [slug]);
    // The purge reads only the tree's size (entries the tree covers may go); the tiles do not
    // take part in deleting, so the tree head is set rather than built (minutes of hashing).
    await pool.query(
      `INSERT INTO audit_log_trees (org_id, size, root_hash) VALUES ($1, $2, $3)
       ON CONFLICT (org_id) DO UPDATE SET size = EXCLUDED.size`,
      [org.id, entries, Buffer.alloc(32)],
    );
    // Time partitioning's side of the comparison, prepared before any load: the same rows in a
    // partition of their own, dropped after the purge.
    log(`lifecycle: time partitioning, ${formatCount(entries)} rows in a partition of their own`);
    const copySeconds = await prepareTimePartition(pool, org.id);
    const table = await partitionTable(pool, org.partition);
    await pool.query(`VACUUM (ANALYZE) ${table}`);

    // The organisation being purged is the one receiving the load: its counter row is what
    // both the writes and each purge batch take.
    const key = await createIngestKey(db, slug);
    const token = await createAdminToken(db, slug);
    const queues = stackQueues("lifecycle");
    const port = await freePort();
    processes.push(await startApi(port, queues));
    processes.push(
      await startWorker("lifecycle-worker", queues, {
        concurrency: options.workerConcurrency,
        roles: ["ingest"],
      }),
    );
    const url = `http://127.0.0.1:${port}`;
    const batch = 100;
    const bodies = prepareBodies(400, batch);
    const rate = Math.max(1, Math.round(options.eventsPerSecond / batch));
    const ingestWindow = (seconds: number) =>
      pacedLoad(
        `${url}/v1/events`,
        {
          method: "POST",
          headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
          bodies,
        },
        rate,
        seconds,
      );
    // Queries of the organisation being purged: its newest page, as the console opens it.
    const queryUrl = `${url}/v1/orgs/${slug}/audit-logs?limit=50`;
    const queryLoop = (until: () => boolean) => {
      const samples: number[] = [];
      let errors = 0;
      const done = (async () => {
        while (!until()) {
          const started = performance.now();
          // A refused or reset request is counted, not fatal: on a loaded machine a keep-alive
          // socket closed by the server as it is reused is not the purge's doing.
          const answer = await httpRequest(queryUrl, {
            headers: { authorization: `Bearer ${token}` },
          }).catch(() => null);
          if (answer?.status === 200) samples.push(performance.now() - started);
          else errors++;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return errors;
      })();
      return { samples, done };
    };
    const summarize = (
      ingest: { latencies: number[]; errors: number }[],
      queries: number[],
      queryErrors: number,
    ): LifecycleLatency => {
      const latencies = ingest.flatMap((w) => w.latencies);
      return {
        ingestP99Ms: round(percentile(latencies, 99), 1),
        ingestP50Ms: round(percentile(latencies, 50), 1),
        ingestRequests: latencies.length,
        ingestErrors: ingest.reduce((sum, w) => sum + w.errors, 0),
        queryP99Ms: round(percentile(queries, 99), 1),
        queryP50Ms: round(percentile(queries, 50), 1),
        queries: queries.length,
        queryErrors,
      };
    };

    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const ingestQueue = new Queue(queues.ingest, { connection });
    /** Each measurement starts with the worker caught up: no backlog of the one before. */
    const drained = async () => {
      const deadline = Date.now() + 600_000;
      for (;;) {
        const counts = await ingestQueue.getJobCounts("wait", "active", "delayed", "prioritized");
        if (Object.values(counts).every((n) => n === 0)) return;
        if (Date.now() > deadline) throw new Error("the ingest queue did not drain in 10 min");
        await sleep(250);
      }
    };
    cleanups.push(async () => {
      await ingestQueue.close();
      connection.disconnect();
    });

    // Warm-up, then the baseline: the same load and queries, no purge.
    await ingestWindow(3);
    await drained();
    const baselineSeconds = size.name === "full" ? 30 : 10;
    log(
      `lifecycle: baseline, ${formatCount(rate * batch)} events/s and queries for ${baselineSeconds}s`,
    );
    let baselineOver = false;
    const baselineQueries = queryLoop(() => baselineOver);
    const baselineIngest = await ingestWindow(baselineSeconds);
    baselineOver = true;
    const without = summarize(
      [baselineIngest],
      baselineQueries.samples,
      await baselineQueries.done,
    );

    await drained();
    log(`lifecycle: purging ${formatCount(entries)} entries under the same load`);
    let purging = true;
    const purgeStarted = performance.now();
    const purge = purgeAgedEntries(db, org.id, {
      storedBefore: new Date(),
      batchSize: options.batchSize,
    }).finally(() => {
      purging = false;
    });
    const duringQueries = queryLoop(() => !purging);
    const windows: { latencies: number[]; errors: number }[] = [];
    while (purging) windows.push(await ingestWindow(5));
    const purged = await purge;
    const purgeSeconds = (performance.now() - purgeStarted) / 1000;
    const duringQueryErrors = await duringQueries.done;
    if (purged.entries !== entries) {
      throw new Error(`the purge removed ${purged.entries} entries, not ${entries}`);
    }
    const during = summarize(windows, duringQueries.samples, duringQueryErrors);
    log(
      `lifecycle: purged ${formatCount(entries)} in ${round(purgeSeconds)}s (${formatCount(entries / purgeSeconds)} rows/s)`,
    );

    const detachDropMs = await dropTimePartition(pool);
    const timePartition = { copySeconds: round(copySeconds), detachDropMs: round(detachDropMs, 1) };
    return {
      entries,
      batchSize: options.batchSize,
      eventsPerSecond: rate * batch,
      purgeSeconds: round(purgeSeconds),
      purgeRowsPerSecond: Math.round(entries / purgeSeconds),
      without,
      during,
      timePartition,
    };
  } finally {
    for (const cleanup of cleanups) await cleanup();
    for (const process of processes.reverse()) await process.stop();
    if (purgedOrg) await removeBenchOrg(db, purgedOrg.id, purgedOrg.partition);
    await db.close();
  }
}

/**
 * The organisation's rows copied into a range partition (by stored_at) of a table shaped as
 * audit_entries, with its (org_id, seq) and newest-first indexes, ready to be dropped.
 */
async function prepareTimePartition(pool: import("pg").Pool, orgId: string): Promise<number> {
  await pool.query("DROP TABLE IF EXISTS bench_lc_time");
  await pool.query(
    "CREATE TABLE bench_lc_time (LIKE audit_entries INCLUDING DEFAULTS) PARTITION BY RANGE (stored_at)",
  );
  await pool.query(
    `CREATE TABLE bench_lc_time_old PARTITION OF bench_lc_time
     FOR VALUES FROM (MINVALUE) TO ('2100-01-01')`,
  );
  await pool.query("CREATE UNIQUE INDEX ON bench_lc_time (org_id, seq, stored_at)");
  await pool.query("CREATE INDEX ON bench_lc_time (org_id, occurred_at DESC, id DESC)");
  const started = performance.now();
  await pool.query("INSERT INTO bench_lc_time SELECT * FROM audit_entries WHERE org_id = $1", [
    orgId,
  ]);
  return (performance.now() - started) / 1000;
}

/** Detaching and dropping that partition: what a time-partitioned purge would cost. */
async function dropTimePartition(pool: import("pg").Pool): Promise<number> {
  const started = performance.now();
  await pool.query("ALTER TABLE bench_lc_time DETACH PARTITION bench_lc_time_old");
  await pool.query("DROP TABLE bench_lc_time_old");
  const ms = performance.now() - started;
  await pool.query("DROP TABLE bench_lc_time");
  return ms;
}
