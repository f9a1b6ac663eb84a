import { z } from "zod";
import { type JobCatalog, jobCatalog, type QueueKey } from "./job-catalog.ts";

/** The Redis that holds every queue (and carries the realtime channels). */
export const redisEnv = {
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
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
