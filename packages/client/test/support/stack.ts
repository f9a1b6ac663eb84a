import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generateApiKey } from "@auditlog/api/credentials";
import { createApiKeyRecord, createOrganization } from "@auditlog/db";
import {
  createTestDatabase,
  createTestPool,
  prepareTestDatabase,
  testDatabaseUrl,
  uniqueSlug,
} from "@auditlog/db/testing";
// The API's own test helpers, by path: they use node built-ins only.
import { freePort } from "../../../../apps/api/test/support/private-redis.ts";

export { freePort, startPrivateRedis } from "../../../../apps/api/test/support/private-redis.ts";

export const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `probe` until `done` accepts its value; at the deadline it throws with the last value,
 * so a condition that never came true fails where it was awaited.
 */
export async function waitFor<T>(
  probe: () => T | Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `waitFor: not met within ${timeoutMs} ms; last value: ${JSON.stringify(value)?.slice(0, 1000)}`,
      );
    }
    await sleep(50);
  }
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

/** The last lines a process wrote to stderr, for a failure's message. */
function collectLog(child: ChildProcess, log: string[]) {
  child.stderr?.on("data", (chunk: Buffer) => {
    log.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    if (log.length > 200) log.splice(0, log.length - 200);
  });
}

export interface StackOptions {
  /** The API's environment on top of the stack's (INGEST_MAX_QUEUED_JOBS …). */
  apiEnv?: Record<string, string>;
  /** A Redis of the test's own (a private one it stops); the shared one by default. */
  redisUrl?: string;
}

/**
 * The real API and worker as deployed, each a process of its own (`node --import tsx`, so a
 * SIGKILL hits the process doing the work), on queues of their own, with an organisation and
 * an ingestion key in the test database. The API listens on a fixed port, so it can be killed
 * and started again at the same address.
 */
export async function startStack(options: StackOptions = {}) {
  await prepareTestDatabase();
  const suffix = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const exportDir = mkdtempSync(join(tmpdir(), "auditlog-client-test-"));
  const shared: Record<string, string> = {
    DATABASE_URL: testDatabaseUrl,
    INGEST_QUEUE: `client-test-${suffix}-ingest`,
    EXPORT_QUEUE: `client-test-${suffix}-exports`,
    NOTIFY_QUEUE: `client-test-${suffix}-notify`,
    EXPORT_STORAGE_DIR: exportDir,
    // Warnings too (a job that failed, an outage): a failure's message quotes the last lines.
    LOG_LEVEL: "warn",
    ...(options.redisUrl ? { REDIS_URL: options.redisUrl } : {}),
  };

  const db = createTestDatabase();
  const org = await createOrganization(db, {
    slug: uniqueSlug("client"),
    name: "client",
    plan: "team",
  });
  const key = generateApiKey();
  await createApiKeyRecord(db, {
    orgSlug: org.slug,
    name: "client-test",
    prefix: key.prefix,
    keyHash: key.hash,
  });
  await db.close();
  const pool = createTestPool();

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const logs = { api: [] as string[], worker: [] as string[] };
  let api: ChildProcess | null = null;
  let worker: ChildProcess | null = null;

  const apiControl = {
    /** Starts the API process and waits until it answers /healthz. */
    async start() {
      const child = spawn(process.execPath, ["--import", "tsx", "apps/api/src/server.ts"], {
        cwd: repoRoot,
        env: {
          ...process.env,
          ...shared,
          HOST: "127.0.0.1",
          PORT: String(port),
          WEB_DIST_DIR: "",
          ...options.apiEnv,
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
      api = child;
      collectLog(child, logs.api);
      await waitFor(
        async () => {
          if (child.exitCode !== null) {
            throw new Error(`API exited (${child.exitCode}): ${logs.api.slice(-10).join("\n")}`);
          }
          return fetch(`${url}/healthz`).then(
            (response) => response.status,
            () => 0,
          );
        },
        (status) => status === 200,
      );
    },
    /** SIGKILL: the process vanishes mid-request, as in a crash. */
    async kill() {
      const child = api;
      api = null;
      if (!child) return;
      child.kill("SIGKILL");
      await exited(child);
    },
    async stop() {
      const child = api;
      api = null;
      if (!child) return;
      child.kill("SIGTERM");
      await Promise.race([exited(child), sleep(15_000)]);
      child.kill("SIGKILL");
      await exited(child);
    },
  };

  const workerControl = {
    start() {
      const child = spawn(process.execPath, ["--import", "tsx", "apps/worker/src/main.ts"], {
        cwd: repoRoot,
        env: {
          ...process.env,
          ...shared,
          WORKER_ROLES: "ingest",
          EXPORT_EXPIRY_INTERVAL_MS: "0",
          // No geolocation database to open: these tests are about delivery, not places.
          GEOIP_IPV4_DATABASE: "",
          GEOIP_IPV6_DATABASE: "",
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
      worker = child;
      collectLog(child, logs.worker);
    },
    async stop() {
      const child = worker;
      worker = null;
      if (!child) return;
      child.kill("SIGTERM");
      await Promise.race([exited(child), sleep(15_000)]);
      child.kill("SIGKILL");
      await exited(child);
    },
  };

  /** The ids stored for the organisation, with how often each is stored. */
  async function storedIds(): Promise<string[]> {
    const { rows } = await pool.query<{ id: string }>(
      "SELECT id FROM audit_entries WHERE org_id = $1",
      [org.id],
    );
    return rows.map((row) => row.id);
  }

  /**
   * Where the ingest queue's jobs are (BullMQ's keys, read with redis-cli so the test needs no
   * queue library): what a "not stored" failure needs to say whether the events wait in Redis,
   * failed there, or are not there at all.
   */
  async function ingestQueueState(): Promise<string> {
    const redisUrl = options.redisUrl ?? process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
    const queue = `bull:${shared.INGEST_QUEUE}`;
    const cli = (...args: string[]) =>
      new Promise<string>((resolve) =>
        execFile("redis-cli", ["-u", redisUrl, ...args], { timeout: 5000 }, (error, stdout) =>
          resolve(error ? `(${error.message.split("\n")[0]})` : stdout.trim()),
        ),
      );
    const [wait, active, delayed, failed, prioritized, keys, failedIds] = await Promise.all([
      cli("LLEN", `${queue}:wait`),
      cli("LLEN", `${queue}:active`),
      cli("ZCARD", `${queue}:delayed`),
      cli("ZCARD", `${queue}:failed`),
      cli("ZCARD", `${queue}:prioritized`),
      cli("--scan", "--pattern", `${queue}:*`),
      cli("ZRANGE", `${queue}:failed`, "0", "1"),
    ]);
    const jobs = keys.split("\n").filter((key) => /:\d+$/.test(key)).length;
    const reasons = await Promise.all(
      failedIds
        .split("\n")
        .filter(Boolean)
        .map((id) => cli("HGET", `${queue}:${id}`, "failedReason")),
    );
    return JSON.stringify({ wait, active, delayed, failed, prioritized, jobs, reasons });
  }

  /** The worker process: running, or how it ended. */
  function workerState(): string {
    if (!worker) return "stopped by the test";
    if (worker.exitCode !== null) return `exited with code ${worker.exitCode}`;
    if (worker.signalCode !== null) return `killed by ${worker.signalCode}`;
    return "running";
  }

  /**
   * Waits until `expected` rows are stored, and answers their ids. At the deadline it throws,
   * saying on the first line (the one CI's summary repeats) how many were stored, whether the
   * worker still runs and where the ingest queue's jobs are; then the processes' last log lines.
   */
  async function waitForStored(
    expected: number,
    options: { timeoutMs?: number; context?: () => string } = {},
  ): Promise<string[]> {
    const { timeoutMs = 120_000, context } = options;
    let stored = 0;
    return waitFor(
      storedIds,
      (ids) => {
        stored = ids.length;
        return ids.length >= expected;
      },
      timeoutMs,
    ).catch(async () => {
      throw new Error(
        `stored ${stored} of ${expected} entries within ${timeoutMs} ms; worker ${workerState()}; ingest queue ${await ingestQueueState()}${context ? `; ${context()}` : ""}\nAPI log:\n${logs.api.slice(-20).join("\n")}\nworker log:\n${logs.worker.slice(-20).join("\n")}`,
      );
    });
  }

  return {
    url,
    port,
    apiKey: key.key,
    orgId: org.id,
    api: apiControl,
    worker: workerControl,
    logs,
    storedIds,
    waitForStored,
    /** A query on the test database (the stored entries, for instance). */
    query: <Row extends Record<string, unknown>>(sql: string, params: unknown[] = []) =>
      pool.query<Row>(sql, params).then((result) => result.rows),
    async close() {
      await apiControl.stop();
      await workerControl.stop();
      await pool.end();
      rmSync(exportDir, { recursive: true, force: true });
    },
  };
}

export type Stack = Awaited<ReturnType<typeof startStack>>;

/** A valid event of a catalog type, marked by producer and index. */
export function sampleEvent(producer: number, index: number) {
  return {
    type: "repo.create" as const,
    actor: { type: "user" as const, id: `usr_${producer}`, name: `producer${producer}` },
    target: { type: "model", id: `acme/p${producer}-e${index}` },
    data: { repo: { type: "model" as const, name: `acme/p${producer}-e${index}` } },
    context: { ip: `198.51.100.${index % 250}`, userAgent: "client-test/1.0" },
  };
}

/** Every id exactly once: the stored ids are the acknowledged ones, none missing, none extra. */
export function compareIds(stored: string[], expected: Iterable<string>) {
  const want = new Set(expected);
  const seen = new Map<string, number>();
  for (const id of stored) seen.set(id, (seen.get(id) ?? 0) + 1);
  return {
    stored: stored.length,
    expected: want.size,
    missing: [...want].filter((id) => !seen.has(id)).length,
    unexpected: [...seen.keys()].filter((id) => !want.has(id)).length,
    twice: [...seen.values()].filter((count) => count > 1).length,
  };
}
