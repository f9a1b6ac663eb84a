/**
 * CPU per stream delivery (entry × stream) of the streams worker and of PostgreSQL, on the bench
 * database, without the rest of the bench (issue 17): a streams worker of its own, a local https
 * sink, and two loads one after the other:
 * - `backfill`: 10 unfiltered https streams (the bench's) catching up on the last 30,000 entries
 *   of `bench-quick-huge` (as the bench's "ten streams backfilling" figure);
 * - `tail`: 10 streams following `bench-quick-other-1` while this process appends entries to it
 *   at ~500/s in commits of 100 and rings the doorbell like the worker does (as during the
 *   bench's full-rate ingest: small commits, streams caught up, polling). The writer's own
 *   PostgreSQL backend is not counted.
 * `cd bench && BENCH_DATABASE_URL=… npx tsx streams-cpu.ts [backfill|tail|both] [--profile]`
 * (the appended entries stay in the bench database's log of bench-quick-other-1).
 */
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import {
  type AuditEntryRow,
  createDatabase,
  readLogSize,
  readLogSizes,
  writeAuditEntries,
} from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { newId, realtimeChannels } from "@auditlog/events";
import { loadWorkerEnv } from "@auditlog/worker";
import { Redis } from "ioredis";
import { startGroupCpu } from "./lib/cpu-accounting.ts";
import { eventFactory, toTemplate } from "./lib/data.ts";
import {
  benchDatabaseUrl,
  cpuProfileArgs,
  cpuProfileDir,
  findOrg,
  redisUrl,
  stackQueues,
  startWorker,
} from "./lib/stack.ts";
import { insertBenchStreams, startStreamSink, waitForStreams } from "./lib/streams.ts";
import { summarizeProfile } from "./summarize-profile.ts";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    profile: { type: "boolean", default: false },
    // The tail's write rate and commit size: the bench's full-rate ingest commits ~10,000
    // entries/s in commits of a few hundred (many small batches, streams caught up at once).
    rate: { type: "string", default: "500" },
    commit: { type: "string", default: "100" },
    entries: { type: "string", default: "15000" },
  },
});
const mode = positionals[0] ?? "both";
const STREAMS = 10;
const BACKFILL_ENTRIES = 30_000;
const TAIL_ENTRIES = Number(values.entries);
const TAIL_COMMIT = Number(values.commit);
const TAIL_RATE = Number(values.rate);

const db = createDatabase({ url: benchDatabaseUrl });
const pool = driversOf(db).pool;
// This process's own statements (the catch-up polls) are not the streams': counted to be left out.
let ownQueries = 0;
const query = pool.query.bind(pool);
pool.query = ((...args: Parameters<typeof query>) => {
  ownQueries++;
  return query(...args);
}) as typeof pool.query;
const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
const dbName = new URL(benchDatabaseUrl).pathname.slice(1);
const secretsKeyFile = loadWorkerEnv({}).SECRETS_KEY_FILE;
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");

await pool.query("DELETE FROM log_streams WHERE created_by = 'bench'");
const sink = await startStreamSink();
const worker = await startWorker("streams-worker", stackQueues("streams-cpu"), {
  concurrency: 4,
  roles: ["streams"],
  env: { WEBHOOK_ALLOW_LOCAL_URLS: "true" },
  nodeArgs: values.profile ? cpuProfileArgs("streams-worker") : [],
});

/** Transactions of the database and rows updated in log_streams, as PostgreSQL counted them. */
const statements = async () => {
  // Backends report their counts within a second of going idle.
  await new Promise((resolve) => setTimeout(resolve, 1500));
  await pool.query("SELECT pg_stat_clear_snapshot()");
  const { rows } = await pool.query<{ xacts: string; updates: string }>(
    `SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database
             WHERE datname = current_database())::text AS xacts,
            (SELECT n_tup_upd FROM pg_stat_user_tables WHERE relname = 'log_streams')::text AS updates`,
  );
  return { xacts: Number(rows[0]?.xacts) - ownQueries, updates: Number(rows[0]?.updates) };
};
let counted = { xacts: 0, updates: 0 };
const countFrom = async () => {
  counted = await statements();
};
const countTo = async (label: string, batches: number, writerXacts = 0) => {
  const now = await statements();
  console.log(
    `${label}: per batch: ${((now.xacts - counted.xacts - writerXacts) / batches).toFixed(2)} transactions of other backends than the writer, ${((now.updates - counted.updates) / batches).toFixed(2)} log_streams rows updated`,
  );
};

/** utime + stime of a process, in seconds. */
const cpuSecondsOf = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) / 100;
};
// Loading the worker's modules costs seconds of CPU: measured from once it has settled.
for (let settled = 0, last = cpuSecondsOf(worker.pid), waited = 0; settled < 2 && waited < 120; ) {
  await new Promise((resolve) => setTimeout(resolve, 500));
  waited += 0.5;
  const now = cpuSecondsOf(worker.pid);
  settled = now - last <= 0.02 ? settled + 1 : 0;
  last = now;
}

/** Batches the sink has received since the run began: counted from `since`. */
const batchesSince = async (since: number) => (await sink.collect()).deliveries.length - since;
let batchesBefore = 0;

const report = (
  label: string,
  deliveries: number,
  batches: number,
  cpu: Record<string, number>,
) => {
  const per = (seconds: number) => ((seconds / deliveries) * 1e6).toFixed(2);
  console.log(
    `${label}: ${deliveries} deliveries in ${batches} batches; CPU µs per delivery: streams worker ${per(cpu.worker ?? 0)}, PostgreSQL ${per(cpu.postgres ?? 0)} (load ${load()})`,
  );
};

try {
  if (mode === "backfill" || mode === "both") {
    const org = await findOrg(db, "bench-quick-huge");
    if (!org) throw new Error("bench-quick-huge not seeded");
    const size = await readLogSize(db, org.id);
    batchesBefore = await batchesSince(0);
    await countFrom();
    const cpu = startGroupCpu({
      worker: [worker.pid],
      postgres: (cmdline) => cmdline.startsWith("postgres:") && cmdline.includes(` ${dbName} `),
    });
    const before = cpu.read();
    const ids = await insertBenchStreams(pool, {
      orgId: org.id,
      count: STREAMS,
      afterSeq: size - BACKFILL_ENTRIES,
      url: sink.url,
      secretsKeyFile,
    });
    await waitForStreams(pool, ids, size, 600_000);
    const after = cpu.read();
    cpu.stop();
    const backfillBatches = await batchesSince(batchesBefore);
    report("backfill", BACKFILL_ENTRIES * STREAMS, backfillBatches, {
      worker: (after.worker ?? 0) - (before.worker ?? 0),
      postgres: (after.postgres ?? 0) - (before.postgres ?? 0),
    });
    await countTo("backfill", backfillBatches);
    await pool.query("DELETE FROM log_streams WHERE id = ANY($1::text[])", [ids]);
  }

  if (mode === "tail" || mode === "both") {
    const org = await findOrg(db, "bench-quick-other-1");
    if (!org) throw new Error("bench-quick-other-1 not seeded");
    const fromSeq = await readLogSize(db, org.id);
    const ids = await insertBenchStreams(pool, {
      orgId: org.id,
      count: STREAMS,
      afterSeq: fromSeq,
      url: sink.url,
      secretsKeyFile,
    });
    batchesBefore = await batchesSince(0);
    const factory = eventFactory(17);
    const rowsOf = (count: number): AuditEntryRow[] => {
      const receivedAt = new Date();
      return Array.from({ length: count }, (_, i) => ({
        ...toTemplate(factory.event() as Record<string, unknown>),
        orgId: org.id,
        id: newId("evt", receivedAt),
        occurredAt: receivedAt,
        receivedAt,
        ip: i % 4 === 0 ? null : `203.0.${i % 200}.0`,
        countryCode: i % 4 === 0 ? null : "FR",
        region: i % 4 === 0 ? null : "Île-de-France",
        city: i % 4 === 0 ? null : "Paris",
        oauthClientId: null,
        oauthName: null,
      }));
    };
    // The writer's backend is the only one of this process while the load runs.
    const writer = createDatabase({ url: benchDatabaseUrl, poolSize: 1 });
    const { rows } = await driversOf(writer).pool.query<{ pid: number }>(
      "SELECT pg_backend_pid() AS pid",
    );
    const writerPid = rows[0]?.pid as number;
    await countFrom();
    const cpu = startGroupCpu({
      worker: [worker.pid],
      writer: [writerPid],
      postgres: (cmdline) => cmdline.startsWith("postgres:") && cmdline.includes(` ${dbName} `),
    });
    const before = cpu.read();
    const started = Date.now();
    for (let written = 0; written < TAIL_ENTRIES; written += TAIL_COMMIT) {
      const rowsNow = rowsOf(TAIL_COMMIT);
      await writeAuditEntries(writer, rowsNow);
      const sizes = await readLogSizes(writer, [org.id]);
      await redis.publish(
        realtimeChannels.entriesStored,
        JSON.stringify({ orgId: org.id, count: TAIL_COMMIT, highestSeq: sizes.get(org.id) }),
      );
      const due = started + ((written + TAIL_COMMIT) / TAIL_RATE) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    }
    const seconds = (Date.now() - started) / 1000;
    const toSeq = await readLogSize(db, org.id);
    await waitForStreams(pool, ids, toSeq, 600_000);
    const after = cpu.read();
    cpu.stop();
    await writer.close();
    const pgAll = (after.postgres ?? 0) - (before.postgres ?? 0);
    const pgWriter = (after.writer ?? 0) - (before.writer ?? 0);
    console.log(
      `tail: ${TAIL_ENTRIES} entries written at ${Math.round(TAIL_ENTRIES / seconds)}/s in commits of ${TAIL_COMMIT}`,
    );
    const tailBatches = await batchesSince(batchesBefore);
    report("tail", (toSeq - fromSeq) * STREAMS, tailBatches, {
      worker: (after.worker ?? 0) - (before.worker ?? 0),
      postgres: pgAll - pgWriter,
    });
    // The writer: a transaction for each write and one for the log's size after it.
    await countTo("tail", tailBatches, (TAIL_ENTRIES / TAIL_COMMIT) * 2);
    await pool.query("DELETE FROM log_streams WHERE id = ANY($1::text[])", [ids]);
  }
} finally {
  await worker.stop();
  await sink.close();
  redis.disconnect();
  await db.close();
}
if (values.profile) console.log(summarizeProfile(cpuProfileDir("streams-worker"), 30));
