import { createPool, createPrismaClient, type Pool, type PrismaClient } from "@auditlog/db";
import { createLogger, type Logger } from "@auditlog/observability";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import type { ApiEnv } from "./env.ts";

export interface Services {
  env: ApiEnv;
  prisma: PrismaClient;
  pool: Pool;
  redis: Redis;
  ingestQueue: Queue;
  logger: Logger;
  close(): Promise<void>;
}

export function createServices(env: ApiEnv): Services {
  const logger = createLogger("api", env.LOG_LEVEL);
  const prisma = createPrismaClient(env.DATABASE_URL);
  const pool = createPool(env.DATABASE_URL);
  // A producer must fail fast: with no offline queue and a command timeout, a Redis outage turns
  // into an immediate 503 instead of requests piling up in memory.
  const redis = new Redis(env.REDIS_URL, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    commandTimeout: env.REDIS_COMMAND_TIMEOUT_MS,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  redis.on("error", () => {
    // Reconnection is automatic; readiness reports the outage.
  });
  const ingestQueue = new Queue(env.INGEST_QUEUE, { connection: redis });
  ingestQueue.on("error", () => {});
  return {
    env,
    prisma,
    pool,
    redis,
    ingestQueue,
    logger,
    async close() {
      await ingestQueue.close().catch(() => {});
      redis.disconnect();
      await Promise.allSettled([prisma.$disconnect(), pool.end()]);
    },
  };
}
