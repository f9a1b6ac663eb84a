import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createRedisConnection, isCluster, queuePrefix, type RedisSettings } from "./connection.ts";
import { ReplicationTimeoutError, waitForReplicas } from "./replicas.ts";
import { startRedisCluster, type TestRedisCluster } from "./testing.ts";

/**
 * The factory against a real 6-node cluster (3 primaries, 3 replicas) started here, and the
 * single Redis the tests share.
 */
describe("Redis connections", () => {
  let cluster: TestRedisCluster;
  let settings: RedisSettings;
  beforeAll(async () => {
    cluster = await startRedisCluster();
    settings = {
      REDIS_URL: "redis://127.0.0.1:6379",
      REDIS_CLUSTER_NODES: cluster.nodesEnv.split(",").map((node) => ({
        host: "127.0.0.1",
        port: Number(node.split(":")[1]),
      })),
      REDIS_CLUSTER_WAIT_REPLICAS: 1,
    };
  });
  afterAll(async () => {
    await cluster?.destroy();
  });

  it("starts 3 primaries with a replica each", async () => {
    const view = await cluster.topology();
    expect(view.filter((node) => node.role === "primary")).toHaveLength(3);
    expect(view.filter((node) => node.role === "replica")).toHaveLength(3);
  });

  it("opens a single Redis without REDIS_CLUSTER_NODES, with BullMQ's default prefix", async () => {
    const redis = createRedisConnection({ ...settings, REDIS_CLUSTER_NODES: [] }, "worker");
    try {
      expect(isCluster(redis)).toBe(false);
      expect(queuePrefix(redis, "auditlog-ingest")).toBe("bull");
      expect(await redis.ping()).toBe("PONG");
    } finally {
      redis.disconnect();
    }
  });

  it("opens the cluster for every role, queue keys in the queue's own slot", async () => {
    for (const role of ["producer", "worker", "subscriber"] as const) {
      const redis = createRedisConnection(settings, role, { commandTimeoutMs: 2000 });
      try {
        expect(isCluster(redis)).toBe(true);
        await new Promise((resolve) => redis.once("ready", resolve));
        const prefix = queuePrefix(redis, "auditlog-ingest");
        expect(prefix).toBe("{auditlog-ingest}");
        // Two keys of one queue in one transaction: refused across slots, allowed here.
        await redis.multi().set(`${prefix}:a:wait`, "1").set(`${prefix}:b:meta`, "2").exec();
        expect(await redis.get(`${prefix}:b:meta`)).toBe("2");
        // Without the shared tag the same transaction spans slots, which a cluster refuses.
        await expect(
          redis
            .multi()
            .set("auditlog-ingest:a:wait", "1")
            .set("auditlog-ingest:b:meta", "2")
            .exec(),
        ).rejects.toThrow(/CROSSSLOT|slot/i);
      } finally {
        redis.disconnect();
      }
    }
  });

  it("waits for a replica to hold a write, and says when none can", async () => {
    const redis = createRedisConnection(settings, "producer", { commandTimeoutMs: 5000 });
    if (!isCluster(redis)) throw new Error("expected a cluster");
    try {
      await new Promise((resolve) => redis.once("ready", resolve));
      await redis.set("{replicated}:x", "1");
      expect(await waitForReplicas(redis, "{replicated}", 1, 1000)).toBe(1);
      // Two replicas are asked of a shard that has one: WAIT times out, and that is an error.
      await redis.set("{replicated}:y", "1");
      await expect(waitForReplicas(redis, "{replicated}", 2, 300)).rejects.toBeInstanceOf(
        ReplicationTimeoutError,
      );
    } finally {
      redis.disconnect();
    }
  });
});
