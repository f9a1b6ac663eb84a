/**
 * The drivers behind a `Database` handle, for tools that work on PostgreSQL itself rather than
 * through the data functions: the bench (seeding, raw COPY baselines, EXPLAIN) and test
 * assertions. Apps never import this: every data function picks its own driver.
 */

export { driversOf } from "./database.ts";
export type { PrismaClient } from "./generated/prisma/client.ts";
