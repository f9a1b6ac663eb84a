import { type ChildProcess, execFile, spawn } from "node:child_process";
import { once } from "node:events";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { createTestPool, testDatabaseUrl, uniqueSlug } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { staleInputs } from "../../../scripts/build-app.ts";
import { freePort } from "./support/private-redis.ts";
import { sampleEvent, waitFor } from "./support/test-stack.ts";

const run = promisify(execFile);
const repoRoot = join(import.meta.dirname, "../../..");
const apiDist = join(repoRoot, "apps/api/dist");
const workerDist = join(repoRoot, "apps/worker/dist");
/** Refuses to load TypeScript source or tsx/typescript/esbuild in the process it is loaded in. */
const nodeOnly = ["--import", join(import.meta.dirname, "support/no-typescript-hooks.mjs")];

interface Running {
  child: ChildProcess;
  logFile: string;
}

/** `node <dist file>`, its stdout and stderr written to a file by the process itself. */
function startCompiled(entry: string, env: NodeJS.ProcessEnv, logDir: string): Running {
  const logFile = join(logDir, `${entry.split("/").at(-1)}.log`);
  const fd = openSync(logFile, "a");
  const child = spawn(process.execPath, [...nodeOnly, "--enable-source-maps", entry], {
    cwd: tmpdir(),
    env,
    stdio: ["ignore", fd, fd],
  });
  closeSync(fd);
  return { child, logFile };
}

const lines = (file: string) =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);

async function terminate({ child }: Running): Promise<number | null> {
  if (child.exitCode !== null) return child.exitCode;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const [code] = (await exited) as [number | null];
  return code;
}

/**
 * The production build (`pnpm build`, which turbo runs before this package's tests) as
 * `pnpm start:prod` runs it: the migrator, the API, the worker and the operator CLI, each
 * `node dist/….js` with a loader hook that fails the process if anything TypeScript is loaded
 * (source files, tsx, typescript, esbuild), from a directory outside the repository. Then a
 * round trip: ready, an organisation and a key from the CLI, an event ingested and stored.
 */
describe("the production build runs on node alone", () => {
  const suffix = newId("evt").slice(-12);
  const logDir = mkdtempSync(join(tmpdir(), "auditlog-prod-build-"));
  let api: Running;
  let worker: Running;
  let base: string;
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    NODE_ENV: "production",
    DATABASE_URL: testDatabaseUrl,
    REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    CHECKPOINT_KEY_FILE: process.env.CHECKPOINT_KEY_FILE,
    INGEST_QUEUE: `test-prod-${suffix}-ingest`,
    EXPORT_QUEUE: `test-prod-${suffix}-exports`,
    NOTIFY_QUEUE: `test-prod-${suffix}-notify`,
    LIFECYCLE_QUEUE: `test-prod-${suffix}-lifecycle`,
    EXPORT_STORAGE_DIR: join(logDir, "exports"),
    EXPORT_EXPIRY_INTERVAL_MS: "0",
    WORKER_ROLES: "ingest",
    LOG_LEVEL: "info",
  };
  const cli = async (...args: string[]) => {
    const { stdout } = await run(
      process.execPath,
      [...nodeOnly, join(apiDist, "cli.js"), ...args, "--json"],
      { env, cwd: tmpdir() },
    );
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
  };

  beforeAll(async () => {
    // Built from the sources of this checkout, not an older build.
    for (const app of ["apps/api", "apps/worker"]) {
      const stale = staleInputs(join(repoRoot, app));
      if (stale === "missing" || stale.length > 0) {
        throw new Error(`${app}/dist is missing or out of date (${stale}): run pnpm build`);
      }
    }
    await run(process.execPath, [...nodeOnly, join(apiDist, "migrate.js")], { env });
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = startCompiled(
      join(apiDist, "server.js"),
      { ...env, HOST: "127.0.0.1", PORT: String(port) },
      logDir,
    );
    worker = startCompiled(join(workerDist, "main.js"), env, logDir);
    await waitFor(
      () =>
        fetch(`${base}/readyz`).then(
          (r) => r.status,
          () => 0,
        ),
      (status) => status === 200 || api.child.exitCode !== null,
      60_000,
    );
  }, 120_000);
  afterAll(async () => {
    if (api) await terminate(api);
    if (worker) await terminate(worker);
    rmSync(logDir, { recursive: true, force: true });
  });

  it("answers /readyz, ingests an event and stores it", { timeout: 120_000 }, async () => {
    expect(api.child.exitCode, readFileSync(api.logFile, "utf8")).toBeNull();
    const ready = await fetch(`${base}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ ready: true });

    const slug = uniqueSlug("prod");
    await cli("org", "create", slug, "--name", "Production build", "--plan", "team");
    const { key } = (await cli("key", "create", "--org", slug, "--name", "prod")) as {
      key: string;
    };
    expect(key).toMatch(/^alk_/);
    const event = { ...sampleEvent(1), id: newId("evt") };
    const posted = await fetch(`${base}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify(event),
    });
    expect(posted.status).toBe(202);
    const pool = createTestPool();
    try {
      const stored = await waitFor(
        async () =>
          (await pool.query("SELECT ip FROM audit_entries WHERE id = $1", [event.id])).rows,
        (rows) => rows.length > 0,
        60_000,
      );
      // The worker's compiled code did its work: the address is truncated as stored.
      expect(stored).toEqual([{ ip: "198.51.100.0" }]);
    } finally {
      await pool.end();
    }
  });

  it("writes every log line to the end at SIGTERM (the logger writes in the background)", {
    timeout: 120_000,
  }, async () => {
    // Many request lines logged just before the signal: each must reach the file.
    const answered = await Promise.all(
      Array.from({ length: 300 }, () =>
        fetch(`${base}/healthz`).then((r) => r.headers.get("x-request-id")),
      ),
    );
    const apiCode = await terminate(api);
    const workerCode = await terminate(worker);
    expect([apiCode, workerCode]).toEqual([0, 0]);

    const apiLines = lines(api.logFile);
    const logged = new Set(apiLines.map((line) => line.requestId));
    expect(answered.filter((id) => !logged.has(id))).toEqual([]);
    expect(apiLines.at(-1)).toMatchObject({ message: "API stopping" });
    expect(lines(worker.logFile).at(-1)).toMatchObject({ message: "worker stopped" });
  });
});
