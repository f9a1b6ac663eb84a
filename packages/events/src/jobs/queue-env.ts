import { z } from "zod";
import { type JobCatalog, jobCatalog, type QueueKey } from "./job-catalog.ts";

/** `host:port` of one node, as REDIS_CLUSTER_NODES lists them. */
const clusterNode = z
  .string()
  .regex(/^[^\s:,]+:\d{1,5}$/, "must be host:port")
  .transform((text) => {
    const at = text.lastIndexOf(":");
    return { host: text.slice(0, at), port: Number(text.slice(at + 1)) };
  });

/**
 * The Redis that holds every queue (and carries the realtime channels): the single Redis of
 * REDIS_URL, or a Redis Cluster when REDIS_CLUSTER_NODES is set (REDIS_URL then gives only the
 * credentials and TLS every node shares). `@auditlog/redis` opens the connections from these.
 */
export const redisEnv = {
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  /** Comma-separated `host:port` of the cluster's nodes (any reachable one finds the others). */
  REDIS_CLUSTER_NODES: z
    .string()
    .default("")
    .transform((text) =>
      text
        .split(",")
        .map((part) => part.trim())
        .filter(Boolean),
    )
    .pipe(z.array(clusterNode)),
  /**
   * Cluster only: replicas that must confirm a queued job (Redis WAIT) before the API
   * acknowledges it, so a primary's failover cannot lose it. 0 acknowledges once the primary
   * has it (faster; a failover may then lose the last moment of acknowledged events).
   */
  REDIS_CLUSTER_WAIT_REPLICAS: z.coerce.number().int().min(0).max(5).default(1),
};

type QueueNameEnv<Q extends QueueKey> = {
  [K in JobCatalog[Q]["envKey"]]: z.ZodDefault<z.ZodString>;
};

/**
 * The names of the given queues, each settable by its catalog `envKey` (INGEST_QUEUE …) and
 * defaulting to its catalog name: producers and consumers of a queue must agree on it.
 */
export function queueNameEnv<Q extends QueueKey>(...queues: Q[]): QueueNameEnv<Q> {
  return Object.fromEntries(
    queues.map((queue) => [
      jobCatalog[queue].envKey,
      z.string().min(1).default(jobCatalog[queue].defaultName),
    ]),
  ) as QueueNameEnv<Q>;
}
