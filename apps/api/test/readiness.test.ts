import { afterAll, describe, expect, it } from "vitest";
import { startPrivateRedis } from "./support/private-redis.ts";
import { startTestApi, waitFor } from "./support/test-stack.ts";

type PrivateRedis = Awaited<ReturnType<typeof startPrivateRedis>>;
type Stack = Awaited<ReturnType<typeof startTestApi>>;

interface Readiness {
  status: string;
  ready: boolean;
  checks: Record<string, string>;
  reasons?: string[];
}

async function readyz(stack: Stack) {
  const response = await stack.app.request("/readyz");
  return { status: response.status, body: (await response.json()) as Readiness };
}

/** /readyz for orchestrators: 503 with `ready: false` and one reason per failing check. */
describe("/readyz says why it is not ready", () => {
  const servers: PrivateRedis[] = [];
  const stacks: Stack[] = [];
  afterAll(async () => {
    for (const stack of stacks) await stack.services.close();
    for (const redis of servers) await redis.destroy();
  });
  async function stackOn(options: Parameters<typeof startPrivateRedis>[0], env = {}) {
    const redis = await startPrivateRedis(options);
    servers.push(redis);
    const stack = await startTestApi({ REDIS_URL: redis.url, ...env });
    stacks.push(stack);
    await waitFor(
      async () => stack.services.redis.status,
      (status) => status === "ready",
    );
    return { redis, stack };
  }

  it("names Redis when it stops answering, and is ready again once it is back", async () => {
    const { redis, stack } = await stackOn({ appendOnly: true });
    expect((await readyz(stack)).status).toBe(200);
    await redis.kill();
    const down = await waitFor(
      () => readyz(stack),
      (answer) => answer.status === 503,
    );
    expect(down.body.ready).toBe(false);
    expect(down.body.checks.redis).toBe("down");
    expect(down.body.reasons).toContainEqual(expect.stringMatching(/^redis: not answering/));
    expect(down.body.reasons?.some((reason) => reason.startsWith("postgres"))).toBe(false);
    await redis.start();
    const back = await waitFor(
      () => readyz(stack),
      (answer) => answer.status === 200,
    );
    expect(back.body).toMatchObject({ ready: true, checks: { redis: "ok" } });
  });

  it("names Redis persistence when Redis keeps no append-only file", async () => {
    const { stack } = await stackOn({ appendOnly: false });
    const { status, body } = await readyz(stack);
    expect(status).toBe(503);
    expect(body.ready).toBe(false);
    expect(body.checks).toMatchObject({ redis: "ok", queueDurability: "volatile" });
    expect(body.reasons).toEqual([
      expect.stringMatching(/^redis persistence: Redis appendonly is off/),
    ]);
  });

  it("names the ingest backlog when more jobs wait than READY_MAX_QUEUED_JOBS", async () => {
    // No worker consumes this stack's queue: the jobs added here wait.
    const { stack } = await stackOn({ appendOnly: true }, { READY_MAX_QUEUED_JOBS: "3" });
    for (let i = 0; i < 3; i++) await stack.services.ingestQueue.add("ingest.batch", { i });
    expect((await readyz(stack)).body).toMatchObject({
      ready: true,
      checks: { ingestBacklog: "ok" },
    });
    await stack.services.ingestQueue.add("ingest.batch", { i: 3 });
    const { status, body } = await readyz(stack);
    expect(status).toBe(503);
    expect(body.checks.ingestBacklog).toBe("over");
    expect(body.reasons).toEqual([
      expect.stringMatching(/^ingest backlog: 4 jobs waiting, above READY_MAX_QUEUED_JOBS \(3\)/),
    ]);
  });
});
