import { once } from "node:events";
import type { Redis } from "ioredis";

/**
 * Runs one producer command against Redis (a queue add) within `timeoutMs`, waiting for a
 * reconnecting client at most that long. BullMQ waits for a connection that is not ready instead
 * of failing, so without this bound a Redis outage would hang the request: it must fail at once
 * and become a 503.
 */
export async function addWithinDeadline(
  redis: Redis,
  timeoutMs: number,
  command: () => Promise<unknown>,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        if (redis.status !== "ready") await once(redis, "ready");
        await command();
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("queue add timed out")), timeoutMs);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
