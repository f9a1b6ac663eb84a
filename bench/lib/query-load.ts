import { readFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { createDatabase, type Database, decodeCursor, withLogTransaction } from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { emptyQuery, type ParsedQuery } from "@auditlog/events";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { prepareBodies } from "./ingest.ts";
import { ensureLogDataset, type LogDataset, logOrgEntries, logOrgSlug } from "./log.ts";
import {
  capturedSql,
  explainAll,
  followCursor,
  singleFilters,
  timeCalls,
  timeSql,
} from "./query.ts";
import type { BenchSize } from "./sizes.ts";
import {
  benchDatabaseUrl,
  createAdminToken,
  createIngestKey,
  findOrg,
  freePort,
  type ManagedProcess,
  partitionTable,
  redisUrl,
  stackQueues,
  startApi,
  startWorker,
} from "./stack.ts";
import { formatCount, log, pacedLoad, percentile, round, sleep } from "./util.ts";

/*
 * Issue 21 part 5: query p95 with any single filter at 1,000,000 entries per organisation, first
 * with no other load, then while the real API and worker ingest into that same organisation at
 * half the committed rate. The same organisation rather than another: its indexes are the ones
 * being written, its newest pages the ones changing under the queries, and its log counter the
 * one each write takes. It is the log phase's 1,000,000-entry organisation (both sizes share
 * it); the entries ingested here are removed afterwards, so it holds exactly its seeded
 * 1,000,000 again for the log phase's proofs and `verify`.
 */

/** The targets: ≤ 25 ms with any single filter, free text ≤ 100 ms (as the query phase). */
export const queryLoadTargetMs = 25;
export const queryLoadTextTargetMs = 100;

export interface Timing {
  p50: number;
  p95: number;
  max: number;
  /** The same statements sent straight to PostgreSQL (no HTTP, no auth), as many times. */
  sqlP50: number;
  sqlP95: number;
}

export interface QueryLoadCase {
  name: string;
  path: string;
  targetMs: number;
  calls: number;
  quiet: Timing;
  loaded: Timing;
  /** EXPLAIN (ANALYZE, BUFFERS) of its statements, taken while the ingest load ran. */
  loadedExplain: string;
}

export interface QueryLoadResult {
  org: string;
  /** Entries of the organisation when the queries started (its seeded 1,000,000). */
  orgEntries: number;
  /** Entries when the loaded measurement ended (the seeded ones and those ingested). */
  orgEntriesAtEnd: number;
  batchSize: number;
  /** Events/s asked for (requests/s × batch), evenly paced. */
  eventsPerSecond: number;
  cases: QueryLoadCase[];
  /** 1-minute load average as each condition started (the machine is shared). */
  loadAverage: { quiet: number; loaded: number };
  ingest: {
    /** From the first loaded query to the last (explains and SQL timings included). */
    seconds: number;
    /** Entries committed to the organisation over those seconds (its log counter's growth). */
    committedPerSecond: number;
    /** POSTs accepted (202) over the whole load, their latency and failures. */
    requests: number;
    errors: number;
    p50Ms: number;
    p99Ms: number;
    /** Ingest jobs waiting or active as the measurement ended: the worker keeping up or not. */
    backlogAtEnd: number;
  };
  /** The ingested entries removed afterwards (and the partition vacuumed). */
  removed: { entries: number; seconds: number };
}

function loadAverage1m(): number {
  return Number(readFileSync("/proc/loadavg", "utf8").split(" ")[0]);
}

async function headSize(db: Database, orgId: string): Promise<number> {
  const { rows } = await driversOf(db).pool.query<{ size: number }>(
    "SELECT size::float8 AS size FROM audit_log_heads WHERE org_id = $1",
    [orgId],
  );
  return rows[0]?.size ?? 0;
}

/**
 * Removes what was ingested into the log organisation after its seeded entries (seq above
 * 1,000,000), through the purge's own switch, and sets its counter back, so every run (and the
 * log phase, which proves and verifies exactly 1,000,000 entries) finds it as seeded. A tree
 * already built past them (by a run that died before this, then a checkpoint pass) is removed
 * whole; `ensureLogDataset` builds it again. Bench data only. Answers the entries removed.
 */
export async function trimLogOrg(db: Database, orgId: string): Promise<number> {
  return withLogTransaction(db, async (client) => {
    await client.query("SET LOCAL auditlog.maintenance = 'purge'");
    const head = await client.query<{ size: number }>(
      "SELECT size::float8 AS size FROM audit_log_heads WHERE org_id = $1 FOR UPDATE",
      [orgId],
    );
    if ((head.rows[0]?.size ?? 0) <= logOrgEntries) return 0;
    const tree = await client.query<{ size: number }>(
      "SELECT size::float8 AS size FROM audit_log_trees WHERE org_id = $1",
      [orgId],
    );
    if ((tree.rows[0]?.size ?? 0) > logOrgEntries) {
      log(`query-load: the tree of ${logOrgSlug} covers ingested entries; removing it`);
      for (const table of ["audit_log_checkpoints", "audit_log_tiles", "audit_log_trees"]) {
        await client.query(`DELETE FROM ${table} WHERE org_id = $1`, [orgId]);
      }
    }
    const removed = await client.query("DELETE FROM audit_entries WHERE org_id = $1 AND seq > $2", [
      orgId,
      logOrgEntries,
    ]);
    await client.query("UPDATE audit_log_heads SET size = $2 WHERE org_id = $1", [
      orgId,
      logOrgEntries,
    ]);
    return removed.rowCount ?? 0;
  });
}

/** Trims the organisation back to its seeded entries and vacuums its partition if anything went. */
async function restore(db: Database, orgId: string, partition: number): Promise<number> {
  const removed = await trimLogOrg(db, orgId);
  if (removed > 0) {
    const { pool } = driversOf(db);
    const table = await partitionTable(pool, partition);
    log(`query-load: removed ${formatCount(removed)} ingested entries; VACUUM (ANALYZE) ${table}`);
    // The deleted rows sit at the head of its newest-first indexes: the next run's first pages
    // would step over them.
    await pool.query(`VACUUM (ANALYZE) ${table}`);
  }
  return removed;
}

interface Case {
  name: string;
  path: string;
  url: string;
  targetMs: number;
  query: ParsedQuery;
  cursor: string | null;
}

export async function runQueryLoad(
  size: BenchSize,
  options: { eventsPerSecond: number; workerConcurrency: number; logDataset?: LogDataset },
): Promise<QueryLoadResult> {
  const db = createDatabase({ url: benchDatabaseUrl, poolSize: 4 });
  const { pool } = driversOf(db);
  const processes: ManagedProcess[] = [];
  let closeQueue = async () => {};
  let org: LogDataset["org"] | undefined;
  let measured: Omit<QueryLoadResult, "removed"> | undefined;
  const removed = { entries: 0, seconds: 0 };
  try {
    // Left over by a run that died during its load: removed before the tree is looked at.
    const leftover = await findOrg(db, logOrgSlug);
    if (leftover) {
      const entries = await trimLogOrg(db, leftover.id);
      if (entries > 0)
        log(`query-load: removed ${formatCount(entries)} entries an earlier run left`);
    }
    org = (options.logDataset ?? (await ensureLogDataset())).org;
    const entriesAtStart = await headSize(db, org.id);
    if (entriesAtStart !== logOrgEntries) {
      throw new Error(`${org.slug} holds ${entriesAtStart} entries, not ${logOrgEntries}`);
    }

    const token = await createAdminToken(db, org.slug);
    const key = await createIngestKey(db, org.slug);
    const queues = stackQueues("query-load");
    const port = await freePort();
    processes.push(await startApi(port, queues));
    // Ingest only, as in the lifecycle phase: no checkpoint signer extends this organisation's
    // tree over entries that are removed afterwards.
    processes.push(
      await startWorker("query-load-worker", queues, {
        concurrency: options.workerConcurrency,
        roles: ["ingest"],
      }),
    );
    const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
    const ingestQueue = new Queue(queues.ingest, { connection });
    closeQueue = async () => {
      await ingestQueue.obliterate({ force: true }).catch(() => {});
      await ingestQueue.close();
      connection.disconnect();
    };
    const backlog = async () => {
      const counts = await ingestQueue.getJobCounts("wait", "active", "delayed", "prioritized");
      return Object.values(counts).reduce((a, b) => a + b, 0);
    };

    const base = `http://127.0.0.1:${port}/v1/orgs/${org.slug}/audit-logs`;
    const cases: Case[] = singleFilters().map((filter) => {
      const url = `${base}?${new URLSearchParams({ limit: "50", ...filter.params })}`;
      return {
        name: filter.name,
        path: url.slice(url.indexOf("/v1/")),
        url,
        targetMs: filter.name.startsWith("free text") ? queryLoadTextTargetMs : queryLoadTargetMs,
        query: filter.query,
        cursor: null,
      };
    });
    // The deep page is found once, with no load: keyset pagination keeps it the same page while
    // newer entries arrive above it.
    const cursor = await followCursor(base, token, size.deepCursorDepth);
    cases.push({
      name: `page at depth ${size.deepCursorDepth.toLocaleString("en-US")} (cursor)`,
      path: `/v1/orgs/${org.slug}/audit-logs?limit=50&cursor=…`,
      url: `${base}?${new URLSearchParams({ limit: "50", cursor })}`,
      targetMs: queryLoadTargetMs,
      query: emptyQuery(),
      cursor,
    });

    const orgId = org.id;
    const measure = async (c: Case, condition: string) => {
      log(
        `query-load: ${c.name}, ${condition}: ${size.queryWarmupCalls} warm-up + ${size.queryCalls} calls`,
      );
      const samples = await timeCalls(c.url, token, size.queryWarmupCalls, size.queryCalls);
      const statements = await capturedSql(
        orgId,
        c.query,
        50,
        c.cursor ? decodeCursor(c.cursor) : null,
      );
      const sql = await timeSql(pool, statements, size.queryCalls);
      const timing: Timing = {
        p50: round(percentile(samples, 50), 2),
        p95: round(percentile(samples, 95), 2),
        max: round(Math.max(...samples), 2),
        sqlP50: sql.p50,
        sqlP95: sql.p95,
      };
      return { timing, statements };
    };

    const quietLoad = loadAverage1m();
    const quiet: Timing[] = [];
    for (const c of cases) quiet.push((await measure(c, "no other load")).timing);

    // The load: 100-event batches evenly paced (open loop, latency counted from each request's
    // due time), in 2 s windows back to back until the queries are done.
    const batch = 100;
    // Drawn from the seeded entries' population (the pool's seed), so each filter keeps
    // matching its usual share of what arrives: the ingest phase's own seed has other actors,
    // and the actor filter then measured an actor absent from every new entry (see
    // BENCHMARKS.md, issue 21 part 5).
    const bodies = prepareBodies(400, batch, 42);
    const rate = Math.max(1, Math.round(options.eventsPerSecond / batch));
    const windows: { latencies: number[]; errors: number }[] = [];
    let loading = true;
    const load = (async () => {
      while (loading) {
        windows.push(
          await pacedLoad(
            `http://127.0.0.1:${port}/v1/events`,
            {
              method: "POST",
              headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
              bodies,
            },
            rate,
            2,
          ),
        );
      }
    })();
    const loaded: Timing[] = [];
    const explains: string[] = [];
    let loadedLoad = 0;
    let fromSize = 0;
    let toSize = 0;
    let seconds = 0;
    let backlogAtEnd = 0;
    try {
      log(`query-load: ingesting ${formatCount(rate * batch)} events/s into ${org.slug}`);
      // Past the first seconds (the worker's connections, group commit filling): steady state.
      await sleep(3000);
      fromSize = await headSize(db, orgId);
      const from = performance.now();
      loadedLoad = loadAverage1m();
      for (const c of cases) {
        const { timing, statements } = await measure(c, "during ingest");
        loaded.push(timing);
        explains.push(await explainAll(pool, statements));
      }
      toSize = await headSize(db, orgId);
      seconds = (performance.now() - from) / 1000;
      backlogAtEnd = await backlog();
    } finally {
      loading = false;
      await load;
    }
    const committedPerSecond = (toSize - fromSize) / seconds;
    log(
      `query-load: ${formatCount(committedPerSecond)} events/s committed over ${round(seconds)} s (load average ${loadedLoad})`,
    );
    // The worker catches up before it stops, so nothing is written after the trim.
    const deadline = Date.now() + 120_000;
    while ((await backlog()) > 0 && Date.now() < deadline) await sleep(250);

    const latencies = windows.flatMap((w) => w.latencies);
    measured = {
      org: org.slug,
      orgEntries: entriesAtStart,
      orgEntriesAtEnd: toSize,
      batchSize: batch,
      eventsPerSecond: rate * batch,
      cases: cases.map((c, i) => ({
        name: c.name,
        path: c.path,
        targetMs: c.targetMs,
        calls: size.queryCalls,
        quiet: quiet[i] as Timing,
        loaded: loaded[i] as Timing,
        loadedExplain: explains[i] as string,
      })),
      loadAverage: { quiet: quietLoad, loaded: loadedLoad },
      ingest: {
        seconds: round(seconds),
        committedPerSecond: Math.round(committedPerSecond),
        requests: latencies.length,
        errors: windows.reduce((sum, w) => sum + w.errors, 0),
        p50Ms: round(percentile(latencies, 50), 1),
        p99Ms: round(percentile(latencies, 99), 1),
        backlogAtEnd,
      },
    };
  } finally {
    for (const process of processes.reverse()) await process.stop();
    await closeQueue();
    if (org) {
      const started = performance.now();
      removed.entries = await restore(db, org.id, org.partition);
      removed.seconds = round((performance.now() - started) / 1000);
    }
    await db.close();
  }
  return { ...measured, removed };
}
