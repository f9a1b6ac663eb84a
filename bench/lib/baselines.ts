import { spawn } from "node:child_process";
import { once } from "node:events";
import { performance } from "node:perf_hooks";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  type AuditEntryRow,
  auditEntryCopyColumns,
  createDatabase,
  entryJsonSql,
  type FollowedWrite,
  insertAuditEntries,
  toCopyText,
  writeAuditEntries,
} from "@auditlog/db";
import { jobOptions } from "@auditlog/events/jobs";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { from as copyFrom, to as copyTo } from "pg-copy-streams";
import { cpuPerItem, isPostgresProcess, startGroupCpu } from "./cpu-accounting.ts";
import { entryRow, rowPool } from "./pool.ts";
import type { BenchSize } from "./sizes.ts";
import {
  benchDatabaseUrl,
  createOrgAvoiding,
  queueName,
  redisUrl,
  removeBenchOrg,
  repoRoot,
  runId,
} from "./stack.ts";
import { formatCount, log, rng, sleep } from "./util.ts";

export const copyTable = "bench_copy_entries";

/**
 * A regular (logged, like audit_entries) table with audit_entries' columns, defaults, checks,
 * hash partitioning and every one of its indexes, rebuilt from the catalog so it follows the
 * migrations. Since issue 14 that includes `seq` (NOT NULL, unique per organisation) and
 * `commit_salt` (16 random bytes drawn by its default): the baseline loads the rows as they are
 * stored, `seq` given in the COPY text as the worker gives it, so the ratio to it counts what the
 * product adds (API, queue, worker, the per-organisation counter) and not the cost of the row.
 * The append-only triggers are not copied (LIKE does not copy triggers), and they would not fire:
 * they guard UPDATE, DELETE and TRUNCATE, never an insert.
 */
async function createCopyTable(pool: pg.Pool): Promise<string[]> {
  await pool.query(`DROP TABLE IF EXISTS ${copyTable}`);
  await pool.query(
    `CREATE TABLE ${copyTable} (LIKE audit_entries INCLUDING DEFAULTS INCLUDING CONSTRAINTS)
     PARTITION BY HASH (org_id)`,
  );
  const { rows: parts } = await pool.query<{ bound: string }>(
    `SELECT pg_get_expr(c.relpartbound, c.oid) AS bound FROM pg_inherits i
       JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'audit_entries'::regclass`,
  );
  for (const [index, part] of parts.entries()) {
    await pool.query(
      `CREATE TABLE ${copyTable}_p${String(index).padStart(2, "0")} PARTITION OF ${copyTable} ${part.bound}`,
    );
  }
  const { rows: indexes } = await pool.query<{ indexname: string; indexdef: string }>(
    `SELECT indexname, indexdef FROM pg_indexes
      WHERE schemaname = 'public' AND tablename = 'audit_entries' ORDER BY indexname`,
  );
  for (const index of indexes) {
    const definition = index.indexdef
      .replace(/ ON (ONLY )?public\.audit_entries /, ` ON public.${copyTable} `)
      .replace(
        /INDEX (\S+) ON/,
        (_, name: string) => `INDEX ${name.replace("audit_entries", copyTable)} ON`,
      );
    await pool.query(definition);
  }
  return indexes.map((index) => index.indexname);
}

export interface CopyBaseline {
  rows: number;
  streams: number;
  seconds: number;
  rowsPerSecond: number;
  table: string;
  indexes: string[];
  /** Microseconds of CPU per row: PostgreSQL's processes, and this process sending the rows. */
  cpuPerRow: Record<string, number>;
}

/** Raw COPY (pg-copy-streams) of realistic stored rows, `streams` connections in parallel. */
export async function copyBaseline(size: BenchSize): Promise<CopyBaseline> {
  const pool = new pg.Pool({ connectionString: benchDatabaseUrl, max: size.copyStreams + 1 });
  try {
    const indexes = await createCopyTable(pool);
    const { templates, ips } = rowPool();
    log(`COPY baseline: preparing ${formatCount(size.copyRows)} rows`);
    const random = rng(7);
    const orgId = "org_bench_copy_baseline";
    const base = Date.now() - 86_400_000;
    const perStream = Math.ceil(size.copyRows / size.copyStreams);
    const streams: Buffer[][] = [];
    let n = 0;
    for (let s = 0; s < size.copyStreams; s++) {
      const chunks: Buffer[] = [];
      for (let start = 0; start < perStream && n < size.copyRows; start += 1000) {
        const rows: AuditEntryRow[] = [];
        const seqs: number[] = [];
        for (let i = start; i < Math.min(start + 1000, perStream) && n < size.copyRows; i++, n++) {
          const template = templates[Math.floor(random() * templates.length)];
          const ip = ips[Math.floor(random() * ips.length)];
          if (!template || !ip) throw new Error("empty pool");
          const id = `evt_${n.toString(16).padStart(24, "0")}`;
          rows.push(entryRow(orgId, id, new Date(base + n * 3), template, ip));
          seqs.push(n + 1);
        }
        // The worker's own COPY text, `seq` included, rendered before the clock starts.
        chunks.push(Buffer.from(toCopyText(rows, seqs)));
      }
      streams.push(chunks);
    }
    const clients = await Promise.all(streams.map(() => pool.connect()));
    log(`COPY baseline: loading into ${copyTable} over ${size.copyStreams} connections`);
    const cpu = startGroupCpu({ postgres: isPostgresProcess, load: [process.pid] });
    const cpuBefore = cpu.read();
    const started = performance.now();
    await Promise.all(
      streams.map((chunks, i) =>
        pipeline(
          Readable.from(chunks),
          (clients[i] as pg.PoolClient).query(
            copyFrom(`COPY ${copyTable} (${auditEntryCopyColumns.join(", ")}, seq) FROM STDIN`),
          ),
        ),
      ),
    );
    const seconds = (performance.now() - started) / 1000;
    const cpuPerRow = cpuPerItem(cpuBefore, cpu.read(), size.copyRows);
    cpu.stop();
    log(`COPY baseline: CPU µs per row: ${JSON.stringify(cpuPerRow)}`);
    for (const client of clients) client.release();
    const { rows } = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${copyTable}`);
    if (Number(rows[0]?.n) !== size.copyRows) throw new Error("COPY baseline lost rows");
    await pool.query(`DROP TABLE ${copyTable}`);
    return {
      rows: size.copyRows,
      streams: size.copyStreams,
      seconds,
      rowsPerSecond: size.copyRows / seconds,
      table: `${copyTable} (regular/logged, hash-partitioned like audit_entries)`,
      indexes,
      cpuPerRow,
    };
  } finally {
    await pool.end();
  }
}

export interface BullmqBaseline {
  jobs: number;
  concurrency: number;
  inFlight: number;
  seconds: number;
  jobsPerSecond: number;
}

/**
 * Raw BullMQ: add `jobs` empty jobs (with the API's job options, `inFlight` adds outstanding like
 * concurrent HTTP requests) while a separate process drains them with the worker's concurrency.
 */
export async function bullmqBaseline(
  size: BenchSize,
  concurrency: number,
): Promise<BullmqBaseline> {
  const name = queueName("bullmq-baseline");
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(name, { connection });
  const child = spawn(process.execPath, ["--import", "tsx", "bench/lib/bullmq-drain-worker.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      BENCH_QUEUE: name,
      BENCH_JOBS: String(size.bullmqJobs),
      BENCH_CONCURRENCY: String(concurrency),
      BENCH_REDIS_URL: redisUrl,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let output = "";
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  const exited = once(child, "exit");
  try {
    while ((await queue.getWorkersCount()) === 0) await sleep(100);
    const inFlight = 32;
    log(`BullMQ baseline: ${formatCount(size.bullmqJobs)} empty jobs, ${inFlight} adds in flight`);
    const startedAt = Date.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: inFlight }, async () => {
        while (next < size.bullmqJobs) {
          next++;
          // The ingest job's own options, so the baseline pays what ingestion pays.
          await queue.add("bench.empty", {}, jobOptions("ingest", "ingest.batch"));
        }
      }),
    );
    const timeout = setTimeout(() => child.kill("SIGKILL"), 300_000);
    await exited;
    clearTimeout(timeout);
    const { lastCompletedAt } = JSON.parse(output.trim()) as { lastCompletedAt: number };
    const seconds = (lastCompletedAt - startedAt) / 1000;
    return {
      jobs: size.bullmqJobs,
      concurrency,
      inFlight,
      seconds,
      jobsPerSecond: size.bullmqJobs / seconds,
    };
  } finally {
    if (child.exitCode === null) child.kill("SIGKILL");
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    connection.disconnect();
  }
}

export interface WriteBaseline {
  rows: number;
  batchSize: number;
  connections: number;
  seconds: number;
  rowsPerSecond: number;
}

/**
 * The worker's own write without the API, the queue or the worker process: prebuilt batches
 * through `writeAuditEntries` (COPY, what the worker sends) or `insertAuditEntries` (INSERT …
 * SELECT unnest … ON CONFLICT DO NOTHING, its fallback for a batch holding a stored entry), one
 * transaction each, on `connections` connections, into a scratch organisation with a partition
 * of its own (emptied afterwards). Shows how much of the gap to raw COPY is PostgreSQL's.
 */
export async function writeBaseline(
  rows: number,
  connections: number,
  avoidPartitions: Set<number>,
  batchSize: number,
  writer: "copy" | "insert",
): Promise<WriteBaseline> {
  const db = createDatabase({ url: benchDatabaseUrl, poolSize: connections + 1 });
  const slug = `bench-insert-${runId}`;
  const { org, partition } = await createOrgAvoiding(db, slug, avoidPartitions);
  try {
    const { templates, ips } = rowPool();
    const random = rng(11);
    const base = Date.now() - 3_600_000;
    const batches: AuditEntryRow[][] = [];
    for (let n = 0; n < rows; n += batchSize) {
      const batch: AuditEntryRow[] = [];
      for (let i = n; i < Math.min(rows, n + batchSize); i++) {
        const t = templates[Math.floor(random() * templates.length)];
        const ip = ips[Math.floor(random() * ips.length)];
        if (!t || !ip) throw new Error("empty pool");
        batch.push(
          entryRow(org.id, `evt_${i.toString(16).padStart(24, "0")}`, new Date(base + i), t, ip),
        );
      }
      batches.push(batch);
    }
    log(
      `${writer} baseline: ${formatCount(rows)} rows in ${batchSize}-row batches on ${connections} connections`,
    );
    let next = 0;
    const started = performance.now();
    if (writer === "copy") {
      // As the worker's batcher writes one organisation: the batches in pairs on the two
      // connections, the second following the first (it sends its rows while the first holds
      // the log counter; nothing may follow a follower).
      while (next < batches.length) {
        const pair = batches.slice(next, next + 2);
        next += pair.length;
        let firstStarted: (first: FollowedWrite) => void = () => {};
        const first = new Promise<FollowedWrite>((resolve) => {
          firstStarted = resolve;
        });
        await Promise.all(
          pair.map(async (batch, i) =>
            i === 0
              ? writeAuditEntries(db, batch, {
                  onCounters: ({ sizes, lock }) =>
                    firstStarted({ size: sizes.get(org.id) as number, lock }),
                })
              : writeAuditEntries(db, batch, { following: new Map([[org.id, await first]]) }),
          ),
        );
      }
    } else {
      await Promise.all(
        Array.from({ length: connections }, async () => {
          while (next < batches.length) {
            const batch = batches[next++] as AuditEntryRow[];
            await insertAuditEntries(db, batch);
          }
        }),
      );
    }
    const seconds = (performance.now() - started) / 1000;
    return { rows, batchSize, connections, seconds, rowsPerSecond: rows / seconds };
  } finally {
    await removeBenchOrg(db, org.id, partition);
    await db.close();
  }
}

export interface StoredTextCopyBaseline {
  rows: number;
  /** The stored lines' bytes (what the COPY sends). */
  bytes: number;
  seconds: number;
  rowsPerSecond: number;
  /** Microseconds of CPU per row: this database's PostgreSQL backends, and this process reading. */
  cpuPerRow: Record<string, number>;
}

export const storedTextTable = "bench_stored_entry_json";

/**
 * The physical limit of an export (issue 21 part 4): each entry's export line (the JSON export's
 * `{…,"lineDigest":"…"},`, rendered once before the clock starts) stored in a text column of an
 * unlogged table, then `COPY … TO STDOUT` of that column, in the exports' raw-lines mode, read by
 * this process into a sink that drops every byte. Only PostgreSQL copying bytes it holds and the
 * socket between: what an export would cost if nothing were rendered at export time.
 */
export async function storedTextCopyBaseline(orgId: string): Promise<StoredTextCopyBaseline> {
  const pool = new pg.Pool({ connectionString: benchDatabaseUrl, max: 1 });
  const databaseName = new URL(benchDatabaseUrl).pathname.slice(1);
  try {
    await pool.query(`DROP TABLE IF EXISTS ${storedTextTable}`);
    log("stored-text COPY baseline: rendering the export lines into a text column");
    await pool.query(
      `CREATE UNLOGGED TABLE ${storedTextTable} AS
         SELECT left(r.j, -1) || ',"lineDigest":"' || encode(sha256(convert_to(r.j, 'UTF8')), 'base64') || '"},' AS j
           FROM audit_entries, LATERAL (SELECT ${entryJsonSql} AS j) r
          WHERE org_id = $1
          ORDER BY occurred_at DESC, id DESC`,
      [orgId],
    );
    await pool.query(`VACUUM ANALYZE ${storedTextTable}`);
    const client = await pool.connect();
    let rows = 0;
    let bytes = 0;
    const sink = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        bytes += chunk.length;
        for (let at = chunk.indexOf(10); at !== -1; at = chunk.indexOf(10, at + 1)) rows++;
        callback();
      },
    });
    const cpu = startGroupCpu({
      postgres: (cmdline) => isPostgresProcess(cmdline) && cmdline.includes(` ${databaseName} `),
      reader: [process.pid],
    });
    const cpuBefore = cpu.read();
    const started = performance.now();
    try {
      await client.query("SET max_parallel_workers_per_gather = 0");
      await pipeline(
        client.query(
          copyTo(
            `COPY ${storedTextTable} (j) TO STDOUT (FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')`,
          ),
        ),
        sink,
      );
    } finally {
      client.release();
    }
    const seconds = (performance.now() - started) / 1000;
    const cpuPerRow = cpuPerItem(cpuBefore, cpu.read(), Math.max(1, rows));
    cpu.stop();
    await pool.query(`DROP TABLE ${storedTextTable}`);
    log(
      `stored-text COPY baseline: ${formatCount(rows)} lines, ${formatCount(bytes)} bytes in ${seconds.toFixed(2)} s (${formatCount(rows / seconds)}/s)`,
    );
    return { rows, bytes, seconds, rowsPerSecond: rows / seconds, cpuPerRow };
  } finally {
    await pool.end();
  }
}
