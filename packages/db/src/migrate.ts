import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { resolveBinary } from "dbmate";
import pg from "pg";

const run = promisify(execFile);
const migrationsDir = fileURLToPath(new URL("../migrations", import.meta.url));
/** Any constant: it serialises concurrent migrators (parallel test files, several replicas). */
const migrationLockKey = 7_114_200_301;

/**
 * Creates the database if needed and applies pending SQL migrations with dbmate. A lock held on
 * the maintenance database makes concurrent callers wait instead of racing.
 */
export async function migrateDatabase(databaseUrl: string): Promise<void> {
  const maintenanceUrl = new URL(databaseUrl);
  maintenanceUrl.pathname = "/postgres";
  const lockClient = new pg.Client({ connectionString: maintenanceUrl.toString() });
  await lockClient.connect();
  try {
    await lockClient.query("SELECT pg_advisory_lock($1)", [migrationLockKey]);
    await run(
      resolveBinary(),
      [
        "--url",
        withSslDisabledByDefault(databaseUrl),
        "--migrations-dir",
        migrationsDir,
        "--no-dump-schema",
        "--wait",
        "up",
      ],
      { env: { PATH: "/usr/bin:/bin" } },
    ).catch((error: { stderr?: string; message: string }) => {
      throw new Error(`migration failed: ${error.stderr?.trim() || error.message}`);
    });
  } finally {
    await lockClient.query("SELECT pg_advisory_unlock($1)", [migrationLockKey]).catch(() => {});
    await lockClient.end();
  }
}

/** dbmate (like libpq) defaults to sslmode=prefer; the local server has no TLS. */
function withSslDisabledByDefault(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  if (!url.searchParams.has("sslmode")) url.searchParams.set("sslmode", "disable");
  return url.toString();
}
