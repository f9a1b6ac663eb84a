import { afterAll, beforeAll } from "vitest";
import { driversOf } from "./database.ts";
import { purgeOrganisationLog } from "./log-tree.ts";
import { createTestDatabase, prepareTestDatabase } from "./testing.ts";

/**
 * The database of a test file that writes organisations' logs: migrated before the file's
 * tests; after them, the log of each organisation pushed onto `orgIds` is purged (entries are
 * append-only, nothing else removes them from the shared test database) and the pool closed.
 * Call it at the file's top level: it registers the file's beforeAll and afterAll.
 */
export function logTestDatabase() {
  const db = createTestDatabase();
  const pool = driversOf(db).pool;
  const orgIds: string[] = [];
  beforeAll(async () => {
    await prepareTestDatabase();
  });
  afterAll(async () => {
    for (const orgId of orgIds) await purgeOrganisationLog(db, orgId);
    await db.close();
  });
  return { db, pool, orgIds };
}
