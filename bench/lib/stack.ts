import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, existsSync, mkdirSync, openSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { generateApiKey, generatePersonalAccessToken } from "@auditlog/api/credentials";
import {
  createApiKeyRecord,
  createOrganization,
  createPersonalAccessToken,
  type Database,
  purgeOrganisationLog,
  upsertUserMembership,
} from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { type NoteSigner, parseSignerKey, readKeyRing, signerKeyFromSeed } from "@auditlog/tlog";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type pg from "pg";
import { httpRequest, readProcessMemory, sleep } from "./util.ts";

export const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
export const resultsDir = path.join(repoRoot, "bench", "results");
export const logsDir = path.join(resultsDir, "logs");
export const profilesDir = path.join(resultsDir, "profiles");

/**
 * `node --cpu-prof` arguments: one directory per process, as every thread (tsx's module-loader
 * thread included) writes a profile of its own there.
 */
export function cpuProfileArgs(name: string): string[] {
  return ["--cpu-prof", `--cpu-prof-dir=${cpuProfileDir(name)}`];
}

export function cpuProfileDir(name: string): string {
  return path.join(profilesDir, `${name}-${runId}`);
}

export const benchDatabaseUrl =
  process.env.BENCH_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/auditlog_bench";
export const redisUrl = process.env.BENCH_REDIS_URL ?? "redis://127.0.0.1:6379";

/**
 * The bench's own checkpoint key file (git-ignored `.data/`), one per bench database. Every
 * process the bench starts gets it as CHECKPOINT_KEY_FILE.
 */
export const benchCheckpointKeyFile =
  process.env.BENCH_CHECKPOINT_KEY_FILE ??
  path.join(
    repoRoot,
    ".data",
    "bench",
    `checkpoint-keys-${new URL(benchDatabaseUrl).pathname.slice(1)}`,
  );
/** The bench's LOG_ORIGIN (checkpoint origins are `<it>/orgs/<org id>`). */
export const benchLogOrigin = "bench.auditlog.localhost";

/**
 * The bench's signing key: a fixed one (bench data only, never a deployment's), the same as
 * bench/lib/verify.ts's, so the checkpoints the bench's trees carry verify in any later run,
 * whoever signed them (the bench itself or a worker it started).
 */
const benchSignerKey = signerKeyFromSeed(benchLogOrigin, new Uint8Array(32).fill(7));

/** The bench's signer, its key file (re)written when missing or holding another key. */
export async function benchSigner(): Promise<NoteSigner> {
  const signer = parseSignerKey(benchSignerKey);
  const current = existsSync(benchCheckpointKeyFile)
    ? await readKeyRing(benchCheckpointKeyFile).catch(() => undefined)
    : undefined;
  if (current?.signer?.verifierKey !== signer.verifierKey) {
    mkdirSync(path.dirname(benchCheckpointKeyFile), { recursive: true, mode: 0o700 });
    writeFileSync(
      benchCheckpointKeyFile,
      `# The bench's fixed checkpoint key (bench/lib/stack.ts): bench data only.\n${benchSignerKey}\n`,
      { mode: 0o600 },
    );
  }
  return signer;
}

/** Every queue of this run is unique, so a bench never touches a running stack's jobs. */
export const runId = `${Date.now().toString(36)}${process.pid.toString(36)}`;
export const queueName = (purpose: string) => `bench-${runId}-${purpose}`;

export interface ManagedProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  stop(): Promise<void>;
}

/** Starts `node --import tsx <entry>` with the given environment; output goes to a log file. */
export function startProcess(
  name: string,
  entry: string,
  env: Record<string, string>,
  nodeArgs: string[] = [],
): ManagedProcess {
  mkdirSync(logsDir, { recursive: true });
  const logFile = path.join(logsDir, `${runId}-${name}.log`);
  // The child writes its log file itself: piped through this process (which also runs the load
  // generator), a child's synchronous log writes waited for this busy event loop to drain the
  // pipe, and request logs then throttled the API to less than half its rate.
  const out = openSync(logFile, "a");
  const child = spawn(process.execPath, [...nodeArgs, "--import", "tsx", entry], {
    cwd: repoRoot,
    env: {
      ...process.env,
      LOG_LEVEL: "warn",
      CHECKPOINT_KEY_FILE: benchCheckpointKeyFile,
      LOG_ORIGIN: benchLogOrigin,
      ...env,
    },
    stdio: ["ignore", out, out],
  });
  closeSync(out);
  const exited = once(child, "exit");
  if (!child.pid) throw new Error(`could not start ${name}`);
  return {
    name,
    child,
    pid: child.pid,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/**
 * Request logs and metrics (issue 18) in the processes the bench starts: on (the default: the
 * API logs each request at info, both serve /metrics to the bench's token) or off
 * (`--telemetry off`: LOG_REQUESTS=false, METRICS=false), to compare their cost.
 */
let telemetry = true;
export function setTelemetry(on: boolean): void {
  telemetry = on;
}
export function telemetryOn(): boolean {
  return telemetry;
}
/** The scrape token of the bench's processes (bench only, never a deployment's). */
export const benchMetricsToken = "bench-metrics-scrape-token";

function apiTelemetryEnv(): Record<string, string> {
  return telemetry
    ? { LOG_LEVEL: "info", METRICS_TOKEN: benchMetricsToken }
    : { LOG_REQUESTS: "false", METRICS: "false" };
}

export interface StackQueues {
  ingest: string;
  export: string;
  notify: string;
  /** EXPORT_STORAGE_DIR shared by the API and the workers (a temporary directory). */
  exportDir: string;
}

/** Unique queues (and an export directory) for one set of processes of this run. */
export function stackQueues(purpose: string): StackQueues {
  return {
    ingest: queueName(`${purpose}-ingest`),
    export: queueName(`${purpose}-export`),
    notify: queueName(`${purpose}-notify`),
    exportDir: path.join(os.tmpdir(), `auditlog-bench-${runId}-exports`),
  };
}

function queueEnv(queues: StackQueues): Record<string, string> {
  return {
    INGEST_QUEUE: queues.ingest,
    EXPORT_QUEUE: queues.export,
    NOTIFY_QUEUE: queues.notify,
    EXPORT_STORAGE_DIR: queues.exportDir,
    // Workers started with every role never run the daily lifecycle during a measurement; the
    // lifecycle phase runs its purge itself.
    LIFECYCLE_QUEUE: `${queues.ingest}-lifecycle`,
    LIFECYCLE_INTERVAL_MS: "0",
  };
}

export async function startApi(
  port: number,
  queues: StackQueues,
  nodeArgs: string[] = [],
): Promise<ManagedProcess> {
  const api = startProcess(
    `api-${port}`,
    "apps/api/src/server.ts",
    {
      DATABASE_URL: benchDatabaseUrl,
      REDIS_URL: redisUrl,
      HOST: "127.0.0.1",
      PORT: String(port),
      // The bench measures capacity from one key and one admin: the fairness limits, which a
      // deployment keeps, would measure themselves instead. Their cost per request still counts.
      INGEST_RATE_LIMIT: "1000000",
      USER_RATE_LIMIT: "1000000",
      ...queueEnv(queues),
      ...apiTelemetryEnv(),
    },
    nodeArgs,
  );
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (api.child.exitCode !== null) throw new Error(`API exited (see ${logsDir})`);
    const ok = await httpRequest(`http://127.0.0.1:${port}/healthz`).then(
      (answer) => answer.status === 200,
      () => false,
    );
    if (ok) return api;
    await sleep(200);
  }
  await api.stop();
  throw new Error("API did not become healthy within 60 s");
}

/**
 * Starts a worker and waits until it consumes its queues (BullMQ lists its connections, which is
 * after the geolocation databases are loaded): `queues.ingest` unless `roles` leaves ingestion
 * out, and `queues.export` with `waitForExport` or an `exports` role. `roles` sets WORKER_ROLES
 * (every role when absent).
 */
export async function startWorker(
  name: string,
  queues: StackQueues,
  options: {
    concurrency: number;
    env?: Record<string, string>;
    nodeArgs?: string[];
    waitForExport?: boolean;
    roles?: string[];
    /** A port for the worker's /metrics (with telemetry on). */
    metricsPort?: number;
  },
): Promise<ManagedProcess> {
  const metricsEnv: Record<string, string> =
    telemetry && options.metricsPort !== undefined
      ? { WORKER_METRICS_PORT: String(options.metricsPort), METRICS_TOKEN: benchMetricsToken }
      : telemetry
        ? {}
        : { METRICS: "false" };
  const worker = startProcess(
    name,
    "apps/worker/src/main.ts",
    {
      DATABASE_URL: benchDatabaseUrl,
      REDIS_URL: redisUrl,
      ...queueEnv(queues),
      WORKER_CONCURRENCY: String(options.concurrency),
      ...(options.roles ? { WORKER_ROLES: options.roles.join(",") } : {}),
      ...metricsEnv,
      ...options.env,
    },
    options.nodeArgs,
  );
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const ingests = !options.roles || options.roles.includes("ingest");
  const exports = options.waitForExport || options.roles?.includes("exports");
  const consumed = [...(ingests ? [queues.ingest] : []), ...(exports ? [queues.export] : [])].map(
    (name) => new Queue(name, { connection }),
  );
  try {
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      if (worker.child.exitCode !== null) throw new Error(`worker exited (see ${logsDir})`);
      const counts = await Promise.all(consumed.map((queue) => queue.getWorkersCount()));
      if (counts.every((count) => count > 0)) return worker;
      await sleep(100);
    }
    await worker.stop();
    throw new Error("worker did not start consuming within 60 s");
  } finally {
    await Promise.all(consumed.map((queue) => queue.close()));
    connection.disconnect();
  }
}

/** RSS of an idle, started worker: memory before any job (geolocation databases included). */
export async function idleRss(pid: number): Promise<number> {
  await sleep(1500);
  return readProcessMemory(pid)?.rssMb ?? Number.NaN;
}

/** Partition (remainder) an organisation's entries land in. */
export async function partitionOf(pool: pg.Pool, orgId: string): Promise<number> {
  const { rows } = await pool.query<{ r: number; modulus: number }>(
    `WITH m AS (SELECT count(*)::int AS modulus FROM pg_inherits
                 WHERE inhparent = 'audit_entries'::regclass)
     SELECT r, m.modulus FROM m, generate_series(0, m.modulus - 1) r
      WHERE satisfies_hash_partition('audit_entries'::regclass, m.modulus, r, $1::text)`,
    [orgId],
  );
  const row = rows[0];
  if (!row) throw new Error(`no partition for ${orgId}`);
  return row.r;
}

export async function partitionTable(pool: pg.Pool, remainder: number): Promise<string> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.oid::regclass::text AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'audit_entries'::regclass
        AND pg_get_expr(c.relpartbound, c.oid) ~ ('remainder ' || $1::int || '\\)')`,
    [remainder],
  );
  const name = rows[0]?.name;
  if (!name) throw new Error(`no partition with remainder ${remainder}`);
  return name;
}

/**
 * Removes a bench organisation with its whole log. The log is append-only (issue 14): its rows
 * go through `purgeOrganisationLog`, the product's one way past the triggers. When the
 * organisation had a partition of its own (`partition`, and nothing else is in it), the
 * partition is truncated first, in a transaction that sets the same purge switch, so that the
 * next run starts with an empty partition as before rather than one full of dead rows.
 */
export async function removeBenchOrg(db: Database, orgId: string, partition?: number) {
  const { pool, prisma } = driversOf(db);
  if (partition !== undefined) {
    const table = await partitionTable(pool, partition);
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      const others = await client.query(`SELECT 1 FROM ${table} WHERE org_id <> $1 LIMIT 1`, [
        orgId,
      ]);
      if (others.rowCount === 0) {
        await client.query("SET LOCAL auditlog.maintenance = 'purge'");
        await client.query(`TRUNCATE ${table}`);
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => {});
      throw error;
    } finally {
      client.release();
    }
  }
  // Checkpoints, tiles, tree head and counter (and the entries, when not truncated above).
  await purgeOrganisationLog(db, orgId);
  await prisma.organization.delete({ where: { id: orgId } });
}

export async function findOrg(db: Database, slug: string) {
  return driversOf(db).prisma.organization.findUnique({ where: { slug } });
}

/**
 * Creates an organisation whose entries land in none of the `avoid` partitions (so the bench's
 * datasets do not share partitions and can be cleaned up independently).
 */
export async function createOrgAvoiding(db: Database, slug: string, avoid: ReadonlySet<number>) {
  const { pool, prisma } = driversOf(db);
  for (let attempt = 0; attempt < 200; attempt++) {
    const org = await createOrganization(db, { slug, name: slug, plan: "enterprise" });
    const partition = await partitionOf(pool, org.id);
    if (!avoid.has(partition)) return { org, partition };
    await prisma.organization.delete({ where: { id: org.id } });
  }
  throw new Error(`could not place ${slug} outside partitions ${[...avoid].join(",")}`);
}

export async function createIngestKey(db: Database, orgSlug: string): Promise<string> {
  const generated = generateApiKey();
  await createApiKeyRecord(db, {
    orgSlug,
    name: "bench",
    prefix: generated.prefix,
    keyHash: generated.hash,
  });
  return generated.key;
}

/** An admin of the organisation with a personal access token, for the query and export APIs. */
export async function createAdminToken(db: Database, orgSlug: string): Promise<string> {
  const { user } = await upsertUserMembership(db, {
    email: `bench-admin@${orgSlug}.bench.test`,
    name: "bench admin",
    // Nobody signs in with a password here; this is not a valid hash of anything.
    passwordHash: "!bench-no-password",
    orgSlug,
    role: "admin",
  });
  const generated = generatePersonalAccessToken();
  await createPersonalAccessToken(db, {
    userId: user.id,
    name: `bench-${Date.now()}`,
    prefix: generated.prefix,
    tokenHash: generated.hash,
  });
  return generated.token;
}

/** A free TCP port on loopback. */
export async function freePort(): Promise<number> {
  const net = await import("node:net");
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() =>
        typeof address === "object" && address ? resolve(address.port) : reject(new Error("port")),
      );
    });
  });
}
