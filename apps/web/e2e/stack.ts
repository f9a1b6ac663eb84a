import { type ChildProcess, execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { promisify } from "node:util";
import { testCheckpointKeyFile } from "@auditlog/tlog/testing";
import { staleInputs } from "../../../scripts/build-app.ts";

/**
 * The stack as production runs it, for end-to-end tests: the production build (`pnpm build`)
 * on plain node, as `pnpm start:prod` starts it: the built console served by the API
 * (`node dist/server.js` in apps/api) and a worker (`node dist/main.js` in apps/worker), on a
 * free port, against the test database, with queues of their own so other test runs on the same
 * Redis do not interfere. Organisations, users and keys come from the compiled operator CLI
 * (`node apps/api/dist/cli.js`), as in the README. turbo builds both apps before this package's
 * tests; run alone, a missing or out-of-date build is refused with the command that makes it.
 */

const run = promisify(execFile);
export const repoRoot = resolve(import.meta.dirname, "../../..");
const node = process.execPath;
const apiDist = join(repoRoot, "apps/api/dist");
const workerDist = join(repoRoot, "apps/worker/dist");

/** Throws unless both apps' dist holds a build of their current sources. */
export function assertProductionBuild(): void {
  for (const app of ["apps/api", "apps/worker"]) {
    const stale = staleInputs(join(repoRoot, app));
    if (stale === "missing" || stale.length > 0) {
      const why =
        stale === "missing" ? "has no build" : `is older than ${stale.slice(0, 3).join(", ")}`;
      throw new Error(
        `${app}/dist ${why}: the end-to-end tests run the production build; run ` +
          "`npx pnpm@12.4.2 build` (or `turbo run build --filter=@auditlog/api --filter=@auditlog/worker`) first",
      );
    }
  }
}

export const testDatabaseUrl =
  process.env.TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/auditlog_test";

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolvePort(port));
    });
  });
}

export interface Stack {
  baseUrl: string;
  env: NodeJS.ProcessEnv;
  cli: (...args: string[]) => Promise<Record<string, unknown>>;
  logs: () => string;
  stop: () => Promise<void>;
}

function startProcess(
  name: string,
  cwd: string,
  entry: string,
  env: NodeJS.ProcessEnv,
  log: string[],
) {
  const child = spawn(node, ["--enable-source-maps", entry], {
    cwd,
    env,
    detached: true,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const collect = (chunk: Buffer) => {
    for (const line of chunk.toString().split("\n")) if (line.trim()) log.push(`[${name}] ${line}`);
    if (log.length > 400) log.splice(0, log.length - 400);
  };
  child.stdout?.on("data", collect);
  child.stderr?.on("data", collect);
  return child;
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.pid === undefined) return;
  const exited = new Promise<void>((resolveExit) => child.once("exit", () => resolveExit()));
  try {
    // The whole group, should the program start processes of its own.
    process.kill(-child.pid, "SIGTERM");
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {}
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

/** `extraEnv`: settings of one suite (the SSO suite allows its local OpenID provider). */
export async function startStack(extraEnv: Record<string, string> = {}): Promise<Stack> {
  assertProductionBuild();
  const port = await freePort();
  const suffix = randomBytes(4).toString("hex");
  const exportDir = mkdtempSync(join(tmpdir(), "auditlog-e2e-exports-"));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: "production",
    HOST: "127.0.0.1",
    PORT: String(port),
    DATABASE_URL: testDatabaseUrl,
    INGEST_QUEUE: `e2e-${suffix}-ingest`,
    EXPORT_QUEUE: `e2e-${suffix}-exports`,
    NOTIFY_QUEUE: `e2e-${suffix}-notifications`,
    EXPORT_STORAGE_DIR: exportDir,
    // The test database is shared with other suites, whose export files live elsewhere: their
    // own tests sweep them.
    EXPORT_EXPIRY_INTERVAL_MS: "0",
    // No checkpoint signer in the shared test database: the log-integrity suite signs its own
    // checkpoints, and other packages' tests build trees there at the same time (an export
    // extends its organisation's tree itself).
    // Alerts (issue 17) evaluate only organisations with rules: the alerts suite's.
    WORKER_ROLES: "ingest,exports,notifications,alerts",
    LOG_LEVEL: "warn",
    // The API publishes (and refuses to start without) checkpoint keys: the shared test key, so
    // checkpoints a test signs with testCheckpointSigner verify against what it publishes.
    CHECKPOINT_KEY_FILE: process.env.CHECKPOINT_KEY_FILE ?? testCheckpointKeyFile(),
    ...extraEnv,
  };
  const log: string[] = [];
  // The test database is shared by every test suite; migrating is idempotent.
  await run(node, [join(apiDist, "migrate.js")], { env });
  const api = startProcess("api", join(repoRoot, "apps/api"), join(apiDist, "server.js"), env, log);
  const worker = startProcess(
    "worker",
    join(repoRoot, "apps/worker"),
    join(workerDist, "main.js"),
    env,
    log,
  );
  const baseUrl = `http://127.0.0.1:${port}`;

  const stop = async () => {
    await Promise.all([stopProcess(api), stopProcess(worker)]);
    rmSync(exportDir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 90_000;
    for (;;) {
      if (api.exitCode !== null) throw new Error(`the API exited:\n${log.join("\n")}`);
      const ready = await fetch(`${baseUrl}/readyz`).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) break;
      if (Date.now() > deadline) throw new Error(`the API did not start:\n${log.join("\n")}`);
      await new Promise((resolveWait) => setTimeout(resolveWait, 250));
    }
  } catch (error) {
    await stop();
    throw error;
  }

  const cli = async (...args: string[]) => {
    const { stdout } = await run(node, [join(apiDist, "cli.js"), ...args, "--json"], {
      cwd: repoRoot,
      env,
    });
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
  };
  return { baseUrl, env, cli, logs: () => log.join("\n"), stop };
}

/** What `createAdminOrg` made: an admin who signs in with a password, a key and a token. */
export interface AdminOrg {
  /** Ingestion key of the organisation. */
  key: string;
  /** The admin's personal access token (reads the log through the API). */
  token: string;
}

/**
 * An organisation with an admin, an ingestion key and the admin's token, made with the operator
 * CLI as the README does.
 */
export async function createAdminOrg(
  stack: Stack,
  org: { slug: string; name: string; plan?: string },
  admin: { email: string; password: string; name?: string },
): Promise<AdminOrg> {
  await stack.cli("org", "create", org.slug, "--name", org.name, "--plan", org.plan ?? "team");
  await stack.cli(
    "user",
    "create",
    admin.email,
    "--password",
    admin.password,
    "--org",
    org.slug,
    "--role",
    "admin",
    ...(admin.name ? ["--name", admin.name] : []),
  );
  const { key } = (await stack.cli("key", "create", "--org", org.slug, "--name", "e2e")) as {
    key: string;
  };
  const { token } = (await stack.cli(
    "token",
    "create",
    "--email",
    admin.email,
    "--name",
    "e2e",
  )) as {
    token: string;
  };
  return { key, token };
}

/**
 * Posts `events` through the ingestion API and waits until the organisation's list holds
 * `total` entries (all of them, by default): the worker has stored them. Throws at its deadline
 * with the stack's logs.
 */
export async function postEventsAndWait(
  stack: Stack,
  orgSlug: string,
  credentials: AdminOrg,
  events: unknown[],
  total = events.length,
): Promise<void> {
  const posted = await fetch(`${stack.baseUrl}/v1/events`, {
    method: "POST",
    headers: { authorization: `Bearer ${credentials.key}`, "content-type": "application/json" },
    body: JSON.stringify({ events }),
  });
  if (posted.status !== 202) {
    throw new Error(`POST /v1/events answered ${posted.status}: ${await posted.text()}`);
  }
  const deadline = Date.now() + 120_000;
  for (;;) {
    const stored = await countEntries(stack, orgSlug, credentials.token);
    if (stored === total) return;
    if (Date.now() > deadline) {
      throw new Error(`${stored} of ${total} entries were stored:\n${stack.logs()}`);
    }
    await new Promise((resolveWait) => setTimeout(resolveWait, 250));
  }
}

/** How many entries the organisation's list holds, page after page. */
async function countEntries(stack: Stack, orgSlug: string, token: string): Promise<number> {
  let count = 0;
  let cursor: string | null = null;
  do {
    const query: string = cursor ? `&cursor=${encodeURIComponent(cursor)}` : "";
    const response = await fetch(
      `${stack.baseUrl}/v1/orgs/${orgSlug}/audit-logs?limit=200${query}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    const body = (await response.json()) as { entries?: unknown[]; nextCursor?: string | null };
    count += body.entries?.length ?? 0;
    cursor = body.nextCursor ?? null;
  } while (cursor);
  return count;
}
