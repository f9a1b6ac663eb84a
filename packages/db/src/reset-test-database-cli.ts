import pg from "pg";
import { migrateDatabase } from "./migrate.ts";
import { testDatabaseUrl } from "./testing.ts";

// The test command starts from an empty, freshly migrated database, so a run never depends on
// what an earlier run (or another checkout's migrations) left behind.
const url = new URL(testDatabaseUrl);
const name = url.pathname.slice(1);
const maintenance = new URL(testDatabaseUrl);
maintenance.pathname = "/postgres";
const client = new pg.Client({ connectionString: maintenance.toString() });
await client.connect();
try {
  await client.query(`DROP DATABASE IF EXISTS ${pg.escapeIdentifier(name)} WITH (FORCE)`);
} finally {
  await client.end();
}
await migrateDatabase(testDatabaseUrl);
console.log(`reset and migrated ${name}`);
