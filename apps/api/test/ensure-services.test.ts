import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { startRedisCluster } from "@auditlog/redis/testing";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { freePort, startPrivateRedis } from "./support/private-redis.ts";
import { waitFor } from "./support/test-stack.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));

/** `scripts/ensure-services.sh` (run by start, test and CI), pointed at another Redis. */
async function ensureServices(
  redisPort: number,
  redisDataDir?: string,
  extraEnv: Record<string, string> = {},
) {
  const { stdout, stderr } = await run("bash", ["scripts/ensure-services.sh"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      REDIS_CLUSTER_NODES: "",
      ...extraEnv,
      REDIS_PORT: String(redisPort),
      ...(redisDataDir ? { REDIS_DATA_DIR: redisDataDir } : {}),
    },
    timeout: 120_000,
  });
  return { stdout, stderr };
}

/** A client that fails instead of retrying: the tests ask servers that may not be running. */
function oneShotClient(url: string): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 0, retryStrategy: () => null });
  client.on("error", () => {});
  return client;
}

async function settingsOf(url: string) {
  const client = oneShotClient(url);
  try {
    const get = async (name: string) => ((await client.config("GET", name)) as string[])[1];
    const persistence = await client.info("persistence");
    return {
      appendonly: await get("appendonly"),
      appendfsync: await get("appendfsync"),
      maxmemoryPolicy: await get("maxmemory-policy"),
      aofEnabled: /aof_enabled:1/.test(persistence),
      aofRewriting: /aof_rewrite_in_progress:1|aof_rewrite_scheduled:1/.test(persistence),
    };
  } finally {
    client.disconnect();
  }
}

describe("scripts/ensure-services.sh and Redis persistence", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  it("switches the append-only file and noeviction on in a Redis that runs without them, and says so", {
    timeout: 120_000,
  }, async () => {
    const redis = await startPrivateRedis({ args: ["--maxmemory-policy", "allkeys-lru"] });
    cleanups.push(() => redis.destroy());
    expect(await settingsOf(redis.url)).toMatchObject({
      appendonly: "no",
      maxmemoryPolicy: "allkeys-lru",
    });

    const said = await ensureServices(redis.port);
    expect(said.stdout).toMatch(/CONFIG SET/);
    expect(said.stdout).toMatch(/appendonly yes/);
    expect(said.stdout).toMatch(/maxmemory-policy noeviction/);
    // Started with command-line options only: nothing keeps the settings through a restart.
    expect(said.stderr).toMatch(/no configuration file/);
    // The first rewrite of the append-only file has finished: from now on every write is kept.
    expect(await settingsOf(redis.url)).toEqual({
      appendonly: "yes",
      appendfsync: "everysec",
      maxmemoryPolicy: "noeviction",
      aofEnabled: true,
      aofRewriting: false,
    });

    // Idempotent: a second run finds nothing to change.
    const again = await ensureServices(redis.port);
    expect(again.stdout).not.toMatch(/CONFIG SET/);
    expect(again.stderr).toBe("");
  });

  it("writes the settings into the configuration file of a Redis started from one", {
    timeout: 120_000,
  }, async () => {
    const redis = await startPrivateRedis({ configFile: true });
    cleanups.push(() => redis.destroy());
    const admin = new Redis(redis.url);
    await admin.config("SET", "maxmemory-policy", "allkeys-lru");
    admin.disconnect();
    const said = await ensureServices(redis.port);
    expect(said.stdout).toMatch(/saved in its configuration file/);
    const saved = readFileSync(redis.configFile, "utf8");
    expect(saved).toMatch(/^appendonly yes$/m);
    // noeviction is Redis's default: the file names no other policy.
    expect(saved).not.toMatch(/^maxmemory-policy/m);
  });

  it("leaves a stricter appendfsync (always) as it is, and raises no to everysec", {
    timeout: 120_000,
  }, async () => {
    const strict = await startPrivateRedis({ appendOnly: true, args: ["--appendfsync", "always"] });
    cleanups.push(() => strict.destroy());
    expect((await ensureServices(strict.port)).stdout).not.toMatch(/CONFIG SET/);
    expect((await settingsOf(strict.url)).appendfsync).toBe("always");

    const lax = await startPrivateRedis({ appendOnly: true, args: ["--appendfsync", "no"] });
    cleanups.push(() => lax.destroy());
    expect((await ensureServices(lax.port)).stdout).toMatch(/appendfsync everysec/);
    expect((await settingsOf(lax.url)).appendfsync).toBe("everysec");
  });

  it("starts a Redis that keeps acknowledged writes through a kill -9 when none answers", {
    timeout: 120_000,
  }, async () => {
    const port = await freePort();
    const dataDir = mkdtempSync(join(tmpdir(), "auditlog-ensure-redis-"));
    const url = `redis://127.0.0.1:${port}`;
    const pidOf = async () => {
      const client = oneShotClient(url);
      try {
        return Number(/process_id:(\d+)/.exec(await client.info("server"))?.[1]);
      } finally {
        client.disconnect();
      }
    };
    cleanups.push(async () => {
      try {
        process.kill(await pidOf(), "SIGKILL");
      } finally {
        rmSync(dataDir, { recursive: true, force: true });
      }
    });

    expect((await ensureServices(port, dataDir)).stdout).toMatch(/starting Redis/);
    expect(await settingsOf(url)).toMatchObject({
      appendonly: "yes",
      appendfsync: "everysec",
      maxmemoryPolicy: "noeviction",
    });
    const writer = oneShotClient(url);
    try {
      for (let i = 0; i < 100; i++) await writer.rpush("acknowledged", String(i));
    } finally {
      writer.disconnect();
    }

    const pid = await pidOf();
    process.kill(pid, "SIGKILL");
    await waitFor(
      async () => {
        try {
          process.kill(pid, 0);
          return "running";
        } catch {
          return "gone";
        }
      },
      (state) => state === "gone",
    );
    expect((await ensureServices(port, dataDir)).stdout).toMatch(/starting Redis/);
    const reader = oneShotClient(url);
    try {
      expect(await reader.llen("acknowledged")).toBe(100);
    } finally {
      reader.disconnect();
    }
  });

  it("checks and switches over every node of a Redis Cluster (REDIS_CLUSTER_NODES), starting none", {
    timeout: 180_000,
  }, async () => {
    const cluster = await startRedisCluster();
    cleanups.push(() => cluster.destroy());
    // One primary and one replica lose what they are given; the others are as they should be.
    const [primary] = await cluster.primaryPorts();
    const replica = (await cluster.topology()).find((node) => node.role === "replica")?.port;
    if (primary === undefined || replica === undefined) throw new Error("no primary or replica");
    for (const port of [primary, replica]) {
      const admin = oneShotClient(`redis://127.0.0.1:${port}`);
      await admin.config("SET", "maxmemory-policy", "allkeys-lru");
      await admin.config("SET", "appendonly", "no");
      admin.disconnect();
    }
    // Only the first node is given: it lists the others.
    const unused = await freePort();
    const said = await ensureServices(unused, undefined, {
      REDIS_CLUSTER_NODES: `127.0.0.1:${cluster.ports[0]}`,
    });
    for (const port of [primary, replica]) {
      expect(said.stdout).toContain(`Redis on 127.0.0.1:${port} could lose acknowledged events`);
    }
    expect(said.stdout.match(/could lose acknowledged events/g)).toHaveLength(2);
    for (const port of cluster.ports) {
      expect(await settingsOf(`redis://127.0.0.1:${port}`)).toMatchObject({
        appendonly: "yes",
        maxmemoryPolicy: "noeviction",
        aofEnabled: true,
      });
    }
    // No single Redis was started on REDIS_PORT.
    const client = oneShotClient(`redis://127.0.0.1:${unused}`);
    await expect(client.ping()).rejects.toThrow();
    client.disconnect();
  });
});
