import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { testDatabaseUrl } from "@auditlog/db/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, startPrivateRedis } from "./support/private-redis.ts";
import { startTestApi, waitFor } from "./support/test-stack.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

type PrivateRedis = Awaited<ReturnType<typeof startPrivateRedis>>;

interface Readiness {
  status: string;
  ready: boolean;
  checks: { postgres: string; redis: string; queueDurability: string; ingestBacklog: string };
  reasons?: string[];
  volatileQueueAllowed?: boolean;
}

async function readiness(redis: PrivateRedis, overrides: Record<string, string> = {}) {
  const stack = await startTestApi({ REDIS_URL: redis.url, ...overrides });
  try {
    await waitFor(
      async () => stack.services.redis.status,
      (status) => status === "ready",
    );
    const response = await stack.app.request("/readyz");
    return { status: response.status, body: (await response.json()) as Readiness };
  } finally {
    await stack.services.close();
  }
}

describe("/readyz: can the Redis the API talks to keep an acknowledged event?", () => {
  const servers: PrivateRedis[] = [];
  const privateRedis = async (options: Parameters<typeof startPrivateRedis>[0]) => {
    const redis = await startPrivateRedis(options);
    servers.push(redis);
    return redis;
  };
  afterAll(async () => {
    for (const redis of servers) await redis.destroy();
  });

  it("is ready with an append-only file fsynced every second (or always) and noeviction", async () => {
    for (const fsync of ["everysec", "always"]) {
      const redis = await privateRedis({ appendOnly: true, args: ["--appendfsync", fsync] });
      expect(await readiness(redis)).toEqual({
        status: 200,
        body: {
          status: "ready",
          ready: true,
          checks: {
            postgres: "ok",
            redis: "ok",
            queueDurability: "durable",
            ingestBacklog: "ok",
          },
        },
      });
    }
  });

  it("is not ready, and says why, when Redis keeps no append-only file", async () => {
    const redis = await privateRedis({ appendOnly: false });
    const { status, body } = await readiness(redis);
    expect(status).toBe(503);
    expect(body).toEqual({
      status: "unavailable",
      ready: false,
      checks: { postgres: "ok", redis: "ok", queueDurability: "volatile", ingestBacklog: "ok" },
      reasons: [expect.stringMatching(/appendonly is off.*loses every queued event/)],
    });
  });

  it("names every setting that loses acknowledged events: eviction, fsync left to the kernel", async () => {
    const redis = await privateRedis({
      appendOnly: true,
      args: ["--appendfsync", "no", "--maxmemory-policy", "allkeys-lru"],
    });
    const { status, body } = await readiness(redis);
    expect(status).toBe(503);
    expect(body.checks.queueDurability).toBe("volatile");
    expect(body.reasons).toEqual([
      expect.stringMatching(/appendfsync is no/),
      expect.stringMatching(/maxmemory-policy is allkeys-lru.*evict/),
    ]);
  });

  it("treats settings it cannot read (CONFIG disabled, as on managed Redis) as not proven", async () => {
    const redis = await privateRedis({
      appendOnly: true,
      args: ["--rename-command", "CONFIG", ""],
    });
    const { status, body } = await readiness(redis);
    expect(status).toBe(503);
    expect(body.checks.queueDurability).toBe("unknown");
    expect(body.reasons).toEqual([expect.stringMatching(/appendfsync.*cannot be read/)]);
  });

  it("is ready with ALLOW_VOLATILE_QUEUE=true, still saying what is at risk", async () => {
    const redis = await privateRedis({ appendOnly: false });
    const { status, body } = await readiness(redis, { ALLOW_VOLATILE_QUEUE: "true" });
    expect(status).toBe(200);
    expect(body).toEqual({
      status: "ready",
      ready: true,
      checks: { postgres: "ok", redis: "ok", queueDurability: "volatile", ingestBacklog: "ok" },
      reasons: [expect.stringMatching(/appendonly is off/)],
      volatileQueueAllowed: true,
    });
  });

  it("reads the settings once per period, off the request path, and sees a change after it", async () => {
    const redis = await privateRedis({ appendOnly: false });
    const stack = await startTestApi({ REDIS_URL: redis.url });
    const admin = new Redis(redis.url);
    try {
      const monitor = stack.services.queueDurability;
      expect((await monitor.current()).status).toBe("volatile");
      await admin.config("SET", "appendonly", "yes");
      // Within the period the reading is the cached one: no INFO/CONFIG per probe.
      expect((await monitor.current()).status).toBe("volatile");
      expect((await monitor.refresh()).status).toBe("durable");
      expect((await stack.app.request("/readyz")).status).toBe(200);
    } finally {
      admin.disconnect();
      await stack.services.close();
    }
  });
});

describe("the API's boot log", () => {
  let volatile: PrivateRedis;
  let durable: PrivateRedis;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    volatile = await startPrivateRedis({ appendOnly: false });
    durable = await startPrivateRedis({ appendOnly: true });
  });
  afterAll(async () => {
    for (const child of children) child.kill("SIGKILL");
    await volatile?.destroy();
    await durable?.destroy();
  });

  /** Starts the API as `start` does and collects its log lines until `until` matches one. */
  async function bootLog(redisUrl: string, until: RegExp) {
    const child = spawn(process.execPath, ["--import", "tsx", "apps/api/src/server.ts"], {
      cwd: repoRoot,
      env: {
        ...process.env,
        DATABASE_URL: testDatabaseUrl,
        REDIS_URL: redisUrl,
        PORT: String(await freePort()),
        LOG_LEVEL: "info",
        WEB_DIST_DIR: "",
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    children.push(child);
    const lines: string[] = [];
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on("data", (chunk: Buffer) => lines.push(...chunk.toString("utf8").split("\n")));
    }
    await waitFor(
      async () => lines,
      (seen) => seen.some((line) => until.test(line)),
      30_000,
    );
    child.kill("SIGTERM");
    return lines.filter((line) => line.startsWith("{")).map((line) => JSON.parse(line));
  }

  it("says plainly, as an error, when Redis cannot keep an acknowledged event", {
    timeout: 60_000,
  }, async () => {
    const log = await bootLog(volatile.url, /acknowledged events/);
    expect(log).toContainEqual(
      expect.objectContaining({
        level: "error",
        message: expect.stringMatching(/Redis cannot keep acknowledged events/),
        reasons: [expect.stringMatching(/appendonly is off/)],
      }),
    );
  });

  it("says that Redis keeps acknowledged events when it does", { timeout: 60_000 }, async () => {
    const log = await bootLog(durable.url, /acknowledged events/);
    expect(log).toContainEqual(
      expect.objectContaining({
        level: "info",
        message: expect.stringMatching(/Redis keeps acknowledged events/),
        appendonly: "yes",
        appendfsync: "everysec",
        maxmemoryPolicy: "noeviction",
      }),
    );
  });
});
