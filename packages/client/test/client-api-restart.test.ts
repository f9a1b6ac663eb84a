import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuditLogClient, type RetryInfo } from "../src/index.ts";
import { compareIds, type Stack, sampleEvent, startStack, waitFor } from "./support/stack.ts";

/**
 * The API process killed (SIGKILL) while the client is flushing, and started again on the same
 * port: requests in flight lose their answers (some of them reached Redis all the same), the
 * next ones find nothing listening. The client retries each batch with its events' own ids, so
 * every event is stored, and none twice.
 */
describe("AuditLogClient while the API is killed and restarted mid-flush", () => {
  let stack: Stack;

  beforeAll(async () => {
    stack = await startStack();
    await stack.api.start();
    stack.worker.start();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("retries through the crash and stores every event once", async () => {
    const retries: RetryInfo[] = [];
    const client = new AuditLogClient({
      baseUrl: stack.url,
      apiKey: stack.apiKey,
      maxBatchEvents: 200,
      maxConcurrentRequests: 2,
      // Retries come back quickly, so several land while the API is down.
      initialRetryDelayMs: 100,
      maxRetryDelayMs: 1000,
      onRetry: (info) => retries.push(info),
      handleExit: false,
    });
    const total = 8000;
    const ids = await Promise.all(
      Array.from({ length: total }, (_, index) => client.record(sampleEvent(3, index))),
    );
    const flushed = client.flush();
    await waitFor(
      () => client.stats().acknowledged,
      (count) => count >= 1000,
    );
    const atKill = client.stats();
    await stack.api.kill();
    // Down for a while: the client meets refused connections, not only one lost answer.
    await waitFor(
      () => client.stats().responses.network ?? 0,
      (count) => count >= 4,
    );
    await stack.api.start();
    await flushed;
    const stats = await client.close();
    const comparison = compareIds(await stack.waitForStored(total), ids as string[]);
    console.log(
      "[client API restart]",
      JSON.stringify({
        atKill: { acknowledged: atKill.acknowledged, pending: atKill.pending },
        stats,
        comparison,
      }),
    );
    // Killed mid-flush: events were still to send when the API died.
    expect(atKill.pending).toBeGreaterThan(0);
    expect(stats.responses.network).toBeGreaterThanOrEqual(4);
    expect(retries.filter((retry) => retry.status === undefined).length).toBe(
      stats.responses.network,
    );
    expect(stats).toMatchObject({ acknowledged: total, dropped: 0, abandoned: 0, rejected: 0 });
    expect(comparison).toEqual({
      stored: total,
      expected: total,
      missing: 0,
      unexpected: 0,
      twice: 0,
    });
  });
});
