import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export type { PrismaClient };
export type Database = PrismaClient;

/** Prisma for ordinary reads and writes, on the pg driver adapter (no engine binary). */
export function createPrismaClient(databaseUrl: string, options: { max?: number } = {}) {
  const adapter = new PrismaPg({ connectionString: databaseUrl, max: options.max ?? 5 });
  return new PrismaClient({ adapter });
}

/** A plain pool for the hot paths (batch inserts, keyset scans, streaming) Prisma cannot express. */
export function createPool(databaseUrl: string, options: { max?: number } = {}): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: options.max ?? 10 });
  // An idle client losing its connection (PostgreSQL restarting) must not crash the process.
  pool.on("error", () => {});
  return pool;
}
export type Pool = pg.Pool;
/** Where a query can run: the pool, or one client of it (inside a transaction). */
export type Db = pg.Pool | pg.PoolClient;
