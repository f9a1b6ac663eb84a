import { execFile } from "node:child_process";
import {
  appendFileSync,
  chownSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import pg from "pg";

const run = promisify(execFile);
const binDir = `/usr/lib/postgresql/${readdirSync("/usr/lib/postgresql").sort().at(-1)}/bin`;

export interface PrivatePostgres {
  url(database: string): string;
  /** The port it listens on (127.0.0.1). */
  readonly port: number;
  start(): Promise<unknown>;
  stop(): Promise<unknown>;
  /**
   * `pg_ctl stop -m immediate`: every server process quits at once, without a checkpoint, as in
   * a crash; the next start recovers from the WAL.
   */
  stopImmediately(): Promise<unknown>;
  /**
   * Restarts the server as a standby that never finishes recovery (no primary, hot standby off):
   * it listens, and refuses every connection with SQLSTATE 57P03, as PostgreSQL does while it
   * starts up. Resolves once a connection attempt gets that answer.
   */
  startRecovering(): Promise<void>;
  destroy(): Promise<void>;
}

/**
 * A throwaway PostgreSQL server of the test's own (own port, own data directory), so a fault
 * test can stop and restart it without touching the shared one. PostgreSQL refuses to run as
 * root, so it runs as the postgres system user.
 */
export async function startPrivatePostgres(
  requestedPort?: number,
  /** Server settings (`-c name=value`), e.g. `{ shared_preload_libraries: "pg_stat_statements" }`. */
  settings: Record<string, string> = {},
): Promise<PrivatePostgres> {
  const dataDir = await ownedDataDir();
  await asPostgres("initdb", ["-D", dataDir, "-A", "trust", "-U", "postgres", "--no-sync"]);
  return serve(dataDir, requestedPort, settings);
}

/**
 * A streaming replica of `primary` (hot standby, its own port and data directory): copied with
 * `pg_basebackup -R`, which writes `standby.signal` and `primary_conninfo` (with
 * `application_name`, so the primary's `pg_stat_replication` names it). It replays the primary's
 * WAL as it streams in; `SELECT pg_wal_replay_pause()` on it holds it back.
 */
export async function startPrivateReplica(
  primary: PrivatePostgres,
  settings: Record<string, string> = {},
  applicationName = "auditlog-replica",
): Promise<PrivatePostgres> {
  const dataDir = await ownedDataDir();
  await asPostgres("pg_basebackup", [
    "-h",
    "127.0.0.1",
    "-p",
    String(primary.port),
    "-U",
    "postgres",
    "-D",
    dataDir,
    "-R",
    "-c",
    "fast",
    "-X",
    "stream",
    "--no-sync",
    "-d",
    `application_name=${applicationName}`,
  ]);
  return serve(dataDir, undefined, settings);
}

const asPostgres = (command: string, args: string[]) =>
  run("runuser", ["-u", "postgres", "--", `${binDir}/${command}`, ...args]);

const postgresUser = async () => ({
  uid: Number((await run("id", ["-u", "postgres"])).stdout.trim()),
  gid: Number((await run("id", ["-g", "postgres"])).stdout.trim()),
});

async function ownedDataDir(): Promise<string> {
  const dataDir = mkdtempSync(join(tmpdir(), "auditlog-pg-"));
  const { uid, gid } = await postgresUser();
  chownSync(dataDir, uid, gid);
  return dataDir;
}

async function serve(
  dataDir: string,
  requestedPort: number | undefined,
  settings: Record<string, string>,
): Promise<PrivatePostgres> {
  // Below Linux's ephemeral range (32768–60999): a port there can be taken at any moment by a
  // client socket, which made a server on it fail to bind now and then. A port chosen here may
  // still be taken by another test's server: then another is tried.
  const pickPort = () => 20_000 + Math.floor(Math.random() * 10_000);
  let port = requestedPort ?? pickPort();
  const { uid, gid } = await postgresUser();
  const extra = Object.entries(settings).map(([name, value]) => ` -c ${name}=${value}`);
  const options = () =>
    `-p ${port} -k ${dataDir} -c listen_addresses=127.0.0.1 -c fsync=off${extra.join("")}`;
  const pgCtl = (...args: string[]) =>
    asPostgres("pg_ctl", ["-D", dataDir, "-o", options(), "-l", `${dataDir}/log`, ...args]);
  const start = () => pgCtl("-w", "start");
  const stop = () => asPostgres("pg_ctl", ["-D", dataDir, "-m", "fast", "-w", "stop"]);
  const stopImmediately = () =>
    asPostgres("pg_ctl", ["-D", dataDir, "-m", "immediate", "-w", "stop"]);
  const url = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  for (let attempt = 1; ; attempt++) {
    try {
      await start();
      break;
    } catch (error) {
      const log = readFileSync(`${dataDir}/log`, "utf8");
      if (requestedPort !== undefined || attempt >= 5 || !log.includes("Address already in use")) {
        throw error;
      }
      port = pickPort();
    }
  }
  return {
    url,
    get port() {
      return port;
    },
    start,
    stop,
    stopImmediately,
    async startRecovering() {
      await stop().catch(() => {});
      const signal = join(dataDir, "standby.signal");
      writeFileSync(signal, "");
      chownSync(signal, uid, gid);
      appendFileSync(join(dataDir, "postgresql.auto.conf"), "hot_standby = off\n");
      // Not `-w`: pg_ctl would wait for a server that never accepts connections.
      await pgCtl("start");
      const deadline = Date.now() + 30_000;
      for (;;) {
        const client = new pg.Client({ connectionString: url("postgres") });
        const code = await client.connect().then(
          () => "connected",
          (error: { code?: string }) => error.code ?? "no code",
        );
        await client.end().catch(() => {});
        if (code === "57P03") return;
        if (Date.now() > deadline) {
          throw new Error(`the recovering server answered ${code}, never 57P03`);
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    },
    async destroy() {
      await stop().catch(() => {});
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}
