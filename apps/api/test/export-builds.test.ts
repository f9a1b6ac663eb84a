import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import {
  createDatabase,
  createExport,
  createOrganization,
  type Database,
  type ExportRecord,
  getExportById,
  startExportAttempt,
  upsertUserMembership,
} from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { migrateDatabase } from "@auditlog/db/migrate";
import { createTestDatabase, testDatabaseUrl, uniqueSlug } from "@auditlog/db/testing";
import { exportSchema, newId } from "@auditlog/events";
import { exportBuildJobSchema } from "@auditlog/events/jobs";
import { createExportStorage, exportFileKey } from "@auditlog/exports";
import { createLogger } from "@auditlog/observability";
import { queueConnection } from "@auditlog/redis";
// The worker's export handlers, driven here with real BullMQ jobs on queues of the test's own.
import {
  abandonedExportAgeMs,
  createExportNotifier,
  type FinishedExportRecord,
  handleBuildExport,
  sweepExports,
} from "@auditlog/worker";
import { type Job, Queue, Worker } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  insertRows,
  startTestApi,
  testRedis,
  waitFor,
} from "./support/test-stack.ts";

const logger = createLogger("test", "error");
const minute = 60_000;

type Stack = Awaited<ReturnType<typeof startTestApi>>;

/** A promise with its resolve function outside. */
function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

async function requestExport(stack: Stack, orgSlug: string, token: string, body: unknown) {
  const response = await stack.app.request(`/v1/orgs/${orgSlug}/exports`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  expect(response.status).toBe(202);
  return exportSchema.parse(await response.json());
}

/** The ids of a downloaded export file, in file order, whatever its format. */
function idsOf(format: "json" | "ndjson" | "csv", gzipped: Buffer): string[] {
  const text = gunzipSync(gzipped).toString("utf8");
  if (format === "json") return (JSON.parse(text) as { id: string }[]).map((e) => e.id);
  if (format === "ndjson") {
    return text
      .split("\n")
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { id: string }).id);
  }
  // CSV: the id is the first column and never needs quoting (ids are [A-Za-z0-9_.:-]).
  const [header, ...records] = text.split("\r\n");
  expect(header?.split(",")[0]).toBe("id");
  return records.filter(Boolean).map((record) => record.split(",")[0] as string);
}

describe("an export is one consistent snapshot while entries arrive", () => {
  let stack: Stack;
  let worker: Worker;
  const db = createTestDatabase();
  // The API's Redis (a single Redis, or the cluster of REDIS_CLUSTER_NODES), as the worker opens it.
  const publisherRedis = testRedis("worker");
  const workerRedis = testRedis("worker");
  /**
   * Per export: reached once the build has written its first batch and reports progress; the
   * build then waits until the test releases it.
   */
  const gates = new Map<
    string,
    { reached: ReturnType<typeof deferred>; release: ReturnType<typeof deferred> }
  >();
  const gateOf = (exportId: string) => {
    let gate = gates.get(exportId);
    if (!gate) {
      gate = { reached: deferred(), release: deferred() };
      gates.set(exportId, gate);
    }
    return gate;
  };

  beforeAll(async () => {
    stack = await startTestApi();
    const storage = createExportStorage({ kind: "local", dir: stack.env.EXPORT_STORAGE_DIR });
    const deps = {
      db,
      storage,
      // Live progress, as the worker publishes it, held at the first progress of each build.
      publisher: {
        async publish(channel: string, message: string) {
          const { data } = JSON.parse(message) as {
            data: { exportId: string; status: string; rowsWritten: number };
          };
          if (data.status === "running" && data.rowsWritten > 0) {
            const gate = gateOf(data.exportId);
            gate.reached.resolve();
            await gate.release.promise;
          }
          return publisherRedis.publish(channel, message);
        },
      },
      logger,
      retentionDays: 7,
      onExportFinished: async () => {},
      shutdown: new AbortController().signal,
      checkpoint: {
        keyFile: process.env.CHECKPOINT_KEY_FILE ?? "",
        logOrigin: "auditlog.localhost",
      },
      // Small batches: the build reads (CSV) or reports (JSON, NDJSON) in several steps.
      batchSize: 50,
      progressEvery: 50,
    };
    // The worker's own handler, consuming the jobs the API queues.
    worker = new Worker(
      stack.exportQueueName,
      (job: Job, token?: string) =>
        handleBuildExport(exportBuildJobSchema.parse(job.data), job, token, deps),
      { ...queueConnection(workerRedis, stack.exportQueueName), concurrency: 1 },
    );
    await worker.waitUntilReady();
  });

  afterAll(async () => {
    for (const gate of gates.values()) gate.release.resolve();
    await worker?.close();
    await stack.services.exportQueue.obliterate({ force: true }).catch(() => {});
    await stack.services.ingestQueue.obliterate({ force: true }).catch(() => {});
    await stack.services.close();
    await rm(stack.env.EXPORT_STORAGE_DIR, { recursive: true, force: true });
    publisherRedis.disconnect();
    workerRedis.disconnect();
    await db.close();
  });

  it.each(["json", "ndjson", "csv"] as const)(
    "%s: holds exactly the entries committed when the build started, none that arrived during it",
    {
      timeout: 120_000,
    },
    async (format) => {
      const { org } = await createOrgWithKey("team", `snap-${format}`);
      const admin = await createMemberWithToken(org.slug, "admin");
      const base = Date.parse("2026-04-01T12:00:00Z");
      const at = (minutes: number) => new Date(base - minutes * minute);
      const initial = Array.from({ length: 400 }, (_, i) =>
        entryRow(org.id, { id: `snap-${String(i).padStart(3, "0")}`, occurredAt: at(i) }),
      );
      await insertRows(initial);
      // An entry outside the exported range, before and after: never part of it.
      await insertRows([entryRow(org.id, { id: "outside", occurredAt: at(1000) })]);

      const created = await requestExport(stack, org.slug, admin.token, {
        format,
        filters: { from: at(500).toISOString(), to: new Date(base + 10 * minute).toISOString() },
      });
      const gate = gateOf(created.id);
      await gate.reached.promise;

      // While the build is under way: a newer entry, and back-dated ones inside the exported
      // range, among the entries not yet read, all committed before the build goes on.
      await insertRows([
        entryRow(org.id, { id: "late-newer", occurredAt: new Date(base + minute) }),
        entryRow(org.id, {
          id: "late-backdated-1",
          occurredAt: new Date(at(120).getTime() - 30_000),
        }),
        entryRow(org.id, {
          id: "late-backdated-2",
          occurredAt: new Date(at(300).getTime() - 30_000),
        }),
        entryRow(org.id, {
          id: "late-backdated-3",
          occurredAt: new Date(at(399).getTime() - 30_000),
        }),
      ]);
      gate.release.resolve();

      const done = await waitFor(
        () => getExportById(db, created.id),
        (record) => record?.status !== "queued" && record?.status !== "running",
        60_000,
      );
      const download = await stack.app.request(
        `/v1/orgs/${org.slug}/exports/${created.id}/download`,
        { headers: { authorization: `Bearer ${admin.token}` } },
      );
      expect(download.status).toBe(200);
      const ids = idsOf(format, Buffer.from(await download.arrayBuffer()));
      // Newest first: snap-000 … snap-399, and nothing else.
      expect(ids.filter((id) => !id.startsWith("snap-"))).toEqual([]);
      expect(ids).toEqual(initial.map((row) => row.id));
      expect(done).toMatchObject({ status: "ready", rowsWritten: initial.length });
    },
  );
});

describe("a build is marked failed after its last attempt, and not before", () => {
  const db = createTestDatabase();
  const { pool } = driversOf(db);
  const connection = testRedis("worker");
  const suffix = newId("evt").slice(-12);
  const buildQueueName = `test-export-attempts-${suffix}`;
  const notifyQueueName = `test-export-attempts-notify-${suffix}`;
  const buildQueue = new Queue(buildQueueName, queueConnection(connection, buildQueueName));
  const notifyQueue = new Queue(notifyQueueName, queueConnection(connection, notifyQueueName));
  // Storage that cannot be written: its directory is a regular file.
  const storageParent = mkdtempSync(join(tmpdir(), "auditlog-test-broken-storage-"));
  const storageDir = join(storageParent, "not-a-directory");
  writeFileSync(storageDir, "a file where the export directory should be\n");
  let worker: Worker | undefined;

  afterAll(async () => {
    await worker?.close();
    await buildQueue.obliterate({ force: true });
    await notifyQueue.obliterate({ force: true });
    await buildQueue.close();
    await notifyQueue.close();
    connection.disconnect();
    rmSync(storageParent, { recursive: true, force: true });
    await db.close();
  });

  it("stays running, with no notification, after each attempt that will be retried; is failed, with a message for users, and notified once after the last", {
    timeout: 60_000,
  }, async () => {
    const { org } = await createOrgWithKey("team", "attempts");
    const admin = await createMemberWithToken(org.slug, "admin");
    const record = await createExport(db, {
      orgId: org.id,
      requestedBy: { id: admin.user.id, name: admin.user.name },
      format: "ndjson",
      query: "",
      includeHidden: false,
    });
    await insertRows([entryRow(org.id)]);

    // The real notifier: it stores the requester's notification (and would queue deliveries).
    const notify = createExportNotifier({
      db,
      publisher: connection,
      queue: notifyQueue,
      emailEnabled: false,
      retryBaseMs: 1000,
      logger,
    });
    const finished: FinishedExportRecord[] = [];
    const notificationsOf = async (exportId: string) =>
      (
        await pool.query<{ kind: string }>("SELECT kind FROM notifications WHERE export_id = $1", [
          exportId,
        ])
      ).rows.map((r) => r.kind);
    const deps = {
      db,
      storage: createExportStorage({ kind: "local", dir: storageDir }),
      publisher: connection,
      logger,
      retentionDays: 7,
      onExportFinished: async (done: FinishedExportRecord) => {
        finished.push(done);
        await notify(done);
      },
      shutdown: new AbortController().signal,
      checkpoint: {
        keyFile: process.env.CHECKPOINT_KEY_FILE ?? "",
        logOrigin: "auditlog.localhost",
      },
    };

    // What each attempt finds when it starts: the state the attempt before it left.
    const seen: {
      attemptsMade: number;
      status: string | undefined;
      error: string | null | undefined;
      notifications: string[];
      hookCalls: number;
    }[] = [];
    worker = new Worker(
      buildQueue.name,
      async (job: Job, token?: string) => {
        const row = await getExportById(db, record.id);
        seen.push({
          attemptsMade: job.attemptsMade,
          status: row?.status,
          error: row?.error,
          notifications: await notificationsOf(record.id),
          hookCalls: finished.length,
        });
        return handleBuildExport(exportBuildJobSchema.parse(job.data), job, token, deps);
      },
      { ...queueConnection(connection, buildQueue.name), concurrency: 1 },
    );
    // The API's job, with three attempts and a short backoff instead of five and 5 s.
    await buildQueue.add(
      "export.build",
      { exportId: record.id },
      { jobId: record.id, attempts: 3, backoff: { type: "fixed", delay: 200 } },
    );

    // Finished either way: failed for good, or completed (skipped) by a later attempt.
    expect(
      await waitFor(
        () => buildQueue.getJobState(record.id),
        (state) => state === "failed" || state === "completed",
      ),
    ).toBe("failed");
    expect(seen).toEqual([
      { attemptsMade: 0, status: "queued", error: null, notifications: [], hookCalls: 0 },
      { attemptsMade: 1, status: "running", error: null, notifications: [], hookCalls: 0 },
      { attemptsMade: 2, status: "running", error: null, notifications: [], hookCalls: 0 },
    ]);

    const failed = await getExportById(db, record.id);
    expect(failed).toMatchObject({ status: "failed", attempt: 3 });
    expect(failed?.error).toBe(
      "The export failed after 3 attempts: an internal error stopped the build. Request a new export; if it fails again, contact your operator.",
    );
    expect(finished.map((r) => [r.id, r.status])).toEqual([[record.id, "failed"]]);
    expect(await notificationsOf(record.id)).toEqual(["export.failed"]);
    const job = await buildQueue.getJob(record.id);
    expect(job?.attemptsMade).toBe(3);
  });
});

describe("the sweep fails an export whose job was lost", () => {
  // The sweep covers every export of its database, and every other test stack's worker sweeps
  // the shared test database: this test has a database of its own.
  const databaseName = `${new URL(testDatabaseUrl).pathname.slice(1)}_sweep_${randomBytes(4).toString("hex")}`;
  const databaseUrl = (() => {
    const url = new URL(testDatabaseUrl);
    url.pathname = `/${databaseName}`;
    return url.toString();
  })();
  const connection = testRedis("worker");
  const queueName = `test-export-sweep-${newId("evt").slice(-12)}`;
  const queue = new Queue(queueName, queueConnection(connection, queueName));
  const storageDir = mkdtempSync(join(tmpdir(), "auditlog-test-sweep-"));
  const storage = createExportStorage({ kind: "local", dir: storageDir });
  let db: Database;

  beforeAll(async () => {
    await migrateDatabase(databaseUrl);
    db = createDatabase({ url: databaseUrl, poolSize: 4 });
  }, 120_000);

  afterAll(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
    await db?.close();
    rmSync(storageDir, { recursive: true, force: true });
    const maintenance = new URL(testDatabaseUrl);
    maintenance.pathname = "/postgres";
    const admin = createDatabase({ url: maintenance.toString(), poolSize: 1 });
    try {
      // The name is the test database's own plus [0-9a-f]: quoting it is enough.
      await driversOf(admin).pool.query(`DROP DATABASE IF EXISTS "${databaseName}" WITH (FORCE)`);
    } finally {
      await admin.close();
    }
  }, 60_000);

  it("marks a queued or running export with no live job failed, removes its files and calls the hook once; leaves live and recent ones alone", {
    timeout: 60_000,
  }, async () => {
    const { pool } = driversOf(db);
    const slug = uniqueSlug("sweep");
    const orgId = (await createOrganization(db, { slug, name: "Sweep", plan: "team" })).id;
    const userId = (
      await upsertUserMembership(db, {
        email: `${slug}@example.test`,
        name: "sweeper",
        passwordHash: "unused",
        orgSlug: slug,
        role: "admin",
      })
    ).user.id;
    const newExport = () =>
      createExport(db, {
        orgId,
        requestedBy: { id: userId, name: "sweeper" },
        format: "json",
        query: "",
        includeHidden: false,
      });
    const age = async (record: ExportRecord, ms: number) => {
      await pool.query(
        "UPDATE exports SET created_at = now() - make_interval(secs => $2) WHERE id = $1",
        [record.id, ms / 1000],
      );
    };
    const old = abandonedExportAgeMs + 5 * minute;

    // Lost while running, on its second attempt: a file left by attempt 1, a partial by attempt 2.
    const lostRunning = await newExport();
    await startExportAttempt(db, lostRunning.id);
    const running = await startExportAttempt(db, lostRunning.id);
    expect(running).toMatchObject({ status: "running", attempt: 2 });
    const committed = await storage.createWriteStream(exportFileKey(lostRunning, 1));
    await new Promise<void>((resolve, reject) =>
      committed.stream.end(Buffer.from("attempt 1"), (error?: Error | null) =>
        error ? reject(error) : resolve(),
      ),
    );
    await committed.commit();
    const partial = await storage.createWriteStream(exportFileKey(lostRunning, 2));
    await new Promise<void>((resolve, reject) =>
      partial.stream.write(Buffer.from("attempt 2, half"), (error?: Error | null) =>
        error ? reject(error) : resolve(),
      ),
    );
    expect((await readdir(join(storageDir, orgId))).sort()).toEqual([
      `${lostRunning.id}-1.json.gz`,
      `${lostRunning.id}-2.json.gz.partial`,
    ]);
    await age(lostRunning, old);
    // Lost before it ever ran.
    const lostQueued = await newExport();
    await age(lostQueued, old);
    // Its job failed for good (its last attempt's worker died before marking the export).
    const jobFailed = await newExport();
    await age(jobFailed, old);
    // Still alive: a job running, a job waiting, a job waiting to be retried.
    const active = await newExport();
    await age(active, old);
    const waiting = await newExport();
    await age(waiting, old);
    const retrying = await newExport();
    await age(retrying, old);
    // Recent, with no job yet: the API may still be queueing it.
    const recent = await newExport();

    const fetcher = new Worker(queue.name, null, {
      ...queueConnection(connection, queue.name),
      lockDuration: 60_000,
    });
    try {
      const token = `test-${newId("evt")}`;
      await queue.add("export.build", { exportId: active.id }, { jobId: active.id });
      const activeJob = await fetcher.getNextJob(token);
      expect(activeJob?.id).toBe(active.id);
      await queue.add(
        "export.build",
        { exportId: jobFailed.id },
        { jobId: jobFailed.id, attempts: 1 },
      );
      const failingJob = await fetcher.getNextJob(token);
      expect(failingJob?.id).toBe(jobFailed.id);
      await failingJob?.moveToFailed(new Error("worker died"), token);
      await queue.add("export.build", { exportId: waiting.id }, { jobId: waiting.id });
      await queue.add(
        "export.build",
        { exportId: retrying.id },
        { jobId: retrying.id, delay: 10 * minute },
      );
      expect(
        await Promise.all(
          [active, jobFailed, waiting, retrying, lostQueued].map((r) => queue.getJobState(r.id)),
        ),
      ).toEqual(["active", "failed", "waiting", "delayed", "unknown"]);

      const hook: FinishedExportRecord[] = [];
      const deps = {
        db,
        storage,
        logger,
        queue,
        onExportFinished: async (record: FinishedExportRecord) => {
          hook.push(record);
        },
      };
      expect(await sweepExports(deps)).toEqual({ expired: 0, abandoned: 3 });

      const lost = [lostRunning, lostQueued, jobFailed].map((r) => r.id).sort();
      expect(hook.map((r) => r.id).sort()).toEqual(lost);
      for (const record of hook) {
        expect(record).toMatchObject({
          status: "failed",
          error: "The export was interrupted and could not be resumed. Request a new export.",
        });
      }
      const statuses = async () =>
        Object.fromEntries(
          (
            await pool.query<{ id: string; status: string }>(
              "SELECT id, status FROM exports WHERE org_id = $1",
              [orgId],
            )
          ).rows.map((r) => [r.id, r.status]),
        );
      expect(await statuses()).toEqual({
        [lostRunning.id]: "failed",
        [lostQueued.id]: "failed",
        [jobFailed.id]: "failed",
        [active.id]: "queued",
        [waiting.id]: "queued",
        [retrying.id]: "queued",
        [recent.id]: "queued",
      });
      // Both attempts' files are gone, the committed one and the partial one.
      expect(await readdir(join(storageDir, orgId))).toEqual([]);
      await partial.abort();

      // Once only: a second sweep finds nothing to fail and calls the hook no more.
      expect(await sweepExports(deps)).toEqual({ expired: 0, abandoned: 0 });
      expect(hook).toHaveLength(3);
    } finally {
      await fetcher.close(true);
    }
  });
});
