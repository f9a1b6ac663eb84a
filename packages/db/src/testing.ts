import { newId } from "@auditlog/events";
import { createPool, createPrismaClient } from "./client.ts";
import { migrateDatabase } from "./migrate.ts";

/** The database integration tests share; each test isolates itself with its own organisation. */
export const testDatabaseUrl =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/auditlog_test";

let migrated: Promise<void> | undefined;
export function prepareTestDatabase(): Promise<void> {
  migrated ??= migrateDatabase(testDatabaseUrl);
  return migrated;
}

export function createTestPool() {
  return createPool(testDatabaseUrl, { max: 4 });
}

export function createTestPrisma() {
  return createPrismaClient(testDatabaseUrl, { max: 2 });
}

/** A unique slug per test run, so tests can run in any order and in parallel. */
export function uniqueSlug(label: string): string {
  return `${label}-${newId("org").slice(-10)}`.toLowerCase();
}
