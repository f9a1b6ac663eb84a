import type { ChildProcess } from "node:child_process";
import { execFile } from "node:child_process";
import { appendFileSync, chownSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { migrateDatabase } from "@auditlog/db/migrate";
import type { NetnsHost } from "./netns-hosts.ts";

const run = promisify(execFile);
const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const pgBin = `/usr/lib/postgresql/${readdirSync("/usr/lib/postgresql").sort().at(-1)}/bin`;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it is true; throws (never returns quietly) at the deadline. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 60_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    let done = false;
    try {
      done = await check();
    } catch (error) {
      // A check that knows it can never pass says so; other failures mean "not yet".
      if (error instanceof Error && error.message.includes(" exited (")) throw error;
    }
    if (done) return;
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** A fresh data directory owned by the postgres system user (PostgreSQL refuses root). */
async function postgresOwnedDir(prefix: string): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const ids = async (flag: string) => Number((await run("id", [flag, "postgres"])).stdout.trim());
  chownSync(dir, await ids("-u"), await ids("-g"));
  return dir;
}

/** PostgreSQL on the host's address only, port 5432, as the postgres system user. */
function runPostgresOn(host: NetnsHost, dataDir: string, settings: Record<string, string> = {}) {
  const options = Object.entries({ ...settings, max_connections: "200", fsync: "off" }).flatMap(
    ([name, value]) => ["-c", `${name}=${value}`],
  );
  return host.spawn(
    "runuser",
    [
      "-u",
      "postgres",
      "--",
      `${pgBin}/postgres`,
      "-D",
      dataDir,
      "-p",
      "5432",
      "-k",
      dataDir,
      "-c",
      `listen_addresses=${host.address}`,
      ...options,
    ],
    { stdio: "ignore" },
  );
}

/**
 * A PostgreSQL server on a host, listening on the host's address only, trusting the test network
 * (10.231.0.0/16), with the project's migrations applied to `database`. It runs as the postgres
 * system user (PostgreSQL refuses root).
 */
export async function startHostPostgres(host: NetnsHost, database = "auditlog") {
  const dataDir = await postgresOwnedDir("auditlog-mh-pg-");
  await run("runuser", [
    "-u",
    "postgres",
    "--",
    `${pgBin}/initdb`,
    "-D",
    dataDir,
    "-A",
    "trust",
    "-U",
    "postgres",
    "--no-sync",
  ]);
  appendFileSync(
    join(dataDir, "pg_hba.conf"),
    "host all all 10.231.0.0/16 trust\nhost replication all 10.231.0.0/16 trust\n",
  );
  const server = runPostgresOn(host, dataDir);
  const url = `postgres://postgres@${host.address}:5432/${database}`;
  // dbmate creates the database before it migrates it; it fails until the server listens.
  await until("PostgreSQL to take migrations", async () => {
    await migrateDatabase(url);
    return true;
  });
  return {
    url,
    address: host.address,
    server,
    destroy() {
      server.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A streaming replica (hot standby) of `primary` on another host: `pg_basebackup -R` over the
 * test network, then PostgreSQL on the host's address, replaying the primary's WAL.
 */
export async function startHostReplica(
  host: NetnsHost,
  primary: { address: string },
  database = "auditlog",
) {
  const dataDir = await postgresOwnedDir("auditlog-mh-replica-");
  await run("runuser", [
    "-u",
    "postgres",
    "--",
    `${pgBin}/pg_basebackup`,
    "-h",
    primary.address,
    "-p",
    "5432",
    "-U",
    "postgres",
    "-D",
    dataDir,
    "-R",
    "-X",
    "stream",
  ]);
  // The primary keeps its socket's lock file in its data directory, and the backup copies it.
  rmSync(join(dataDir, ".s.PGSQL.5432.lock"), { force: true });
  const server = runPostgresOn(host, dataDir, { hot_standby_feedback: "on" });
  const url = `postgres://postgres@${host.address}:5432/${database}`;
  await until("the replica to take reads", async () => {
    const { stdout } = await run("psql", [url, "-Atc", "SELECT pg_is_in_recovery()"]);
    return stdout.trim() === "t";
  });
  return {
    url,
    server,
    destroy() {
      server.kill("SIGKILL");
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The API as deployed (`apps/api/src/server.ts` under node), bound to the host's address. */
export async function startHostApi(host: NetnsHost, env: Record<string, string>) {
  const url = `http://${host.address}:3000`;
  const child = host.spawn(process.execPath, ["--import", "tsx", "apps/api/src/server.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      LOG_LEVEL: "error",
      PUBLIC_URL: url,
      ...env,
      HOST: host.address,
      PORT: "3000",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
  let exited: number | null | undefined;
  child.once("exit", (code) => {
    exited = code;
  });
  await until(
    `the API on ${host.name} to be ready`,
    async () => {
      if (exited !== undefined) throw new Error(`the API on ${host.name} exited (${exited})`);
      return (await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(2000) })).ok;
    },
    90_000,
  );
  return { url, child };
}

/** A worker as deployed (`apps/worker/src/main.ts` under node) on the host. */
export function startHostWorker(host: NetnsHost, env: Record<string, string>): ChildProcess {
  return host.spawn(process.execPath, ["--import", "tsx", "apps/worker/src/main.ts"], {
    cwd: repoRoot,
    env: { ...process.env, LOG_LEVEL: "error", ...env },
    stdio: ["ignore", "ignore", "inherit"],
  });
}
