import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { documented, json } from "../openapi/describe.ts";

const check = z.enum(["ok", "down"]);
export const readinessSchema = z.object({
  status: z.enum(["ready", "unavailable"]),
  ready: z.boolean(),
  checks: z.object({
    postgres: check,
    redis: check,
    queueDurability: z
      .string()
      .meta({ description: "`durable`, or why Redis may lose what it acknowledged" }),
    ingestBacklog: z.enum(["ok", "over", "unknown", "off"]),
    readReplica: z
      .enum(["replica", "primary"])
      .optional()
      .meta({ description: "Only with DATABASE_READ_URL: where reads go now" }),
  }),
  readReplica: z
    .object({
      readsFrom: z.enum(["replica", "primary"]),
      reason: z.string().optional().meta({ description: "Why reads are on the primary" }),
      lagMs: z.number().nullable(),
      lagBytes: z.number().nullable(),
      maxLagMs: z.number(),
      checkedAt: z.string().nullable(),
    })
    .optional()
    .meta({ description: "Only with DATABASE_READ_URL: the replica's last measured lag" }),
  reasons: z.array(z.string()).optional().meta({ description: "One sentence per failing check" }),
  volatileQueueAllowed: z.literal(true).optional(),
});

async function probeOk(probe: () => Promise<unknown>, timeoutMs = 1000): Promise<"ok" | "down"> {
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

/** A probe's value, or undefined when it failed or took longer than `timeoutMs`. */
async function read<T>(probe: () => Promise<T>, timeoutMs = 1000): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      probe(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timeout")), timeoutMs);
      }),
    ]);
  } catch {
    return undefined;
  } finally {
    clearTimeout(timer);
  }
}

export const healthRoutes = new Hono<AppEnv>()
  /** Liveness: the process answers. */
  .get(
    "/healthz",
    documented({
      tag: "Operations",
      summary: "Liveness",
      auth: "none",
      responses: { 200: json(z.object({ status: z.literal("ok") }), "The process answers") },
    }),
    (c) => c.json({ status: "ok" }),
  )
  /**
   * Readiness: the process can do its work. PostgreSQL and Redis answer, Redis keeps what the
   * API acknowledges (its settings are read at most every 30 s) unless ALLOW_VOLATILE_QUEUE
   * accepts a Redis that does not, and the ingest queue's backlog is not above
   * READY_MAX_QUEUED_JOBS (the workers are not keeping up: ingestion is being held or refused).
   * `reasons` names each failing check, and what is at risk with a volatile Redis either way.
   * With DATABASE_READ_URL, `readReplica` tells where reads go and the replica's last measured
   * lag; a lagging or unreachable replica fails nothing (reads fall back to the primary, which
   * the postgres check covers), it is named in `reasons` beside the others.
   */
  .get(
    "/readyz",
    documented({
      tag: "Operations",
      summary: "Readiness, and why not",
      auth: "none",
      responses: {
        200: json(readinessSchema, "Ready"),
        503: json(readinessSchema, "Not ready: `reasons` names each failing check"),
      },
    }),
    async (c) => {
      const { db, redis, queueDurability, ingestQueue, env } = c.var.services;
      const backlogLimit = env.READY_MAX_QUEUED_JOBS;
      const [postgres, redisStatus, durability, waiting] = await Promise.all([
        probeOk(() => db.ping()),
        probeOk(() => redis.ping()),
        queueDurability.current(),
        backlogLimit > 0 && redis.status === "ready"
          ? read(() => ingestQueue.getWaitingCount())
          : Promise.resolve(undefined),
      ]);
      const keepsAcknowledged = durability.status === "durable" || env.ALLOW_VOLATILE_QUEUE;
      const backlog =
        backlogLimit === 0
          ? "off"
          : waiting === undefined
            ? "unknown"
            : waiting > backlogLimit
              ? "over"
              : "ok";
      const replica = db.readReplicaStatus();
      const reasons: string[] = [];
      if (postgres !== "ok") reasons.push("postgres: not answering within 1 s");
      if (replica?.reason) reasons.push(`read replica (reads on the primary): ${replica.reason}`);
      if (redisStatus !== "ok") reasons.push("redis: not answering within 1 s");
      // The durability monitor's own sentences name each setting at risk (kept when allowed).
      reasons.push(...durability.reasons.map((reason) => `redis persistence: ${reason}`));
      if (backlog === "over") {
        reasons.push(
          `ingest backlog: ${waiting} jobs waiting, above READY_MAX_QUEUED_JOBS (${backlogLimit}); the workers are behind`,
        );
      }
      // An unknown backlog is the Redis check's failure, already named; alone it fails nothing.
      const ready =
        postgres === "ok" && redisStatus === "ok" && keepsAcknowledged && backlog !== "over";
      return c.json(
        {
          status: ready ? "ready" : "unavailable",
          ready,
          checks: {
            postgres,
            redis: redisStatus,
            queueDurability: durability.status,
            ingestBacklog: backlog,
            ...(replica ? { readReplica: replica.readsFrom } : {}),
          },
          ...(replica ? { readReplica: replica } : {}),
          ...(reasons.length > 0 ? { reasons } : {}),
          ...(durability.status !== "durable" && env.ALLOW_VOLATILE_QUEUE
            ? { volatileQueueAllowed: true }
            : {}),
        },
        ready ? 200 : 503,
      );
    },
  );
