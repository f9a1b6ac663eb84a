/**
 * The benchmark suite, against the real stack of this machine (PostgreSQL and Redis on loopback,
 * the real API and worker processes). `pnpm bench --size quick|full`; see BENCHMARKS.md.
 *
 *   --size quick|full          quick: smoke run (< 3 min); full: the sizes the targets are set for
 *   --phases a,b               any of baselines, ingest, query, export, hub-export, log, lifecycle,
 *                              streams, query-load (default: all)
 *   --worker-concurrency N     WORKER_CONCURRENCY of the ingest and export workers (default: the product's)
 *   --lifecycle-events N       events/s ingested during the lifecycle phase (default: half of
 *                              the ingest phase's committed rate, else half of 15,100)
 *   --query-load-events N      events/s ingested during the query-load phase's second half
 *                              (default: as --lifecycle-events)
 *   --telemetry on|off         request logs (info) and /metrics in the API and workers (default on);
 *                              off measures what they cost
 *   --profile                  CPU-profile the API and the workers (node --cpu-prof) into
 *                              bench/results/profiles and print a summary of each
 *
 * Progress goes to stderr; stdout gets the result table. Results are written to
 * bench/results/<time>-<size>.json, and to latest-<size>.json when every phase ran; a full run also
 * refreshes the generated section of BENCHMARKS.md.
 */
import { existsSync, rmSync } from "node:fs";
import os from "node:os";
import { parseArgs } from "node:util";
import { migrateDatabase } from "@auditlog/db/migrate";
import { loadWorkerEnv } from "@auditlog/worker";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import {
  type BullmqBaseline,
  bullmqBaseline,
  type CopyBaseline,
  copyBaseline,
  type StoredTextCopyBaseline,
  storedTextCopyBaseline,
  type WriteBaseline,
  writeBaseline,
} from "./lib/baselines.ts";
import { cpuReferenceMs, startCpuAccounting } from "./lib/cpu-accounting.ts";
import { type ExportResult, runExports } from "./lib/export.ts";
import { type HubExportResult, runHubExport } from "./lib/hub-export.ts";
import { type IngestResult, runIngest } from "./lib/ingest.ts";
import { type LifecycleResult, runLifecycleBench } from "./lib/lifecycle.ts";
import {
  catchUpLogTrees,
  ensureLogDataset,
  type LogDataset,
  logOrgEntries,
  type ProofResult,
  runProofs,
} from "./lib/log.ts";
import { rowPool } from "./lib/pool.ts";
import { type QueryResult, runQueries } from "./lib/query.ts";
import { type QueryLoadResult, runQueryLoad } from "./lib/query-load.ts";
import {
  type Figure,
  formatValue,
  markdownTable,
  textTable,
  updateBenchmarksMd,
  writeResults,
} from "./lib/report.ts";
import { type Datasets, ensureDatasets, seededPartitions } from "./lib/seed.ts";
import { sizes } from "./lib/sizes.ts";
import {
  benchDatabaseUrl,
  cpuProfileArgs,
  cpuProfileDir,
  freePort,
  type ManagedProcess,
  redisUrl,
  setTelemetry,
  stackQueues,
  startApi,
} from "./lib/stack.ts";
import { closeHttpAgent, formatCount, log, round } from "./lib/util.ts";
import { benchVerify, type VerifyBenchResult } from "./lib/verify.ts";
import { summarizeProfile } from "./summarize-profile.ts";

const allPhases = [
  "baselines",
  "ingest",
  "query",
  "export",
  "hub-export",
  "log",
  "lifecycle",
  "streams",
  "query-load",
] as const;
type Phase = (typeof allPhases)[number];

const { values } = parseArgs({
  options: {
    size: { type: "string", default: "quick" },
    phases: { type: "string", default: allPhases.join(",") },
    "worker-concurrency": {
      type: "string",
      default: String(loadWorkerEnv({}).WORKER_CONCURRENCY),
    },
    profile: { type: "boolean", default: false },
    telemetry: { type: "string", default: "on" },
    "lifecycle-events": { type: "string" },
    "query-load-events": { type: "string" },
  },
});
const size = sizes[values.size as keyof typeof sizes];
if (!size) throw new Error(`--size must be quick or full, not ${values.size}`);
const phases = new Set(values.phases.split(",").map((p) => p.trim()) as Phase[]);
for (const phase of phases) {
  if (!allPhases.includes(phase)) throw new Error(`unknown phase ${phase}`);
}
const workerConcurrency = Number(values["worker-concurrency"]);
if (values.telemetry !== "on" && values.telemetry !== "off") {
  throw new Error(`--telemetry must be on or off, not ${values.telemetry}`);
}
setTelemetry(values.telemetry === "on");
if (!new URL(benchDatabaseUrl).pathname.includes("bench")) {
  throw new Error(
    "the bench database's name must contain 'bench': it creates and truncates tables",
  );
}

async function machine() {
  const pool = new pg.Pool({ connectionString: benchDatabaseUrl, max: 1 });
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 1 });
  try {
    const settings = await pool.query<{ name: string; setting: string; unit: string | null }>(
      `SELECT name, setting, unit FROM pg_settings WHERE name IN
        ('shared_buffers', 'work_mem', 'max_wal_size', 'synchronous_commit', 'wal_level', 'random_page_cost')`,
    );
    const info = await redis.info("server");
    return {
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model ?? "unknown",
      memoryGb: round(os.totalmem() / 2 ** 30),
      node: process.version,
      postgres:
        (await pool.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]
          ?.v ?? "",
      postgresSettings: Object.fromEntries(
        settings.rows.map((r) => [r.name, `${r.setting}${r.unit ? ` ${r.unit}` : ""}`]),
      ),
      redis: /redis_version:(\S+)/.exec(info)?.[1] ?? "",
    };
  } finally {
    await pool.end();
    redis.disconnect();
  }
}

const startedAt = new Date();
log(`size ${size.name}, phases ${[...phases].join(", ")}, database ${benchDatabaseUrl}`);
await migrateDatabase(benchDatabaseUrl);
const machineInfo = await machine();
// Every seeded log gets its tree before any load (see catchUpLogTrees).
const treesCaughtUp = await catchUpLogTrees();

const figures: Figure[] = [];
/** 1-minute load average at each phase boundary: other work on the machine skews every figure. */
/**
 * CPU used by other work on the machine during each phase (average cores): it skews every
 * figure, so it is reported with them.
 */
const load: {
  phase: string;
  seconds: number;
  benchCores: number;
  otherCores: number;
  ioStallPercent: number | null;
  /** `cpuReferenceMs` at the phase's start: lower is a faster machine. */
  cpuReferenceMs: number;
}[] = [];
let accounting:
  | { name: string; meter: ReturnType<typeof startCpuAccounting>; cpuReferenceMs: number }
  | undefined;
const markLoad = (phase: string) => {
  if (accounting) {
    load.push({
      phase: accounting.name,
      ...accounting.meter.read(),
      cpuReferenceMs: accounting.cpuReferenceMs,
    });
    accounting.meter.stop();
  }
  accounting =
    phase === "end"
      ? undefined
      : {
          name: phase,
          cpuReferenceMs: cpuReferenceMs(),
          meter: startCpuAccounting(new URL(benchDatabaseUrl).pathname.slice(1)),
        };
};
markLoad("setup");
const details: {
  copy?: CopyBaseline;
  bullmq?: BullmqBaseline;
  write?: WriteBaseline;
  insertGrouped?: WriteBaseline;
  ingest?: IngestResult;
  ingestSpread?: IngestResult;
  ingestWithStreams?: IngestResult;
  treesCaughtUp?: { leaves: number; seconds: number };
  logDataset?: LogDataset;
  proofs?: ProofResult;
  verify?: VerifyBenchResult;
  datasets?: Datasets;
  query?: QueryResult;
  export?: ExportResult;
  hubExport?: HubExportResult;
  storedTextCopy?: StoredTextCopyBaseline;
  textWord?: { word: string; shareOfPool: number };
  profiles?: Record<string, string>;
  lifecycle?: LifecycleResult;
  queryLoad?: QueryLoadResult;
} = { treesCaughtUp };

if (phases.has("baselines")) {
  log("phase: baselines");
  markLoad("baselines");
  details.copy = await copyBaseline(size);
  log(`COPY: ${formatCount(details.copy.rowsPerSecond)} rows/s`);
  // The worker's write alone: 1,000-row COPY batches on 2 connections, as group commit makes
  // them under load; and its fallback statement (INSERT … unnest … ON CONFLICT DO NOTHING).
  details.write = await writeBaseline(size.insertRows, 2, await seededPartitions(), 1000, "copy");
  log(`COPY ×1000: ${formatCount(details.write.rowsPerSecond)} rows/s`);
  details.insertGrouped = await writeBaseline(
    size.insertRows,
    4,
    await seededPartitions(),
    1000,
    "insert",
  );
  log(`INSERT ×1000: ${formatCount(details.insertGrouped.rowsPerSecond)} rows/s`);
  details.bullmq = await bullmqBaseline(size, workerConcurrency);
  log(`BullMQ: ${formatCount(details.bullmq.jobsPerSecond)} jobs/s`);
  figures.push(
    {
      section: "Baselines",
      figure: `Raw COPY, ${formatCount(size.copyRows)} rows over ${size.copyStreams} connections (same columns and indexes)`,
      value: details.copy.rowsPerSecond,
      unit: "rows/s",
      target: null,
      pass: null,
    },
    {
      section: "Baselines",
      figure: "  raw COPY: PostgreSQL's CPU per row",
      value: details.copy.cpuPerRow.postgres ?? Number.NaN,
      unit: "µs",
      target: null,
      pass: null,
    },
    {
      section: "Baselines",
      figure: `The worker's write alone: ${formatCount(size.insertRows)} rows, 1,000-row COPY batches on 2 connections`,
      value: details.write.rowsPerSecond,
      unit: "rows/s",
      target: null,
      pass: null,
    },
    {
      section: "Baselines",
      figure:
        "Its fallback, INSERT … ON CONFLICT DO NOTHING, 1,000-row statements on 4 connections",
      value: details.insertGrouped.rowsPerSecond,
      unit: "rows/s",
      target: null,
      pass: null,
    },
    {
      section: "Baselines",
      figure: `Raw BullMQ add + drain of ${formatCount(size.bullmqJobs)} empty jobs (concurrency ${workerConcurrency})`,
      value: details.bullmq.jobsPerSecond,
      unit: "jobs/s",
      target: null,
      pass: null,
    },
  );
}

if (phases.has("ingest")) {
  log("phase: ingest");
  markLoad("ingest");
  details.ingest = await runIngest(size, {
    workerConcurrency,
    profile: values.profile,
    avoidPartitions: await seededPartitions(),
    orgs: 1,
    lagSampleMs: 100,
  });
  const ingest = details.ingest;
  // The same load spread over many organisations (issue 14: the per-organisation counter
  // serialises one organisation's writes, so both shapes are measured in the same run).
  log(`phase: ingest spread over ${formatCount(size.spreadOrgs)} organisations`);
  details.ingestSpread = await runIngest(size, {
    workerConcurrency,
    profile: values.profile,
    avoidPartitions: await seededPartitions(),
    orgs: size.spreadOrgs,
    lagSampleMs: 250,
  });
  const spread = details.ingestSpread;
  if (values.profile) {
    details.profiles = {};
    for (const name of [
      "ingest-api",
      "ingest-worker",
      "ingest-spread-api",
      "ingest-spread-worker",
    ]) {
      const dir = cpuProfileDir(name);
      if (!existsSync(dir)) continue;
      details.profiles[name] = summarizeProfile(dir, 30);
      process.stderr.write(`\n${details.profiles[name]}\n\n`);
    }
  }
  figures.push(
    {
      section: "Ingest",
      figure: `Committed to PostgreSQL, ${ingest.windowSeconds} s window (100-event batches, ${ingest.connections} connections)`,
      value: ingest.committedPerSecond,
      unit: "events/s",
      target: "≥ 25,000",
      pass: ingest.committedPerSecond >= 25_000,
    },
    {
      section: "Ingest",
      figure: "Slowest 5 s of that window",
      value: ingest.committedMin5sPerSecond,
      unit: "events/s",
      target: null,
      pass: null,
    },
    {
      section: "Ingest",
      figure: "Accepted by the API (202) over the whole load",
      value: ingest.acceptedPerSecond,
      unit: "events/s",
      target: null,
      pass: null,
    },
  );
  figures.push({
    section: "Ingest",
    figure: `Committed, the same load spread over ${formatCount(spread.orgs)} organisations (one key each, in turn), ${spread.windowSeconds} s window`,
    value: spread.committedPerSecond,
    unit: "events/s",
    target: null,
    pass: null,
  });
  if (details.copy) {
    const copy = details.copy.rowsPerSecond;
    for (const [run, name] of [
      [ingest, "all on one organisation"],
      [spread, `spread over ${formatCount(spread.orgs)} organisations`],
    ] as const) {
      const share = (run.committedPerSecond / copy) * 100;
      figures.push({
        section: "Ingest",
        figure: `Committed ingest ÷ raw COPY (same run), ${name}`,
        value: share,
        unit: "%",
        target: "≥ 35%",
        pass: share >= 35,
      });
    }
  }
  // Checkpoint lag at full ingest, both load shapes (null: no checkpoint loop ran).
  for (const [run, name] of [
    [ingest, "one organisation"],
    [spread, `${formatCount(spread.orgs)} organisations`],
  ] as const) {
    const lag = run.checkpointLag;
    const section =
      "Checkpoint lag at full ingest (entry committed → first checkpoint covering it)";
    if (!lag) {
      figures.push({
        section,
        figure: `${name}: not measured (no checkpoint was signed during the load)`,
        value: Number.NaN,
        unit: "ms",
        target: "p99 ≤ 2,000 ms",
        pass: null,
      });
      continue;
    }
    const seen = `${formatCount(lag.entries)} entries, sizes polled every ${lag.sampleIntervalMs} ms`;
    figures.push(
      {
        section,
        figure: `${name}, from commit (${seen}): p50`,
        value: lag.fromCommit.p50,
        unit: "ms",
        target: null,
        pass: null,
      },
      {
        section,
        figure: `${name}, from commit: p99`,
        value: lag.fromCommit.p99,
        unit: "ms",
        target: "≤ 2,000 ms",
        pass: lag.fromCommit.p99 <= 2000,
      },
      {
        section,
        figure: `${name}, from commit: max${lag.uncovered ? ` (${formatCount(lag.uncovered)} never covered)` : ""}`,
        value: lag.fromCommit.max,
        unit: "ms",
        target: null,
        pass: null,
      },
      {
        section,
        figure: `  ${name}, from stored_at (the write's start, an upper bound): p99`,
        value: lag.fromStoredAt.p99,
        unit: "ms",
        target: null,
        pass: null,
      },
      {
        section,
        figure: `  ${name}, stored_at to the covering checkpoint's signed_at: p99`,
        value: lag.signed.p99,
        unit: "ms",
        target: null,
        pass: null,
      },
      {
        section,
        figure: `  ${name}: checkpoints signed during the ${run.windowSeconds} s window (one tree at a time)`,
        value: lag.signedInWindow,
        unit: "",
        target: null,
        pass: null,
      },
    );
  }
  if (details.write) {
    figures.push({
      section: "Ingest",
      figure: "Committed ingest ÷ the worker's write alone (same run)",
      value: (ingest.committedPerSecond / details.write.rowsPerSecond) * 100,
      unit: "%",
      target: null,
      pass: null,
    });
  }
  if (details.bullmq) {
    figures.push({
      section: "Ingest",
      figure: "Ingest jobs/s ÷ raw BullMQ jobs/s (same run)",
      value: (ingest.committedPerSecond / ingest.batchSize / details.bullmq.jobsPerSecond) * 100,
      unit: "%",
      target: null,
      pass: null,
    });
  }
  // Where the two cores went during the window (CPU time of each process ÷ events committed).
  const cpuNames: Record<string, string> = {
    postgres: "PostgreSQL (every server process)",
    worker: "the worker",
    api: "the API",
    redis: "Redis",
    load: "the load generator (autocannon, in the bench process)",
    total: "all of these",
  };
  for (const [key, name] of Object.entries(cpuNames)) {
    const value = ingest.cpuPerEvent[key];
    if (value === undefined) continue;
    figures.push({
      section: "Ingest",
      figure: `  CPU per committed event: ${name}`,
      value,
      unit: "µs",
      target: null,
      pass: null,
    });
  }
  const latency = ingest.latency;
  if (latency) {
    const at = `at ${latency.targetRequestsPerSecond} req/s (half load), evenly paced`;
    figures.push(
      {
        section: "Ingest",
        figure: `API latency p50, 100-event batch ${at}`,
        value: latency.paced.p50,
        unit: "ms",
        target: null,
        pass: null,
      },
      {
        section: "Ingest",
        figure: `API latency p99, 100-event batch ${at}`,
        value: latency.paced.p99,
        unit: "ms",
        target: "≤ 25 ms",
        pass: latency.paced.p99 <= 25,
      },
      {
        section: "Ingest",
        figure: "  the same with autocannon overallRate (per-second bursts): p99",
        value: latency.autocannon.p99,
        unit: "ms",
        target: null,
        pass: null,
      },
      {
        section: "Ingest",
        figure: "  the same paced rate with the worker stopped (the API alone): p99",
        value: latency.apiAlone.p99,
        unit: "ms",
        target: null,
        pass: null,
      },
    );
  }
}

if (phases.has("streams")) {
  // Issue 17: the ingest load again, one organisation, with 10 streams delivering every entry
  // from a worker of their own; then one stream backfills the whole log alone.
  const streamCount = 10;
  log(`phase: streams (${streamCount} streams during the full-rate ingest)`);
  markLoad("streams");
  details.ingestWithStreams = await runIngest(size, {
    workerConcurrency,
    profile: values.profile,
    avoidPartitions: await seededPartitions(),
    orgs: 1,
    lagSampleMs: 250,
    streams: streamCount,
    profileStreams: values.profile,
  });
  const run = details.ingestWithStreams;
  if (values.profile) {
    details.profiles ??= {};
    for (const name of ["ingest-streams-api", "ingest-streams-worker", "streams-worker"]) {
      const dir = cpuProfileDir(name);
      if (!existsSync(dir)) continue;
      details.profiles[name] = summarizeProfile(dir, 30);
      process.stderr.write(`\n${details.profiles[name]}\n\n`);
    }
  }
  const streams = run.streams;
  if (!streams) throw new Error("the streams run measured no stream");
  figures.push(
    {
      section: "Streams",
      figure: `Committed ingest with ${streamCount} streams delivering (one organisation, ${run.windowSeconds} s window)`,
      value: run.committedPerSecond,
      unit: "events/s",
      target: null,
      pass: null,
    },
    {
      section: "Streams",
      figure: `Stream lag (stored_at → batch received), ${streamCount} streams, ${formatCount(streams.lag.deliveries)} deliveries: p50`,
      value: streams.lag.p50,
      unit: "s",
      target: null,
      pass: null,
    },
    {
      section: "Streams",
      figure: "Stream lag: p99",
      value: streams.lag.p99,
      unit: "s",
      target: null,
      pass: null,
    },
    {
      section: "Streams",
      figure: "Stream lag: max",
      value: streams.lag.max,
      unit: "s",
      target: null,
      pass: null,
    },
    {
      section: "Streams",
      figure: `One stream's backfill of ${formatCount(streams.backfill.entries)} entries to a local https sink`,
      value: streams.backfill.entriesPerSecond,
      unit: "entries/s",
      target: "≥ 20,000",
      pass: streams.backfill.entriesPerSecond >= 20_000,
    },
    {
      section: "Streams",
      figure: "  its CPU µs per entry: the streams worker",
      value: streams.backfill.cpuMicrosPerEntry.streamsWorker ?? Number.NaN,
      unit: "µs",
      target: null,
      pass: null,
    },
    {
      section: "Streams",
      figure: "  its CPU µs per entry: PostgreSQL (this database's backends)",
      value: streams.backfill.cpuMicrosPerEntry.postgres ?? Number.NaN,
      unit: "µs",
      target: null,
      pass: null,
    },
    {
      section: "Streams",
      figure: `Ten streams backfilling ${formatCount(streams.backfill10.entries)} entries together, each`,
      value: streams.backfill10.entriesPerSecond,
      unit: "entries/s",
      target: null,
      pass: null,
    },
    {
      section: "Streams",
      figure: "  their CPU µs per delivery (entry × stream): the streams worker",
      value: streams.backfill10.cpuMicrosPerDelivery.streamsWorker ?? Number.NaN,
      unit: "µs",
      target: null,
      pass: null,
    },
    {
      section: "Streams",
      figure: "  their CPU µs per delivery (entry × stream): PostgreSQL",
      value: streams.backfill10.cpuMicrosPerDelivery.postgres ?? Number.NaN,
      unit: "µs",
      target: null,
      pass: null,
    },
    {
      section: "Streams",
      figure: `Alert notification (stored_at → org webhook received), \`${streams.alerts.query}\`, grouping window 0 s, ${formatCount(streams.alerts.messages)} first-match messages: p50`,
      value: streams.alerts.p50,
      unit: "s",
      target: null,
      pass: null,
    },
    {
      section: "Streams",
      figure: "Alert notification: p99",
      value: streams.alerts.p99,
      unit: "s",
      target: "≤ 5 s",
      pass: streams.alerts.p99 <= 5,
    },
    {
      section: "Streams",
      figure: "Alert notification: max",
      value: streams.alerts.max,
      unit: "s",
      target: null,
      pass: null,
    },
  );
  if (details.copy) {
    // Issue 17's target: committed ingest with the streams, as a share of raw COPY (percent).
    const targetShare = 35;
    const share = (run.committedPerSecond / details.copy.rowsPerSecond) * 100;
    figures.push({
      section: "Streams",
      figure: `Committed ingest with ${streamCount} streams ÷ raw COPY (same run)`,
      value: share,
      unit: "%",
      target: `≥ ${targetShare}%`,
      pass: share >= targetShare,
    });
    // The gap in CPU terms: what every committed event cost in the window, against what the
    // machine's cores allow per event at 35% of raw COPY, so a run shows how far off it is.
    const spent = run.cpuPerEvent.total;
    if (spent !== undefined) {
      figures.push({
        section: "Streams",
        figure: `  CPU per committed event with ${streamCount} streams, every process (the streams worker ${run.cpuPerEvent.streamsWorker ?? "?"} µs of it)`,
        value: spent,
        unit: "µs",
        target: null,
        pass: null,
      });
    }
    figures.push({
      section: "Streams",
      figure: `  CPU per event that ${os.cpus().length} cores allow at ${targetShare}% of raw COPY`,
      value: (os.cpus().length * 1_000_000) / ((targetShare / 100) * details.copy.rowsPerSecond),
      unit: "µs",
      target: null,
      pass: null,
    });
  }
}

let api: ManagedProcess | undefined;
const queues = stackQueues("api");
let apiPort = 0;
try {
  const hub = phases.has("hub-export");
  if (phases.has("query") || phases.has("export") || hub || phases.has("log")) {
    log("phase: datasets");
    markLoad("datasets");
    if (phases.has("query") || phases.has("export") || hub) {
      details.datasets = await ensureDatasets(size);
      const pool = rowPool();
      details.textWord = { word: pool.textWord, shareOfPool: round(pool.textWordShare, 4) };
    }
    if (phases.has("log")) details.logDataset = await ensureLogDataset();
    // Trees of what was just seeded, so no checkpoint loop builds them while a phase measures.
    await catchUpLogTrees();
    apiPort = await freePort();
    api = await startApi(apiPort, queues, values.profile ? cpuProfileArgs("query-api") : []);
  }

  if (phases.has("query") && details.datasets) {
    log("phase: query");
    markLoad("query");
    details.query = await runQueries(size, apiPort, details.datasets.big);
    const cases = details.query.cases;
    const first = cases[0];
    const entries = formatCount(details.query.orgEntries);
    for (const c of cases) {
      const isText = c.name.startsWith("free text");
      const isDeep = c.name.startsWith("page at depth");
      const limit = isText ? 100 : isDeep ? 2 * (first?.p95 ?? 0) : 25;
      const share = c.share === null ? "" : `, ${round(c.share * 100, 2)}% of entries`;
      figures.push(
        {
          section: `Query (org with ${entries} of ${formatCount(size.bigOrgEntries + size.otherEntries)} entries, limit 50, ${c.calls} calls)`,
          figure: `${c.name}${share}: p50`,
          value: c.p50,
          unit: "ms",
          target: null,
          pass: null,
        },
        {
          section: `Query (org with ${entries} of ${formatCount(size.bigOrgEntries + size.otherEntries)} entries, limit 50, ${c.calls} calls)`,
          figure: `${c.name}: p95`,
          value: c.p95,
          unit: "ms",
          target: isDeep ? `≤ 2 × first page (${round(limit, 1)} ms)` : `≤ ${limit} ms`,
          pass: c.p95 <= limit,
        },
        {
          section: `Query (org with ${entries} of ${formatCount(size.bigOrgEntries + size.otherEntries)} entries, limit 50, ${c.calls} calls)`,
          figure: `${c.name}: its SQL alone, p95 (no HTTP, no auth)`,
          value: c.sqlP95,
          unit: "ms",
          target: null,
          pass: null,
        },
      );
    }
  }

  if (phases.has("export") && details.datasets) {
    log("phase: export");
    markLoad("export");
    const { big, huge } = details.datasets;
    // The same run's physical limit of an export (issue 21 part 4): the huge organisation's
    // export lines, already rendered and stored, copied out to a null sink.
    details.storedTextCopy = await storedTextCopyBaseline(huge.id);
    details.export = await runExports(
      apiPort,
      queues,
      [
        { org: big, formats: ["ndjson", "json"] },
        { org: huge, formats: ["ndjson", "json"] },
      ],
      workerConcurrency,
      values.profile,
    );
    const exp = details.export;
    if (values.profile) {
      details.profiles ??= {};
      for (const c of exp.cases) {
        const name = `export-worker-${c.format}-${c.entries}`;
        if (!existsSync(cpuProfileDir(name))) continue;
        details.profiles[name] = summarizeProfile(cpuProfileDir(name), 30);
        process.stderr.write(`\n${details.profiles[name]}\n\n`);
      }
    }
    const section = "Export (gzip, background job, dedicated export-only worker process)";
    figures.push(
      {
        section,
        figure: "Worker idle RSS after start, every role (loads the geolocation databases)",
        value: exp.idleRssWithGeoMb,
        unit: "MB",
        target: null,
        pass: null,
      },
      {
        section,
        figure: "Worker idle RSS after start, every role, geolocation off",
        value: exp.idleRssWithoutGeoMb,
        unit: "MB",
        target: null,
        pass: null,
      },
      {
        section,
        figure:
          "Worker idle RSS after start, export-only (WORKER_ROLES=exports, builds the exports)",
        value: exp.cases[0]?.idleRssMb ?? Number.NaN,
        unit: "MB",
        target: null,
        pass: null,
      },
      {
        section,
        figure:
          "  its peak before any export (VmHWM at the request: start-up, tsx compiling modules)",
        value: Math.max(...exp.cases.map((c) => c.startupHwmMb ?? Number.NaN)),
        unit: "MB",
        target: null,
        pass: null,
      },
    );
    if (!exp.ran) {
      log(`export: not run: ${exp.reason}`);
    }
    const stored = details.storedTextCopy;
    figures.push(
      {
        section,
        figure: `Baseline: COPY of ${formatCount(stored.rows)} stored export lines (a text column, ${formatCount(stored.bytes)} bytes) to a null sink`,
        value: Math.round(stored.rowsPerSecond),
        unit: "entries/s",
        target: null,
        pass: null,
      },
      {
        section,
        figure: "  its CPU per entry, PostgreSQL (the bench database's backends)",
        value: stored.cpuPerRow.postgres ?? Number.NaN,
        unit: "µs",
        target: null,
        pass: null,
      },
    );
    for (const c of exp.cases) {
      const label = `${c.format === "json" ? "JSON array" : "NDJSON"}, ${formatCount(c.entries)} entries`;
      figures.push(
        {
          section,
          figure: `${label}: throughput${c.status === "ready" ? "" : ` (${c.status})`}`,
          value: c.status === "ready" ? c.entriesPerSecond : Number.NaN,
          unit: "entries/s",
          target: "≥ 100,000",
          pass: c.status === "ready" && c.entriesPerSecond >= 100_000,
        },
        {
          section,
          figure: `  ${label}: share of the stored-text COPY baseline`,
          value:
            c.status === "ready"
              ? round((100 * c.entriesPerSecond) / stored.rowsPerSecond, 1)
              : Number.NaN,
          unit: "%",
          target: "≥ 70%",
          pass: c.status === "ready" && c.entriesPerSecond >= 0.7 * stored.rowsPerSecond,
        },
      );
      for (const [key, name] of [
        ["postgres", "PostgreSQL (the bench database's backends: sends each entry's columns)"],
        ["worker", "the export worker (renders the lines, gzip, file)"],
      ] as const) {
        figures.push({
          section,
          figure: `  ${label}: CPU per entry, ${name}`,
          value: c.cpuPerEntry?.[key] ?? Number.NaN,
          unit: "µs",
          target: null,
          pass: null,
        });
      }
      const small = exp.cases.find((o) => o.format === c.format && o.entries < c.entries);
      // The CPU profiler keeps its samples in the worker's memory, more the longer it runs, so a
      // profiled run's memory is shown but not judged.
      const judged = small && !c.profiled && !small.profiled;
      figures.push({
        section,
        figure: `${label}: worker peak RSS during the export (VmHWM${c.hwmResetBeforeExport ? " reset at the request" : ", whole process"})${c.profiled ? ", CPU profiler on" : ""}`,
        value: c.hwmMb,
        unit: "MB",
        target: small
          ? `≤ 200 MB and ≤ 110% of ${formatCount(small.entries)} (${round(small.hwmMb * 1.1)} MB)${judged ? "" : " (not judged while profiling)"}`
          : null,
        pass: judged ? c.hwmMb <= 200 && c.hwmMb <= small.hwmMb * 1.1 : null,
      });
    }
  }

  if (hub && details.datasets && api) {
    log("phase: hub-export");
    markLoad("hub-export");
    details.hubExport = await runHubExport(apiPort, api.pid, details.datasets.huge);
    const section = `Hub-compatible export (GET /api/organizations/:org/audit-log/export, its cap of 100,000 entries, of an organisation of ${formatCount(details.hubExport.orgEntries)})`;
    for (const c of details.hubExport.cases) {
      const label = `Accept-Encoding ${c.acceptEncoding} (sent ${c.contentEncoding})`;
      figures.push(
        {
          section,
          figure: `${label}: throughput, request to last byte (1-min load average ${c.loadAverage1m})`,
          value: c.entriesPerSecond,
          unit: "entries/s",
          target: "≥ 50,000",
          pass: c.entries === 100_000 && c.entriesPerSecond >= 50_000,
        },
        {
          section,
          figure: `  ${label}: bytes on the wire (JSON ${formatCount(c.jsonBytes)} bytes)`,
          value: c.wireBytes,
          unit: "bytes",
          target: null,
          pass: null,
        },
      );
      for (const [key, name] of [
        ["api", "the API process"],
        ["postgres", "PostgreSQL (the bench database's backends)"],
      ] as const) {
        figures.push({
          section,
          figure: `  ${label}: CPU per entry, ${name}`,
          value: c.cpuPerEntry[key] ?? Number.NaN,
          unit: "µs",
          target: null,
          pass: null,
        });
      }
    }
  }

  if (phases.has("log") && details.logDataset) {
    log("phase: log (proofs, verify)");
    markLoad("log");
    const dataset = details.logDataset;
    const section = `Verifiable log (organisation of ${formatCount(dataset.treeSize)} entries, tree built)`;
    if (dataset.treeBuildLeavesPerSecond !== null) {
      figures.push({
        section,
        figure: `Its tree built in this run with advanceLogTree, 100,000 leaves a step`,
        value: dataset.treeBuildLeavesPerSecond,
        unit: "leaves/s",
        target: null,
        pass: null,
      });
    }
    details.proofs = await runProofs(apiPort, dataset, size.proofWarmupCalls, size.proofCalls);
    const proofs = details.proofs;
    const at = `GET …/:id/proof?treeSize=${formatCount(proofs.treeSize)}, random entries, ${proofs.calls} calls`;
    figures.push(
      { section, figure: `${at}: p50`, value: proofs.p50, unit: "ms", target: null, pass: null },
      {
        section,
        figure: `${at}: p95`,
        value: proofs.p95,
        unit: "ms",
        target: "≤ 20 ms",
        pass: proofs.p95 <= 20,
      },
      { section, figure: `${at}: p99`, value: proofs.p99, unit: "ms", target: null, pass: null },
      {
        section,
        figure: "  the same proofs computed in-process (seq lookup + tiles, no HTTP or auth): p95",
        value: proofs.inProcess.p95,
        unit: "ms",
        target: null,
        pass: null,
      },
    );
    // `verify` of the same organisation: every leaf recomputed from the stored entries, the tree
    // rebuilt, every stored checkpoint checked against the bench's key (bench/lib/verify.ts).
    log(`verify: ${formatCount(dataset.treeSize)} entries of ${dataset.org.slug}`);
    details.verify = await benchVerify({ entries: dataset.treeSize, orgId: dataset.org.id });
    const verified = details.verify;
    log(
      `verify: ${verified.ok ? "ok" : "NOT OK"}, ${formatCount(verified.entries)} entries in ${verified.seconds} s`,
    );
    figures.push({
      section,
      figure: `verify (the CLI's verifyOrganisationLog): ${formatCount(dataset.treeSize)} entries recomputed, tree rebuilt, every checkpoint checked${verified.ok ? "" : " — DID NOT VERIFY"}`,
      value: verified.ok ? verified.entriesPerSecond : Number.NaN,
      unit: "entries/s",
      target: "≥ 200,000",
      pass: verified.ok && verified.entriesPerSecond >= 200_000,
    });
    if (dataset.treeSize !== logOrgEntries) throw new Error("the log dataset's tree is short");
  }
} finally {
  await api?.stop();
  if (values.profile && existsSync(cpuProfileDir("query-api"))) {
    details.profiles ??= {};
    details.profiles["query-api"] = summarizeProfile(cpuProfileDir("query-api"), 30);
    process.stderr.write(`\n${details.profiles["query-api"]}\n\n`);
  }
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  for (const name of [queues.ingest, queues.export, queues.notify]) {
    const queue = new Queue(name, { connection });
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
  }
  connection.disconnect();
  rmSync(queues.exportDir, { recursive: true, force: true });
  closeHttpAgent();
}

if (phases.has("lifecycle")) {
  log("phase: lifecycle (a retention purge under half load)");
  markLoad("lifecycle");
  // Half of what this run's ingest committed; without an ingest phase, half of the 15,100 events/s
  // of the latest full run (BENCHMARKS.md).
  const eventsPerSecond = values["lifecycle-events"]
    ? Number(values["lifecycle-events"])
    : Math.round((details.ingest?.committedPerSecond ?? 15_100) / 2);
  details.lifecycle = await runLifecycleBench(size, {
    eventsPerSecond,
    workerConcurrency,
    batchSize: loadWorkerEnv({}).PURGE_BATCH_SIZE,
  });
  const lc = details.lifecycle;
  const section = `Lifecycle (issue 16): purge of ${formatCount(lc.entries)} entries of one organisation, ${formatCount(lc.eventsPerSecond)} events/s ingested into it meanwhile`;
  const row = (figure: string, value: number, unit: string) =>
    figures.push({ section, figure, value, unit, target: null, pass: null });
  row(
    `Purge rate (${formatCount(lc.batchSize)} entries a transaction)`,
    lc.purgeRowsPerSecond,
    "rows/s",
  );
  row("Ingest p99 (POST of 100 events), without a purge", lc.without.ingestP99Ms, "ms");
  row("Ingest p99, during the purge", lc.during.ingestP99Ms, "ms");
  row(
    "Query p99 (the purged organisation's newest 50), without a purge",
    lc.without.queryP99Ms,
    "ms",
  );
  row("Query p99, during the purge", lc.during.queryP99Ms, "ms");
  row(
    "Time partitioning instead: detach + drop a partition of the same rows",
    lc.timePartition.detachDropMs,
    "ms",
  );
  closeHttpAgent();
}

if (phases.has("query-load")) {
  log(
    "phase: query-load (single-filter queries of 1,000,000 entries, then under half-load ingest)",
  );
  markLoad("query-load");
  // Half of what this run's ingest committed; without an ingest phase, half of the 15,100 events/s
  // of the latest full run (BENCHMARKS.md), as the lifecycle phase.
  const eventsPerSecond = values["query-load-events"]
    ? Number(values["query-load-events"])
    : Math.round((details.ingest?.committedPerSecond ?? 15_100) / 2);
  details.queryLoad = await runQueryLoad(size, {
    eventsPerSecond,
    workerConcurrency,
    logDataset: details.logDataset,
  });
  const ql = details.queryLoad;
  const section = `Query under ingest (issue 21): organisation of ${formatCount(ql.orgEntries)} entries, limit 50, ${size.queryCalls} calls each, with no other load, then while ${formatCount(ql.eventsPerSecond)} events/s are ingested into it`;
  for (const c of ql.cases) {
    const target = `≤ ${c.targetMs} ms`;
    for (const [condition, timing] of [
      ["no other load", c.quiet],
      ["during ingest", c.loaded],
    ] as const) {
      figures.push(
        {
          section,
          figure: `${c.name}, ${condition}: p50`,
          value: timing.p50,
          unit: "ms",
          target: null,
          pass: null,
        },
        {
          section,
          figure: `${c.name}, ${condition}: p95`,
          value: timing.p95,
          unit: "ms",
          target,
          pass: timing.p95 <= c.targetMs,
        },
      );
    }
    figures.push({
      section,
      figure: `  ${c.name}: its SQL alone during ingest, p95 (no HTTP, no auth)`,
      value: c.loaded.sqlP95,
      unit: "ms",
      target: null,
      pass: null,
    });
  }
  const ingest = ql.ingest;
  figures.push(
    {
      section,
      figure: `Committed into the organisation while the loaded queries ran (${ingest.seconds} s; ${formatCount(ql.eventsPerSecond)} events/s sent, evenly paced)`,
      value: ingest.committedPerSecond,
      unit: "events/s",
      target: null,
      pass: null,
    },
    {
      section,
      figure: `  ingest p99 (POST of ${ql.batchSize} events, ${formatCount(ingest.requests)} requests, ${ingest.errors} failed; ${formatCount(ingest.backlogAtEnd)} jobs queued at the end)`,
      value: ingest.p99Ms,
      unit: "ms",
      target: null,
      pass: null,
    },
    {
      section,
      figure: `  1-minute load average as the loaded queries started (${ql.loadAverage.quiet} before the unloaded ones)`,
      value: ql.loadAverage.loaded,
      unit: "",
      target: null,
      pass: null,
    },
  );
  closeHttpAgent();
}

markLoad("end");
const finishedAt = new Date();
// Seeding and setup are not measured: only the measuring phases count.
const busiestOther = Math.max(
  0,
  ...load.filter((l) => !["setup", "datasets"].includes(l.phase)).map((l) => l.otherCores),
);
const minutes = round((finishedAt.getTime() - startedAt.getTime()) / 60_000, 1);
const result = {
  size: size.name,
  phases: [...phases],
  startedAt: startedAt.toISOString(),
  finishedAt: finishedAt.toISOString(),
  minutes,
  machine: machineInfo,
  load,
  settings: { ...size, workerConcurrency },
  figures: figures.map((f) => ({ ...f, display: formatValue(f) })),
  details,
};
const everyPhase = allPhases.every((p) => phases.has(p));
const file = writeResults(size.name, result, everyPhase);
const table = textTable(figures);
const loadNote = `Other work on the machine (CPU not used by the bench's processes or its PostgreSQL backends), in average cores of ${machineInfo.cpus}: ${load
  .filter((l) => l.phase !== "setup")
  .map((l) => `${l.phase} ${l.otherCores}`)
  .join(
    ", ",
  )}${busiestOther >= 0.3 ? ". Other work was competing for the CPUs: absolute figures are pessimistic, ratios to the same run's baselines less so" : ""}. A fixed CPU workload (\`cpuReferenceMs\`, lower is faster) took ${load
  .filter((l) => l.phase !== "setup")
  .map((l) => `${l.cpuReferenceMs} ms at the start of ${l.phase}`)
  .join(", ")}. Some task waited on the disk (Linux PSI) ${load
  .filter((l) => l.phase !== "setup" && l.ioStallPercent !== null)
  .map((l) => `${l.ioStallPercent}% of ${l.phase}`)
  .join(", ")}.`;
process.stdout.write(`\n${table}\n\n${loadNote}\n\n`);
log(`results: ${file} (${minutes} min)`);

if (size.name === "full" && everyPhase) {
  updateBenchmarksMd(
    [
      `Latest full run: ${startedAt.toISOString()} (${minutes} min) on ${machineInfo.cpus} × ${machineInfo.cpuModel}, ${machineInfo.memoryGb} GiB, Node ${machineInfo.node}, PostgreSQL ${machineInfo.postgres}, Redis ${machineInfo.redis}; worker concurrency ${workerConcurrency}. Raw figures: \`bench/results/latest-full.json\`.`,
      "",
      loadNote,
      "",
      markdownTable(figures),
    ].join("\n"),
  );
  log("BENCHMARKS.md updated");
}
const short = figures.filter((f) => f.pass === false).length;
log(short === 0 ? "every target met" : `${short} figure(s) short of target`);
process.exit(0);
