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

/**
 * A PostgreSQL server on a host, listening on the host's address only, trusting the test network
 * (10.231.0.0/16), with the project's migrations applied to `database`. It runs as the postgres
 * system user (PostgreSQL refuses root).
 */
export async function startHostPostgres(host: NetnsHost, database = "auditlog") {
  const dataDir = mkdtempSync(join(tmpdir(), "auditlog-mh-pg-"));
  const ids = async (flag: string) => Number((await run("id", [flag, "postgres"])).stdout.trim());
  chownSync(dataDir, await ids("-u"), await ids("-g"));
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
  appendFileSync(join(dataDir, "pg_hba.conf"), "host all all 10.231.0.0/16 trust\n");
  const server = host.spawn(
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
      "-c",
      "fsync=off",
      "-c",
      "max_connections=200",
    ],
    { stdio: "ignore" },
  );
  const url = `postgres://postgres@${host.address}:5432/${database}`;
  // dbmate creates the database before it migrates it; it fails until the server listens.
  await until("PostgreSQL to take migrations", async () => {
    await migrateDatabase(url);
    return true;
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

/** A Redis server on a host with an append-only file, as our scripts configure it. */
export async function startHostRedis(host: NetnsHost) {
  const dir = mkdtempSync(join(tmpdir(), "auditlog-mh-redis-"));
  const server = host.spawn(
    "redis-server",
    [
      "--bind",
      host.address,
      "--port",
      "6379",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      "yes",
      "--appendfsync",
      "everysec",
      "--maxmemory-policy",
      "noeviction",
      "--protected-mode",
      "no",
    ],
    { stdio: "ignore" },
  );
  const url = `redis://${host.address}:6379`;
  await until("Redis to answer", async () => {
    const { stdout } = await run("redis-cli", ["-h", host.address, "-p", "6379", "PING"]);
    return stdout.trim() === "PONG";
  });
  return {
    url,
    server,
    destroy() {
      server.kill("SIGKILL");
      rmSync(dir, { recursive: true, force: true });
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
