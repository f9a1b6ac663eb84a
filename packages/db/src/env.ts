import { z } from "zod";
import type { ReadReplicaOptions } from "./read-replica.ts";

/** The settings every process that talks to PostgreSQL needs. */
export const databaseEnv = {
  DATABASE_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/auditlog"),
  /**
   * A streaming replica (hot standby) of DATABASE_URL's server for the reads that may trail the
   * latest writes (README, "Read replica"). Empty: everything reads from DATABASE_URL.
   */
  DATABASE_READ_URL: z.union([z.literal(""), z.string().url()]).default(""),
  /** Reads return to the primary while the replica may be further behind than this. */
  READ_REPLICA_MAX_LAG_MS: z.coerce.number().int().min(1).default(5000),
  /** How often each process measures the replica's lag (two one-row queries). */
  READ_REPLICA_CHECK_INTERVAL_MS: z.coerce.number().int().min(10).default(1000),
};

/** `createDatabase`'s `readReplica` from the parsed settings (undefined without a replica). */
export function readReplicaFromEnv(
  env: {
    DATABASE_READ_URL: string;
    READ_REPLICA_MAX_LAG_MS: number;
    READ_REPLICA_CHECK_INTERVAL_MS: number;
  },
  poolSize?: number,
): ReadReplicaOptions | undefined {
  if (env.DATABASE_READ_URL === "") return undefined;
  return {
    url: env.DATABASE_READ_URL,
    maxLagMs: env.READ_REPLICA_MAX_LAG_MS,
    checkIntervalMs: env.READ_REPLICA_CHECK_INTERVAL_MS,
    ...(poolSize !== undefined ? { poolSize } : {}),
  };
}
