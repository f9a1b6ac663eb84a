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
  /** Readiness: the process can do its work (PostgreSQL and Redis answer). */
  .get("/readyz", async (c) => {
    const { db, redis } = c.var.services;
    const [postgres, redisStatus] = await Promise.all([
      check(() => db.ping()),
      check(() => redis.ping()),
    ]);
    const ready = postgres === "ok" && redisStatus === "ok";
    return c.json(
      { status: ready ? "ready" : "unavailable", checks: { postgres, redis: redisStatus } },
      ready ? 200 : 503,
    );
  });
