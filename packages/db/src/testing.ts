import { newId } from "@auditlog/events";
import { createDatabase, type Database, driversOf } from "./database.ts";
import type { AuditEntryRow } from "./entries.ts";
import { migrateDatabase } from "./migrate.ts";

/** The database integration tests share; each test isolates itself with its own organisation. */
export const testDatabaseUrl =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/auditlog_test";

let migrated: Promise<void> | undefined;
export function prepareTestDatabase(): Promise<void> {
  migrated ??= migrateDatabase(testDatabaseUrl);
  return migrated;
}

/**
 * A migrated database of its own on the test server, for a test whose background engines act on
 * every organisation of their database (a streams or alerts worker claims every stream and rule
 * it finds): on the shared one they would take other test files' streams and rules, running at
 * the same time with other settings. `drop` removes it.
 */
export async function createIsolatedTestDatabase(
  label: string,
): Promise<{ url: string; drop(): Promise<void> }> {
  const url = new URL(testDatabaseUrl);
  const name = `${url.pathname.slice(1)}_${label}_${newId("evt").slice(-8)}`.replace(/-/g, "_");
  url.pathname = `/${name}`;
  // dbmate creates the database before it migrates it.
  await migrateDatabase(url.toString());
  return {
    url: url.toString(),
    async drop() {
      const maintenance = new URL(testDatabaseUrl);
      maintenance.pathname = "/postgres";
      const admin = createTestPool(maintenance.toString());
      try {
        await admin.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A handle on the test database, as the apps hold one. */
export function createTestDatabase(url = testDatabaseUrl): Database {
  return createDatabase({ url, poolSize: 4, ormPoolSize: 2 });
}

/**
 * A plain pg pool on the test database, for assertions in SQL (counts, raw rows). Closing it
 * (`end()`) closes the handle behind it.
 */
export function createTestPool(url = testDatabaseUrl) {
  return driversOf(createDatabase({ url, poolSize: 4 })).pool;
}

/** A unique slug per test run, so tests can run in any order and in parallel. */
export function uniqueSlug(label: string): string {
  return `${label}-${newId("org").slice(-10)}`.toLowerCase();
}

/**
 * A stored entry as the worker builds it, with every optional column empty: tests set the fields
 * they check. The id carries the time, as the API's ids do.
 */
export function auditEntryRow(
  orgId: string,
  overrides: Partial<AuditEntryRow> = {},
): AuditEntryRow {
  const occurredAt = overrides.occurredAt ?? new Date();
  return {
    orgId,
    id: newId("evt", occurredAt),
    type: "repo.create",
    category: "content",
    hiddenByDefault: false,
    occurredAt,
    receivedAt: occurredAt,
    actorType: "user",
    actorId: "usr_alice",
    actorName: "alice",
    actorAvatarUrl: null,
    actorTokenRole: null,
    actorTokenLast4: null,
    targetType: null,
    targetId: null,
    targetName: null,
    description: "alice created a repository",
    ip: null,
    countryCode: null,
    region: null,
    city: null,
    userAgent: null,
    oauthClientId: null,
    oauthName: null,
    data: {},
    ...overrides,
  };
}

export {
  type PrivatePostgres,
  startPrivatePostgres,
  startPrivateReplica,
} from "./private-postgres.ts";

/**
 * Runs SQL past the append-only triggers, as someone with superuser rights on the database could
 * (`session_replication_role = replica` turns triggers off, for this transaction only): for tests
 * that need stored rows no writer could produce, and for the tampering that `verify` must catch.
 */
export async function bypassingAppendOnly(
  pool: import("pg").Pool,
  sql: string,
  values: unknown[] = [],
): Promise<import("pg").QueryResult> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query("SET LOCAL session_replication_role = replica");
    const result = await client.query(sql, values);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
