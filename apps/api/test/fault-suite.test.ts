import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createApiKeyRecord, createDatabase, createOrganization } from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { migrateDatabase } from "@auditlog/db/migrate";
import { startPrivatePostgres } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { generateApiKey } from "../src/auth/api-keys.ts";
import { type LoadReport, startLoad } from "./support/fault-load.ts";
import { freePort, startPrivateRedis } from "./support/private-redis.ts";
import { waitFor } from "./support/test-stack.ts";

/**
 * The fault suite: the real API and worker processes against a PostgreSQL and a Redis of its
 * own (Redis keeping an append-only file, as scripts/ensure-services.sh sets it up), under load
 * from retrying clients that send an Idempotency-Key, through the faults a deployment meets. In
 * every scenario, every id answered 202 is stored exactly once, and no request gets a 5xx other
 * than a clean 503. Each scenario prints its counts.
 */

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

type PrivatePostgres = Awaited<ReturnType<typeof startPrivatePostgres>>;
type PrivateRedis = Awaited<ReturnType<typeof startPrivateRedis>>;

/** The last lines a process wrote to stderr (warnings and errors), for a failure's message. */
function collectLog(child: ChildProcess, log: string[]) {
  child.stderr?.on("data", (chunk: Buffer) => {
    log.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    if (log.length > 400) log.splice(0, log.length - 400);
  });
}

function exited(child: ChildProcess): Promise<unknown> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", resolve));
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill("SIGTERM");
  await Promise.race([exited(child), sleep(15_000)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill("SIGKILL");
    await exited(child);
  }
}

const idle = (counts: Record<string, number>) => Object.values(counts).every((n) => n === 0);

describe("fault suite: acknowledged means kept", () => {
  let postgres: PrivatePostgres;
  let redis: PrivateRedis;
  let databaseUrl: string;
  let db: ReturnType<typeof createDatabase>;
  const exportDir = mkdtempSync(join(tmpdir(), "auditlog-faults-"));
  const children: ChildProcess[] = [];
  const closers: Array<() => Promise<unknown>> = [];

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    databaseUrl = postgres.url("auditlog_faults");
    await migrateDatabase(databaseUrl);
    db = createDatabase({ url: databaseUrl, poolSize: 2, ormPoolSize: 1 });
    redis = await startPrivateRedis({ appendOnly: true });
  }, 180_000);
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    for (const close of closers) await close().catch(() => {});
    await db?.close();
    await redis?.destroy();
    await postgres?.destroy();
    rmSync(exportDir, { recursive: true, force: true });
  }, 120_000);

  /** An organisation, its key, queues of its own, and the API process serving them. */
  async function startScenario(name: string, apiEnv: Record<string, string> = {}) {
    const suffix = newId("evt").slice(-10);
    const org = await createOrganization(db, { slug: `${name}-${suffix}`, name, plan: "team" });
    const key = generateApiKey();
    await createApiKeyRecord(db, {
      orgSlug: org.slug,
      name: "load",
      prefix: key.prefix,
      keyHash: key.hash,
    });
    const shared = {
      DATABASE_URL: databaseUrl,
      REDIS_URL: redis.url,
      INGEST_QUEUE: `fault-${name}-${suffix}-ingest`,
      EXPORT_QUEUE: `fault-${name}-${suffix}-exports`,
      NOTIFY_QUEUE: `fault-${name}-${suffix}-notify`,
      EXPORT_STORAGE_DIR: exportDir,
      LOG_LEVEL: "warn",
    };
    const logs = { api: [] as string[], worker: [] as string[] };
    onTestFailed(() => {
      console.log(`[fault suite] ${name} API log:\n${logs.api.slice(-40).join("\n")}`);
      console.log(`[fault suite] ${name} worker log:\n${logs.worker.slice(-40).join("\n")}`);
    });

    const port = await freePort();
    const api = spawn(process.execPath, ["--import", "tsx", "apps/api/src/server.ts"], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...shared,
        HOST: "127.0.0.1",
        PORT: String(port),
        WEB_DIST_DIR: "",
        ...apiEnv,
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(api);
    collectLog(api, logs.api);
    const url = `http://127.0.0.1:${port}`;
    // Ready means PostgreSQL and Redis answer and Redis keeps acknowledged events.
    await waitFor(
      () =>
        fetch(`${url}/readyz`).then(
          (response) => response.status,
          () => 0,
        ),
      (status) => status === 200,
      60_000,
    );

    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    connection.on("error", () => {});
    const queue = new Queue(shared.INGEST_QUEUE, { connection, skipVersionCheck: true });
    queue.on("error", () => {});
    closers.push(async () => {
      await stopProcess(api);
      await queue.close();
      connection.disconnect();
    });

    /** A worker process (node itself, so that SIGKILL hits the process doing the work). */
    function spawnWorker(): ChildProcess {
      const worker = spawn(process.execPath, ["--import", "tsx", "apps/worker/src/main.ts"], {
        cwd: repoRoot,
        env: {
          ...process.env,
          ...shared,
          WORKER_ROLES: "ingest",
          WORKER_CONCURRENCY: "4",
          // A dead worker's jobs go to the next one within seconds.
          WORKER_LOCK_DURATION_MS: "2000",
          EXPORT_EXPIRY_INTERVAL_MS: "0",
        },
        stdio: ["ignore", "ignore", "pipe"],
      });
      children.push(worker);
      collectLog(worker, logs.worker);
      return worker;
    }

    const { pool } = driversOf(db);
    async function storedRows() {
      const { rows } = await pool.query<{ id: string; target_id: string }>(
        "SELECT id, target_id FROM audit_entries WHERE org_id = $1",
        [org.id],
      );
      return rows;
    }
    async function storedCount(): Promise<number> {
      const { rows } = await pool.query<{ n: number }>(
        "SELECT count(*)::int AS n FROM audit_entries WHERE org_id = $1",
        [org.id],
      );
      return rows[0]?.n ?? 0;
    }

    /**
     * Waits until every acknowledged event is stored and the queue holds nothing more, then
     * counts, prints and checks: every id answered 202 stored exactly once, nothing stored
     * that was not acknowledged, no event stored twice under two ids, no 5xx but clean 503s.
     */
    async function verify(report: LoadReport, extra: Record<string, number | string> = {}) {
      const unfinished = [
        "wait",
        "active",
        "delayed",
        "prioritized",
        "paused",
        "waiting-children",
        "failed",
      ] as const;
      const deadline = Date.now() + 180_000;
      let rows = await storedRows();
      let counts = await queue.getJobCounts(...unfinished);
      for (;;) {
        const ids = new Set(rows.map((row) => row.id));
        const allStored = report.acceptedIds.every((id) => ids.has(id));
        if ((allStored && idle(counts)) || Date.now() > deadline) break;
        await sleep(250);
        rows = await storedRows();
        counts = await queue.getJobCounts(...unfinished);
      }
      const storedIds = new Set(rows.map((row) => row.id));
      const accepted = new Set(report.acceptedIds);
      const perEvent = new Map<string, number>();
      for (const row of rows) perEvent.set(row.target_id, (perEvent.get(row.target_id) ?? 0) + 1);
      const duplicates = [...perEvent.values()].reduce((sum, n) => sum + n - 1, 0);
      const lost = report.acceptedIds.filter((id) => !storedIds.has(id)).length;
      const storedWithout202 = rows.filter((row) => !accepted.has(row.id)).length;
      const deadLetters = (
        await pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM dead_letters WHERE org_id = $1",
          [org.id],
        )
      ).rows[0]?.n;
      const summary = {
        requests: report.requests,
        acknowledged: report.acknowledged,
        acknowledgedAfter503: report.acknowledgedAfter503,
        gaveUp: report.gaveUp,
        answers: report.answers,
        unclean503: report.unclean503,
        eventsAcknowledged: report.acceptedIds.length,
        stored: rows.length,
        duplicates,
        lost,
        storedWithout202,
        deadLetters,
        jobsLeft: counts,
        ...extra,
      };
      console.log(`[fault suite] ${name}: ${JSON.stringify(summary)}`);

      expect(report.acceptedIds.length).toBeGreaterThan(0);
      expect(accepted.size).toBe(report.acceptedIds.length);
      expect({ lost, duplicates, storedWithout202 }).toEqual({
        lost: 0,
        duplicates: 0,
        storedWithout202: 0,
      });
      expect(rows).toHaveLength(report.acceptedIds.length);
      expect(report.gaveUp).toBe(0);
      // 202, and 503 or 429 with the common error body: nothing else, no connection dropped.
      for (const status of Object.keys(report.answers))
        expect(["202", "429", "503"]).toContain(status);
      expect(report.unclean503).toBe(0);
      expect(deadLetters).toBe(0);
      expect(counts).toEqual(Object.fromEntries(unfinished.map((state) => [state, 0])));
      return summary;
    }

    return {
      name,
      org,
      apiKey: key.key,
      url,
      api,
      queue,
      connection,
      spawnWorker,
      storedCount,
      verify,
    };
  }

  it("worker SIGKILL ×5 under load", { timeout: 300_000 }, async () => {
    const scenario = await startScenario("worker-kill");
    const load = startLoad({
      url: scenario.url,
      apiKey: scenario.apiKey,
      scenario: scenario.name,
      clients: 2,
      batchSize: 20,
      pauseMs: 50,
    });
    let worker = scenario.spawnWorker();
    let kills = 0;
    for (; kills < 5; kills++) {
      // The worker is storing (its jobs are in flight) when it dies.
      const before = await scenario.storedCount();
      await waitFor(scenario.storedCount, (n) => n >= before + 100, 90_000);
      worker.kill("SIGKILL");
      await exited(worker);
      worker = scenario.spawnWorker();
    }
    const report = await load.stop();
    await scenario.verify(report, { workerKills: kills });
    expect(kills).toBe(5);
    expect(worker.exitCode).toBeNull();
  });

  it("Redis kill -9 (append-only file) under load", { timeout: 300_000 }, async () => {
    const scenario = await startScenario("redis-kill", { REDIS_COMMAND_TIMEOUT_MS: "1000" });
    const worker = scenario.spawnWorker();
    const load = startLoad({
      url: scenario.url,
      apiKey: scenario.apiKey,
      scenario: scenario.name,
      clients: 3,
      batchSize: 20,
      pauseMs: 50,
    });
    await waitFor(scenario.storedCount, (n) => n >= 400, 90_000);
    const acknowledgedAtKill = load.report.acknowledged;
    await redis.kill();
    await sleep(1500);
    await redis.start();
    // The load goes on after the restart: requests are acknowledged again.
    await waitFor(
      async () => load.report.acknowledged,
      (n) => n >= acknowledgedAtKill + 30,
      90_000,
    );
    const report = await load.stop();
    const summary = await scenario.verify(report, { acknowledgedBeforeKill: acknowledgedAtKill });
    // The clients did see the outage, as clean 503s they retried.
    expect(summary.answers["503"]).toBeGreaterThan(0);
    expect(worker.exitCode).toBeNull();
  });

  it("Redis kill -9 (append-only file) with a queued backlog", { timeout: 300_000 }, async () => {
    const scenario = await startScenario("redis-backlog");
    // No worker yet: everything acknowledged waits in Redis.
    const report = await startLoad({
      url: scenario.url,
      apiKey: scenario.apiKey,
      scenario: scenario.name,
      clients: 4,
      batchSize: 50,
      pauseMs: 0,
      maxRequests: 100,
    }).finished;
    const queuedBeforeKill = await scenario.queue.getWaitingCount();
    // At once after the last 202: what Redis acknowledged must already be in its file.
    await redis.kill();
    await redis.start();
    const queuedAfterRestart = await waitFor(
      () => scenario.queue.getWaitingCount().catch(() => -1),
      (n) => n >= 0,
      30_000,
    );
    const worker = scenario.spawnWorker();
    await scenario.verify(report, { queuedBeforeKill, queuedAfterRestart });
    expect(queuedBeforeKill).toBe(100);
    expect(queuedAfterRestart).toBe(100);
    expect(worker.exitCode).toBeNull();
  });

  it("PostgreSQL restarted under load (-m immediate)", { timeout: 300_000 }, async () => {
    const scenario = await startScenario("postgres-restart");
    const worker = scenario.spawnWorker();
    const load = startLoad({
      url: scenario.url,
      apiKey: scenario.apiKey,
      scenario: scenario.name,
      clients: 3,
      batchSize: 20,
      pauseMs: 50,
    });
    await waitFor(scenario.storedCount, (n) => n >= 400, 90_000);
    const storedAtCrash = await scenario.storedCount();
    await postgres.stopImmediately();
    await sleep(1500);
    await postgres.start();
    const storedAfterRestart = await scenario.storedCount();
    // Ingestion went on while PostgreSQL was away, and the worker stores again after it.
    await waitFor(scenario.storedCount, (n) => n >= storedAfterRestart + 200, 90_000);
    const report = await load.stop();
    await scenario.verify(report, { storedAtCrash, storedAfterRestart });
    expect(worker.exitCode).toBeNull();
  });

  it("an add that times out (Redis frozen), retried with the same Idempotency-Key", {
    timeout: 300_000,
  }, async () => {
    const scenario = await startScenario("add-timeout", { REDIS_COMMAND_TIMEOUT_MS: "500" });
    const worker = scenario.spawnWorker();
    const load = startLoad({
      url: scenario.url,
      apiKey: scenario.apiKey,
      scenario: scenario.name,
      clients: 3,
      batchSize: 20,
      pauseMs: 50,
    });
    await waitFor(scenario.storedCount, (n) => n >= 200, 90_000);
    const acknowledgedAtFreeze = load.report.acknowledged;
    // Frozen, Redis keeps the connections and answers nothing: adds are sent, the API answers
    // 503 at its deadline, and Redis runs every one of them once it carries on.
    redis.freeze();
    await sleep(3000);
    redis.thaw();
    await waitFor(
      async () => load.report.acknowledged,
      (n) => n >= acknowledgedAtFreeze + 30,
      90_000,
    );
    const report = await load.stop();
    // BullMQ numbers the jobs it adds: more jobs than 202 answers are adds that landed after
    // their request was answered 503.
    const jobsAdded = Number(await scenario.connection.get(`bull:${scenario.queue.name}:id`));
    const lateAdds = jobsAdded - (report.answers["202"] ?? 0);
    const summary = await scenario.verify(report, { jobsAdded, lateAdds });
    expect(summary.answers["503"]).toBeGreaterThan(0);
    expect(lateAdds).toBeGreaterThan(0);
    expect(worker.exitCode).toBeNull();
  });
});
