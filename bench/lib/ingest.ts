import { createDatabase, createOrganization, readLogSize } from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { isReservedForApi } from "@auditlog/events";
import { loadWorkerEnv, workerRoles } from "@auditlog/worker";
import autocannon from "autocannon";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type pg from "pg";
import {
  type CheckpointLag,
  type CoverageSampler,
  checkpointLag,
  startCoverageSampler,
} from "./checkpoint-lag.ts";
import {
  cpuPerItem,
  isPostgresProcess,
  isRedisProcess,
  startGroupCpu,
  withoutSampling,
} from "./cpu-accounting.ts";
import { eventFactory } from "./data.ts";
import type { BenchSize } from "./sizes.ts";
import {
  benchDatabaseUrl,
  benchMetricsToken,
  cpuProfileArgs,
  createIngestKey,
  createOrgAvoiding,
  freePort,
  type ManagedProcess,
  redisUrl,
  removeBenchOrg,
  runId,
  stackQueues,
  startApi,
  startWorker,
  telemetryOn,
} from "./stack.ts";
import {
  type AlertLatency,
  alertLatency,
  insertBenchAlert,
  insertBenchStreams,
  type StreamLag,
  startStreamSink,
  streamLag,
  waitForStreams,
} from "./streams.ts";
import {
  formatCount,
  httpRequest,
  log,
  pacedLoad,
  percentile,
  readProcessMemory,
  round,
  sleep,
} from "./util.ts";

/** The ingest phase's counters as scraped from /metrics, next to the bench's own counts. */
export interface MetricsCheck {
  /** Events in the requests the bench saw answered 2xx (smoke and warm-up included). */
  sentAccepted: number;
  /** Rows of the phase's organisations in PostgreSQL after the drain. */
  stored: number;
  apiAccepted: number;
  workerCommitted: number;
  /** POST /v1/events answers counted by the API's request metrics. */
  apiRequests: number;
  /**
   * Ingest requests the API refused (any reason). A 503 after the enqueue's deadline may still
   * have queued its job (README, Ingestion API): stored can then exceed accepted.
   */
  apiRefused: number;
}

/** Reads the two counters (and the request count) from the API's and the worker's /metrics. */
async function scrapeCounters(apiUrl: string, workerUrl: string) {
  const headers = { authorization: `Bearer ${benchMetricsToken}` };
  const [api, worker] = await Promise.all(
    [apiUrl, workerUrl].map(async (base) => {
      const answer = await httpRequest(`${base}/metrics`, { headers });
      if (answer.status !== 200) throw new Error(`${base}/metrics answered ${answer.status}`);
      return answer.body;
    }),
  );
  // Summed over every series of the family (the counters have no labels, the requests several).
  const sum = (text: string, name: string, filter = "") =>
    text
      .split("\n")
      .filter((line) => line.startsWith(`${name}{`) && line.includes(filter))
      .reduce((total, line) => total + Number(line.slice(line.lastIndexOf(" ") + 1)), 0);
  return {
    apiAccepted: sum(api as string, "auditlog_ingest_events_accepted_total"),
    workerCommitted: sum(worker as string, "auditlog_events_committed_total"),
    apiRequests: sum(api as string, "auditlog_http_requests_total", 'route="/v1/events"'),
    apiRefused: sum(api as string, "auditlog_ingest_requests_refused_total"),
  };
}

export interface IngestResult {
  /** Organisations the load is spread over (one ingestion key each, requests in turn). */
  orgs: number;
  workerConcurrency: number;
  connections: number;
  batchSize: number;
  warmupSeconds: number;
  windowSeconds: number;
  /** Rows committed to PostgreSQL inside the window (by stored_at), per second. */
  committedPerSecond: number;
  /** The slowest 5-second stretch of the window, per second: what "sustained" means here. */
  committedMin5sPerSecond: number;
  perSecond: number[];
  acceptedPerSecond: number;
  non2xx: number;
  errors: number;
  backlogEventsAtEnd: number;
  drainSeconds: number;
  /** Only for the run with one organisation (the spread run measures throughput and lag). */
  latency?: {
    targetRequestsPerSecond: number;
    seconds: number;
    /** Evenly paced open-loop requests (what the target is judged on). */
    paced: { p50: number; p90: number; p99: number; max: number; errors: number };
    /**
     * autocannon `overallRate`: each connection spends its per-second quota at the start of
     * every second, so this measures bursts of a whole second's requests at once.
     */
    autocannon: {
      achievedRequestsPerSecond: number;
      p50: number;
      p90: number;
      p99: number;
      max: number;
      non2xx: number;
    };
    committedPerSecond: number;
    /** The same paced rate with the worker stopped. */
    apiAlone: { p50: number; p99: number; seconds: number };
  };
  workerRss: { idleMb: number; peakMb: number };
  /** With `streams`: the streams' lag during the load, and one stream's backfill throughput. */
  streams?: {
    lag: StreamLag;
    catchUpSeconds: number;
    backfill: {
      entries: number;
      seconds: number;
      entriesPerSecond: number;
      batches: number;
      /** CPU µs per entry of the streams worker and of this database's PostgreSQL backends. */
      cpuMicrosPerEntry: Record<string, number>;
    };
    /**
     * Ten streams of the organisation backfilling the same log together from seq 1 (the shared
     * read): entries/s per stream, and CPU µs per delivery (an entry to one stream) by process.
     */
    backfill10: {
      entries: number;
      seconds: number;
      entriesPerSecond: number;
      cpuMicrosPerDelivery: Record<string, number>;
    };
    /** Issue 17's "notifies within 5 s": an alert rule evaluated during the same load. */
    alerts: AlertLatency;
  };
  /** Null when no checkpoint was seen during the load (no checkpoint loop in the worker). */
  checkpointLag: CheckpointLag | null;
  /**
   * Microseconds of CPU per committed event over the window, by process: where the two cores
   * went. `load` is the bench process, which runs autocannon.
   */
  cpuPerEvent: Record<string, number>;
  /** Request logs and metrics on in the processes (`--telemetry`). */
  telemetry: boolean;
  metricsCheck?: MetricsCheck;
  /** PostgreSQL's own counters over the full-speed load (WAL volume, checkpoints, commits). */
  postgres: Record<string, number>;
}

/** Cumulative server counters; the difference over a window shows what PostgreSQL did. */
async function postgresCounters(pool: pg.Pool): Promise<Record<string, number>> {
  const { rows } = await pool.query<Record<string, string>>(
    `SELECT w.wal_records, w.wal_fpi, w.wal_bytes, w.wal_buffers_full, w.wal_write, w.wal_sync,
            b.checkpoints_timed, b.checkpoints_req, b.buffers_checkpoint, b.buffers_backend,
            d.xact_commit, d.blks_read, d.blks_hit, d.tup_inserted
       FROM pg_stat_wal w, pg_stat_bgwriter b, pg_stat_database d
      WHERE d.datname = current_database()`,
  );
  return Object.fromEntries(Object.entries(rows[0] ?? {}).map(([k, v]) => [k, Number(v)]));
}

/**
 * Bodies of 100 realistic events each, prepared up front so the client spends no time on them.
 * `seed` 42 draws from the seeded datasets' population (bench/lib/pool.ts): the same actors.
 */
export function prepareBodies(count: number, batchSize: number, seed = 4242): string[] {
  const factory = eventFactory(seed);
  // The audit log's own types are the API's to record: an ingestion key posting one gets 403.
  const postable = () => {
    for (;;) {
      const event = factory.event();
      if (!isReservedForApi(event.type as string)) return event;
    }
  };
  return Array.from({ length: count }, () =>
    JSON.stringify({ events: Array.from({ length: batchSize }, postable) }),
  );
}

function runAutocannon(options: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    const instance = autocannon(options, (error, result) =>
      error ? reject(error) : resolve(result),
    );
    // Without a progress bar autocannon prints nothing; keep stderr informative on long runs.
    let seconds = 0;
    (instance as unknown as NodeJS.EventEmitter).on("tick", (tick: { counter: number }) => {
      seconds++;
      if (seconds % 5 === 0)
        log(`  … ${seconds}s, ${formatCount(tick.counter)} requests in the last second`);
    });
  });
}

async function queueBacklog(queue: Queue): Promise<number> {
  const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized", "paused");
  return Object.values(counts).reduce((a, b) => a + b, 0);
}

async function waitForDrain(queue: Queue, timeoutMs: number): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if ((await queueBacklog(queue)) === 0) return (Date.now() - started) / 1000;
    await sleep(250);
  }
  throw new Error(`ingest queue not drained after ${timeoutMs / 1000}s`);
}

/** Committed rows per whole second (by stored_at, the inserting transaction's start). */
async function committedTimeline(
  pool: pg.Pool,
  orgIds: readonly string[],
  fromMs: number,
  seconds: number,
): Promise<number[]> {
  const { rows } = await pool.query<{ s: string; n: string }>(
    `SELECT floor((extract(epoch FROM stored_at) * 1000 - $2) / 1000)::int AS s, count(*) AS n
       FROM audit_entries WHERE org_id = ANY($1::text[]) AND stored_at >= to_timestamp($2 / 1000.0)
        AND stored_at < to_timestamp(($2 + $3 * 1000) / 1000.0)
      GROUP BY 1 ORDER BY 1`,
    [orgIds, fromMs, seconds],
  );
  const perSecond = new Array<number>(seconds).fill(0);
  for (const row of rows) perSecond[Number(row.s)] = Number(row.n);
  return perSecond;
}

export async function runIngest(
  size: BenchSize,
  options: {
    workerConcurrency: number;
    profile: boolean;
    avoidPartitions: Set<number>;
    /**
     * 1: every event to one organisation, which has a partition of its own (outside
     * `avoidPartitions`), and the latency runs follow. More: the load spread over that many new
     * organisations, wherever they land, one ingestion key each, requests taking them in turn;
     * throughput and checkpoint lag only.
     */
    orgs: number;
    /** The checkpoint lag sampler's polling interval. */
    lagSampleMs: number;
    /**
     * Issue 17: this many https streams of the (single) organisation run during the load, in a
     * worker process of their own (role `streams`) to a local sink; their delivery lag is
     * measured, then one more stream backfills the whole log alone (its throughput). The
     * latency runs are skipped.
     */
    streams?: number;
    /** CPU-profile the streams worker (`--profile`), into `streams-worker`'s profile directory. */
    profileStreams?: boolean;
  },
): Promise<IngestResult> {
  const db = createDatabase({ url: benchDatabaseUrl, poolSize: 3 });
  const { pool } = driversOf(db);
  const queues = stackQueues(options.orgs === 1 ? "ingest" : "ingest-spread");
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queues.ingest, { connection });
  const processes: ManagedProcess[] = [];
  const label = options.orgs === 1 ? "ingest" : `ingest over ${formatCount(options.orgs)} orgs`;
  // Each organisation with its key; a partition of its own only for the single organisation.
  const orgs: { id: string; key: string }[] = [];
  let partition: number | undefined;
  let sampler: CoverageSampler | undefined;
  try {
    if (options.orgs === 1) {
      const slug = `bench-ingest-${runId}`;
      const created = await createOrgAvoiding(db, slug, options.avoidPartitions);
      partition = created.partition;
      orgs.push({ id: created.org.id, key: "" });
      (orgs[0] as { key: string }).key = await createIngestKey(db, slug);
    } else {
      log(`${label}: creating ${formatCount(options.orgs)} organisations and keys`);
      let next = 0;
      await Promise.all(
        Array.from({ length: 3 }, async () => {
          while (next < options.orgs) {
            const slug = `bench-spread-${runId}-${next++}`;
            const org = await createOrganization(db, { slug, name: slug, plan: "enterprise" });
            orgs.push({ id: org.id, key: "" });
            (orgs[orgs.length - 1] as { key: string }).key = await createIngestKey(db, slug);
          }
        }),
      );
    }
    const orgIds = orgs.map((o) => o.id);
    const port = await freePort();
    log(
      `ingest: starting API on 127.0.0.1:${port} and a worker (concurrency ${options.workerConcurrency})`,
    );
    // The spread and streams runs' profiles are kept apart from the one-organisation run's, to
    // compare them.
    const profileName = options.streams
      ? "ingest-streams"
      : options.orgs === 1
        ? "ingest"
        : "ingest-spread";
    const api = await startApi(
      port,
      queues,
      options.profile ? cpuProfileArgs(`${profileName}-api`) : [],
    );
    processes.push(api);
    const workerMetricsPort = await freePort();
    const worker = await startWorker("ingest-worker", queues, {
      concurrency: options.workerConcurrency,
      nodeArgs: options.profile ? cpuProfileArgs(`${profileName}-worker`) : [],
      metricsPort: workerMetricsPort,
      // Every role but streams: the streams run delivers from a worker of its own.
      roles: workerRoles.filter((role) => role !== "streams"),
      // The streams run's alert rule notifies the organisation's webhook: the sink on 127.0.0.1.
      ...(options.streams ? { env: { WEBHOOK_ALLOW_LOCAL_URLS: "true" } } : {}),
    });
    processes.push(worker);
    const idleMb = readProcessMemory(worker.pid)?.rssMb ?? Number.NaN;
    let peakMb = idleMb;
    const rssTimer = setInterval(() => {
      peakMb = Math.max(peakMb, readProcessMemory(worker.pid)?.rssMb ?? 0);
    }, 500);

    let streams:
      | {
          sink: Awaited<ReturnType<typeof startStreamSink>>;
          ids: string[];
          fromSeq: number;
          worker: ManagedProcess;
          alertQuery: string;
        }
      | undefined;
    if (options.streams) {
      const orgId = (orgs[0] as { id: string }).id;
      const sink = await startStreamSink();
      const fromSeq = await readLogSize(db, orgId);
      const ids = await insertBenchStreams(pool, {
        orgId,
        count: options.streams,
        afterSeq: fromSeq,
        url: sink.url,
        secretsKeyFile: loadWorkerEnv({}).SECRETS_KEY_FILE,
      });
      const streamWorker = await startWorker("streams-worker", queues, {
        concurrency: options.workerConcurrency,
        roles: ["streams"],
        env: { WEBHOOK_ALLOW_LOCAL_URLS: "true" },
        nodeArgs: options.profileStreams ? cpuProfileArgs("streams-worker") : [],
      });
      processes.push(streamWorker);
      // A type of about 4% of the load (Zipf rank 5 of the bench's types).
      const alertQuery = "type:repo.delete";
      await insertBenchAlert(pool, { orgId, query: alertQuery, url: sink.alertsUrl });
      streams = { sink, ids, fromSeq, worker: streamWorker, alertQuery };
      log(`${label}: ${options.streams} streams delivering to ${sink.url}`);
    }

    const batchSize = 100;
    const bodies = prepareBodies(400, batchSize);
    let next = 0;
    let nextOrg = 0;
    const headersOf = (key: string) => ({
      authorization: `Bearer ${key}`,
      "content-type": "application/json",
    });
    const request = {
      method: "POST" as const,
      path: "/v1/events",
      headers: headersOf((orgs[0] as { key: string }).key),
      setupRequest: (req: autocannon.Request) => {
        next = (next + 1) % bodies.length;
        if (orgs.length === 1) return { ...req, body: bodies[next] };
        nextOrg = (nextOrg + 1) % orgs.length;
        return {
          ...req,
          headers: headersOf((orgs[nextOrg] as { key: string }).key),
          body: bodies[next],
        };
      },
    };
    const url = `http://127.0.0.1:${port}`;
    // Smoke: one batch goes through before load starts.
    await runAutocannon({ url, connections: 1, amount: 1, requests: [request] });
    await waitForDrain(queue, 30_000);
    if (orgs.length > 1) {
      // One small batch from each organisation first, as a running deployment would have had:
      // the API's key cache and the log counters of every organisation exist before the clock.
      log(`${label}: one 1-event batch from each organisation (warm-up)`);
      const small = JSON.stringify({ events: [JSON.parse(bodies[0] as string).events[0]] });
      let nextWarm = 0;
      await Promise.all(
        Array.from({ length: 16 }, async () => {
          while (nextWarm < orgs.length) {
            const { key } = orgs[nextWarm++] as { key: string };
            const answer = await httpRequest(`${url}/v1/events`, {
              method: "POST",
              headers: headersOf(key),
              body: small,
            });
            if (answer.status !== 202) throw new Error(`warm-up: ${answer.status} ${answer.body}`);
          }
        }),
      );
      await waitForDrain(queue, 120_000);
    }

    const duration = size.ingestWarmupSeconds + size.ingestWindowSeconds;
    log(
      `${label}: ${size.ingestConnections} connections posting ${batchSize}-event batches for ${duration}s (${size.ingestWarmupSeconds}s warm-up)`,
    );
    const countersBefore = await postgresCounters(pool);
    const cpu = startGroupCpu({
      postgres: isPostgresProcess,
      worker: [worker.pid],
      api: [api.pid],
      redis: isRedisProcess,
      load: [process.pid],
      // The streams phase: the ten streams' own process too (it shares the two cores).
      ...(streams ? { streamsWorker: [streams.worker.pid] } : {}),
    });
    sampler = startCoverageSampler(pool, orgIds, options.lagSampleMs);
    const loadStartedAt = Date.now();
    const cpuReadings: Record<string, number>[] = [];
    const cpuTimers = [size.ingestWarmupSeconds, duration].map((s) =>
      setTimeout(() => cpuReadings.push(cpu.read()), s * 1000),
    );
    const load = await runAutocannon({
      url,
      connections: size.ingestConnections,
      duration,
      requests: [request],
      timeout: 30,
    });
    const backlogJobs = await queueBacklog(queue);
    log(
      `${label}: load done, ${formatCount(backlogJobs * batchSize)} events still queued; draining`,
    );
    const drainSeconds = await waitForDrain(queue, 600_000);
    // What /metrics says next to what the bench counted: everything sent so far is drained.
    let metricsCheck: MetricsCheck | undefined;
    if (telemetryOn()) {
      const stored = await pool.query<{ n: string }>(
        "SELECT count(*) AS n FROM audit_entries WHERE org_id = ANY($1::text[])",
        [orgIds],
      );
      const warmUp = orgs.length > 1 ? orgs.length : 0;
      metricsCheck = {
        sentAccepted: (1 + load.requests.total - load.non2xx) * batchSize + warmUp,
        stored: Number(stored.rows[0]?.n),
        ...(await scrapeCounters(url, `http://127.0.0.1:${workerMetricsPort}`)),
      };
      log(
        `${label}: /metrics: API accepted ${metricsCheck.apiAccepted} (the bench's 2xx answers × batch: ${metricsCheck.sentAccepted}); worker committed ${metricsCheck.workerCommitted} (rows stored: ${metricsCheck.stored}); POST /v1/events answers counted ${metricsCheck.apiRequests}, refused ${metricsCheck.apiRefused}`,
      );
    }
    // Checkpoint lag: wait for the checkpoints to catch up with what was stored, then compare.
    let lag: CheckpointLag | null = null;
    if (sampler.sawAny()) {
      const caughtUp = await sampler.waitForCoverage(60_000);
      if (!caughtUp)
        log(`${label}: checkpoints did not cover every entry within 60 s of the drain`);
    } else {
      log(`${label}: no checkpoint seen during the load: checkpoint lag not measured`);
    }
    const samples = await sampler.stop();
    const countersAfter = await postgresCounters(pool);
    const postgres = Object.fromEntries(
      Object.entries(countersAfter).map(([k, v]) => [k, v - (countersBefore[k] ?? 0)]),
    );
    const windowStart = loadStartedAt + size.ingestWarmupSeconds * 1000;
    const perSecond = await committedTimeline(pool, orgIds, windowStart, size.ingestWindowSeconds);
    if (samples.length > 0) {
      lag = await checkpointLag(
        pool,
        orgIds,
        windowStart,
        windowStart + size.ingestWindowSeconds * 1000,
        samples,
        options.lagSampleMs,
      );
      log(
        `${label}: checkpoint lag over ${formatCount(lag.entries)} entries: from commit p50 ${lag.fromCommit.p50} ms, p99 ${lag.fromCommit.p99} ms, max ${lag.fromCommit.max} ms; from stored_at p99 ${lag.fromStoredAt.p99} ms (${lag.uncovered} uncovered)`,
      );
    }
    const committed = perSecond.reduce((a, b) => a + b, 0);
    const committedPerSecond = committed / size.ingestWindowSeconds;
    for (const timer of cpuTimers) clearTimeout(timer);
    cpu.stop();
    const [cpuAtWindowStart, cpuAtWindowEnd] = cpuReadings;
    const cpuPerEvent =
      cpuAtWindowStart && cpuAtWindowEnd
        ? cpuPerItem(cpuAtWindowStart, cpuAtWindowEnd, committed)
        : {};
    let min5 = Number.POSITIVE_INFINITY;
    for (let i = 0; i + 5 <= perSecond.length; i++) {
      min5 = Math.min(min5, perSecond.slice(i, i + 5).reduce((a, b) => a + b, 0) / 5);
    }
    log(
      `${label}: committed ${formatCount(committedPerSecond)} events/s over the ${size.ingestWindowSeconds}s window; CPU µs per event: ${JSON.stringify(cpuPerEvent)}`,
    );

    const result: IngestResult = {
      orgs: options.orgs,
      workerConcurrency: options.workerConcurrency,
      connections: size.ingestConnections,
      batchSize,
      warmupSeconds: size.ingestWarmupSeconds,
      windowSeconds: size.ingestWindowSeconds,
      committedPerSecond,
      committedMin5sPerSecond: min5,
      perSecond,
      acceptedPerSecond: ((load.requests.total - load.non2xx) * batchSize) / duration,
      non2xx: load.non2xx,
      errors: load.errors,
      backlogEventsAtEnd: backlogJobs * batchSize,
      drainSeconds,
      workerRss: { idleMb: round(idleMb), peakMb: round(peakMb) },
      checkpointLag: lag,
      cpuPerEvent,
      postgres,
      ...(metricsCheck ? { metricsCheck } : {}),
      telemetry: telemetryOn(),
    };
    if (streams) {
      const orgId = (orgs[0] as { id: string }).id;
      const toSeq = await readLogSize(db, orgId);
      const catchUpSeconds = await waitForStreams(pool, streams.ids, toSeq, 600_000);
      log(`${label}: streams caught up ${catchUpSeconds.toFixed(1)} s after the drain`);
      const lag = await streamLag(pool, {
        orgId,
        streamIds: streams.ids,
        fromSeq: streams.fromSeq,
        toSeq,
        deliveries: (await streams.sink.collect()).deliveries,
      });
      // Every match told: the rule evaluated up to the log's end and no webhook left queued.
      const notifyQueue = new Queue(queues.notify, { connection });
      const alertsDeadline = Date.now() + 120_000;
      for (;;) {
        const { rows: rules } = await pool.query<{ behind: number }>(
          "SELECT count(*)::int AS behind FROM alert_rules WHERE org_id = $1 AND evaluated_seq < $2",
          [orgId, toSeq],
        );
        const counts = await notifyQueue.getJobCounts("wait", "active", "delayed", "prioritized");
        const queued = Object.values(counts).reduce((sum, n) => sum + n, 0);
        if (rules[0]?.behind === 0 && queued === 0) break;
        if (Date.now() > alertsDeadline) {
          log(`${label}: alerts not all told after 120 s (${queued} webhooks queued)`);
          break;
        }
        await sleep(200);
      }
      await notifyQueue.close();
      const alerts = await alertLatency(pool, {
        orgId,
        query: streams.alertQuery,
        alerts: (await streams.sink.collect()).alerts,
      });
      // One stream alone, from seq 1: the whole log as a backfill, with the CPU it costs.
      const dbName = new URL(benchDatabaseUrl).pathname.slice(1);
      const backfillCpu = startGroupCpu({
        streamsWorker: [streams.worker.pid],
        postgres: (cmdline) => cmdline.startsWith("postgres:") && cmdline.includes(` ${dbName} `),
      });
      const cpuBefore = backfillCpu.read();
      const [backfillId] = await insertBenchStreams(pool, {
        orgId,
        count: 1,
        afterSeq: 0,
        url: streams.sink.url,
        secretsKeyFile: loadWorkerEnv({}).SECRETS_KEY_FILE,
      });
      const backfillSeconds = await waitForStreams(pool, [backfillId as string], toSeq, 600_000);
      const cpuMicrosPerEntry = cpuPerItem(cpuBefore, backfillCpu.read(), toSeq);
      backfillCpu.stop();
      const batches = (await streams.sink.collect()).deliveries.filter(
        (d) => d.streamId === backfillId,
      ).length;
      const entriesPerSecond = round(toSeq / backfillSeconds, 0);
      log(
        `${label}: one stream backfilled ${formatCount(toSeq)} entries in ${backfillSeconds.toFixed(1)} s: ${formatCount(entriesPerSecond)} entries/s (${batches} batches); CPU µs per entry: ${JSON.stringify(cpuMicrosPerEntry)}`,
      );
      // Ten streams together from seq 1: with a read per stream PostgreSQL renders every entry
      // ten times; with the shared read, about once. CPU per delivery (entry × stream).
      const tenCpu = startGroupCpu({
        streamsWorker: [streams.worker.pid],
        postgres: (cmdline) => cmdline.startsWith("postgres:") && cmdline.includes(` ${dbName} `),
      });
      const tenBefore = tenCpu.read();
      const tenIds = await insertBenchStreams(pool, {
        orgId,
        count: 10,
        afterSeq: 0,
        url: streams.sink.url,
        secretsKeyFile: loadWorkerEnv({}).SECRETS_KEY_FILE,
      });
      const tenSeconds = await waitForStreams(pool, tenIds, toSeq, 600_000);
      const cpuMicrosPerDelivery = cpuPerItem(tenBefore, tenCpu.read(), toSeq * 10);
      tenCpu.stop();
      const tenPerSecond = round(toSeq / tenSeconds, 0);
      log(
        `${label}: 10 streams backfilled ${formatCount(toSeq)} entries each in ${tenSeconds.toFixed(1)} s: ${formatCount(tenPerSecond)} entries/s per stream; CPU µs per delivery (entry × stream): ${JSON.stringify(cpuMicrosPerDelivery)}`,
      );
      await streams.sink.close();
      await pool.query("DELETE FROM log_streams WHERE org_id = $1", [orgId]);
      result.streams = {
        lag,
        catchUpSeconds: round(catchUpSeconds),
        backfill: {
          entries: toSeq,
          seconds: round(backfillSeconds, 2),
          entriesPerSecond,
          batches,
          cpuMicrosPerEntry,
        },
        backfill10: {
          entries: toSeq,
          seconds: round(tenSeconds, 2),
          entriesPerSecond: tenPerSecond,
          cpuMicrosPerDelivery,
        },
        alerts,
      };
    }
    if (options.orgs > 1 || streams) {
      clearInterval(rssTimer);
      return result;
    }
    const org = orgs[0] as { id: string; key: string };

    // Latency at half the committed rate, with the worker keeping up.
    const targetRps = Math.max(1, Math.round(committedPerSecond / 2 / batchSize));
    log(
      `latency: ${targetRps} requests/s (${formatCount(targetRps * batchSize)} events/s) for ${size.latencySeconds}s`,
    );
    const latencyStartedAt = Date.now();
    const fixed = await runAutocannon({
      url,
      connections: 16,
      duration: size.latencySeconds,
      overallRate: targetRps,
      requests: [request],
      timeout: 30,
    });
    await waitForDrain(queue, 600_000);
    log(`latency: ${targetRps} requests/s evenly paced (open loop) for ${size.latencySeconds}s`);
    const paced = await withoutSampling(() =>
      pacedLoad(
        `${url}/v1/events`,
        { method: "POST", headers: request.headers, bodies },
        targetRps,
        size.latencySeconds,
      ),
    );
    await waitForDrain(queue, 600_000);
    const latencyTimeline = await committedTimeline(
      pool,
      [org.id],
      latencyStartedAt + 1000,
      Math.max(1, size.latencySeconds - 2),
    );
    clearInterval(rssTimer);

    // The same rate with no worker running (jobs just queue up): the API's own latency, without
    // the worker and PostgreSQL competing for the two cores.
    await worker.stop();
    const aloneSeconds = Math.min(10, size.latencySeconds);
    log(`latency: the same ${targetRps} requests/s for ${aloneSeconds}s with the worker stopped`);
    const alone = await withoutSampling(() =>
      pacedLoad(
        `${url}/v1/events`,
        { method: "POST", headers: request.headers, bodies },
        targetRps,
        aloneSeconds,
      ),
    );
    const drainer = await startWorker("ingest-drainer", queues, {
      concurrency: options.workerConcurrency,
    });
    processes.push(drainer);
    await waitForDrain(queue, 600_000);
    const total = await pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM audit_entries WHERE org_id = $1",
      [org.id],
    );
    const expected =
      (1 +
        load.requests.total -
        load.non2xx +
        fixed.requests.total -
        fixed.non2xx +
        paced.latencies.length +
        alone.latencies.length) *
      batchSize;
    // autocannon does not count answers still in flight when it stops: more rows may be stored.
    if (Number(total.rows[0]?.n) < expected) {
      log(`ingest: WARNING only ${total.rows[0]?.n} rows stored, ${expected} events accepted`);
    }
    return {
      ...result,
      workerRss: { idleMb: round(idleMb), peakMb: round(peakMb) },
      latency: {
        targetRequestsPerSecond: targetRps,
        seconds: size.latencySeconds,
        paced: {
          p50: round(percentile(paced.latencies, 50), 1),
          p90: round(percentile(paced.latencies, 90), 1),
          p99: round(percentile(paced.latencies, 99), 1),
          max: round(Math.max(...paced.latencies), 1),
          errors: paced.errors,
        },
        autocannon: {
          achievedRequestsPerSecond: round(fixed.requests.total / size.latencySeconds),
          p50: fixed.latency.p50,
          p90: fixed.latency.p90,
          p99: fixed.latency.p99,
          max: fixed.latency.max,
          non2xx: fixed.non2xx,
        },
        committedPerSecond: percentile(latencyTimeline, 50),
        apiAlone: {
          p50: round(percentile(alone.latencies, 50), 1),
          p99: round(percentile(alone.latencies, 99), 1),
          seconds: aloneSeconds,
        },
      },
    };
  } finally {
    await sampler?.stop();
    for (const p of processes.reverse()) await p.stop();
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    // The processes also created the export queue (its expiry scheduler) and the notify queue.
    for (const name of [queues.export, queues.notify]) {
      const other = new Queue(name, { connection });
      await other.obliterate({ force: true }).catch(() => {});
      await other.close();
    }
    connection.disconnect();
    // The single organisation has a partition of its own: emptied, so the next run starts alike.
    // The spread ones share partitions with others: their rows are purged.
    log(`${label}: removing ${formatCount(orgs.length)} organisation(s) and their logs`);
    for (const org of orgs) await removeBenchOrg(db, org.id, partition);
    await db.close();
  }
}
