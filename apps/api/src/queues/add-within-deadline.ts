import { once } from "node:events";
import type { RedisConnection } from "@auditlog/redis";

/**
 * Runs one producer command against Redis (a queue add) within `timeoutMs`, waiting for a
 * reconnecting client at most that long. BullMQ waits for a connection that is not ready instead
 * of failing, so without this bound a Redis outage would hang the request: it must fail at once
 * and become a 503.
 *
 * Once the deadline has passed the command is never started: the caller has answered "nothing
 * was accepted" by then, and a client that reconnects later (without an error, so nothing else
 * ends the wait) must not add the job after all. A command already sent whose reply comes late
 * can still land; the ingestion API's Idempotency-Key makes the client's retry of it harmless.
 */
export async function addWithinDeadline(
  redis: RedisConnection,
  timeoutMs: number,
  command: () => Promise<unknown>,
): Promise<void> {
  const deadline = new AbortController();
  const expired = new Promise<never>((_, reject) => {
    deadline.signal.addEventListener("abort", () => reject(new Error("queue add timed out")));
  });
  const timer = setTimeout(() => deadline.abort(), timeoutMs);
  try {
    await Promise.race([
      (async () => {
        // The signal removes the listener at the deadline instead of leaving it to a
        // reconnection that may never come.
        if (redis.status !== "ready") await once(redis, "ready", { signal: deadline.signal });
        if (deadline.signal.aborted) throw new Error("queue add timed out");
        await command();
      })(),
      expired,
    ]);
  } finally {
    clearTimeout(timer);
  }
}
