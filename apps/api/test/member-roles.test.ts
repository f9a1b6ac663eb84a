import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createOrganization } from "@auditlog/db";
import { createTestPool, testDatabaseUrl, uniqueSlug } from "@auditlog/db/testing";
import { queuePrefix } from "@auditlog/redis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemberWithToken, startTestApi, testRedis, waitFor } from "./support/test-stack.ts";

/**
 * Making someone an auditor, and changing roles (issue 20): by the operator CLI
 * (`user create --role auditor`, `member set-role`) and by an admin through the API (`PATCH
 * /v1/orgs/:org/members/:userId`); each change is recorded in the organisation's log
 * (`org.change_role`) and takes effect on the member's next request.
 */
type Stack = Awaited<ReturnType<typeof startTestApi>>;
type QueuedEvent = {
  type: string;
  actor: { type: string; id: string };
  data: Record<string, unknown>;
  target?: { id: string };
};

const apiDir = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

describe("member roles", () => {
  let stack: Stack;

  function cliEnv() {
    return {
      ...process.env,
      DATABASE_URL: testDatabaseUrl,
      INGEST_QUEUE: stack.env.INGEST_QUEUE,
      LOG_LEVEL: "error",
    };
  }
  /** The operator CLI, as `pnpm auditlog … --json` runs it, against the test database and queue. */
  async function cli(...args: string[]): Promise<Record<string, unknown>> {
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", ...args, "--json"],
      { cwd: apiDir, env: cliEnv(), timeout: 60_000 },
    );
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
  }
  /** A CLI call that must fail: its one stderr line. */
  async function cliRefusal(...args: string[]): Promise<string> {
    const failed = await run(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", ...args, "--json"],
      { cwd: apiDir, env: cliEnv(), timeout: 60_000 },
    ).then(
      () => null,
      (error: { code?: number; stderr?: string }) => error,
    );
    expect(failed?.code).toBe(1);
    return failed?.stderr?.trim() ?? "";
  }
  const status = async (path: string, token: string, init: RequestInit = {}) =>
    (
      await stack.app.request(path, {
        ...init,
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      })
    ).status;
  async function queuedEvents(type: string): Promise<QueuedEvent[]> {
    const jobs = await stack.services.ingestQueue.getJobs(["wait", "delayed", "active"]);
    return jobs.flatMap((job) =>
      (job.data.events as QueuedEvent[]).filter((event) => event.type === type),
    );
  }

  beforeAll(async () => {
    stack = await startTestApi();
  });
  afterAll(async () => {
    await stack.services.ingestQueue.obliterate({ force: true }).catch(() => {});
    await stack.services.close();
  });

  it("the CLI makes an auditor, who reads and exports but changes nothing, and changes the role again, recorded", {
    timeout: 120_000,
  }, async () => {
    const slug = uniqueSlug("cli-roles");
    await createOrganization(stack.services.db, { slug, name: "cli roles", plan: "team" });
    await createMemberWithToken(slug, "admin");
    const email = `${uniqueSlug("auditor")}@example.test`;
    const created = await cli(
      "user",
      "create",
      email,
      "--password",
      "auditor password 1234",
      "--org",
      slug,
      "--role",
      "auditor",
    );
    expect(created).toMatchObject({ email, org: slug, role: "auditor" });
    // Signed in as the user the CLI created (a cookie session, as the console).
    const login = await stack.app.request("/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email, password: "auditor password 1234" }),
    });
    expect(login.status).toBe(200);
    const session = {
      cookie: `auditlog_session=${/auditlog_session=([^;]*)/.exec(login.headers.get("set-cookie") ?? "")?.[1]}`,
      csrfToken: ((await login.json()) as { csrfToken: string }).csrfToken,
    };
    const asAuditor = async (path: string, init: RequestInit = {}) =>
      (
        await stack.app.request(path, {
          ...init,
          headers: {
            cookie: session.cookie,
            "x-csrf-token": session.csrfToken,
            "content-type": "application/json",
          },
        })
      ).status;
    expect(await asAuditor(`/v1/orgs/${slug}/audit-logs`)).toBe(200);
    expect(await asAuditor(`/v1/orgs/${slug}/audit-logs/verify`)).toBe(200);
    expect(
      await asAuditor(`/v1/orgs/${slug}/exports`, {
        method: "POST",
        body: JSON.stringify({ format: "ndjson" }),
      }),
    ).toBe(202);
    expect(
      await asAuditor(`/v1/orgs/${slug}/retention`, {
        method: "PUT",
        body: JSON.stringify({ days: 30 }),
      }),
    ).toBe(403);

    const changed = await cli(
      "member",
      "set-role",
      "--org",
      slug,
      "--email",
      email,
      "--role",
      "read",
    );
    expect(changed).toMatchObject({ org: slug, oldRole: "auditor", role: "read" });
    // The same session, on its next request: no longer allowed.
    expect(await asAuditor(`/v1/orgs/${slug}/audit-logs`)).toBe(403);
    const userId = String(changed.userId);
    const recorded = await waitFor(
      () => queuedEvents("org.change_role"),
      (events) => events.some((event) => event.target?.id === userId),
      5_000,
    );
    expect(recorded.find((event) => event.target?.id === userId)).toMatchObject({
      actor: { type: "system", id: "auditlog-cli" },
      data: { oldRole: "auditor", newRole: "read" },
    });

    expect(
      await cliRefusal("member", "set-role", "--org", slug, "--email", email, "--role", "owner"),
    ).toBe("error: --role must be one of admin, auditor, write, read");
  });

  it("an admin changes a role through the API, recorded; the last admin cannot be demoted", async () => {
    const slug = uniqueSlug("api-roles");
    await createOrganization(stack.services.db, { slug, name: "api roles", plan: "team" });
    const admin = await createMemberWithToken(slug, "admin");
    const member = await createMemberWithToken(slug, "write");
    expect(await status(`/v1/orgs/${slug}/exports`, member.token)).toBe(403);

    const response = await stack.app.request(`/v1/orgs/${slug}/members/${member.user.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
      body: JSON.stringify({ role: "auditor" }),
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toMatchObject({
      userId: member.user.id,
      oldRole: "write",
      role: "auditor",
    });
    expect(await status(`/v1/orgs/${slug}/exports`, member.token)).toBe(200);
    const recorded = await waitFor(
      () => queuedEvents("org.change_role"),
      (events) => events.some((event) => event.target?.id === member.user.id),
      5_000,
    );
    expect(recorded.find((event) => event.target?.id === member.user.id)).toMatchObject({
      actor: { type: "token", id: admin.user.id },
      data: { oldRole: "write", newRole: "auditor" },
    });

    // The auditor may not change roles, their own included.
    expect(
      await status(`/v1/orgs/${slug}/members/${member.user.id}`, member.token, {
        method: "PATCH",
        body: JSON.stringify({ role: "admin" }),
      }),
    ).toBe(403);
    const lastAdmin = await stack.app.request(`/v1/orgs/${slug}/members/${admin.user.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
      body: JSON.stringify({ role: "auditor" }),
    });
    expect(lastAdmin.status).toBe(409);
    expect(
      (await queuedEvents("org.change_role")).filter((event) => event.target?.id === admin.user.id),
    ).toEqual([]);
    const badRole = await stack.app.request(`/v1/orgs/${slug}/members/${member.user.id}`, {
      method: "PATCH",
      headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
      body: JSON.stringify({ role: "owner" }),
    });
    expect(badRole.status).toBe(400);
    expect(JSON.stringify(await badRole.json())).toContain('"path":"role"');
  });
  it("a change that cannot be recorded is refused with 503 and not made", async () => {
    const slug = uniqueSlug("unrecorded");
    await createOrganization(stack.services.db, { slug, name: "unrecorded", plan: "team" });
    const admin = await createMemberWithToken(slug, "admin");
    const member = await createMemberWithToken(slug, "write");
    const pool = createTestPool();
    const redis = testRedis();
    // The ingest queue's job counter, made a value Redis cannot increment: every job added to
    // this API's queue fails in Redis itself, as when the queue refuses writes.
    const counter = `${queuePrefix(redis, stack.queueName)}:${stack.queueName}:id`;
    const before = await redis.get(counter);
    const roleOf = async () =>
      (
        await pool.query<{ role: string }>(
          "SELECT role FROM memberships WHERE user_id = $1 AND org_id = (SELECT id FROM organizations WHERE slug = $2)",
          [member.user.id, slug],
        )
      ).rows.map((row) => row.role);
    const request = (method: string, body?: unknown) =>
      stack.app.request(`/v1/orgs/${slug}/members/${member.user.id}`, {
        method,
        headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
        ...(body ? { body: JSON.stringify(body) } : {}),
      });
    try {
      await redis.set(counter, "not a number");
      const changed = await request("PATCH", { role: "auditor" });
      expect(changed.status).toBe(503);
      expect(JSON.stringify(await changed.json())).toContain(
        "the role change could not be recorded, so nothing was changed",
      );
      const removed = await request("DELETE");
      expect(removed.status).toBe(503);
      expect(JSON.stringify(await removed.json())).toContain(
        "the removal could not be recorded, so nothing was removed",
      );
      expect(await roleOf()).toEqual(["write"]);
      expect(
        (await queuedEvents("org.change_role")).filter((e) => e.target?.id === member.user.id),
      ).toEqual([]);
    } finally {
      if (before === null) await redis.del(counter);
      else await redis.set(counter, before);
    }
    // Recordable again: the same change goes through, so the 503 was the recording's.
    expect((await request("PATCH", { role: "auditor" })).status).toBe(200);
    expect(await roleOf()).toEqual(["auditor"]);
    redis.disconnect();
    await pool.end();
  });
});
