import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { createTestPool, prepareTestDatabase, testDatabaseUrl } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { createRedisConnection, queueConnection, type RedisConnection } from "@auditlog/redis";
import { startRedisCluster, type TestRedisCluster } from "@auditlog/redis/testing";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from "vitest";
import { startLoad } from "./support/fault-load.ts";
import { freePort } from "./support/private-redis.ts";
import { createOrgWithKey, unfinishedJobStates, waitFor } from "./support/test-stack.ts";

/**
 * A primary of the Redis Cluster killed with SIGKILL under ingestion load: the real API and
 * worker processes run against a 6-node cluster (3 primaries, 3 replicas, append-only files)
 * started here, clients retry with an Idempotency-Key as the README tells them, and the primary
 * holding the ingest queue dies mid-load. Its replica takes over; the killed node is started
 * again (as a supervisor would) and rejoins as the new primary's replica. Every event answered
 * 202 must be stored exactly once: the API acknowledges a job only once a replica holds it.
 */

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function collectLog(child: ChildProcess, log: string[]) {
  child.stderr?.on("data", (chunk: Buffer) => {
    log.push(...chunk.toString("utf8").split("\n").filter(Boolean));
    if (log.length > 400) log.splice(0, log.length - 400);
  });
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  await Promise.race([exited, sleep(15_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
}

describe("Redis Cluster: a primary killed under load loses no acknowledged event", () => {
  let cluster: TestRedisCluster;
  let connection: RedisConnection;
  const pool = createTestPool();
  const children: ChildProcess[] = [];
  const exportDir = mkdtempSync(join(tmpdir(), "auditlog-cluster-failover-"));

  beforeAll(async () => {
    await prepareTestDatabase();
    cluster = await startRedisCluster();
  }, 180_000);
  let closeQueue: () => Promise<void> = async () => {};
  afterAll(async () => {
    for (const child of children) await stopProcess(child);
    // BullMQ's close of a queue on a shared cluster connection may wait on that connection's
    // blocking-command bookkeeping: it is given a few seconds, then the connection goes.
    await Promise.race([closeQueue().catch(() => {}), sleep(5000)]);
    connection?.disconnect();
    await pool.end();
    await cluster?.destroy();
    rmSync(exportDir, { recursive: true, force: true });
  }, 120_000);

  it("kill -9 of the ingest queue's primary: acknowledged = stored, none missing or twice", {
    timeout: 1_200_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "cluster-failover");
    const suffix = newId("evt").slice(-10);
    const ingestQueue = `failover-${suffix}-ingest`;
    const shared = {
      DATABASE_URL: testDatabaseUrl,
      REDIS_CLUSTER_NODES: cluster.nodesEnv,
      INGEST_QUEUE: ingestQueue,
      EXPORT_QUEUE: `failover-${suffix}-exports`,
      NOTIFY_QUEUE: `failover-${suffix}-notify`,
      EXPORT_STORAGE_DIR: exportDir,
      LOG_LEVEL: "warn",
    };
    const logs = { api: [] as string[], worker: [] as string[] };
    onTestFailed(() => {
      console.log(`[cluster failover] API log:\n${logs.api.slice(-40).join("\n")}`);
      console.log(`[cluster failover] worker log:\n${logs.worker.slice(-40).join("\n")}`);
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
        REDIS_COMMAND_TIMEOUT_MS: "2000",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(api);
    collectLog(api, logs.api);
    const url = `http://127.0.0.1:${port}`;
    // Ready: PostgreSQL answers and every primary keeps an append-only file with noeviction.
    const ready = await waitFor(
      () =>
        fetch(`${url}/readyz`).then(
          async (response) => ({ status: response.status, body: await response.json() }),
          () => ({ status: 0, body: null }),
        ),
      (answer) => answer.status === 200,
      // An API process starting on a busy machine took longer than 90 s once.
      300_000,
    );
    expect(ready.body).toMatchObject({ checks: { queueDurability: "durable" } });

    const worker = spawn(process.execPath, ["--import", "tsx", "apps/worker/src/main.ts"], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...shared,
        WORKER_ROLES: "ingest",
        WORKER_CONCURRENCY: "4",
        WORKER_LOCK_DURATION_MS: "2000",
        EXPORT_EXPIRY_INTERVAL_MS: "0",
      },
      stdio: ["ignore", "ignore", "pipe"],
    });
    children.push(worker);
    collectLog(worker, logs.worker);

    connection = createRedisConnection(
      {
        REDIS_URL: "redis://127.0.0.1:6379",
        REDIS_CLUSTER_NODES: cluster.nodesEnv.split(",").map((node) => ({
          host: "127.0.0.1",
          port: Number(node.split(":")[1]),
        })),
        REDIS_CLUSTER_WAIT_REPLICAS: 1,
      },
      "worker",
    );
    connection.on("error", () => {});
    const queue = new Queue(ingestQueue, {
      ...queueConnection(connection, ingestQueue),
      skipVersionCheck: true,
    });
    queue.on("error", () => {});

    const storedRows = async () =>
      (
        await pool.query<{ id: string; target_id: string }>(
          "SELECT id, target_id FROM audit_entries WHERE org_id = $1",
          [org.id],
        )
      ).rows;
    const storedCount = async () => (await storedRows()).length;

    const load = startLoad({
      url,
      apiKey,
      scenario: `cluster-failover-${suffix}`,
      clients: 3,
      batchSize: 20,
      pauseMs: 50,
    });
    // A worker process starting on a busy machine may take minutes (it loads geolocation data).
    await waitFor(storedCount, (n) => n >= 400, 400_000);

    // The primary holding the ingest queue (its hash tag decides the slot) dies mid-load.
    const victim = await cluster.primaryFor(`{${ingestQueue}}`);
    const acknowledgedAtKill = load.report.acknowledged;
    await cluster.kill(victim);
    const promoted = await waitFor(
      () => cluster.primaryFor(`{${ingestQueue}}`).catch(() => victim),
      (owner) => owner !== victim,
      60_000,
    );
    // Started again from its own directory, it rejoins as the new primary's replica.
    await cluster.restart(victim);
    await cluster.waitUntilHealthy(90_000);
    // The load goes on: requests are acknowledged again after the failover.
    await waitFor(
      async () => load.report.acknowledged,
      (n) => n >= acknowledgedAtKill + 30,
      120_000,
    );
    const report = await load.stop();

    // Everything acknowledged is stored and the queue holds nothing more (or the deadline).
    const deadline = Date.now() + 180_000;
    let rows = await storedRows();
    let counts = await queue.getJobCounts(...unfinishedJobStates);
    for (;;) {
      const ids = new Set(rows.map((row) => row.id));
      const allStored = report.acceptedIds.every((id) => ids.has(id));
      const idle = Object.values(counts).every((n) => n === 0);
      if ((allStored && idle) || Date.now() > deadline) break;
      await sleep(250);
      rows = await storedRows();
      counts = await queue.getJobCounts(...unfinishedJobStates);
    }
    const storedIds = new Set(rows.map((row) => row.id));
    const perEvent = new Map<string, number>();
    for (const row of rows) perEvent.set(row.target_id, (perEvent.get(row.target_id) ?? 0) + 1);
    const summary = {
      requests: report.requests,
      acknowledgedRequests: report.acknowledged,
      acknowledgedAfter503: report.acknowledgedAfter503,
      answers: report.answers,
      acknowledged: report.acceptedIds.length,
      stored: rows.length,
      missing: report.acceptedIds.filter((id) => !storedIds.has(id)).length,
      duplicated: [...perEvent.values()].reduce((sum, n) => sum + n - 1, 0),
      storedWithout202: rows.filter((row) => !new Set(report.acceptedIds).has(row.id)).length,
      killedPrimary: victim,
      promotedPrimary: promoted,
      acknowledgedBeforeKill: acknowledgedAtKill,
      jobsLeft: counts,
    };
    console.log(`[cluster failover] ${JSON.stringify(summary)}`);

    closeQueue = () => queue.close();
    expect(report.acceptedIds.length).toBeGreaterThan(0);
    expect(summary.acknowledged).toBeGreaterThan(acknowledgedAtKill);
    expect({ missing: summary.missing, duplicated: summary.duplicated }).toEqual({
      missing: 0,
      duplicated: 0,
    });
    expect(summary.stored).toBe(summary.acknowledged);
    expect(report.gaveUp).toBe(0);
    expect(report.unclean503).toBe(0);
    for (const status of Object.keys(report.answers)) {
      expect(["202", "429", "503"]).toContain(status);
    }
    expect(counts).toEqual(Object.fromEntries(unfinishedJobStates.map((state) => [state, 0])));
    expect(worker.exitCode).toBeNull();
    expect(api.exitCode).toBeNull();
  });
});
