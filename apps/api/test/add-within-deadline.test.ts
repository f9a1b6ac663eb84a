import { once } from "node:events";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { addWithinDeadline } from "../src/queues/add-within-deadline.ts";
import { startPrivateRedis } from "./support/private-redis.ts";
import { waitFor } from "./support/test-stack.ts";

describe("addWithinDeadline", () => {
  let redis: Awaited<ReturnType<typeof startPrivateRedis>>;
  let observer: Redis;

  beforeAll(async () => {
    redis = await startPrivateRedis();
  });
  afterAll(async () => {
    observer?.disconnect();
    await redis.destroy();
  });

  it("never starts the command once its deadline has passed, even when the client reconnects later without an error", {
    timeout: 30_000,
  }, async () => {
    // The API's producer options, with a reconnection delay long enough that Redis is back
    // before the client tries again: the reconnection then succeeds without any error event,
    // and the client only becomes ready well after the caller's deadline.
    const client = new Redis(redis.url, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 1,
      enableReadyCheck: false,
      retryStrategy: () => 1500,
    });
    client.on("error", () => {});
    try {
      await once(client, "ready");
      const readyListeners = client.listenerCount("ready");

      await redis.kill();
      await waitFor(
        async () => client.status,
        (status) => status !== "ready",
      );
      const started = performance.now();
      const attempt = addWithinDeadline(client, 200, () => client.set("late-add", "added"));
      await expect(attempt).rejects.toThrow(/timed out/);
      expect(performance.now() - started).toBeLessThan(1000);
      // Nothing is left waiting for the connection on the caller's behalf.
      expect(client.listenerCount("ready")).toBe(readyListeners);

      await redis.start();
      await waitFor(
        async () => client.status,
        (status) => status === "ready",
      );
      // Anything still waiting for `ready` has run by now: the write would be there.
      await new Promise((resolve) => setTimeout(resolve, 500));
      observer = new Redis(redis.url);
      expect(await observer.get("late-add")).toBeNull();
      // The client itself works again: the refusal was the deadline's, not a broken client.
      await addWithinDeadline(client, 2000, () => client.set("next-add", "added"));
      expect(await observer.get("next-add")).toBe("added");
    } finally {
      client.disconnect();
    }
  });
});
