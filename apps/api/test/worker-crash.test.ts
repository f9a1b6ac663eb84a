import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { createTestPool } from "@auditlog/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createOrgWithKey,
  post,
  sampleEvent,
  startTestApi,
  waitFor,
} from "./support/test-stack.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

function spawnWorker(stack: Awaited<ReturnType<typeof startTestApi>>): ChildProcess {
  // node itself, not the tsx wrapper: SIGKILL must hit the process doing the work.
  return spawn(process.execPath, ["--import", "tsx", "apps/worker/src/main.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...stack.workerEnv(),
      WORKER_CONCURRENCY: "2",
      // A short lock so the restarted worker reclaims the dead one's jobs within seconds.
      WORKER_LOCK_DURATION_MS: "2000",
      LOG_LEVEL: "error",
    },
    stdio: ["ignore", "ignore", "inherit"],
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
    await new Promise((resolve) => first.once("exit", resolve));

    const storedAtCrash = await count();
    const activeAtCrash = (await stack.services.ingestQueue.getJobCounts("active")).active ?? 0;
    expect(storedAtCrash).toBeLessThan(accepted.length);
    expect(activeAtCrash).toBeGreaterThan(0); // a batch really was in flight

    const second = spawnWorker(stack);
    children.push(second);
    expect(await waitFor(count, (n) => n >= accepted.length, 90_000)).toBe(accepted.length);
    // SIGTERM is a graceful stop: in-flight work drains, connections close, exit code 0.
    second.kill("SIGTERM");
    const exitCode = await new Promise((resolve) => second.once("exit", resolve));
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
