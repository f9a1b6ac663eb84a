import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";

async function check(probe: () => Promise<unknown>, timeoutMs = 1000): Promise<"ok" | "down"> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      probe(),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
      }),
    ]);
    return "ok";
  } catch {
    return "down";
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes = new Hono<AppEnv>()
  /** Liveness: the process answers. */
  .get("/healthz", (c) => c.json({ status: "ok" }))
  /**
   * Readiness: the process can do its work. PostgreSQL and Redis answer, and Redis keeps what
   * the API acknowledges (its settings are read at most every 30 s), unless ALLOW_VOLATILE_QUEUE
   * accepts a Redis that does not; `reasons` names what is at risk either way.
   */
  .get("/readyz", async (c) => {
    const { db, redis, queueDurability, env } = c.var.services;
    const [postgres, redisStatus, durability] = await Promise.all([
      check(() => db.ping()),
      check(() => redis.ping()),
      queueDurability.current(),
    ]);
    const keepsAcknowledged = durability.status === "durable" || env.ALLOW_VOLATILE_QUEUE;
    const ready = postgres === "ok" && redisStatus === "ok" && keepsAcknowledged;
    return c.json(
      {
        status: ready ? "ready" : "unavailable",
        checks: { postgres, redis: redisStatus, queueDurability: durability.status },
        ...(durability.reasons.length > 0 ? { reasons: durability.reasons } : {}),
        ...(durability.status !== "durable" && env.ALLOW_VOLATILE_QUEUE
          ? { volatileQueueAllowed: true }
          : {}),
      },
      ready ? 200 : 503,
    );
  });
