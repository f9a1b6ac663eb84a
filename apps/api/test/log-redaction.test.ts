import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { upsertUserMembership } from "@auditlog/db";
import { createTestDatabase, testDatabaseUrl, uniqueSlug } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../src/auth/passwords.ts";
import { freePort } from "./support/private-redis.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  sampleEvent,
  waitFor,
} from "./support/test-stack.ts";

const apiDir = join(import.meta.dirname, "..");
const repoRoot = join(apiDir, "../..");
const tsx = join(repoRoot, "node_modules/.bin/tsx");

const password = "log-test correct horse battery";
/** An address a proxy would put in front of the client's: never trusted, never logged whole. */
const forwardedFor = "203.0.113.77";
const eventIp = "198.51.100.201";

interface Captured {
  lines: string[];
  child: ChildProcess;
}

function capture(child: ChildProcess): Captured {
  const lines: string[] = [];
  let partial = "";
  const take = (chunk: Buffer) => {
    const text = partial + chunk.toString("utf8");
    const parts = text.split("\n");
    partial = parts.pop() ?? "";
    lines.push(...parts.filter((line) => line.length > 0));
  };
  child.stdout?.on("data", take);
  child.stderr?.on("data", take);
  child.on("exit", () => {
    if (partial) lines.push(partial);
  });
  return { lines, child };
}

async function stop({ child }: Captured) {
  if (child.pid === undefined || child.exitCode !== null) return;
  const exited = once(child, "exit");
  process.kill(-child.pid, "SIGTERM");
  await exited;
}

/**
 * A full flow through the API and the worker as deployed (each its own process, logging at
 * debug): sign in with a password and a session cookie, ingest with an API key from behind a
 * "proxy", query with the cookie and with a personal access token, export and download. Then
 * every line both wrote is read as JSON, and none may hold a credential or a full address; each
 * request has exactly one request line.
 */
describe("logs of a full run hold no secret and one line per request", () => {
  const suffix = newId("evt").slice(-12);
  let api: Captured;
  let worker: Captured;
  let base: string;
  const env = {
    DATABASE_URL: testDatabaseUrl,
    INGEST_QUEUE: `test-logs-${suffix}-ingest`,
    EXPORT_QUEUE: `test-logs-${suffix}-exports`,
    NOTIFY_QUEUE: `test-logs-${suffix}-notify`,
    LIFECYCLE_QUEUE: `test-logs-${suffix}-lifecycle`,
    EXPORT_STORAGE_DIR: join(tmpdir(), `auditlog-test-logs-${suffix}`),
    EXPORT_EXPIRY_INTERVAL_MS: "0",
    LOG_LEVEL: "debug",
    WEB_DIST_DIR: "",
  };
  const responses: { requestId: string; route: string; status: number }[] = [];
  const secrets: Record<string, string> = { password };
  let orgSlug = "";

  async function call(route: string, path: string, init: RequestInit = {}) {
    const response = await fetch(`${base}${path}`, init);
    const requestId = response.headers.get("x-request-id") ?? "";
    responses.push({ requestId, route, status: response.status });
    return response;
  }

  beforeAll(async () => {
    const port = await freePort();
    base = `http://127.0.0.1:${port}`;
    api = capture(
      spawn(tsx, ["src/server.ts"], {
        cwd: apiDir,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...env, HOST: "127.0.0.1", PORT: String(port) },
      }),
    );
    worker = capture(
      spawn(process.execPath, ["--import", "tsx", "apps/worker/src/main.ts"], {
        cwd: repoRoot,
        detached: true,
        stdio: ["ignore", "pipe", "pipe"],
        env: { ...process.env, ...env, WORKER_ROLES: "ingest,exports,notifications" },
      }),
    );
    await waitFor(
      () =>
        fetch(`${base}/healthz`).then(
          (r) => r.ok,
          () => false,
        ),
      (up) => up,
      60_000,
    );
  });
  afterAll(async () => {
    await stop(api);
    await stop(worker);
  });

  it("runs the flow, then finds nothing secret in any line, and one request line per request", {
    timeout: 180_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "logs");
    orgSlug = org.slug;
    secrets.apiKey = apiKey;
    const db = createTestDatabase();
    const email = `${uniqueSlug("logs")}@example.test`;
    try {
      await upsertUserMembership(db, {
        email,
        name: "Logs",
        passwordHash: await hashPassword(password),
        orgSlug,
        role: "admin",
      });
    } finally {
      await db.close();
    }
    const member = await createMemberWithToken(orgSlug, "admin");
    secrets.token = member.token;

    const login = await call("/v1/auth/login", "/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
      body: JSON.stringify({ email, password }),
    });
    expect(login.status).toBe(200);
    const cookie = (login.headers.get("set-cookie") ?? "").split(";")[0] as string;
    expect(cookie).toMatch(/=.{20,}/);
    secrets.cookie = cookie.split("=")[1] as string;

    const events = Array.from({ length: 20 }, (_, i) =>
      sampleEvent(i, { context: { ip: eventIp, userAgent: "logs/1.0" } }),
    );
    const ingest = await call("/v1/events", "/v1/events", {
      method: "POST",
      headers: {
        "content-type": "application/json",
        authorization: `Bearer ${apiKey}`,
        "x-forwarded-for": forwardedFor,
      },
      body: JSON.stringify({ events }),
    });
    expect(ingest.status).toBe(202);
    const refused = await call("/v1/events", "/v1/events", {
      method: "POST",
      headers: { "content-type": "application/json", authorization: `Bearer ${apiKey}x` },
      body: JSON.stringify(events[0]),
    });
    expect(refused.status).toBe(401);

    const listed = await waitFor(
      async () => {
        const response = await call("/v1/orgs/:org/audit-logs", `/v1/orgs/${orgSlug}/audit-logs`, {
          headers: { cookie, "x-forwarded-for": forwardedFor },
        });
        return ((await response.json()) as { entries?: unknown[] }).entries?.length ?? 0;
      },
      (n) => n >= 20,
    );
    expect(listed).toBe(20);
    const byToken = await call(
      "/v1/orgs/:org/audit-logs",
      `/v1/orgs/${orgSlug}/audit-logs?q=type:repo.create`,
      {
        headers: { authorization: `Bearer ${member.token}` },
      },
    );
    expect(byToken.status).toBe(200);

    const created = await call("/v1/orgs/:org/exports", `/v1/orgs/${orgSlug}/exports`, {
      method: "POST",
      headers: { authorization: `Bearer ${member.token}`, "content-type": "application/json" },
      body: JSON.stringify({ format: "ndjson" }),
    });
    expect(created.status).toBe(202);
    const { id } = (await created.json()) as { id: string };
    await waitFor(
      async () => {
        const response = await call(
          "/v1/orgs/:org/exports/:id",
          `/v1/orgs/${orgSlug}/exports/${id}`,
          {
            headers: { authorization: `Bearer ${member.token}` },
          },
        );
        return ((await response.json()) as { status: string }).status;
      },
      (status) => status === "ready",
      60_000,
    );
    const download = await call(
      "/v1/orgs/:org/exports/:id/download",
      `/v1/orgs/${orgSlug}/exports/${id}/download`,
      { headers: { authorization: `Bearer ${member.token}` } },
    );
    expect(download.status).toBe(200);
    await download.arrayBuffer();

    // Both processes stop as an orchestrator stops them: their last lines are written.
    await stop(api);
    await stop(worker);

    const all = [...api.lines, ...worker.lines];
    const parsed = all.map((line) => {
      try {
        return JSON.parse(line) as Record<string, unknown>;
      } catch {
        throw new Error(`a log line that is not JSON: ${line.slice(0, 300)}`);
      }
    });
    expect(parsed.length).toBeGreaterThan(responses.length);
    for (const [name, value] of Object.entries(secrets)) {
      const holding = all.filter((line) => line.includes(value));
      expect(holding, `${name} in the logs`).toEqual([]);
    }
    for (const address of [forwardedFor, eventIp]) {
      expect(all.filter((line) => line.includes(address))).toEqual([]);
    }
    const requestLines = parsed.filter((line) => line.message === "request");
    // The client connected from 127.0.0.1: its request lines name 127.0.0.0 at most.
    expect(requestLines.filter((line) => JSON.stringify(line).includes("127.0.0.1"))).toEqual([]);
    for (const response of responses) {
      const mine = requestLines.filter((line) => line.requestId === response.requestId);
      expect(mine, `${response.route} ${response.requestId}`).toHaveLength(1);
      expect(mine[0]).toMatchObject({
        route: response.route,
        status: response.status,
        durationMs: expect.any(Number),
        requestId: response.requestId,
        method: expect.any(String),
        service: "api",
      });
    }
    const orgLines = requestLines.filter(
      (line) => typeof line.route === "string" && line.route.includes(":org"),
    );
    expect(orgLines.length).toBeGreaterThan(0);
    for (const line of orgLines) expect(line.org).toBe(orgSlug);
  });
});
