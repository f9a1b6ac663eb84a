import { afterAll, describe, expect, it } from "vitest";
import { AuditLogClient, type RetryInfo } from "../src/index.ts";
import {
  compareIds,
  type Stack,
  sampleEvent,
  startPrivateRedis,
  startStack,
  waitFor,
} from "./support/stack.ts";

/**
 * The real API answering 429 (its ingest queue full) and 503 (its Redis gone), with
 * Retry-After: the client waits at least as long as told (its own record of each retry says
 * so), and in the end every event is stored once.
 */
describe("AuditLogClient through 429 and 503 storms", () => {
  const cleanups: Array<() => Promise<unknown>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  });

  /** Every retry after an answer with Retry-After waited at least that long. */
  function expectRetryAfterHonoured(retries: RetryInfo[], status: number) {
    const told = retries.filter((retry) => retry.status === status);
    expect(told.length).toBeGreaterThan(0);
    for (const retry of told) {
      expect(retry.retryAfterMs).toBe(1000);
      expect(retry.delayMs).toBeGreaterThanOrEqual(1000);
    }
    return told.length;
  }

  it("waits out a 429 storm (the ingest queue full, no worker) and stores every event once", async () => {
    const stack: Stack = await startStack({
      apiEnv: { INGEST_MAX_QUEUED_JOBS: "1", INGEST_ADMISSION_WAIT_MS: "100" },
    });
    cleanups.push(() => stack.close());
    await stack.api.start();
    const retries: RetryInfo[] = [];
    const client = new AuditLogClient({
      baseUrl: stack.url,
      apiKey: stack.apiKey,
      maxBatchEvents: 100,
      maxConcurrentRequests: 4,
      onRetry: (info) => retries.push(info),
      handleExit: false,
    });
    const ids = await Promise.all(
      Array.from({ length: 3000 }, (_, index) => client.record(sampleEvent(1, index))),
    );
    const flushed = client.flush();
    // No worker: one job fills the queue and every other batch is answered 429.
    // The whole stats as the probe: a failure shows which answers came instead of 429s.
    await waitFor(
      () => client.stats(),
      (stats) => (stats.responses["429"] ?? 0) >= 12,
    ).catch((error: Error) => {
      throw new Error(`${error.message}; API log: ${stack.logs.api.slice(-5).join(" | ")}`);
    });
    stack.worker.start();
    await flushed;
    const stats = await client.close();
    const comparison = compareIds(await stack.waitForStored(3000), ids as string[]);
    const honoured = expectRetryAfterHonoured(retries, 429);
    // The client's own count of attempts: one per 429 retried, each after its Retry-After.
    const perKey = new Map<string, number>();
    for (const retry of retries) perKey.set(retry.idempotencyKey, retry.attempt);
    console.log(
      "[client 429 storm]",
      JSON.stringify({
        stats,
        comparison,
        honoured,
        mostAttemptsOfOneBatch: Math.max(...perKey.values()) + 1,
      }),
    );
    expect(stats.responses["429"]).toBe(honoured);
    expect(stats.retryAfterHonoured).toBe(stats.retries);
    expect(stats).toMatchObject({ acknowledged: 3000, dropped: 0, abandoned: 0, rejected: 0 });
    expect(comparison).toEqual({
      stored: 3000,
      expected: 3000,
      missing: 0,
      unexpected: 0,
      twice: 0,
    });
  });

  it("waits out a 503 storm (the API's Redis killed and restarted) and stores every event once", async () => {
    // `appendfsync always`: with `everysec`, Redis answers writes it holds back while an fsync
    // runs, and a kill then loses them (README: Redis settings); on a busy CI disk that is a
    // real chance, and this test is about the client riding out the outage, not about the disk.
    const redis = await startPrivateRedis({
      appendOnly: true,
      args: ["--appendfsync", "always"],
    });
    cleanups.push(() => redis.destroy());
    const stack: Stack = await startStack({
      redisUrl: redis.url,
      apiEnv: { REDIS_COMMAND_TIMEOUT_MS: "500" },
    });
    cleanups.push(() => stack.close());
    await stack.api.start();
    stack.worker.start();
    const retries: RetryInfo[] = [];
    const client = new AuditLogClient({
      baseUrl: stack.url,
      apiKey: stack.apiKey,
      maxBatchEvents: 50,
      flushIntervalMs: 100,
      onRetry: (info) => retries.push(info),
      handleExit: false,
    });
    const ids: Array<string | undefined> = [];
    let producing = true;
    // A service recording all along: 20 events every 50 ms, before, during and after the outage.
    const producer = (async () => {
      for (let index = 0; producing || index < 1000; index++) {
        ids.push(await client.record(sampleEvent(2, index)));
        if (index % 20 === 19) await new Promise((resolve) => setTimeout(resolve, 50));
      }
    })();
    await waitFor(
      () => client.stats(),
      (stats) => stats.acknowledged >= 300,
    );
    await redis.kill();
    await waitFor(
      () => client.stats(),
      (stats) => (stats.responses["503"] ?? 0) >= 5,
    );
    await redis.start();
    producing = false;
    await producer;
    await client.flush();
    const stats = await client.close();
    console.log("[client 503 storm] client", JSON.stringify(stats));
    const stored = await stack.waitForStored(ids.length, {
      // What the server logged about its append-only file across the kill and the restart (a
      // failed write or fsync, what it loaded): where the events went if not to the worker.
      context: () =>
        `the private Redis's log on its append-only file: ${JSON.stringify(
          redis
            .log()
            .split("\n")
            .filter((line) => /fsync|AOF|append/i.test(line))
            .slice(-4),
        )}`,
    });
    const comparison = compareIds(stored, ids as string[]);
    const honoured = expectRetryAfterHonoured(retries, 503);
    console.log("[client 503 storm]", JSON.stringify({ stats, comparison, honoured }));
    expect(stats.responses["503"]).toBe(honoured);
    expect(stats).toMatchObject({
      acknowledged: ids.length,
      dropped: 0,
      abandoned: 0,
      rejected: 0,
    });
    expect(comparison).toEqual({
      stored: ids.length,
      expected: ids.length,
      missing: 0,
      unexpected: 0,
      twice: 0,
    });
  });
});
