import { type ChildProcess, spawn } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  type AuditEntryRow,
  createApiKeyRecord,
  createOrganization,
  createPersonalAccessToken,
  type Database,
  insertAuditEntries,
  type Plan,
  upsertUserMembership,
} from "@auditlog/db";
import {
  auditEntryRow,
  createTestDatabase,
  createTestPool,
  prepareTestDatabase,
  testDatabaseUrl,
  uniqueSlug,
} from "@auditlog/db/testing";
import { type MemberRole, newId } from "@auditlog/events";
import { redisEnv } from "@auditlog/events/jobs";
import type { HostLookup } from "@auditlog/events/webhooks";
import { type ConnectionRole, createRedisConnection } from "@auditlog/redis";
import { loadWorkerEnv, startWorker } from "@auditlog/worker";
import { scriptedResolver } from "@auditlog/worker/testing";
import { afterAll, beforeAll } from "vitest";
import { z } from "zod";
import { createApp } from "../../src/app.ts";
import { generateApiKey } from "../../src/auth/api-keys.ts";
import { generatePersonalAccessToken } from "../../src/auth/personal-access-tokens.ts";
import { loadApiEnv } from "../../src/env.ts";
import { createServices } from "../../src/services.ts";

/**
 * An API wired to the real test database and Redis, on a queue of its own. Webhook hosts are
 * resolved by `options.lookupHost`, by default a resolver that knows no name: tests send no DNS
 * query out of the machine.
 */
export async function startTestApi(
  overrides: Record<string, string> = {},
  options: { lookupHost?: HostLookup } = {},
) {
  await prepareTestDatabase();
  const queueName = `test-ingest-${newId("evt").slice(-12)}`;
  const exportQueueName = `test-exports-${newId("evt").slice(-12)}`;
  const exportStorageDir = join(tmpdir(), `auditlog-test-exports-${newId("exp").slice(-12)}`);
  const env = loadApiEnv({
    ...process.env,
    DATABASE_URL: testDatabaseUrl,
    INGEST_QUEUE: queueName,
    EXPORT_QUEUE: exportQueueName,
    EXPORT_STORAGE_DIR: exportStorageDir,
    LOG_LEVEL: "error",
    ...overrides,
  });
  const services = createServices(env, {
    lookupHost: options.lookupHost ?? scriptedResolver({}).lookup,
  });
  const app = createApp(services);
  const notifyQueueName = `test-notify-${newId("evt").slice(-12)}`;
  /**
   * The environment of a worker serving this API: every queue of its own, never the shared
   * defaults, so tests cannot take each other's (or a running dev stack's) jobs.
   */
  const workerEnv = (extra: Record<string, string> = {}): Record<string, string> => ({
    DATABASE_URL: env.DATABASE_URL,
    INGEST_QUEUE: env.INGEST_QUEUE,
    EXPORT_QUEUE: env.EXPORT_QUEUE,
    NOTIFY_QUEUE: notifyQueueName,
    EXPORT_STORAGE_DIR: env.EXPORT_STORAGE_DIR,
    LOG_LEVEL: "error",
    // The sweep expires every organisation's exports in the shared test database, but each
    // stack has its own storage directory: only a test about expiry turns it on.
    EXPORT_EXPIRY_INTERVAL_MS: "0",
    // No checkpoint signer: it would build every organisation's tree in the shared test
    // database, racing the tests that build and sign trees themselves (a build finds the
    // organisation locked and does nothing). The signer's own tests ask for the role.
    WORKER_ROLES: "ingest,exports,notifications",
    ...extra,
  });
  return { app, services, env, queueName, exportQueueName: env.EXPORT_QUEUE, workerEnv };
}

/**
 * A connection of a test's own to the Redis the stacks use, with the options of its role: the
 * single Redis of REDIS_URL, or the Redis Cluster of REDIS_CLUSTER_NODES when a run sets it
 * (`packages/redis/src/with-redis-cluster.ts`), as the API and the worker would open it.
 */
export function testRedis(role: ConnectionRole = "worker") {
  const settings = z.object(redisEnv).parse(process.env);
  return createRedisConnection(settings, role, { commandTimeoutMs: 5000 });
}

/** A worker in this process, consuming the given test API's queues. */
export function startTestWorker(
  stack: { workerEnv: (extra?: Record<string, string>) => Record<string, string> },
  extra: Record<string, string> = {},
  options: Parameters<typeof startWorker>[1] = {},
) {
  return startWorker(loadWorkerEnv({ ...process.env, ...stack.workerEnv(extra) }), options);
}

/**
 * The whole pipeline for one describe block: an API and an in-process worker on queues of their
 * own, started before its tests and stopped after them (queue removed, connections closed), and a
 * pool on the test database. Read `stack` inside tests: it exists once the block's beforeAll ran.
 */
export function usePipelineStack() {
  const pool = createTestPool();
  let started:
    | {
        stack: Awaited<ReturnType<typeof startTestApi>>;
        worker: Awaited<ReturnType<typeof startWorker>>;
      }
    | undefined;
  beforeAll(async () => {
    const stack = await startTestApi();
    started = { stack, worker: await startTestWorker(stack) };
  });
  afterAll(async () => {
    if (started) {
      await started.worker.stop();
      await started.stack.services.ingestQueue.obliterate({ force: true });
      await started.stack.services.close();
    }
    await pool.end();
  });
  return {
    pool,
    get stack() {
      if (!started) throw new Error("the pipeline stack is read before its beforeAll started it");
      return started.stack;
    },
  };
}

/** An organisation with an ingestion key, in the test database or in `on` when given. */
const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));

/**
 * A worker in a process of its own, as deployed (`apps/worker/src/main.ts`), for tests that kill
 * it or run several. Node itself runs it, not the tsx wrapper, so a SIGKILL hits the process doing
 * the work. Info logs (one JSON line each) go to a piped stdout when asked for.
 */
export function spawnTestWorker(
  stack: { workerEnv: (extra?: Record<string, string>) => Record<string, string> },
  env: Record<string, string> = {},
  options: { stdout?: "pipe" | "ignore" } = {},
): ChildProcess {
  return spawn(process.execPath, ["--import", "tsx", "apps/worker/src/main.ts"], {
    cwd: repoRoot,
    env: { ...process.env, ...stack.workerEnv(), LOG_LEVEL: "error", ...env },
    stdio: ["ignore", options.stdout ?? "ignore", "inherit"],
  });
}

/**
 * The exit code (or signal) of a child process, once it has exited; after `timeoutMs` the child
 * is killed and this throws, so a test never waits forever on a process that does not stop.
 */
export function exitOf(child: ChildProcess, timeoutMs = 60_000): Promise<number | string> {
  if (child.exitCode !== null || child.signalCode !== null) {
    return Promise.resolve(child.exitCode ?? child.signalCode ?? "");
  }
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms`));
    }, timeoutMs);
    child.once("exit", (code, signal) => {
      clearTimeout(timer);
      resolve(code ?? signal ?? "");
    });
  });
}

export async function createOrgWithKey(plan: Plan = "team", label = "org", on?: Database) {
  const db = on ?? createTestDatabase();
  try {
    const org = await createOrganization(db, { slug: uniqueSlug(label), name: label, plan });
    const generated = generateApiKey();
    await createApiKeyRecord(db, {
      orgSlug: org.slug,
      name: "test",
      prefix: generated.prefix,
      keyHash: generated.hash,
    });
    return { org, apiKey: generated.key };
  } finally {
    if (!on) await db.close();
  }
}

export function sampleEvent(index: number, overrides: Record<string, unknown> = {}) {
  return {
    type: "repo.create",
    actor: { type: "user", id: `usr_${index % 7}`, name: `user${index % 7}` },
    target: { type: "model", id: `acme/model-${index}`, name: `acme/model-${index}` },
    data: { repo: { type: "model", name: `acme/model-${index}` } },
    context: { ip: `198.51.100.${index % 250}`, userAgent: "test-agent/1.0" },
    ...overrides,
  };
}

export function post(
  app: ReturnType<typeof createApp>,
  apiKey: string | null,
  body: unknown,
  headers: Record<string, string> = {},
) {
  return app.request("/v1/events", {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
      ...headers,
    },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** Text for a value a test waited on: JSON when it has a form, else what String gives. */
function describeValue(value: unknown): string {
  try {
    const text = JSON.stringify(value);
    if (text !== undefined) return text.length > 2000 ? `${text.slice(0, 2000)}…` : text;
  } catch {
    // Circular or BigInt: fall back to String.
  }
  return String(value);
}

/**
 * Polls `probe` until `done` accepts its value, and answers that value. At the deadline it
 * throws, naming the last value seen: a condition that never came true fails the test where it
 * was awaited instead of letting a later assertion pass on stale state.
 */
export async function waitFor<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 20_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value)) return value;
    if (Date.now() > deadline) {
      throw new Error(
        `waitFor: condition not met within ${timeoutMs} ms; last value: ${describeValue(value)}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Every state a job is in until it has finished, plus `failed`: a job that gave up. */
export const unfinishedJobStates = [
  "wait",
  "active",
  "delayed",
  "prioritized",
  "paused",
  "waiting-children",
  "failed",
] as const;

/**
 * Waits until the queue holds no job that is waiting, running, retrying or failed. Finished jobs
 * are removed on completion, so for jobs known to be in the queue this proves each of them ran
 * and succeeded: a job that throws stays behind as delayed (retrying) or failed, and this throws
 * at its deadline with the counts it last saw.
 */
export function waitForQueueDrained(
  queue: { getJobCounts(...types: string[]): Promise<Record<string, number>> },
  timeoutMs = 20_000,
): Promise<Record<string, number>> {
  return waitFor(
    () => queue.getJobCounts(...unfinishedJobStates),
    (counts) => Object.values(counts).every((n) => n === 0),
    timeoutMs,
  );
}

export async function countEntries(orgId: string, url?: string): Promise<number> {
  const pool = createTestPool(url);
  try {
    const { rows } = await pool.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM audit_entries WHERE org_id = $1",
      [orgId],
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await pool.end();
  }
}

/** A member of `orgSlug` with a personal access token to call read routes with. */
export async function createMemberWithToken(orgSlug: string, role: MemberRole, on?: Database) {
  const db = on ?? createTestDatabase();
  try {
    const email = `${uniqueSlug(role)}@example.test`;
    const { user } = await upsertUserMembership(db, {
      email,
      name: email.split("@")[0] ?? email,
      passwordHash: "not-used-by-token-tests",
      orgSlug,
      role,
    });
    const generated = generatePersonalAccessToken();
    await createPersonalAccessToken(db, {
      userId: user.id,
      name: "test",
      prefix: generated.prefix,
      tokenHash: generated.hash,
    });
    return { user, token: generated.token };
  } finally {
    if (!on) await db.close();
  }
}

/** A stored entry as the worker would build it, for tests that need exact times and fields. */
export function entryRow(orgId: string, overrides: Partial<AuditEntryRow> = {}): AuditEntryRow {
  return auditEntryRow(orgId, {
    targetType: "model",
    targetId: "acme/bert",
    targetName: "acme/bert",
    description: "alice created model acme/bert",
    ip: "203.0.113.0",
    countryCode: "FR",
    region: "Île-de-France",
    city: "Paris",
    userAgent: "test-agent/1.0",
    ...overrides,
  });
}

export async function insertRows(rows: AuditEntryRow[], url?: string): Promise<void> {
  const db = createTestDatabase(url);
  try {
    await insertAuditEntries(db, rows);
  } finally {
    await db.close();
  }
}

export async function getJson<T = unknown>(
  app: ReturnType<typeof createApp>,
  path: string,
  token: string | null,
) {
  const response = await app.request(path, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  return { status: response.status, body: (await response.json()) as T, response };
}
