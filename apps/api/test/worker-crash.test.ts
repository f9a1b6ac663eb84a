import type { ChildProcess } from "node:child_process";
import { createTestPool } from "@auditlog/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createOrgWithKey,
  exitOf,
  post,
  sampleEvent,
  spawnTestWorker,
  startTestApi,
  waitFor,
} from "./support/test-stack.ts";

function spawnWorker(
  stack: Awaited<ReturnType<typeof startTestApi>>,
  options: { logLevel?: "info" | "error" } = {},
): ChildProcess {
  const logLevel = options.logLevel ?? "error";
  return spawnTestWorker(
    stack,
    {
      WORKER_CONCURRENCY: "2",
      // A short lock so the restarted worker reclaims the dead one's jobs within seconds.
      WORKER_LOCK_DURATION_MS: "2000",
      LOG_LEVEL: logLevel,
    },
    // The test reads info logs when it asks for them.
    { stdout: logLevel === "info" ? "pipe" : "ignore" },
  );
}

/** Resolves when the child logs a line with this message (LOG_LEVEL=info, stdout piped). */
function loggedMessage(child: ChildProcess, message: string): Promise<void> {
  return new Promise((resolve) => {
    let buffered = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      buffered += chunk.toString("utf8");
      const lines = buffered.split("\n");
      buffered = lines.pop() ?? "";
      for (const line of lines) {
        try {
          if ((JSON.parse(line) as { message?: unknown }).message === message) resolve();
        } catch {
          // Not a log line.
        }
      }
    });
  });
}

describe("worker killed with SIGKILL in the middle of a batch", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  const pool = createTestPool();
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    stack = await startTestApi();
  });
  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.close();
    await pool.end();
  });

  it("stores every accepted event exactly once after a restart", { timeout: 120_000 }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "crash");
    const accepted: string[] = [];
    for (let batch = 0; batch < 60; batch++) {
      const events = Array.from({ length: 500 }, (_, i) => sampleEvent(batch * 500 + i));
      const response = await post(stack.app, apiKey, { events });
      expect(response.status).toBe(202);
      accepted.push(...((await response.json()) as { ids: string[] }).ids);
    }
    const count = async () =>
      Number(
        (
          await pool.query<{ n: string }>(
            "SELECT count(*)::text AS n FROM audit_entries WHERE org_id = $1",
            [org.id],
          )
        ).rows[0]?.n,
      );

    const first = spawnWorker(stack);
    children.push(first);
    await waitFor(count, (n) => n > 0, 60_000);
    first.kill("SIGKILL");
    await exitOf(first);

    const storedAtCrash = await count();
    const activeAtCrash = (await stack.services.ingestQueue.getJobCounts("active")).active ?? 0;
    expect(storedAtCrash).toBeLessThan(accepted.length);
    expect(activeAtCrash).toBeGreaterThan(0); // a batch really was in flight

    const second = spawnWorker(stack, { logLevel: "info" });
    children.push(second);
    const secondStarted = loggedMessage(second, "worker priority");
    expect(await waitFor(count, (n) => n >= accepted.length, 90_000)).toBe(accepted.length);
    await secondStarted;
    // SIGTERM on an idle worker: connections close, exit code 0. (A stop with jobs in flight is
    // the next suite's.)
    second.kill("SIGTERM");
    const exitCode = await exitOf(second);
    expect(exitCode).toBe(0);

    const { rows } = await pool.query<{ id: string }>(
      "SELECT id FROM audit_entries WHERE org_id = $1",
      [org.id],
    );
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(accepted));
    expect(rows).toHaveLength(accepted.length);
    const deadLetters = await pool.query("SELECT 1 FROM dead_letters WHERE org_id = $1", [org.id]);
    expect(deadLetters.rowCount).toBe(0);
  });
});

describe("worker stopped with SIGTERM while jobs are in flight", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  const pool = createTestPool();
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    stack = await startTestApi();
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.close();
    await pool.end();
  });

  it("finishes the jobs it is running, exits 0, and leaves the rest to the next worker: nothing lost or stored twice", {
    timeout: 180_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "sigterm");
    const batchSize = 100;
    const batchIds = Array.from({ length: 6 }, (_, b) =>
      Array.from({ length: batchSize }, (_, i) => `b${b}-${i}`),
    );
    const batches = batchIds.map((ids, b) =>
      ids.map((id, i) => sampleEvent(b * batchSize + i, { id })),
    );

    // The test's own transaction takes the organisation's log counter and stays open: every
    // write of the organisation's entries waits on that row lock, so both jobs are in flight,
    // deterministically, for as long as the test holds it.
    const holder = await pool.connect();
    let holding = true;
    try {
      await holder.query("BEGIN");
      await holder.query(
        `INSERT INTO audit_log_heads AS head (org_id, size) VALUES ($1, 0)
         ON CONFLICT (org_id) DO UPDATE SET size = head.size`,
        [org.id],
      );
      const holderPid = (await holder.query<{ pid: number }>("SELECT pg_backend_pid() AS pid"))
        .rows[0]?.pid;
      const blockedWrites = async () =>
        (
          await pool.query<{ n: number }>(
            "SELECT count(*)::int AS n FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
            [holderPid],
          )
        ).rows[0]?.n;

      for (const events of batches) {
        expect((await post(stack.app, apiKey, { events })).status).toBe(202);
      }
      const worker = spawnWorker(stack, { logLevel: "info" });
      children.push(worker);
      const exited = exitOf(worker, 170_000);
      const started = loggedMessage(worker, "worker priority");
      const stopping = loggedMessage(worker, "worker stopping");

      // Both first jobs are running: the first one's write waits on the test's transaction, the
      // second's waits in the worker to follow it (it takes the seqs after the first one's).
      const inFlight = async () => ({
        blockedWrites: await blockedWrites(),
        activeJobs: (await stack.services.ingestQueue.getJobCounts("active")).active,
      });
      const bothRunning = { blockedWrites: 1, activeJobs: 2 };
      expect(
        await waitFor(inFlight, (now) => now.blockedWrites === 1 && now.activeJobs === 2, 60_000),
      ).toEqual(bothRunning);
      // main.ts installs its signal handlers right after this line: before it, SIGTERM would
      // simply kill the process.
      await started;

      worker.kill("SIGTERM");
      const first = await Promise.race([
        stopping.then(() => "stopping" as const),
        exited.then(() => "exited" as const),
        new Promise<never>((_, reject) =>
          setTimeout(
            () =>
              reject(new Error('the worker neither logged "worker stopping" nor exited in 30 s')),
            30_000,
          ),
        ),
      ]);
      // The worker began its graceful stop instead of exiting with its jobs unfinished…
      expect(first).toBe("stopping");
      // …and is still draining a while later, its two jobs still waiting, not cut off: they
      // cannot finish before the test lets them, so nothing but giving up could end it.
      await Promise.race([exited, new Promise((resolve) => setTimeout(resolve, 1000))]);
      expect(worker.exitCode).toBeNull();
      expect(await inFlight()).toEqual(bothRunning);

      await holder.query("ROLLBACK");
      holder.release();
      holding = false;
      const code = await Promise.race([
        exited,
        new Promise((_, reject) =>
          setTimeout(() => reject(new Error("the worker did not exit within 60 s")), 60_000),
        ),
      ]);
      expect(code).toBe(0);
    } finally {
      if (holding) {
        await holder.query("ROLLBACK").catch(() => {});
        holder.release();
      }
    }

    // The two in-flight batches were stored whole before the process exited, and no job was
    // left running (a job abandoned mid-write would still be active, locked to a dead worker).
    const storedIds = async () =>
      (
        await pool.query<{ id: string }>("SELECT id FROM audit_entries WHERE org_id = $1", [org.id])
      ).rows.map((r) => r.id);
    const atExit = new Set(await storedIds());
    for (const b of [0, 1]) {
      for (let i = 0; i < batchSize; i++) expect(atExit.has(`b${b}-${i}`), `b${b}-${i}`).toBe(true);
    }
    const counts = await stack.services.ingestQueue.getJobCounts("active", "wait", "failed");
    expect(counts.active).toBe(0);
    expect(counts.failed).toBe(0);
    // Every other batch is either stored whole or still queued, whole.
    const storedBatches = batchIds.filter((ids) => ids.every((id) => atExit.has(id)));
    for (const ids of batchIds) {
      const stored = ids.filter((id) => atExit.has(id)).length;
      expect([0, batchSize], ids[0]).toContain(stored);
    }
    expect(counts.wait).toBe(batchIds.length - storedBatches.length);
    expect(atExit.size).toBe(storedBatches.length * batchSize);

    // The next worker stores the rest; each event ends up stored exactly once.
    const next = spawnWorker(stack, { logLevel: "info" });
    children.push(next);
    const nextStarted = loggedMessage(next, "worker priority");
    const total = batchIds.length * batchSize;
    expect(
      await waitFor(
        async () => (await storedIds()).length,
        (n) => n >= total,
        90_000,
      ),
    ).toBe(total);
    await nextStarted;
    next.kill("SIGTERM");
    expect(await exitOf(next)).toBe(0);
    const ids = await storedIds();
    expect(ids).toHaveLength(total);
    expect(new Set(ids)).toEqual(new Set(batchIds.flat()));
    const deadLetters = await pool.query("SELECT 1 FROM dead_letters WHERE org_id = $1", [org.id]);
    expect(deadLetters.rowCount).toBe(0);
  });
});
