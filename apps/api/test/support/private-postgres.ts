import { execFile } from "node:child_process";
import { chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const binDir = `/usr/lib/postgresql/${readdirSync("/usr/lib/postgresql").sort().at(-1)}/bin`;

/**
 * A throwaway PostgreSQL server of the test's own (own port, own data directory), so a fault
 * test can stop and restart it without touching the shared one. PostgreSQL refuses to run as
 * root, so it runs as the postgres system user.
 */
export async function startPrivatePostgres(port: number) {
  const dataDir = mkdtempSync(join(tmpdir(), "auditlog-pg-"));
  const { uid, gid } = await run("id", ["-u", "postgres"]).then(async ({ stdout }) => ({
    uid: Number(stdout.trim()),
    gid: Number((await run("id", ["-g", "postgres"])).stdout.trim()),
  }));
  chownSync(dataDir, uid, gid);
  const asPostgres = (command: string, args: string[]) =>
    run("runuser", ["-u", "postgres", "--", `${binDir}/${command}`, ...args]);
  await asPostgres("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync"]);
  const options = `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off`;
  const start = () =>
    asPostgres("pg_ctl", ["-D", dataDir, "-o", options, "-w", "-l", `${dataDir}/log`, "start"]);
  const stop = () => asPostgres("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "stop"]);
  await start();
  return {
    url: (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`,
    start,
    stop,
    async destroy() {
      await stop().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
