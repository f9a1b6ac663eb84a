import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { createRateLimiter } from "../src/http/rate-limit.ts";
import { startPrivateRedis } from "./support/private-redis.ts";

const redis = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379");
const partition = `test-${process.pid}-${Date.now()}`;
const policy = { name: "limiter-test", quota: 2, windowSeconds: 30 };
const key = `auditlog:rate:${policy.name}:${partition}`;

afterAll(async () => {
  await redis.del(key);
  redis.disconnect();
});

describe("createRateLimiter", () => {
  it("opens a window on the first request, counts each one, and refuses past the quota until the window ends", async () => {
    const limiter = createRateLimiter(redis);
    const decisions = [];
    for (let i = 0; i < 3; i++) decisions.push(await limiter.take(policy, partition));
    expect(decisions.map((d) => [d.allowed, d.remaining])).toEqual([
      [true, 1],
      [true, 0],
      [false, 0],
    ]);
    for (const decision of decisions) {
      expect(decision.resetSeconds).toBeGreaterThan(0);
      expect(decision.resetSeconds).toBeLessThanOrEqual(30);
    }
    // The window is opened once: later requests do not push its end further away.
    expect(await redis.get(key)).toBe("3");
    const ttl = await redis.ttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(30);
  });

  it("still counts once Redis has forgotten the script (a restart, SCRIPT FLUSH)", async () => {
    // A Redis of the test's own: flushing the shared one's scripts would touch other tests.
    const server = await startPrivateRedis();
    const own = new Redis(server.url);
    try {
      const limiter = createRateLimiter(own);
      expect((await limiter.take(policy, partition)).remaining).toBe(1);
      await own.script("FLUSH");
      expect((await limiter.take(policy, partition)).remaining).toBe(0);
      expect(await own.get(key)).toBe("2");
      // By its hash, once the script is known: not its text with every request.
      expect(await own.info("commandstats")).toMatch(/cmdstat_evalsha:calls=[1-9]/);
    } finally {
      own.disconnect();
      await server.destroy();
    }
  });

  it("starts a new window once the previous one has expired", async () => {
    const limiter = createRateLimiter(redis);
    const short = { ...policy, name: "limiter-test-short", windowSeconds: 1 };
    const shortKey = `auditlog:rate:${short.name}:${partition}`;
    try {
      expect((await limiter.take(short, partition)).remaining).toBe(1);
      expect((await limiter.take(short, partition)).remaining).toBe(0);
      await new Promise((resolve) => setTimeout(resolve, 1300));
      const fresh = await limiter.take(short, partition);
      expect(fresh).toEqual({ allowed: true, remaining: 1, resetSeconds: 1 });
    } finally {
      await redis.del(shortKey);
    }
  });
});
